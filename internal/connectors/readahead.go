package connectors

import (
	"sync"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// aheadBatches is how many batches a file partition reads ahead of its
// worker, besides the one it is reading: enough to keep the reading off
// the worker's path, few enough that memory stays a few batches.
const aheadBatches = 2

// readAhead reads a file partition's lines in its own goroutine, batches
// ahead of the worker that polls it, so the worker spends its time on the
// items rather than on reading and framing them (with one file read by one
// worker, that worker feeds every other).
//
// The position it reports is that of the last line handed out, never of
// the lines read ahead, so a snapshot resumes exactly after what the
// worker emitted.
type readAhead struct {
	lines *lineReader // owned by the goroutine once it started
	ready chan *chunk // batches read, in order
	free  chan *chunk // handed-out chunks, for reuse
	stop  chan struct{}
	done  sync.WaitGroup
	once  sync.Once

	started bool
	cur     *chunk // the chunk being handed out, if not all of it yet
	last    *chunk // the chunk that ended the stream, once handed out
	off     int64  // the position after the last line handed out
	crc     uint32 // the CRC-32C of the bytes up to off
}

// chunk is a batch of lines read ahead, with the position after each line
// so that it can be handed out in parts.
type chunk struct {
	batch abi.Batch
	ends  []lineEnd
	taken int // lines handed out
	eof   bool
	err   error
}

// lineEnd is where a line of a chunk ends: in the batch's body and in the
// file.
type lineEnd struct {
	body int
	off  int64
	crc  uint32
}

func newReadAhead(lines *lineReader) *readAhead {
	return &readAhead{lines: lines, off: lines.off, crc: lines.crc,
		ready: make(chan *chunk, aheadBatches), free: make(chan *chunk, aheadBatches+2), stop: make(chan struct{})}
}

// next appends up to max lines to b and reports whether the partition
// ended. The first call starts the reading goroutine, with max as the
// size of the batches it reads; a later, smaller max hands a batch out in
// parts.
func (r *readAhead) next(b *abi.Batch, max int) (bool, error) {
	if !r.started {
		r.started = true
		r.done.Add(1)
		go r.read(max)
	}
	if r.last != nil {
		return r.last.eof, r.last.err
	}
	if r.cur == nil {
		r.cur = <-r.ready
	}
	c := r.cur
	n := min(max, len(c.ends)-c.taken)
	if max <= 0 {
		n = len(c.ends) - c.taken
	}
	if n > 0 {
		from := 0
		if c.taken > 0 {
			from = c.ends[c.taken-1].body
		}
		end := c.ends[c.taken+n-1]
		b.Body = append(b.Body, c.batch.Body[from:end.body]...)
		b.N += n
		c.taken += n
		r.off, r.crc = end.off, end.crc
	}
	if c.taken < len(c.ends) {
		return false, nil
	}
	r.cur = nil
	if c.eof || c.err != nil {
		r.last = c
		return c.eof, c.err
	}
	select {
	case r.free <- c:
	default:
	}
	return false, nil
}

// read is the reading goroutine: it fills chunks of up to max lines until
// the stream ends, fails, or close stops it.
func (r *readAhead) read(max int) {
	defer r.done.Done()
	for {
		var c *chunk
		select {
		case c = <-r.free:
			c.batch.Reset()
			c.ends, c.taken = c.ends[:0], 0
		default:
			c = &chunk{}
		}
		c.eof, c.err = r.fill(c, max)
		select {
		case r.ready <- c:
		case <-r.stop:
			return
		}
		if c.eof || c.err != nil {
			return
		}
	}
}

// fill reads up to max lines (at least one, unless the stream ended) into
// c, noting where each ends.
func (r *readAhead) fill(c *chunk, max int) (bool, error) {
	l := r.lines
	return l.read(&c.batch, max, func() {
		c.ends = append(c.ends, lineEnd{body: len(c.batch.Body), off: l.off, crc: l.crc})
	})
}

// close stops the reading goroutine and waits for it to end, so the file
// can be closed under it. Closing again does nothing.
func (r *readAhead) close() {
	r.once.Do(func() { close(r.stop) })
	r.done.Wait()
}
