package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// idHeader is the header under which the sink produces each record's
// id, STEP/PART/EPOCH/INDEX.
const idHeader = "bxwasm-id"

// errNotStaged is returned by Write: the engine writes a staged sink with
// WriteEpoch.
var errNotStaged = errors.New("kafkaconn: the Kafka sink is staged: write it with WriteEpoch")

// sinkPart is an open sink partition: it keeps each epoch's items until
// the epoch is committed everywhere, then produces them.
type sinkPart struct {
	s         *sink
	name      string
	partition int32
	mu        struct {
		sync.Mutex
		kept []epochItems // by epoch, oldest first
	}
}

// epochItems are the items of one epoch of a partition; the first skip of
// them were produced already.
type epochItems struct {
	epoch uint64
	skip  int
	items abi.Batch
}

var _ connectors.StagedSinkPart = (*sinkPart)(nil)

// Write refuses: see WriteEpoch.
func (p *sinkPart) Write(abi.Batch) error { return errNotStaged }

// WriteEpoch keeps the items of b under epoch. In Format "message" each
// value must be an encoded abi.Message.
func (p *sinkPart) WriteEpoch(epoch uint64, b abi.Batch) error {
	if p.s.msg {
		if err := p.checkMessages(epoch, b); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.mu.kept); n == 0 || p.mu.kept[n-1].epoch != epoch {
		p.mu.kept = append(p.mu.kept, epochItems{epoch: epoch})
	}
	e := &p.mu.kept[len(p.mu.kept)-1]
	e.items.Body = append(e.items.Body, b.Body...)
	e.items.N += b.N
	return nil
}

// checkMessages checks that every value of b decodes as a message.
func (p *sinkPart) checkMessages(epoch uint64, b abi.Batch) error {
	it := b.Iter()
	var item abi.Item
	for i := 0; it.Next(&item); i++ {
		if _, err := abi.DecodeMessage(item.Value); err != nil {
			return fmt.Errorf("kafkaconn: sink partition %s, epoch %d, item %d: %w", p.name, epoch, i, err)
		}
	}
	return it.Err()
}

// Committed produces the items of every epoch up to epoch, in order, and
// forgets them once the broker acknowledged them all.
func (p *sinkPart) Committed(epoch uint64) error {
	p.mu.Lock()
	n := 0
	for n < len(p.mu.kept) && p.mu.kept[n].epoch <= epoch {
		n++
	}
	due := p.mu.kept[:n:n]
	p.mu.Unlock()
	if n == 0 {
		return nil
	}
	recs, err := p.records(due)
	if err != nil {
		return err
	}
	if err := p.s.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		return fmt.Errorf("kafkaconn: producing into %s/%d: %w", p.s.topic, p.partition, err)
	}
	p.mu.Lock()
	p.mu.kept = p.mu.kept[n:]
	p.mu.Unlock()
	return nil
}

// records makes the records of the items of es not produced yet.
func (p *sinkPart) records(es []epochItems) ([]*kgo.Record, error) {
	var recs []*kgo.Record
	prefix := p.s.step + "/" + p.name + "/"
	for _, e := range es {
		it := e.items.Iter()
		var item abi.Item
		for i := 0; it.Next(&item); i++ {
			if i < e.skip {
				continue
			}
			r, err := p.record(item)
			if err != nil {
				return nil, err
			}
			id := prefix + strconv.FormatUint(e.epoch, 10) + "/" + strconv.Itoa(i)
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: idHeader, Value: []byte(id)})
			recs = append(recs, r)
		}
		if err := it.Err(); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// record is the record of an item: its key and value, or in Format
// "message" the message's key (else the item's), value and headers.
func (p *sinkPart) record(item abi.Item) (*kgo.Record, error) {
	r := &kgo.Record{Topic: p.s.topic, Partition: p.partition}
	if item.HasKey {
		r.Key = item.Key
	}
	if !p.s.msg {
		r.Value = item.Value
		return r, nil
	}
	m, err := abi.DecodeMessage(item.Value)
	if err != nil {
		return nil, err
	}
	if len(m.Key) > 0 {
		r.Key = m.Key
	}
	r.Value = m.Value
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Name, Value: h.Value})
	}
	return r, nil
}

// Pending is the latest epoch with items not produced yet, 0 if none.
func (p *sinkPart) Pending() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.mu.kept); n > 0 {
		return p.mu.kept[n-1].epoch
	}
	return 0
}

// Snapshot returns the items not produced yet, with their epochs.
func (p *sinkPart) Snapshot() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return encodePending(p.mu.kept)
}

// Close does nothing: the sink's client is closed with the sink.
func (p *sinkPart) Close() error { return nil }

// skipProduced drops the kept items up to the one whose id is last (the
// id of the partition's last record), which were produced before the
// snapshot's run stopped.
func (p *sinkPart) skipProduced(last string) {
	epoch, index, ok := parseID(last, p.s.step+"/"+p.name+"/")
	if !ok {
		return
	}
	kept := p.mu.kept[:0]
	for _, e := range p.mu.kept {
		switch {
		case e.epoch < epoch:
			continue
		case e.epoch == epoch:
			e.skip = max(e.skip, index+1)
			if e.skip >= e.items.N {
				continue
			}
		}
		kept = append(kept, e)
	}
	p.mu.kept = kept
}

// parseID reads EPOCH/INDEX from an id that starts with prefix.
func parseID(id, prefix string) (uint64, int, bool) {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return 0, 0, false
	}
	e, i, ok := strings.Cut(rest, "/")
	epoch, err1 := strconv.ParseUint(e, 10, 64)
	index, err2 := strconv.Atoi(i)
	if !ok || err1 != nil || err2 != nil || index < 0 {
		return 0, 0, false
	}
	return epoch, index, true
}

// encodePending encodes kept items:
//
//	uvarint n | (uvarint epoch, uvarint skip, uvarint items, bytes body) × n
func encodePending(kept []epochItems) []byte {
	var w abi.Writer
	w.Uvarint(uint64(len(kept)))
	for _, e := range kept {
		w.Uvarint(e.epoch)
		w.Uvarint(uint64(e.skip))
		w.Uvarint(uint64(e.items.N))
		w.Bytes(e.items.Body)
	}
	return w.B
}

// decodePending reads what encodePending wrote.
func decodePending(b []byte) ([]epochItems, error) {
	r := abi.NewReader(b)
	n := r.Count(4)
	kept := make([]epochItems, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		e := epochItems{epoch: r.Uvarint(), skip: int(r.Uvarint())}
		e.items.N = int(r.Uvarint())
		e.items.Body = append([]byte{}, r.Bytes()...)
		kept = append(kept, e)
	}
	if err := r.End(); err != nil {
		return nil, fmt.Errorf("resume state is not the sink's pending items: %w", err)
	}
	return kept, nil
}
