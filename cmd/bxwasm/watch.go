package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/cluster"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// A command that runs guest code (run, inspect) runs it in a child
// process of itself that this process watches: a guest stuck in a call
// stalls the whole Go runtime of its process, so only another process can
// stop it, on --call-timeout, on --compile-timeout, or when a stop asked
// for by a signal takes too long.

// envNoWatchdog, set to 1, runs guest code in this process, with no
// supervisor: the limits then do not apply and a guest stuck in a call
// cannot be stopped but by SIGKILL. The benchmark's baseline for what the
// limits cost.
const envNoWatchdog = "BXWASM_NO_WATCHDOG"

// watched reports whether this process runs guest code itself: it is a
// watched child, or the watchdog is off.
func watched() bool { return os.Getenv(watchdog.EnvFD) != "" || os.Getenv(envNoWatchdog) == "1" }

// limitFlags are the limits on guest code, kept by the watching process.
type limitFlags struct {
	CallTimeout    time.Duration `default:"60s" env:"BXWASM_CALL_TIMEOUT" help:"Longest a single call into a guest may run (a batch of a step, instantiation, the flow factory) before the run fails; 0 for no limit."`
	CompileTimeout time.Duration `default:"60s" env:"BXWASM_COMPILE_TIMEOUT" help:"Longest compiling the module may take; 0 for no limit."`
	MaxModuleSize  int           `default:"64" env:"BXWASM_MAX_MODULE_SIZE" help:"Largest module file accepted, in MiB; a larger one is refused before it is read."`
}

// Validate refuses negative limits.
func (f limitFlags) Validate() error {
	switch {
	case f.CallTimeout < 0:
		return fmt.Errorf("--call-timeout must not be negative (0 turns it off), got %s", f.CallTimeout)
	case f.CompileTimeout < 0:
		return fmt.Errorf("--compile-timeout must not be negative (0 turns it off), got %s", f.CompileTimeout)
	case f.MaxModuleSize < 1 || f.MaxModuleSize > 4096:
		return fmt.Errorf("--max-module-size must be between 1 and 4096 MiB, got %d", f.MaxModuleSize)
	}
	return nil
}

func (f limitFlags) limits() watchdog.Limits {
	return watchdog.Limits{Call: f.CallTimeout, Compile: f.CompileTimeout}
}

// watchChild runs this command again as one watched child process with
// this process's standard streams, and waits for it. slots is its number
// of workers plus one.
func watchChild(ctx context.Context, s streams, slots int, lim watchdog.Limits) error {
	sup := cluster.Supervisor{Processes: 1, Args: s.args, Direct: true,
		Stdin: s.in, Stdout: s.out, Stderr: s.err,
		Watch: &cluster.Watch{Slots: slots, Limits: lim}}
	return childError(sup.Run(ctx))
}

// childError turns how watched children ended into the command's error:
// a child that failed has said why already.
func childError(err error) error {
	var pe *cluster.ProcessError
	if errors.As(err, &pe) && pe.Signal == "" {
		return errReported
	}
	return err
}

// openWatchdog attaches this watched child to its supervisor's table.
func openWatchdog(o *host.Options) error {
	w, err := host.WatchdogFromEnv()
	o.Watchdog = w
	return err
}
