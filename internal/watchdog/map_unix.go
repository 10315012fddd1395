//go:build unix

package watchdog

import (
	"fmt"
	"os"
	"syscall"
)

// mapTable maps size bytes of f, shared with every process that maps it.
func mapTable(f *os.File, size int) (*Table, error) {
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("watchdog: mapping the table: %w", err)
	}
	return &Table{mem: mem, file: f, unmap: func() error { return syscall.Munmap(mem) }}, nil
}
