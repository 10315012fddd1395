package bx

import (
	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// statefulStep returns the runtime of a stateful_batch step.
func (d *dispatcher) statefulStep(i uint32) (statefulRuntime, error) {
	st, err := d.step(i, abi.KindStatefulBatch)
	if err != nil {
		return nil, err
	}
	return st.stateful, nil
}

func (d *dispatcher) statefulBatch(r *abi.Reader) error {
	q := abi.ReadStatefulRequest(r)
	if err := end(r, "stateful batch"); err != nil {
		return err
	}
	callNow = q.Now
	rt, err := d.statefulStep(q.Step)
	if err != nil {
		return err
	}
	var out abi.KeyedUpdates
	if err := rt.onBatch(q.Batch, &out); err != nil {
		return err
	}
	out.Encode(&d.w)
	return nil
}

func (d *dispatcher) notify(r *abi.Reader) error {
	q := abi.ReadKeysRequest(r)
	if err := end(r, "notify"); err != nil {
		return err
	}
	callNow = q.Now
	rt, err := d.statefulStep(q.Step)
	if err != nil {
		return err
	}
	var out abi.KeyedUpdates
	if err := rt.onNotify(q.Keys, &out); err != nil {
		return err
	}
	out.Encode(&d.w)
	return nil
}

func (d *dispatcher) eof(r *abi.Reader) error {
	q := abi.ReadStepRequest(r)
	if err := end(r, "eof"); err != nil {
		return err
	}
	callNow = q.Now
	rt, err := d.statefulStep(q.Step)
	if err != nil {
		return err
	}
	var out abi.KeyedUpdates
	if err := rt.onEOF(&out); err != nil {
		return err
	}
	out.Encode(&d.w)
	return nil
}

func (d *dispatcher) snapshot(r *abi.Reader) error {
	q := abi.ReadKeysRequest(r)
	if err := end(r, "snapshot"); err != nil {
		return err
	}
	rt, err := d.statefulStep(q.Step)
	if err != nil {
		return err
	}
	out := abi.Snapshots{Step: q.Step}
	if err := rt.snapshot(q.Keys, &out); err != nil {
		return err
	}
	out.Encode(&d.w)
	return nil
}

func (d *dispatcher) restore(r *abi.Reader) error {
	q := abi.ReadSnapshots(r)
	if err := end(r, "restore"); err != nil {
		return err
	}
	rt, err := d.statefulStep(q.Step)
	if err != nil {
		return err
	}
	return rt.restore(q.Items)
}
