package bx

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Source is where an Input step gets its items: a connector the host runs
// (FileSource, DirSource, StdinSource) or the user's code
// (PartitionedSource, DynamicInput, TestingSource).
type Source[T any] interface {
	conn() (abi.ConnKind, string)
	// runtime returns what runs the source in the guest, nil for host
	// connectors.
	runtime(st *step, c *itemCodec[T]) *partsRT
}

// hostConn is a source or sink the host implements; its items are lines
// (Stream[string]).
type hostConn struct {
	kind abi.ConnKind
	arg  string
}

func (s hostConn) conn() (abi.ConnKind, string)               { return s.kind, s.arg }
func (s hostConn) runtime(*step, *itemCodec[string]) *partsRT { return nil }

// FileSource reads the lines of the file at path (without their newline),
// one partition. The host does the reading.
func FileSource(path string) Source[string] { return hostConn{abi.ConnFile, path} }

// DirSource reads the lines of every file matching glob, one partition per
// file. The host does the reading.
func DirSource(glob string) Source[string] { return hostConn{abi.ConnDir, glob} }

// StdinSource reads the lines of the host's standard input, one partition.
func StdinSource() Source[string] { return hostConn{abi.ConnStdin, ""} }

// StatefulSourcePartition is one partition of a FixedPartitionedSource.
type StatefulSourcePartition[T, S any] interface {
	// NextBatch returns the next items. It returns io.EOF, possibly with a
	// last batch, when the partition is done; any other error fails the
	// flow.
	NextBatch() ([]T, error)
	// NextAwake says when to call NextBatch next; ok false means "as soon
	// as the host likes".
	NextAwake() (at time.Time, ok bool)
	// Snapshot returns the state to resume the partition from.
	Snapshot() S
	// Close releases the partition.
	Close()
}

// FixedPartitionedSource is a source with a fixed set of named
// partitions, each read by one worker, resumable from its snapshot.
type FixedPartitionedSource[T, S any] interface {
	// ListParts lists the partitions this worker can reach.
	ListParts() []string
	// BuildPart opens a partition, from resume when the flow resumes.
	BuildPart(stepID, forPart string, resume *S) StatefulSourcePartition[T, S]
}

// StatelessSourcePartition is a DynamicSource's instance on one worker.
type StatelessSourcePartition[T any] interface {
	// NextBatch returns the next items, or io.EOF (possibly with a last
	// batch) when the instance is done.
	NextBatch() ([]T, error)
	// NextAwake says when to call NextBatch next, if it matters.
	NextAwake() (at time.Time, ok bool)
	// Close releases the instance.
	Close()
}

// DynamicSource is a source with one instance per worker and no resume
// state.
type DynamicSource[T any] interface {
	// Build makes the instance of worker workerIndex of workerCount.
	Build(stepID string, workerIndex, workerCount int) StatelessSourcePartition[T]
}

// PartitionedSource adapts a FixedPartitionedSource for Input.
func PartitionedSource[T, S any](s FixedPartitionedSource[T, S]) Source[T] {
	return partitionedSource[T, S]{s}
}

type partitionedSource[T, S any] struct{ s FixedPartitionedSource[T, S] }

func (partitionedSource[T, S]) conn() (abi.ConnKind, string) { return abi.ConnGuestPartitioned, "" }

func (ps partitionedSource[T, S]) runtime(st *step, c *itemCodec[T]) *partsRT {
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
		op := sourcePart(st, c, q.Part, p)
		op.snap = func(dst []byte) ([]byte, error) { return sc.enc(dst, p.Snapshot()) }
		return op, nil
	}
	return rt
}

// DynamicInput adapts a DynamicSource for Input.
func DynamicInput[T any](s DynamicSource[T]) Source[T] { return dynamicSource[T]{s} }

type dynamicSource[T any] struct{ s DynamicSource[T] }

func (dynamicSource[T]) conn() (abi.ConnKind, string) { return abi.ConnGuestDynamic, "" }

func (ds dynamicSource[T]) runtime(st *step, c *itemCodec[T]) *partsRT {
	rt := newPartsRT(st)
	rt.build = func(q *abi.BuildPartRequest) (*openPart, error) {
		enterPart(st, "build", "")
		p := ds.s.Build(st.info.ID, int(q.Worker), int(q.Workers))
		if p == nil {
			return nil, fmt.Errorf("%w: build of step %s returned nil", ErrNil, st.info.ID)
		}
		return sourcePart(st, c, q.Part, p), nil
	}
	return rt
}

// sourcePart wraps a built source partition for the dispatcher.
func sourcePart[T any](st *step, c *itemCodec[T], name string, p StatelessSourcePartition[T]) *openPart {
	return &openPart{
		close: p.Close,
		next: func(out *abi.NextBatch) error {
			enterPart(st, "next_batch", name)
			items, err := p.NextBatch()
			out.EOF = errors.Is(err, io.EOF)
			if err != nil && !out.EOF {
				return fmt.Errorf("next_batch of partition %q in step %s: %w", name, st.info.ID, err)
			}
			if err := c.encodeSlice(items, &out.Batch); err != nil {
				return fmt.Errorf("encoding an item of step %s: %w", st.info.ID, err)
			}
			if !out.EOF {
				enterPart(st, "next_awake", name)
				if at, ok := p.NextAwake(); ok {
					out.Awake = unixNanos(at)
				}
			}
			return nil
		},
	}
}

// TestingSource emits items in batches of batchSize (at least 1) from one
// partition named "iterable"; its resume state is the index of the next
// item. It is Bytewax's TestingSource, for tests and examples.
func TestingSource[T any](items []T, batchSize int) Source[T] {
	return PartitionedSource[T, int](testingSource[T]{items: items, batch: max(batchSize, 1)})
}

type testingSource[T any] struct {
	items []T
	batch int
}

func (testingSource[T]) ListParts() []string { return []string{"iterable"} }

func (s testingSource[T]) BuildPart(_, _ string, resume *int) StatefulSourcePartition[T, int] {
	p := &testingPart[T]{testingSource: s}
	if resume != nil {
		p.next = min(max(*resume, 0), len(s.items))
	}
	return p
}

type testingPart[T any] struct {
	testingSource[T]
	next int
}

func (p *testingPart[T]) NextBatch() ([]T, error) {
	end := min(p.next+p.batch, len(p.items))
	out := p.items[p.next:end:end]
	p.next = end
	if end == len(p.items) {
		return out, io.EOF
	}
	return out, nil
}

func (p *testingPart[T]) NextAwake() (time.Time, bool) { return time.Time{}, false }
func (p *testingPart[T]) Snapshot() int                { return p.next }
func (p *testingPart[T]) Close()                       {}
