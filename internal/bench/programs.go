package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// binaries are the programs the benchmark builds and runs.
type binaries struct {
	native     string        // the baseline program
	nativeWasm string        // the baseline compiled to a WASI command
	wasirun    string        // runs nativeWasm with wazero
	bxwasm     string        // the CLI
	wasm       string        // the wordcount guest
	keysWasm   string        // the keys guest of the resume figure
	cache      string        // bxwasm's compiled-code cache for these runs
	languages  []guestModule // the other languages' word counts
}

// buildAll builds the three programs into dir, from the module the
// benchmark runs in.
func buildAll(dir string) (binaries, error) {
	b := binaries{
		native:     filepath.Join(dir, "native"),
		nativeWasm: filepath.Join(dir, "native.wasm"),
		wasirun:    filepath.Join(dir, "wasirun"),
		bxwasm:     filepath.Join(dir, "bxwasm"),
		wasm:       filepath.Join(dir, "wordcount.wasm"),
		keysWasm:   filepath.Join(dir, "keys.wasm"),
		cache:      filepath.Join(dir, "cache"),
	}
	wasip1 := []string{"GOOS=wasip1", "GOARCH=wasm"}
	steps := []struct {
		env  []string
		args []string
	}{
		{nil, []string{"build", "-o", b.native, "./internal/bench/native"}},
		{wasip1, []string{"build", "-o", b.nativeWasm, "./internal/bench/native"}},
		{nil, []string{"build", "-o", b.wasirun, "./internal/bench/wasirun"}},
		{nil, []string{"build", "-o", b.bxwasm, "./cmd/bxwasm"}},
		{wasip1, []string{"build", "-buildmode=c-shared", "-o", b.wasm, "./wasm-examples/wordcount"}},
		{wasip1, []string{"build", "-buildmode=c-shared", "-o", b.keysWasm, "./internal/bench/keys"}},
	}
	for _, s := range steps {
		cmd := exec.Command("go", s.args...)
		cmd.Env = append(os.Environ(), s.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go %s: %w\n%s", strings.Join(s.args, " "), err, out)
		}
	}
	var err error
	b.languages, err = buildLanguages(".", dir, os.Stdout)
	return b, err
}

// wasmArgs is the bxwasm command line that counts the words of corpus
// with the Go guest.
func (b binaries) wasmArgs(dir, corpus string, workers int, more ...string) []string {
	return b.guestArgs(b.wasm, dir, corpus, workers, more...)
}

// guestArgs is the bxwasm command line that counts the words of corpus
// with the word-count guest wasm.
func (b binaries) guestArgs(wasm, dir, corpus string, workers int, more ...string) []string {
	return append([]string{b.bxwasm, "run", wasm + ":get_flow('" + corpus + "')",
		"-w", strconv.Itoa(workers), "--allow-path", dir, "--cache-dir", b.cache}, more...)
}

// nativeWasmArgs is the command line that runs the baseline as
// WebAssembly on corpus.
func (b binaries) nativeWasmArgs(dir, corpus string) []string {
	return []string{b.wasirun, "-cache", b.cache, "-dir", dir, b.nativeWasm, corpus}
}

// interruptibleArgs runs the baseline as WebAssembly compiled with
// wazero's WithCloseOnContextDone (its own compiled-code cache: the
// compiled code differs).
func (b binaries) interruptibleArgs(dir, corpus string) []string {
	return []string{b.wasirun, "-interruptible", "-cache", b.cache + "-interruptible", "-dir", dir, b.nativeWasm, corpus}
}

// warm runs both WebAssembly programs once on a tiny corpus so that the
// timed runs find their machine code in the cache, as every run after the
// first does.
func (b binaries) warm(dir string) error {
	small := filepath.Join(dir, "warm.txt")
	if _, err := writeCorpus(small, 100, seed); err != nil {
		return err
	}
	out := filepath.Join(dir, "warm.out")
	if _, err := measure("warm-up", 1, out, b.nativeWasmArgs(dir, small)); err != nil {
		return err
	}
	if _, err := measure("warm-up", 1, out, b.interruptibleArgs(dir, small)); err != nil {
		return err
	}
	if _, err := measure("warm-up", 1, out, b.wasmArgs(dir, small, 1)); err != nil {
		return err
	}
	for _, l := range b.languages {
		if _, err := measure("warm-up "+l.lang, 1, out, b.guestArgs(l.wasm, dir, small, 1)); err != nil {
			return err
		}
	}
	return nil
}

// program is a command the benchmark times.
type program struct {
	name string
	argv []string
}

// measureAll times the baseline, natively and as WebAssembly, and the
// guest on one and two workers, on two processes, and on one worker
// snapshotting into a recovery store, and every other language's word
// count on one and two workers. With languagesOnly it times only the
// baseline and the word counts.
func (b binaries) measureAll(dir, corpus string, runs int, languagesOnly bool) ([]measurement, error) {
	progs := []program{
		{"native", []string{b.native, corpus}},
		{"native-wasm", b.nativeWasmArgs(dir, corpus)},
		{"native-wasm-interruptible", b.interruptibleArgs(dir, corpus)},
		{"wasm-w1", b.wasmArgs(dir, corpus, 1)},
		{"wasm-w1-unwatched", append([]string{"env", "BXWASM_NO_WATCHDOG=1"}, b.wasmArgs(dir, corpus, 1)...)},
		{"wasm-w2", b.wasmArgs(dir, corpus, 2)},
		{"wasm-p2w1", b.wasmArgs(dir, corpus, 1, "-p", "2", "--stats")},
	}
	if languagesOnly {
		progs = []program{progs[0], progs[3], progs[5]}
	}
	for _, l := range b.languages {
		w1, w2 := languageRows(l.lang)
		progs = append(progs, program{w1, b.guestArgs(l.wasm, dir, corpus, 1)}, program{w2, b.guestArgs(l.wasm, dir, corpus, 2)})
	}
	var ms []measurement
	for _, p := range progs {
		fmt.Printf("running %s\n", p.name)
		m, err := measure(p.name, runs, filepath.Join(dir, p.name+".out"), p.argv)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if languagesOnly {
		return ms, nil
	}
	fmt.Println("running wasm-w1-recovery")
	m, err := b.measureRecovery(dir, corpus, runs)
	return append(ms, m), err
}

// measurement is what one program took.
type measurement struct {
	name    string
	seconds float64 // best wall time
	cpu     float64 // user+system CPU seconds of the best run
	maxRSS  int64   // bytes, the largest over the runs
	out     string  // file holding its standard output
	// storeBytes is the size of the recovery store after the run, for the
	// runs with -r.
	storeBytes int64
	stderr     string // standard error of the best run
	// serverCPU is the CPU seconds the benchmark process (the embedded
	// JetStream server of the stream figure) used during the best run.
	serverCPU float64
}

// measure runs argv runs times with its standard output in out and keeps
// the best wall time and the largest peak resident set size.
func measure(name string, runs int, out string, argv []string) (measurement, error) {
	m := measurement{name: name, out: out}
	for i := range runs {
		r, err := runOnce(out, argv)
		if err != nil {
			return m, fmt.Errorf("%s: %w", name, err)
		}
		if i == 0 || r.seconds < m.seconds {
			m.seconds, m.cpu, m.stderr = r.seconds, r.cpu, r.stderr
		}
		m.maxRSS = max(m.maxRSS, r.maxRSS)
	}
	return m, nil
}

// runOnce runs argv as a child process and returns its wall time, CPU
// time and peak RSS in bytes (ru_maxrss is in KiB on Linux).
func runOnce(out string, argv []string) (measurement, error) {
	f, err := os.Create(out)
	if err != nil {
		return measurement{}, err
	}
	defer f.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, &stderr
	start := time.Now()
	err = cmd.Run()
	m := measurement{seconds: time.Since(start).Seconds()}
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, stderr.Bytes())
	}
	m.cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	m.stderr = stderr.String()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss * 1024
	}
	return m, f.Close()
}
