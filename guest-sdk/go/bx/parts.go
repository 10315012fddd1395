package bx

import (
	"errors"
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Errors of the partition ops (OpListParts ... OpClosePart).
var (
	// ErrHandle is returned for a handle that names no built partition, or
	// for building a partition under a handle already in use.
	ErrHandle = errors.New("bx: bad partition handle")
	// ErrHostConnector is returned when the host asks the guest to run a
	// connector the host implements itself.
	ErrHostConnector = errors.New("bx: the host runs this connector")
)

// openPart is a built partition of a source or sink step.
type openPart struct {
	name  string
	next  func(out *abi.NextBatch) error // sources
	write func(b abi.Batch) error        // sinks
	snap  func(dst []byte) ([]byte, error)
	close func()
}

// partsRT is what sources and sinks have in common: partitions listed by
// the user's code and built under handles the host chooses.
type partsRT struct {
	st    *step
	list  func(worker, workers int) []string
	build func(q *abi.BuildPartRequest) (*openPart, error)
	open  map[uint32]*openPart
}

func newPartsRT(st *step) *partsRT {
	return &partsRT{st: st, open: map[uint32]*openPart{}}
}

func (rt *partsRT) listParts(worker, workers int) []string {
	if rt.list == nil {
		return nil
	}
	enterPart(rt.st, "list_parts", "")
	return rt.list(worker, workers)
}

func (rt *partsRT) buildPart(q *abi.BuildPartRequest) error {
	if _, ok := rt.open[q.Handle]; ok {
		return fmt.Errorf("%w: handle %d of step %s is already built", ErrHandle, q.Handle, rt.st.info.ID)
	}
	p, err := rt.build(q)
	if err != nil {
		return err
	}
	p.name = q.Part
	rt.open[q.Handle] = p
	return nil
}

func (rt *partsRT) part(handle uint32) (*openPart, error) {
	p, ok := rt.open[handle]
	if !ok {
		return nil, fmt.Errorf("%w: step %s has no partition with handle %d", ErrHandle, rt.st.info.ID, handle)
	}
	return p, nil
}

func (rt *partsRT) snapshot(handle uint32, out *abi.OptBytes) error {
	p, err := rt.part(handle)
	if err != nil || p.snap == nil {
		return err
	}
	enterPart(rt.st, "snapshot", p.name)
	if out.B, err = p.snap(out.B[:0]); err != nil {
		return fmt.Errorf("encoding the state of partition %q in step %s: %w", p.name, rt.st.info.ID, err)
	}
	out.Present = true
	return nil
}

func (rt *partsRT) closePart(handle uint32) error {
	p, err := rt.part(handle)
	if err != nil {
		return err
	}
	delete(rt.open, handle)
	enterPart(rt.st, "close", p.name)
	p.close()
	return nil
}

// decodeResume decodes a partition's resume state, if the host sent one.
func decodeResume[S any](c valueCodec[S], q *abi.BuildPartRequest, stepID string) (*S, error) {
	if !q.HasResume {
		return nil, nil
	}
	s, err := c.dec(q.Resume)
	if err != nil {
		return nil, fmt.Errorf("decoding the resume state of partition %q in step %s: %w", q.Part, stepID, err)
	}
	return &s, nil
}
