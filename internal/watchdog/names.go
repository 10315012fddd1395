package watchdog

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// Labels name what a child's slots can be inside, for the supervisor's
// messages: Steps by step index ("step \"wc.split\" (flat_map_batch)"),
// Chains by plan node index (nil where a node is no fused chain).
type Labels struct {
	Steps  []string
	Chains []string
}

// SetLabels writes the labels into the table, once, before the calls they
// name begin. Labels that do not fit the table are cut off; the
// supervisor then names such a call by its index.
func (t *Table) SetLabels(l Labels) {
	if t == nil {
		return
	}
	area := t.names()
	var b []byte
	for _, list := range [][]string{l.Steps, l.Chains} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	if len(b) > len(area) {
		return
	}
	copy(area, b)
	atomic.StoreUint64(t.namesLen(), uint64(len(b)))
}

// labels reads what SetLabels wrote; zero Labels before it did.
func (t *Table) labels() Labels {
	n := atomic.LoadUint64(t.namesLen())
	area := t.names()
	if n > uint64(len(area)) {
		return Labels{}
	}
	b := area[:n]
	var l Labels
	for _, list := range []*[]string{&l.Steps, &l.Chains} {
		count, k := binary.Uvarint(b)
		if k <= 0 || count > uint64(len(b)) {
			return l
		}
		b = b[k:]
		for range count {
			size, k := binary.Uvarint(b)
			if k <= 0 || size > uint64(len(b)-k) {
				return l
			}
			*list = append(*list, string(b[k:k+int(size)]))
			b = b[k+int(size):]
		}
	}
	return l
}

func (t *Table) names() []byte { return t.mem[headSize+8*len(t.words):] }

func (t *Table) namesLen() *uint64 { return (*uint64)(unsafe.Pointer(&t.mem[24])) }
