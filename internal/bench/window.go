package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"text/tabwriter"
)

// The window figure (-window-only): -window-events "key,unix_millis" lines
// over windowKeys keys, counted per key in 1-minute tumbling windows of
// event time by a native program (internal/bench/nativewindow) and by the
// windowcount guest (internal/bench/windowcount) at -w1 and -w2.
const (
	windowKeys = 10_000
	// windowStart is the event time of the first event: 2024-01-01 UTC.
	windowStart = 1_704_067_200_000
	// windowPerMinute is how many events a key has per minute of event
	// time, on average: the event time advances 60 s / (keys * this) per
	// event.
	windowPerMinute = 10
	// windowDisorder is how far (ms) before its place in the sequence an
	// event may be stamped; one in windowDisorderOdds is. Well inside the
	// flow's 30 s wait, so no event is late.
	windowDisorder     = 5_000
	windowDisorderOdds = 8
	// Aims of the figure: the Go guest's throughput at -w1 relative to
	// the native program, and the largest peak RSS of a guest run.
	windowGoAim   = 0.1
	windowRustAim = 0.4
	windowRSSAim  = 256 << 20
)

// windowStats describes the generated events.
type windowStats struct {
	events int
	bytes  int64
}

// writeWindowEvents writes n events from a fixed seed to path: keys drawn
// uniformly from windowKeys, event times increasing with the line number
// except that one event in windowDisorderOdds is stamped up to
// windowDisorder ms earlier.
func writeWindowEvents(path string, n int, seed uint64) (windowStats, error) {
	f, err := os.Create(path)
	if err != nil {
		return windowStats{}, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<16)
	rng := rand.New(rand.NewPCG(seed, 3))
	var line []byte
	var size int64
	for i := range n {
		ms := windowStart + int64(i)*60_000/(windowKeys*windowPerMinute)
		if rng.IntN(windowDisorderOdds) == 0 {
			ms -= rng.Int64N(windowDisorder)
		}
		line = fmt.Appendf(line[:0], "key-%05d,", rng.IntN(windowKeys))
		line = append(strconv.AppendInt(line, ms, 10), '\n')
		size += int64(len(line))
		if _, err := w.Write(line); err != nil {
			return windowStats{}, err
		}
	}
	if err := w.Flush(); err != nil {
		return windowStats{}, err
	}
	return windowStats{events: n, bytes: size}, f.Close()
}

// windowBins are the programs of the window figure.
type windowBins struct {
	bxwasm, native, wasm, rustWasm, cache string
}

// buildWindow builds the CLI, the native program and the guests of the
// window figure into dir.
//
// The Rust guest is built from internal/bench/windowcount/rust, the same
// flow with the Rust SDK's count_window.
func buildWindow(dir string) (windowBins, error) {
	b := windowBins{bxwasm: filepath.Join(dir, "bxwasm"), native: filepath.Join(dir, "nativewindow"),
		wasm: filepath.Join(dir, "windowcount.wasm"), cache: filepath.Join(dir, "cache")}
	steps := [][]string{
		{"go", "build", "-o", b.bxwasm, "./cmd/bxwasm"},
		{"go", "build", "-o", b.native, "./internal/bench/nativewindow"},
		{"env", "GOOS=wasip1", "GOARCH=wasm", "go", "build", "-buildmode=c-shared", "-o", b.wasm, "./internal/bench/windowcount"},
	}
	if _, err := os.Stat("internal/bench/windowcount/rust"); err == nil {
		b.rustWasm = filepath.Join(dir, "windowcount-rust.wasm")
		steps = append(steps, []string{"bash", "guest-sdk/rust/build.sh", "internal/bench/windowcount/rust", b.rustWasm})
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return b, fmt.Errorf("%v: %w\n%s", s, err, out)
		}
	}
	return b, nil
}

// flowArgs is the bxwasm command line that counts the windows of events
// into out with the guest wasm.
func (b windowBins) flowArgs(wasm, dir, events, out string, workers int, more ...string) []string {
	return append([]string{b.bxwasm, "run", wasm + ":flow('" + events + "', '" + out + "')",
		"-w", strconv.Itoa(workers), "--allow-path", dir, "--cache-dir", b.cache}, more...)
}

// windowRun is what the window figure measured.
type windowRun struct {
	stats   windowStats
	ms      []measurement
	windows int // lines of the native program's output
	rust    bool
}

// runWindow runs the window figure alone: events events, each program
// timed runs times; with profile, the guest's -w1 run once more with
// --cpuprofile into that file.
func runWindow(events, runs int, profile string) error {
	dir, err := os.MkdirTemp("", "bxwasm-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r, err := measureWindow(dir, events, runs, profile)
	if err != nil {
		return err
	}
	printWindow(os.Stdout, r, runs)
	return nil
}

// measureWindow generates the events, builds and warms the programs, times
// each and checks that every guest wrote the native program's lines.
func measureWindow(dir string, events, runs int, profile string) (windowRun, error) {
	path := filepath.Join(dir, "events.txt")
	fmt.Printf("generating %d events over %d keys into %s\n", events, windowKeys, path)
	st, err := writeWindowEvents(path, events, seed)
	if err != nil {
		return windowRun{}, err
	}
	fmt.Println("building bxwasm, the windowcount guest and the native program")
	b, err := buildWindow(dir)
	if err != nil {
		return windowRun{}, err
	}
	if err := b.warmWindow(dir); err != nil {
		return windowRun{}, err
	}
	r := windowRun{stats: st, rust: b.rustWasm != ""}
	for _, p := range b.windowPrograms(dir, path) {
		fmt.Printf("running %s\n", p.name)
		m, err := measure(p.name, runs, filepath.Join(dir, p.name+".stdout"), p.argv)
		if err != nil {
			return r, err
		}
		if p.name != "native" {
			m.out = filepath.Join(dir, p.name+".out")
		}
		r.ms = append(r.ms, m)
	}
	if err := verify(r.ms); err != nil {
		return r, err
	}
	lines, err := sortedLines(r.ms[0].out)
	r.windows = len(lines)
	if err == nil && profile != "" {
		err = b.profileWindow(dir, path, profile)
	}
	return r, err
}

// windowPrograms are the timed rows: native, then each guest at -w1 and
// -w2, each guest writing to the file DIR/<row>.out.
func (b windowBins) windowPrograms(dir, events string) []program {
	progs := []program{{"native", []string{b.native, events}}}
	guests := []struct{ name, wasm string }{{"go", b.wasm}, {"rust", b.rustWasm}}
	for _, g := range guests {
		if g.wasm == "" {
			continue
		}
		for _, w := range []int{1, 2} {
			name := fmt.Sprintf("%s-w%d", g.name, w)
			progs = append(progs, program{name, b.flowArgs(g.wasm, dir, events, filepath.Join(dir, name+".out"), w)})
		}
	}
	return progs
}

// warmWindow runs each guest once on a few events, so that the timed runs
// find their machine code in the cache.
func (b windowBins) warmWindow(dir string) error {
	small := filepath.Join(dir, "warm.txt")
	if _, err := writeWindowEvents(small, 1000, seed); err != nil {
		return err
	}
	for _, wasm := range []string{b.wasm, b.rustWasm} {
		if wasm == "" {
			continue
		}
		argv := b.flowArgs(wasm, dir, small, filepath.Join(dir, "warm.out"), 1)
		if _, err := measure("warm-up", 1, filepath.Join(dir, "warm.stdout"), argv); err != nil {
			return err
		}
	}
	return nil
}

// profileWindow runs the Go guest at -w1 once more with --cpuprofile.
func (b windowBins) profileWindow(dir, events, profile string) error {
	fmt.Printf("profiling go-w1 into %s\n", profile)
	argv := b.flowArgs(b.wasm, dir, events, filepath.Join(dir, "profile.out"), 1, "--cpuprofile", profile)
	_, err := measure("go-w1-profile", 1, filepath.Join(dir, "profile.stdout"), argv)
	return err
}

// printWindow prints one row per program: best wall seconds, events per
// second, throughput relative to native, -w2 relative to -w1, peak RSS
// and CPU seconds of the best run; then the aims.
func printWindow(w io.Writer, r windowRun, runs int) {
	fmt.Fprintf(w, "\nwindow figure: %d events over %d keys (%.1f MiB), 1-minute tumbling counts, %d windows; best of %d run(s)\n\n",
		r.stats.events, windowKeys, float64(r.stats.bytes)/(1<<20), r.windows, runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tseconds\tevents/s\tx native\tx -w1\tpeak RSS MiB\tCPU s\t")
	native := r.ms[0]
	for _, m := range r.ms {
		scale := "-"
		if w1 := byName(r.ms, m.name[:len(m.name)-1]+"1"); m.name != "native" && w1.name != m.name {
			scale = fmt.Sprintf("%.2f", w1.seconds/m.seconds)
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.0f\t%.3f\t%s\t%.1f\t%.3f\t\n", m.name, m.seconds, float64(r.stats.events)/m.seconds,
			native.seconds/m.seconds, scale, float64(m.maxRSS)/(1<<20), m.cpu)
	}
	tw.Flush()
	printWindowAims(w, r)
}

// printWindowAims reports each guest's -w1 throughput and peak RSS against
// the aims.
func printWindowAims(w io.Writer, r windowRun) {
	native := r.ms[0]
	aims := []struct {
		row string
		aim float64
	}{{"go-w1", windowGoAim}, {"rust-w1", windowRustAim}}
	for _, a := range aims {
		m := byName(r.ms, a.row)
		if m.name == "" {
			fmt.Fprintf(w, "\n%s: not run (no internal/bench/windowcount/rust: guest-sdk/rust has no count_window in this tree)", a.row)
			continue
		}
		ratio := native.seconds / m.seconds
		fmt.Fprintf(w, "\n%s: %.3f x native (aim >= %.1f: %s)", a.row, ratio, a.aim, verdict(ratio >= a.aim))
	}
	var peak int64
	for _, m := range r.ms[1:] {
		peak = max(peak, m.maxRSS)
	}
	fmt.Fprintf(w, "\nlargest guest peak RSS: %.1f MiB (aim < %d MiB: %s)\n", float64(peak)/(1<<20), windowRSSAim>>20, verdict(peak < windowRSSAim))
}
