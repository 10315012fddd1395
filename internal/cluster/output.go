package cluster

import (
	"bytes"
	"io"
	"sync"
)

// maxPartialLine bounds how much of a line without a newline a lineWriter
// holds before it writes it out anyway.
const maxPartialLine = 64 << 10

// syncWriter serializes writes to w with a lock shared with other writers.
type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

// Write writes p to w under the lock; errors are dropped so that a broken
// output does not break the child.
func (s *syncWriter) Write(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Write(p)
}

// lineWriter passes whole lines to dst, so that lines of several children
// never interleave mid-line. It is written by one goroutine at a time.
type lineWriter struct {
	dst *syncWriter
	buf []byte
}

// Write implements io.Writer; it never fails.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		l.dst.Write(l.buf[:i+1])
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	if len(l.buf) > maxPartialLine {
		l.flush()
	}
	return len(p), nil
}

// flush writes out what is left of the last line.
func (l *lineWriter) flush() {
	if len(l.buf) > 0 {
		l.dst.Write(l.buf)
		l.buf = l.buf[:0]
	}
}
