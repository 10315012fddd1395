//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrConfig is returned for a Config that cannot run.
var ErrConfig = errors.New("chaos: bad config")

// Config is one chaos session. DefaultConfig gives its defaults.
type Config struct {
	Bxwasm      string        // the bxwasm binary; "" builds bin/bxwasm of the module
	Wasm        string        // the flow module; "" builds testdata/flow into Dir
	Dir         string        // input, outputs and recovery stores; "" is a new temporary directory
	Keep        bool          // keep a temporary Dir even when the session passes
	Lines       int           // lines of the generated input
	Vocab       int           // distinct words of the generated input
	Seed        uint64        // seeds the input and the harness's choices
	Kills       int           // SIGKILLs before the run that must complete
	MaxWait     time.Duration // longest time from a run's start to its kill
	FromOutput  bool          // count MaxWait from the run's first change of the output file
	FromCommit  bool          // count MaxWait from the run's first committed epoch (with Recovery)
	Rescale     bool          // each run picks its scale from Scales; false keeps -p2 -w2
	Epoch       time.Duration // --epoch-interval of every run
	Recovery    bool          // pass --recovery-directory; false reruns from scratch every time
	CacheDir    string        // --cache-dir of every run; "" leaves bxwasm's default
	RunTimeout  time.Duration // bounds the clean run and the final run
	ExitTimeout time.Duration // bounds how long a run may take to end after a kill
	Log         io.Writer     // receives a line per kill and the summary; nil discards
}

// DefaultConfig returns the defaults of the chaos command.
func DefaultConfig() Config {
	return Config{
		Lines: 1_000_000, Vocab: 5_000, Seed: 1, Kills: 20, MaxWait: 3 * time.Second,
		Rescale: true, Epoch: 200 * time.Millisecond, Recovery: true,
		RunTimeout: 10 * time.Minute, ExitTimeout: 30 * time.Second,
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Lines < 1 || c.Vocab < 1:
		return fmt.Errorf("%w: %d lines of %d words", ErrConfig, c.Lines, c.Vocab)
	case c.Kills < 0:
		return fmt.Errorf("%w: %d kills", ErrConfig, c.Kills)
	case c.MaxWait <= 0 || c.Epoch <= 0 || c.RunTimeout <= 0 || c.ExitTimeout <= 0:
		return fmt.Errorf("%w: durations must be positive", ErrConfig)
	}
	return nil
}

// Scale is the shape of a run: processes and workers per process.
type Scale struct{ P, W int }

// String renders the scale as bxwasm flags.
func (s Scale) String() string { return fmt.Sprintf("-p%d -w%d", s.P, s.W) }

// Scales are the shapes a rescaling session picks from.
var Scales = []Scale{{2, 2}, {1, 3}, {3, 1}, {2, 1}, {1, 1}}
