package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestLimitsRefusedBeforeStart gives flags past their limits: each run
// fails at once with one line naming the flag, before any guest loads or
// process starts (the module does not exist, so a run that went further
// would say so).
func TestLimitsRefusedBeforeStart(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"no processes", []string{"-p0"}, nil, "run: --processes must be between 1 and 256, got 0"},
		{"negative processes", []string{"--processes=-1"}, nil, "run: --processes must be between 1 and 256, got -1"},
		{"too many processes", []string{"-p", "100000"}, nil, "run: --processes must be between 1 and 256, got 100000"},
		{"processes from env", nil, []string{"BXWASM_PROCESSES=0"}, "run: --processes must be between 1 and 256, got 0"},
		{"epoch under 1ms", []string{"--epoch-interval", "1ns"}, nil, "run: --epoch-interval must be at least 1ms, got 1ns"},
		{"epoch in seconds under 1ms", []string{"-s", "0.0001"}, nil, "run: --epoch-interval must be at least 1ms, got 100µs"},
		{"memory limit over 4 GiB", []string{"--memory-limit", "4097"}, nil, "run: --memory-limit must be between 1 and 4096, got 4097"},
		{"item limit over 1 GiB", []string{"--max-item-size", "1025"}, nil, "run: --max-item-size must be between 1 and 1024, got 1025"},
		{"negative memory total", []string{"--memory-total=-1"}, nil, "run: --memory-total must be between 0 and"},
		{"workers over the memory total", []string{"-w16", "--memory-limit", "512", "--memory-total", "4096"}, nil,
			"run: 1 process(es) × 16 worker(s) × 512 MiB (--memory-limit) = 8192 MiB of guest memory, more than the --memory-total budget (4096 MiB); " +
				"lower -p, -w or --memory-limit, or set --memory-total MiB (BXWASM_MEMORY_TOTAL) to allow more"},
		{"processes over the memory total from env", []string{"-p4", "-w2"}, []string{"BXWASM_MEMORY_TOTAL=2047"},
			"run: 4 process(es) × 2 worker(s) × 256 MiB (--memory-limit) = 2048 MiB of guest memory, more than the --memory-total budget (2047 MiB)"},
		{"manual cluster on loopback", []string{"-i0", "-a", "127.0.0.1:1;127.0.0.1:3;127.0.0.1:5", "--memory-total", "700"}, nil,
			"run: 3 process(es) × 1 worker(s) × 256 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := bxwasm(t, dir, "", append(tt.env, cacheEnv(t)), append([]string{"run", "missing.wasm"}, tt.args...)...)
			if r.code != 1 || !strings.HasPrefix(r.err, "bxwasm: error: "+tt.want) {
				t.Errorf("exit %d, stderr %q; want one line starting %q", r.code, r.err, "bxwasm: error: "+tt.want)
			}
			if strings.Count(r.err, "\n") != 1 || strings.Contains(r.err, "missing.wasm") {
				t.Errorf("stderr is not the one line of the refusal: %q", r.err)
			}
			t.Logf("refused in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestMemoryOverTheMachineIsRefused asks for more guest memory than the
// machine has, with no budget given.
func TestMemoryOverTheMachineIsRefused(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("the machine's memory is read from /proc/meminfo")
	}
	r := bxwasm(t, t.TempDir(), "", []string{cacheEnv(t)}, "run", "missing.wasm", "-p256", "-w1024", "--memory-limit", "4096")
	want := "bxwasm: error: run: 256 process(es) × 1024 worker(s) × 4096 MiB (--memory-limit) = 1073741824 MiB of guest memory, more than this machine's memory ("
	if r.code != 1 || !strings.HasPrefix(r.err, want) || !strings.Contains(r.err, "--memory-total") {
		t.Errorf("exit %d, stderr %q; want %q…", r.code, r.err, want)
	}
}

// TestHundredThousandProcessesStopAtOnce is the run that used to start
// children for minutes: it must end quickly, without a child, even
// killed by a deadline if it does not.
func TestHundredThousandProcessesStopAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "run", "missing.wasm", "-p", "100000")
	cmd.Dir, cmd.Env = t.TempDir(), cleanEnv()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("still running after 30s: %q", out)
	}
	want := "bxwasm: error: run: --processes must be between 1 and 256, got 100000\n"
	if err == nil || string(out) != want {
		t.Errorf("err %v, output %q; want %q", err, out, want)
	}
}

// TestItemSizeLimitAcrossProcesses sends 3 MiB items between the workers
// of one process and of two: both pass the default limit, and both fail
// alike under a 2 MiB one.
func TestItemSizeLimitAcrossProcesses(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	target := flows + ":flood(2, 3145728, 0)"
	const tooBig = "bxwasm: error: step \"flood.spread\" (redistribute) failed on worker 0: " +
		"an item of 3145728 bytes (3.0 MiB) is over the largest item size, 2 MiB (--max-item-size)\n"
	for _, scale := range []string{"-w2", "-p2"} {
		t.Run(scale, func(t *testing.T) {
			r := bxwasm(t, t.TempDir(), "", []string{cacheEnv(t)}, "run", target, scale)
			if r.code != 0 || testutil.Received(r.stdout) != 2 {
				t.Errorf("3 MiB items: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.err)
			}
			r = bxwasm(t, t.TempDir(), "", []string{cacheEnv(t), "BXWASM_MAX_ITEM_SIZE=2"}, "run", target, scale)
			if r.code != 1 || r.err != tooBig {
				t.Errorf("over the limit: exit %d, stderr %q; want %q", r.code, r.err, tooBig)
			}
		})
	}
}
