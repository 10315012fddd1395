package engine

import (
	"fmt"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// stateful gives a keyed batch to a stateful step's logics on this worker.
func (w *worker) stateful(i int, epoch uint64, b abi.Batch) error {
	st := &w.nodes[i]
	st.lastData = max(st.lastData, epoch)
	w.touch(i, epoch, b)
	step := w.plan.Nodes[i].Step()
	q := abi.StatefulRequest{Step: uint32(step), Now: w.cfg.Clock.Now().UnixNano(), Batch: b}
	up, err := w.g.StatefulBatch(w.ctx, q)
	if err != nil {
		return w.stepError(step, err)
	}
	return w.updates(i, epoch, up)
}

// updates records the keys' timers and pushes what the logics emitted.
func (w *worker) updates(i int, epoch uint64, up abi.KeyedUpdates) error {
	t := w.nodes[i].timers
	for _, k := range up.Keys {
		if k.Discard || k.NotifyAt == 0 {
			t.cancel(k.Key)
			continue
		}
		t.set(k.Key, k.NotifyAt)
	}
	return w.push(w.plan.Nodes[i].Outputs[0], epoch, up.Emits, true)
}

// atEOF calls on_eof for every key of a stateful step once every worker's
// input to it has ended; what it changes and emits belongs to epoch.
func (w *worker) atEOF(i int, epoch uint64) error {
	n := &w.plan.Nodes[i]
	if n.Kind != plan.NodeStateful {
		return nil
	}
	st := &w.nodes[i]
	q := abi.StepRequest{Step: uint32(n.Step()), Now: w.cfg.Clock.Now().UnixNano()}
	up, err := w.g.EOF(w.ctx, q)
	if err != nil {
		return w.stepError(n.Step(), err)
	}
	keys := make([]string, len(up.Keys))
	for k, ks := range up.Keys {
		keys[k] = ks.Key
	}
	w.touchKeys(i, epoch, keys)
	err = w.updates(i, epoch, up)
	st.timers = newTimers()
	return err
}

// fireTimers calls on_notify for keys whose notify_at has passed.
func (w *worker) fireTimers(now time.Time) (bool, error) {
	fired := false
	for i := range w.nodes {
		t := w.nodes[i].timers
		if t == nil || w.nodes[i].out >= Stop { // ended, or stopped: timers wait for the resume
			continue
		}
		keys := t.due(now.UnixNano())
		if len(keys) == 0 {
			continue
		}
		fired = true
		step := w.plan.Nodes[i].Step()
		up, err := w.g.Notify(w.ctx, abi.KeysRequest{Step: uint32(step), Now: now.UnixNano(), Keys: keys})
		if err != nil {
			return true, w.stepError(step, err)
		}
		epoch := max(w.nodes[i].align.Frontier(), w.nodes[i].lastData)
		w.touchKeys(i, epoch, keys)
		if err := w.updates(i, epoch, up); err != nil {
			return true, err
		}
	}
	return fired, nil
}

// nextTimer is the earliest pending notify_at on this worker.
func (w *worker) nextTimer() (time.Time, bool) {
	var best int64
	for i := range w.nodes {
		if t := w.nodes[i].timers; t != nil && w.nodes[i].out < Stop {
			if at, ok := t.next(); ok && (best == 0 || at < best) {
				best = at
			}
		}
	}
	return time.Unix(0, best), best != 0
}

func errProtocol(m *transport.Message) error {
	return fmt.Errorf("engine: unexpected message kind %d for node %d from worker %d", m.Kind, m.Node, m.From)
}
