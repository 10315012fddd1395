//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestChaos runs short sessions: a running count over 30k lines, killed
// four times at random scales, each time after it committed an epoch, and
// resumed from a recovery directory (at least one run must resume from a
// committed epoch); and, to test the harness alone, a smaller one rerun
// from scratch each time.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos session: seconds per kill")
	}
	bin := buildBxwasmForTest(t)
	wasm := testutil.BuildWasm(t, "testdata/flow")
	cases := []struct {
		name         string
		recovery     bool
		lines, kills int
		maxWait      time.Duration
		fromCommit   bool
	}{
		{"restart", false, 10_000, 3, 1500 * time.Millisecond, false},
		// Killed at random within 1.5s of its start, a run on a slow
		// machine often commits no epoch, and the next would start from
		// nothing: each run is killed within 300ms of its first commit.
		{"resume", true, 30_000, 4, 300 * time.Millisecond, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Bxwasm, cfg.Wasm, cfg.Dir = bin, wasm, t.TempDir()
			cfg.Lines, cfg.Kills, cfg.Recovery = tc.lines, tc.kills, tc.recovery
			cfg.MaxWait, cfg.FromCommit = tc.maxWait, tc.fromCommit
			if tc.fromCommit {
				cfg.Epoch = 50 * time.Millisecond // commits before the input is read through
			}
			cfg.CacheDir, cfg.Log = testutil.CacheDir(t), testLog{t}
			began := time.Now()
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var sum strings.Builder
			rep.print(&sum)
			t.Logf("%s in %.1fs", strings.TrimSpace(sum.String()), time.Since(began).Seconds())
			if !rep.OK() {
				t.Error("session failed")
			}
			if len(rep.Kills)+rep.Completed == 0 {
				t.Error("no run was killed, none completed")
			}
			if tc.recovery && rep.Resumes == 0 {
				t.Error("no run resumed from a committed epoch after a kill: the session tested fresh starts only")
			}
			if left := leftovers(t, bin); len(left) > 0 {
				t.Errorf("processes of %s left running: %v", bin, left)
			}
		})
	}
}

// TestRunErrors checks the sessions that cannot run.
func TestRunErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bxwasm")
	}
	bin := buildBxwasmForTest(t)
	notWasm := filepath.Join(t.TempDir(), "flow.wasm")
	if err := os.WriteFile(notWasm, []byte("not a module"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(*Config)
		want error
	}{
		{"no lines", func(c *Config) { c.Lines = 0 }, ErrConfig},
		{"negative kills", func(c *Config) { c.Kills = -1 }, ErrConfig},
		{"no wait", func(c *Config) { c.MaxWait = 0 }, ErrConfig},
		{"module that does not load", func(c *Config) { c.Wasm = notWasm }, ErrClean},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Bxwasm, cfg.Dir, cfg.Lines, cfg.Recovery = bin, t.TempDir(), 100, false
			tc.edit(&cfg)
			_, err := Run(context.Background(), cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// buildBxwasmForTest builds the bxwasm command into a temporary directory.
func buildBxwasmForTest(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "bxwasm")
	if err := buildBxwasm(context.Background(), root, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// leftovers lists the processes running bin.
func leftovers(t *testing.T, bin string) []string {
	t.Helper()
	exes, _ := filepath.Glob("/proc/[0-9]*/exe")
	var left []string
	for _, exe := range exes {
		if target, err := os.Readlink(exe); err == nil && target == bin {
			left = append(left, filepath.Base(filepath.Dir(exe)))
		}
	}
	return left
}

// testLog writes the session's log lines into the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
