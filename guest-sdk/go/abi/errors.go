package abi

// GuestError is a failure the guest reported itself (a StatusError
// response): typically a panic in user code that the SDK recovered, a bad
// factory argument or the factory's own error. The instance that answered
// stays usable. Info names the step and key where the guest knows them.
type GuestError struct {
	Info ErrorInfo
}

// Error returns the guest's message.
func (e *GuestError) Error() string { return e.Info.Message }
