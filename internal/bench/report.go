package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// verify checks that every program printed the baseline's lines, in any
// order.
func verify(ms []measurement) error {
	want, err := sortedLines(ms[0].out)
	if err != nil {
		return err
	}
	for _, m := range ms[1:] {
		got, err := sortedLines(m.out)
		if err != nil {
			return err
		}
		if i := firstDiff(got, want); i >= 0 {
			return fmt.Errorf("%s printed %d lines, %s %d; first difference at sorted line %d: %q vs %q",
				m.name, len(got), ms[0].name, len(want), i, at(got, i), at(want, i))
		}
	}
	fmt.Printf("outputs agree: %d distinct words\n", len(want))
	return nil
}

func sortedLines(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(b) == 0 {
		lines = nil
	}
	slices.SortFunc(lines, bytes.Compare)
	return lines, nil
}

// firstDiff returns the first index where a and b differ, or -1.
func firstDiff(a, b [][]byte) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || !bytes.Equal(a[i], b[i]) {
			return i
		}
	}
	return -1
}

func at(lines [][]byte, i int) string {
	if i < len(lines) {
		return string(lines[i])
	}
	return "(end)"
}

// printTable prints one row per program: best wall seconds, words per
// second, throughput relative to the native baseline (first row; 0.25
// means a quarter of its words/s), -w2's throughput relative to -w1's,
// peak RSS, and the CPU seconds of the best run (on a busy machine the CPU
// time is the steadier figure).
func printTable(w io.Writer, st corpusStats, ms []measurement, runs int) {
	fmt.Fprintf(w, "\ncorpus: %d lines, %d words, %.1f MiB; best of %d run(s)\n\n",
		st.Lines, st.Words, float64(st.Bytes)/(1<<20), runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tseconds\twords/s\tx native\tx -w1\tpeak RSS MiB\tCPU s\t")
	for _, m := range ms {
		scale := "-"
		switch m.name {
		case "wasm-w2":
			scale = fmt.Sprintf("%.2f", byName(ms, "wasm-w1").seconds/m.seconds)
		case "wasm-p2w1":
			scale = fmt.Sprintf("%.2f (x -w2)", byName(ms, "wasm-w2").seconds/m.seconds)
		case "wasm-w1-recovery":
			scale = fmt.Sprintf("%.2f", byName(ms, "wasm-w1").seconds/m.seconds)
		case "wasm-w1-unwatched":
			scale = fmt.Sprintf("%.2f", byName(ms, "wasm-w1").seconds/m.seconds)
		case "native-wasm-interruptible":
			scale = fmt.Sprintf("%.2f (x native-wasm)", byName(ms, "native-wasm").seconds/m.seconds)
		default:
			if w1 := byName(ms, strings.TrimSuffix(m.name, "-w2")+"-w1"); strings.HasSuffix(m.name, "-w2") && w1.name != "" {
				scale = fmt.Sprintf("%.2f", w1.seconds/m.seconds)
			}
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.0f\t%.3f\t%s\t%.1f\t%.3f\t\n", m.name, m.seconds,
			float64(st.Words)/m.seconds, ms[0].seconds/m.seconds, scale, float64(m.maxRSS)/(1<<20), m.cpu)
	}
	tw.Flush()
	printNATS(w, st, byName(ms, "wasm-p2w1"))
	printLimits(w, ms)
	printRecovery(w, ms)
}

// printLimits reports what keeping guests stoppable costs: the call limit
// (the watchdog process) against the same run without it, and wazero's
// in-process alternative against the same Go program without it.
func printLimits(w io.Writer, ms []measurement) {
	if m := byName(ms, "wasm-w1-unwatched"); m.name != "" {
		ratio := m.seconds / byName(ms, "wasm-w1").seconds
		fmt.Fprintf(w, "\n-w1 with the call limit (watchdog): %.3f x its throughput without (aim >= %.2f: %s)\n",
			ratio, limitAim, verdict(ratio >= limitAim))
	}
	if m := byName(ms, "native-wasm-interruptible"); m.name != "" {
		fmt.Fprintf(w, "wazero WithCloseOnContextDone on the Go baseline as WebAssembly: %.3f x its throughput without\n",
			byName(ms, "native-wasm").seconds/m.seconds)
	}
}

// limitAim is the least throughput -w1 keeps with the call limit on,
// relative to without it.
const limitAim = 0.95

// printRecovery reports the recovery row against its aim and the size of
// its store.
func printRecovery(w io.Writer, ms []measurement) {
	m := byName(ms, "wasm-w1-recovery")
	if m.name == "" {
		return
	}
	ratio := byName(ms, "wasm-w1").seconds / m.seconds
	fmt.Fprintf(w, "\n-w1 -r --epoch-interval %s: %.2f x -w1's throughput (aim >= %.2f: %s); store after the run: %.1f MiB\n",
		recoveryInterval, ratio, recoveryAim, verdict(ratio >= recoveryAim), float64(m.storeBytes)/(1<<20))
}

// printResume reports the resume figure, if it was measured.
func printResume(w io.Writer, r resumeRun) {
	if r.keys == 0 {
		return
	}
	fmt.Fprintf(w, "\nresume of a store of %d keys (keys guest, -w1, -r, --epoch-interval %s, --memory-limit %s):\n",
		r.keys, keysInterval, keysMemoryMiB)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tseconds\tkeys/s\tpeak RSS MiB\tCPU s\tstore MiB\t")
	for _, m := range []measurement{r.write, r.resume, r.resume2} {
		fmt.Fprintf(tw, "%s\t%.3f\t%.0f\t%.1f\t%.3f\t%.1f\t\n", m.name, m.seconds, float64(r.keys)/m.seconds,
			float64(m.maxRSS)/(1<<20), m.cpu, float64(m.storeBytes)/(1<<20))
	}
	tw.Flush()
	for _, m := range []measurement{r.resume, r.resume2} {
		restored, ok := restoreSeconds(m.stderr)
		if !ok {
			fmt.Fprintf(w, "%s: the rerun did not report its restore (stderr %q)\n", m.name, m.stderr)
			continue
		}
		fmt.Fprintf(w, "%s: state loaded and restored in %.1f s, by the rerun's own report (aim < %.0f s: %s); the whole rerun, with start-up and on_eof over every key, %.1f s\n",
			m.name, restored, resumeAim, verdict(restored < resumeAim), m.seconds)
	}
	fmt.Fprintf(w, "\nbxwasm recovery inspect, after the resume:\n")
	for _, l := range strings.Split(strings.TrimRight(r.inspect, "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// verdict words whether a figure met its aim.
func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// printNATS reports what the two-process run's NATS server carried, from
// the line `bxwasm run --stats` prints.
func printNATS(w io.Writer, st corpusStats, m measurement) {
	var msgs, bytes int64
	i := strings.Index(m.stderr, "nats carried ")
	if i < 0 {
		return
	}
	if _, err := fmt.Sscanf(m.stderr[i:], "nats carried %d messages, %d bytes", &msgs, &bytes); err != nil {
		return
	}
	fmt.Fprintf(w, "\n-p2 -w1 over NATS: %d messages, %.1f MiB: %.0f messages/s, %.1f MiB/s, %.0f items (words)/s\n",
		msgs, float64(bytes)/(1<<20), float64(msgs)/m.seconds, float64(bytes)/(1<<20)/m.seconds, float64(st.Words)/m.seconds)
}

func byName(ms []measurement, name string) measurement {
	for _, m := range ms {
		if m.name == name {
			return m
		}
	}
	return measurement{seconds: 1}
}

// restoredIn finds the time a run reports for its resume ("... restored in
// 1.234s").
var restoredIn = regexp.MustCompile(`restored in (\S+)`)

// restoreSeconds reads the resume time a run printed on stderr.
func restoreSeconds(stderr string) (float64, bool) {
	m := restoredIn.FindStringSubmatch(stderr)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d.Seconds(), err == nil
}
