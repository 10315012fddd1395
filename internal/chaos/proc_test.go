//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestProcTree starts a shell with two sleeping children, finds them,
// destroys the run and checks that nothing of it is left.
func TestProcTree(t *testing.T) {
	cases := []struct {
		name   string
		script string
		kids   int
	}{
		{"no children", "sleep 60", 0},
		{"two children", "sleep 60 & sleep 60 & wait", 2},
		{"grandchild in its own group", "setsid sh -c 'sleep 60 & wait' & wait", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := start("/bin/sh", []string{"-c", tc.script}, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer p.destroy()
			var ds []pidInfo
			for deadline := time.Now().Add(10 * time.Second); len(ds) < tc.kids; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("found %d descendants, want %d", len(ds), tc.kids)
				}
				ds = p.descendants()
			}
			if p.wait(context.Background(), 100*time.Millisecond) {
				t.Fatal("the run ended by itself")
			}
			p.destroy()
			for _, d := range append(ds, p.root) {
				if d.alive() {
					t.Errorf("pid %d still runs", d.pid)
				}
			}
			if !strings.Contains(p.status(), "killed") {
				t.Errorf("status %q, want killed", p.status())
			}
		})
	}
}

func TestProcessIndex(t *testing.T) {
	cases := []struct {
		name string
		env  string
		want string
	}{
		{"set", "BXWASM_PROCESS_ID=3", "3"},
		{"unset", "OTHER=1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("sleep", "60")
			cmd.Env = append(withoutProcessID(), tc.env)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			waitExec(t, cmd.Process.Pid, "sleep")
			if got := processIndex(cmd.Process.Pid); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// withoutProcessID is this process's environment without
// BXWASM_PROCESS_ID.
func withoutProcessID() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BXWASM_PROCESS_ID=") {
			env = append(env, kv)
		}
	}
	return env
}

func TestTail(t *testing.T) {
	cases := []struct {
		name   string
		writes []string
		want   string
	}{
		{"fits", []string{"ab", "cd"}, "abcd"},
		{"exactly", []string{"abcdefgh"}, "abcdefgh"},
		{"cut", []string{"abcdef", "ghij"}, "[...]cdefghij"},
		{"one big write", []string{"0123456789abc"}, "[...]56789abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := &tail{max: 8}
			for _, w := range tc.writes {
				if n, err := tl.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if got := tl.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// waitExec waits until pid runs name: between fork and exec a child still
// shows its parent's command line and environment.
func waitExec(t *testing.T, pid int, name string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.HasPrefix(string(b), name) {
			return
		}
	}
	t.Fatalf("process %d did not start %s", pid, name)
}
