package connectors

import (
	"fmt"
	"slices"
	"sync"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// MemoryPart is the name of a memory source's one partition.
const MemoryPart = "memory"

// NewMemorySource returns a source of the given items (values in wire
// form, unkeyed) with one partition, MemoryPart, handing out at most
// batchSize items per Next (batchSize < 1: no limit but Next's). Its
// resume state is the index of the next item.
func NewMemorySource(items [][]byte, batchSize int) PartitionedSource {
	return &memorySource{items: items, batch: batchSize}
}

type memorySource struct {
	items [][]byte
	batch int
}

// Parts returns MemoryPart.
func (s *memorySource) Parts() ([]string, error) { return []string{MemoryPart}, nil }

// Open starts at the resume index.
func (s *memorySource) Open(part string, resume []byte) (SourcePart, error) {
	if part != MemoryPart {
		return nil, fmt.Errorf("%w %q", ErrUnknownPart, part)
	}
	next, err := decodeOffset(part, resume, int64(len(s.items)))
	if err != nil {
		return nil, err
	}
	return &memoryPart{s: s, next: int(next)}, nil
}

// memoryPart is the open memory partition.
type memoryPart struct {
	s    *memorySource
	next int
}

// Next appends up to max items (and up to the batch size).
func (p *memoryPart) Next(b *abi.Batch, maxItems int) (bool, error) {
	n := len(p.s.items) - p.next
	n = min(n, max(maxItems, 1))
	if p.s.batch > 0 {
		n = min(n, p.s.batch)
	}
	for _, v := range p.s.items[p.next : p.next+n] {
		b.Append(nil, false, v)
	}
	p.next += n
	return p.next == len(p.s.items), nil
}

// Snapshot returns the index of the next item.
func (p *memoryPart) Snapshot() []byte { return encodeOffset(int64(p.next)) }

// Close does nothing.
func (p *memoryPart) Close() error { return nil }

// Capture is a DynamicSink that keeps a copy of every item's value written
// by any worker, for tests. The zero value is ready to use.
type Capture struct {
	mu struct {
		sync.Mutex
		items [][]byte
	}
}

// Open returns a worker's handle on the capture.
func (c *Capture) Open(worker, workers int) (SinkPart, error) { return capturePart{c}, nil }

// Items returns the values captured so far, in the order of the writes
// (items of different workers interleave by batch).
func (c *Capture) Items() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.mu.items)
}

// capturePart is one worker's handle on a Capture.
type capturePart struct{ c *Capture }

// Write copies the batch's values.
func (p capturePart) Write(b abi.Batch) error {
	var vals [][]byte
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		vals = append(vals, append([]byte{}, item.Value...))
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("connectors: capture: %w", err)
	}
	p.c.mu.Lock()
	p.c.mu.items = append(p.c.mu.items, vals...)
	p.c.mu.Unlock()
	return nil
}

// Snapshot returns nil.
func (p capturePart) Snapshot() []byte { return nil }

// Close does nothing.
func (p capturePart) Close() error { return nil }
