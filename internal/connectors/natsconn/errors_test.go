package natsconn_test

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/nats-io/nats.go/jetstream"
)

// TestStreamErrors: what the operator got wrong is reported before the flow
// runs, naming the step and the connection.
func TestStreamErrors(t *testing.T) {
	p := newPayments(t, 10, 3)
	bin := testutil.Command(t, "../../../cmd/bxwasm")
	wasm := testutil.BuildWasm(t, "../../../wasm-examples/stream_totals")
	for _, tc := range []struct {
		name string
		flow string
		args []string
		want []string
	}{
		{"unbound connection", "totals('PAYMENTS', 'totals', false)", nil,
			[]string{`step stream_totals.inp`, `no such connection "events" (none is granted); bind it with --connection events=URL`}},
		{"other connection", "totals('PAYMENTS', 'totals', false)", []string{"--connection", "other=" + p.url},
			[]string{`step stream_totals.inp`, `no such connection "events" (granted: other)`}},
		{"unreachable server", "totals('PAYMENTS', 'totals', false)", []string{"--connection", "events=nats://127.0.0.1:1"},
			[]string{`step stream_totals.inp`, `cannot reach connection "events" (nats://127.0.0.1:1)`}},
		{"kafka for nats", "totals('PAYMENTS', 'totals', false)", []string{"--connection", "events=kafka://127.0.0.1:1"},
			[]string{`step stream_totals.inp`, `a kafka server, but the step needs a nats one`}},
		{"missing stream", "totals('NOPE', 'totals', false)", []string{"--connection", "events=" + p.url},
			[]string{`step stream_totals.inp`, `stream "NOPE" on connection "events"`}},
		{"no stream for the output", "totals('PAYMENTS', 'nowhere', false)", []string{"--connection", "events=" + p.url},
			[]string{`step stream_totals.out`, `no stream on connection "events" holds subject "nowhere"`}},
		{"bad connection flag", "totals('PAYMENTS', 'totals', false)", []string{"--connection", "events"},
			[]string{`--connection "events" is not NAME=URL`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", wasm + ":" + tc.flow}, tc.args...)
			cmd := exec.Command(bin, args...)
			cmd.Dir = t.TempDir()
			stderr, err := testutil.RunKillable(t, cmd, 0, time.Minute)
			if err == nil {
				t.Fatal("the run succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestPoisonMessage: a payment the flow cannot parse fails the run, naming
// the step, the partition and the sequence; with --dead-letter it goes to
// the dead-letter subject, with why, and the others are counted.
func TestPoisonMessage(t *testing.T) {
	p := newPayments(t, 1000, 20)
	ctx := context.Background()
	ack, err := p.js.Publish(ctx, "pay.1", []byte("not a payment"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 { // more payments after the poison one
		if _, err := p.js.Publish(ctx, "pay.1", []byte("u1 "+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		p.sent = append(p.sent, "u1 "+strconv.Itoa(i))
	}
	seq := strconv.FormatUint(ack.Sequence, 10)
	for _, shape := range [][]string{{"-w1"}, {"-p2", "-w2"}} {
		t.Run(strings.Join(shape, " "), func(t *testing.T) {
			p.resetTotals(t)
			stderr, err := testutil.RunKillable(t, p.flowCmd(t, shape), 0, 2*time.Minute)
			want := `step "stream_totals.parse.flat_map_batch" (flat_map_batch) failed on worker`
			detail := `payment ` + seq + ` of partition "pay.1" (subject pay.1) is "not a payment"`
			if err == nil || !strings.Contains(stderr, want) || !strings.Contains(stderr, detail) {
				t.Fatalf("want a failure naming %q and %q, got %v:\n%s", want, detail, err, stderr)
			}

			p.resetTotals(t)
			_ = p.js.DeleteStream(ctx, "DEAD") // and the ids it saw
			if _, err := p.js.CreateStream(ctx, jetstream.StreamConfig{Name: "DEAD", Subjects: []string{"dead"}}); err != nil {
				t.Fatal(err)
			}
			stderr, err = testutil.RunKillable(t, p.flowCmd(t, shape, "--dead-letter", "dead", "-r", t.TempDir()+"/rec", "-s", "0.2"), 0, 2*time.Minute)
			if err != nil {
				t.Fatalf("with --dead-letter: %v\n%s", err, stderr)
			}
			if !strings.Contains(stderr, `message `+seq+` of partition "pay.1" of stream_totals.inp sent to dead letters "dead"`) {
				t.Errorf("no dead-letter line on stderr:\n%s", stderr)
			}
			sameLines(t, p.totals(t), p.want())
			checkDeadLetter(t, p.js, seq)
		})
	}
}

// checkDeadLetter checks that stream DEAD holds the poison message once,
// with where it came from and why.
func checkDeadLetter(t *testing.T, js jetstream.JetStream, seq string) {
	t.Helper()
	if got := readStream(t, js, "DEAD"); !slices.Equal(got, []string{"not a payment"}) {
		t.Fatalf("DEAD holds %q", got)
	}
	s, err := js.Stream(context.Background(), "DEAD")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), "dead")
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]string{"Bxwasm-Seq": seq, "Bxwasm-Partition": "pay.1", "Bxwasm-Subject": "pay.1",
		"Bxwasm-Step": "stream_totals.inp"} {
		if got := m.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if e := m.Header.Get("Bxwasm-Error"); !strings.Contains(e, `not "user amount"`) {
		t.Errorf("header Bxwasm-Error = %q", e)
	}
}
