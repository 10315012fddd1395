package host

import (
	"errors"
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/cluster"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/engine"
	"github.com/bxwasm/bxwasm/internal/guest"
	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/transport"
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

// Errors a run can fail with; test with errors.Is on what Run returns (the
// error's message is the detailed one underneath).
var (
	// ErrItemTooLarge: a step sent another worker an item over
	// Options.MaxItemSizeMiB. The run's error is a *StepError naming the
	// step.
	ErrItemTooLarge = errors.New("host: item too large")
	// ErrStoreLocked: another run is using the recovery directory.
	ErrStoreLocked = errors.New("host: the recovery store is in use by another run")
	// ErrForeignStore: the recovery directory belongs to another flow, or
	// holds state of steps this flow does not have.
	ErrForeignStore = errors.New("host: the recovery store belongs to another flow")
	// ErrStoreDamaged: a snapshot fails its checksum, or a row of the store
	// could not have been written by a run: the store was changed outside
	// bxwasm, and resuming from it would restore wrong state.
	ErrStoreDamaged = errors.New("host: the recovery store is damaged")
	// ErrSourceChanged: an input file is not the one the snapshot read (it
	// shrank, its bytes before the stored position changed, or it is gone).
	// Options.ResetSources accepts the change.
	ErrSourceChanged = errors.New("host: an input file changed since the snapshot")
)

// sentinels lists the internal errors each of host's sentinels stands for.
var sentinels = map[error][]error{
	ErrItemTooLarge:  {transport.ErrItemTooLarge},
	ErrStoreLocked:   {recovery.ErrLocked},
	ErrForeignStore:  {recovery.ErrFlowMismatch, engine.ErrForeignState},
	ErrStoreDamaged:  {recovery.ErrChecksum, recovery.ErrCorrupt},
	ErrSourceChanged: {connectors.ErrSourceChanged, engine.ErrGonePartition},
}

// StepError is a failure inside a step of a running flow: it names the
// step id, the operator, the worker and (for stateful steps) the key, with
// the guest's message. Test with errors.As.
type StepError struct {
	StepID   string // e.g. "wordcount.count.stateful_batch"
	Operator string // Bytewax's operator name, e.g. "stateful_batch"
	Worker   int    // global worker index
	Key      string // the key being processed, for stateful steps
	HasKey   bool
	Message  string // the guest's message (a panic's value, a trap's reason)
	Stack    string // the guest's stack, where its SDK provides one
	Err      error  // the underlying error: a *GuestError, a trap, …
}

// Error names the step, operator, worker and key, then the message, in
// the engine's words.
func (e *StepError) Error() string {
	return (&engine.StepError{StepID: e.StepID, Operator: e.Operator, Worker: e.Worker,
		Key: e.Key, HasKey: e.HasKey, Message: e.Message}).Error()
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// GuestError is an error the guest reported itself (a panic its SDK
// recovered, a bad factory argument, the factory's own error).
type GuestError struct {
	Message string // the guest's message
	Stack   string // the guest's stack, where its SDK provides one
	Key     string // the key being processed, for stateful steps
	HasKey  bool
}

// Error returns the guest's message.
func (e *GuestError) Error() string { return e.Message }

// RemoteError is returned by a process of a clustered run that stopped
// because another process failed; the other process reports the error
// itself.
type RemoteError struct {
	Process int    // the id of the process that failed
	Message string // its error text
}

// Error names the process and its error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("process %d failed: %s", e.Process, e.Message)
}

// exported presents the internal errors in err as host's own types and
// sentinels: a bare internal error is converted, a wrapped one is wrapped
// once more, keeping its message, so that errors.As and errors.Is find
// host's types in it.
func exported(err error) error {
	if e := convert(err); e != nil {
		return e
	}
	if err == nil || !hasInternal(err) {
		return err
	}
	return &boundary{err: err}
}

// convert returns host's counterpart of an internal error type, or nil.
func convert(err error) error {
	switch e := err.(type) {
	case *engine.StepError:
		return &StepError{StepID: e.StepID, Operator: e.Operator, Worker: e.Worker, Key: e.Key, HasKey: e.HasKey,
			Message: e.Message, Stack: e.Stack, Err: exported(e.Err)}
	case *abi.GuestError:
		return &GuestError{Message: e.Info.Message, Stack: e.Info.Stack, Key: e.Info.Key, HasKey: e.Info.HasKey}
	case *cluster.RemoteError:
		return &RemoteError{Process: e.Process, Message: e.Message}
	}
	return nil
}

// internal returns the first internal error of a type convert converts in
// err's chain, or nil.
func internal(err error) error {
	var se *engine.StepError
	var ge *abi.GuestError
	var re *cluster.RemoteError
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &ge):
		return ge
	case errors.As(err, &re):
		return re
	}
	return nil
}

// hasInternal reports whether err's chain holds an error exported converts
// or stands for.
func hasInternal(err error) bool {
	if internal(err) != nil {
		return true
	}
	for _, errs := range sentinels {
		for _, e := range errs {
			if errors.Is(err, e) {
				return true
			}
		}
	}
	return false
}

// boundary is an error whose chain holds internal errors: errors.As
// converts them to host's types, errors.Is matches host's sentinels.
type boundary struct{ err error }

// Error is the wrapped error's message.
func (e *boundary) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *boundary) Unwrap() error { return e.err }

// Is matches host's sentinels for the internal errors they stand for.
func (e *boundary) Is(target error) bool {
	for _, inner := range sentinels[target] {
		if errors.Is(e.err, inner) {
			return true
		}
	}
	return false
}

// As sets *StepError, *GuestError and *RemoteError targets from the
// internal error in the chain.
func (e *boundary) As(target any) bool {
	h := convert(internal(e.err))
	if h == nil {
		return false
	}
	return errors.As(h, target)
}

// exported is the package-level exported, naming the step of an item
// over the size limit: the transport knows only the plan node.
func (r *runner) exported(err error) error {
	var ie *transport.ItemSizeError
	if !errors.As(err, &ie) || ie.Node < 0 || ie.Node >= len(r.plan.Nodes) {
		return exported(err)
	}
	s := r.plan.Graph.Steps[r.plan.Nodes[ie.Node].Step()]
	return &StepError{StepID: s.ID, Operator: s.Kind.String(), Worker: ie.From,
		Message: fmt.Sprintf("an item of %s is over the largest item size, %d MiB (--max-item-size)",
			transport.FormatSize(ie.Size), ie.Limit>>20),
		Err: &boundary{err: ie}}
}
