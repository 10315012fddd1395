package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
)

// language is a guest SDK whose word-count example the benchmark runs:
// built by guest-sdk/<dir>/build.sh guest-sdk/<dir>/examples/wordcount OUT.
type language struct {
	name string // row prefix
	dir  string // under guest-sdk/
}

// languages are the SDKs besides Go's (whose word count is
// wasm-examples/wordcount, the wasm-w1 and wasm-w2 rows).
var languages = []language{{"rust", "rust"}, {"c", "c"}, {"as", "assemblyscript"}}

// guestModule is a built word-count guest of one language.
type guestModule struct {
	lang string
	wasm string
}

// buildLanguages builds each language's word count into dir from the tree
// at root. A language whose build.sh does not exist (yet) is left out
// with a note on out; a build.sh that fails fails the benchmark.
func buildLanguages(root, dir string, out io.Writer) ([]guestModule, error) {
	var built []guestModule
	for _, l := range languages {
		script := filepath.Join(root, "guest-sdk", l.dir, "build.sh")
		if _, err := os.Stat(script); err != nil {
			fmt.Fprintf(out, "note: no %s, so no %s rows\n", filepath.Join("guest-sdk", l.dir, "build.sh"), l.name)
			continue
		}
		wasm := filepath.Join(dir, "wordcount-"+l.name+".wasm")
		cmd := exec.Command("bash", script, filepath.Join("guest-sdk", l.dir, "examples", "wordcount"), wasm)
		cmd.Dir = root
		if o, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building the %s word count with %s: %w\n%s", l.name, script, err, o)
		}
		if _, err := os.Stat(wasm); err != nil {
			return nil, fmt.Errorf("%s succeeded but wrote no %s: %w", script, wasm, err)
		}
		built = append(built, guestModule{l.name, wasm})
	}
	return built, nil
}

// languageRows are the word-count rows of one language: name-w1, name-w2.
func languageRows(name string) (w1, w2 string) { return name + "-w1", name + "-w2" }

// Aims of the word count by language: throughput at -w1 relative to the
// native program, and -w2 relative to -w1.
const (
	fastAim  = 0.5 // C and Rust at -w1
	goAim    = 0.1 // the Go guest at -w1
	scaleAim = 1.7 // -w2 over -w1, C and Rust
)

// printLanguages prints a row per guest language: -w1 and -w2 against the
// native program by wall time and by CPU time (the steadier figure on a
// shared machine), -w2 over -w1, peak RSS, and the aims.
func printLanguages(w io.Writer, st corpusStats, ms []measurement, langs []guestModule) {
	native := ms[0]
	fmt.Fprintf(w, "\nword count by guest language (x native: throughput relative to the native program, by wall and by CPU time):\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "guest\t-w1 words/s\tx native\tx native CPU\t-w2 words/s\tx native\t-w2/-w1\tpeak RSS MiB\taims\t")
	rows := append([]guestModule{{lang: "go"}}, langs...)
	for _, g := range rows {
		n1, n2 := languageRows(g.lang)
		if g.lang == "go" {
			n1, n2 = "wasm-w1", "wasm-w2"
		}
		m1, m2 := byName(ms, n1), byName(ms, n2)
		if m1.name == "" || m2.name == "" {
			continue
		}
		x1, xcpu, scale := native.seconds/m1.seconds, native.cpu/m1.cpu, m1.seconds/m2.seconds
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%.0f\t%.3f\t%.2f\t%.1f\t%s\t\n", g.lang,
			float64(st.Words)/m1.seconds, x1, xcpu, float64(st.Words)/m2.seconds, native.seconds/m2.seconds, scale,
			float64(max(m1.maxRSS, m2.maxRSS))/(1<<20), aims(g.lang, x1, scale))
	}
	tw.Flush()
}

// aims words how a language's rows stand against their aims.
func aims(lang string, x1, scale float64) string {
	switch lang {
	case "go":
		return fmt.Sprintf("-w1 >= %.1f: %s", goAim, verdict(x1 >= goAim))
	case "c", "rust":
		return fmt.Sprintf("-w1 >= %.1f: %s; -w2/-w1 >= %.1f: %s", fastAim, verdict(x1 >= fastAim), scaleAim, verdict(scale >= scaleAim))
	}
	return "-"
}
