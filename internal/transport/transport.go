// Package transport moves messages between workers: batches of items for
// exchanging steps and frontier promises. Channels are FIFO per sender and
// receiver, so a frontier always arrives after the data sent before it.
//
// Sends never block; instead senders watch InFlight, the bytes they sent that
// receivers have not consumed yet, and stop reading their sources while it
// is over their credit. Receivers report consumption with Consumed. This is
// credit-based flow control: a slow worker slows its senders, and nothing is
// ever dropped.
//
// Local connects the workers of one process through memory; NATS connects
// the workers of many processes, keeping traffic between two workers of the
// same process in memory.
package transport

import (
	"errors"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// ErrClosed is returned by Send after the transport is closed.
var ErrClosed = errors.New("transport: closed")

// Kind is what a message carries.
type Kind uint8

const (
	// Data carries a batch of items of one epoch.
	Data Kind = iota + 1
	// Frontier promises no more data below Epoch for Node from this sender.
	Frontier
)

// Message is one unit of exchange between workers.
type Message struct {
	From  int // global index of the sending worker
	Node  int // the plan node it is for
	Kind  Kind
	Epoch uint64    // Data: the items' epoch; Frontier: the frontier
	Part  int       // Data for a partitioned sink: the partition index
	Batch abi.Batch // Data: owned by the receiver once sent
}

// Size is what the message counts against the sender's credit.
func (m *Message) Size() int { return len(m.Batch.Body) + 64 }

// Endpoint is one worker's side of the transport. It is used by the one
// goroutine that owns the worker, except Ready, which may be waited on.
type Endpoint interface {
	// Send queues m for worker to; it never blocks.
	Send(to int, m Message) error
	// Receive appends the messages that have arrived to buf.
	Receive(buf []Message) []Message
	// Ready is signalled when messages or credit may have arrived.
	Ready() <-chan struct{}
	// Consumed returns size bytes of credit to the worker from.
	Consumed(from int, size int)
	// InFlight is the number of bytes this endpoint sent that receivers
	// have not consumed yet.
	InFlight() int64
	// InFlightTo is the part of InFlight sent to worker to: how much work
	// from this endpoint that worker still has ahead of it.
	InFlightTo(to int) int64
}
