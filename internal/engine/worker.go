package engine

import (
	"context"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// worker runs every node of the plan for its share of the data. All of its
// state is owned by its goroutine.
type worker struct {
	cfg      *Config
	plan     *plan.Plan
	index    int // global worker index
	g        Guest
	ep       transport.Endpoint
	ctx      context.Context
	interval time.Duration

	epoch    uint64    // the epoch sources are in
	nextTick time.Time // when the epoch advances
	spread   int       // redistribute: which other worker deal feeds first
	dealer   bool      // the plan has a redistribute node: see deal
	handles  uint32    // the last guest partition handle given out

	nodes    []nodeState
	msgs     []transport.Message
	readBuf  abi.Batch // host sources read into it; see push
	splitter splitter  // scratch space of split

	stopping  bool                // a graceful stop began: sources read no more
	snaps     []recovery.Snapshot // snapshots not yet handed to the committer
	committed uint64              // the last epoch handed to the committer
	commits   *committer          // nil without recovery
}

// nodeState is a worker's state for one plan node.
type nodeState struct {
	align    *aligner[payload] // exchanging nodes
	out      uint64            // the node's output frontier
	last     uint64            // once out is Stop or EOF: the last epoch closed
	sent     uint64            // the frontier last announced for this node
	sources  []*sourcePart     // input nodes
	sinks    map[int]*sinkPart // output nodes: by partition index (-1: dynamic)
	owners   []int             // partitioned outputs: partition index -> worker
	shares   []abi.Batch       // exchanging nodes: items split by destination, see split
	timers   *timers           // stateful nodes
	lastData uint64            // stateful nodes: latest epoch seen

	// With recovery, for exchanging nodes:
	touched map[string]struct{} // stateful nodes: keys changed since the last close
	changed uint64              // epoch of the changes since the last close (0: none)
	closed  uint64              // every epoch up to this one is closed and snapshotted
}

// payload is data waiting in an aligner.
type payload struct {
	batch abi.Batch
	part  int
	from  int
	size  int
}

func (w *worker) run(ctx context.Context, start time.Time) (err error) {
	w.ctx = ctx
	defer func() {
		if cerr := w.closeAll(); err == nil {
			err = cerr
		}
	}()
	w.epoch, w.nextTick = w.cfg.start(), start.Add(w.interval)
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if err := w.announce(); err != nil {
			return err
		}
		w.commit()
		if w.finished() {
			return nil
		}
		busy, err := w.step(w.cfg.Clock.Now())
		if err != nil {
			return err
		}
		if !busy {
			if err := w.wait(ctx); err != nil {
				return err
			}
		}
	}
}

// maxReadRounds bounds how many times a step reads its sources while other
// workers are hungry for the items it deals, so messages, timers and
// epochs are still seen every few batches.
const maxReadRounds = 8

// step does one round of work and reports whether anything happened.
func (w *worker) step(now time.Time) (bool, error) {
	busy := false
	w.msgs = w.ep.Receive(w.msgs[:0])
	for i := range w.msgs {
		if err := w.receive(&w.msgs[i]); err != nil {
			return false, err
		}
		busy = true
	}
	clear(w.msgs)
	if fired, err := w.fireTimers(now); fired || err != nil {
		return true, err
	}
	if !w.stopping && w.stopRequested() {
		w.stopping = true
		return true, w.snapshotSources()
	}
	if !now.Before(w.nextTick) {
		if err := w.tick(now); err != nil {
			return false, err
		}
		busy = true
	}
	for round := 0; round < maxReadRounds && !w.stopping && w.ep.InFlight() < w.cfg.Credit; round++ {
		polled, err := w.pollSources(now)
		if err != nil {
			return false, err
		}
		busy = busy || polled
		if !polled || !w.hungry() {
			break
		}
	}
	return busy, nil
}

// tick ends the sources' epoch: it snapshots their positions and moves the
// epoch to the one now falls in.
func (w *worker) tick(now time.Time) error {
	if !w.stopping {
		if err := w.snapshotSources(); err != nil {
			return err
		}
	}
	w.epoch, w.nextTick = nextEpoch(w.epoch, w.nextTick, w.interval, now)
	return nil
}

// nextEpoch is the epoch now falls in, and when it ends, for sources in
// epoch that ends at end: one jump over every interval the worker slept
// through, so a tiny interval costs no loop per interval skipped.
func nextEpoch(epoch uint64, end time.Time, interval time.Duration, now time.Time) (uint64, time.Time) {
	late := now.Sub(end)
	if late < 0 {
		return epoch, end
	}
	n := late/interval + 1
	return epoch + uint64(n), end.Add(n * interval)
}

// stopRequested reports whether Config.Stop is closed.
func (w *worker) stopRequested() bool {
	select {
	case <-w.cfg.Stop:
		return true
	default:
		return false
	}
}

// wait blocks until a message or credit arrives, the next epoch, timer or
// source wake-up is due, or the run is cancelled.
func (w *worker) wait(ctx context.Context) error {
	deadline := w.nextTick
	if t, ok := w.nextTimer(); ok && t.Before(deadline) {
		deadline = t
	}
	if !w.stopping && w.ep.InFlight() < w.cfg.Credit {
		if t, ok := w.nextAwake(); ok && t.Before(deadline) {
			deadline = t
		}
	}
	d := deadline.Sub(w.cfg.Clock.Now())
	if d <= 0 {
		return nil
	}
	timer := w.cfg.Clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-w.ep.Ready():
	case <-timer.C():
	case <-w.stopSignal():
	}
	return nil
}

// stopSignal is Config.Stop until the worker began stopping (nil after:
// a nil channel never fires).
func (w *worker) stopSignal() <-chan struct{} {
	if w.stopping {
		return nil
	}
	return w.cfg.Stop
}

// finished reports whether every input is exhausted or stopped and every
// exchanging node has closed its last epoch.
func (w *worker) finished() bool {
	for i := range w.plan.Nodes {
		if w.outFrontier(i) < Stop {
			return false
		}
	}
	return true
}
