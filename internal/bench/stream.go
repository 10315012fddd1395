package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The stream figure: a JetStream stream EVENTS of messages whose payload
// is one of streamKeys keys, a key always on the same one of
// streamSubjects subjects, counted per key into the stream COUNTS.
const (
	streamKeys     = 10_000
	streamSubjects = 4
	eventsStream   = "EVENTS"
	countsStream   = "COUNTS"
	countsSubject  = "counts"
	// streamAim is the least throughput of stream-w1 relative to the
	// plain consumer.
	streamAim = 0.5
)

// streamBins are the programs of the stream figure.
type streamBins struct {
	bxwasm, consumer, wasm, rustWasm, cache string
}

// buildStream builds the CLI, the baseline consumer and the guests of the
// stream figure into dir; the Rust guest only where its SDK's build.sh is.
func buildStream(dir string) (streamBins, error) {
	b := streamBins{bxwasm: filepath.Join(dir, "bxwasm"), consumer: filepath.Join(dir, "natsconsume"),
		wasm: filepath.Join(dir, "streamcount.wasm"), cache: filepath.Join(dir, "cache")}
	steps := [][]string{
		{"go", "build", "-o", b.bxwasm, "./cmd/bxwasm"},
		{"go", "build", "-o", b.consumer, "./internal/bench/natsconsume"},
		{"env", "GOOS=wasip1", "GOARCH=wasm", "go", "build", "-buildmode=c-shared", "-o", b.wasm, "./internal/bench/streamcount"},
	}
	if _, err := os.Stat("guest-sdk/rust/build.sh"); err == nil {
		b.rustWasm = filepath.Join(dir, "streamcount-rust.wasm")
		steps = append(steps, []string{"bash", "guest-sdk/rust/build.sh", "internal/bench/streamcount/rust", b.rustWasm})
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return b, fmt.Errorf("%v: %w\n%s", s, err, out)
		}
	}
	return b, nil
}

// streamServer is the JetStream server of the figure, in a process of
// its own (this program with -jetstream-server) so that its memory is not
// counted in the peak RSS of the programs the figure times (a child's
// ru_maxrss starts at its parent's peak RSS when it forks it), and what
// was published into it.
type streamServer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	addr   string
	nc     *nats.Conn
	js     jetstream.JetStream
	rng    *rand.Rand
	counts map[string]int // how many messages of each key EVENTS holds
	sent   int
}

// serveJetStream runs a JetStream server storing into dir, prints its URL
// and stops when its standard input closes.
func serveJetStream(dir string) error {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		return err
	}
	srv.Start()
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	if !srv.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("the JetStream server did not start within 10 s")
	}
	fmt.Println(srv.ClientURL())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// startStreamServer starts a JetStream server storing into dir, in a
// process of its own, and creates EVENTS and COUNTS.
func startStreamServer(dir string) (*streamServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &streamServer{cmd: exec.Command(self, "-jetstream-server", dir), rng: rand.New(rand.NewPCG(seed, 2)), counts: map[string]int{}}
	s.cmd.Stderr = os.Stderr
	out, err := s.cmd.StdoutPipe()
	if err == nil {
		s.stdin, err = s.cmd.StdinPipe()
	}
	if err == nil {
		err = s.cmd.Start()
	}
	if err != nil {
		return nil, fmt.Errorf("starting the JetStream server: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err == nil {
		s.addr = strings.TrimSpace(line)
		s.nc, err = nats.Connect(s.addr)
	}
	if err == nil {
		s.js, err = jetstream.New(s.nc, jetstream.WithPublishAsyncMaxPending(4096))
	}
	if err == nil {
		subjects := make([]string, streamSubjects)
		for i := range subjects {
			subjects[i] = "ev." + strconv.Itoa(i)
		}
		_, err = s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: eventsStream, Subjects: subjects})
	}
	if err == nil {
		err = s.resetCounts()
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("the JetStream server: %w", err)
	}
	return s, nil
}

func (s *streamServer) url() string { return s.addr }

// close stops the server process and waits for it.
func (s *streamServer) close() {
	if s.nc != nil {
		s.nc.Close()
	}
	s.stdin.Close()
	if err := s.cmd.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: the JetStream server:", err)
	}
}

// cpu is the user+system CPU seconds the server process has used, from
// /proc/PID/stat (in clock ticks of 1/100 s), or 0 where that is not there.
func (s *streamServer) cpu() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses) start
	// at field 3; utime and stime are fields 14 and 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

// publish adds n messages to EVENTS: each payload a key drawn uniformly
// from streamKeys keys, on the subject of that key.
func (s *streamServer) publish(n int) error {
	for range n {
		k := s.rng.IntN(streamKeys)
		key := fmt.Sprintf("key-%05d", k)
		if _, err := s.js.PublishAsync("ev."+strconv.Itoa(k%streamSubjects), []byte(key)); err != nil {
			return fmt.Errorf("publishing to %s: %w", eventsStream, err)
		}
		s.counts[key]++
	}
	select {
	case <-s.js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("publishing %d messages to %s took over 5 minutes", n, eventsStream)
	}
	s.sent += n
	info, err := s.js.Stream(context.Background(), eventsStream)
	if err == nil && info.CachedInfo().State.Msgs != uint64(s.sent) {
		err = fmt.Errorf("%s holds %d messages, %d were published", eventsStream, info.CachedInfo().State.Msgs, s.sent)
	}
	return err
}

// want is the sorted "key count" lines of what EVENTS holds.
func (s *streamServer) want() []string {
	var out []string
	for k, n := range s.counts {
		out = append(out, k+" "+strconv.Itoa(n))
	}
	slices.Sort(out)
	return out
}

// resetCounts makes COUNTS an empty stream (which also forgets the message
// ids of its duplicate window).
func (s *streamServer) resetCounts() error {
	ctx := context.Background()
	_ = s.js.DeleteStream(ctx, countsStream)
	_, err := s.js.CreateStream(ctx, jetstream.StreamConfig{Name: countsStream, Subjects: []string{countsSubject}})
	return err
}

// readCounts reads every message of COUNTS, sorted.
func (s *streamServer) readCounts() ([]string, error) {
	ctx := context.Background()
	st, err := s.js.Stream(ctx, countsStream)
	if err != nil {
		return nil, err
	}
	total := st.CachedInfo().State.Msgs
	var out []string
	if total == 0 {
		return out, nil
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	for uint64(len(out)) < total {
		batch, err := c.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, err
		}
		n := len(out)
		for m := range batch.Messages() {
			out = append(out, string(m.Data()))
		}
		if err := batch.Error(); err != nil || len(out) == n {
			return nil, fmt.Errorf("reading %s after %d of %d messages: %v", countsStream, len(out), total, err)
		}
	}
	slices.Sort(out)
	return out, nil
}

// streamRun is the stream figure's measurements.
type streamRun struct {
	messages int
	ms       []measurement // at messages; the first is the baseline
	large    int           // messages of the memory check, 0 without it
	largeMs  []measurement // the baseline and stream-w1 at large
}

// measureStream publishes messages messages, times every program of the
// figure runs times, then (with large > messages) publishes up to large
// and times the baseline and stream-w1 once more.
func measureStream(dir string, messages, large, runs int) (streamRun, error) {
	r := streamRun{messages: messages}
	fmt.Println("building bxwasm, the stream consumer and the stream guests")
	b, err := buildStream(dir)
	if err != nil {
		return r, err
	}
	s, err := startStreamServer(filepath.Join(dir, "jetstream"))
	if err != nil {
		return r, err
	}
	defer s.close()
	// A run on the empty stream compiles the guests into the cache.
	for _, w := range []string{b.wasm, b.rustWasm} {
		if w != "" {
			if _, err := s.measure(program{"warm-up", b.flowArgs(w, s.url(), 1)}, dir, 1); err != nil {
				return r, err
			}
		}
	}
	fmt.Printf("publishing %d messages to %s\n", messages, eventsStream)
	if err := s.publish(messages); err != nil {
		return r, err
	}
	progs := []program{
		{"nats-consumer", []string{b.consumer, "-url", s.url(), "-stream", eventsStream, "-out", countsSubject}},
		{"stream-w1", b.flowArgs(b.wasm, s.url(), 1)},
		{"stream-w2", b.flowArgs(b.wasm, s.url(), 2)},
		{"stream-w1-recovery", b.flowArgs(b.wasm, s.url(), 1, "-r", "STORE", "-s", "1")},
	}
	if b.rustWasm != "" {
		progs = append(progs, program{"stream-rust-w1", b.flowArgs(b.rustWasm, s.url(), 1)},
			program{"stream-rust-w2", b.flowArgs(b.rustWasm, s.url(), 2)})
	}
	if r.ms, err = s.measureAll(progs, dir, runs); err != nil || large <= messages {
		return r, err
	}
	r.large = large
	fmt.Printf("publishing %d more messages to %s\n", large-messages, eventsStream)
	if err := s.publish(large - messages); err != nil {
		return r, err
	}
	r.largeMs, err = s.measureAll(progs[:2], dir, 1)
	return r, err
}

// flowArgs is the bxwasm command line of the stream guest wasm.
func (b streamBins) flowArgs(wasm, url string, workers int, more ...string) []string {
	return append([]string{b.bxwasm, "run", wasm + ":flow('" + eventsStream + "', '" + countsSubject + "')",
		"--connection", "nats=" + url, "-w", strconv.Itoa(workers), "--cache-dir", b.cache}, more...)
}

func (s *streamServer) measureAll(progs []program, dir string, runs int) ([]measurement, error) {
	var ms []measurement
	for _, p := range progs {
		fmt.Printf("running %s on %d messages\n", p.name, s.sent)
		m, err := s.measure(p, dir, runs)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// measure times p runs times, each on an empty COUNTS (and a fresh store
// in place of the argument "STORE"), checks that every run published
// exactly the counts of EVENTS, and keeps the best wall time, the largest
// peak RSS and the CPU the server used during the best run.
func (s *streamServer) measure(p program, dir string, runs int) (measurement, error) {
	var best measurement
	want := s.want()
	for i := range runs {
		if err := s.resetCounts(); err != nil {
			return best, err
		}
		argv := slices.Clone(p.argv)
		if j := slices.Index(argv, "STORE"); j >= 0 {
			argv[j] = filepath.Join(dir, fmt.Sprintf("%s-store-%d", p.name, i))
		}
		before := s.cpu()
		m, err := runOnce(filepath.Join(dir, p.name+".out"), argv)
		if err != nil {
			return best, fmt.Errorf("%s: %w", p.name, err)
		}
		m.name, m.serverCPU = p.name, s.cpu()-before
		got, err := s.readCounts()
		if err != nil {
			return best, fmt.Errorf("%s: reading its output: %w", p.name, err)
		}
		if d := firstDiff(toBytes(got), toBytes(want)); d >= 0 {
			return best, fmt.Errorf("%s published %d counts to %s, want %d; first difference at sorted line %d: %q vs %q",
				p.name, len(got), countsStream, len(want), d, at(toBytes(got), d), at(toBytes(want), d))
		}
		rss := max(best.maxRSS, m.maxRSS)
		if i == 0 || m.seconds < best.seconds {
			best = m
		}
		best.maxRSS = rss
	}
	return best, nil
}

func toBytes(lines []string) [][]byte {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		out[i] = []byte(l)
	}
	return out
}

// printStream prints the stream figure: a row per program with its best
// wall time, messages per second, throughput relative to the plain
// consumer, -w2 relative to -w1, peak RSS, its CPU seconds and the
// server's; then the aim and the memory check.
func printStream(w io.Writer, r streamRun, runs int) {
	if len(r.ms) == 0 {
		return
	}
	fmt.Fprintf(w, "\nJetStream stream %s: %d messages over %d subjects, %d keys, counted into %s; best of %d run(s):\n\n",
		eventsStream, r.messages, streamSubjects, streamKeys, countsStream, runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tseconds\tmessages/s\tx nats-consumer\tx -w1\tpeak RSS MiB\tCPU s\tserver CPU s\t")
	base := r.ms[0]
	for _, m := range r.ms {
		scale := "-"
		if w1 := byName(r.ms, strings.TrimSuffix(m.name, "-w2")+"-w1"); strings.HasSuffix(m.name, "-w2") && w1.name != "" {
			scale = fmt.Sprintf("%.2f", w1.seconds/m.seconds)
		}
		if m.name == "stream-w1-recovery" {
			scale = fmt.Sprintf("%.2f", byName(r.ms, "stream-w1").seconds/m.seconds)
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.0f\t%.3f\t%s\t%.1f\t%.3f\t%.3f\t\n", m.name, m.seconds, float64(r.messages)/m.seconds,
			base.seconds/m.seconds, scale, float64(m.maxRSS)/(1<<20), m.cpu, m.serverCPU)
	}
	tw.Flush()
	fmt.Fprintf(w, "(the server runs in a process of its own; a child's peak RSS cannot be below this benchmark process's when it started the child, at most %.1f MiB)\n", selfPeakMiB())
	ratio := base.seconds / byName(r.ms, "stream-w1").seconds
	fmt.Fprintf(w, "\nstream-w1: %.2f x the plain consumer's throughput (aim >= %.1f: %s)\n", ratio, streamAim, verdict(ratio >= streamAim))
	if len(r.largeMs) < 2 {
		return
	}
	small, big := byName(r.ms, "stream-w1"), r.largeMs[1]
	fmt.Fprintf(w, "memory under a stream %d times as long: stream-w1 at %d messages %.1f MiB, at %d messages %.1f MiB peak RSS (%.0f messages/s, %.2f x the plain consumer's %.0f messages/s)\n",
		r.large/r.messages, r.messages, float64(small.maxRSS)/(1<<20), r.large, float64(big.maxRSS)/(1<<20),
		float64(r.large)/big.seconds, r.largeMs[0].seconds/big.seconds, float64(r.large)/r.largeMs[0].seconds)
}

// selfPeakMiB is this process's peak RSS in MiB: a child's ru_maxrss
// starts at its parent's when the parent forks it.
func selfPeakMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
