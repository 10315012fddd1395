package kafkaconn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// aheadChunks is how many batches a partition reads ahead of its worker,
// besides the one being handed out and the fetch its client buffers.
const aheadChunks = 2

// fetchBytes bounds what a partition's client fetches at once.
const fetchBytes = 4 << 20

// sourcePart is an open partition, read ahead of its worker by a
// goroutine polling the partition's own client.
type sourcePart struct {
	tp     topicPart
	end    int64 // the offset the partition ends at, -1 with Tail
	next   int64 // the offset after the last record handed out
	cl     *kgo.Client
	cancel context.CancelFunc
	ready  chan *chunk
	done   sync.WaitGroup
	once   sync.Once
	cur    *chunk
	err    error // the reading's error, once handed out
}

// chunk is a batch of records read ahead, with where each item ends so
// that it can be handed out in parts.
type chunk struct {
	batch abi.Batch
	ends  []itemEnd
	taken int
	err   error
}

// itemEnd is where an item of a chunk ends in its body, and the offset
// after its record.
type itemEnd struct {
	body int
	next int64
}

// openPart starts reading tp at offset from.
func (s *source) openPart(tp topicPart, from, end int64) (*sourcePart, error) {
	p := &sourcePart{tp: tp, end: end, next: from, ready: make(chan *chunk, aheadChunks)}
	if p.ended() {
		return p, nil
	}
	offset := kgo.NewOffset().At(from)
	cl, err := newClient(s.conn,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{tp.topic: {tp.partition: offset}}),
		kgo.FetchMaxBytes(fetchBytes), kgo.FetchMaxPartitionBytes(fetchBytes))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cl, p.cancel = cl, cancel
	r := reader{tp: tp, end: end, batch: s.arg.Batch, payload: s.arg.Format == abi.FormatPayload}
	if r.batch == 0 {
		r.batch = defaultBatch
	}
	p.done.Add(1)
	go p.read(ctx, r)
	return p, nil
}

// ended reports whether a bounded partition handed out its last record.
func (p *sourcePart) ended() bool { return p.end >= 0 && p.next >= p.end }

// Next appends up to max records that were read ahead; it does not wait
// for any.
func (p *sourcePart) Next(b *abi.Batch, max int) (bool, error) {
	if p.err != nil {
		return false, p.err
	}
	if p.cur == nil {
		if p.ended() {
			return true, nil
		}
		select {
		case p.cur = <-p.ready:
		default:
			return false, nil
		}
	}
	c := p.cur
	n := len(c.ends) - c.taken
	if max > 0 {
		n = min(n, max)
	}
	if n > 0 {
		from := 0
		if c.taken > 0 {
			from = c.ends[c.taken-1].body
		}
		last := c.ends[c.taken+n-1]
		b.Body = append(b.Body, c.batch.Body[from:last.body]...)
		b.N += n
		c.taken += n
		p.next = last.next
	}
	if c.taken == len(c.ends) {
		p.cur, p.err = nil, c.err
	}
	return p.ended(), p.err
}

// Snapshot returns the offset after the last record handed out.
func (p *sourcePart) Snapshot() []byte { return binary.AppendUvarint(nil, uint64(p.next)) }

// Close stops the reading and closes the partition's client.
func (p *sourcePart) Close() error {
	p.once.Do(func() {
		if p.cl == nil {
			return
		}
		p.cancel()
		p.done.Wait()
		p.cl.Close()
	})
	return nil
}

// reader turns a partition's records into items.
type reader struct {
	tp      topicPart
	end     int64
	batch   int
	payload bool
	w       abi.Writer
}

// read is the reading goroutine: it polls batches of records until the
// partition ends, fails, or Close cancels ctx.
func (p *sourcePart) read(ctx context.Context, r reader) {
	defer p.done.Done()
	for {
		fs := p.cl.PollRecords(ctx, r.batch)
		if ctx.Err() != nil {
			return
		}
		c, last := r.chunk(fs)
		if len(c.ends) == 0 && c.err == nil {
			continue
		}
		select {
		case p.ready <- c:
		case <-ctx.Done():
			return
		}
		if c.err != nil || (r.end >= 0 && last >= r.end) {
			return
		}
	}
}

// chunk encodes the records of fs that come before the end, and returns
// the offset after the last.
func (r *reader) chunk(fs kgo.Fetches) (*chunk, int64) {
	c := &chunk{}
	last := int64(-1)
	fs.EachError(func(topic string, partition int32, err error) {
		if c.err == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
			c.err = fmt.Errorf("kafkaconn: reading partition %s: %w", r.tp.name, err)
		}
	})
	fs.EachRecord(func(rec *kgo.Record) {
		if r.end >= 0 && rec.Offset >= r.end {
			return
		}
		c.batch.Append(nil, false, r.value(rec))
		last = rec.Offset + 1
		c.ends = append(c.ends, itemEnd{body: len(c.batch.Body), next: last})
	})
	return c, last
}

// value is an item's value: the record's, or the record as an encoded
// abi.Message (valid until the next call).
func (r *reader) value(rec *kgo.Record) []byte {
	if r.payload {
		return rec.Value
	}
	m := abi.Message{Subject: rec.Topic, Key: rec.Key, Value: rec.Value, Partition: r.tp.name,
		Seq: uint64(rec.Offset), Time: rec.Timestamp.UnixNano()}
	for _, h := range rec.Headers {
		m.Headers = append(m.Headers, abi.Header{Name: h.Key, Value: h.Value})
	}
	r.w.B = r.w.B[:0]
	m.Encode(&r.w)
	return r.w.B
}
