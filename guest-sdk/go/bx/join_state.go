package bx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// JoinInsertMode says what a join keeps when a side sees more than one
// value for a key (Bytewax 0.21's JoinInsertMode).
type JoinInsertMode int

const (
	// JoinLast keeps the latest value of each side (Bytewax's default).
	JoinLast JoinInsertMode = iota
	// JoinFirst keeps the first value of each side.
	JoinFirst
	// JoinProduct keeps every value; rows are the cross product.
	JoinProduct
)

// JoinEmitMode says when a join emits rows (Bytewax 0.21's JoinEmitMode).
type JoinEmitMode int

const (
	// JoinComplete emits once every side has a value, then forgets the
	// key's values (an inner join).
	JoinComplete JoinEmitMode = iota
	// JoinFinal emits what the key holds when the inputs end, or, for a
	// windowed join, when the window closes.
	JoinFinal
	// JoinRunning emits the key's current row (nil for sides without a
	// value) after every value, keeping the values (an outer join).
	JoinRunning
)

// ErrJoinMode is raised at build for an unknown join mode.
var ErrJoinMode = errors.New("unknown join mode")

func checkJoinModes(op, id string, insert JoinInsertMode, emit JoinEmitMode, sides int) {
	if insert < JoinLast || insert > JoinProduct {
		raise("%w: %s %q got insert mode %d; use JoinFirst, JoinLast or JoinProduct", ErrJoinMode, op, id, insert)
	}
	if emit < JoinComplete || emit > JoinRunning {
		raise("%w: %s %q got emit mode %d; use JoinComplete, JoinFinal or JoinRunning", ErrJoinMode, op, id, emit)
	}
	if sides == 0 {
		raise("%w: %s %q needs at least one side", ErrNil, op, id)
	}
}

// JoinItem is a value of one side of a join, as the join's state and its
// Late stream carry it: Side is the side's position in the arguments (for
// the named joins, in the sorted names).
type JoinItem[V any] struct {
	Side  int
	Value V
}

// AppendBinary appends the side (uvarint) and the value in its codec.
func (j JoinItem[V]) AppendBinary(dst []byte) ([]byte, error) {
	return codecFor[V]().enc(binary.AppendUvarint(dst, uint64(j.Side)), j.Value)
}

// MarshalBinary encodes the item.
func (j JoinItem[V]) MarshalBinary() ([]byte, error) { return j.AppendBinary(nil) }

// UnmarshalBinary decodes an item AppendBinary encoded.
func (j *JoinItem[V]) UnmarshalBinary(b []byte) error {
	side, n := binary.Uvarint(b)
	if n <= 0 || side > 1<<16 {
		return fmt.Errorf("%w: bad join side", ErrDecode)
	}
	v, err := codecFor[V]().dec(b[n:])
	j.Side, j.Value = int(side), v
	return err
}

// joinState is the values a key holds per side.
type joinState[V any] struct {
	Seen [][]V `json:"seen"`
}

func newJoinState[V any](sides int) joinState[V] { return joinState[V]{Seen: make([][]V, sides)} }

// insert adds a side's value as mode says.
func (s *joinState[V]) insert(mode JoinInsertMode, j JoinItem[V]) {
	switch {
	case mode == JoinProduct:
		s.Seen[j.Side] = append(s.Seen[j.Side], j.Value)
	case mode == JoinLast || len(s.Seen[j.Side]) == 0:
		s.Seen[j.Side] = []V{j.Value}
	}
}

func (s *joinState[V]) allSet() bool {
	return !slices.ContainsFunc(s.Seen, func(vs []V) bool { return len(vs) == 0 })
}

func (s *joinState[V]) empty() bool {
	return !slices.ContainsFunc(s.Seen, func(vs []V) bool { return len(vs) > 0 })
}

// rows is the cross product of the sides' values, in side order, nil for
// a side without one (Bytewax's astuples).
func (s *joinState[V]) rows() [][]*V {
	out := [][]*V{make([]*V, 0, len(s.Seen))}
	for _, vs := range s.Seen {
		var next [][]*V
		for _, row := range out {
			if len(vs) == 0 {
				next = append(next, append(slices.Clip(row), nil))
			}
			for i := range vs {
				next = append(next, append(slices.Clip(row), &vs[i]))
			}
		}
		out = next
	}
	return out
}

// fill gives every side without a value the values other has for it.
func (s *joinState[V]) fill(other joinState[V]) {
	for i, vs := range other.Seen {
		if len(s.Seen[i]) == 0 {
			s.Seen[i] = vs
		}
	}
}

// emitRows applies an emit mode after a change: complete emits and clears
// once every side is set, running emits every time.
func (s *joinState[V]) emitRows(mode JoinEmitMode) [][]*V {
	switch {
	case mode == JoinComplete && s.allSet():
		rows := s.rows()
		s.Seen = make([][]V, len(s.Seen)) // the rows keep the old values
		return rows
	case mode == JoinRunning:
		return s.rows()
	}
	return nil
}

// named turns rows into maps from side name to value, leaving out sides
// without one (Bytewax's asdicts).
func named[V any](names []string, rows [][]*V) []map[string]V {
	out := make([]map[string]V, 0, len(rows))
	for _, row := range rows {
		m := make(map[string]V, len(row))
		for i, v := range row {
			if v != nil {
				m[names[i]] = *v
			}
		}
		out = append(out, m)
	}
	return out
}
