package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestCPUProfile runs a flow with --cpuprofile (and BXWASM_CPUPROFILE) on
// one process and on two, and checks that every process that ran guests
// wrote a profile go tool pprof reads, and that no other file appeared.
func TestCPUProfile(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	text := strings.Repeat("the cat saw the dog\n", 2000)
	tests := []struct {
		name  string
		args  []string
		env   bool // give the path in BXWASM_CPUPROFILE instead of the flag
		files []string
	}{
		{"one process", []string{"-w2"}, false, []string{"cpu.prof"}},
		{"from the environment", []string{"-w1"}, true, []string{"cpu.prof"}},
		{"two processes", []string{"-p2", "-w1"}, false, []string{"cpu.prof", "cpu.prof.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work, profiles := t.TempDir(), t.TempDir()
			if err := os.WriteFile(filepath.Join(work, "in.txt"), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(profiles, "cpu.prof")
			args := append([]string{"run", wc + `:get_flow("in.txt")`}, tt.args...)
			env := []string{cacheEnv(t)}
			if tt.env {
				env = append(env, "BXWASM_CPUPROFILE="+path)
			} else {
				args = append(args, "--cpuprofile", path)
			}
			r := bxwasm(t, work, "", env, args...)
			if r.code != 0 || !strings.Contains(r.stdout, "the\t4000") {
				t.Fatalf("exit %d, stdout %q: %s", r.code, r.stdout, r.err)
			}
			entries, err := os.ReadDir(profiles)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
				checkProfile(t, filepath.Join(profiles, e.Name()))
			}
			if strings.Join(got, " ") != strings.Join(tt.files, " ") {
				t.Fatalf("profiles %q, want %q", got, tt.files)
			}
		})
	}
}

// TestCPUProfileUnwritable expects a profile that cannot be created to
// fail the run before it starts, naming the flag.
func TestCPUProfileUnwritable(t *testing.T) {
	echo := testutil.BuildWasm(t, "testdata/echo")
	bad := filepath.Join(t.TempDir(), "no-such-dir", "cpu.prof")
	r := bxwasm(t, t.TempDir(), "a\n", []string{cacheEnv(t)}, "run", echo, "--cpuprofile", bad)
	if r.code != 1 || !strings.Contains(r.err, "--cpuprofile") || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.err)
	}
}

// checkProfile fails unless path is a gzip-compressed profile that
// go tool pprof reads.
func checkProfile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("%s is not gzip-compressed (%d bytes)", path, len(b))
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Type: cpu") {
		t.Fatalf("go tool pprof -top %s: %v\n%s", path, err, out)
	}
}

// TestNoCPUProfile runs on two processes without --cpuprofile: no process
// may write a profile (process 1 once wrote one named ".1").
func TestNoCPUProfile(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "in.txt"), []byte("a b a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-p2", "-w1")
	if r.code != 0 || !strings.Contains(r.stdout, "a\t2") {
		t.Fatalf("exit %d, stdout %q: %s", r.code, r.stdout, r.err)
	}
	entries, err := os.ReadDir(work)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "in.txt" {
			t.Errorf("the run left %s in its working directory", e.Name())
		}
	}
}
