package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// emptyPollDelay is how long a worker waits before polling again a guest
// source that returned nothing and gave no wake-up time, so an idle source
// does not spin a core.
const emptyPollDelay = time.Millisecond

// sourcePart is one source partition a worker reads.
type sourcePart struct {
	step   int
	name   string                // "" for a dynamic source's worker instance
	handle uint32                // guest partitions
	host   connectors.SourcePart // host partitions
	eof    bool
	awake  time.Time
	dirty  bool // emitted data since its last snapshot
}

// sinkPart is one sink partition (or a dynamic sink's worker instance).
type sinkPart struct {
	step   int
	part   int    // partition index, -1 for a dynamic sink
	name   string // partition name
	handle uint32
	host   connectors.SinkPart
	dirty  bool // written to since its last snapshot
}

// pollSources reads one batch from every partition that is due and pushes
// it downstream. It reports whether any partition was read.
func (w *worker) pollSources(now time.Time) (bool, error) {
	polled := false
	for i := range w.plan.Nodes {
		for _, s := range w.nodes[i].sources {
			if s.eof || now.Before(s.awake) {
				continue
			}
			b, lent, err := w.next(s, now)
			if err != nil {
				return false, err
			}
			polled = polled || b.N > 0 || s.eof
			s.dirty = s.dirty || b.N > 0
			if err := w.push(w.plan.Nodes[i].Outputs[0], w.epoch, b, lent); err != nil {
				return false, err
			}
		}
	}
	return polled, nil
}

// next reads a batch from a source partition. A host partition's batch is
// lent: it is read into a buffer the next read reuses.
func (w *worker) next(s *sourcePart, now time.Time) (abi.Batch, bool, error) {
	if s.host != nil {
		b := &w.readBuf
		b.Reset()
		eof, err := s.host.Next(b, w.cfg.BatchSize)
		if err != nil {
			return *b, true, w.stepError(s.step, err)
		}
		switch {
		case eof:
			s.dirty = s.dirty || b.N > 0
			if err := w.snapshotSource(s); err != nil {
				return *b, true, err
			}
			s.eof = true
			err = w.stepError(s.step, s.host.Close())
			s.host = nil
		case b.N == 0:
			s.awake = now.Add(emptyPollDelay)
		}
		return *b, true, err
	}
	q := abi.HandleRequest{Step: uint32(s.step), Handle: s.handle, Now: now.UnixNano()}
	nb, err := w.g.NextBatch(w.ctx, q)
	if err != nil {
		return abi.Batch{}, false, w.stepError(s.step, err)
	}
	b := nb.Batch
	switch {
	case nb.EOF:
		// Snapshotting and closing the partition call the guest.
		b = own(b)
		s.dirty = s.dirty || b.N > 0
		if err := w.snapshotSource(s); err != nil {
			return b, false, err
		}
		s.eof = true
		return b, false, w.stepError(s.step, w.g.ClosePart(w.ctx, q))
	case nb.Awake != 0:
		s.awake = time.Unix(0, nb.Awake)
	case b.N == 0:
		s.awake = now.Add(emptyPollDelay)
	}
	return b, true, nil
}

// nextAwake is the earliest time a waiting source partition wants polling.
func (w *worker) nextAwake() (time.Time, bool) {
	var t time.Time
	found := false
	for i := range w.nodes {
		for _, s := range w.nodes[i].sources {
			if !s.eof && (!found || s.awake.Before(t)) {
				t, found = s.awake, true
			}
		}
	}
	return t, found
}

// write puts a batch of an epoch into one of the worker's sink partitions.
func (w *worker) write(i, part int, epoch uint64, b abi.Batch) error {
	s, ok := w.nodes[i].sinks[part]
	if !ok {
		return fmt.Errorf("engine: worker %d got data for sink partition %d of step %q it does not own",
			w.index, part, w.plan.Graph.Steps[w.plan.Nodes[i].Step()].ID)
	}
	s.dirty = true
	w.nodes[i].changed = max(w.nodes[i].changed, epoch)
	if st, ok := s.host.(connectors.StagedSinkPart); ok {
		return w.stepError(s.step, w.writeStaged(st, epoch, b))
	}
	if s.host != nil {
		return w.stepError(s.step, s.host.Write(b))
	}
	q := abi.WriteRequest{Step: uint32(s.step), Handle: s.handle, Batch: b}
	return w.stepError(s.step, w.g.WriteBatch(w.ctx, q))
}

// closeAll closes every partition still open; it runs when the worker ends,
// successfully or not, so files are flushed and released either way.
func (w *worker) closeAll() error {
	ctx := context.WithoutCancel(w.ctx)
	var first error
	keep := func(err error) {
		if first == nil && err != nil {
			first = err
		}
	}
	for i := range w.nodes {
		for _, s := range w.nodes[i].sources {
			if s.host != nil {
				keep(s.host.Close())
			} else if !s.eof {
				keep(w.g.ClosePart(ctx, abi.HandleRequest{Step: uint32(s.step), Handle: s.handle}))
			}
			s.eof = true
		}
		for _, s := range w.nodes[i].sinks {
			if _, staged := s.host.(connectors.StagedSinkPart); staged && w.commits != nil {
				continue // the committer publishes and closes it: see committer.finish
			}
			if s.host != nil {
				keep(w.stepError(s.step, s.host.Close()))
			} else {
				keep(w.stepError(s.step, w.g.ClosePart(ctx, abi.HandleRequest{Step: uint32(s.step), Handle: s.handle})))
			}
		}
		w.nodes[i].sinks = nil
	}
	return first
}

// writeStaged keeps a batch in a staged sink partition. Without a recovery
// store nothing is ever replayed, so the batch goes out right away.
func (w *worker) writeStaged(st connectors.StagedSinkPart, epoch uint64, b abi.Batch) error {
	if err := st.WriteEpoch(epoch, b); err != nil {
		return err
	}
	if w.commits == nil {
		return st.Committed(epoch)
	}
	return nil
}
