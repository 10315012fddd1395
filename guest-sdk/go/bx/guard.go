package bx

import (
	"fmt"
	"runtime/debug"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// site is the user code the guest is running, so that a panic or error can
// name it the way Bytewax does: "error calling mapper in step flow.split".
type site struct {
	step   *step
	what   string
	key    string
	hasKey bool
	part   string
}

// cur is the site of the current call. The guest runs one call at a time.
var cur site

// enter records that user code for a stateful key runs next.
func enter(st *step, what, key string) {
	cur = site{step: st, what: what, key: key, hasKey: true}
}

// enterPart records that user code runs next, for a partition if part is
// not empty.
func enterPart(st *step, what, part string) {
	cur = site{step: st, what: what, part: part}
}

// where renders the site: "mapper in step f.split for key \"k\"".
func (s site) where() string {
	msg := s.what
	if s.step != nil {
		msg += " in step " + s.step.info.ID
	}
	if s.hasKey {
		msg += fmt.Sprintf(" for key %q", s.key)
	}
	if s.part != "" {
		msg += fmt.Sprintf(" for partition %q", s.part)
	}
	return msg
}

// info turns an error into what the host receives, located at the site.
func (s site) info(msg string) abi.ErrorInfo {
	e := abi.ErrorInfo{Message: msg, Step: -1, HasKey: s.hasKey, Key: s.key}
	if s.step != nil {
		e.Step = s.step.index
	}
	return e
}

// panicError is a panic of user code turned into an error.
type panicError struct {
	what  string
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("error calling %s: %v", e.what, e.value) }

func stack() []byte { return debug.Stack() }

// recovered turns a panic value into the error info of the current site.
func recovered(p any) abi.ErrorInfo {
	if bp, ok := p.(buildPanic); ok {
		return cur.info(bp.err.Error())
	}
	what := cur.where()
	if what == "" {
		what = "the guest"
	}
	pe := &panicError{what: what, value: p, stack: stack()}
	e := cur.info(pe.Error())
	e.Stack = string(pe.stack)
	return e
}

// errorInfo turns an error of a call into what the host receives.
func errorInfo(err error) abi.ErrorInfo {
	e := cur.info(err.Error())
	if pe, ok := err.(*panicError); ok {
		e.Stack = string(pe.stack)
	}
	return e
}
