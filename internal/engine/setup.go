package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/plan"
)

// newWorkers builds the local workers: each gets its node states, the
// state of the epoch it resumes from, and the source and sink partitions
// assigned to it, opened at their resume positions.
func newWorkers(ctx context.Context, cfg *Config) ([]*worker, error) {
	ws := make([]*worker, len(cfg.Guests))
	for i := range ws {
		ws[i] = &worker{cfg: cfg, plan: cfg.Plan, index: cfg.FirstWorker + i, g: cfg.Guests[i],
			ep: cfg.Endpoints[i], ctx: ctx, interval: cfg.EpochInterval, nodes: make([]nodeState, len(cfg.Plan.Nodes)),
			committed: cfg.start() - 1}
		for n := range cfg.Plan.Nodes {
			ws[i].initNode(n)
			ws[i].dealer = ws[i].dealer || cfg.Plan.Nodes[n].Route == plan.RouteSpread
		}
	}
	resume, err := loadResume(ctx, cfg, ws)
	if err != nil {
		return nil, err
	}
	for i := range cfg.Plan.Nodes {
		if err := setupConnector(ctx, cfg, ws, i, resume); err != nil {
			for _, w := range ws {
				w.closeAll()
			}
			return nil, err
		}
	}
	return ws, nil
}

// initNode sets up the worker's state for node i.
func (w *worker) initNode(i int) {
	st := &w.nodes[i]
	st.closed = w.cfg.start() - 1
	if w.plan.Exchanging(i) {
		st.align = newAligner[payload](w.cfg.TotalWorkers, w.cfg.start())
	}
	if w.plan.Nodes[i].Kind == plan.NodeStateful {
		st.timers = newTimers()
		if w.cfg.Recovery != nil {
			st.touched = map[string]struct{}{}
		}
	}
}

func setupConnector(ctx context.Context, cfg *Config, ws []*worker, i int, resume *resumeState) error {
	n := &cfg.Plan.Nodes[i]
	switch n.Kind {
	case plan.NodeInput:
		return setupSource(ctx, cfg, ws, n.Step(), resume)
	case plan.NodeOutput:
		return setupSink(ctx, cfg, ws, i, resume)
	}
	return nil
}

// reach asks every local worker which partitions of a guest connector it
// can reach.
func reach(ctx context.Context, cfg *Config, ws []*worker, step int) ([][]string, error) {
	if r, ok := cfg.Reach[step]; ok {
		return r, nil
	}
	r := make([][]string, cfg.TotalWorkers)
	for _, w := range ws {
		parts, err := listParts(ctx, w.g, step, w.index, cfg.TotalWorkers)
		if err != nil {
			return nil, w.stepError(step, err)
		}
		r[w.index] = parts
	}
	return r, nil
}

func listParts(ctx context.Context, g Guest, step, worker, total int) ([]string, error) {
	q := abi.PartsRequest{Step: uint32(step), Worker: uint32(worker), Workers: uint32(total)}
	parts, err := g.ListParts(ctx, q)
	return append([]string(nil), parts...), err
}

// LocalReach asks the local guests which partitions of every
// guest-partitioned source and sink they reach, for processes to exchange
// before a clustered run (Config.Reach). Entries of other processes'
// workers are left empty.
func LocalReach(ctx context.Context, p *plan.Plan, guests []Guest, first, total int) (map[int][][]string, error) {
	out := map[int][][]string{}
	for i, s := range p.Graph.Steps {
		if (s.Kind != abi.KindInput && s.Kind != abi.KindOutput) || s.Conn != abi.ConnGuestPartitioned {
			continue
		}
		out[i] = make([][]string, total)
		for k, g := range guests {
			parts, err := listParts(ctx, g, i, first+k, total)
			if err != nil {
				return nil, fmt.Errorf("listing the partitions of step %s: %w", s.ID, err)
			}
			out[i][first+k] = parts
		}
	}
	return out, nil
}

// everyone is the reach of a host connector: any worker can open any part.
func everyone(total int, parts []string) [][]string {
	r := make([][]string, total)
	for i := range r {
		r[i] = parts
	}
	return r
}

func setupSource(ctx context.Context, cfg *Config, ws []*worker, step int, resume *resumeState) error {
	s := &cfg.Plan.Graph.Steps[step]
	node := cfg.Plan.NodeOf[step]
	if s.Conn == abi.ConnGuestDynamic {
		for _, w := range ws {
			if err := w.buildSource(ctx, node, step, "", nil); err != nil {
				return err
			}
		}
		return nil
	}
	owner, err := assign(ctx, cfg, ws, step, cfg.Sources[step])
	if err != nil {
		return err
	}
	if cfg.Sources[step] != nil {
		if err := resume.checkHostParts(step, s.ID, owner); err != nil {
			return ws[0].stepError(step, err)
		}
	}
	for _, part := range sortedParts(owner) {
		if w := local(cfg, ws, owner[part]); w != nil {
			if err := w.buildSource(ctx, node, step, part, resume.partResume(step, part)); err != nil {
				return err
			}
		}
	}
	return nil
}

// assign lists a partitioned connector's parts and gives each to a worker.
func assign(ctx context.Context, cfg *Config, ws []*worker, step int, host interface{ Parts() ([]string, error) }) (map[string]int, error) {
	var r [][]string
	if host != nil {
		parts, err := host.Parts()
		if err != nil {
			return nil, ws[0].stepError(step, err)
		}
		r = everyone(cfg.TotalWorkers, parts)
	} else {
		var err error
		if r, err = reach(ctx, cfg, ws, step); err != nil {
			return nil, err
		}
	}
	owner := plan.AssignParts(r)
	if len(owner) == 0 {
		return nil, ws[0].stepError(step, fmt.Errorf("the connector has no partitions"))
	}
	return owner, nil
}

func sortedParts(owner map[string]int) []string {
	parts := make([]string, 0, len(owner))
	for p := range owner {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return parts
}

func local(cfg *Config, ws []*worker, global int) *worker {
	i := global - cfg.FirstWorker
	if i < 0 || i >= len(ws) {
		return nil
	}
	return ws[i]
}

func (w *worker) buildSource(ctx context.Context, node, step int, part string, resume []byte) error {
	sp := &sourcePart{step: step, name: part}
	if src := w.cfg.Sources[step]; src != nil {
		h, err := src.Open(part, resume)
		if err != nil {
			return w.stepError(step, resetHint(err, w.plan.Graph.Steps[step].ID))
		}
		// A host partition that starts without resume state has a
		// position before it emits anything (a JetStream source's "new"
		// start): its first epoch snapshots it, so a resume does not start
		// over from a later "now".
		sp.host, sp.dirty = h, resume == nil
	} else {
		sp.handle = w.newHandle()
		q := abi.BuildPartRequest{Step: uint32(step), Handle: sp.handle, Part: part, Worker: uint32(w.index), Workers: uint32(w.cfg.TotalWorkers),
			HasResume: resume != nil, Resume: resume}
		if err := w.g.BuildPart(ctx, q); err != nil {
			return w.stepError(step, err)
		}
	}
	w.nodes[node].sources = append(w.nodes[node].sources, sp)
	return nil
}

func setupSink(ctx context.Context, cfg *Config, ws []*worker, node int, resume *resumeState) error {
	step := cfg.Plan.Nodes[node].Step()
	for _, w := range ws {
		w.nodes[node].sinks = map[int]*sinkPart{}
	}
	if cfg.Plan.Nodes[node].Route == plan.RouteLocal {
		for _, w := range ws {
			if err := w.buildSink(ctx, node, step, -1, "", nil); err != nil {
				return err
			}
		}
		return nil
	}
	var host interface{ Parts() ([]string, error) }
	if ps, ok := cfg.Sinks[step].(connectors.PartitionedSink); ok {
		host = ps
	}
	owner, err := assign(ctx, cfg, ws, step, host)
	if err != nil {
		return err
	}
	parts := sortedParts(owner)
	owners := make([]int, len(parts))
	for k, part := range parts {
		owners[k] = owner[part]
		if w := local(cfg, ws, owner[part]); w != nil {
			if err := w.buildSink(ctx, node, step, k, part, resume.partResume(step, part)); err != nil {
				return err
			}
		}
	}
	for _, w := range ws {
		w.nodes[node].owners = owners
	}
	return nil
}

func (w *worker) buildSink(ctx context.Context, node, step, k int, part string, resume []byte) error {
	sp := &sinkPart{step: step, part: k, name: part}
	var err error
	switch s := w.cfg.Sinks[step].(type) {
	case connectors.DynamicSink:
		sp.host, err = s.Open(w.index, w.cfg.TotalWorkers)
	case connectors.PartitionedSink:
		sp.host, err = s.Open(part, resume)
	case nil:
		sp.handle = w.newHandle()
		q := abi.BuildPartRequest{Step: uint32(step), Handle: sp.handle, Part: part, Worker: uint32(w.index), Workers: uint32(w.cfg.TotalWorkers),
			HasResume: resume != nil, Resume: resume}
		err = w.g.BuildPart(ctx, q)
	default:
		err = fmt.Errorf("engine: sink of step %d is a %T", step, s)
	}
	if err != nil {
		return w.stepError(step, err)
	}
	w.nodes[node].sinks[k] = sp
	return nil
}

func (w *worker) newHandle() uint32 {
	w.handles++
	return w.handles
}
