package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bxwasm/bxwasm/internal/abi"
	"github.com/bxwasm/bxwasm/internal/recovery"
)

// Recovery is how a run snapshots its state and where it resumes from.
type Recovery struct {
	// Store holds the snapshots; the run writes to it and commits epochs.
	Store recovery.Store
	// Execution is the number Store.Begin gave this execution.
	Execution uint64
	// Resume is the first epoch of this execution (Store.ResumeEpoch before
	// Begin): state is loaded as of Resume-1.
	Resume uint64
}

// ErrForeignState is wrapped by the error of a run whose store holds state
// of steps the flow does not have.
var ErrForeignState = errors.New("engine: the recovery store holds state of another flow")

// restoreChunk is how many keys one restore call carries.
const restoreChunk = 4096

// resumeState is what a process loaded from the store: the positions of
// connector partitions by step and partition name.
type resumeState struct {
	parts map[int]map[string][]byte
}

// partResume is the resume state of one partition, nil when it has none.
func (r *resumeState) partResume(step int, part string) []byte {
	if r == nil {
		return nil
	}
	return r.parts[step][part]
}

// loadResume reads the state of the last committed epoch: every connector
// partition's position, and the keys of stateful steps the local workers
// own, which it restores into their guests at once.
func loadResume(ctx context.Context, cfg *Config, ws []*worker) (*resumeState, error) {
	rec := cfg.Recovery
	if rec == nil || rec.Resume <= 1 {
		return nil, nil
	}
	l := newLoader(cfg, ws)
	err := rec.Store.Load(ctx, rec.Resume-1, l.route, func(s recovery.Snapshot) error { return l.take(ctx, s) })
	if err != nil {
		return nil, fmt.Errorf("engine: loading the state of epoch %d: %w", rec.Resume-1, err)
	}
	if len(l.unknown) > 0 {
		return nil, fmt.Errorf("%w: it has state of step(s) %s, which flow %q does not have; resume with the flow that wrote it, or use another recovery directory",
			ErrForeignState, strings.Join(sortedKeys(l.unknown), ", "), cfg.Plan.Graph.Flow)
	}
	return &l.state, l.flush(ctx)
}

// loader sorts loaded snapshots to the workers that own them.
type loader struct {
	cfg     *Config
	ws      []*worker
	steps   map[string]int // step id -> step index, for steps with state
	unknown map[string]bool
	state   resumeState
	pending map[[2]int]*abi.Snapshots // (local worker, node) -> keys to restore
}

func newLoader(cfg *Config, ws []*worker) *loader {
	l := &loader{cfg: cfg, ws: ws, steps: map[string]int{}, unknown: map[string]bool{},
		state: resumeState{parts: map[int]map[string][]byte{}}, pending: map[[2]int]*abi.Snapshots{}}
	for i, s := range cfg.Plan.Graph.Steps {
		switch s.Kind {
		case abi.KindInput, abi.KindOutput, abi.KindStatefulBatch:
			l.steps[s.ID] = i
		}
	}
	return l
}

// route keeps connector positions (few, any worker may own them) and the
// keys owned by local workers; it notes steps the flow does not have.
func (l *loader) route(stepID, key string) bool {
	step, ok := l.steps[stepID]
	if !ok {
		l.unknown[stepID] = true
		return false
	}
	if l.cfg.Plan.Graph.Steps[step].Kind != abi.KindStatefulBatch {
		return true
	}
	return local(l.cfg, l.ws, KeyWorker([]byte(key), l.cfg.TotalWorkers)) != nil
}

func (l *loader) take(ctx context.Context, s recovery.Snapshot) error {
	step := l.steps[s.StepID]
	if l.cfg.Plan.Graph.Steps[step].Kind != abi.KindStatefulBatch {
		if l.state.parts[step] == nil {
			l.state.parts[step] = map[string][]byte{}
		}
		l.state.parts[step][s.Key] = s.State
		return nil
	}
	w := local(l.cfg, l.ws, KeyWorker([]byte(s.Key), l.cfg.TotalWorkers))
	node := l.cfg.Plan.NodeOf[step]
	at, state, err := unwrapState(s.State)
	if err != nil {
		return fmt.Errorf("engine: state of key %q of step %s: %w", s.Key, s.StepID, err)
	}
	if at != 0 {
		w.nodes[node].timers.set(s.Key, at)
	}
	k := [2]int{w.index - l.cfg.FirstWorker, node}
	p := l.pending[k]
	if p == nil {
		p = &abi.Snapshots{Step: uint32(step)}
		l.pending[k] = p
	}
	p.Items = append(p.Items, abi.KeySnap{Key: s.Key, Present: true, State: state})
	if len(p.Items) >= restoreChunk {
		return l.restore(ctx, k, p)
	}
	return nil
}

// flush restores the keys still pending.
func (l *loader) flush(ctx context.Context) error {
	for k, p := range l.pending {
		if err := l.restore(ctx, k, p); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) restore(ctx context.Context, k [2]int, p *abi.Snapshots) error {
	if len(p.Items) == 0 {
		return nil
	}
	w := l.ws[k[0]]
	if err := w.g.Restore(ctx, *p); err != nil {
		return w.stepError(int(p.Step), err)
	}
	p.Items = p.Items[:0]
	return nil
}

// wrapState is how a key's state is stored: its pending notify_at (unix
// nanoseconds, 0 for none) as a uvarint, then the guest's bytes. Timers live
// in the host, so they are stored beside the state the guest returns.
func wrapState(notifyAt int64, state []byte) []byte {
	b := binary.AppendUvarint(make([]byte, 0, len(state)+binary.MaxVarintLen64), uint64(notifyAt))
	return append(b, state...)
}

func unwrapState(b []byte) (int64, []byte, error) {
	at, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("malformed stored state (%d bytes)", len(b))
	}
	return int64(at), b[n:], nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
