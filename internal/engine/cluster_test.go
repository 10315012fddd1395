package engine

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// process is one Run of a cluster run: its workers from first, when it
// starts and when it is told to stop gracefully. Each process counts its
// epochs from its own start, as processes of a real cluster do.
type process struct {
	first, workers int
	start, stop    time.Duration
}

// cluster runs testGraph over the world's input as processes sharing one
// in-memory network, one recovery execution of store and one fake clock,
// and returns the first error of a Run. The clock moves as in run.exec;
// when it would reach a process's start or stop, the process is started or
// stopped instead, in the order given.
func cluster(t *testing.T, w *world, store recovery.Store, procs ...process) error {
	t.Helper()
	c := &clusterRun{t: t, w: w, procs: procs, clk: newFakeClock(t0), done: make(chan result, len(procs))}
	for _, p := range procs {
		c.total = max(c.total, p.first+p.workers)
	}
	c.net = transport.NewLocal(c.total)
	t.Cleanup(c.net.Close)
	c.rec = begin(t, store, c.total)
	ctx, cancel := context.WithTimeout(t.Context(), realDeadline)
	defer cancel()
	return c.drive(ctx, cancel)
}

// clusterRun is the state of a cluster run.
type clusterRun struct {
	t       *testing.T
	w       *world
	procs   []process
	total   int
	clk     *fakeClock
	net     *transport.Local
	rec     *Recovery
	done    chan result
	stops   []chan struct{} // of the processes started
	live    []int           // the workers of the processes running
	started int             // processes started so far
	stopped int             // processes stopped so far
}

// result is what a process's Run returned.
type result struct {
	proc int
	err  error
}

// drive moves the clock, starts and stops the processes, and waits for
// every Run; it returns the first error, which cancels the other Runs.
func (c *clusterRun) drive(ctx context.Context, cancel func()) error {
	var first error
	for ended := 0; ended < len(c.procs); {
		select {
		case r := <-c.done:
			ended++
			p := c.procs[r.proc]
			c.live = slices.DeleteFunc(c.live, func(w int) bool { return w >= p.first && w < p.first+p.workers })
			if first == nil && r.err != nil {
				first = r.err
				cancel()
			}
			continue
		case <-time.After(20 * time.Microsecond):
		}
		next, ok := c.clk.idle(c.live)
		if !ok {
			continue
		}
		c.advance(ctx, next, len(c.live) == 0)
	}
	return first
}

// advance starts or stops the next process due by next (any, when none is
// running), or else moves the clock to next.
func (c *clusterRun) advance(ctx context.Context, next time.Time, none bool) {
	if c.started < len(c.procs) {
		at := t0.Add(c.procs[c.started].start)
		if none || !next.Before(at) {
			c.clk.set(at)
			c.begin(ctx, c.started)
			return
		}
	}
	if c.stopped < c.started && !next.Before(t0.Add(c.procs[c.stopped].stop)) {
		stopProcess(c.clk, c.stopped, c.stops[c.stopped])
		c.stopped++
		return
	}
	c.clk.set(next)
}

// begin starts process k.
func (c *clusterRun) begin(ctx context.Context, k int) {
	p := c.procs[k]
	cfg := p.config(c.t, c.w, c.total, c.net, c.clk)
	cfg.Recovery, cfg.Reach, cfg.Clock = c.rec, c.reach(&cfg), c.clk.as(k)
	stop := make(chan struct{})
	cfg.Stop = stop
	c.stops = append(c.stops, stop)
	for i := range p.workers {
		c.live = append(c.live, p.first+i)
	}
	c.started++
	go func() { c.done <- result{k, Run(ctx, cfg)} }()
}

// reach is the partitions every worker of the cluster reaches: all of
// them, as the fake guests list them.
func (c *clusterRun) reach(cfg *Config) map[int][][]string {
	out := map[int][][]string{}
	for step, s := range cfg.Plan.Graph.Steps {
		if s.Kind != abi.KindInput && s.Kind != abi.KindOutput {
			continue
		}
		parts, err := cfg.Guests[0].ListParts(c.t.Context(), abi.PartsRequest{Step: uint32(step)})
		if err != nil {
			c.t.Fatal(err)
		}
		out[step] = everyone(c.total, parts)
	}
	return out
}
