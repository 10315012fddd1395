package connectors

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// SinkPart is an open output partition, written by one goroutine.
type SinkPart interface {
	// Write writes a batch: for line sinks each item's value and "\n".
	Write(b abi.Batch) error
	// Snapshot returns the state to resume from after what was written so
	// far, or nil if the partition has none.
	Snapshot() []byte
	// Close flushes and releases the partition.
	Close() error
}

// PartitionedSink is an output with named partitions, each written by one
// worker.
type PartitionedSink interface {
	// Parts lists the partitions' names.
	Parts() ([]string, error)
	// Open opens a partition, continuing after resume (nil: from the
	// start).
	Open(part string, resume []byte) (SinkPart, error)
}

// DynamicSink is an output every worker writes to.
type DynamicSink interface {
	// Open returns worker's part of the sink.
	Open(worker, workers int) (SinkPart, error)
}

// NewSink creates the host sink of an output step: a DynamicSink for
// ConnStdout, whose workers share stdout and write whole batches at once,
// or a PartitionedSink for ConnFile, with one partition named by the path
// as the flow gave it (so its offset stays valid when the working directory
// moves), whose parent directory must exist.
func NewSink(kind abi.ConnKind, arg string, paths Paths, stdout io.Writer) (any, error) {
	switch kind {
	case abi.ConnStdout:
		if stdout == nil {
			return nil, errors.New("connectors: stdout sink without a standard output")
		}
		return &stdoutSink{w: bufio.NewWriterSize(stdout, 64<<10)}, nil
	case abi.ConnFile:
		path, err := outputFile(arg, paths)
		if err != nil {
			return nil, err
		}
		return &fileSink{name: filepath.Clean(arg), path: path}, nil
	}
	return nil, fmt.Errorf("%w: %s sink", ErrNotHost, kind)
}

// outputFile resolves the path of an output file and checks that its
// directory exists and that it is not a directory itself.
func outputFile(arg string, paths Paths) (string, error) {
	path, err := paths.Resolve(arg)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("connectors: output file %s: directory %s does not exist", arg, dir)
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return "", fmt.Errorf("connectors: output %s is not a regular file", path)
	}
	return path, nil
}

// fileSink writes lines into one file: path, resolved, named name.
type fileSink struct{ name, path string }

// Parts returns the file's name.
func (s *fileSink) Parts() ([]string, error) { return []string{s.name}, nil }

// Open creates or opens the file and truncates it to the resume offset
// (nil: to empty), so lines written after the snapshot are written again
// exactly once.
func (s *fileSink) Open(part string, resume []byte) (SinkPart, error) {
	if part != s.name {
		return nil, fmt.Errorf("%w %q", ErrUnknownPart, part)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("connectors: output file: %w", err)
	}
	off, err := truncateResume(f, part, resume)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileSinkPart{f: f, w: bufio.NewWriterSize(f, 64<<10), off: off}, nil
}

// truncateResume cuts f at the resume offset and moves there.
func truncateResume(f *os.File, part string, resume []byte) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("connectors: output file: %w", err)
	}
	off, err := decodeOffset(part, resume, st.Size())
	if err != nil {
		return 0, err
	}
	if err := f.Truncate(off); err != nil {
		return 0, fmt.Errorf("connectors: output file: %w", err)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, fmt.Errorf("connectors: output file: %w", err)
	}
	return off, nil
}

// fileSinkPart is the open output file.
type fileSinkPart struct {
	f   *os.File
	w   *bufio.Writer
	off int64 // bytes written and flushed
}

// Write writes every value and a newline, then flushes.
func (p *fileSinkPart) Write(b abi.Batch) error {
	n, err := writeLines(p.w, b)
	p.off += n
	if err != nil {
		return fmt.Errorf("connectors: writing %s: %w", p.f.Name(), err)
	}
	return nil
}

// Snapshot returns the size of the file written so far.
func (p *fileSinkPart) Snapshot() []byte { return encodeOffset(p.off) }

// Close flushes and closes the file.
func (p *fileSinkPart) Close() error {
	err := p.w.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("connectors: closing %s: %w", p.f.Name(), err)
	}
	return nil
}

// writeLines writes each item's value and "\n" to w, flushes, and returns
// the bytes written.
func writeLines(w *bufio.Writer, b abi.Batch) (int64, error) {
	var n int64
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		w.Write(item.Value)
		w.WriteByte('\n')
		n += int64(len(item.Value)) + 1
	}
	err := w.Flush()
	if ierr := it.Err(); ierr != nil {
		return n, ierr
	}
	return n, err
}

// stdoutSink is standard output shared by every worker.
type stdoutSink struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// Open returns a worker's handle on stdout.
func (s *stdoutSink) Open(worker, workers int) (SinkPart, error) { return stdoutPart{s}, nil }

// stdoutPart is one worker's handle on the shared stdout.
type stdoutPart struct{ s *stdoutSink }

// Write writes the batch's lines as one block, not interleaved with
// other workers' batches.
func (p stdoutPart) Write(b abi.Batch) error {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if _, err := writeLines(p.s.w, b); err != nil {
		return fmt.Errorf("connectors: writing stdout: %w", err)
	}
	return nil
}

// Snapshot returns nil: what went to stdout cannot be taken back.
func (p stdoutPart) Snapshot() []byte { return nil }

// Close does nothing; every Write flushed.
func (p stdoutPart) Close() error { return nil }
