package hostile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveCommand()
	os.Exit(code)
}

// bxwasm builds the command once per test process.
func bxwasm(t *testing.T) string { return testutil.Command(t, "../../cmd/bxwasm") }

// wat assembles testdata/name.wat with wat2wasm.
func wat(t *testing.T, name string) string {
	return testutil.BuildWat(t, filepath.Join("testdata", name+".wat"))
}

// attack is one hostile module and what the command must do with it.
type attack struct {
	name   string
	module func(t *testing.T) string // the module's path
	args   func(module string) []string
	// setup adjusts the command before it starts (its streams).
	setup func(t *testing.T, cmd *exec.Cmd)
	// signals are sent to the command at these times after it started.
	signals []timedSignal
	// want are substrings of its standard error; it must exit non-zero
	// unless exitZero.
	want     []string
	exitZero bool
	// maxErr, if not 0, bounds the size of its standard error.
	maxErr int
	// wantOut are substrings of its standard output.
	wantOut []string
	// within bounds how long the command may take, start-up and
	// compilation included.
	within time.Duration
}

type timedSignal struct {
	after time.Duration
	sig   syscall.Signal
}

// loops is the Go guest whose flows never return.
func loops(t *testing.T) string { return testutil.BuildWasm(t, "testdata/loops") }

func runArgs(flow string, more ...string) func(string) []string {
	return func(module string) []string { return append([]string{"run", module + ":" + flow}, more...) }
}

func inspectArgs(more ...string) func(string) []string {
	return func(module string) []string { return append([]string{"inspect", module}, more...) }
}

func TestHostileGuests(t *testing.T) {
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			a.run(t)
		})
	}
}

// run runs the attack and checks its outcome.
func (a attack) run(t *testing.T) {
	module := a.module(t)
	cache := testutil.CacheDir(t)
	args := append(a.args(module), "--cache-dir", cache)
	cmd := exec.Command(bxwasm(t), args...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if a.setup != nil {
		a.setup(t, cmd)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, s := range a.signals {
		time.Sleep(time.Until(start.Add(s.after)))
		cmd.Process.Signal(s.sig)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(a.within):
		cmd.Process.Kill()
		<-done
		t.Fatalf("bxwasm %s still ran after %s; stderr:\n%s", strings.Join(args, " "), a.within, stderr.String())
	}
	took := time.Since(start)
	if (err == nil) != a.exitZero {
		t.Fatalf("bxwasm %s: exit %v after %s, want exit zero %v; stderr:\n%s", strings.Join(args, " "), err, took, a.exitZero, stderr.String())
	}
	for _, w := range a.want {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
		}
	}
	if a.maxErr > 0 && stderr.Len() > a.maxErr {
		t.Errorf("stderr has %d bytes, want at most %d", stderr.Len(), a.maxErr)
	}
	for _, w := range a.wantOut {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("stdout does not say %q:\n%s", w, stdout.String())
		}
	}
	noChildLeft(t, cmd.Dir)
	t.Logf("ended after %s: %s", took.Round(10*time.Millisecond), strings.TrimSpace(stderr.String()))
}

// noChildLeft checks that no process is left of the command's: every
// process it started works in its directory.
func noChildLeft(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return // no /proc to look in
	}
	for _, e := range entries {
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			t.Errorf("process %s is still running in the command's directory: %s", e.Name(), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
}
