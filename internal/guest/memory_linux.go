//go:build linux

package guest

import (
	"context"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// withMemory makes instances created with ctx back their linear memory by
// one anonymous mapping of the whole memory limit, reserved but not
// committed. Memory then never moves as a guest grows: wazero's default
// copies it into a bigger Go slice on every growth, so a growing guest
// briefly costs twice its size and its old copies wait for the host's
// collector. Pages cost RAM only once the guest touches them, and the
// mapping is outside the Go heap.
func withMemory(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(mapMemory))
}

// mappedMemory is a linear memory inside a fixed mapping.
type mappedMemory struct{ mapping []byte }

func mapMemory(_, max uint64) experimental.LinearMemory {
	if max == 0 || max > 1<<32 {
		return &sliceMemory{}
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return &sliceMemory{}
	}
	return &mappedMemory{mapping: b}
}

// Reallocate returns the first size bytes of the mapping, or nil (a failed
// memory.grow) past its end.
func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.mapping)) {
		return nil
	}
	return m.mapping[:size:size]
}

// Free unmaps the memory.
func (m *mappedMemory) Free() {
	if m.mapping != nil {
		_ = syscall.Munmap(m.mapping)
		m.mapping = nil
	}
}

// sliceMemory is a linear memory in a Go slice that grows by copying, as
// wazero's own; it serves where a mapping cannot be made.
type sliceMemory struct{ buf []byte }

// Reallocate grows the slice to size bytes, keeping its contents.
func (m *sliceMemory) Reallocate(size uint64) []byte {
	if size > uint64(cap(m.buf)) {
		grown := make([]byte, size, max(size, 2*uint64(cap(m.buf))))
		copy(grown, m.buf)
		m.buf = grown
	}
	m.buf = m.buf[:size]
	return m.buf
}

// Free drops the slice.
func (m *sliceMemory) Free() { m.buf = nil }
