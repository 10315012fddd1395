package engine

import "math"

// EOF is the frontier of a sender that will send nothing more.
const EOF = math.MaxUint64

// event is what an aligner hands its node, in order: data to process (at
// its epoch) or the close of every epoch up to and including Closed.
type event[T any] struct {
	Data   T
	Epoch  uint64
	Close  bool   // true: epochs <= Closed are complete
	Closed uint64 // EOF-1 ... or EOF itself when every sender ended
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
type aligner[T any] struct {
	frontiers []uint64
	stash     [][]pending[T]
	frontier  uint64
	out       []event[T]
}

func newAligner[T any](senders int) *aligner[T] {
	return &aligner[T]{frontiers: make([]uint64, senders), stash: make([][]pending[T], senders)}
}

// Frontier is the node's frontier: data below it is all processed.
func (a *aligner[T]) Frontier() uint64 { return a.frontier }

// Data takes data of an epoch from a sender and returns what can be
// processed now. The returned slice is reused by the next call.
func (a *aligner[T]) Data(sender int, epoch uint64, data T) []event[T] {
	a.out = a.out[:0]
	if epoch <= a.frontier && len(a.stash[sender]) == 0 {
		a.out = append(a.out, event[T]{Data: data, Epoch: epoch})
		return a.out
	}
	a.stash[sender] = append(a.stash[sender], pending[T]{epoch, data})
	return a.out
}

// Advance takes a sender's new frontier and returns, in order, the stashed
// data of epochs now complete, the close of those epochs, and the stashed
// data of the new frontier's epoch.
func (a *aligner[T]) Advance(sender int, f uint64) []event[T] {
	a.out = a.out[:0]
	if f <= a.frontiers[sender] {
		return a.out
	}
	a.frontiers[sender] = f
	next := a.frontiers[0]
	for _, g := range a.frontiers[1:] {
		next = min(next, g)
	}
	if next <= a.frontier {
		return a.out
	}
	old := a.frontier
	a.frontier = next
	a.release(func(e uint64) bool { return e < next })
	if old > 0 || next == EOF {
		a.out = append(a.out, event[T]{Close: true, Closed: closedBelow(next)})
	}
	a.release(func(e uint64) bool { return e <= next })
	return a.out
}

func closedBelow(f uint64) uint64 {
	if f == EOF {
		return EOF
	}
	return f - 1
}

// release moves stashed data whose epoch passes ok to the output, sender by
// sender, keeping each sender's order.
func (a *aligner[T]) release(ok func(uint64) bool) {
	for s, q := range a.stash {
		n := 0
		for n < len(q) && ok(q[n].epoch) {
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
