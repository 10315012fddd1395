package recovery

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Memory is a Store kept in memory, for tests and runs without recovery. It is safe for concurrent use.
type Memory struct {
	mu struct {
		sync.Mutex
		closed bool
		execs  []Execution
		snaps  map[stateKey][]version
	}
}

type stateKey struct{ step, key string }

type version struct {
	epoch uint64
	state []byte // nil: tombstone
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	m := &Memory{}
	m.mu.snaps = map[stateKey][]version{}
	return m
}

// Begin records a new execution with its worker count and returns its number; it drops every snapshot
// (tombstones too) of an epoch at or after the resume epoch.
func (m *Memory) Begin(_ context.Context, workers int) (uint64, error) {
	if workers < 1 {
		return 0, fmt.Errorf("%w: %d", ErrBadWorkers, workers)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return 0, ErrClosed
	}
	resume := resumeFrom(m.mu.execs)
	m.dropFromLocked(resume)
	ex := newExecution(uint64(len(m.mu.execs))+1, workers, resume)
	m.mu.execs = append(m.mu.execs, ex)
	return ex.Number, nil
}

// dropFromLocked deletes every version of an epoch >= epoch.
func (m *Memory) dropFromLocked(epoch uint64) {
	for k, vs := range m.mu.snaps {
		i := latestAt(vs, epoch-1) + 1
		if i == 0 {
			delete(m.mu.snaps, k)
			continue
		}
		m.mu.snaps[k] = slices.Clip(vs[:i])
	}
}

// Write stores snapshots; a later snapshot of the same key and epoch replaces an earlier one.
func (m *Memory) Write(_ context.Context, snaps []Snapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return ErrClosed
	}
	for _, s := range snaps {
		m.putLocked(s)
	}
	return nil
}

func (m *Memory) putLocked(s Snapshot) {
	k := stateKey{s.StepID, s.Key}
	v := version{epoch: s.Epoch}
	if s.State != nil {
		v.state = slices.Clone(s.State)
		if v.state == nil {
			v.state = []byte{}
		}
	}
	vs := m.mu.snaps[k]
	i := sort.Search(len(vs), func(i int) bool { return vs[i].epoch >= s.Epoch })
	if i < len(vs) && vs[i].epoch == s.Epoch {
		vs[i] = v
		return
	}
	m.mu.snaps[k] = slices.Insert(vs, i, v)
}

// Commit records worker's frontier in execution; the frontier never moves back.
func (m *Memory) Commit(_ context.Context, execution uint64, worker int, epoch uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return ErrClosed
	}
	if err := checkCommit(m.mu.execs, execution, worker); err != nil {
		return err
	}
	f := &m.mu.execs[execution-1].Frontiers[worker]
	*f = max(*f, epoch)
	return nil
}

// ResumeEpoch returns the epoch a new execution starts at.
func (m *Memory) ResumeEpoch(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return 0, ErrClosed
	}
	return resumeFrom(m.mu.execs), nil
}

// Load calls fn, in (step, key) order, for the latest snapshot at or before epoch of every routed key.
func (m *Memory) Load(ctx context.Context, epoch uint64, route func(stepID, key string) bool, fn func(Snapshot) error) error {
	snaps, err := m.collect(epoch, route)
	if err != nil {
		return err
	}
	for _, s := range snaps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (m *Memory) collect(epoch uint64, route func(stepID, key string) bool) ([]Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return nil, ErrClosed
	}
	var out []Snapshot
	for k, vs := range m.mu.snaps {
		i := latestAt(vs, epoch)
		if i < 0 || vs[i].state == nil || !route(k.step, k.key) {
			continue
		}
		out = append(out, Snapshot{StepID: k.step, Key: k.key, Epoch: vs[i].epoch, State: slices.Clone(vs[i].state)})
	}
	slices.SortFunc(out, func(a, b Snapshot) int {
		return cmpPair(a.StepID, a.Key, b.StepID, b.Key)
	})
	return out, nil
}

// latestAt is the index of the last version at or before epoch, -1 if none.
func latestAt(vs []version, epoch uint64) int {
	return sort.Search(len(vs), func(i int) bool { return vs[i].epoch > epoch }) - 1
}

func cmpPair(s1, k1, s2, k2 string) int {
	if c := strings.Compare(s1, s2); c != 0 {
		return c
	}
	return strings.Compare(k1, k2)
}

// GC drops, for each key, the snapshots before its latest one at or before epoch before, and that one too
// when it is a tombstone.
func (m *Memory) GC(_ context.Context, before uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.closed {
		return ErrClosed
	}
	for k, vs := range m.mu.snaps {
		i := latestAt(vs, before)
		if i < 0 {
			continue
		}
		if vs[i].state == nil {
			i++
		}
		if vs = vs[i:]; len(vs) == 0 {
			delete(m.mu.snaps, k)
			continue
		}
		m.mu.snaps[k] = slices.Clip(vs)
	}
	return nil
}

// Close marks the store closed; later calls return ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mu.closed = true
	return nil
}
