package engine

import (
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/transport"
	"github.com/cespare/xxhash/v2"
)

// push hands a batch of a stream to every node input reading it.
func (w *worker) push(stream uint32, epoch uint64, b abi.Batch) error {
	if b.N == 0 {
		return nil
	}
	for _, r := range w.plan.Readers[stream] {
		if err := w.deliver(r.Node, epoch, b); err != nil {
			return err
		}
	}
	return nil
}

// deliver runs a local node on a batch, or routes the batch to the workers
// that own its items when the node exchanges.
func (w *worker) deliver(i int, epoch uint64, b abi.Batch) error {
	n := &w.plan.Nodes[i]
	switch {
	case n.Route != plan.RouteLocal:
		return w.route(i, epoch, b)
	case n.Kind == plan.NodeChain:
		return w.runChain(i, epoch, b)
	case n.Kind == plan.NodeMerge:
		return w.push(n.Outputs[0], epoch, b)
	case n.Kind == plan.NodeOutput:
		return w.write(i, -1, epoch, b)
	}
	return fmt.Errorf("engine: node %d (%v) cannot take input", i, n.Kind)
}

func (w *worker) runChain(i int, epoch uint64, b abi.Batch) error {
	n := &w.plan.Nodes[i]
	q := abi.ChainRequest{Chain: uint32(i), Worker: uint32(w.index), Epoch: epoch, Batch: b}
	resp, err := w.g.RunChain(w.ctx, q)
	if err != nil {
		return w.stepError(n.Step(), err)
	}
	if len(resp.Outputs) != len(n.Outputs) {
		return w.stepError(n.Steps[len(n.Steps)-1], fmt.Errorf("guest returned %d outputs, the step has %d", len(resp.Outputs), len(n.Outputs)))
	}
	outs := make([]abi.Batch, len(resp.Outputs))
	for k, o := range resp.Outputs {
		outs[k] = own(o)
	}
	for k, o := range outs {
		if err := w.push(n.Outputs[k], epoch, o); err != nil {
			return err
		}
	}
	return nil
}

// own copies a batch out of a guest's response buffer.
func own(b abi.Batch) abi.Batch {
	return abi.Batch{N: b.N, Body: append([]byte(nil), b.Body...)}
}

// process runs an exchanging node on data the aligner let through.
func (w *worker) process(i int, epoch uint64, part int, b abi.Batch) error {
	n := &w.plan.Nodes[i]
	switch n.Kind {
	case plan.NodeStateful:
		return w.stateful(i, epoch, b)
	case plan.NodeRedistribute:
		return w.push(n.Outputs[0], epoch, b)
	case plan.NodeOutput:
		return w.write(i, part, epoch, b)
	}
	return fmt.Errorf("engine: node %d (%v) does not exchange", i, n.Kind)
}

// route splits a batch by destination worker and sends each share.
func (w *worker) route(i int, epoch uint64, b abi.Batch) error {
	n := &w.plan.Nodes[i]
	total := w.cfg.TotalWorkers
	shares := map[[2]int]*abi.Batch{} // (worker, part) -> items
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		dest, part, err := w.destination(i, n.Route, &item, total)
		if err != nil {
			return err
		}
		k := [2]int{dest, part}
		s := shares[k]
		if s == nil {
			s = &abi.Batch{}
			shares[k] = s
		}
		s.AppendRaw(item.Raw)
		if len(s.Body) >= maxMessage {
			if err := w.send(i, epoch, k, s); err != nil {
				return err
			}
		}
	}
	if err := it.Err(); err != nil {
		return w.stepError(n.Step(), err)
	}
	for k, s := range shares {
		if err := w.send(i, epoch, k, s); err != nil {
			return err
		}
	}
	return nil
}

// maxMessage bounds the bytes of items in one message, well under NATS's
// default 1 MiB payload limit; bigger shares go out in several messages.
const maxMessage = 256 << 10

// send hands a share of items to its worker (k is worker, partition) and
// leaves the share empty for more.
func (w *worker) send(i int, epoch uint64, k [2]int, s *abi.Batch) error {
	if s.N == 0 {
		return nil
	}
	m := transport.Message{Node: i, Kind: transport.Data, Epoch: epoch, Part: k[1], Batch: *s}
	*s = abi.Batch{}
	return w.ep.Send(k[0], m)
}

func (w *worker) destination(i int, r plan.Route, item *abi.Item, total int) (dest, part int, err error) {
	switch r {
	case plan.RouteSpread:
		w.spread++
		return w.spread % total, 0, nil
	case plan.RouteKey:
		if !item.HasKey {
			return 0, 0, w.keyError(w.plan.Nodes[i].Step(), nil, "got an item without a key: stateful steps need a keyed stream (use key_on first)")
		}
		return KeyWorker(item.Key, total), 0, nil
	}
	owners := w.nodes[i].owners
	if len(owners) == 1 {
		return owners[0], 0, nil
	}
	if !item.HasKey {
		return 0, 0, w.keyError(w.plan.Nodes[i].Step(), nil, "got an item without a key: a partitioned sink needs a keyed stream")
	}
	part = int(xxhash.Sum64(item.Key) % uint64(len(owners)))
	return owners[part], part, nil
}

// KeyWorker is the worker that owns key among total workers: the same on
// every process, machine and release (xxhash64 of the key's bytes).
func KeyWorker(key []byte, total int) int { return int(xxhash.Sum64(key) % uint64(total)) }
