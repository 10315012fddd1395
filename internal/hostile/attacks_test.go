package hostile

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// attacks is the hostile-guest suite. Bounds of time are generous (the
// machine may be busy); what each case proves is in its want lines and in
// the gap between its limit and its bound.
func attacks() []attack {
	return []attack{
		// Guests that never return from a call.
		{
			name: "a map that loops forever stops at the call timeout", module: loops,
			args:   runArgs("spin", "--call-timeout", "2s"),
			want:   []string{`step "spin.loop.flat_map_batch" (flat_map_batch) on worker 0 ran for more than 2s in one call (--call-timeout)`},
			within: 30 * time.Second,
		},
		{
			name: "a map that sleeps for an hour stops at the call timeout", module: loops,
			args:   runArgs("sleep", "--call-timeout", "1s", "-w2"),
			want:   []string{`step "sleep.loop.flat_map_batch" (flat_map_batch) on worker 0 ran for more than 1s in one call (--call-timeout)`},
			within: 30 * time.Second,
		},
		{
			name: "a guest blocked on a stdout nobody reads stops at the call timeout", module: loops,
			args:   runArgs("chatter", "--call-timeout", "2s"),
			setup:  unreadStdout,
			want:   []string{`step "chatter.loop.flat_map_batch" (flat_map_batch) on worker 0 ran for more than 2s in one call (--call-timeout)`},
			within: 30 * time.Second,
		},
		{
			name: "a stuck guest in a -p2 cluster stops every process at the call timeout", module: loops,
			args:   runArgs("spin", "-p2", "--call-timeout", "2s"),
			want:   []string{`step "spin.loop.flat_map_batch" (flat_map_batch) on worker `, `ran for more than 2s in one call (--call-timeout)`},
			within: 40 * time.Second,
		},
		{
			name: "a -p2 run whose stdout nobody reads stops at the call timeout", module: loops,
			args:   runArgs("chatter", "-p2", "--call-timeout", "2s"),
			setup:  unreadStdout,
			want:   []string{`step "chatter.loop.flat_map_batch" (flat_map_batch) on worker `, `ran for more than 2s in one call (--call-timeout)`},
			within: 40 * time.Second,
		},
		{
			name: "a flow factory that loops stops at the call timeout", module: loops,
			args:   runArgs("stuck_factory", "--call-timeout", "1s"),
			want:   []string{"building the flow on worker 0 ran for more than 1s in one call (--call-timeout)"},
			within: 30 * time.Second,
		},
		{
			name: "a start function that loops stops at the call timeout", module: func(t *testing.T) string { return wat(t, "start_loop") },
			args:   runArgs("flow", "--call-timeout", "1s"),
			want:   []string{"the module's start function on worker 0 ran for more than 1s in one call (--call-timeout)"},
			within: 30 * time.Second,
		},
		{
			name: "an _initialize that loops stops inspect at the call timeout", module: func(t *testing.T) string { return wat(t, "init_loop") },
			args:   inspectArgs("--call-timeout", "1s"),
			want:   []string{"the module's _initialize on worker 0 ran for more than 1s in one call (--call-timeout)"},
			within: 30 * time.Second,
		},
		{
			name: "a call that loops without reading its request stops inspect", module: func(t *testing.T) string { return wat(t, "call_loop") },
			args:   inspectArgs("--call-timeout", "1s"),
			want:   []string{"listing the module's flows on worker 0 ran for more than 1s in one call (--call-timeout)"},
			within: 30 * time.Second,
		},

		// A guest that cannot catch its panics records them for
		// bxwasm_last_error and traps: the user reads what a Go guest's
		// recovered panic (a StatusError) says.
		{
			name: "a Go guest's panic in a stateful step names step, key and message", module: loops,
			args: runArgs("fail"), want: []string{failed}, within: 30 * time.Second,
		},
		{
			name: "a 10 MiB error message under an 8 KiB key is cut, not printed whole", module: loops,
			args:   runArgs("shout"),
			want:   []string{`for key "` + strings.Repeat("k", 256) + `... (7936 more bytes)"`, "more bytes)\n"},
			maxErr: 16 << 10, within: 30 * time.Second,
		},
		{
			name: "a StatusError from a hand-written guest reads the same", module: lastFail,
			args: runArgs("status"), want: []string{failed}, within: 30 * time.Second,
		},
		{
			name: "a trap after recording for bxwasm_last_error reads the same", module: lastFail,
			args: runArgs("trap"), want: []string{failed}, within: 30 * time.Second,
		},
		{
			name: "a trap with nothing recorded is reported as the crash", module: lastFail,
			args: runArgs("zero"),
			want: []string{`step "fail.sum.stateful_flat_map.stateful.stateful_batch" (stateful_batch) failed on worker 0: ` +
				"guest crashed in bxwasm_call (stateful_batch): wasm error: unreachable"},
			within: 30 * time.Second,
		},
		{
			name: "a bxwasm_last_error that loops stops at the call timeout", module: lastFail,
			args: runArgs("loop", "--call-timeout", "1s"),
			want: []string{`step "fail.sum.stateful_flat_map.stateful.stateful_batch" (stateful_batch) on worker 0 ` +
				"ran for more than 1s in one call (--call-timeout)"},
			within: 30 * time.Second,
		},

		// Signals always work.
		{
			name: "Ctrl-C stops a run stuck in a guest within 5s, naming the step", module: loops,
			args:    runArgs("spin", "--call-timeout", "0"),
			signals: []timedSignal{{3 * time.Second, syscall.SIGINT}},
			want: []string{"stopped at once after the interrupt: the run had not stopped 5s after it; still inside the guest: " +
				`step "spin.loop.flat_map_batch" (flat_map_batch) on worker 0`},
			within: 3*time.Second + 5*time.Second + 10*time.Second,
		},
		{
			name: "a second SIGTERM stops a run stuck in a guest at once", module: loops,
			args:    runArgs("spin", "-r", "state", "--call-timeout", "0"),
			signals: []timedSignal{{3 * time.Second, syscall.SIGTERM}, {3500 * time.Millisecond, syscall.SIGTERM}},
			want:    []string{`stopped at once after a second interrupt; still inside the guest: step "spin.loop.flat_map_batch" (flat_map_batch) on worker 0`},
			within:  3500*time.Millisecond + 4*time.Second, // well under the 5s grace: the second signal cut it short
		},
		{
			name: "Ctrl-C stops inspect stuck in _initialize", module: func(t *testing.T) string { return wat(t, "init_loop") },
			args:    inspectArgs("--call-timeout", "0"),
			signals: []timedSignal{{2 * time.Second, syscall.SIGINT}, {2500 * time.Millisecond, syscall.SIGINT}},
			want:    []string{"still inside the guest: the module's _initialize on worker 0"},
			within:  10 * time.Second,
		},

		// Compilation is bounded.
		{
			name:   "a module of 100k nested blocks stops at the compile timeout",
			module: func(t *testing.T) string { return writeModule(t, "nested.wasm", nestedBlocks(100_000)) },
			args:   inspectArgs("--compile-timeout", "2s"),
			want:   []string{"compiling the module took more than 2s (--compile-timeout)"},
			within: 20 * time.Second,
		},
		{
			name: "a module over the size limit is refused before it is read",
			module: func(t *testing.T) string {
				return writeModule(t, "big.wasm", append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, 2<<20)...))
			},
			args:   inspectArgs("--max-module-size", "1"),
			want:   []string{"big.wasm is 2097160 bytes, over the 1 MiB limit on modules; raise it with --max-module-size"},
			within: 20 * time.Second,
		},
		// The sandbox's walls.
		{
			name: "a guest sees no files, environment or arguments", module: loops,
			args:     runArgs("snoop"),
			exitZero: true,
			wantOut:  []string{"read=open /etc/passwd: Bad file number env=0 args=0"},
			within:   30 * time.Second,
		},
		{
			name: "a file source outside the working directory is refused before the run", module: loops,
			args:   runArgs("escape"),
			want:   []string{"is outside the working directory", "pass --allow-path DIR to grant it"},
			within: 30 * time.Second,
		},
		{
			name: "a stream source on a connection the operator did not grant is refused before the run", module: loops,
			args:   runArgs("reach", "--connection", "events=nats://127.0.0.1:1"),
			want:   []string{"step reach.inp:", `no such connection "internal" (granted: events); bind it with --connection internal=URL`},
			within: 30 * time.Second,
		},
		{
			name: "a sink asking for a billion partitions is refused before it connects", module: loops,
			args:   runArgs("many_parts", "--connection", "events=nats://127.0.0.1:1"),
			want:   []string{"step many_parts.out:", "1073741824 sink partitions; use 1 to 1024"},
			within: 30 * time.Second,
		},
		{
			name: "a guest that allocates without end traps at its memory limit", module: loops,
			args:   runArgs("hog", "--memory-limit", "256"),
			want:   []string{`step "hog.loop.flat_map_batch" (flat_map_batch) failed on worker 0`, "guest memory:", "of 256 MiB"},
			within: 30 * time.Second,
		},
		{
			name: "a response outside the guest's memory is refused", module: func(t *testing.T) string { return wat(t, "bad_response") },
			args:   inspectArgs(),
			want:   []string{"the guest answered", "outside its 65536 bytes of memory"},
			within: 30 * time.Second,
		},
		{
			name: "a module importing what the host does not provide is refused", module: func(t *testing.T) string { return wat(t, "foreign_import") },
			args:   inspectArgs(),
			want:   []string{"imports env.abort, which this host does not provide"},
			within: 30 * time.Second,
		},
		// Resources.
		{
			name: "an item over --max-item-size fails alike in one process and over NATS (one process)", module: loops,
			args:   runArgs("big(3)", "-w2", "--max-item-size", "2"),
			want:   []string{`step "big.spread" (redistribute) failed on worker 0: an item of 3145728 bytes (3.0 MiB) is over the largest item size, 2 MiB (--max-item-size)`},
			within: 30 * time.Second,
		},
		{
			name: "an item over --max-item-size fails alike in one process and over NATS (-p2)", module: loops,
			args:   runArgs("big(3)", "-p2", "--max-item-size", "2"),
			want:   []string{`step "big.spread" (redistribute) failed on worker 0: an item of 3145728 bytes (3.0 MiB) is over the largest item size, 2 MiB (--max-item-size)`},
			within: 30 * time.Second,
		},
		{
			name: "an item of 3 MiB passes over NATS", module: loops,
			args:     runArgs("big(3)", "-p2"),
			exitZero: true,
			wantOut:  []string{"3145728\n"},
			within:   30 * time.Second,
		},
		{
			name: "-p 100000 is refused before any process starts", module: loops,
			args:   runArgs("quick", "-p", "100000"),
			want:   []string{"--processes must be between 1 and 256, got 100000"},
			within: 10 * time.Second,
		},
		{
			name: "an epoch interval of 1ns is refused", module: loops,
			args:   runArgs("quick", "--epoch-interval", "1ns"),
			want:   []string{"--epoch-interval must be at least 1ms, got 1ns"},
			within: 10 * time.Second,
		},
		{
			name: "workers x memory limit over the budget is refused at start", module: loops,
			args:   runArgs("quick", "-w16", "--memory-limit", "512", "--memory-total", "4096"),
			want:   []string{"--memory-total"},
			within: 10 * time.Second,
		},
		{
			name: "a quick flow still runs under the watchdog", module: loops,
			args:     runArgs("quick", "--call-timeout", "5s"),
			exitZero: true,
			within:   30 * time.Second,
		},
	}
}

// failed is how the flow "fail" of loops and of lastfail.wat fails.
const failed = `step "fail.sum.stateful_flat_map.stateful.stateful_batch" (stateful_batch) failed on worker 0 for key "bad": ` +
	`error calling on_batch in step fail.sum.stateful_flat_map.stateful.stateful_batch for key "bad": boom at bad` + "\n"

// lastFail is the WAT guest that fails in the ways of testdata/lastfail.wat.
func lastFail(t *testing.T) string { return wat(t, "lastfail") }

// unreadStdout gives the command a stdout pipe that nobody reads.
func unreadStdout(t *testing.T, cmd *exec.Cmd) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	cmd.Stdout = w
}
