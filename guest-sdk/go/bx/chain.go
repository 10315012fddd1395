package bx

import (
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// chain is a run of stateless steps the host calls as one: values are
// decoded once at its input and encoded once at its outputs.
type chain struct {
	steps []*step
	outs  []abi.Batch // reused response batches, one per output
	// reuse[i] says the first output of steps[i] is only borrowed by what
	// reads it; reuseIn the same of the decoded input.
	reuse   []bool
	reuseIn bool
}

// fuse declares a chain after checking that each step feeds the next.
func (d *dispatcher) fuse(r *abi.Reader) error {
	q := abi.ReadFuseRequest(r)
	if err := end(r, "fuse"); err != nil {
		return err
	}
	if d.flow == nil {
		return ErrNotBuilt
	}
	if len(q.Steps) == 0 {
		return fmt.Errorf("%w: chain %d has no steps", ErrChain, q.Chain)
	}
	ch := &chain{}
	for _, i := range q.Steps {
		st, err := d.chainStep(i, ch)
		if err != nil {
			return fmt.Errorf("%w: chain %d: %w", ErrChain, q.Chain, err)
		}
		ch.steps = append(ch.steps, st)
	}
	ch.outs = make([]abi.Batch, len(ch.steps[len(ch.steps)-1].outs))
	ch.borrowing()
	d.chains[q.Chain] = ch
	return nil
}

// chainStep checks that step i is stateless and reads what the chain so
// far writes.
func (d *dispatcher) chainStep(i uint32, ch *chain) (*step, error) {
	if int(i) >= len(d.flow.steps) {
		return nil, fmt.Errorf("step index %d, the flow has %d steps", i, len(d.flow.steps))
	}
	st := d.flow.steps[i]
	if !st.info.Kind.Stateless() {
		return nil, fmt.Errorf("step %d (%s) is a %v step, which cannot be fused", i, st.info.ID, st.info.Kind)
	}
	if n := len(ch.steps); n > 0 {
		prev := ch.steps[n-1]
		if len(prev.info.Outputs) != 1 || prev.info.Outputs[0] != st.info.Inputs[0] {
			return nil, fmt.Errorf("step %s does not read the only output of step %s", st.info.ID, prev.info.ID)
		}
	}
	return st, nil
}

// borrowing works out, from the last step back, which slices of a run
// are only borrowed: the last step's outputs go to the encoder, which
// keeps nothing; any other slice goes to the next step, which may keep it
// unless it borrows its input, and passes it on if it passes it.
func (ch *chain) borrowing() {
	n := len(ch.steps)
	ch.reuse = make([]bool, n)
	next := true // whether what the next step gets is only borrowed
	for i := n - 1; i >= 0; i-- {
		ch.reuse[i] = next
		st := ch.steps[i]
		next = st.borrows && (!st.passes || ch.reuse[i])
	}
	ch.reuseIn = next
}

// runChain runs a chain on a batch and returns one batch per output of
// its last step.
func (d *dispatcher) runChain(r *abi.Reader) error {
	q := abi.ReadChainRequest(r)
	if err := end(r, "run chain"); err != nil {
		return err
	}
	ch, ok := d.chains[q.Chain]
	if !ok || d.flow == nil {
		return fmt.Errorf("%w: chain %d was not fused", ErrChain, q.Chain)
	}
	first := ch.steps[0]
	cur = site{step: first}
	vals, err := first.in.decode(q.Batch, ch.reuseIn)
	if err != nil {
		return fmt.Errorf("decoding an item for step %s: %w", first.info.ID, err)
	}
	outs, err := ch.run(vals, &runCtx{epoch: q.Epoch, worker: int(q.Worker)})
	if err != nil {
		return err
	}
	resp := abi.ChainResponse{Outputs: outs}
	resp.Encode(&d.w)
	return nil
}

// run passes native values through the steps and encodes the last step's
// outputs.
func (ch *chain) run(vals any, rc *runCtx) ([]abi.Batch, error) {
	var other any
	for i, st := range ch.steps {
		enterPart(st, st.what, "")
		rc.reuse = ch.reuse[i]
		vals, other = st.run(vals, rc)
	}
	last := ch.steps[len(ch.steps)-1]
	for i := range ch.outs {
		ch.outs[i].Reset()
		out := vals
		if i == 1 {
			out = other
		}
		cur = site{step: last}
		if err := last.outs[i].encode(out, &ch.outs[i]); err != nil {
			return nil, fmt.Errorf("encoding an item of step %s: %w", last.info.ID, err)
		}
	}
	return ch.outs, nil
}
