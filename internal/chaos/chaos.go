//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Errors of Run.
var (
	// ErrNoRecovery is returned when the bxwasm binary has no
	// --recovery-directory flag.
	ErrNoRecovery = errors.New("chaos: bxwasm has no --recovery-directory flag")
	// ErrClean is returned when the clean run fails or writes other lines
	// than the counts of the input.
	ErrClean = errors.New("chaos: the clean run is wrong")
)

// Files of the work directory (the runs' working directory, so the flow
// names them relative to it).
const (
	inputFile     = "in.txt"
	cleanOutput   = "clean.txt"
	cleanRecovery = "clean.recovery"
	chaosOutput   = "chaos.txt"
	chaosRecovery = "chaos.recovery"
)

// session is one Run: its settings, its random choices and its paths.
type session struct {
	cfg  Config
	rng  *rand.Rand
	log  io.Writer
	bin  string // bxwasm
	wasm string // the flow
	dir  string // the work directory
}

// Run generates the input, runs the flow once cleanly, then again under
// SIGKILLs at random moments (resuming each time from the same recovery
// directory), and compares the two outputs. The error is for a session
// that could not run (a build, the clean run); the Report tells whether
// the chaos run passed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := newSession(cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Dir: s.dir, Lines: cfg.Lines}
	err = s.run(ctx, rep)
	if err == nil && rep.OK() && cfg.Dir == "" && !cfg.Keep {
		os.RemoveAll(s.dir)
	}
	return rep, err
}

// newSession makes the work directory and fills in the paths.
func newSession(cfg Config) (*session, error) {
	s := &session{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 2)), log: cfg.Log, dir: cfg.Dir}
	if s.log == nil {
		s.log = io.Discard
	}
	var err error
	if s.dir == "" {
		s.dir, err = os.MkdirTemp("", "bxwasm-chaos-")
	} else {
		err = os.MkdirAll(s.dir, 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("chaos: work directory: %w", err)
	}
	if s.dir, err = filepath.Abs(s.dir); err != nil {
		return nil, fmt.Errorf("chaos: work directory: %w", err)
	}
	return s, nil
}

// run is Run past the setup.
func (s *session) run(ctx context.Context, rep *Report) error {
	if err := s.prepare(ctx); err != nil {
		return err
	}
	clean, err := s.clean(ctx, rep)
	if err != nil {
		return err
	}
	began := time.Now()
	if err := s.chaos(ctx, rep); err != nil {
		return err
	}
	if err := s.final(ctx, rep); err != nil {
		return err
	}
	rep.Chaos = time.Since(began)
	got, err := outputLines(filepath.Join(s.dir, chaosOutput))
	if err != nil {
		return err
	}
	rep.Diff = compareSorted(clean, got)
	return nil
}

// prepare builds what is missing, checks the binary and writes the input.
func (s *session) prepare(ctx context.Context) error {
	if err := s.build(ctx); err != nil {
		return err
	}
	if s.cfg.Recovery {
		help, _ := execOutput(ctx, s.bin, "run", "--help")
		if !strings.Contains(help, "--recovery-directory") {
			return fmt.Errorf("%w (%s)", ErrNoRecovery, s.bin)
		}
	}
	fmt.Fprintf(s.log, "input: %d lines over %d words in %s\n", s.cfg.Lines, s.cfg.Vocab, s.dir)
	return writeInput(filepath.Join(s.dir, inputFile), s.cfg.Lines, s.cfg.Vocab, s.cfg.Seed)
}

// build builds bxwasm and the flow unless the config names them.
func (s *session) build(ctx context.Context) error {
	s.bin, s.wasm = s.cfg.Bxwasm, s.cfg.Wasm
	if s.bin != "" && s.wasm != "" {
		return absPaths(&s.bin, &s.wasm)
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if s.bin == "" {
		s.bin = filepath.Join(root, "bin", "bxwasm")
		fmt.Fprintf(s.log, "building %s\n", s.bin)
		if err := buildBxwasm(ctx, root, s.bin); err != nil {
			return err
		}
	}
	if s.wasm == "" {
		s.wasm = filepath.Join(s.dir, "flow.wasm")
		fmt.Fprintf(s.log, "building %s\n", s.wasm)
		if err := buildFlow(ctx, root, s.wasm); err != nil {
			return err
		}
	}
	return absPaths(&s.bin, &s.wasm)
}

// clean runs the flow once without kills on one worker, checks its
// output against the counts of the input and returns its sorted lines.
func (s *session) clean(ctx context.Context, rep *Report) ([]string, error) {
	began := time.Now()
	fail, _, err := s.complete(ctx, "clean", Scale{1, 1}, cleanOutput, cleanRecovery)
	rep.Clean = time.Since(began)
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, fmt.Errorf("%w: %s", ErrClean, fail)
	}
	want, err := expectedLines(filepath.Join(s.dir, inputFile))
	if err != nil {
		return nil, err
	}
	got, err := outputLines(filepath.Join(s.dir, cleanOutput))
	if err != nil {
		return nil, err
	}
	if d := compareSorted(want, got); !d.Equal() {
		return nil, fmt.Errorf("%w: its output against the input's counts: %s", ErrClean, d)
	}
	fmt.Fprintf(s.log, "clean run (%s): %.1fs, %d lines\n", Scale{1, 1}, rep.Clean.Seconds(), len(got))
	return got, nil
}

// final runs the chaos flow to its end without a kill.
func (s *session) final(ctx context.Context, rep *Report) error {
	scale := s.scale()
	began := time.Now()
	fail, stderr, err := s.complete(ctx, "final ("+scale.String()+")", scale, chaosOutput, chaosRecovery)
	rep.noteResume(len(rep.Kills), stderr)
	if err != nil {
		return err
	}
	if fail != nil {
		rep.Failures = append(rep.Failures, *fail)
		return nil
	}
	fmt.Fprintf(s.log, "final run (%s): completed in %.1fs\n", scale, time.Since(began).Seconds())
	return nil
}

// complete runs the flow at scale until it ends (at most RunTimeout),
// and returns a Failure unless it exited 0, and the run's standard error.
// The error is ctx's.
func (s *session) complete(ctx context.Context, name string, scale Scale, out, rec string) (*Failure, string, error) {
	p, err := start(s.bin, s.args(scale, out, rec), s.dir)
	if err != nil {
		return nil, "", err
	}
	defer p.destroy()
	if !p.wait(ctx, s.cfg.RunTimeout) {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		reason := fmt.Sprintf("did not end within %v", s.cfg.RunTimeout)
		return &Failure{Run: name, Reason: reason, Stderr: p.stderr.String()}, p.stderr.String(), nil
	}
	if p.err != nil {
		return &Failure{Run: name, Reason: p.status(), Stderr: p.stderr.String()}, p.stderr.String(), nil
	}
	return nil, p.stderr.String(), nil
}

// args are the arguments of a run.
func (s *session) args(scale Scale, out, rec string) []string {
	a := []string{"run", fmt.Sprintf("%s:get_flow('%s', '%s')", s.wasm, inputFile, out),
		fmt.Sprintf("-p%d", scale.P), fmt.Sprintf("-w%d", scale.W),
		"--epoch-interval", s.cfg.Epoch.String()}
	if s.cfg.Recovery {
		a = append(a, "--recovery-directory", rec)
	}
	if s.cfg.CacheDir != "" {
		a = append(a, "--cache-dir", s.cfg.CacheDir)
	}
	return a
}

// scale picks the scale of the next run.
func (s *session) scale() Scale {
	if !s.cfg.Rescale {
		return Scale{2, 2}
	}
	return Scales[s.rng.IntN(len(Scales))]
}

// outputLines reads an output file's sorted lines; a missing file has
// none.
func outputLines(path string) ([]string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return sortedLines(path)
}

// absPaths makes every path absolute.
func absPaths(paths ...*string) error {
	for _, p := range paths {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
		*p = abs
	}
	return nil
}
