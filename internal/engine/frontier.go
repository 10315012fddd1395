package engine

import (
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// outFrontier is node i's promise on this worker: it will emit no more data
// of epochs below it. Inputs promise their current epoch (EOF once every
// partition they own has ended); exchanging nodes promise what their
// aligner let through.
func (w *worker) outFrontier(i int) uint64 {
	n := &w.plan.Nodes[i]
	switch {
	case n.Kind == plan.NodeInput:
		for _, s := range w.nodes[i].sources {
			if !s.eof && w.stopping {
				return Stop
			}
			if !s.eof {
				return w.epoch
			}
		}
		return EOF
	case w.plan.Exchanging(i):
		return w.nodes[i].out
	}
	return EOF
}

// announce sends every worker the new frontier of this worker's traffic
// into each exchanging node, after the data it covers. Before a stop or
// the end of its inputs it first sends the last epoch the node's origins
// were in: the receiving aligners close every epoch a sender announced, so
// every worker closes the epochs read before the stop, also those whose
// data went elsewhere, and commits them at the end (see commit).
func (w *worker) announce() error {
	for i := range w.plan.Nodes {
		if !w.plan.Exchanging(i) {
			continue
		}
		f, last := uint64(EOF), uint64(0)
		for _, o := range w.plan.Nodes[i].Origins {
			f = min(f, w.outFrontier(o))
			last = max(last, w.lastEpoch(o))
		}
		if f >= Stop && last > w.nodes[i].sent {
			if err := w.sendFrontier(i, last); err != nil {
				return err
			}
		}
		if f <= w.nodes[i].sent {
			continue
		}
		if err := w.sendFrontier(i, f); err != nil {
			return err
		}
	}
	return nil
}

// sendFrontier sends every worker frontier f of this worker's traffic into
// node i.
func (w *worker) sendFrontier(i int, f uint64) error {
	w.nodes[i].sent = f
	for to := 0; to < w.cfg.TotalWorkers; to++ {
		m := transport.Message{Node: i, Kind: transport.Frontier, Epoch: f}
		if err := w.ep.Send(to, m); err != nil {
			return err
		}
	}
	return nil
}

// lastEpoch is the latest epoch node o (an input or an exchanging node)
// emitted data of, or may have: for an exchanging node, once it stopped or
// ended.
func (w *worker) lastEpoch(o int) uint64 {
	if w.plan.Nodes[o].Kind == plan.NodeInput {
		return w.epoch
	}
	return w.nodes[o].last
}

// receive hands a message to its node's aligner and acts on what comes out.
func (w *worker) receive(m *transport.Message) error {
	st := &w.nodes[m.Node]
	if st.align == nil {
		return errProtocol(m)
	}
	var evs []event[payload]
	switch m.Kind {
	case transport.Data:
		p := payload{batch: m.Batch, part: m.Part, from: m.From, size: m.Size()}
		evs = st.align.Data(m.From, m.Epoch, p)
	case transport.Frontier:
		evs = st.align.Advance(m.From, m.Epoch)
	default:
		return errProtocol(m)
	}
	for _, ev := range evs {
		if err := w.event(m.Node, ev); err != nil {
			return err
		}
	}
	if st.out < Stop {
		st.out = st.align.Frontier()
	}
	return nil
}

func (w *worker) event(node int, ev event[payload]) error {
	if !ev.Close {
		err := w.process(node, ev.Epoch, ev.Data.part, ev.Data.batch)
		w.ep.Consumed(ev.Data.from, ev.Data.size)
		return err
	}
	st := &w.nodes[node]
	switch ev.Closed {
	case Stop:
		st.out, st.last = Stop, st.align.closed
		return nil
	case EOF:
		// What on_eof changes and emits belongs to one epoch after every
		// epoch closed here, so a resume either has all of it or none.
		tag := st.align.closed + 1
		if err := w.atEOF(node, tag); err != nil {
			return err
		}
		if err := w.closeEpoch(node, tag); err != nil {
			return err
		}
		st.out, st.last = EOF, tag
		return nil
	}
	return w.closeEpoch(node, ev.Closed)
}
