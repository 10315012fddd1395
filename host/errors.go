package host

import (
	"github.com/bxwasm/bxwasm/internal/abi"
	"github.com/bxwasm/bxwasm/internal/engine"
	"github.com/bxwasm/bxwasm/internal/guest"
)

// Errors a load can fail with; test with errors.Is.
var (
	// ErrModuleNotFound: the module file does not exist.
	ErrModuleNotFound = guest.ErrNotFound
	// ErrNotWasm: the file is not a valid WebAssembly module.
	ErrNotWasm = guest.ErrNotWasm
	// ErrNotGuest: the module is WebAssembly but does not export the
	// bxwasm ABI (it was not built with a bxwasm SDK).
	ErrNotGuest = guest.ErrNotGuest
	// ErrABIVersion: the guest speaks another version of the bxwasm ABI.
	ErrABIVersion = guest.ErrABIVersion
)

// StepError is a failure inside a step of a running flow: it names the
// step id, the operator, the worker and (for stateful steps) the key, with
// the guest's message. Test with errors.As.
type StepError = engine.StepError

// GuestError is an error the guest reported (a panic it recovered, a bad
// factory argument, the factory's own error).
type GuestError = abi.GuestError
