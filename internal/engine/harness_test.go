package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// t0 is where the fake clock of every harness run starts.
var t0 = time.Unix(1_700_000_000, 0)

// realDeadline bounds a harness run in real time: a run that does not end
// by then is stuck.
const realDeadline = 60 * time.Second

// run is one execution of testGraph on fake guests, driven by a fake clock.
type run struct {
	workers  int
	interval time.Duration // default 10s
	// stopAt, when set, closes Config.Stop instead of moving the clock to
	// or past it.
	stopAt time.Duration
	// store, when set, makes the run recoverable.
	store recovery.Store
	// start is where the clock starts, after t0 (a resumed run starts later).
	start time.Duration
}

// exec runs r over the world's input and returns Run's error. The clock
// moves whenever every worker waits for it and no message is unread, to
// the earliest time a worker waits for.
func (r run) exec(t *testing.T, w *world) error {
	t.Helper()
	cfg, clk := r.config(t, w)
	ctx, cancel := context.WithTimeout(t.Context(), realDeadline)
	defer cancel()
	stop := make(chan struct{})
	cfg.Stop = stop
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	stopAt := time.Time{}
	if r.stopAt > 0 {
		stopAt = t0.Add(r.stopAt)
	}
	for {
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Microsecond):
		}
		next, ok := clk.idle(upTo(r.workers))
		if !ok {
			continue
		}
		if !stopAt.IsZero() && !next.Before(stopAt) {
			stopProcess(clk, 0, stop)
			stopAt = time.Time{}
			continue
		}
		clk.set(next)
	}
}

// stop closes stop, the Stop of process proc, and waits until each of its
// workers left the wait it was in, so the clock does not move before they
// see it. (A worker woken by returning credit after the clock's idle check
// may have left its wait already: it sees the stop before its next tick.)
func stopProcess(clk *fakeClock, proc int, stop chan struct{}) {
	waits := clk.waits(proc)
	close(stop)
	for clk.pending(waits) {
		time.Sleep(20 * time.Microsecond)
	}
}

// config builds the engine's Config for r: one fake guest and one counted
// local endpoint per worker, and the recovery store's execution.
func (r run) config(t *testing.T, w *world) (Config, *fakeClock) {
	t.Helper()
	clk := newFakeClock(t0.Add(r.start))
	net := transport.NewLocal(r.workers)
	t.Cleanup(net.Close)
	cfg := process{workers: r.workers}.config(t, w, r.workers, net, clk)
	if r.interval != 0 {
		cfg.EpochInterval = r.interval
	}
	if r.store != nil {
		cfg.Recovery = begin(t, r.store, r.workers)
	}
	return cfg, clk
}

// config is the engine's Config of process p among total workers: one
// fake guest and one counted endpoint of net per worker, epochs of 10s.
func (p process) config(t *testing.T, w *world, total int, net *transport.Local, clk *fakeClock) Config {
	t.Helper()
	pl, err := plan.Build(testGraph())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Plan: pl, FirstWorker: p.first, TotalWorkers: total, EpochInterval: 10 * time.Second, Clock: clk}
	for k := range p.workers {
		i := p.first + k
		cfg.Guests = append(cfg.Guests, newFakeGuest(w, pl, i))
		cfg.Endpoints = append(cfg.Endpoints, countEndpoint{Endpoint: net.Endpoint(i), self: i, clk: clk})
	}
	return cfg
}

// begin starts an execution on store as the host does.
func begin(t *testing.T, store recovery.Store, workers int) *Recovery {
	t.Helper()
	resume, err := store.ResumeEpoch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ex, err := store.Begin(t.Context(), workers)
	if err != nil {
		t.Fatal(err)
	}
	return &Recovery{Store: store, Execution: ex, Resume: resume}
}

// newWorld is a world whose fake guests read parts and write to sinks.
func newWorld(parts map[string]part, sinks ...string) *world {
	if len(sinks) == 0 {
		sinks = []string{"s0", "s1"}
	}
	return &world{t0: t0, parts: parts, sinks: sinks}
}

// at is a line of text available at second s.
func at(s float64, text string) line {
	return line{at: time.Duration(s * float64(time.Second)), text: text}
}

// sec is s seconds.
func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// stored is the state the store holds as of epoch: "step/key" -> state,
// with a key's timer (when it has one) as "@seconds after t0".
func stored(t *testing.T, store recovery.Store, epoch uint64) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := store.Load(t.Context(), epoch, func(string, string) bool { return true }, func(s recovery.Snapshot) error {
		v := string(s.State)
		if s.StepID == "f.count" {
			at, state, err := unwrapState(s.State)
			if err != nil {
				return err
			}
			v = string(state)
			if at != 0 {
				v += fmt.Sprintf("@%gs", time.Unix(0, at).Sub(t0).Seconds())
			}
		}
		out[s.StepID+"/"+s.Key] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
