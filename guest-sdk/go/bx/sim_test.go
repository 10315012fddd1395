package bx

import (
	"hash/fnv"
	"slices"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// sim runs a built flow on one worker through the dispatcher, as a very
// small host: guest sources are polled round by round, stateless steps are
// fused into chains, timers fire on a simulated clock, and EOF reaches
// stateful steps in order at the end. Outputs are recorded per output step.
type sim struct {
	t       testing.TB
	g       *abi.Graph
	now     time.Time
	tick    time.Duration
	lines   map[string][]string  // items of host inputs, by step id
	streams map[[2]int]abi.Batch // pending items per (stream, reading step)
	readers [][]int              // the steps reading each stream
	reader  int                  // the step whose inputs take returns
	nodes   [][]int              // steps run together; a chain has its chain id = node index
	srcs    []simPart            // built source partitions
	sinks   map[int][]simPart    // built sink partitions per output step
	timers  map[int]map[string]int64
	out     map[string]abi.Batch // everything each output step received
	handles uint32
}

type simPart struct {
	step   int
	handle uint32
	eof    bool
	awake  int64
}

// simOpts configures a simulation; zero values are fine.
type simOpts struct {
	start time.Time           // the clock at round 1; default 2024-01-01 UTC
	tick  time.Duration       // clock advance per round; default 1s
	lines map[string][]string // lines of host inputs, by step id
}

// simulate runs the flow built last (g) to completion and returns what
// every output step received.
func simulate(t testing.TB, g *abi.Graph, o simOpts) map[string]abi.Batch {
	t.Helper()
	s := &sim{t: t, g: g, now: o.start, tick: o.tick, lines: o.lines,
		streams: map[[2]int]abi.Batch{}, sinks: map[int][]simPart{},
		timers: map[int]map[string]int64{}, out: map[string]abi.Batch{}}
	if s.now.IsZero() {
		s.now = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if s.tick == 0 {
		s.tick = time.Second
	}
	s.plan()
	s.open()
	for round := 0; !s.inputsDone(); round++ {
		if round > 100000 {
			t.Fatal("sim: inputs never ended")
		}
		s.poll()
		s.pass(false)
		s.now = s.now.Add(s.tick)
	}
	s.pass(true)
	s.close()
	return s.out
}

// plan groups stateless steps into chains the way the host fuses them.
func (s *sim) plan() {
	readers := make([]int, s.g.Streams)
	producer := make([]int, s.g.Streams)
	for i, st := range s.g.Steps {
		for _, in := range st.Inputs {
			readers[in]++
		}
		for _, out := range st.Outputs {
			producer[out] = i
		}
	}
	s.readers = make([][]int, s.g.Streams)
	for i, st := range s.g.Steps {
		for _, in := range st.Inputs {
			s.readers[in] = append(s.readers[in], i)
		}
	}
	nodeOf := map[int]int{}
	for i, st := range s.g.Steps {
		if st.Kind.Stateless() && len(st.Inputs) == 1 {
			p := producer[st.Inputs[0]]
			pk := s.g.Steps[p].Kind
			if n, ok := nodeOf[p]; ok && pk.Stateless() && pk != abi.KindBranch && readers[st.Inputs[0]] == 1 {
				s.nodes[n] = append(s.nodes[n], i)
				nodeOf[i] = n
				continue
			}
		}
		nodeOf[i] = len(s.nodes)
		s.nodes = append(s.nodes, []int{i})
	}
	for n, steps := range s.nodes {
		if s.g.Steps[steps[0]].Kind.Stateless() {
			fs := make([]uint32, len(steps))
			for i, st := range steps {
				fs[i] = uint32(st)
			}
			call(s.t, abi.OpFuse, &abi.FuseRequest{Chain: uint32(n), Steps: fs})
		}
	}
}

// open builds the partitions of guest sources and sinks.
func (s *sim) open() {
	for i, st := range s.g.Steps {
		if (st.Kind != abi.KindInput && st.Kind != abi.KindOutput) || st.Conn.Host() {
			continue
		}
		parts := []string{""}
		if st.Conn == abi.ConnGuestPartitioned {
			r := call(s.t, abi.OpListParts, &abi.PartsRequest{Step: uint32(i), Workers: 1})
			parts = abi.ReadPartList(r).Parts
			checkEnd(s.t, r)
		}
		for _, p := range parts {
			s.handles++
			call(s.t, abi.OpBuildPart, &abi.BuildPartRequest{Step: uint32(i), Handle: s.handles, Part: p, Workers: 1})
			sp := simPart{step: i, handle: s.handles}
			if st.Kind == abi.KindInput {
				s.srcs = append(s.srcs, sp)
			} else {
				s.sinks[i] = append(s.sinks[i], sp)
			}
		}
	}
	for _, st := range s.g.Steps {
		if st.Kind == abi.KindInput && st.Conn.Host() {
			s.push(st.Outputs[0], batchOf(s.lines[st.ID]...))
		}
	}
}

func (s *sim) inputsDone() bool {
	for _, p := range s.srcs {
		if !p.eof {
			return false
		}
	}
	return true
}

// poll asks every awake source partition for a batch.
func (s *sim) poll() {
	for i := range s.srcs {
		p := &s.srcs[i]
		if p.eof || p.awake > s.now.UnixNano() {
			continue
		}
		r := call(s.t, abi.OpNextBatch, &abi.HandleRequest{Step: uint32(p.step), Handle: p.handle, Now: s.now.UnixNano()})
		nb := abi.ReadNextBatch(r)
		checkEnd(s.t, r)
		p.eof, p.awake = nb.EOF, nb.Awake
		s.push(s.g.Steps[p.step].Outputs[0], nb.Batch)
	}
}

// push copies items onto a stream, for each step reading it.
func (s *sim) push(stream uint32, b abi.Batch) {
	for _, r := range s.readers[stream] {
		k := [2]int{int(stream), r}
		q := s.streams[k]
		it := b.Iter()
		var item abi.Item
		for it.Next(&item) {
			q.AppendRaw(item.Raw)
		}
		s.streams[k] = q
	}
}

// take empties a stream for the step being run (s.reader).
func (s *sim) take(stream uint32) abi.Batch {
	k := [2]int{int(stream), s.reader}
	b := s.streams[k]
	delete(s.streams, k)
	return b
}

// pass runs every node once in declaration order; at eof stateful steps
// also get on_eof after their input.
func (s *sim) pass(eof bool) {
	for n, steps := range s.nodes {
		i := steps[0]
		st := s.g.Steps[i]
		s.reader = i
		switch st.Kind {
		case abi.KindInput:
		case abi.KindMerge, abi.KindRedistribute:
			for _, in := range st.Inputs {
				s.push(st.Outputs[0], s.take(in))
			}
		case abi.KindOutput:
			s.write(i, s.take(st.Inputs[0]))
		case abi.KindStatefulBatch:
			s.stateful(i, eof)
		default:
			s.chain(n, steps)
		}
	}
}

func (s *sim) chain(n int, steps []int) {
	b := s.take(s.g.Steps[steps[0]].Inputs[0])
	if b.N == 0 {
		return
	}
	r := call(s.t, abi.OpRunChain, &abi.ChainRequest{Chain: uint32(n), Epoch: 1, Batch: b})
	resp := abi.ReadChainResponse(r)
	checkEnd(s.t, r)
	last := s.g.Steps[steps[len(steps)-1]]
	for o, out := range resp.Outputs {
		s.push(last.Outputs[o], out)
	}
}

func (s *sim) stateful(i int, eof bool) {
	st := s.g.Steps[i]
	if b := s.take(st.Inputs[0]); b.N > 0 {
		s.keyed(i, call(s.t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: uint32(i), Now: s.now.UnixNano(), Batch: b}))
	}
	if due := s.due(i); len(due) > 0 {
		s.keyed(i, call(s.t, abi.OpNotify, &abi.KeysRequest{Step: uint32(i), Now: s.now.UnixNano(), Keys: due}))
	}
	if eof {
		s.keyed(i, call(s.t, abi.OpEOF, &abi.StepRequest{Step: uint32(i), Now: s.now.UnixNano()}))
	}
}

// due returns the keys of step i whose timers have come, sorted.
func (s *sim) due(i int) []string {
	var keys []string
	for k, at := range s.timers[i] {
		if at <= s.now.UnixNano() {
			keys = append(keys, k)
			delete(s.timers[i], k) // as the host does: a timer fires once
		}
	}
	slices.Sort(keys)
	return keys
}

// keyed pushes a stateful response's emits and records its timers.
func (s *sim) keyed(i int, r *abi.Reader) {
	u := abi.ReadKeyedUpdates(r)
	checkEnd(s.t, r)
	s.push(s.g.Steps[i].Outputs[0], u.Emits)
	if s.timers[i] == nil {
		s.timers[i] = map[string]int64{}
	}
	for _, k := range u.Keys {
		if k.Discard || k.NotifyAt == 0 {
			delete(s.timers[i], k.Key)
		} else {
			s.timers[i][k.Key] = k.NotifyAt
		}
	}
}

// write records items reaching an output step and gives them to its guest
// partitions, routed by key hash like the host.
func (s *sim) write(i int, b abi.Batch) {
	st := s.g.Steps[i]
	all := s.out[st.ID]
	it := b.Iter()
	var item abi.Item
	parts := s.sinks[i]
	routed := make([]abi.Batch, len(parts))
	for it.Next(&item) {
		all.AppendRaw(item.Raw)
		if len(parts) > 0 {
			h := fnv.New64a()
			h.Write(item.Key)
			p := int(h.Sum64() % uint64(len(parts)))
			routed[p].AppendRaw(item.Raw)
		}
	}
	s.out[st.ID] = all
	for p, rb := range routed {
		if rb.N > 0 {
			call(s.t, abi.OpWriteBatch, &abi.WriteRequest{Step: uint32(i), Handle: parts[p].handle, Batch: rb})
		}
	}
}

// close closes every built partition.
func (s *sim) close() {
	for _, p := range s.srcs {
		call(s.t, abi.OpClosePart, &abi.HandleRequest{Step: uint32(p.step), Handle: p.handle})
	}
	for _, ps := range s.sinks {
		for _, p := range ps {
			call(s.t, abi.OpClosePart, &abi.HandleRequest{Step: uint32(p.step), Handle: p.handle})
		}
	}
}

// runFlow builds a flow from factory and simulates it.
func runFlow(t testing.TB, factory func() *Dataflow, o simOpts) map[string]abi.Batch {
	t.Helper()
	return simulate(t, buildFlow(t, factory), o)
}
