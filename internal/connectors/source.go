package connectors

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/bxwasm/bxwasm/internal/abi"
)

// SourcePart is an open input partition, polled by one goroutine.
type SourcePart interface {
	// Next appends up to max items to b and reports whether the
	// partition ended. It may append none when no item is ready (stdin
	// waits a few milliseconds for one first), so a quiet input does not
	// hold up its worker. Items are unkeyed; for line sources a value is
	// a line without its "\n" or "\r\n".
	Next(b *abi.Batch, max int) (eof bool, err error)
	// Snapshot returns the state to resume from after the items Next
	// returned so far, or nil if the partition cannot resume.
	Snapshot() []byte
	// Close releases the partition.
	Close() error
}

// PartitionedSource is an input with named partitions, each read by one
// worker.
type PartitionedSource interface {
	// Parts lists the partitions' names.
	Parts() ([]string, error)
	// Open opens a partition, continuing after resume (nil: from the
	// start).
	Open(part string, resume []byte) (SourcePart, error)
}

// ErrNoMatch is returned when a glob matches no file.
var ErrNoMatch = errors.New("connectors: no file matches")

// ErrNotHost is returned for a connector kind the host does not implement.
var ErrNotHost = errors.New("connectors: not a host connector")

// NewSource creates the host source of an input step. ConnFile reads the
// lines of one file (the partition is the resolved path); ConnDir reads
// the lines of every file matching the glob arg, one partition per file in
// sorted order; ConnStdin reads the lines of stdin, one partition "stdin".
// Refused paths, missing files and globs matching nothing are errors here.
func NewSource(kind abi.ConnKind, arg string, paths Paths, stdin io.Reader) (PartitionedSource, error) {
	switch kind {
	case abi.ConnFile:
		path, err := inputFile(arg, paths)
		if err != nil {
			return nil, err
		}
		return &fileSource{parts: []string{path}}, nil
	case abi.ConnDir:
		parts, err := globFiles(arg, paths)
		if err != nil {
			return nil, err
		}
		return &fileSource{parts: parts}, nil
	case abi.ConnStdin:
		if stdin == nil {
			return nil, errors.New("connectors: stdin source without a standard input")
		}
		return &stdinSource{r: stdin}, nil
	}
	return nil, fmt.Errorf("%w: %s source", ErrNotHost, kind)
}

// inputFile resolves the path of an input file and checks that it is a
// file that exists.
func inputFile(arg string, paths Paths) (string, error) {
	path, err := paths.Resolve(arg)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("connectors: input file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("connectors: input %s is not a regular file", path)
	}
	return path, nil
}

// globFiles returns the resolved regular files matching the glob pattern.
func globFiles(pattern string, paths Paths) ([]string, error) {
	abs, err := paths.abs(pattern)
	if err != nil {
		return nil, err
	}
	matches, err := filepath.Glob(abs)
	if err != nil {
		return nil, fmt.Errorf("connectors: glob %s: %w", pattern, err)
	}
	var files []string
	for _, m := range matches {
		if st, err := os.Stat(m); err != nil || !st.Mode().IsRegular() {
			continue
		}
		path, err := paths.Resolve(m)
		if err != nil {
			return nil, err
		}
		files = append(files, path)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w %s (looked for %s)", ErrNoMatch, pattern, abs)
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// fileSource reads lines of files, one partition per file.
type fileSource struct{ parts []string }

// Parts returns the files' resolved paths.
func (s *fileSource) Parts() ([]string, error) { return s.parts, nil }

// Open opens a file and seeks to the resume offset.
func (s *fileSource) Open(part string, resume []byte) (SourcePart, error) {
	if !slices.Contains(s.parts, part) {
		return nil, fmt.Errorf("%w %q", ErrUnknownPart, part)
	}
	f, err := os.Open(part)
	if err != nil {
		return nil, fmt.Errorf("connectors: input file: %w", err)
	}
	off, err := seekResume(f, part, resume)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &filePart{f: f, lines: newLineReader(part, f, off)}, nil
}

// seekResume moves f to the resume offset and returns it.
func seekResume(f *os.File, part string, resume []byte) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("connectors: input file: %w", err)
	}
	off, err := decodeOffset(part, resume, st.Size())
	if err != nil {
		return 0, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, fmt.Errorf("connectors: input file: %w", err)
	}
	return off, nil
}

// filePart is an open file partition.
type filePart struct {
	f     *os.File
	lines *lineReader
}

// Next appends up to max lines.
func (p *filePart) Next(b *abi.Batch, max int) (bool, error) { return p.lines.next(b, max) }

// Snapshot returns the byte offset after the last line returned.
func (p *filePart) Snapshot() []byte { return encodeOffset(p.lines.off) }

// Close closes the file.
func (p *filePart) Close() error { return p.f.Close() }
