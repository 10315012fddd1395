package transport

import (
	"errors"
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// MaxItemSize is the largest item limit a transport accepts (1 GiB): the
// NATS transport reassembles frames of up to this size and a little more.
const MaxItemSize = 1 << 30

// ErrItemTooLarge is matched (errors.Is) by an ItemSizeError.
var ErrItemTooLarge = errors.New("transport: item too large")

// ItemSizeError is a Send refused because one of the message's items,
// key and value together, is over the transport's item limit.
type ItemSizeError struct {
	From, To int // global worker indices
	Node     int // the plan node the message was for
	Size     int // the item's key and value bytes
	Limit    int // the transport's limit
}

// Error implements error.
func (e *ItemSizeError) Error() string {
	return fmt.Sprintf("transport: an item of %s from worker %d to worker %d is over the limit of %s",
		FormatSize(e.Size), e.From, e.To, FormatSize(e.Limit))
}

// Is makes errors.Is(err, ErrItemTooLarge) true.
func (e *ItemSizeError) Is(target error) bool { return target == ErrItemTooLarge }

// FormatSize writes a byte count for people: "3145728 bytes (3.0 MiB)".
func FormatSize(n int) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d bytes (%.1f MiB)", n, float64(n)/(1<<20))
}

// itemLimit is a transport's item limit; 0 means none.
type itemLimit int

// check refuses m when one of its items is over the limit. A batch body
// no longer than the limit cannot hold one, so most messages cost one
// comparison.
func (l itemLimit) check(to int, m *Message) error {
	if l <= 0 || len(m.Batch.Body) <= int(l) {
		return nil
	}
	it := m.Batch.Iter()
	var item abi.Item
	for it.Next(&item) {
		if n := len(item.Key) + len(item.Value); n > int(l) {
			return &ItemSizeError{From: m.From, To: to, Node: m.Node, Size: n, Limit: int(l)}
		}
	}
	return nil
}
