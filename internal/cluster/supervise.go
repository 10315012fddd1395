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

	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// EnvProcessID is the environment variable that tells a child of Supervise
// its process id.
const EnvProcessID = "BXWASM_PROCESS_ID"

// DefaultGrace is how long Supervise lets the other processes stop on their
// own after one failed, before it kills them.
const DefaultGrace = 2 * time.Second

// DefaultStopGrace is how long Supervise lets the children finish a stop
// that a signal asked for before it kills them.
const DefaultStopGrace = 5 * time.Second

// Supervisor runs a local cluster of child processes. The zero values of
// Path, Grace and StopGrace mean os.Executable(), DefaultGrace and
// DefaultStopGrace.
type Supervisor struct {
	Processes int           // how many children: ids 0 .. Processes-1
	Args      []string      // the children's arguments (without argv[0])
	Env       []string      // added to this process's environment
	Stdout    io.Writer     // receives the children's stdout, whole lines; nil discards
	Stderr    io.Writer     // receives the children's stderr, whole lines; nil discards
	Path      string        // the executable to run
	Grace     time.Duration // before the others are killed after a failure
	Secret    []byte        // when set, handed to each child on an inherited pipe (see SecretFromEnv)
	// Watch, when set, gives every child a watchdog table and kills the
	// children when a guest call overruns its limit (see Watch).
	Watch *Watch
	// StopGrace is how long the children may take to stop after the first
	// SIGINT or SIGTERM; past it, or at a second signal, they are killed.
	StopGrace time.Duration
	// Direct hands this process's Stdin, and Stdout and Stderr unbuffered,
	// to a single child, which then reads and writes them as if it were
	// this process. BXWASM_PROCESS_ID is not set.
	Direct bool
	Stdin  io.Reader // the child's stdin with Direct
}

// Watch configures the watchdog of a Supervisor.
type Watch struct {
	Slots  int             // slots of each child's table: its workers, and one for the process
	Limits watchdog.Limits // how long a call may run
	Poll   time.Duration   // how often the tables are read (default: 100ms, or a tenth of the smallest limit)
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
	if s.StopGrace <= 0 {
		s.StopGrace = DefaultStopGrace
	}
	if s.Direct && s.Processes != 1 {
		return s, fmt.Errorf("%w: Direct needs one process, not %d", ErrConfig, s.Processes)
	}
	if s.Watch != nil && s.Watch.Poll <= 0 {
		s.Watch.Poll = s.Watch.poll()
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
	if s.Direct {
		return env
	}
	return append(env, EnvProcessID+"="+strconv.Itoa(i))
}

// poll is how often to read the tables: often enough to stop a call
// within a tenth of its limit, and never more than every 100ms.
func (w *Watch) poll() time.Duration {
	p := 100 * time.Millisecond
	for _, l := range []time.Duration{w.Limits.Call, w.Limits.Compile} {
		if l > 0 && l/10 < p {
			p = max(l/10, time.Millisecond)
		}
	}
	return p
}
