package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// envHelper switches the test binary into a helper process. Its value lists
// one action per process id, comma separated: exit0, exit1, sleep (a
// minute), nap (half a second, then exit 0) or kill (SIGKILL itself).
const envHelper = "BXWASM_CLUSTER_TEST_HELPER"

func TestMain(m *testing.M) {
	if actions := os.Getenv(envHelper); actions != "" {
		os.Exit(helper(actions))
	}
	os.Exit(m.Run())
}

// helper is a child of Supervise: it reports its pid, then does its action.
func helper(actions string) int {
	id, ok := ProcessIDFromEnv()
	list := strings.Split(actions, ",")
	if !ok || id >= len(list) {
		fmt.Fprintln(os.Stderr, "helper: no action for this process")
		return 2
	}
	fmt.Printf("pid %d\n", os.Getpid())
	fmt.Fprintf(os.Stderr, "process %d: %s\n", id, list[id])
	switch list[id] {
	case "exit0":
		return 0
	case "exit1":
		return 1
	case "sleep":
		time.Sleep(time.Minute)
	case "nap":
		time.Sleep(500 * time.Millisecond)
	case "kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case "stuck", "busy":
		return stuck(list[id])
	}
	return 0
}

// stuck records a call of step 0 in its watchdog slot that goes on for a
// minute ("stuck"), or many short calls for two seconds ("busy").
func stuck(action string) int {
	t, err := watchdog.FromEnv()
	if err != nil || t == nil {
		fmt.Fprintln(os.Stderr, "helper: no watchdog table:", err)
		return 2
	}
	t.SetLabels(watchdog.Labels{Steps: []string{`step "s" (map)`}})
	slot := t.Slot(0)
	if action == "stuck" {
		slot.Enter(watchdog.KindStep, 0)
		time.Sleep(time.Minute)
		return 0
	}
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		slot.Enter(watchdog.KindStep, 0)
		time.Sleep(10 * time.Millisecond)
		slot.Leave()
	}
	return 0
}

// helperEnv is the environment that makes children helpers with actions.
// GORACE keeps race-enabled helpers from pausing a second when they exit.
func helperEnv(actions ...string) []string {
	return []string{envHelper + "=" + strings.Join(actions, ","), "GORACE=atexit_sleep_ms=0"}
}

var pidLine = regexp.MustCompile(`(?m)^pid (\d+)$`)

// pids lists the pids the helpers reported.
func pids(b *testutil.Buffer) []int {
	var pids []int
	for _, m := range pidLine.FindAllStringSubmatch(b.String(), -1) {
		pid, _ := strconv.Atoi(m[1])
		pids = append(pids, pid)
	}
	return pids
}

// supervised is a Supervise run in the background.
type supervised struct {
	out, errs testutil.Buffer
	err       chan error
	n         int
}

// superviseHelpers runs one helper per action with the given grace.
func superviseHelpers(ctx context.Context, grace time.Duration, actions ...string) *supervised {
	s := &supervised{err: make(chan error, 1), n: len(actions)}
	sup := Supervisor{Processes: len(actions), Env: helperEnv(actions...),
		Stdout: &s.out, Stderr: &s.errs, Grace: grace}
	go func() { s.err <- sup.Run(ctx) }()
	return s
}

// started waits until every helper has reported its pid.
func (s *supervised) started(t *testing.T) {
	t.Helper()
	waitFor(t, 20*time.Second, "every helper to start", func() bool { return len(pids(&s.out)) == s.n })
}

// result waits for Supervise to return, then checks no helper is left.
func (s *supervised) result(t *testing.T) error {
	t.Helper()
	var err error
	select {
	case err = <-s.err:
	case <-time.After(30 * time.Second):
		t.Fatal("Supervise did not return")
	}
	for _, pid := range pids(&s.out) {
		if e := syscall.Kill(pid, 0); !errors.Is(e, syscall.ESRCH) {
			t.Errorf("helper pid %d still exists after Supervise returned (kill -0: %v)", pid, e)
		}
	}
	return err
}

func TestSuperviseOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		actions []string
		want    string // "" for success
		minTook time.Duration
	}{
		{"all succeed", []string{"exit0", "exit0", "exit0"}, "", 0},
		{"early success does not stop others", []string{"exit0", "nap"}, "", 500 * time.Millisecond},
		{"exit status", []string{"exit1", "sleep", "sleep"}, "process 0 exited with status 1", 300 * time.Millisecond},
		{"killed", []string{"sleep", "kill", "sleep"}, "process 1 was killed by signal: killed", 300 * time.Millisecond},
		{"failure after a success", []string{"exit0", "sleep", "exit1"}, "process 2 exited with status 1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s := superviseHelpers(context.Background(), 300*time.Millisecond, tc.actions...)
			err := s.result(t)
			if len(pids(&s.out)) != len(tc.actions) {
				t.Errorf("stdout has %d pid lines, want %d:\n%s", len(pids(&s.out)), len(tc.actions), s.out.String())
			}
			if took := time.Since(start); took < tc.minTook {
				t.Errorf("returned after %s, want at least %s", took, tc.minTook)
			}
			checkSupervised(t, err, tc.want)
		})
	}
}

// checkSupervised checks Supervise's error against want ("" for none).
func checkSupervised(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Supervise: %v", err)
		}
		return
	}
	var pe *ProcessError
	if !errors.As(err, &pe) || !errors.Is(err, ErrProcessFailed) || err.Error() != want {
		t.Fatalf("Supervise = %v, want ProcessError %q", err, want)
	}
}

func TestSuperviseDefaultGrace(t *testing.T) {
	var out testutil.Buffer
	env := helperEnv("sleep", "exit1")
	start := time.Now()
	err := Supervise(context.Background(), 2, nil, env, &out, nil)
	took := time.Since(start)
	checkSupervised(t, err, "process 1 exited with status 1")
	if took < DefaultGrace || took > DefaultGrace+10*time.Second {
		t.Errorf("returned after %s, want about the grace period %s", took, DefaultGrace)
	}
}

func TestSuperviseStreamsOutput(t *testing.T) {
	s := superviseHelpers(context.Background(), 0, "exit0", "exit0")
	if err := s.result(t); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if line := fmt.Sprintf("process %d: exit0\n", i); !strings.Contains(s.errs.String(), line) {
			t.Errorf("stderr lacks %q:\n%s", line, s.errs.String())
		}
	}
}

func TestSuperviseCancelKillsAll(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := superviseHelpers(ctx, time.Minute, "sleep", "sleep", "sleep")
	s.started(t)
	start := time.Now()
	cancel()
	err := s.result(t)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Supervise = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s to stop after cancel", took)
	}
}

func TestSuperviseForwardsSignals(t *testing.T) {
	s := superviseHelpers(context.Background(), time.Minute, "sleep", "sleep")
	s.started(t)
	// Supervise is listening for SIGTERM until it returns, so this test
	// process survives it; the children get it forwarded.
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	err := s.result(t)
	if !errors.Is(err, ErrProcessFailed) || !strings.HasSuffix(err.Error(), "was killed by signal: terminated") {
		t.Fatalf("Supervise = %v, want a process killed by SIGTERM", err)
	}
}

func TestSuperviseBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		sup  Supervisor
		want error
	}{
		{"no processes", Supervisor{}, ErrConfig},
		{"missing executable", Supervisor{Processes: 2, Path: "/nonexistent/bxwasm"}, os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.sup.Run(context.Background()); !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestWatchStopsAStuckCall runs helpers that record guest calls in their
// watchdog tables: a call past the limit kills every child and is named;
// many short calls are not.
func TestWatchStopsAStuckCall(t *testing.T) {
	for _, tc := range []struct {
		name    string
		actions []string
		want    string
	}{
		{"a stuck call", []string{"sleep", "stuck"}, `step "s" (map) on worker 0 ran for more than 1s in one call (--call-timeout)`},
		{"short calls", []string{"busy"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &supervised{err: make(chan error, 1), n: len(tc.actions)}
			sup := Supervisor{Processes: len(tc.actions), Env: helperEnv(tc.actions...), Stdout: &s.out, Stderr: &s.errs,
				Watch: &Watch{Slots: 2, Limits: watchdog.Limits{Call: time.Second}}}
			go func() { s.err <- sup.Run(context.Background()) }()
			err := s.result(t)
			var over *watchdog.Overrun
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Supervise: %v; stderr:\n%s", err, s.errs.String())
			case tc.want != "" && (!errors.As(err, &over) || err.Error() != tc.want):
				t.Fatalf("Supervise: %v, want an overrun saying %q; stderr:\n%s", err, tc.want, s.errs.String())
			}
		})
	}
}

func TestWatchPoll(t *testing.T) {
	for _, tc := range []struct {
		limits watchdog.Limits
		want   time.Duration
	}{
		{watchdog.Limits{}, 100 * time.Millisecond},
		{watchdog.Limits{Call: time.Minute, Compile: time.Minute}, 100 * time.Millisecond},
		{watchdog.Limits{Call: 500 * time.Millisecond}, 50 * time.Millisecond},
		{watchdog.Limits{Call: time.Minute, Compile: time.Microsecond}, time.Millisecond},
	} {
		if got := (&Watch{Limits: tc.limits}).poll(); got != tc.want {
			t.Errorf("poll for %+v = %s, want %s", tc.limits, got, tc.want)
		}
	}
}
