package bx

import (
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Sink is where an Output step writes its items: a connector the host runs
// (StdOutSink, FileSink) or the user's code (PartitionedSink, DynamicOutput).
type Sink[T any] interface {
	conn() (abi.ConnKind, string)
	// runtime returns what runs the sink in the guest, nil for host
	// connectors.
	runtime(st *step, c *itemCodec[T]) *partsRT
}

// StdOutSink writes each item as a line on the host's standard output.
func StdOutSink() Sink[string] { return hostConn{abi.ConnStdout, ""} }

// FileSink writes each item as a line of the file at path. The host does
// the writing.
func FileSink(path string) Sink[string] { return hostConn{abi.ConnFile, path} }

// StatefulSinkPartition is one partition of a FixedPartitionedSink.
type StatefulSinkPartition[V, S any] interface {
	// WriteBatch writes the values routed to this partition.
	WriteBatch(values []V)
	// Snapshot returns the state to resume the partition from.
	Snapshot() S
	// Close releases the partition.
	Close()
}

// FixedPartitionedSink is a sink with a fixed set of named partitions. The
// host routes an item to partition hash(key) mod len(parts), so the same
// key always reaches the same partition.
type FixedPartitionedSink[V, S any] interface {
	// ListParts lists the partitions this worker can reach.
	ListParts() []string
	// BuildPart opens a partition, from resume when the flow resumes.
	BuildPart(stepID, forPart string, resume *S) StatefulSinkPartition[V, S]
}

// StatelessSinkPartition is a DynamicSink's instance on one worker.
type StatelessSinkPartition[T any] interface {
	// WriteBatch writes the items this worker received.
	WriteBatch(items []T)
	// Close releases the instance.
	Close()
}

// DynamicSink is a sink with one instance per worker and no resume state.
type DynamicSink[T any] interface {
	// Build makes the instance of worker workerIndex of workerCount.
	Build(stepID string, workerIndex, workerCount int) StatelessSinkPartition[T]
}

// PartitionedSink adapts a FixedPartitionedSink for Output. Its partitions
// receive the values of the keyed stream; keys only route.
func PartitionedSink[V, S any](s FixedPartitionedSink[V, S]) Sink[KV[V]] {
	return partitionedSink[V, S]{s}
}

type partitionedSink[V, S any] struct{ s FixedPartitionedSink[V, S] }

func (partitionedSink[V, S]) conn() (abi.ConnKind, string) { return abi.ConnGuestPartitioned, "" }

func (ps partitionedSink[V, S]) runtime(st *step, c *itemCodec[KV[V]]) *partsRT {
	rt := newPartsRT(st)
	sc := valueCodecOf[S]()
	rt.list = func(int, int) []string { return ps.s.ListParts() }
	rt.build = func(q *abi.BuildPartRequest) (*openPart, error) {
		resume, err := decodeResume(sc, q, st.info.ID)
		if err != nil {
			return nil, err
		}
		enterPart(st, "build_part", q.Part)
		p := ps.s.BuildPart(st.info.ID, q.Part, resume)
		if p == nil {
			return nil, fmt.Errorf("%w: build_part of step %s returned nil for partition %q", ErrNil, st.info.ID, q.Part)
		}
		write := func(vs []KV[V]) {
			values := make([]V, len(vs))
			for i := range vs {
				values[i] = vs[i].Value
			}
			p.WriteBatch(values)
		}
		op := sinkPart(st, c, q.Part, write, p.Close)
		op.snap = func(dst []byte) ([]byte, error) { return sc.enc(dst, p.Snapshot()) }
		return op, nil
	}
	return rt
}

// DynamicOutput adapts a DynamicSink for Output.
func DynamicOutput[T any](s DynamicSink[T]) Sink[T] { return dynamicSink[T]{s} }

type dynamicSink[T any] struct{ s DynamicSink[T] }

func (dynamicSink[T]) conn() (abi.ConnKind, string) { return abi.ConnGuestDynamic, "" }

func (ds dynamicSink[T]) runtime(st *step, c *itemCodec[T]) *partsRT {
	rt := newPartsRT(st)
	rt.build = func(q *abi.BuildPartRequest) (*openPart, error) {
		enterPart(st, "build", "")
		p := ds.s.Build(st.info.ID, int(q.Worker), int(q.Workers))
		if p == nil {
			return nil, fmt.Errorf("%w: build of step %s returned nil", ErrNil, st.info.ID)
		}
		return sinkPart(st, c, q.Part, p.WriteBatch, p.Close), nil
	}
	return rt
}

// sinkPart wraps a built sink partition for the dispatcher.
func sinkPart[T any](st *step, c *itemCodec[T], name string, write func([]T), closeFn func()) *openPart {
	return &openPart{
		close: closeFn,
		write: func(b abi.Batch) error {
			items, err := c.decodeSlice(b)
			if err != nil {
				return fmt.Errorf("decoding an item for step %s: %w", st.info.ID, err)
			}
			enterPart(st, "write_batch", name)
			write(items)
			return nil
		},
	}
}
