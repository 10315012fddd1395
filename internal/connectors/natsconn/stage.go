package natsconn

import (
	"fmt"
	"sync"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// stage holds a staged sink partition's items until their epoch is
// committed. The worker adds to it while the committer takes from it.
type stage struct {
	mu     sync.Mutex
	epochs []stagedEpoch // by epoch, ascending
	cur    uint64        // the epoch written last
	curN   int           // how many items epoch cur got, published or not
}

// stagedEpoch is the items (values) of one epoch not yet published; the
// first has index first in the epoch (an epoch published in parts, as
// without a recovery store, continues its indexes).
type stagedEpoch struct {
	epoch  uint64
	first  int
	values [][]byte
}

// add copies the values of b into epoch.
func (s *stage) add(epoch uint64, b abi.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if epoch != s.cur {
		s.cur, s.curN = epoch, 0
	}
	if n := len(s.epochs); n == 0 || s.epochs[n-1].epoch != epoch {
		s.epochs = append(s.epochs, stagedEpoch{epoch: epoch, first: s.curN})
	}
	e := &s.epochs[len(s.epochs)-1]
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		e.values = append(e.values, append([]byte{}, item.Value...))
	}
	s.curN += b.N
}

// upTo returns the epochs up to epoch, still held.
func (s *stage) upTo(epoch uint64) []stagedEpoch {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(s.epochs) && s.epochs[n].epoch <= epoch {
		n++
	}
	return s.epochs[:n:n]
}

// drop forgets the first n epochs, once published.
func (s *stage) drop(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epochs = append(s.epochs[:0:0], s.epochs[n:]...)
}

// pending is the latest epoch held, 0 if none.
func (s *stage) pending() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.epochs) == 0 {
		return 0
	}
	return s.epochs[len(s.epochs)-1].epoch
}

// encode is the snapshot of what is held:
//
//	uvarint epochs | (uvarint epoch | uvarint first | uvarint n | bytes value × n) × epochs
func (s *stage) encode() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w abi.Writer
	w.Uvarint(uint64(len(s.epochs)))
	for _, e := range s.epochs {
		w.Uvarint(e.epoch)
		w.Uvarint(uint64(e.first))
		w.Uvarint(uint64(len(e.values)))
		for _, v := range e.values {
			w.Bytes(v)
		}
	}
	return w.B
}

// decodeStage reads a snapshot of partition part.
func decodeStage(part string, b []byte) (*stage, error) {
	s := &stage{}
	if len(b) == 0 {
		return s, nil
	}
	r := abi.NewReader(b)
	n := r.Count(2)
	for i := 0; i < n && r.Err() == nil; i++ {
		e := stagedEpoch{epoch: r.Uvarint(), first: int(min(r.Uvarint(), 1<<40))}
		k := r.Count(1)
		for j := 0; j < k && r.Err() == nil; j++ {
			e.values = append(e.values, append([]byte{}, r.Bytes()...))
		}
		s.epochs = append(s.epochs, e)
	}
	if err := r.End(); err != nil {
		return nil, fmt.Errorf("%w: %s: not a staged sink's snapshot: %v", connectors.ErrBadResume, part, err)
	}
	return s, nil
}
