package natsconn_test

import (
	"context"
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

	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveCommand()
	os.Exit(code)
}

// payments is a JetStream server holding a stream PAYMENTS of n payments
// "user amount" over subjects pay.0 .. pay.3 (a user always on the same
// one), and an empty stream TOTALS (subject "totals") for the output.
type payments struct {
	url  string
	js   jetstream.JetStream
	sent []string // payments in publication order
}

func newPayments(t *testing.T, n, users int) *payments {
	t.Helper()
	p := &payments{url: testutil.JetStream(t)}
	nc, err := nats.Connect(p.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if p.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.js.CreateStream(ctx, jetstream.StreamConfig{Name: "PAYMENTS",
		Subjects: []string{"pay.0", "pay.1", "pay.2", "pay.3"}}); err != nil {
		t.Fatal(err)
	}
	p.resetTotals(t)
	var msgs [][2]string
	for i := range n {
		u := i % users
		msg := fmt.Sprintf("u%d %d", u, 1+i%7)
		msgs = append(msgs, [2]string{fmt.Sprintf("pay.%d", u%4), msg})
		p.sent = append(p.sent, msg)
	}
	testutil.Publish(t, p.js, msgs)
	return p
}

// resetTotals makes TOTALS empty, with a duplicate window long enough for
// any resume of the test.
func (p *payments) resetTotals(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	_ = p.js.DeleteStream(ctx, "TOTALS")
	if _, err := p.js.CreateStream(ctx, jetstream.StreamConfig{Name: "TOTALS", Subjects: []string{"totals"},
		Duplicates: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
}

// want is every "user total" line the flow must publish, sorted: the
// running total of each user after each of its payments.
func (p *payments) want() []string {
	sums := map[string]int64{}
	var out []string
	for _, m := range p.sent {
		user, amount, _ := strings.Cut(m, " ")
		n, _ := strconv.ParseInt(amount, 10, 64)
		sums[user] += n
		out = append(out, user+" "+strconv.FormatInt(sums[user], 10))
	}
	slices.Sort(out)
	return out
}

// totals reads every message of TOTALS, sorted.
func (p *payments) totals(t *testing.T) []string { return readStream(t, p.js, "TOTALS") }

// readStream reads the data of every message of a stream, sorted.
func readStream(t *testing.T, js jetstream.JetStream, name string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if info.State.Msgs == 0 {
		return out
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for uint64(len(out)) < info.State.Msgs {
		batch, err := c.Fetch(1000, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("reading %s after %d of %d messages: %v", name, len(out), info.State.Msgs, err)
		}
		n := len(out)
		for m := range batch.Messages() {
			out = append(out, string(m.Data()))
		}
		if err := batch.Error(); err != nil || len(out) == n {
			t.Fatalf("reading %s after %d of %d messages: %v", name, len(out), info.State.Msgs, err)
		}
	}
	slices.Sort(out)
	return out
}

// flowCmd is a run of the stream_totals example against p.
func (p *payments) flowCmd(t *testing.T, shape []string, extra ...string) *exec.Cmd {
	bin := testutil.Command(t, "../../../cmd/bxwasm")
	wasm := testutil.BuildWasm(t, "../../../wasm-examples/stream_totals")
	args := append([]string{"run", wasm + ":totals('PAYMENTS', 'totals', false)", "--connection", "events=" + p.url}, shape...)
	cmd := exec.Command(bin, append(args, extra...)...)
	cmd.Dir = t.TempDir()
	return cmd
}

func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	missing, extra := diff(want, got), diff(got, want)
	t.Fatalf("got %d lines, want %d: %d missing (e.g. %q), %d extra (e.g. %q)",
		len(got), len(want), len(missing), first(missing), len(extra), first(extra))
}

// diff is the multiset a - b of two sorted lists.
func diff(a, b []string) []string {
	var out []string
	for i, j := 0, 0; i < len(a); {
		switch {
		case j == len(b) || a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			j++
		default:
			i++
			j++
		}
	}
	return out
}

func first(s []string) []string { return s[:min(len(s), 3)] }

var shapes = [][]string{{"-w1"}, {"-w3"}, {"-p2", "-w2"}}

// TestJetStreamFlow runs the example at every shape, with and without a
// recovery store: the output stream holds exactly the expected totals.
func TestJetStreamFlow(t *testing.T) {
	p := newPayments(t, 5000, 100)
	want := p.want()
	for _, shape := range shapes {
		for _, rec := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s recovery=%v", strings.Join(shape, " "), rec), func(t *testing.T) {
				p.resetTotals(t)
				var extra []string
				if rec {
					extra = []string{"-r", filepath.Join(t.TempDir(), "rec"), "-s", "0.2"}
				}
				stderr, err := testutil.RunKillable(t, p.flowCmd(t, shape, extra...), 0, 2*time.Minute)
				if err != nil {
					t.Fatalf("%v\n%s", err, stderr)
				}
				sameLines(t, p.totals(t), want)
			})
		}
	}
}

// TestJetStreamChaos kills the flow (SIGKILL of every process) at random
// moments and resumes it on another shape each time, until a run finishes:
// the output stream must hold exactly the totals of a clean run.
func TestJetStreamChaos(t *testing.T) {
	p := newPayments(t, 100000, 500)
	want := p.want()
	// A clean run first: kills fall within its duration.
	p.flowCmd(t, nil) // builds the command and the module
	start := time.Now()
	stderr, err := testutil.RunKillable(t, p.flowCmd(t, []string{"-p2", "-w2"}, "-r", filepath.Join(t.TempDir(), "clean"), "-s", "0.5"), 0, 2*time.Minute)
	if err != nil {
		t.Fatalf("clean run: %v\n%s", err, stderr)
	}
	took := time.Since(start)
	sameLines(t, p.totals(t), want)
	p.resetTotals(t)

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 9))
	t.Logf("seed %d, a clean run takes %s", seed, took)
	// A run may finish before the kill meant for it (a resumed run has less
	// to do): the cycle starts over on a fresh store and output stream until
	// two runs were killed, so the test always tests resumes.
	for cycle := 0; ; cycle++ {
		if cycle == 4 {
			t.Fatal("in 4 cycles the flow never got killed twice before it finished")
		}
		p.resetTotals(t)
		rec := filepath.Join(t.TempDir(), "rec")
		kills := p.killAndResume(t, rng, took, rec)
		sameLines(t, p.totals(t), want)
		if kills < 2 {
			t.Logf("cycle %d: only %d kills; again", cycle, kills)
			continue
		}
		// Running the finished flow again publishes nothing more.
		if stderr, err := testutil.RunKillable(t, p.flowCmd(t, []string{"-w2"}, "-r", rec, "-s", "0.5"), 0, 2*time.Minute); err != nil {
			t.Fatalf("run after the end: %v\n%s", err, stderr)
		}
		sameLines(t, p.totals(t), want)
		return
	}
}

// killAndResume runs the flow with the store rec, SIGKILLing the first six
// runs at random moments within the first half of took, resuming on another
// shape each time, until a run finishes; it returns how many were killed.
func (p *payments) killAndResume(t *testing.T, rng *rand.Rand, took time.Duration, rec string) int {
	resumes := [][]string{{"-p2", "-w2"}, {"-w3"}, {"-w1"}, {"-p2", "-w1"}, {"-w2"}}
	kills := 0
	for run := 0; ; run++ {
		if run > 40 {
			t.Fatalf("no run finished in 40 tries")
		}
		shape := resumes[run%len(resumes)]
		kill := time.Duration(0)
		if run < 6 {
			kill = took/20 + time.Duration(rng.Int64N(int64(took/2)))
		}
		began := time.Now()
		stderr, err := testutil.RunKillable(t, p.flowCmd(t, shape, "-r", rec, "-s", "0.5"), kill, 2*time.Minute)
		t.Logf("run %d %v: kill at %s, ended after %s: %v", run, shape, kill.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), err)
		if testutil.Killed(err) {
			kills++
			continue
		}
		if err != nil {
			t.Fatalf("run %d (%v): %v\n%s", run, shape, err, stderr)
		}
		return kills
	}
}
