package connectors

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
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
// lines of one file; ConnDir reads the lines of every file matching the glob
// arg, one partition per file in sorted order; ConnStdin reads the lines of
// stdin, one partition "stdin". A file's partition is named by its path as
// the flow gave it (relative to Paths.Root when the flow's path is
// relative), so positions stay valid when the working directory moves.
// Refused paths, missing files and globs matching nothing are errors here.
func NewSource(kind abi.ConnKind, arg string, paths Paths, stdin io.Reader) (PartitionedSource, error) {
	switch kind {
	case abi.ConnFile:
		path, err := inputFile(arg, paths)
		if err != nil {
			return nil, err
		}
		return &fileSource{files: []namedFile{{name: filepath.Clean(arg), path: path}}}, nil
	case abi.ConnDir:
		files, err := globFiles(arg, paths)
		if err != nil {
			return nil, err
		}
		return &fileSource{files: files}, nil
	case abi.ConnStdin:
		if stdin == nil {
			return nil, errors.New("connectors: stdin source without a standard input")
		}
		return &stdinSource{r: stdin}, nil
	}
	return nil, fmt.Errorf("%w: %s source", ErrNotHost, kind)
}

// namedFile is a file partition: its name (the path as the flow gave it)
// and the resolved path that is opened.
type namedFile struct{ name, path string }

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

// globFiles returns the regular files matching the glob pattern, sorted by
// name: relative to Paths.Root for a relative pattern. Two names of one
// file (through symbolic links) count once.
func globFiles(pattern string, paths Paths) ([]namedFile, error) {
	abs, err := paths.abs(pattern)
	if err != nil {
		return nil, err
	}
	root, err := paths.abs(".")
	if err != nil {
		return nil, err
	}
	matches, err := filepath.Glob(abs)
	if err != nil {
		return nil, fmt.Errorf("connectors: glob %s: %w", pattern, err)
	}
	var files []namedFile
	seen := map[string]bool{}
	for _, m := range matches { // sorted
		if st, err := os.Stat(m); err != nil || !st.Mode().IsRegular() {
			continue
		}
		path, err := paths.Resolve(m)
		if err != nil {
			return nil, err
		}
		if seen[path] {
			continue
		}
		seen[path] = true
		files = append(files, namedFile{name: globName(pattern, root, m), path: path})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w %s (looked for %s)", ErrNoMatch, pattern, abs)
	}
	return files, nil
}

// globName names a match of pattern: relative to root for a relative
// pattern, else the match itself.
func globName(pattern, root, match string) string {
	if filepath.IsAbs(pattern) {
		return match
	}
	if rel, err := filepath.Rel(root, match); err == nil {
		return rel
	}
	return match
}

// fileSource reads lines of files, one partition per file.
type fileSource struct{ files []namedFile }

// Parts returns the files' names.
func (s *fileSource) Parts() ([]string, error) {
	names := make([]string, len(s.files))
	for i, f := range s.files {
		names[i] = f.name
	}
	return names, nil
}

// Open opens a file and continues at the resume position, once it checked
// that the file is the one the position was taken from (ErrSourceChanged
// if not).
func (s *fileSource) Open(part string, resume []byte) (SourcePart, error) {
	i := slices.IndexFunc(s.files, func(f namedFile) bool { return f.name == part })
	if i < 0 {
		return nil, fmt.Errorf("%w %q", ErrUnknownPart, part)
	}
	var pos filePosition
	if len(resume) > 0 {
		var err error
		if pos, err = decodePosition(part, resume); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(s.files[i].path)
	if err != nil {
		return nil, fmt.Errorf("connectors: input file: %w", err)
	}
	if err := resumeFile(f, part, pos); err != nil {
		f.Close()
		return nil, err
	}
	lines := newLineReader(part, f, pos.offset)
	lines.hash, lines.crc = true, pos.crc
	return &filePart{f: f, lines: newReadAhead(lines)}, nil
}

// filePart is an open file partition, read ahead of its worker.
type filePart struct {
	f     *os.File
	lines *readAhead
}

// Next appends up to max lines.
func (p *filePart) Next(b *abi.Batch, max int) (bool, error) { return p.lines.next(b, max) }

// Snapshot returns the position after the last line returned, with the
// file's identity: its size now and the CRC-32C of the bytes read.
func (p *filePart) Snapshot() []byte {
	pos := filePosition{offset: p.lines.off, crc: p.lines.crc, size: p.lines.off}
	if st, err := p.f.Stat(); err == nil {
		pos.size = max(st.Size(), p.lines.off)
	}
	return pos.encode()
}

// Close stops the reading and closes the file.
func (p *filePart) Close() error {
	p.lines.close()
	return p.f.Close()
}
