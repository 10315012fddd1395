package host_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/recovery"
)

// stopWhen closes the returned channel once cond holds (polled), or after
// timeout so a test cannot hang.
func stopWhen(t *testing.T, timeout time.Duration, cond func() bool) chan struct{} {
	stop := make(chan struct{})
	go func() {
		defer close(stop)
		for end := time.Now().Add(timeout); time.Now().Before(end) && !cond(); {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return stop
}

// hasSnapshots reports whether the store in dir holds snapshots of step.
func hasSnapshots(dir, step string) bool {
	sum, err := recovery.Inspect(context.Background(), dir)
	if err != nil {
		return false
	}
	for _, s := range sum.Steps {
		if s.StepID == step && s.Snapshots > 0 {
			return true
		}
	}
	return false
}

// writeSums writes lines "k<i%keys>:<i>" to name in dir and returns the
// lines sum_file prints for it.
func writeSums(t *testing.T, dir, name string, lines, keys int) []string {
	var b strings.Builder
	sums := make([]int, keys)
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "k%d:%d\n", i%keys, i)
		sums[i%keys] += i
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want := make([]string, keys)
	for k, s := range sums {
		want[k] = fmt.Sprintf("k%d=%d", k, s)
	}
	return sorted(want)
}

func lines(s string) []string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return sorted(strings.Split(s, "\n"))
}

// TestTimersSurviveAGracefulStop stops a run whose key waits for a timer,
// then resumes it: the timer fires in the resumed run, which never sees the
// key's item again.
func TestTimersSurviveAGracefulStop(t *testing.T) {
	o := opts(t, 1)
	o.RecoveryDir, o.EpochInterval = "rec", 50*time.Millisecond
	dir := filepath.Join(o.WorkDir, "rec")
	o.Stop = stopWhen(t, time.Minute, func() bool { return hasSnapshots(dir, "remind.st") })
	if err := host.Run(context.Background(), flows(t), "remind(2000, 3500)", o); err != nil {
		t.Fatal(err)
	}
	if out := o.Stdout.(*bytes.Buffer).String(); out != "" {
		t.Fatalf("the stopped run printed %q", out)
	}
	stoppedPartWay(t, o.Stderr.(*bytes.Buffer).String())
	o.Stop, o.Stdout, o.Stderr = nil, &bytes.Buffer{}, &bytes.Buffer{}
	if err := host.Run(context.Background(), flows(t), "remind(2000, 3500)", o); err != nil {
		t.Fatal(err)
	}
	if msg := o.Stderr.(*bytes.Buffer).String(); !strings.Contains(msg, "resumed from epoch") {
		t.Errorf("stderr %q does not report the resume", msg)
	}
	if out := o.Stdout.(*bytes.Buffer).String(); out != "k=notified\n" {
		t.Errorf("resumed run printed %q, want the timer's k=notified", out)
	}
}

// TestResumeOnOtherWorkerCounts stops a keyed sum part-way on one scale and
// finishes it on others; the sums (printed at EOF, by whichever run gets
// there) equal a run that never stopped.
func TestResumeOnOtherWorkerCounts(t *testing.T) {
	work := t.TempDir()
	want := writeSums(t, work, "sums.txt", 200_000, 500)
	dir := filepath.Join(work, "rec")
	var got []string
	for _, workers := range []int{2, 3, 1} {
		o := opts(t, workers)
		o.WorkDir, o.RecoveryDir, o.EpochInterval = work, dir, 20*time.Millisecond
		if workers != 1 {
			// Stop once this execution has moved the input further.
			before := inputSnapshots(dir)
			o.Stop = stopWhen(t, time.Minute, func() bool { return inputSnapshots(dir) > before })
		}
		if err := host.Run(context.Background(), flows(t), "sum_file('sums.txt')", o); err != nil {
			t.Fatalf("-w%d: %v", workers, err)
		}
		stderr := o.Stderr.(*bytes.Buffer).String()
		if workers == 2 {
			// The first run must stop part-way; the second may read the
			// rest before its stop comes (a fast machine does), and the
			// third then resumes at the end.
			stoppedPartWay(t, stderr)
		}
		if workers != 2 && !strings.Contains(stderr, "resumed from epoch") {
			t.Errorf("-w%d: stderr %q does not report the resume", workers, stderr)
		}
		got = append(got, lines(o.Stdout.(*bytes.Buffer).String())...)
	}
	got = sorted(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after resuming on -w2, -w3, -w1: %d sums, %d missing from a clean run's %d", len(got), countDiff(got, want), len(want))
	}
}

func inputSnapshots(dir string) int64 {
	sum, err := recovery.Inspect(context.Background(), dir)
	if err != nil {
		return 0
	}
	for _, s := range sum.Steps {
		if s.StepID == "sum.inp" {
			return s.Snapshots
		}
	}
	return 0
}

func countDiff(got, want []string) int {
	in := map[string]bool{}
	for _, g := range got {
		in[g] = true
	}
	n := 0
	for _, w := range want {
		if !in[w] {
			n++
		}
	}
	return n
}

// TestClusterResumesOnOtherScale stops a two-process run part-way and
// finishes it on three processes of one worker.
func TestClusterResumesOnOtherScale(t *testing.T) {
	work := t.TempDir()
	want := writeSums(t, work, "sums.txt", 200_000, 300)
	dir := filepath.Join(work, "rec")
	url := startNATS(t)
	stop := stopWhen(t, time.Minute, func() bool { return hasSnapshots(dir, "sum.sum") })
	var stderr0 bytes.Buffer // process 0's
	set := func(stop <-chan struct{}) func(*host.Options) {
		return func(o *host.Options) {
			o.RecoveryDir, o.EpochInterval, o.Stop = dir, 20*time.Millisecond, stop
			if o.ProcessID == 0 {
				o.Stderr = &stderr0
			}
		}
	}
	errs, first := clusterRunWith(t, url, "rec-p2", flows(t), "sum_file('sums.txt')", work, 2, 2, set(stop))
	for p, err := range errs {
		if err != nil {
			t.Errorf("-p2 process %d: %v", p, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	stoppedPartWay(t, stderr0.String())
	stderr0.Reset()
	errs, got := clusterRunWith(t, url, "rec-p3", flows(t), "sum_file('sums.txt')", work, 3, 1, set(nil))
	for p, err := range errs {
		if err != nil {
			t.Fatalf("-p3 process %d: %v", p, err)
		}
	}
	if !strings.Contains(stderr0.String(), "resumed from epoch") {
		t.Errorf("-p3 process 0's stderr %q does not report the resume", stderr0.String())
	}
	got = sorted(append(got, first...))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("-p2 then -p3: %d sums (%d from -p2), %d missing from a clean run's %d", len(got), len(first), countDiff(got, want), len(want))
	}
}

// TestStoreOfAnotherFlowIsRefused runs flows against stores they do not
// own: each is an error naming the problem, and the store is unchanged.
func TestStoreOfAnotherFlowIsRefused(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	writeSums(t, work, "sums.txt", 10, 2)
	dir := filepath.Join(work, "rec")
	if err := recovery.Init(dir, 2); err != nil {
		t.Fatal(err)
	}
	st, err := recovery.OpenSQLite(ctx, dir, recovery.SQLiteOptions{FlowID: "sum"})
	if err != nil {
		t.Fatal(err)
	}
	ex, _ := st.Begin(ctx, 1)
	st.Write(ctx, []recovery.Snapshot{{StepID: "sum.gone", Key: "k", Epoch: 1, State: []byte{0}}})
	st.Commit(ctx, ex, 0, 1)
	st.Close()
	before, _ := recovery.Inspect(ctx, dir)

	cases := []struct{ name, spec, want string }{
		{"unknown step", "sum_file('sums.txt')", "sum.gone"},
		{"other flow id", "remind(1, 1)", `belongs to flow "sum", not "remind"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := opts(t, 1)
			o.WorkDir, o.RecoveryDir = work, dir
			err := host.Run(ctx, flows(t), c.spec, o)
			if !errors.Is(err, host.ErrForeignStore) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want ErrForeignStore naming %q", err, c.want)
			}
			if !errors.Is(err, host.ErrForeignStore) {
				t.Errorf("err %v is not host.ErrForeignStore", err)
			}
			after, _ := recovery.Inspect(ctx, dir)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("store changed:\n%+v\n%+v", before, after)
			}
		})
	}
	t.Run("held by another run", func(t *testing.T) {
		held, err := recovery.OpenSQLite(ctx, dir, recovery.SQLiteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		o := opts(t, 1)
		o.WorkDir, o.RecoveryDir = work, dir
		err = host.Run(ctx, flows(t), "sum_file('sums.txt')", o)
		if !errors.Is(err, host.ErrStoreLocked) || errors.Is(err, host.ErrForeignStore) {
			t.Errorf("err %v, want ErrStoreLocked", err)
		}
	})
}

// TestStoreStaysBounded runs a keyed sum over a few keys for many short
// epochs: garbage collection keeps about one snapshot per key, where
// without it every epoch would add one.
func TestStoreStaysBounded(t *testing.T) {
	work := t.TempDir()
	const keys = 50
	writeSums(t, work, "sums.txt", 200_000, keys)
	o := opts(t, 2)
	o.WorkDir, o.RecoveryDir, o.EpochInterval = work, "rec", 10*time.Millisecond
	if err := host.Run(context.Background(), flows(t), "sum_file('sums.txt')", o); err != nil {
		t.Fatal(err)
	}
	sum, err := recovery.Inspect(context.Background(), filepath.Join(work, "rec"))
	if err != nil {
		t.Fatal(err)
	}
	last := sum.Executions[len(sum.Executions)-1]
	epochs := slices.Max(last.Frontiers)
	for _, s := range sum.Steps {
		// Every epoch touches every key: without collection the store would
		// hold about one snapshot per key and epoch.
		if s.StepID == "sum.sum" && (s.Snapshots > 20*keys || epochs < 50) {
			t.Errorf("%d snapshots of %d keys after %d epochs (want at most 20 per key, over at least 50 epochs)", s.Snapshots, keys, epochs)
		}
	}
}

// resumeEpochRE finds where a stopped run says the next one resumes.
var resumeEpochRE = regexp.MustCompile(`resume from epoch (\d+)`)

// stoppedPartWay fails the test unless stderr, a stopped run's, says the
// next run resumes from an epoch past 1: the run stopped after committing
// some epochs, not before its first one, nor after it finished.
func stoppedPartWay(t *testing.T, stderr string) {
	t.Helper()
	m := resumeEpochRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the run did not stop part-way; stderr %q", stderr)
	}
	if n, _ := strconv.Atoi(m[1]); n <= 1 {
		t.Fatalf("the run stopped before committing an epoch (resume from epoch %d)", n)
	}
}

// sumInputs writes data/a.txt and data/b.txt, lines "k<i%keys>:<i>" for i
// below 2*lines, and returns the sorted lines sum_copy prints for them and
// the input lines.
func sumInputs(t *testing.T, work string, lines, keys int) (sums, input []string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(work, "data"), 0o755))
	total := make([]int, keys)
	for f, name := range []string{"a.txt", "b.txt"} {
		var b strings.Builder
		for i := f * lines; i < (f+1)*lines; i++ {
			line := fmt.Sprintf("k%d:%d", i%keys, i)
			b.WriteString(line + "\n")
			input = append(input, line)
			total[i%keys] += i
		}
		must(t, os.WriteFile(filepath.Join(work, "data", name), []byte(b.String()), 0o644))
	}
	for k, s := range total {
		sums = append(sums, fmt.Sprintf("k%d=%d", k, s))
	}
	return sorted(sums), sorted(input)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sumCopy is the flow of the tests below: a keyed sum of data/*.txt printed
// at the end, and a copy of the input lines into copy.txt.
const sumCopy = "sum_copy('data/*.txt', 'copy.txt')"

// stoppedStore runs sumCopy in a new work directory and stops it once
// every kind of snapshot is in the store (state, input positions, the
// copy's offset); it returns the work directory and what a run that never
// stopped prints and copies. Tests copy the directory to change it.
func stoppedStore(t *testing.T) (work string, sums, input []string) {
	t.Helper()
	work = filepath.Join(t.TempDir(), "stopped")
	sums, input = sumInputs(t, work, 100_000, 50)
	o := opts(t, 1)
	o.WorkDir, o.RecoveryDir, o.EpochInterval = work, "rec", 20*time.Millisecond
	rec := filepath.Join(work, "rec")
	o.Stop = stopWhen(t, time.Minute, func() bool {
		return hasSnapshots(rec, "sum.sum") && hasSnapshots(rec, "sum.inp") && hasSnapshots(rec, "sum.copy")
	})
	must(t, host.Run(context.Background(), flows(t), sumCopy, o))
	stoppedPartWay(t, o.Stderr.(*bytes.Buffer).String())
	if out := o.Stdout.(*bytes.Buffer).String(); out != "" {
		t.Fatalf("the stopped run printed %q", out)
	}
	return work, sums, input
}

// copyWork copies the work directory src to a new one.
func copyWork(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	must(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

// resume runs sumCopy again in work.
func resume(t *testing.T, work string, reset ...string) (host.Options, error) {
	o := opts(t, 1)
	o.WorkDir, o.RecoveryDir, o.EpochInterval, o.ResetSources = work, "rec", 20*time.Millisecond, reset
	return o, host.Run(context.Background(), flows(t), sumCopy, o)
}

// TestResumeAfterMovingWorkDir stops a run, moves its working directory
// (input files, output file and store) and resumes there: the input
// continues where it stopped, so the sums and the copy equal a run that
// never stopped. Positions used to be keyed by absolute path: the moved
// run re-read every file on top of the restored sums.
func TestResumeAfterMovingWorkDir(t *testing.T) {
	stopped, sums, input := stoppedStore(t)
	moved := filepath.Join(t.TempDir(), "moved")
	must(t, os.Rename(stopped, moved))
	o, err := resume(t, moved)
	must(t, err)
	if msg := o.Stderr.(*bytes.Buffer).String(); !strings.Contains(msg, "resumed from epoch") {
		t.Errorf("stderr %q does not report the resume", msg)
	}
	if got := lines(o.Stdout.(*bytes.Buffer).String()); strings.Join(got, "\n") != strings.Join(sums, "\n") {
		t.Errorf("%d sums, %d differ from a clean run's %d", len(got), countDiff(got, sums), len(sums))
	}
	b, err := os.ReadFile(filepath.Join(moved, "copy.txt"))
	must(t, err)
	if got := lines(string(b)); strings.Join(got, "\n") != strings.Join(input, "\n") {
		t.Errorf("copy.txt has %d lines, %d of the input's %d missing", len(got), countDiff(got, input), len(input))
	}
}

// TestResumeRefusesChangedInput changes an input file between a stop and
// the resume: each change is an error naming the step and the file and
// saying how to accept it, where the run used to continue at the stored
// offset in another file; with that flag the run goes through.
func TestResumeRefusesChangedInput(t *testing.T) {
	stopped, _, _ := stoppedStore(t)
	cases := []struct {
		name   string
		change func(t *testing.T, work string)
		want   []string
	}{
		{"shrank", func(t *testing.T, work string) {
			must(t, os.Truncate(filepath.Join(work, "data/a.txt"), 100))
		}, []string{"data/a.txt", "shrank"}},
		{"prefix changed", func(t *testing.T, work string) {
			f, err := os.OpenFile(filepath.Join(work, "data/a.txt"), os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte("j"), 0)
			must(t, err)
			must(t, f.Close())
		}, []string{"data/a.txt", "the first"}},
		{"missing", func(t *testing.T, work string) {
			must(t, os.Remove(filepath.Join(work, "data/b.txt")))
		}, []string{"data/b.txt", "is gone"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			work := copyWork(t, stopped)
			tc.change(t, work)
			_, err := resume(t, work)
			if !errors.Is(err, host.ErrSourceChanged) {
				t.Fatalf("err %v; want ErrSourceChanged", err)
			}
			for _, m := range append(tc.want, `"sum.inp"`, "--reset-source sum.inp") {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
			if _, err := resume(t, work, "sum.inp"); err != nil {
				t.Errorf("with --reset-source sum.inp: %v", err)
			}
		})
	}
}

// TestResetSourceNamesAnInput: --reset-source of a step that is not an
// input is refused before the run starts.
func TestResetSourceNamesAnInput(t *testing.T) {
	stopped, _, _ := stoppedStore(t)
	_, err := resume(t, stopped, "sum.sum")
	if !errors.Is(err, host.ErrBadOptions) || !strings.Contains(err.Error(), "its input steps are sum.inp") {
		t.Fatalf("err %v; want ErrBadOptions listing the input steps", err)
	}
}

// TestResumeRefusesAlteredStore changes rows of the store's SQLite file
// behind its back: each resume is refused naming the partition file, the
// step and the key, where it used to exit 0 with wrong output.
func TestResumeRefusesAlteredStore(t *testing.T) {
	stopped, _, _ := stoppedStore(t)
	cases := []struct {
		name, query, step, key string
	}{
		{"altered blob", `UPDATE snaps SET state = x'00ff01' WHERE step_id = 'sum.sum' AND state_key = 'k7'`, "sum.sum", "k7"},
		{"forged tombstone", `UPDATE snaps SET state = NULL WHERE step_id = 'sum.sum' AND state_key = 'k8'`, "sum.sum", "k8"},
		{"rewound source position", `UPDATE snaps SET state = x'00' || substr(state, 2) WHERE step_id = 'sum.inp' AND state_key = 'data/a.txt'`, "sum.inp", "data/a.txt"},
		{"zeroed sink offset", `UPDATE snaps SET state = x'00' WHERE step_id = 'sum.copy'`, "sum.copy", "copy.txt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			work := copyWork(t, stopped)
			db, err := sql.Open("sqlite", filepath.Join(work, "rec", recovery.PartitionFile(0)))
			must(t, err)
			res, err := db.Exec(tc.query)
			must(t, err)
			if n, _ := res.RowsAffected(); n == 0 {
				t.Fatalf("%s changed no row", tc.query)
			}
			must(t, db.Close())
			_, err = resume(t, work)
			if !errors.Is(err, host.ErrStoreDamaged) {
				t.Fatalf("err %v; want ErrStoreDamaged", err)
			}
			for _, m := range []string{"part-0.sqlite3", `"` + tc.step + `"`, `"` + tc.key + `"`, "checksum"} {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not name %s", err, m)
				}
			}
		})
	}
}

// TestNotAStoreIsRefused points -r at a directory of other files.
func TestNotAStoreIsRefused(t *testing.T) {
	o := opts(t, 1)
	must(t, os.WriteFile(filepath.Join(o.WorkDir, "mine.txt"), []byte("x"), 0o644))
	o.RecoveryDir = "."
	err := host.Run(context.Background(), flows(t), "sum", o)
	if err == nil || !strings.Contains(err.Error(), "not a bxwasm store") || !strings.Contains(err.Error(), "mine.txt") {
		t.Fatalf("err %v; want one saying the directory is not a store, naming mine.txt", err)
	}
}
