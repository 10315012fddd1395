package engine

import "math"

// EOF is the frontier of a sender that will send nothing more.
const EOF = math.MaxUint64

// Stop is the frontier of a sender that stopped early (a graceful stop):
// it sends nothing more in this execution, but its inputs did not end, so
// stateful steps get no on_eof. Once every sender has stopped, every epoch
// any of them announced is closed.
const Stop = EOF - 1

// event is what an aligner hands its node, in order: data to process (at
// its epoch) or the close of every epoch up to and including Closed.
type event[T any] struct {
	Data   T
	Epoch  uint64
	Close  bool   // true: epochs <= Closed are complete
	Closed uint64 // an epoch, or Stop or EOF once every sender has
}

type pending[T any] struct {
	epoch uint64
	data  T
}

// aligner is the epoch bookkeeping of one exchanging node on one worker. It
// is a pure state machine: no goroutines, no clocks.
//
// Every sender promises, with a frontier f, that it will send no more data
// of epochs below f; senders' messages arrive in order. The node's frontier
// is the least of the senders'. Data of epoch e may be processed once the
// frontier reaches e (every earlier epoch is complete everywhere); data that
// arrives earlier waits. When the frontier passes e, epoch e is closed:
// that is where stateful steps snapshot and sinks flush.
//
// Between two closes the aligner lets through data of one epoch only, even
// when the frontier jumps over several epochs at once, so that a snapshot
// taken at a close holds the changes of exactly one epoch.
type aligner[T any] struct {
	frontiers []uint64
	stash     [][]pending[T]
	frontier  uint64
	closed    uint64 // the last epoch closed
	seen      uint64 // the latest epoch of data let through
	reached   uint64 // the highest frontier below Stop any sender announced
	out       []event[T]
}

// newAligner is an aligner of senders whose first epoch is start.
func newAligner[T any](senders int, start uint64) *aligner[T] {
	return &aligner[T]{frontiers: make([]uint64, senders), stash: make([][]pending[T], senders),
		closed: start - 1, seen: start - 1, reached: start - 1}
}

// Frontier is the node's frontier: data below it is all processed.
func (a *aligner[T]) Frontier() uint64 { return a.frontier }

// Data takes data of an epoch from a sender and returns what can be
// processed now. The returned slice is reused by the next call.
func (a *aligner[T]) Data(sender int, epoch uint64, data T) []event[T] {
	a.out = a.out[:0]
	if epoch <= a.frontier && len(a.stash[sender]) == 0 {
		a.seen = max(a.seen, epoch)
		a.out = append(a.out, event[T]{Data: data, Epoch: epoch})
		return a.out
	}
	a.stash[sender] = append(a.stash[sender], pending[T]{epoch, data})
	return a.out
}

// Advance takes a sender's new frontier and returns, in order, the stashed
// data of epochs now complete, each epoch's data after the close of the
// epochs before it, the close of the complete epochs, and the stashed data
// of the new frontier's epoch. Once every sender has stopped or ended, the
// close of the last epoch (see last) comes before the close of Stop or EOF.
func (a *aligner[T]) Advance(sender int, f uint64) []event[T] {
	a.out = a.out[:0]
	if f <= a.frontiers[sender] {
		return a.out
	}
	a.frontiers[sender] = f
	if f < Stop {
		a.reached = max(a.reached, f)
	}
	next := a.frontiers[0]
	for _, g := range a.frontiers[1:] {
		next = min(next, g)
	}
	if next <= a.frontier {
		return a.out
	}
	a.frontier = next
	for {
		e, ok := a.earliest()
		if !ok || e >= next {
			break
		}
		a.closeTo(e - 1)
		a.release(e)
	}
	if next >= Stop {
		a.closeTo(a.last(next))
		a.out = append(a.out, event[T]{Close: true, Closed: next})
		return a.out
	}
	a.closeTo(next - 1)
	a.release(next)
	return a.out
}

// last is the last epoch to close once every sender has stopped or ended
// (next is Stop or EOF). At a stop it is every epoch a sender was in, even
// when none of its data came here: the sender read that epoch, and every
// worker must close the same epochs for a resume to start after all of
// them. At the end it is the latest epoch of data let through; on_eof's
// changes belong to the epoch after it.
func (a *aligner[T]) last(next uint64) uint64 {
	if next == Stop {
		return max(a.seen, a.reached)
	}
	return a.seen
}

// closeTo closes every epoch up to c not closed yet.
func (a *aligner[T]) closeTo(c uint64) {
	if c > a.closed {
		a.closed = c
		a.out = append(a.out, event[T]{Close: true, Closed: c})
	}
}

// earliest is the earliest epoch of stashed data.
func (a *aligner[T]) earliest() (uint64, bool) {
	var e uint64
	found := false
	for _, q := range a.stash {
		if len(q) > 0 && (!found || q[0].epoch < e) {
			e, found = q[0].epoch, true
		}
	}
	return e, found
}

// release moves stashed data of epochs up to e to the output, sender by
// sender, keeping each sender's order.
func (a *aligner[T]) release(e uint64) {
	for s, q := range a.stash {
		n := 0
		for n < len(q) && q[n].epoch <= e {
			a.seen = max(a.seen, q[n].epoch)
			a.out = append(a.out, event[T]{Data: q[n].data, Epoch: q[n].epoch})
			n++
		}
		if n > 0 {
			a.stash[s] = append(q[:0], q[n:]...)
		}
	}
}

// Stashed is the number of data messages waiting for the frontier.
func (a *aligner[T]) Stashed() int {
	n := 0
	for _, q := range a.stash {
		n += len(q)
	}
	return n
}
