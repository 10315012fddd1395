package bx

import (
	"errors"
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Errors of requests the host sends.
var (
	// ErrRequest is returned for a request that does not decode.
	ErrRequest = errors.New("bx: malformed request")
	// ErrNotBuilt is returned for requests about a flow before OpBuild.
	ErrNotBuilt = errors.New("bx: no flow built yet")
	// ErrStep is returned for a step index that is out of range or names a
	// step of the wrong kind for the op.
	ErrStep = errors.New("bx: bad step")
	// ErrChain is returned for a chain that was not declared with OpFuse or
	// whose steps do not form a chain.
	ErrChain = errors.New("bx: bad chain")
)

// dispatcher is the guest's side of the wire: the flow built by OpBuild,
// the chains declared by OpFuse, and the response buffer.
type dispatcher struct {
	flow   *Dataflow
	chains map[uint32]*chain
	w      abi.Writer
}

var d dispatcher

// handler runs one op: it decodes its body from r and appends its
// response body to w.
type handler func(d *dispatcher, r *abi.Reader) error

var handlers = map[abi.Op]handler{
	abi.OpListFlows:     (*dispatcher).listFlows,
	abi.OpBuild:         (*dispatcher).build,
	abi.OpFuse:          (*dispatcher).fuse,
	abi.OpRunChain:      (*dispatcher).runChain,
	abi.OpStatefulBatch: (*dispatcher).statefulBatch,
	abi.OpNotify:        (*dispatcher).notify,
	abi.OpEOF:           (*dispatcher).eof,
	abi.OpSnapshot:      (*dispatcher).snapshot,
	abi.OpRestore:       (*dispatcher).restore,
	abi.OpListParts:     (*dispatcher).listParts,
	abi.OpBuildPart:     (*dispatcher).buildPart,
	abi.OpNextBatch:     (*dispatcher).nextBatch,
	abi.OpWriteBatch:    (*dispatcher).writeBatch,
	abi.OpPartSnapshot:  (*dispatcher).partSnapshot,
	abi.OpClosePart:     (*dispatcher).closePart,
}

// dispatch runs one request (an op byte and its body) and returns the
// response (a status byte and its body). It never panics: a panic of user
// code becomes a StatusError naming the step and key. The response is
// valid until the next call.
func dispatch(req []byte) (resp []byte) {
	cur = site{}
	d.w.Reset()
	defer func() {
		if p := recover(); p != nil {
			d.fail(recovered(p))
			resp = d.w.B
		}
	}()
	if err := d.handle(req); err != nil {
		d.fail(errorInfo(err))
	}
	return d.w.B
}

func (d *dispatcher) handle(req []byte) error {
	if len(req) == 0 {
		return fmt.Errorf("%w: empty request", ErrRequest)
	}
	h, ok := handlers[abi.Op(req[0])]
	if !ok {
		return fmt.Errorf("%w: unknown op %d", ErrRequest, req[0])
	}
	d.w.Byte(byte(abi.StatusOK))
	return h(d, abi.NewReader(req[1:]))
}

// fail replaces whatever was written with an error response.
func (d *dispatcher) fail(e abi.ErrorInfo) {
	d.w.Reset()
	d.w.Byte(byte(abi.StatusError))
	e.Encode(&d.w)
}

// end checks that the request decoded completely.
func end(r *abi.Reader, what string) error {
	if err := r.End(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRequest, what, err)
	}
	return nil
}

// step returns step i of the built flow if it is of kind k (any kind for
// 0; the caller checks).
func (d *dispatcher) step(i uint32, k abi.StepKind) (*step, error) {
	if d.flow == nil {
		return nil, ErrNotBuilt
	}
	if int(i) >= len(d.flow.steps) {
		return nil, fmt.Errorf("%w: step index %d, the flow has %d steps", ErrStep, i, len(d.flow.steps))
	}
	st := d.flow.steps[i]
	if k != 0 && st.info.Kind != k {
		return nil, fmt.Errorf("%w: step %d (%s) is a %v step, not %v", ErrStep, i, st.info.ID, st.info.Kind, k)
	}
	return st, nil
}

func (d *dispatcher) listFlows(r *abi.Reader) error {
	if err := end(r, "list flows"); err != nil {
		return err
	}
	l := flowList()
	l.Encode(&d.w)
	return nil
}

// build builds a flow and keeps it; a failed build forgets the old one.
func (d *dispatcher) build(r *abi.Reader) error {
	q := abi.ReadBuildRequest(r)
	if err := end(r, "build"); err != nil {
		return err
	}
	d.flow, d.chains = nil, map[uint32]*chain{}
	def, err := lookupFlow(q.Flow)
	if err != nil {
		return err
	}
	flow, err := def.build(q.Args)
	if err != nil {
		cur = site{}
		return err
	}
	d.flow = flow
	flow.graph().Encode(&d.w)
	return nil
}
