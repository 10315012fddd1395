package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// wordcountInput writes a text and returns its directory and the counts
// every scale must print.
func wordcountInput(t *testing.T) (string, []string) {
	work := t.TempDir()
	var b strings.Builder
	counts := map[string]int{}
	for i := 0; i < 2000; i++ {
		w := []string{fmt.Sprintf("w%d", i%23), fmt.Sprintf("v%d", i%7)}
		fmt.Fprintln(&b, strings.Join(w, " "))
		counts[w[0]]++
		counts[w[1]]++
	}
	os.WriteFile(filepath.Join(work, "in.txt"), []byte(b.String()), 0o644)
	var want []string
	for w, n := range counts {
		want = append(want, fmt.Sprintf("%s\t%d", w, n))
	}
	slices.Sort(want)
	return work, want
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return lines
}

func TestLocalCluster(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	for _, scale := range []string{"-p2 -w1", "-p2 -w2", "-p3 -w2"} {
		args := append([]string{"run", wc + `:get_flow("in.txt")`}, strings.Fields(scale)...)
		r := bxwasm(t, work, "", []string{cacheEnv(t)}, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", scale, r.code, r.err)
		}
		if got := sortedLines(r.stdout); !slices.Equal(got, want) {
			t.Errorf("%s: %d lines, want %d", scale, len(got), len(want))
		}
	}
}

func TestClusterGuestPanicIsReportedOnce(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "sums.txt"), []byte("a:1\nbad:-1\nc:3\n"), 0o644)
	r := bxwasm(t, work, "", []string{cacheEnv(t)}, "run", flows+`:boom_file("sums.txt")`, "-p2", "-w2")
	if r.code == 0 || strings.Count(r.err, "negative value") != 1 || !strings.Contains(r.err, `for key "bad"`) {
		t.Fatalf("exit %d, stderr:\n%s\nwant a non-zero exit and the step error once", r.code, r.err)
	}
}

// TestKilledProcessStopsTheCluster SIGKILLs one process of a long run and
// expects the run to fail within seconds, naming it, with no process left.
func TestKilledProcessStopsTheCluster(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	cmd := exec.Command(binary(t), "run", flows+":timer(60000)", "-p2")
	cmd.Dir = t.TempDir()
	cmd.Env = append(cleanEnv(), cacheEnv(t))
	var out, errOut testutil.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	children := waitChildren(t, cmd.Process.Pid, 2)
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(out.String(), "notified") })
	killed := "process " + processID(t, children[1])
	syscall.Kill(children[1], syscall.SIGKILL)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after a process was killed; stderr %q", errOut.String())
	}
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(errOut.String(), killed) {
		t.Errorf("exit %d, stderr %q: want a failure naming %s", cmd.ProcessState.ExitCode(), errOut.String(), killed)
	}
	for _, pid := range children {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d is still running", pid)
		}
	}
}

// waitChildren polls /proc for n children of pid.
func waitChildren(t *testing.T, pid, n int) []int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if kids := children(pid); len(kids) >= n {
			return kids
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("process %d did not start %d children", pid, n)
	return nil
}

// processID is the BXWASM_PROCESS_ID the supervisor gave its child pid.
func processID(t *testing.T, pid int) string {
	t.Helper()
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(env), "\x00") {
		if id, ok := strings.CutPrefix(kv, "BXWASM_PROCESS_ID="); ok {
			return id
		}
	}
	t.Fatalf("process %d has no BXWASM_PROCESS_ID", pid)
	return ""
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			k, _ := strconv.Atoi(strings.Fields(string(b))[0])
			kids = append(kids, k)
		}
	}
	return kids
}

// freeAddrs finds n loopback addresses whose port and port+1 (which
// carries the routes of a manual cluster) are both free.
func freeAddrs(t *testing.T, n int) string {
	var addrs []string
	for port := 20000 + rand.IntN(20000); len(addrs) < n && port < 60000; port += 2 {
		if free(port) && free(port+1) {
			addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
		}
	}
	if len(addrs) < n {
		t.Fatal("no free ports")
	}
	return strings.Join(addrs, ";")
}

func free(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func TestManualCluster(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	addrs := freeAddrs(t, 2)
	out := together(t, 2, func(i int) result {
		return bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-i", strconv.Itoa(i), "-a", addrs, "-w2")
	})
	if got := sortedLines(out); !slices.Equal(got, want) {
		t.Errorf("%d lines, want %d", len(got), len(want))
	}
}

// together runs n commands at once, fails the test unless all succeed, and
// returns their standard outputs joined.
func together(t *testing.T, n int, run func(i int) result) string {
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		go func() { results <- run(i) }()
	}
	var out string
	for i := 0; i < n; i++ {
		r := <-results
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.err)
		}
		out += r.stdout
	}
	return out
}

func TestPeerThatNeverComesUpIsNamed(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, _ := wordcountInput(t)
	addrs := freeAddrs(t, 2)
	r := bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-i0", "-a", addrs, "--join-timeout=2s")
	missing := strings.Split(addrs, ";")[1]
	if r.code == 0 || !strings.Contains(r.err, missing) {
		t.Fatalf("exit %d, stderr %q: want an error naming %s", r.code, r.err, missing)
	}
}

func TestClusterFlagErrors(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	r := bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-i1")
	if r.code == 0 || !strings.Contains(r.err, "-i/--process-id needs -a/--addresses") {
		t.Errorf("-i without -a: exit %d, stderr %q", r.code, r.err)
	}
	r = bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-p3", "-i0", "-a", freeAddrs(t, 1))
	if r.code != 0 || !strings.Contains(r.err, "-p/--processes is ignored") || !slices.Equal(sortedLines(r.stdout), want) {
		t.Errorf("-p with -a: exit %d, stderr %q", r.code, r.err)
	}
}

// TestExternalNATS runs a local cluster on a separately started
// nats-server process, twice at once: runs on one NATS must not mix.
func TestExternalNATS(t *testing.T) {
	server, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed (.ci/run installs it)")
	}
	port := strings.Split(freeAddrs(t, 1), ":")[1]
	srv := exec.Command(server, "-a", "127.0.0.1", "-p", port)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	waitPort(t, "127.0.0.1:"+port)
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	out := together(t, 2, func(int) result {
		return bxwasm(t, work, "", []string{cacheEnv(t)}, "run", wc+`:get_flow("in.txt")`, "-p2", "-w2", "--nats", "nats://127.0.0.1:"+port)
	})
	// Two runs' counts, each word twice: runs that mixed would miscount.
	if got := sortedLines(out); !slices.Equal(got, doubled(want)) {
		t.Errorf("%d lines, want twice %d", len(got), len(want))
	}
}

func doubled(lines []string) []string {
	out := append(slices.Clone(lines), lines...)
	slices.Sort(out)
	return out
}

func waitPort(t *testing.T, addr string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens at %s", addr)
}

// TestInterruptStopsTheCluster sends SIGINT to a local cluster's
// supervisor and expects every process to stop within seconds.
func TestInterruptStopsTheCluster(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	cmd := exec.Command(binary(t), "run", flows+":timer(60000)", "-p2")
	cmd.Dir = t.TempDir()
	cmd.Env = append(cleanEnv(), cacheEnv(t))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	kids := waitChildren(t, cmd.Process.Pid, 2)
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("still running 20s after SIGINT")
	}
	if cmd.ProcessState.ExitCode() == 0 {
		t.Error("an interrupted run exited 0")
	}
	for _, pid := range kids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d is still running", pid)
		}
	}
}

// TestManualClusterFromKubernetesEnv takes the process id from the pod
// name and the addresses from a host file, as Bytewax's Helm chart sets.
func TestManualClusterFromKubernetesEnv(t *testing.T) {
	wc := testutil.BuildWasm(t, "../../wasm-examples/wordcount")
	work, want := wordcountInput(t)
	hosts := filepath.Join(work, "hosts")
	os.WriteFile(hosts, []byte(strings.ReplaceAll(freeAddrs(t, 2), ";", "\n")+"\n"), 0o644)
	out := together(t, 2, func(i int) result {
		env := []string{cacheEnv(t), "BXWASM_HOSTFILE_PATH=" + hosts, "BXWASM_STATEFULSET_NAME=wc", fmt.Sprintf("BXWASM_POD_NAME=wc-%d", i)}
		return bxwasm(t, work, "", env, "run", wc+`:get_flow("in.txt")`)
	})
	if got := sortedLines(out); !slices.Equal(got, want) {
		t.Errorf("%d lines, want %d", len(got), len(want))
	}
}

// TestManualClusterNamesALostProcess SIGKILLs one process of a manual
// cluster (no supervisor there): the other must stop within seconds,
// naming it by id and address.
func TestManualClusterNamesALostProcess(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	addrs := freeAddrs(t, 2)
	cmds := make([]*exec.Cmd, 2)
	var out, errOut testutil.Buffer
	for i := range cmds {
		cmds[i] = exec.Command(binary(t), "run", flows+":timer(60000)", "-i", strconv.Itoa(i), "-a", addrs)
		cmds[i].Dir = t.TempDir()
		cmds[i].Env = append(cleanEnv(), cacheEnv(t))
		cmds[i].Stdout = &out
		if i == 0 {
			cmds[i].Stderr = &errOut
		}
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
		defer cmds[i].Process.Kill()
	}
	// The timer fires only once both processes have joined and the
	// dataflow runs; killing earlier would test the join timeout instead.
	waitFor(t, 60*time.Second, func() bool { return strings.Contains(out.String(), "notified") })
	cmds[1].Process.Kill()
	cmds[1].Wait()
	done := make(chan error, 1)
	go func() { done <- cmds[0].Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("process 0 still running 20s after process 1 was killed; stderr %q", errOut.String())
	}
	lost := "process 1 (" + strings.Split(addrs, ";")[1] + ")"
	if cmds[0].ProcessState.ExitCode() == 0 || !strings.Contains(errOut.String(), lost) {
		t.Errorf("exit %d, stderr %q: want a failure naming %s", cmds[0].ProcessState.ExitCode(), errOut.String(), lost)
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
	}
}
