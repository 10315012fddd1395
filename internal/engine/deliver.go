package engine

import (
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/transport"
	"github.com/cespare/xxhash/v2"
)

// A batch travels through a worker's nodes either owned or lent. A lent
// batch aliases a buffer the worker reuses: a guest instance's response,
// which the next call into the guest overwrites, or the host sources'
// read buffer. Every node consumes its input before the next call (a
// chain or a sink encodes it into its request, a host sink copies what it
// writes, an exchange copies it into the messages it sends), so a lent
// batch needs no copy as long as it has one reader; it is copied (own)
// only where it would be read after a guest call: by a second reader, or
// kept in a message.

// push hands a batch of a stream to every node input reading it.
func (w *worker) push(stream uint32, epoch uint64, b abi.Batch, lent bool) error {
	if b.N == 0 {
		return nil
	}
	readers := w.plan.Readers[stream]
	if lent && len(readers) > 1 {
		b, lent = own(b), false
	}
	for _, r := range readers {
		if err := w.deliver(r.Node, epoch, b, lent); err != nil {
			return err
		}
	}
	return nil
}

// deliver runs a local node on a batch, or routes the batch to the workers
// that own its items when the node exchanges.
func (w *worker) deliver(i int, epoch uint64, b abi.Batch, lent bool) error {
	n := &w.plan.Nodes[i]
	switch {
	case n.Route != plan.RouteLocal:
		return w.route(i, epoch, b, lent)
	case n.Kind == plan.NodeChain:
		return w.runChain(i, epoch, b)
	case n.Kind == plan.NodeMerge:
		return w.push(n.Outputs[0], epoch, b, lent)
	case n.Kind == plan.NodeOutput:
		return w.write(i, -1, epoch, b)
	}
	return fmt.Errorf("engine: node %d (%v) cannot take input", i, n.Kind)
}

// runChain runs a fused chain on a batch and pushes what it returns: lent
// when it is one batch, owned copies when the chain branches (the first
// output's readers may call the guest before the second is read).
func (w *worker) runChain(i int, epoch uint64, b abi.Batch) error {
	reported, err := w.callChain(i, epoch, b)
	if err != nil || reported == nil {
		return err
	}
	if src := w.deadLetterSource(i); src >= 0 {
		return w.runChainEach(i, src, epoch, b)
	}
	return w.stepError(w.plan.Nodes[i].Step(), reported)
}

// callChain is runChain without dead letters. An error the guest reported
// for the call comes back apart (reported), so that the caller may try the
// items one by one; what went wrong after the call (downstream) is err.
func (w *worker) callChain(i int, epoch uint64, b abi.Batch) (reported, err error) {
	n := &w.plan.Nodes[i]
	q := abi.ChainRequest{Chain: uint32(i), Worker: uint32(w.index), Epoch: epoch, Batch: b}
	resp, err := w.g.RunChain(w.ctx, q)
	if ge, ok := err.(*abi.GuestError); ok {
		return ge, nil
	}
	if err != nil {
		return nil, w.stepError(n.Step(), err)
	}
	if len(resp.Outputs) != len(n.Outputs) {
		return nil, w.stepError(n.Steps[len(n.Steps)-1], fmt.Errorf("guest returned %d outputs, the step has %d", len(resp.Outputs), len(n.Outputs)))
	}
	if len(resp.Outputs) == 1 {
		return nil, w.push(n.Outputs[0], epoch, resp.Outputs[0], true)
	}
	outs := make([]abi.Batch, len(resp.Outputs))
	for k, o := range resp.Outputs {
		outs[k] = own(o)
	}
	for k, o := range outs {
		if err := w.push(n.Outputs[k], epoch, o, false); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// own copies a batch out of a lent buffer.
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
		return w.push(n.Outputs[0], epoch, b, false)
	case plan.NodeOutput:
		return w.write(i, part, epoch, b)
	}
	return fmt.Errorf("engine: node %d (%v) does not exchange", i, n.Kind)
}

// route sends a batch to the workers that own its items. When they all go
// to one worker and partition (one worker in all, or a sink of one
// partition) the batch goes as it is, in one message, with no hashing; a
// lent batch is copied once.
func (w *worker) route(i int, epoch uint64, b abi.Batch, lent bool) error {
	k, one, err := w.oneDestination(i, b)
	if err != nil || !one {
		switch {
		case err != nil:
		case w.plan.Nodes[i].Route == plan.RouteSpread && len(b.Body) <= maxMessage:
			err = w.deal(i, epoch, b)
		default:
			err = w.split(i, epoch, b)
		}
		return err
	}
	if lent {
		b = own(b)
	}
	return w.send(i, epoch, k, &b)
}

// oneDestination reports whether every item of a batch for exchanging
// node i goes to the same worker and partition, and which. It fails like
// the item-by-item path on an unkeyed item where keys are needed.
func (w *worker) oneDestination(i int, b abi.Batch) (share, bool, error) {
	if len(b.Body) > maxMessage {
		return share{}, false, nil // split into messages item by item
	}
	n := &w.plan.Nodes[i]
	switch {
	case n.Route == plan.RoutePart && len(w.nodes[i].owners) == 1:
		return share{worker: w.nodes[i].owners[0]}, true, nil
	case w.cfg.TotalWorkers > 1 || n.Route == plan.RoutePart:
		return share{}, false, nil
	case n.Route == plan.RouteSpread:
		w.spread += b.N
		return share{}, true, nil
	}
	unkeyed, err := b.Unkeyed()
	if err != nil {
		return share{}, false, w.stepError(n.Step(), err)
	}
	if unkeyed > 0 {
		return share{}, false, w.keyError(n.Step(), nil, errNoKeyStateful)
	}
	return share{}, true, nil
}

// deal sends a batch of a redistribute node to the workers in contiguous
// runs of items, feeding the other workers first: each, from the next one
// in round-robin order, that is short of the lead (see dealLead) by half
// the batch or more gets items until the bytes it has yet to consume from
// this worker reach the lead; this worker keeps the rest.
//
// The worker that reads a source has that work on top of its share, so a
// fixed share would make it the one the others wait for; fed this way,
// the others keep work queued while it reads, and once every worker has
// its lead, batches stay on the worker that read them. Runs of at least
// half a batch keep guest calls about as large as the batches read, so
// steps that reduce per batch still reduce as much.
func (w *worker) deal(i int, epoch uint64, b abi.Batch) error {
	total := w.cfg.TotalWorkers
	w.spread++
	it := b.Iter()
	var item abi.Item
	start, left := 0, b.N
	for k := range total - 1 {
		to := (w.index + 1 + (w.spread+k)%(total-1)) % total
		need := w.need(to, len(b.Body))
		end, n := start, 0
		for ; need > 0 && n < left; n++ {
			if !it.Next(&item) {
				return w.stepError(w.plan.Nodes[i].Step(), fmt.Errorf("a batch of %d items ends early: %w", b.N, it.Err()))
			}
			end += len(item.Raw)
			need -= int64(len(item.Raw))
		}
		if err := w.sendRun(i, epoch, to, n, b.Body[start:end]); err != nil {
			return err
		}
		start, left = end, left-n
	}
	return w.sendRun(i, epoch, w.index, left, b.Body[start:])
}

// sendRun sends a copy of n items in wire form to worker to.
func (w *worker) sendRun(i int, epoch uint64, to, n int, body []byte) error {
	run := abi.Batch{N: n, Body: append([]byte(nil), body...)}
	return w.send(i, epoch, share{worker: to}, &run)
}

// dealLead is the work, in bytes, a worker keeps queued at every other
// worker it deals items to: an eighth of its credit, enough to cover
// what it does between two reads, little enough to leave credit for the
// rest of the flow.
func (w *worker) dealLead() int64 { return max(w.cfg.Credit/8, 1) }

// need is how many bytes of a batch of size bytes deal gives worker to:
// what it lacks of the lead, unless that is under half the batch (no
// small runs: it has enough for now).
func (w *worker) need(to, size int) int64 {
	need := w.dealLead() - w.ep.InFlightTo(to)
	if need < int64(size)/2 {
		return 0
	}
	return need
}

// hungry reports whether this worker deals items and some other worker
// has less than the lead of them queued: then reading another batch now
// keeps that worker busy. (Reading on until some worker lacks half a
// batch, as deal needs to feed it, costs a word count 5% more CPU.)
func (w *worker) hungry() bool {
	if !w.dealer || w.cfg.TotalWorkers == 1 {
		return false
	}
	for to := range w.cfg.TotalWorkers {
		if to != w.index && w.ep.InFlightTo(to) < w.dealLead() {
			return true
		}
	}
	return false
}

// share is where a share of a batch goes: a worker and, for a partitioned
// sink, the partition.
type share struct{ worker, part int }

// split divides a batch by destination and sends each share. A batch that
// fits in one message is split in two passes: the first finds each item's
// slot among the node's shares and sizes the shares, the second copies
// the items into bodies of exactly that size, with no pointer written per
// item. A bigger one goes item by item, a message whenever a share is full.
func (w *worker) split(i int, epoch uint64, b abi.Batch) error {
	n := &w.plan.Nodes[i]
	st := &w.nodes[i]
	if st.shares == nil {
		slots := w.cfg.TotalWorkers
		if n.Route == plan.RoutePart {
			slots = len(st.owners)
		}
		st.shares = make([]abi.Batch, slots)
	}
	if len(b.Body) > maxMessage {
		return w.splitLarge(i, epoch, b)
	}
	sp := &w.splitter
	sp.reset(len(st.shares))
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		k, err := w.destination(i, n.Route, &item, w.cfg.TotalWorkers)
		if err != nil {
			return err
		}
		sp.add(shareIndex(k, n.Route), len(item.Raw))
	}
	if err := it.Err(); err != nil {
		return w.stepError(n.Step(), err)
	}
	sp.fill(st.shares, b.Body)
	return w.sendShares(i, epoch)
}

// splitLarge splits a batch bigger than a message item by item.
func (w *worker) splitLarge(i int, epoch uint64, b abi.Batch) error {
	n := &w.plan.Nodes[i]
	st := &w.nodes[i]
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		k, err := w.destination(i, n.Route, &item, w.cfg.TotalWorkers)
		if err != nil {
			return err
		}
		s := &st.shares[shareIndex(k, n.Route)]
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
	return w.sendShares(i, epoch)
}

// sendShares sends every non-empty share of exchanging node i.
func (w *worker) sendShares(i int, epoch uint64) error {
	st := &w.nodes[i]
	for j := range st.shares {
		k := share{worker: j}
		if w.plan.Nodes[i].Route == plan.RoutePart {
			k = share{worker: st.owners[j], part: j}
		}
		if err := w.send(i, epoch, k, &st.shares[j]); err != nil {
			return err
		}
	}
	return nil
}

// splitter is a worker's scratch space for splitting a batch in two
// passes, reused by every split.
type splitter struct {
	slot  []int // per item, its share
	size  []int // per item, its encoded length
	bytes []int // per share, the bytes of its items; then the fill offset
	count []int // per share, its items
}

func (sp *splitter) reset(shares int) {
	sp.slot, sp.size = sp.slot[:0], sp.size[:0]
	sp.bytes = append(sp.bytes[:0], make([]int, shares)...)
	sp.count = append(sp.count[:0], make([]int, shares)...)
}

// add notes the next item: its share and encoded length.
func (sp *splitter) add(slot, size int) {
	sp.slot = append(sp.slot, slot)
	sp.size = append(sp.size, size)
	sp.bytes[slot] += size
	sp.count[slot]++
}

// fill copies the items of body, in order, into new bodies of the shares
// add sized.
func (sp *splitter) fill(shares []abi.Batch, body []byte) {
	for j, n := range sp.count {
		if n > 0 {
			shares[j] = abi.Batch{N: n, Body: make([]byte, sp.bytes[j])}
		}
		sp.bytes[j] = 0
	}
	off := 0
	for k, slot := range sp.slot {
		end := off + sp.size[k]
		sp.bytes[slot] += copy(shares[slot].Body[sp.bytes[slot]:], body[off:end])
		off = end
	}
}

// shareIndex is the slot of a destination among a node's shares: the
// partition for a partitioned sink, else the worker.
func shareIndex(k share, r plan.Route) int {
	if r == plan.RoutePart {
		return k.part
	}
	return k.worker
}

// maxMessage bounds the bytes of items in one message, well under NATS's
// default 1 MiB payload limit; bigger shares go out in several messages.
const maxMessage = 256 << 10

// send hands a share of items to its destination and leaves the share
// empty for more (the message keeps its buffer).
func (w *worker) send(i int, epoch uint64, k share, s *abi.Batch) error {
	if s.N == 0 {
		return nil
	}
	m := transport.Message{Node: i, Kind: transport.Data, Epoch: epoch, Part: k.part, Batch: *s}
	*s = abi.Batch{}
	return w.ep.Send(k.worker, m)
}

// Why items without a key cannot go on.
const (
	errNoKeyStateful = "got an item without a key: stateful steps need a keyed stream (use key_on first)"
	errNoKeySink     = "got an item without a key: a partitioned sink needs a keyed stream"
)

func (w *worker) destination(i int, r plan.Route, item *abi.Item, total int) (share, error) {
	switch r {
	case plan.RouteSpread:
		w.spread++
		return share{worker: w.spread % total}, nil
	case plan.RouteKey:
		if !item.HasKey {
			return share{}, w.keyError(w.plan.Nodes[i].Step(), nil, errNoKeyStateful)
		}
		return share{worker: KeyWorker(item.Key, total)}, nil
	}
	owners := w.nodes[i].owners
	if len(owners) == 1 {
		return share{worker: owners[0]}, nil
	}
	if !item.HasKey {
		return share{}, w.keyError(w.plan.Nodes[i].Step(), nil, errNoKeySink)
	}
	part := int(xxhash.Sum64(item.Key) % uint64(len(owners)))
	return share{worker: owners[part], part: part}, nil
}

// KeyWorker is the worker that owns key among total workers: the same on
// every process, machine and release (xxhash64 of the key's bytes).
func KeyWorker(key []byte, total int) int { return int(xxhash.Sum64(key) % uint64(total)) }
