package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
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
	// Log, when set, gets a line saying what a resume loaded and how long
	// it took.
	Log io.Writer
	// ResetSources are ids of input steps whose stored positions are
	// ignored: they read their partitions from the start (what
	// --reset-source asks for after an input file changed).
	ResetSources []string
}

// ErrForeignState is wrapped by the error of a run whose store holds state
// of steps the flow does not have.
var ErrForeignState = errors.New("engine: the recovery store holds state of another flow")

// ForeignStateError is the error for a store holding state of steps (ids
// given sorted) that flow does not have.
func ForeignStateError(flow string, steps []string) error {
	return fmt.Errorf("%w: it has state of step(s) %s, which flow %q does not have; resume with the flow that wrote it, or use another recovery directory",
		ErrForeignState, strings.Join(steps, ", "), flow)
}

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

// ErrGonePartition is wrapped by the error of a resume whose host input
// no longer has a partition (a file) that has a stored position.
var ErrGonePartition = errors.New("engine: an input file with a stored position is gone")

// checkHostParts refuses to resume host input step when a partition with a
// stored position is not among parts: a file the snapshot read is gone
// (deleted, renamed, or no longer matched by the glob), and resuming
// without it would silently drop what it had left to read.
func (r *resumeState) checkHostParts(step int, stepID string, parts map[string]int) error {
	if r == nil {
		return nil
	}
	var gone []string
	for name := range r.parts[step] {
		if _, ok := parts[name]; !ok {
			gone = append(gone, name)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	sort.Strings(gone)
	return fmt.Errorf("%w: %s (the flow's inputs are now %s); restore it, or pass --reset-source %s to read "+
		"the step's files from the start", ErrGonePartition, strings.Join(gone, ", "),
		strings.Join(sortedParts(parts), ", "), stepID)
}

// resetHint adds to an input file changed since the snapshot how to accept
// the change.
func resetHint(err error, stepID string) error {
	if !errors.Is(err, connectors.ErrSourceChanged) {
		return err
	}
	return fmt.Errorf("%w; if the change is intended, pass --reset-source %s to read the step's files from the start", err, stepID)
}

// loadResume reads the state of the last committed epoch: every connector
// partition's position, and the keys of stateful steps the local workers
// own, which it restores into their guests at once.
func loadResume(ctx context.Context, cfg *Config, ws []*worker) (*resumeState, error) {
	rec := cfg.Recovery
	if rec == nil || rec.Resume <= 1 {
		return nil, nil
	}
	start := time.Now()
	l := newLoader(ctx, cfg, ws)
	err := rec.Store.Load(ctx, rec.Resume-1, l.route, l.take)
	if ferr := l.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, fmt.Errorf("engine: loading the state of epoch %d: %w", rec.Resume-1, err)
	}
	if len(l.unknown) > 0 {
		return nil, ForeignStateError(cfg.Plan.Graph.Flow, sortedKeys(l.unknown))
	}
	if rec.Log != nil {
		fmt.Fprintf(rec.Log, "bxwasm: workers %d-%d resumed from epoch %d: %d keys and %d partition positions restored in %s\n",
			cfg.FirstWorker, cfg.FirstWorker+len(ws)-1, rec.Resume, l.keys, l.parts, time.Since(start).Round(time.Millisecond))
	}
	return &l.state, nil
}

// loader sorts loaded snapshots to the workers that own them. Each local
// worker's guest restores its keys on a goroutine of its own, so reading the
// store and restoring into the guests overlap.
type loader struct {
	ctx       context.Context
	cfg       *Config
	ws        []*worker
	steps     map[string]int // step id -> step index, for steps with state
	unknown   map[string]bool
	state     resumeState
	pending   map[[2]int]*abi.Snapshots // (local worker, node) -> keys to restore
	restorers []*restorer               // by local worker, started on first use
	keys      int                       // keys restored
	parts     int                       // partition positions loaded
	reset     map[int]bool              // input steps whose positions are ignored
}

func newLoader(ctx context.Context, cfg *Config, ws []*worker) *loader {
	l := &loader{ctx: ctx, cfg: cfg, ws: ws, steps: map[string]int{}, unknown: map[string]bool{},
		state: resumeState{parts: map[int]map[string][]byte{}}, pending: map[[2]int]*abi.Snapshots{},
		restorers: make([]*restorer, len(ws)), reset: map[int]bool{}}
	for i, s := range cfg.Plan.Graph.Steps {
		switch s.Kind {
		case abi.KindInput, abi.KindOutput, abi.KindStatefulBatch:
			l.steps[s.ID] = i
		}
	}
	for _, id := range cfg.Recovery.ResetSources {
		if i, ok := l.steps[id]; ok && cfg.Plan.Graph.Steps[i].Kind == abi.KindInput {
			l.reset[i] = true
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

func (l *loader) take(s recovery.Snapshot) error {
	step := l.steps[s.StepID]
	if l.cfg.Plan.Graph.Steps[step].Kind != abi.KindStatefulBatch {
		if l.reset[step] {
			return nil
		}
		if l.state.parts[step] == nil {
			l.state.parts[step] = map[string][]byte{}
		}
		l.state.parts[step][s.Key] = s.State
		l.parts++
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
	l.keys++
	if len(p.Items) >= restoreChunk {
		delete(l.pending, k)
		return l.restorer(k[0]).send(p)
	}
	return nil
}

// restorer is the restorer of local worker i.
func (l *loader) restorer(i int) *restorer {
	if l.restorers[i] == nil {
		l.restorers[i] = startRestorer(l.ctx, l.ws[i])
	}
	return l.restorers[i]
}

// flush restores the keys still pending and waits for every restorer.
func (l *loader) flush() error {
	var first error
	for k, p := range l.pending {
		if err := l.restorer(k[0]).send(p); err != nil && first == nil {
			first = err
		}
	}
	for _, r := range l.restorers {
		if r == nil {
			continue
		}
		if err := r.wait(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// restorer feeds one worker's guest the keys it restores, in order.
type restorer struct {
	chunks chan *abi.Snapshots
	failed chan struct{} // closed when a restore failed
	err    error
	done   chan struct{}
}

func startRestorer(ctx context.Context, w *worker) *restorer {
	r := &restorer{chunks: make(chan *abi.Snapshots, 4), failed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for p := range r.chunks {
			if r.err != nil {
				continue
			}
			if err := w.g.Restore(ctx, *p); err != nil {
				r.err = w.stepError(int(p.Step), err)
				close(r.failed)
			}
		}
	}()
	return r
}

// send queues a chunk, or reports that an earlier one failed.
func (r *restorer) send(p *abi.Snapshots) error {
	select {
	case r.chunks <- p:
		return nil
	case <-r.failed:
		return fmt.Errorf("restoring state: a guest failed")
	}
}

// wait ends the restorer and returns its error.
func (r *restorer) wait() error {
	close(r.chunks)
	<-r.done
	return r.err
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
