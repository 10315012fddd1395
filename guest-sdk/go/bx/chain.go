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
	vals, err := first.in.decode(q.Batch)
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
	for _, st := range ch.steps {
		enterPart(st, st.what, "")
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
