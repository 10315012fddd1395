package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
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

// binary builds bxwasm once per test process.
func binary(t *testing.T) string { return testutil.Command(t, ".") }

// result is what a run of the binary did.
type result struct {
	code        int
	stdout, err string
}

// bxwasm runs the binary in dir with args, extra environment and stdin.
func bxwasm(t *testing.T, dir, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: out.String(), err: errOut.String()}
}

// cleanEnv is the test's environment without BXWASM_ variables, and with
// a compilation cache shared by the tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BXWASM_") {
			env = append(env, kv)
		}
	}
	return env
}

func cacheEnv(t *testing.T) string { return "BXWASM_CACHE_DIR=" + testutil.CacheDir(t) }

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"help", []string{"--help"}, []string{"Usage: bxwasm <command>", "run", "inspect", "--version"}},
		{"run help", []string{"run", "--help"}, []string{
			"Usage: bxwasm run <MODULE[:FLOW]>", `bxwasm run wc.wasm:"get_flow('in.txt')" -w2`,
			"-w, --workers-per-process=1", "$BXWASM_WORKERS_PER_PROCESS", "--epoch-interval=10s", "$BXWASM_EPOCH_INTERVAL",
			"--memory-limit=256", "$BXWASM_MEMORY_LIMIT", "--allow-path=DIR", "$BXWASM_ALLOW_PATHS",
			"--cache-dir=DIR", "$BXWASM_CACHE_DIR",
		}},
		{"inspect help", []string{"inspect", "--help"}, []string{"Usage: bxwasm inspect <MODULE>", "$BXWASM_CACHE_DIR"}},
		{"version", []string{"--version"}, []string{"bxwasm ", "abi v1", runtime.Version()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bxwasm(t, t.TempDir(), "", nil, tt.args...)
			if r.code != 0 || r.err != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output does not contain %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	echo := testutil.BuildWasm(t, "testdata/echo")
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		env  []string
		want string // the whole stderr
	}{
		{"no command", nil, nil, "bxwasm: error: expected one of \"run\", \"inspect\", \"recovery\"\n"},
		{"unknown command", []string{"walk"}, nil, "bxwasm: error: unexpected argument walk\n"},
		{"unknown flag", []string{"run", "x.wasm", "--bogus"}, nil, "bxwasm: error: unknown flag --bogus\n"},
		{"missing target", []string{"run"}, nil, "bxwasm: error: expected \"<MODULE[:FLOW]>\"\n"},
		{"missing module", []string{"run", "nope.wasm"}, nil, "bxwasm: error: guest: module file not found: nope.wasm\n"},
		{"zero workers", []string{"run", echo, "-w0"}, nil, "bxwasm: error: run: --workers-per-process must be between 1 and 1024, got 0\n"},
		{"too many workers", []string{"run", echo, "-w5000"}, nil, "bxwasm: error: run: --workers-per-process must be between 1 and 1024, got 5000\n"},
		{"zero memory", []string{"inspect", echo, "--memory-limit=0"}, nil, "bxwasm: error: inspect: --memory-limit must be between 1 and 4096, got 0\n"},
		{"bad epoch interval", []string{"run", echo, "--epoch-interval=soon"}, nil,
			"bxwasm: error: --epoch-interval: expected a positive duration like 500ms or 1m, or seconds like 0.5, got \"soon\"\n"},
		{"bad env", []string{"run", echo}, []string{"BXWASM_WORKERS_PER_PROCESS=many"}, "BXWASM_WORKERS_PER_PROCESS=\"many\""},
		{"bad flow spec", []string{"run", echo + ":to_file('x"}, nil, "bxwasm: error: flow spec to_file('x: unterminated string at column 9\n"},
		{"unknown flow", []string{"run", echo + ":nope"}, nil, "has no flow named \"nope\"; it has: flow, to_file(path string, upper bool)"},
		{"bad argument", []string{"run", echo + ":to_file(1, true)"}, nil, "want string, got int"},
		{"refused path", []string{"run", echo + ":to_file('../out.txt', false)"}, nil,
			"../out.txt is outside the working directory " + dir + "; pass --allow-path DIR to grant it\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bxwasm(t, dir, "", append(tt.env, cacheEnv(t)), tt.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1", r.code)
			}
			if !strings.HasPrefix(r.err, "bxwasm: error: ") || !strings.HasSuffix(r.err, "\n") || strings.Count(r.err, "\n") != 1 {
				t.Errorf("stderr is not one error line: %q", r.err)
			}
			if !strings.Contains(r.err, tt.want) {
				t.Errorf("stderr %q does not contain %q", r.err, tt.want)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	echo := testutil.BuildWasm(t, "testdata/echo")
	r := bxwasm(t, t.TempDir(), "", []string{cacheEnv(t)}, "inspect", echo)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, want := range []string{
		"module   " + echo + " (", " MiB)\n", "abi      v1\n",
		"flows    flow\n         to_file(path string, upper bool)\n",
		"imports  wasi_snapshot_preview1.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output does not contain %q:\n%s", want, r.stdout)
		}
	}
}

func TestRunStdin(t *testing.T) {
	echo := testutil.BuildWasm(t, "testdata/echo")
	in := "one\ntwo\r\nthree"
	for _, w := range []string{"-w1", "-w3"} {
		t.Run(w, func(t *testing.T) {
			r := bxwasm(t, t.TempDir(), in, []string{cacheEnv(t)}, "run", echo, w)
			if r.code != 0 || r.err != "" {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			if r.stdout != "one\ntwo\nthree\n" {
				t.Fatalf("stdout %q", r.stdout)
			}
		})
	}
}

// TestRunAllowPath writes a file outside the working directory, refused
// until the directory is granted by flag or environment.
func TestRunAllowPath(t *testing.T) {
	echo := testutil.BuildWasm(t, "testdata/echo")
	work, out := t.TempDir(), t.TempDir()
	target := echo + ":to_file('" + filepath.Join(out, "x.txt") + "', True)"
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
	}{
		{"refused", nil, nil, 1},
		{"granted by flag", []string{"--allow-path", out}, nil, 0},
		{"granted by env", nil, []string{"BXWASM_ALLOW_PATHS=/nowhere," + out}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(filepath.Join(out, "x.txt"))
			args := append([]string{"run", target}, tt.args...)
			r := bxwasm(t, work, "a\nb\n", append(tt.env, cacheEnv(t)), args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", r.code, tt.wantCode, r.err)
			}
			got, err := os.ReadFile(filepath.Join(out, "x.txt"))
			if tt.wantCode != 0 {
				if !strings.Contains(r.err, "--allow-path") || err == nil {
					t.Fatalf("refused run: stderr %q, file error %v", r.err, err)
				}
				return
			}
			if string(got) != "A\nB\n" {
				t.Fatalf("file holds %q", got)
			}
		})
	}
}

// TestRunWordcount runs the wordcount example with two workers and checks
// its counts against a count done here.
func TestRunWordcount(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work := t.TempDir()
	text := "The cat saw the dog\nthe DOG saw a cat\n\ncat\n"
	if err := os.WriteFile(filepath.Join(work, "in.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r := bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-w2", "--epoch-interval=0.05")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	slices.Sort(got)
	want := []string{"a\t1", "cat\t3", "dog\t2", "saw\t2", "the\t3"}
	if !slices.Equal(got, want) {
		t.Fatalf("counts %q, want %q", got, want)
	}
}

// TestInterrupt sends SIGINT to a run waiting on stdin and expects it to
// stop with an error.
func TestInterrupt(t *testing.T) {
	echo := testutil.BuildWasm(t, "testdata/echo")
	cmd := exec.Command(binary(t), "run", echo)
	cmd.Dir = t.TempDir()
	cmd.Env = append(cleanEnv(), cacheEnv(t))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, "hello")
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "hello\n" {
		cmd.Process.Kill()
		t.Fatalf("first line %q, %v (stderr %q)", line, err, errOut.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running 30s after SIGINT; stderr %q", errOut.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || errOut.String() != "bxwasm: error: interrupted\n" {
		t.Fatalf("exit %d, stderr %q; want 1 and an interrupted error", code, errOut.String())
	}
}

func TestRecoveryInitAndInspect(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	r := bxwasm(t, t.TempDir(), "", nil, "recovery", "init", dir, "--partitions", "3")
	if r.code != 0 || !strings.Contains(r.stdout, "created 3 partition files") {
		t.Fatalf("init: exit %d, %q %q", r.code, r.stdout, r.err)
	}
	r = bxwasm(t, t.TempDir(), "", nil, "recovery", "inspect", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "(3 partitions)") || !strings.Contains(r.stdout, "resume epoch  1") {
		t.Fatalf("inspect: exit %d, %q %q", r.code, r.stdout, r.err)
	}
	r = bxwasm(t, t.TempDir(), "", nil, "recovery", "init", dir, "--partitions", "3")
	if r.code == 0 || !strings.Contains(r.err, "already holds a store") {
		t.Fatalf("second init: exit %d, %q", r.code, r.err)
	}
	r = bxwasm(t, t.TempDir(), "", nil, "recovery", "inspect", filepath.Join(dir, "nope"))
	if r.code == 0 || !strings.Contains(r.err, "bxwasm recovery init") {
		t.Fatalf("inspect of nothing: exit %d, %q", r.code, r.err)
	}
}
