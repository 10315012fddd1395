package engine

import (
	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/plan"
)

// A poison item is an item of a host source that the chain reading the
// source cannot process: the guest reports an error for the batch (a
// StatusError, after which the instance is still usable). With
// Config.DeadLetter set, the worker runs the chain again item by item,
// hands every item that fails to DeadLetter and goes on with the others.
// A chain is stateless, so running its items again changes nothing but
// what it emits, which the failed call did not push anywhere.

// deadLetterSource is the host input step whose items chain node i reads
// directly, or -1.
func (w *worker) deadLetterSource(i int) int {
	n := &w.plan.Nodes[i]
	if w.cfg.DeadLetter == nil || n.Kind != plan.NodeChain || len(n.Inputs) != 1 {
		return -1
	}
	for k, s := range w.plan.Graph.Steps {
		if s.Kind == abi.KindInput && s.Conn.Host() && len(s.Outputs) == 1 && s.Outputs[0] == n.Inputs[0] {
			return k
		}
	}
	return -1
}

// runChainEach runs chain node i on each item of b alone, after the guest
// reported an error for the whole batch: items it fails on go to the dead
// letters of source step src, the rest go on downstream. The run fails as
// before when a call fails otherwise (a trap leaves the instance unusable)
// or the source keeps no dead letters.
func (w *worker) runChainEach(i, src int, epoch uint64, b abi.Batch) error {
	it := b.Iter()
	var item abi.Item
	var one abi.Batch
	for it.Next(&item) {
		one.Reset()
		one.Append(item.Key, item.HasKey, item.Value)
		reported, err := w.callChain(i, epoch, one)
		if err != nil {
			return err
		}
		if reported == nil {
			continue
		}
		failed := w.stepError(w.plan.Nodes[i].Step(), reported)
		kept, err := w.cfg.DeadLetter(src, item.Value, failed)
		if err != nil {
			return w.stepError(src, err)
		}
		if !kept {
			return failed
		}
	}
	return nil
}
