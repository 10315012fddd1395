package connectors

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// StdinPart is the name of the standard input's partition.
const StdinPart = "stdin"

// stdinWait is how long Next waits for a line of stdin before it returns
// an empty batch.
const stdinWait = 5 * time.Millisecond

// stdinChunkItems is the most lines the reading goroutine hands over at once.
const stdinChunkItems = 1024

// stdinSource reads lines of the host's standard input.
type stdinSource struct {
	mu     sync.Mutex
	r      io.Reader
	opened bool
}

// Parts returns StdinPart.
func (s *stdinSource) Parts() ([]string, error) { return []string{StdinPart}, nil }

// Open starts reading stdin, which can be done once. Standard input
// cannot be rewound, so resume is ignored and the partition has no
// snapshot: a resumed run reads whatever stdin gives it.
func (s *stdinSource) Open(part string, _ []byte) (SourcePart, error) {
	if part != StdinPart {
		return nil, fmt.Errorf("%w %q", ErrUnknownPart, part)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opened {
		return nil, errors.New("connectors: stdin can be opened once")
	}
	s.opened = true
	p := &stdinPart{ch: make(chan stdinChunk, 4), done: make(chan struct{})}
	go p.read(newLineReader(StdinPart, s.r, 0))
	return p, nil
}

// stdinChunk is lines read from stdin; err is io.EOF at the end of stdin.
type stdinChunk struct {
	b   abi.Batch
	err error
}

// stdinPart is the open stdin partition. A goroutine reads stdin so that
// Next does not block on a quiet pipe or terminal. The goroutine stops
// after Close once its read returns; a read blocked on a stdin that never
// delivers again lasts until the process exits, as nothing can interrupt it.
type stdinPart struct {
	ch   chan stdinChunk
	done chan struct{}
	once sync.Once
	it   abi.BatchIter // over the current chunk
	left int           // items of the current chunk not yet returned
	end  error         // io.EOF or the read error, once received
}

// read runs in its own goroutine and hands lines over in chunks: a chunk
// goes as soon as no further complete line is buffered, so lines are not
// held back while stdin is quiet.
func (p *stdinPart) read(lines *lineReader) {
	var b abi.Batch
	for {
		line, err := lines.readLine()
		if len(line) > 0 || err == nil {
			b.Append(nil, false, line)
		}
		if err != nil {
			p.send(stdinChunk{b: b, err: err})
			return
		}
		if b.N >= stdinChunkItems || !lineBuffered(lines) {
			if !p.send(stdinChunk{b: b}) {
				return
			}
			b = abi.Batch{}
		}
	}
}

// lineBuffered reports whether a whole line can be read without waiting.
func lineBuffered(l *lineReader) bool {
	buf, _ := l.r.Peek(l.r.Buffered())
	return bytes.IndexByte(buf, '\n') >= 0
}

func (p *stdinPart) send(c stdinChunk) bool {
	select {
	case p.ch <- c:
		return true
	case <-p.done:
		return false
	}
}

// Next appends up to max lines that are ready, waiting up to stdinWait
// for the first.
func (p *stdinPart) Next(b *abi.Batch, max int) (bool, error) {
	var item abi.Item
	n := 0
	for n < max || n == 0 {
		if p.left > 0 && p.it.Next(&item) {
			b.AppendRaw(item.Raw)
			p.left--
			n++
			continue
		}
		if p.end != nil || !p.receive(n == 0) {
			break
		}
	}
	switch {
	case p.left > 0 || p.end == nil:
		return false, nil
	case p.end == io.EOF:
		return true, nil
	case n > 0:
		return false, nil // the error comes with the next call
	}
	return false, p.end
}

// receive takes the next chunk, waiting up to stdinWait if wait is set.
func (p *stdinPart) receive(wait bool) bool {
	var c stdinChunk
	if wait {
		select {
		case c = <-p.ch:
		case <-time.After(stdinWait):
			return false
		}
	} else {
		select {
		case c = <-p.ch:
		default:
			return false
		}
	}
	p.it, p.left, p.end = c.b.Iter(), c.b.N, c.err
	return true
}

// Snapshot returns nil: stdin cannot resume.
func (p *stdinPart) Snapshot() []byte { return nil }

// Close stops the reading goroutine; the host's stdin stays open.
func (p *stdinPart) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}
