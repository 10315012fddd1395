//go:build linux

// Command chaos crashes and resumes a stateful bxwasm flow many times and
// checks that its output is the output of a run without crashes.
//
//	go run ./internal/chaos [-kills 20] [-lines 300000] [-max-wait 3s] [-rescale=false]
//
// It builds bin/bxwasm and the flow of testdata/flow (a running count per
// word, written to a file), generates an input of -lines lines, runs the
// flow once cleanly on one worker, then starts it again and again with
// the same recovery directory, each time at a random scale (-p/-w), and
// SIGKILLs one of its processes (a cluster's process or its supervisor)
// after a random time. After -kills runs it lets the flow complete and
// compares the output with the clean run's, as sorted lines. It exits 1
// when they differ or a run failed other than by its kill, 2 when the
// session could not run. Linux only: it finds processes in /proc.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run parses args, runs the session and returns the exit code.
func run(ctx context.Context, args []string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		return 2
	}
	cfg.Log = os.Stdout
	rep, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if rep != nil {
			fmt.Fprintf(os.Stderr, "files in %s\n", rep.Dir)
		}
		return 2
	}
	rep.print(os.Stdout)
	if !rep.OK() {
		return 1
	}
	return 0
}

// parseFlags turns the command line into a Config.
func parseFlags(args []string) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.StringVar(&cfg.Bxwasm, "bxwasm", "", "bxwasm binary to test (default: build bin/bxwasm)")
	fs.StringVar(&cfg.Dir, "dir", "", "work directory (default: a temporary one, removed when the session passes)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the temporary work directory when the session passes")
	fs.IntVar(&cfg.Lines, "lines", cfg.Lines, "lines of input")
	fs.IntVar(&cfg.Vocab, "vocab", cfg.Vocab, "distinct words of the input")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the input and of the kills")
	fs.IntVar(&cfg.Kills, "kills", cfg.Kills, "runs to kill before the one that must complete")
	fs.DurationVar(&cfg.MaxWait, "max-wait", cfg.MaxWait, "longest time from a run's start to its kill")
	fs.BoolVar(&cfg.FromOutput, "from-output", false, "count -max-wait from the moment a run first changes the output file, not from its start")
	fs.BoolVar(&cfg.FromCommit, "from-commit", false, "count -max-wait from the moment a run commits an epoch, so the next run resumes from it")
	fs.BoolVar(&cfg.Rescale, "rescale", cfg.Rescale, "start each run at a random scale (false: always -p2 -w2)")
	fs.DurationVar(&cfg.Epoch, "epoch-interval", cfg.Epoch, "epoch interval of every run")
	fs.BoolVar(&cfg.Recovery, "recovery", cfg.Recovery, "resume from a recovery directory (false: every run starts over)")
	fs.StringVar(&cfg.CacheDir, "cache-dir", "", "compilation cache of the runs (default: bxwasm's)")
	fs.DurationVar(&cfg.RunTimeout, "run-timeout", cfg.RunTimeout, "longest the clean run and the final run may take")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		return cfg, ErrConfig
	}
	return cfg, nil
}
