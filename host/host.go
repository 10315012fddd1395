package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/engine"
	"github.com/bxwasm/bxwasm/internal/flowspec"
	"github.com/bxwasm/bxwasm/internal/guest"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// ErrNoFlow is returned when the module has no flow of the requested name.
var ErrNoFlow = errors.New("host: no such flow")

// ErrNondeterministic is returned when workers' instances build different
// graphs for the same flow.
var ErrNondeterministic = errors.New("host: flow is not deterministic")

// Run runs a flow of a module on opts.WorkersPerProcess workers until its
// inputs are exhausted, or until the first error. flowSpec is a flow name or
// a factory call with literal arguments ("get_flow('in.txt')"); "" means
// "flow".
func Run(ctx context.Context, module, flowSpec string, opts Options) error {
	r, err := prepare(ctx, module, flowSpec, opts, nil)
	if err != nil {
		return exported(err)
	}
	defer r.close(ctx)
	return r.exported(r.run(ctx))
}

// run is one prepared run: a runtime, a built instance per worker, a plan.
type runner struct {
	opts  *Options
	rt    *guest.Runtime
	insts []*guest.Instance
	plan  *plan.Plan
	conns conns
	// stop is the engine's stop channel once the run started: the
	// caller's, or in a cluster, a stop of any process.
	stop <-chan struct{}
}

func prepare(ctx context.Context, module, flowSpec string, given Options, test *testIO) (*runner, error) {
	opts := given.withDefaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	if flowSpec == "" {
		flowSpec = "flow"
	}
	name, args, err := flowspec.Parse(flowSpec)
	if err != nil {
		return nil, err
	}
	r := &runner{opts: &opts}
	opts.Watchdog.table().SetFirstWorker(opts.ProcessID * opts.WorkersPerProcess)
	if err := r.load(ctx, module, opts.WorkersPerProcess); err != nil {
		r.close(ctx)
		return nil, err
	}
	if err := r.build(ctx, module, abi.BuildRequest{Flow: name, Args: args}, test); err != nil {
		r.close(ctx)
		return nil, err
	}
	return r, nil
}

func (r *runner) load(ctx context.Context, module string, workers int) error {
	rt, err := newRuntime(ctx, r.opts)
	if err != nil {
		return err
	}
	r.rt = rt
	mod, err := rt.Load(ctx, module)
	if err != nil {
		return err
	}
	for i := 0; i < workers; i++ {
		inst, err := mod.InstantiateWatched(ctx, r.opts.Watchdog.table().Slot(i))
		if err != nil {
			return err
		}
		r.insts = append(r.insts, inst)
	}
	return nil
}

func newRuntime(ctx context.Context, opts *Options) (*guest.Runtime, error) {
	return guest.NewRuntime(ctx, guest.Config{
		CacheDir:         cacheDir(opts.CacheDir),
		MemoryLimitPages: uint32(opts.MemoryLimitMiB) * 16,
		Stdout:           opts.Stdout,
		Stderr:           opts.Stderr,
		MaxModuleSize:    opts.MaxModuleSize,
		Watch:            opts.Watchdog.table(),
	})
}

// cacheDir resolves Options.CacheDir: "" is the user cache directory, "-"
// turns the cache off.
func cacheDir(dir string) string {
	switch dir {
	case "-":
		return ""
	case "":
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		return filepath.Join(base, "bxwasm")
	}
	return dir
}

// build builds the flow on every instance, checks they agree, plans it and
// fuses its chains.
func (r *runner) build(ctx context.Context, module string, q abi.BuildRequest, test *testIO) error {
	if err := checkFlow(ctx, r.insts[0], module, q.Flow); err != nil {
		return err
	}
	var first *abi.Graph
	for i, inst := range r.insts {
		g, err := inst.Build(ctx, q)
		if err != nil {
			return fmt.Errorf("building flow %q of %s: %w", q.Flow, module, err)
		}
		if i == 0 {
			first = g
		} else if !reflect.DeepEqual(first, g) {
			return fmt.Errorf("%w: worker %d built a different graph than worker 0 for %q", ErrNondeterministic, i, q.Flow)
		}
	}
	if test != nil {
		if err := test.rewire(first); err != nil {
			return err
		}
	}
	p, err := plan.Build(first)
	if err != nil {
		return fmt.Errorf("flow %q of %s: %w", q.Flow, module, err)
	}
	r.plan = p
	r.opts.Watchdog.table().SetLabels(watchLabels(p))
	if err := r.fuse(ctx); err != nil {
		return err
	}
	r.conns, err = openConns(p.Graph, r.opts, test)
	return err
}

func checkFlow(ctx context.Context, inst *guest.Instance, module, name string) error {
	flows, err := inst.ListFlows(ctx)
	if err != nil {
		return fmt.Errorf("listing flows of %s: %w", module, err)
	}
	var sigs []string
	for _, f := range flows {
		if f.Name == name {
			return nil
		}
		sigs = append(sigs, flowInfo(f).Signature())
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: %s registers no flows (call bx.Register in an init function)", ErrNoFlow, module)
	}
	return fmt.Errorf("%w: %s has no flow named %q; it has: %s", ErrNoFlow, module, name, strings.Join(sigs, ", "))
}

func (r *runner) fuse(ctx context.Context) error {
	for i, n := range r.plan.Nodes {
		if n.Kind != plan.NodeChain {
			continue
		}
		steps := make([]uint32, len(n.Steps))
		for k, s := range n.Steps {
			steps[k] = uint32(s)
		}
		for _, inst := range r.insts {
			if err := inst.Fuse(ctx, abi.FuseRequest{Chain: uint32(i), Steps: steps}); err != nil {
				return fmt.Errorf("fusing steps of %s: %w", r.plan.Graph.Steps[n.Step()].ID, err)
			}
		}
	}
	return nil
}

func (r *runner) run(ctx context.Context) error {
	if err := r.checkResets(); err != nil {
		return err
	}
	cfg := r.engineConfig()
	var store *recovery.SQLite
	var watch []<-chan error
	if r.opts.RecoveryDir != "" && r.opts.ProcessID == 0 {
		// Process 0 creates the store if need be and records the
		// execution; the others open it once they have heard from it.
		var err error
		if store, err = r.openStore(ctx); err != nil {
			return err
		}
		defer store.Close()
		if cfg.Recovery, err = begin(ctx, store, cfg.TotalWorkers, r.opts.Stderr, r.opts.ResetSources); err != nil {
			return err
		}
		gcErrs, stopGC := r.collectGarbage(ctx, store)
		defer stopGC() // before the store closes
		watch = append(watch, gcErrs)
	}
	var err error
	if r.opts.Processes > 1 {
		err = r.runCluster(ctx, cfg, watch)
	} else {
		local := transport.NewLocal(len(r.insts))
		defer local.Close()
		local.SetMaxItemSize(r.opts.MaxItemSizeMiB << 20)
		for i := range r.insts {
			cfg.Endpoints = append(cfg.Endpoints, local.Endpoint(i))
		}
		r.stop = cfg.Stop
		err = runWatched(ctx, cfg, watch...)
	}
	if err == nil && store != nil && closed(r.stop) {
		r.reportStop(ctx, store)
	}
	return err
}

// closed reports whether ch is closed (false for nil).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// engineConfig is the engine's configuration for this process's workers,
// without the transport.
func (r *runner) engineConfig() engine.Config {
	n := len(r.insts)
	cfg := engine.Config{
		Plan: r.plan, FirstWorker: r.opts.ProcessID * n, TotalWorkers: r.opts.Processes * n,
		Sources: r.conns.sources, Sinks: r.conns.sinks,
		EpochInterval: r.opts.EpochInterval, Stop: r.opts.Stop,
	}
	if r.opts.DeadLetter != "" {
		cfg.DeadLetter = r.deadLetter
	}
	for _, inst := range r.insts {
		cfg.Guests = append(cfg.Guests, inst)
	}
	return cfg
}

func (r *runner) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	r.conns.close()
	for _, inst := range r.insts {
		inst.Close(ctx)
	}
	if r.rt != nil {
		r.rt.Close(ctx)
	}
}
