// Command bench measures the wordcount example against a plain Go program
// doing the same work, side by side in one run.
//
//	go tool task bench                      # or: go run ./internal/bench
//	go run ./internal/bench -lines 200000 -runs 3
//
// It generates a corpus in a temporary directory (-lines lines, 8 words a
// line on average, drawn from 50,000 made-up words with a Zipf-like
// frequency, from a fixed seed so every run reads the same text), builds
// the bxwasm binary, the wordcount guest (GOOS=wasip1, c-shared) and the
// native baseline (internal/bench/native), warms the compiled-code cache
// with one small run, and then times, each as its own child process:
//
//	native       the baseline: bufio.Scanner, strings.ToLower, strings.Fields, a map; one goroutine
//	native-wasm  the same program compiled to a WASI command, run with wazero (internal/bench/wasirun)
//	wasm-w1      bxwasm run wordcount.wasm:"get_flow('<corpus>')" -w1
//	wasm-w2      the same on two workers
//	wasm-p2w1    the same on two processes of one worker each (-p2 -w1),
//	             exchanging over an embedded NATS server (--stats)
//	wasm-w1-recovery  wasm-w1 snapshotting into a fresh SQLite store every
//	             second (-r DIR --epoch-interval 1s); its table row gives its
//	             throughput relative to wasm-w1 (aim: at least 0.8) and the
//	             store's size after the run
//
// and then the resume of a store of -keys distinct keys: the keys guest
// (internal/bench/keys) keeps a count per key of a generated file with
// StatefulMap, once on a fresh store ("write") and once more with the same
// command and store ("resume"): sources resume at EOF, so the rerun's time
// is loading the keys from SQLite, routing them and restoring them into
// the guest (aim: under 5 s). Both runs must print nothing. The summary of
// `bxwasm recovery inspect` follows. -keys 0 leaves this figure out.
//
// With -stream-only it runs instead the stream figure (stream.go, not part
// of the default run: it takes about two minutes): a JetStream server in a
// process of its own (this program with -jetstream-server), a stream
// EVENTS of -messages messages over the subjects ev.0 to ev.3, each payload
// one of 10,000 keys (a key always on the same subject), and, timed like
// the rows above, each on an emptied stream COUNTS that must then hold
// exactly the 10,000 "key count" lines of EVENTS:
//
//	nats-consumer       the baseline: a plain nats.go program (internal/bench/natsconsume)
//	stream-w1, -w2      bxwasm run of the streamcount guest (internal/bench/streamcount):
//	                    JetStreamPayloads, CountFinal, JetStreamSink, --connection, no -r
//	stream-w1-recovery  stream-w1 with -r (a fresh store) -s 1: the staged sink
//	stream-rust-w1, -w2 the same flow in Rust (internal/bench/streamcount/rust)
//
// then publishes up to -messages-large and times nats-consumer and
// stream-w1 again, to show whether the flow's peak RSS grows with the
// stream.
//
// With -window-only it runs instead the window figure (window.go): a file
// of -window-events "key,unix_millis" lines over 10,000 keys, event times
// increasing with a little disorder, from a fixed seed, counted per key in
// 1-minute tumbling windows of event time, each row's output checked
// against the baseline's:
//
//	native        the baseline: a plain Go program (internal/bench/nativewindow)
//	go-w1, -w2    bxwasm run of the windowcount guest (internal/bench/windowcount):
//	              FileSource, CountWindow with EventClock and TumblingWindower, FileSink
//	rust-w1, -w2  the same flow in Rust (internal/bench/windowcount/rust), once it exists
//
// -window-profile FILE runs go-w1 once more with --cpuprofile FILE.
//
// native-wasm separates the cost of running Go as WebAssembly at all from
// the cost of bxwasm's dataflow (batches crossing the boundary, keyed
// routing, per-key state). Every output goes to a file; the other outputs
// must equal the baseline's as sorted sets of lines, or the benchmark
// fails. The table
// gives the best wall time of -runs runs, words per second, the ratio to
// the baseline's time, the ratio of -w2 to -w1, and the peak resident
// memory of the child (getrusage's ru_maxrss, the largest over the runs;
// Linux reports it in KiB), and the child's user+system CPU seconds in
// its best run, the steadier figure when other work shares the machine.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// seed fixes the corpus, so numbers from different runs compare.
const seed = 20240601

func main() {
	lines := flag.Int("lines", 1_000_000, "lines of corpus to generate")
	runs := flag.Int("runs", 1, "time each program this many times and keep the best")
	keys := flag.Int("keys", 1_000_000, "distinct keys in the store of the resume figure; 0 leaves it out")
	languagesOnly := flag.Bool("languages-only", false, "time only the native program and each language's word count at -w1 and -w2")
	messages := flag.Int("messages", 1_000_000, "messages in the JetStream stream of the stream figure")
	large := flag.Int("messages-large", 3_000_000, "messages of the stream figure's memory check (stream-w1 once more on a longer stream); at most -messages leaves it out")
	streamOnly := flag.Bool("stream-only", false, "run only the stream figure")
	windowOnly := flag.Bool("window-only", false, "run only the window figure (window.go)")
	windowEvents := flag.Int("window-events", 10_000_000, "events of the window figure")
	windowProfile := flag.String("window-profile", "", "after the window figure, run its Go guest at -w1 once more with --cpuprofile into this file")
	jsDir := flag.String("jetstream-server", "", "run only the stream figure's JetStream server, storing into this directory, until standard input closes")
	flag.Parse()
	if *jsDir != "" {
		if err := serveJetStream(*jsDir); err != nil {
			fmt.Fprintln(os.Stderr, "bench: jetstream server:", err)
			os.Exit(1)
		}
		return
	}
	if *lines < 1 || *runs < 1 || *keys < 0 || *messages < 1 || *windowEvents < 1 {
		fmt.Fprintln(os.Stderr, "bench: -lines, -runs, -messages and -window-events must be at least 1, -keys at least 0")
		os.Exit(2)
	}
	if *languagesOnly {
		*keys = 0
	}
	var err error
	switch {
	case *windowOnly:
		err = runWindow(*windowEvents, *runs, *windowProfile)
	case *streamOnly:
		err = runStream(*messages, *large, *runs)
	default:
		err = run(*lines, *runs, *keys, *languagesOnly)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(lines, runs, keys int, languagesOnly bool) error {
	dir, err := os.MkdirTemp("", "bxwasm-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	corpus := filepath.Join(dir, "corpus.txt")
	fmt.Printf("generating %d lines into %s\n", lines, corpus)
	st, err := writeCorpus(corpus, lines, seed)
	if err != nil {
		return err
	}
	fmt.Println("building bxwasm, the wordcount and keys guests and the native baseline")
	b, err := buildAll(dir)
	if err != nil {
		return err
	}
	if err := b.warm(dir); err != nil {
		return err
	}
	ms, err := b.measureAll(dir, corpus, runs, languagesOnly)
	if err != nil {
		return err
	}
	if err := verify(ms); err != nil {
		return err
	}
	var r resumeRun
	if keys > 0 {
		if r, err = b.measureResume(dir, keys); err != nil {
			return err
		}
	}
	printTable(os.Stdout, st, ms, runs)
	printLanguages(os.Stdout, st, ms, b.languages)
	printResume(os.Stdout, r)
	return nil
}

// runStream runs the stream figure alone.
func runStream(messages, large, runs int) error {
	dir, err := os.MkdirTemp("", "bxwasm-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r, err := measureStream(dir, messages, large, runs)
	if err != nil {
		return err
	}
	printStream(os.Stdout, r, runs)
	return nil
}
