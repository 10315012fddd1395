package engine

import (
	"context"
	"sync"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/recovery"
)

// snapshotChunk is how many keys one snapshot call asks for.
const snapshotChunk = 8192

// touch records that keys of stateful node i changed in epoch.
func (w *worker) touch(i int, epoch uint64, b abi.Batch) {
	st := &w.nodes[i]
	if st.touched == nil {
		return
	}
	st.changed = max(st.changed, epoch)
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		if _, ok := st.touched[string(item.Key)]; !ok {
			st.touched[string(item.Key)] = struct{}{}
		}
	}
}

// touchKeys records that keys of stateful node i changed in epoch.
func (w *worker) touchKeys(i int, epoch uint64, keys []string) {
	st := &w.nodes[i]
	if st.touched == nil || len(keys) == 0 {
		return
	}
	st.changed = max(st.changed, epoch)
	for _, k := range keys {
		st.touched[k] = struct{}{}
	}
}

// closeEpoch snapshots what node i changed since its last close, tagged with
// the epoch of the change, and notes that epochs up to c are closed there.
func (w *worker) closeEpoch(i int, c uint64) error {
	st := &w.nodes[i]
	if w.cfg.Recovery == nil {
		return nil
	}
	if st.changed != 0 {
		if err := w.snapshotNode(i, st.changed); err != nil {
			return err
		}
	}
	st.closed, st.changed = c, 0
	return nil
}

// snapshotNode takes the state a node changed: the touched keys of a
// stateful step, the positions of the sink partitions written to.
func (w *worker) snapshotNode(i int, tag uint64) error {
	n := &w.plan.Nodes[i]
	if n.Kind == plan.NodeOutput {
		for _, s := range w.nodes[i].sinks {
			if err := w.snapshotSink(s, tag); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Kind != plan.NodeStateful || len(w.nodes[i].touched) == 0 {
		return nil
	}
	keys := make([]string, 0, len(w.nodes[i].touched))
	for k := range w.nodes[i].touched {
		keys = append(keys, k)
	}
	clear(w.nodes[i].touched)
	for len(keys) > 0 {
		k := min(len(keys), snapshotChunk)
		if err := w.snapshotKeys(i, tag, keys[:k]); err != nil {
			return err
		}
		keys = keys[k:]
	}
	return nil
}

func (w *worker) snapshotKeys(i int, tag uint64, keys []string) error {
	step := w.plan.Nodes[i].Step()
	snaps, err := w.g.Snapshot(w.ctx, abi.KeysRequest{Step: uint32(step), Keys: keys})
	if err != nil {
		return w.stepError(step, err)
	}
	id := w.plan.Graph.Steps[step].ID
	t := w.nodes[i].timers
	for _, it := range snaps.Items {
		s := recovery.Snapshot{StepID: id, Key: it.Key, Epoch: tag}
		if it.Present {
			s.State = wrapState(t.at[it.Key], it.State)
		}
		w.snaps = append(w.snaps, s)
	}
	return nil
}

func (w *worker) snapshotSink(s *sinkPart, tag uint64) error {
	if !s.dirty || s.part < 0 {
		return nil
	}
	s.dirty = false
	var host snapshotter
	if s.host != nil {
		host = s.host
	}
	return w.snapshotPart(s.step, s.name, s.handle, host, tag)
}

// snapshotSource takes a source partition's position after the data it
// emitted so far, tagged with the epoch of that data.
func (w *worker) snapshotSource(s *sourcePart) error {
	if w.cfg.Recovery == nil || !s.dirty || s.name == "" {
		return nil
	}
	s.dirty = false
	var host snapshotter
	if s.host != nil {
		host = s.host
	}
	return w.snapshotPart(s.step, s.name, s.handle, host, w.epoch)
}

// snapshotter is a host connector's partition.
type snapshotter interface{ Snapshot() []byte }

// snapshotPart queues the position of a partition: a host partition's, or
// else the guest's for handle.
func (w *worker) snapshotPart(step int, name string, handle uint32, host snapshotter, tag uint64) error {
	var state []byte
	if host != nil {
		state = host.Snapshot()
	} else {
		ob, err := w.g.PartSnapshot(w.ctx, abi.HandleRequest{Step: uint32(step), Handle: handle})
		if err != nil {
			return w.stepError(step, err)
		}
		if ob.Present {
			state = append([]byte{}, ob.B...)
		}
	}
	w.keepPart(step, name, tag, state)
	return nil
}

// keepPart queues a partition's position; a partition without one (nil)
// restarts from its beginning on resume.
func (w *worker) keepPart(step int, name string, tag uint64, state []byte) {
	if state == nil {
		return
	}
	w.snaps = append(w.snaps, recovery.Snapshot{StepID: w.plan.Graph.Steps[step].ID, Key: name, Epoch: tag, State: state})
}

// snapshotSources snapshots every source partition that emitted data since
// its last snapshot: at the end of an epoch and at a graceful stop.
func (w *worker) snapshotSources() error {
	for i := range w.nodes {
		for _, s := range w.nodes[i].sources {
			if !s.eof {
				if err := w.snapshotSource(s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// frontier is the worker's committable epoch: every node's state as of it
// has been snapshotted.
func (w *worker) frontier() uint64 {
	f := uint64(EOF)
	for i := range w.plan.Nodes {
		switch {
		case w.plan.Nodes[i].Kind == plan.NodeInput:
			if w.outFrontier(i) < Stop {
				f = min(f, w.epoch-1)
			}
		case w.plan.Exchanging(i):
			f = min(f, w.nodes[i].closed)
		}
	}
	return f
}

// commit hands the snapshots taken so far and the worker's frontier, when it
// moved, to the committer.
func (w *worker) commit() {
	if w.cfg.Recovery == nil {
		return
	}
	f := w.frontier()
	if f == EOF {
		// Every input ended: the last epoch is this worker's, or a later
		// one another worker was in when its inputs ended (announce sends
		// it), so all workers' last commits cover every epoch with data.
		f = w.epoch
		for i := range w.nodes {
			if w.plan.Exchanging(i) && w.nodes[i].out == EOF {
				f = max(f, w.nodes[i].last)
			}
		}
	}
	if f <= w.committed {
		return
	}
	w.committed = f
	w.commits.submit(commitJob{worker: w.index, epoch: f, snaps: w.snaps})
	w.snaps = nil
}

// commitJob is one worker's snapshots and the epoch they complete.
type commitJob struct {
	worker int
	epoch  uint64
	snaps  []recovery.Snapshot
}

// committer writes snapshots and commits epochs on its own goroutine, in
// the order workers submitted them, so workers do not wait for the disk.
type committer struct {
	rec  *Recovery
	jobs chan commitJob
	fail func(error)
	wg   sync.WaitGroup

	staged    []connectors.StagedSinkPart // see staged.go
	published uint64                      // the epoch staged sinks were last told
}

func newCommitter(rec *Recovery, workers int, fail func(error)) *committer {
	c := &committer{rec: rec, jobs: make(chan commitJob, 2*workers), fail: fail}
	c.wg.Add(1)
	go c.run()
	return c
}

func (c *committer) submit(j commitJob) { c.jobs <- j }

func (c *committer) run() {
	defer c.wg.Done()
	ctx := context.Background()
	var failed bool
	for j := range c.jobs {
		if failed {
			continue
		}
		err := c.rec.Store.Write(ctx, j.snaps)
		if err == nil {
			err = c.rec.Store.Commit(ctx, c.rec.Execution, j.worker, j.epoch)
		}
		if err != nil {
			err = &StoreError{Err: err}
		} else {
			err = c.publish(ctx)
		}
		if err != nil {
			failed = true
			c.fail(err)
		}
	}
}

// close waits until everything submitted is written.
func (c *committer) close() {
	close(c.jobs)
	c.wg.Wait()
}
