package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// EnvProcessID is the environment variable that tells a child of Supervise
// its process id.
const EnvProcessID = "BXWASM_PROCESS_ID"

// DefaultGrace is how long Supervise lets the other processes stop on their
// own after one failed, before it kills them.
const DefaultGrace = 2 * time.Second

// Supervisor runs a local cluster of child processes. The zero values of
// Path and Grace mean os.Executable() and DefaultGrace.
type Supervisor struct {
	Processes int           // how many children: ids 0 .. Processes-1
	Args      []string      // the children's arguments (without argv[0])
	Env       []string      // added to this process's environment
	Stdout    io.Writer     // receives the children's stdout, whole lines; nil discards
	Stderr    io.Writer     // receives the children's stderr, whole lines; nil discards
	Path      string        // the executable to run
	Grace     time.Duration // before the others are killed after a failure
	Secret    []byte        // when set, handed to each child on an inherited pipe (see SecretFromEnv)
}

// Supervise runs a local cluster: it starts n child processes of this
// executable with args, each with this process's environment plus env plus
// BXWASM_PROCESS_ID=<i>, streams their output line by line to stdout and
// stderr, forwards SIGINT and SIGTERM to them, and waits for all of them.
// As soon as one child exits non-zero (or is killed), the others get a grace
// period of DefaultGrace, then are killed; the error is a *ProcessError
// naming the first failed process and how it ended. Cancelling ctx kills
// every child. Supervise never returns while a child is still running.
func Supervise(ctx context.Context, n int, args []string, env []string, stdout, stderr io.Writer) error {
	return Supervisor{Processes: n, Args: args, Env: env, Stdout: stdout, Stderr: stderr}.Run(ctx)
}

// Run is Supervise with every setting.
func (s Supervisor) Run(ctx context.Context) error {
	s, err := s.withDefaults()
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	g := newGroup(s)
	started, release := make(chan error), make(chan struct{})
	defer close(release)
	go g.spawn(started, release)
	if err := <-started; err != nil {
		g.killAll()
		g.waitAll()
		return err
	}
	return g.wait(ctx, sigs)
}

// withDefaults validates s and fills in Path, Grace and the writers.
func (s Supervisor) withDefaults() (Supervisor, error) {
	if s.Processes < 1 {
		return s, fmt.Errorf("%w: %d processes", ErrConfig, s.Processes)
	}
	if s.Path == "" {
		exe, err := os.Executable()
		if err != nil {
			return s, fmt.Errorf("cluster: find this executable: %w", err)
		}
		s.Path = exe
	}
	if s.Grace <= 0 {
		s.Grace = DefaultGrace
	}
	if s.Stdout == nil {
		s.Stdout = io.Discard
	}
	if s.Stderr == nil {
		s.Stderr = io.Discard
	}
	return s, nil
}

// ProcessError is how a child of Supervise ended when it failed.
type ProcessError struct {
	Process int    // the child's process id
	Status  int    // its exit status, when it exited
	Signal  string // the signal that killed it, or ""
}

// Error implements error.
func (e *ProcessError) Error() string {
	if e.Signal != "" {
		return fmt.Sprintf("process %d was killed by signal: %s", e.Process, e.Signal)
	}
	return fmt.Sprintf("process %d exited with status %d", e.Process, e.Status)
}

// Unwrap makes a ProcessError match ErrProcessFailed.
func (e *ProcessError) Unwrap() error { return ErrProcessFailed }

// exitError turns cmd.Wait's error into a *ProcessError (nil on success).
func exitError(process int, err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("cluster: process %d: %w", process, err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &ProcessError{Process: process, Status: -1, Signal: ws.Signal().String()}
	}
	return &ProcessError{Process: process, Status: ee.ExitCode()}
}

// childEnv is the environment of child i.
func (s Supervisor) childEnv(i int) []string {
	env := append(os.Environ(), s.Env...)
	return append(env, EnvProcessID+"="+strconv.Itoa(i))
}
