package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// StepError is a failure inside a step: the guest panicked or trapped, or
// gave the host something it cannot use.
type StepError struct {
	StepID   string // e.g. "wordcount.count.stateful_batch"
	Operator string // Bytewax's operator name, e.g. "stateful_batch"
	Worker   int    // global worker index
	Key      string // the key being processed, for stateful steps
	HasKey   bool
	Message  string // the guest's message (a panic's value, a trap's reason)
	Stack    string // the guest's stack, where its SDK provides one
	Err      error  // the underlying error
}

// Error names the step, operator, worker and key, then the guest's message.
func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %q (%s) failed on worker %d", e.StepID, e.Operator, e.Worker)
	if e.HasKey {
		fmt.Fprintf(&b, " for key %q", e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// stepError builds a StepError for a failed call made for step (the first
// of a chain); the guest's own report, when it has one, names the exact step
// and key.
func (w *worker) stepError(step int, err error) error {
	if err == nil {
		return nil
	}
	var se *StepError
	if errors.As(err, &se) {
		return err
	}
	g := w.plan.Graph
	e := &StepError{Worker: w.index, Err: err, Message: err.Error()}
	var ge *abi.GuestError
	if errors.As(err, &ge) {
		e.Message, e.Stack = ge.Info.Message, ge.Info.Stack
		e.Key, e.HasKey = ge.Info.Key, ge.Info.HasKey
		if ge.Info.Step >= 0 && ge.Info.Step < len(g.Steps) {
			step = ge.Info.Step
		}
	}
	e.StepID, e.Operator = g.Steps[step].ID, g.Steps[step].Kind.String()
	return e
}

func (w *worker) keyError(step int, key []byte, msg string) error {
	s := w.plan.Graph.Steps[step]
	return &StepError{StepID: s.ID, Operator: s.Kind.String(), Worker: w.index, Message: msg,
		Key: string(key), HasKey: key != nil, Err: errors.New(msg)}
}

// StoreError is a failure to write snapshots or commit an epoch to the
// recovery store. The run stops; it resumes from the last committed epoch.
type StoreError struct{ Err error }

// Error says what failed.
func (e *StoreError) Error() string { return "writing to the recovery store: " + e.Err.Error() }

// Unwrap returns the store's error.
func (e *StoreError) Unwrap() error { return e.Err }
