package bx

import (
	"bytes"
	"slices"
)

// resumedKeys holds the state of restored keys until each is first used,
// in one arena with no map: a resume of a million keys appends bytes instead
// of hashing and allocating a million times. Keys are found by binary search;
// they usually arrive in key order (the host reads each store partition in
// key order), and are sorted once at the first lookup otherwise.
type resumedKeys struct {
	arena   []byte
	entries []resumedKey
	sorted  bool // entries are in key order
	unused  int  // entries not taken yet
}

// resumedKey is one restored key: where its key and state lie in the arena,
// and its place in building order.
type resumedKey struct {
	off, keyLen, stateLen uint32
	seq                   uint64
	taken                 bool
}

func (r *resumedKeys) key(e *resumedKey) []byte { return r.arena[e.off : e.off+e.keyLen] }

func (r *resumedKeys) state(e *resumedKey) []byte {
	start := e.off + e.keyLen
	return r.arena[start : start+e.stateLen : start+e.stateLen]
}

// add keeps a key's state; a key added twice keeps its later state.
func (r *resumedKeys) add(key string, state []byte, seq uint64) {
	if r.unused == 0 {
		*r = resumedKeys{sorted: true} // let the memory of taken keys go
	}
	if n := len(r.entries); n > 0 && r.sorted {
		if c := bytes.Compare(r.key(&r.entries[n-1]), []byte(key)); c >= 0 {
			r.sorted = false
		}
	}
	off := uint32(len(r.arena))
	r.arena = append(append(r.arena, key...), state...)
	r.entries = append(r.entries, resumedKey{off: off, keyLen: uint32(len(key)), stateLen: uint32(len(state)), seq: seq})
	r.unused++
}

// find returns the entry of key not taken yet, or nil.
func (r *resumedKeys) find(key string) *resumedKey {
	if r.unused == 0 {
		return nil
	}
	r.sort()
	k := []byte(key)
	i, _ := slices.BinarySearchFunc(r.entries, k, func(e resumedKey, k []byte) int { return bytes.Compare(r.key(&e), k) })
	var found *resumedKey
	for ; i < len(r.entries) && bytes.Equal(r.key(&r.entries[i]), k); i++ {
		if e := &r.entries[i]; !e.taken {
			if found != nil {
				found.taken = true // superseded by a later restore of the key
				r.unused--
			}
			found = e
		}
	}
	return found
}

// sort puts the entries in key order; equal keys stay in the order they
// were added, the latest last.
func (r *resumedKeys) sort() {
	if !r.sorted {
		slices.SortStableFunc(r.entries, func(a, b resumedKey) int { return bytes.Compare(r.key(&a), r.key(&b)) })
		r.sorted = true
	}
}

// take marks an entry used and returns its state, which stays valid.
func (r *resumedKeys) take(e *resumedKey) []byte {
	e.taken = true
	r.unused--
	return r.state(e)
}

// drop forgets key, if restored and not taken.
func (r *resumedKeys) drop(key string) {
	if e := r.find(key); e != nil {
		r.take(e)
	}
}

// each calls fn with every key not taken yet (the latest state of each),
// with its state and order, taking them all.
func (r *resumedKeys) each(fn func(key string, state []byte, seq uint64) error) error {
	r.sort()
	for i := range r.entries {
		e := &r.entries[i]
		if e.taken {
			continue
		}
		if next := i + 1; next < len(r.entries) && bytes.Equal(r.key(e), r.key(&r.entries[next])) {
			r.take(e) // a later restore of the key supersedes this one
			continue
		}
		if err := fn(string(r.key(e)), r.take(e), e.seq); err != nil {
			return err
		}
	}
	return nil
}
