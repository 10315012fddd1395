package watchdog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"unsafe"
)

// EnvFD is the environment variable that tells a child process which of
// its file descriptors holds its Table.
const EnvFD = "BXWASM_WATCH_FD"

// Kind says what a slot's index counts.
type Kind uint8

// The kinds of work a slot can be inside.
const (
	KindPhase Kind = 1 // a Phase: compiling, instantiating, building the flow
	KindStep  Kind = 2 // a call for one step, by step index
	KindChain Kind = 3 // a call of a fused chain, by plan node index
)

// Phase is work outside any step.
type Phase uint32

// The phases.
const (
	PhaseCompile     Phase = 1 // compiling the module (limited by the compile timeout)
	PhaseInstantiate Phase = 2 // instantiating it: its start function
	PhaseInitialize  Phase = 3 // its _initialize export
	PhaseVersion     Phase = 4 // its ABI version export
	PhaseListFlows   Phase = 5 // listing its flows
	PhaseBuild       Phase = 6 // the flow factory
	PhaseFuse        Phase = 7 // declaring fused chains
)

// Layout of a table, in bytes:
//
//	0      magic "bxwatch1"
//	8      slots        uint64
//	16     first worker uint64 (global index of slot 0)
//	24     names length uint64 (bytes of the names area in use; stored last)
//	32     reserved
//	64     slot words, 8 bytes each
//	64+8n  names area (namesSize bytes): step labels, then chain labels
//
// A slot word is gen<<32 | kind<<29 | index<<1 | inside: gen counts the
// slot's calls, so a word that stays the same is one call that goes on.
const (
	magic     = "bxwatch1"
	headSize  = 64
	namesSize = 1 << 20
	maxIndex  = 1<<28 - 1
)

// ErrTable is wrapped by the errors of opening a malformed table.
var ErrTable = errors.New("watchdog: bad table")

// Table is the shared memory of one child process: a slot per worker and
// one for the process (compilation), and the labels of the steps.
type Table struct {
	mem   []byte
	words []atomic.Uint64 // mem[headSize:], one per slot
	file  *os.File
	unmap func() error
}

// Create makes a table of n slots in a new anonymous file and maps it. The
// file is what a child inherits; close it in the parent once the child has
// started, and Close the table when the child is gone.
func Create(n int) (*Table, error) {
	if n < 1 || n > 1<<20 {
		return nil, fmt.Errorf("%w: %d slots", ErrTable, n)
	}
	f, err := newFile()
	if err != nil {
		return nil, fmt.Errorf("watchdog: creating the table: %w", err)
	}
	size := headSize + 8*n + namesSize
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("watchdog: sizing the table: %w", err)
	}
	t, err := mapTable(f, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	copy(t.mem, magic)
	binary.LittleEndian.PutUint64(t.mem[8:], uint64(n))
	t.view()
	return t, nil
}

// Open maps the table a supervisor created, from an inherited file.
func Open(f *os.File) (*Table, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTable, err)
	}
	if st.Size() < headSize+8+namesSize || st.Size() > 1<<30 {
		return nil, fmt.Errorf("%w: %d bytes", ErrTable, st.Size())
	}
	t, err := mapTable(f, int(st.Size()))
	if err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint64(t.mem[8:])
	if string(t.mem[:8]) != magic || int64(headSize+8*n+namesSize) != st.Size() {
		t.Close()
		return nil, fmt.Errorf("%w: not a watch table", ErrTable)
	}
	t.view()
	return t, nil
}

// FromEnv opens the table of this process, when a supervisor gave it one
// (EnvFD); it returns nil, nil otherwise.
func FromEnv() (*Table, error) {
	s := os.Getenv(EnvFD)
	if s == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%w: %s=%q is not a file descriptor", ErrTable, EnvFD, s)
	}
	return Open(os.NewFile(uintptr(fd), "watch-table"))
}

// view points words at the slot area.
func (t *Table) view() {
	n := int(binary.LittleEndian.Uint64(t.mem[8:]))
	t.words = unsafe.Slice((*atomic.Uint64)(unsafe.Pointer(&t.mem[headSize])), n)
}

// File is the table's file, for a child to inherit.
func (t *Table) File() *os.File { return t.file }

// Close unmaps the table and closes its file.
func (t *Table) Close() error {
	if t == nil || t.mem == nil {
		return nil
	}
	err := t.unmap()
	t.mem, t.words = nil, nil
	if t.file != nil {
		err = errors.Join(err, t.file.Close())
	}
	return err
}

// Slots is the number of slots: one per worker, then the process's.
func (t *Table) Slots() int { return len(t.words) }

// Slot returns slot i; a nil table has only nil slots, which record
// nothing.
func (t *Table) Slot(i int) *Slot {
	if t == nil || i < 0 || i >= len(t.words) {
		return nil
	}
	return &Slot{word: &t.words[i]}
}

// ProcessSlot is the slot of work done for the whole process (compiling
// the module).
func (t *Table) ProcessSlot() *Slot {
	if t == nil {
		return nil
	}
	return t.Slot(len(t.words) - 1)
}

// SetFirstWorker records the global index of the worker of slot 0.
func (t *Table) SetFirstWorker(w int) {
	if t != nil {
		atomic.StoreUint64((*uint64)(unsafe.Pointer(&t.mem[16])), uint64(w))
	}
}

// firstWorker is what SetFirstWorker stored.
func (t *Table) firstWorker() int {
	return int(atomic.LoadUint64((*uint64)(unsafe.Pointer(&t.mem[16]))))
}

// load returns the word of slot i.
func (t *Table) load(i int) uint64 { return t.words[i].Load() }

// Slot is where one worker records the guest call it is inside. Its
// methods are called by the worker's goroutine only; a nil Slot records
// nothing.
type Slot struct {
	word *atomic.Uint64
}

// Enter records that a call of kind and index begins. The call count
// lives in the shared word, so two Slots of one index (used one after the
// other) never repeat a word.
func (s *Slot) Enter(kind Kind, index uint32) {
	if s == nil {
		return
	}
	gen := s.word.Load()>>32 + 1
	s.word.Store(gen<<32 | uint64(kind)<<29 | uint64(index&maxIndex)<<1 | 1)
}

// Leave records that the call has returned.
func (s *Slot) Leave() {
	if s != nil {
		s.word.Store(s.word.Load() &^ 1)
	}
}

// call is a decoded slot word.
type call struct {
	gen    uint32
	kind   Kind
	index  uint32
	inside bool
}

func decode(w uint64) call {
	return call{gen: uint32(w >> 32), kind: Kind(w>>29) & 3, index: uint32(w>>1) & maxIndex, inside: w&1 == 1}
}
