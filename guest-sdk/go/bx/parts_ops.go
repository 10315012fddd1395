package bx

import (
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// anyConnector asks partsStep for an input or an output step.
const anyConnector abi.StepKind = 0

// partsStep returns the guest connector of step i, which must be an input
// or output (or the one kind given).
func (d *dispatcher) partsStep(i uint32, kind abi.StepKind) (*partsRT, error) {
	st, err := d.step(i, kind)
	if kind == 0 && st != nil && st.info.Kind != abi.KindInput && st.info.Kind != abi.KindOutput {
		return nil, fmt.Errorf("%w: step %d (%s) is a %v step, not input or output", ErrStep, i, st.info.ID, st.info.Kind)
	}
	if err != nil {
		return nil, err
	}
	if st.parts == nil {
		return nil, fmt.Errorf("%w: step %s uses the host's %v connector", ErrHostConnector, st.info.ID, st.info.Conn)
	}
	return st.parts, nil
}

func (d *dispatcher) listParts(r *abi.Reader) error {
	q := abi.ReadPartsRequest(r)
	if err := end(r, "list parts"); err != nil {
		return err
	}
	rt, err := d.partsStep(q.Step, anyConnector)
	if err != nil {
		return err
	}
	l := abi.PartList{Parts: rt.listParts(int(q.Worker), int(q.Workers))}
	l.Encode(&d.w)
	return nil
}

func (d *dispatcher) buildPart(r *abi.Reader) error {
	q := abi.ReadBuildPartRequest(r)
	if err := end(r, "build part"); err != nil {
		return err
	}
	rt, err := d.partsStep(q.Step, anyConnector)
	if err != nil {
		return err
	}
	return rt.buildPart(&q)
}

func (d *dispatcher) nextBatch(r *abi.Reader) error {
	q := abi.ReadHandleRequest(r)
	if err := end(r, "next batch"); err != nil {
		return err
	}
	rt, err := d.partsStep(q.Step, abi.KindInput)
	if err != nil {
		return err
	}
	p, err := rt.part(q.Handle)
	if err != nil {
		return err
	}
	var out abi.NextBatch
	if err := p.next(&out); err != nil {
		return err
	}
	out.Encode(&d.w)
	return nil
}

func (d *dispatcher) writeBatch(r *abi.Reader) error {
	q := abi.ReadWriteRequest(r)
	if err := end(r, "write batch"); err != nil {
		return err
	}
	rt, err := d.partsStep(q.Step, abi.KindOutput)
	if err != nil {
		return err
	}
	p, err := rt.part(q.Handle)
	if err != nil {
		return err
	}
	return p.write(q.Batch)
}

func (d *dispatcher) partSnapshot(r *abi.Reader) error {
	q := abi.ReadHandleRequest(r)
	if err := end(r, "part snapshot"); err != nil {
		return err
	}
	rt, err := d.partsStep(q.Step, anyConnector)
	if err != nil {
		return err
	}
	var out abi.OptBytes
	if err := rt.snapshot(q.Handle, &out); err != nil {
		return err
	}
	out.Encode(&d.w)
	return nil
}

func (d *dispatcher) closePart(r *abi.Reader) error {
	q := abi.ReadHandleRequest(r)
	if err := end(r, "close part"); err != nil {
		return err
	}
	rt, err := d.partsStep(q.Step, anyConnector)
	if err != nil {
		return err
	}
	return rt.closePart(q.Handle)
}
