package guest

import (
	"io"
	"strings"
	"sync"
)

// lockedWriter serializes writes from many instances into one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newLockedWriter(w io.Writer) *lockedWriter {
	if w == nil {
		w = io.Discard
	}
	return &lockedWriter{w: w}
}

// Write writes p under the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tailSize is how much of a guest's stderr an instance remembers for a
// TrapError.
const tailSize = 16 << 10

// reportSize bounds the crash report TrapError.Error quotes.
const reportSize = 4 << 10

// tailWriter passes writes through and remembers the last tailSize bytes,
// so a crash report can quote what the guest printed before dying.
type tailWriter struct {
	mu   sync.Mutex
	next io.Writer
	buf  []byte
}

// Write records p and forwards it. A failing destination does not fail the
// guest's write: the guest cannot do anything useful about it.
func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.mu.Unlock()
	_, _ = t.next.Write(p)
	return len(p), nil
}

// Tail returns the last bytes written.
func (t *tailWriter) Tail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// crashMarkers start the crash reports of guest runtimes (Go's panic and
// fatal error).
var crashMarkers = []string{"panic: ", "fatal error: "}

// crashReport picks what is worth quoting from a guest's stderr tail: from
// the last line starting a crash report through the first goroutine's
// stack (later goroutines are runtime noise), or else the last bytes.
func crashReport(tail string) string {
	start := -1
	for _, m := range crashMarkers {
		if strings.HasPrefix(tail, m) {
			start = max(start, 0)
		}
		if i := strings.LastIndex(tail, "\n"+m); i >= 0 {
			start = max(start, i+1)
		}
	}
	if start < 0 {
		return lastBytes(tail, reportSize)
	}
	r := tail[start:]
	if first := strings.Index(r, "\ngoroutine "); first >= 0 {
		if next := strings.Index(r[first+1:], "\n\ngoroutine "); next >= 0 {
			r = r[:first+1+next]
		}
	}
	return firstBytes(r, reportSize)
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func firstBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
