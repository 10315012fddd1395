package main

import (
	"context"
	varint "encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// The window tests run host/testdata/windows over generated event streams
// and compare its output with windowModel, computed here from the events
// alone.
//
// The guest's event clock puts a key's watermark at its newest timestamp
// minus the wait, plus the system time passed since that item arrived.
// The system time is the only thing a test cannot fix, so the streams keep
// it out of the result: an on-time item is at most onTimeLag behind its
// key's newest one, a late item at least lateLag behind, and wait lies
// between them with minutes of margin on either side, far more than any
// run (or kill and resume) takes.
const (
	winWaitS  = 600 // the clock's wait, in seconds
	onTimeLag = 5 * 60_000
	lateLag   = 11 * 60_000
	minuteMS  = 60_000
	slideMS   = 20_000
	gapMS     = 30_000
)

// winAlign is the guest's alignTo (host/testdata/windows: Align) in Unix ms.
var winAlign = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// winEvent is one input line: a key and its event time in Unix ms.
type winEvent struct {
	key string
	at  int64
}

// genEvents makes n events over keys keys, one event every 0 to 3 s of
// event time: most within 10 s of the stream's time, some up to onTimeLag
// behind, and some late, lateLag to 30 minutes behind their key's newest.
func genEvents(rng *rand.Rand, n, keys int) []winEvent {
	t := winAlign + 24*3_600_000
	newest := map[string]int64{}
	out := make([]winEvent, 0, n)
	for range n {
		t += rng.Int64N(3_000)
		k := fmt.Sprintf("k%d", rng.IntN(keys))
		at := t - rng.Int64N(10_000)
		switch r, seen := rng.IntN(100), newest[k] != 0; {
		case r >= 95 && seen:
			at = newest[k] - lateLag - rng.Int64N(19*minuteMS)
		case r >= 85:
			at = t - rng.Int64N(onTimeLag)
		}
		newest[k] = max(newest[k], at)
		out = append(out, winEvent{k, at})
	}
	return out
}

// writeEvents writes the events as "key,unix_millis" lines to dir/name.
func writeEvents(t *testing.T, dir, name string, evs []winEvent) {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s,%d\n", e.key, e.at)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// windowModel is what the guest's flow named windower ("windows": all
// three) must write for evs, brute force: an item is late when it is
// more than the wait behind the newest earlier item of its key; the others
// are counted in every window they fall in. Session lines are in the form
// normalizeSessions gives them.
func windowModel(t *testing.T, evs []winEvent, windower string) []string {
	t.Helper()
	onTime := map[string][]int64{}
	newest := map[string]int64{}
	var out []string
	for _, e := range evs {
		n, seen := newest[e.key]
		lag := n - e.at
		if seen && lag > onTimeLag && lag < lateLag {
			t.Fatalf("generated event %v is %d ms behind its key: on time or late depends on the system clock", e, lag)
		}
		if seen && lag > winWaitS*1000 {
			out = append(out, modelLate(windower, e)...)
			continue
		}
		newest[e.key] = max(n, e.at)
		onTime[e.key] = append(onTime[e.key], e.at)
	}
	for key, ats := range onTime {
		for _, name := range modelNames(windower) {
			out = append(out, modelWindows(name, key, ats)...)
		}
	}
	slices.Sort(out)
	return out
}

// modelNames lists the windowers of a flow.
func modelNames(flow string) []string {
	if flow == "windows" {
		return []string{"tumbling", "sliding", "session", "collect"}
	}
	return []string{flow}
}

// slidingIDs are the ids of the windows of the given length starting
// every offset ms from winAlign that hold at.
func slidingIDs(at, length, offset int64) (first, last int64) {
	since := at - winAlign
	return floorDiv(since-length, offset) + 1, floorDiv(since, offset)
}

func floorDiv(n, d int64) int64 {
	q := n / d
	if n%d != 0 && n < 0 {
		q--
	}
	return q
}

// modelLate is the late lines of e for each windower of the flow.
func modelLate(flow string, e winEvent) []string {
	var out []string
	for _, name := range modelNames(flow) {
		switch name {
		case "session":
			out = append(out, fmt.Sprintf("session late %s -1 %d", e.key, e.at))
		default:
			length, offset := windowShape(name)
			first, last := slidingIDs(e.at, length, offset)
			for id := first; id <= last; id++ {
				out = append(out, fmt.Sprintf("%s late %s %d %d", name, e.key, id, e.at))
			}
		}
	}
	return out
}

// windowShape is the length and offset of the tumbling and sliding
// windowers ("collect" collects over the tumbling ones).
func windowShape(name string) (length, offset int64) {
	if name == "tumbling" || name == "collect" {
		return minuteMS, minuteMS
	}
	return minuteMS, slideMS
}

// modelWindows is the count and meta lines of one windower for the
// on-time event times of key, in arrival order; "collect" lists each
// window's times in timestamp order instead of counting them.
func modelWindows(name, key string, ats []int64) []string {
	if name == "session" {
		return modelSessions(key, ats)
	}
	length, offset := windowShape(name)
	wins := map[int64][]int64{}
	for _, at := range ats {
		first, last := slidingIDs(at, length, offset)
		for id := first; id <= last; id++ {
			wins[id] = append(wins[id], at)
		}
	}
	var out []string
	for id, in := range wins {
		open := winAlign + id*offset
		value := strconv.Itoa(len(in))
		if name == "collect" {
			slices.Sort(in)
			value = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(in)), ","), "[]")
		}
		out = append(out, fmt.Sprintf("%s count %s %d %s", name, key, id, value),
			fmt.Sprintf("%s meta %s %d %d %d", name, key, id, open, open+length))
	}
	return out
}

// modelSessions splits the sorted times where two are more than the gap
// apart: "session KEY OPEN CLOSE COUNT" per session.
func modelSessions(key string, ats []int64) []string {
	ats = slices.Sorted(slices.Values(ats))
	var out []string
	start := 0
	for i := 1; i <= len(ats); i++ {
		if i == len(ats) || ats[i]-ats[i-1] > gapMS {
			out = append(out, fmt.Sprintf("session %s %d %d %d", key, ats[start], ats[i-1], i-start))
			start = i
		}
	}
	return out
}

// normalizeSessions replaces the session count and meta lines, whose ids
// depend on the order items arrived in, by one "session KEY OPEN CLOSE
// COUNT" line per session, failing the test unless every session has
// exactly one of each.
func normalizeSessions(t *testing.T, lines []string) []string {
	t.Helper()
	type session struct {
		count, meta string
		counts      int
		metas       int
	}
	sessions := map[string]*session{}
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] != "session" || f[1] == "late" {
			out = append(out, l)
			continue
		}
		id := f[2] + " " + f[3]
		s := sessions[id]
		if s == nil {
			s = &session{}
			sessions[id] = s
		}
		if f[1] == "count" {
			s.count, s.counts = f[4], s.counts+1
		} else {
			s.meta, s.metas = strings.Join(f[4:], " "), s.metas+1
		}
	}
	for id, s := range sessions {
		if s.counts != 1 || s.metas != 1 {
			t.Fatalf("session %s has %d counts and %d metas, want one of each", id, s.counts, s.metas)
		}
		key, _, _ := strings.Cut(id, " ")
		out = append(out, "session "+key+" "+s.meta+" "+s.count)
	}
	slices.Sort(out)
	return out
}

// windowRun is one run of a flow of the windows guest in dir.
type windowRun struct {
	t         *testing.T
	wasm, dir string
	flow      string
}

func newWindowRun(t *testing.T, flow string) windowRun {
	wasm := testutil.BuildWasm(t, "../../host/testdata/windows")
	return windowRun{t: t, wasm: wasm, dir: t.TempDir(), flow: flow}
}

// command is the run at shape, with extra flags.
func (r windowRun) command(shape []string, extra ...string) *exec.Cmd {
	call := fmt.Sprintf("%s:%s('in.txt', 'out.txt', %d)", r.wasm, r.flow, winWaitS)
	args := append([]string{"run", call, "--cache-dir", testutil.CacheDir(r.t)}, shape...)
	cmd := exec.Command(binary(r.t), append(args, extra...)...)
	cmd.Dir, cmd.Env = r.dir, cleanEnv()
	return cmd
}

// run runs the flow at shape to its end and returns its sorted output.
func (r windowRun) run(shape []string, extra ...string) []string {
	r.t.Helper()
	if stderr, err := testutil.RunKillable(r.t, r.command(shape, extra...), 0, 3*time.Minute); err != nil {
		r.t.Fatalf("%v: %v\n%s", shape, err, stderr)
	}
	return r.output()
}

// output is the output file's lines, sorted.
func (r windowRun) output() []string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, "out.txt"))
	if err != nil {
		r.t.Fatal(err)
	}
	return sortedLines(string(b))
}

// sameOutput fails the test with the first difference of got and want.
func sameOutput(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("%s: line %d is %q, want %q (%d lines, want %d)", what, i+1, got[i], want[i], len(got), len(want))
		}
	}
	t.Fatalf("%s: %d lines, want %d", what, len(got), len(want))
}

// kinds counts the lines of each windower and kind, to show what a test
// covered.
func kinds(lines []string) map[string]int {
	n := map[string]int{}
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case f[0] != "session" || f[1] == "late":
			n[f[0]+" "+f[1]]++
		default:
			n["session count"]++
		}
	}
	return n
}

var windowScales = [][]string{{"-w1"}, {"-w3"}, {"-p2", "-w2"}}

// TestWindowCountsMatchModel runs the tumbling, sliding and session counts
// and an ordered collect over random streams, with items out of order
// within the wait and late beyond it, at three scales: every output
// equals the model's, and the outputs of the scales are identical, session
// ids included.
func TestWindowCountsMatchModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 10))
			r := newWindowRun(t, "windows")
			evs := genEvents(rng, 3_000+rng.IntN(6_000), 2+rng.IntN(40))
			writeEvents(t, r.dir, "in.txt", evs)
			want := windowModel(t, evs, "windows")
			t.Logf("%d events: %v", len(evs), kinds(want))
			var first []string
			for _, shape := range windowScales {
				got := r.run(shape)
				sameOutput(t, strings.Join(shape, " ")+" against the model", normalizeSessions(t, got), want)
				if first == nil {
					first = got
				}
				sameOutput(t, strings.Join(shape, " ")+" against "+strings.Join(windowScales[0], " "), got, first)
			}
		})
	}
}

// TestWindowResumeAfterKills runs the window counts with a recovery store,
// SIGKILLs the whole process group at random moments and resumes at
// another scale each time until a run finishes: the output file (the file
// sink is exactly-once) holds what a clean run writes.
func TestWindowResumeAfterKills(t *testing.T) {
	if testing.Short() {
		t.Skip("a chaos test: runs the flow up to eight times")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 11))
	r := newWindowRun(t, "windows")
	evs := genEvents(rng, 24_000, 30)
	writeEvents(t, r.dir, "in.txt", evs)
	start := time.Now()
	want := r.run([]string{"-w2"}, "-r", "clean", "-s", "0.05")
	took := time.Since(start)
	sameOutput(t, "clean run against the model", normalizeSessions(t, want), windowModel(t, evs, "windows"))
	os.Remove(filepath.Join(r.dir, "out.txt"))
	t.Logf("seed %d, a clean run takes %s", seed, took)

	// A run may finish before the kill meant for it (a resumed run has less
	// to do): the cycle starts over on a fresh store until two runs were
	// killed and one resumed from a snapshot, so the test always tests that.
	for cycle := 0; ; cycle++ {
		if cycle == 4 {
			t.Fatal("in 4 cycles the flow never got killed twice and resumed from a snapshot before it finished")
		}
		os.RemoveAll(filepath.Join(r.dir, "rec"))
		os.Remove(filepath.Join(r.dir, "out.txt"))
		kills := r.killAndResume(rng, took, [][]string{{"-w3"}, {"-p2", "-w2"}, {"-w1"}})
		sameOutput(t, "resumed run against the clean run", r.output(), want)
		if kills >= 2 && r.resumed() {
			return
		}
		t.Logf("cycle %d: %d kills, resumed from a snapshot: %v; again", cycle, kills, r.resumed())
	}
}

// resumed reports whether some execution in the store began from a
// snapshot rather than from the start.
func (r windowRun) resumed() bool {
	sum, err := recovery.Inspect(context.Background(), filepath.Join(r.dir, "rec"))
	if err != nil {
		r.t.Fatal(err)
	}
	return slices.ContainsFunc(sum.Executions, func(e recovery.Execution) bool { return e.StartEpoch > 1 })
}

// killAndResume runs the flow with a store at the scales in turn, SIGKILLed
// at a random moment within the first half of took, until at least two runs
// were killed and the store has an epoch every worker committed (so the
// next run resumes from a snapshot); each kill that leaves no such epoch
// gives the next run a quarter of took longer. Then one run finishes. It
// returns how many were killed.
func (r windowRun) killAndResume(rng *rand.Rand, took time.Duration, scales [][]string) int {
	t := r.t
	kills, later := 0, time.Duration(0)
	for run := 0; ; run++ {
		if run > 16 {
			t.Fatalf("after %d kills no epoch was committed by every worker", kills)
		}
		shape := scales[run%len(scales)]
		kill := time.Duration(0)
		if kills < 2 || !r.resumable() {
			kill = took/20 + time.Duration(rng.Int64N(int64(took/2))) + later
		}
		stderr, err := testutil.RunKillable(t, r.command(shape, "-r", "rec", "-s", "0.05"), kill, 3*time.Minute)
		t.Logf("run %d %v: kill at %s: %v", run, shape, kill.Round(time.Millisecond), err)
		if testutil.Killed(err) {
			kills++
			if !r.resumable() {
				later += took / 4
			}
			continue
		}
		if err != nil {
			t.Fatalf("run %d (%v): %v\n%s", run, shape, err, stderr)
		}
		return kills
	}
}

// resumable reports whether every worker of the store's last execution
// committed an epoch, so that the next run resumes from a snapshot.
func (r windowRun) resumable() bool {
	sum, err := recovery.Inspect(context.Background(), filepath.Join(r.dir, "rec"))
	if err != nil || len(sum.Executions) == 0 {
		return false
	}
	last := sum.Executions[len(sum.Executions)-1]
	return len(last.Frontiers) > 0 && slices.Min(last.Frontiers) >= 1
}

// TestWindowStateStaysBounded runs tumbling counts over 50 keys and 30
// hours of event time with a store and kills the run past a third of its
// output: the window step's stored state holds only the windows still
// open, a few per key, not the thousands closed, and its rows are one per
// key and recent epoch. Resumed to the end, every key has closed all its
// windows and is a tombstone, which the store's GC removes.
func TestWindowStateStaysBounded(t *testing.T) {
	const keys = 50
	rng := rand.New(rand.NewPCG(5, 12))
	r := newWindowRun(t, "tumbling")
	evs := genEvents(rng, 72_000, keys)
	writeEvents(t, r.dir, "in.txt", evs)
	want := windowModel(t, evs, "tumbling")

	p := testutil.StartKillable(t, r.command([]string{"-w2"}, "-r", "rec", "-s", "0.05"))
	waitFor(t, 3*time.Minute, func() bool { return r.outputLines() > len(want)/3 })
	if _, err := p.Wait(time.Nanosecond, time.Minute); !testutil.Killed(err) {
		t.Fatalf("the run ended before it was killed: %v", err)
	}
	closed := r.outputLines()
	st := r.windowState()
	t.Logf("killed after %d output lines of %d: %d live keys holding %d open windows, %d rows, %d bytes",
		closed, len(want), len(st.open), st.windows(), st.rows, st.bytes)
	// A window stays open until the watermark, at least the key's newest
	// time minus the wait, passes its close: a key has at most wait/1m+1
	// one-minute windows open.
	if maxOpen := keys * (winWaitS/60 + 1); len(st.open) > keys || st.windows() > maxOpen {
		t.Errorf("%d keys hold %d open windows; want at most %d keys, %d windows", len(st.open), st.windows(), keys, maxOpen)
	}
	if st.rows > keys*20 {
		t.Errorf("the window step has %d rows in the store; superseded snapshots of %d keys are not collected", st.rows, keys)
	}

	sameOutput(t, "resumed run against the model", r.run([]string{"-w3"}, "-r", "rec", "-s", "0.05"), want)
	r.checkAllDiscarded()
}

// outputLines counts the lines of the output file so far.
func (r windowRun) outputLines() int {
	b, _ := os.ReadFile(filepath.Join(r.dir, "out.txt"))
	return strings.Count(string(b), "\n")
}

// storedWindows is what the store holds of the window step.
type storedWindows struct {
	open        map[string]int // live key -> open windows
	rows, bytes int64          // the step's rows (all epochs, tombstones too) and their bytes
}

func (s storedWindows) windows() int {
	n := 0
	for _, w := range s.open {
		n += w
	}
	return n
}

// windowStep is the step id of the CountWindow step of the tumbling flow
// that keeps the windows.
const windowStep = "tumbling.tumbling.sum.window.stateful_batch"

// openStore opens the run's store (after the run) and reads its resume
// epoch.
func (r windowRun) openStore() (*recovery.SQLite, uint64) {
	r.t.Helper()
	ctx := context.Background()
	st, err := recovery.OpenSQLite(ctx, filepath.Join(r.dir, "rec"), recovery.SQLiteOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	resume, err := st.ResumeEpoch(ctx)
	if err != nil {
		st.Close()
		r.t.Fatal(err)
	}
	return st, resume
}

// windowState reads the window step's live keys from the store at the
// resume epoch, with the open windows of each, and its rows.
func (r windowRun) windowState() storedWindows {
	t := r.t
	ctx := context.Background()
	st, resume := r.openStore()
	defer st.Close()
	out := storedWindows{open: map[string]int{}}
	err := st.Load(ctx, resume-1, func(step, _ string) bool { return step == windowStep }, func(sn recovery.Snapshot) error {
		var state struct {
			Windows struct {
				Open map[string]json.RawMessage `json:"open"`
			} `json:"windows"`
		}
		// The host stores a stateful key's notify_at (uvarint) before the
		// guest's state, here JSON.
		_, n := varint.Uvarint(sn.State)
		if n <= 0 {
			return fmt.Errorf("state of key %q: no notify_at", sn.Key)
		}
		if err := json.Unmarshal(sn.State[n:], &state); err != nil {
			return fmt.Errorf("state of key %q: %w", sn.Key, err)
		}
		out.open[sn.Key] = len(state.Windows.Open)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out.rows, out.bytes = stepRows(t, st, windowStep)
	return out
}

// stepRows is the rows and bytes of step in the store.
func stepRows(t *testing.T, st *recovery.SQLite, step string) (rows, bytes int64) {
	sum, err := st.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(sum.Steps, func(s recovery.StepSummary) bool { return s.StepID == step })
	if i < 0 {
		return 0, 0
	}
	return sum.Steps[i].Snapshots, sum.Steps[i].Bytes
}

// checkAllDiscarded checks, after the run finished, that the window step
// has no live key left, and that the store's GC leaves no row of it.
func (r windowRun) checkAllDiscarded() {
	t := r.t
	if st := r.windowState(); len(st.open) != 0 {
		t.Errorf("after the end %d keys of the window step are still live: %v", len(st.open), st.open)
	}
	ctx := context.Background()
	st, resume := r.openStore()
	defer st.Close()
	if err := st.GC(ctx, resume-1); err != nil {
		t.Fatal(err)
	}
	if rows, _ := stepRows(t, st, windowStep); rows != 0 {
		t.Errorf("after the end and a GC the window step still has %d rows", rows)
	}
}
