// Package conformance runs the flows of suite.json (described in
// README.md) in the conformance module of every guest SDK, through the
// bxwasm command, and compares what each wrote with the expected output.
package conformance

import (
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

	"github.com/cespare/xxhash/v2"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// A suiteRun is one entry of suite.json.
type suiteRun struct {
	Name   string   `json:"name"`
	Call   string   `json:"call"`   // FLOW, with {testdata} and {out}
	Expect string   `json:"expect"` // expected output, under testdata/
	Lines  []string `json:"lines"`  // or the expected lines themselves
	Error  []string `json:"error"`  // or texts the failed run's error contains
	Once   bool     `json:"once"`   // run at -w1 only
	Resume bool     `json:"resume"` // also across SIGKILLs and rescaled resumes
}

// A language builds its conformance module into a file in dir and returns
// the file's path.
type language struct {
	name  string
	build func(t *testing.T, dir string) string
}

var languages = []language{
	{"go", buildGo},
	{"rust", buildWith("rust")},
	{"c", buildWith("c")},
	{"assemblyscript", buildWith("assemblyscript")},
}

// scales are the cluster shapes every run is made at.
var scales = [][]string{{"-w1"}, {"-w3"}, {"-p2", "-w2"}}

// resumeScales are the shapes a resumed run goes through, one per attempt.
var resumeScales = [][]string{{"-w3"}, {"-p2", "-w2"}, {"-w1"}, {"-w2"}}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveCommand()
	os.Exit(code)
}

func TestConformance(t *testing.T) {
	runs := loadSuite(t)
	bin := testutil.Command(t, "../cmd/bxwasm")
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			t.Parallel()
			module := lang.build(t, t.TempDir())
			r := runner{t: t, bin: bin, module: module, testdata: testdata, cache: cache}
			for _, run := range runs {
				t.Run(run.Name, func(t *testing.T) { r.t = t; r.check(run) })
			}
		})
	}
}

func loadSuite(t *testing.T) []suiteRun {
	b, err := os.ReadFile("suite.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Runs []suiteRun `json:"runs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("suite.json: %v", err)
	}
	return s.Runs
}

// buildGo builds the Go SDK's module (conformance/go).
func buildGo(t *testing.T, _ string) string { return testutil.BuildWasm(t, "go") }

// buildWith builds conformance/<dir> with the SDK's own build script,
// guest-sdk/<dir>/build.sh SRC OUT. A missing toolchain fails the test:
// `go tool task test` installs them all first.
func buildWith(dir string) func(t *testing.T, outDir string) string {
	return func(t *testing.T, outDir string) string {
		out := filepath.Join(outDir, "conformance-"+dir+".wasm")
		script := filepath.Join("..", "guest-sdk", dir, "build.sh")
		cmd := exec.Command("bash", script, dir, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bash %s %s %s: %v\n%s", script, dir, out, err, b)
		}
		return out
	}
}

// runner runs the flows of one module.
type runner struct {
	t                            *testing.T
	bin, module, testdata, cache string
}

func (r *runner) check(run suiteRun) {
	shapes := scales
	if run.Once {
		shapes = scales[:1]
	}
	var took time.Duration // the shortest clean run (the first one compiles the module)
	for _, shape := range shapes {
		r.t.Run(strings.Join(shape, ""), func(t *testing.T) {
			rr := *r
			rr.t = t
			if d := rr.once(run, shape); took == 0 || d < took {
				took = d
			}
		})
	}
	if run.Resume {
		r.t.Run("resume", func(t *testing.T) {
			rr := *r
			rr.t = t
			rr.resume(run, took)
		})
	}
}

// once runs the flow to its end at one shape, checks the outcome and
// returns how long the run took.
func (r *runner) once(run suiteRun, shape []string) time.Duration {
	dir := r.t.TempDir()
	out := filepath.Join(dir, "out.txt")
	start := time.Now()
	stderr, err := r.command(dir, run, out, shape).run(0)
	took := time.Since(start)
	r.outcome(run, shape, out, stderr, err)
	return took
}

// resume runs the flow with a recovery store, killing it with SIGKILL at
// random moments and resuming it on another shape each time, then checks
// that the output is the one of a clean run. The kills fall in the last
// two thirds of took, the time a clean run took (a run with a store takes
// longer), so that most land after the first snapshots and before the end.
func (r *runner) resume(run suiteRun, took time.Duration) {
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	r.t.Logf("seed %d", seed)
	dir := r.t.TempDir()
	out := filepath.Join(dir, "out.txt")
	store := filepath.Join(dir, "store")
	for i, shape := range resumeScales {
		args := append(slices.Clone(shape), "-r", store, "-s", "0.01")
		kill := time.Duration(0)
		if i < len(resumeScales)-1 {
			kill = took/3 + time.Duration(rnd.Int64N(int64(took*2/3)+1))
		}
		stderr, err := r.command(dir, run, out, args).run(kill)
		if kill == 0 || !testutil.Killed(err) {
			r.outcome(run, shape, out, stderr, err)
			return
		}
		r.t.Logf("%s: killed after %v", strings.Join(shape, " "), kill)
	}
}

// outcome checks a finished run against what suite.json expects.
func (r *runner) outcome(run suiteRun, shape []string, out, stderr string, err error) {
	t := r.t
	if run.Error != nil {
		if err == nil {
			t.Fatalf("the run succeeded; want it to fail with %q", run.Error)
		}
		for _, want := range run.Error {
			if want = r.workerOf(want, shape); !strings.Contains(stderr, want) {
				t.Errorf("the error does not contain %q:\n%s", want, stderr)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("run failed: %v\n%s", err, stderr)
	}
	got, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatal(rerr)
	}
	want := run.Lines
	if run.Expect != "" {
		b, err := os.ReadFile(filepath.Join(r.testdata, run.Expect))
		if err != nil {
			t.Fatal(err)
		}
		want = lines(string(b))
	}
	if diff := compare(byKey(lines(string(got))), want); diff != "" {
		t.Errorf("output differs from %s:\n%s", run.Expect, diff)
	}
}

// workerOf replaces {worker:KEY} with the index of the worker that owns
// KEY at shape: the host routes a key to xxhash64(key) mod workers.
func (r *runner) workerOf(s string, shape []string) string {
	i := strings.Index(s, "{worker:")
	if i < 0 {
		return s
	}
	j := strings.Index(s[i:], "}")
	key := s[i+len("{worker:") : i+j]
	w := strconv.FormatUint(xxhash.Sum64String(key)%uint64(workers(shape)), 10)
	return s[:i] + w + s[i+j+1:]
}

// workers is the number of workers of a shape.
func workers(shape []string) int {
	p, w := 1, 1
	for _, a := range shape {
		if n, err := strconv.Atoi(a[2:]); err == nil {
			if a[1] == 'p' {
				p = n
			} else {
				w = n
			}
		}
	}
	return p * w
}

// lines splits text into lines, without the last newline.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// byKey orders lines by the text before their first tab, keeping the order
// of the lines of one key.
func byKey(ls []string) []string {
	key := func(l string) string { k, _, _ := strings.Cut(l, "\t"); return k }
	slices.SortStableFunc(ls, func(a, b string) int { return strings.Compare(key(a), key(b)) })
	return ls
}

// compare describes the first difference between got and want.
func compare(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("line %d: got %q, want %q (%d lines, want %d)", i+1, got[i], want[i], len(got), len(want))
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d lines, want %d", len(got), len(want))
	}
	return ""
}

// flowCmd is one bxwasm run.
type flowCmd struct {
	t   *testing.T
	cmd *exec.Cmd
}

func (r *runner) command(dir string, run suiteRun, out string, args []string) flowCmd {
	call := strings.NewReplacer("{testdata}", r.testdata, "{out}", out).Replace(run.Call)
	argv := append([]string{"run", r.module + ":" + call, "--allow-path", r.testdata, "--cache-dir", r.cache}, args...)
	cmd := exec.Command(r.bin, argv...)
	cmd.Dir = dir
	return flowCmd{r.t, cmd}
}

// run runs the command; with kill > 0 it SIGKILLs its whole process group
// after kill. It returns the command's standard error.
func (c flowCmd) run(kill time.Duration) (string, error) {
	return testutil.RunKillable(c.t, c.cmd, kill, 2*time.Minute)
}
