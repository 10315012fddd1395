package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// runServer starts an embedded nats-server on a random loopback port.
func runServer(t *testing.T) *server.Server {
	t.Helper()
	return runServerWith(t, server.Options{})
}

// runServerWith starts an embedded nats-server with opts on a random
// loopback port.
func runServerWith(t *testing.T, opts server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	s, err := server.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func connect(t *testing.T, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// procs models procs processes of perProc workers each, every one with its
// own connection, and waits until they all see each other.
type procs []*NATS

func startProcs(t *testing.T, s *server.Server, run string, procs, perProc int) procs {
	t.Helper()
	ps := make([]*NATS, procs)
	for p := range ps {
		tr, err := NewNATS(connect(t, s), run, p*perProc, perProc, procs*perProc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tr.Close)
		ps[p] = tr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range ps {
		if err := p.AwaitPeers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

// ep returns the endpoint of global worker i.
func (ps procs) ep(i int) Endpoint {
	for _, p := range ps {
		if p.local(i) {
			return p.Endpoint(i)
		}
	}
	panic(fmt.Sprintf("no worker %d", i))
}

// noErr fails the test if any process reported a failure.
func (ps procs) noErr(t *testing.T) {
	t.Helper()
	for k, p := range ps {
		select {
		case err := <-p.Err():
			t.Errorf("process %d: %v", k, err)
		default:
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// numbered is a message whose epoch and single value carry n.
func numbered(node int, n uint64, pad int) Message {
	var b abi.Batch
	v := binary.AppendUvarint(make([]byte, 0, 10+pad), n)
	b.Append([]byte("k"), true, append(v, make([]byte, pad)...))
	return Message{Node: node, Kind: Data, Epoch: n, Batch: b}
}

// checkNumbered checks that m is the next message from its sender, as
// counted in next, and advances next.
func checkNumbered(m *Message, to int, next []uint64) error {
	want := next[m.From]
	var it abi.Item
	iter := m.Batch.Iter()
	if !iter.Next(&it) {
		return fmt.Errorf("worker %d: message %d from %d has no item", to, want, m.From)
	}
	v, _ := binary.Uvarint(it.Value)
	if m.Epoch != want || v != want || m.Node != to {
		return fmt.Errorf("worker %d: from %d got message %d (value %d, node %d), want %d", to, m.From, m.Epoch, v, m.Node, want)
	}
	next[m.From]++
	return nil
}

// TestNATSFIFOAndCredit runs 2 processes x 2 workers where every worker
// sends to every worker (itself included) at once: 100k messages arrive
// complete and in order per sender, and all credit comes back, from every
// receiver.
func TestNATSFIFOAndCredit(t *testing.T) {
	const workers, total = 4, 100_000
	const perPair = total / (workers * workers)
	ps := startProcs(t, runServer(t), "fifo", 2, 2)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- exchange(ps.ep(w), w, workers, perPair, 0)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "credit to return", func() bool {
		for w := range workers {
			if ps.ep(w).InFlight() != 0 {
				return false
			}
			for to := range workers {
				if ps.ep(w).InFlightTo(to) != 0 {
					return false
				}
			}
		}
		return true
	})
	ps.noErr(t)
}

// exchange sends perPair messages, with pad bytes of padding, from worker
// w to every worker, round-robin, while receiving and consuming its own,
// then receives until every sender's messages have arrived.
func exchange(ep Endpoint, w, workers, perPair, pad int) error {
	next := make([]uint64, workers)
	var buf []Message
	got, want := 0, workers*perPair
	for sent := 0; sent < workers*perPair || got < want; {
		if sent < workers*perPair {
			to := sent % workers
			if err := ep.Send(to, numbered(to, uint64(sent/workers), pad)); err != nil {
				return err
			}
			sent++
		} else {
			select {
			case <-ep.Ready():
			case <-time.After(10 * time.Second):
				return fmt.Errorf("worker %d: got %d of %d messages", w, got, want)
			}
		}
		buf = ep.Receive(buf[:0])
		for i := range buf {
			if err := checkNumbered(&buf[i], w, next); err != nil {
				return err
			}
			ep.Consumed(buf[i].From, buf[i].Size())
			got++
		}
	}
	return nil
}

// TestNATSLocalStaysInMemory checks that messages between two workers of
// one process are not published.
func TestNATSLocalStaysInMemory(t *testing.T) {
	ps := startProcs(t, runServer(t), "local", 2, 2)
	before := ps[0].nc.Stats().OutMsgs
	if err := ps.ep(0).Send(1, numbered(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	got := ps.ep(1).Receive(nil)
	if len(got) != 1 || got[0].From != 0 {
		t.Fatalf("got %+v, want one message from worker 0", got)
	}
	if after := ps[0].nc.Stats().OutMsgs; after != before {
		t.Errorf("a local message was published: %d NATS messages out, want %d", after, before)
	}
	ps.ep(1).Consumed(0, got[0].Size())
	if f := ps.ep(0).InFlight(); f != 0 {
		t.Errorf("in flight after local consume: %d, want 0", f)
	}
}

// TestNATSRunsIsolated runs two dataflows on one server: neither sees the
// other's messages or acks.
func TestNATSRunsIsolated(t *testing.T) {
	s := runServer(t)
	runs := map[string]procs{"a": startProcs(t, s, "a", 2, 2), "b": startProcs(t, s, "b", 2, 2)}
	counts := map[string]int{"a": 30, "b": 20}
	for name, ps := range runs {
		for i := range counts[name] {
			if err := ps.ep(0).Send(2, numbered(2, uint64(i), 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, ps := range runs {
		next := make([]uint64, 4)
		var got []Message
		waitFor(t, 10*time.Second, "run "+name+" messages", func() bool {
			got = ps.ep(2).Receive(got)
			return len(got) >= counts[name]
		})
		for i := range got {
			if err := checkNumbered(&got[i], 2, next); err != nil {
				t.Fatalf("run %s: %v", name, err)
			}
			ps.ep(2).Consumed(0, got[i].Size())
		}
		ps.ep(2).Receive(nil) // returns the credit
		waitFor(t, 10*time.Second, "run "+name+" credit", func() bool { return ps.ep(0).InFlight() == 0 })
	}
	for name, ps := range runs {
		for _, p := range ps {
			_ = p.nc.Flush()
		}
		if extra := ps.ep(2).Receive(nil); len(extra) != 0 {
			t.Errorf("run %s: %d extra messages", name, len(extra))
		}
		ps.noErr(t)
	}
}

// TestNATSSlowReceiver sends to a slow remote receiver as the engine does,
// only while InFlight is under the credit: InFlight reaches the credit and
// stays near it, all of it owed by that receiver, and every message
// arrives in order.
func TestNATSSlowReceiver(t *testing.T) {
	const credit, msgs, pad = 64 << 10, 1000, 1000
	ps := startProcs(t, runServer(t), "slow", 2, 2)
	send, recv := ps.ep(0), ps.ep(3)
	done := make(chan error, 1)
	go func() { done <- slowReceive(recv, 3, msgs) }()
	var peak int64
	for i := 0; i < msgs; {
		f := send.InFlight()
		peak = max(peak, f)
		if to, other := send.InFlightTo(3), send.InFlightTo(1); to > f || other != 0 {
			t.Fatalf("in flight %d, %d of it to worker 3 and %d to worker 1, want at most %d and 0", f, to, other, f)
		}
		if f >= credit {
			select {
			case <-send.Ready():
			case <-time.After(10 * time.Second):
				t.Fatalf("no credit came back after %d messages", i)
			}
			continue
		}
		if err := send.Send(3, numbered(3, uint64(i), pad)); err != nil {
			t.Fatal(err)
		}
		i++
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	one := numbered(3, 0, pad)
	size := int64(one.Size())
	if peak < credit || peak >= credit+size {
		t.Errorf("peak in flight %d, want in [%d, %d)", peak, credit, credit+size)
	}
	waitFor(t, 10*time.Second, "credit to return", func() bool { return send.InFlight() == 0 && send.InFlightTo(3) == 0 })
	ps.noErr(t)
}

// slowReceive consumes msgs messages, pausing before every Receive.
func slowReceive(ep Endpoint, w, msgs int) error {
	next := make([]uint64, 4)
	var buf []Message
	for got := 0; got < msgs; {
		select {
		case <-ep.Ready():
		case <-time.After(10 * time.Second):
			return fmt.Errorf("got %d of %d messages", got, msgs)
		}
		time.Sleep(2 * time.Millisecond)
		buf = ep.Receive(buf[:0])
		for i := range buf {
			if err := checkNumbered(&buf[i], w, next); err != nil {
				return err
			}
			ep.Consumed(buf[i].From, buf[i].Size())
			got++
		}
	}
	ep.Receive(nil)
	return nil
}

// TestNATSDetectsFaults publishes bad traffic by hand on worker 2's
// subject and expects a failure on Err and from Send.
func TestNATSDetectsFaults(t *testing.T) {
	s := runServer(t)
	frameOf := func(from, to int, seq uint64) []byte {
		m := numbered(to, 0, 0)
		m.From = from
		return appendFrame(nil, &frame{To: to, Seq: seq, Msg: m})
	}
	cases := []struct {
		name   string
		frames [][]byte
		want   error
		text   string
	}{
		{"gap", [][]byte{frameOf(0, 2, 0), frameOf(0, 2, 4)}, ErrLost, "transport: lost 3 messages from worker 0 to worker 2"},
		{"first lost", [][]byte{frameOf(1, 2, 1)}, ErrLost, "transport: lost 1 messages from worker 1 to worker 2"},
		{"duplicate", [][]byte{frameOf(0, 2, 0), frameOf(0, 2, 0)}, ErrOrder, ""},
		{"garbage", [][]byte{{1, 2, 3}}, ErrWire, ""},
		{"misrouted", [][]byte{frameOf(0, 3, 0)}, ErrWire, ""},
		{"from a local worker", [][]byte{frameOf(3, 2, 0)}, ErrWire, ""},
		{"chunk out of place", [][]byte{appendChunk(nil, chunk{From: 0, Size: 10, Offset: 4, Data: []byte("abc")})}, ErrWire,
			"transport: message to worker 2: transport: malformed frame: chunk at 4 of a 10-byte frame from worker 0, want one at 0 of 0"},
		{"chunk of another size", [][]byte{appendChunk(nil, chunk{From: 0, Size: 10, Data: []byte("abc")}),
			appendChunk(nil, chunk{From: 0, Size: 11, Offset: 3, Data: []byte("abc")})}, ErrWire, ""},
		{"chunk from a local worker", [][]byte{appendChunk(nil, chunk{From: 3, Size: 3, Data: []byte("abc")})}, ErrWire, ""},
		{"chunks of garbage", [][]byte{appendChunk(nil, chunk{From: 0, Size: 4, Data: []byte("ab")}),
			appendChunk(nil, chunk{From: 0, Size: 4, Offset: 2, Data: []byte("cd")})}, ErrWire, ""},
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := startProcs(t, s, fmt.Sprintf("fault%d", k), 2, 2)
			raw := connect(t, s)
			for _, f := range c.frames {
				if err := raw.Publish(ps[1].dataSubj[2], f); err != nil {
					t.Fatal(err)
				}
			}
			err := waitErr(t, ps[1])
			if !errors.Is(err, c.want) || (c.text != "" && err.Error() != c.text) {
				t.Fatalf("got %v, want %v %q", err, c.want, c.text)
			}
			if serr := ps.ep(2).Send(0, numbered(0, 0, 0)); serr != err {
				t.Errorf("send after the failure: got %v, want %v", serr, err)
			}
		})
	}
}

func waitErr(t *testing.T, p *NATS) error {
	t.Helper()
	select {
	case err := <-p.Err():
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no error reported")
		return nil
	}
}

// TestNATSConnectionClosed closes a process's connection under an open
// transport and expects ErrConnLost; closing the transport first is quiet.
func TestNATSConnectionClosed(t *testing.T) {
	ps := startProcs(t, runServer(t), "closed", 2, 2)
	ps[0].nc.Close()
	if err := waitErr(t, ps[0]); !errors.Is(err, ErrConnLost) {
		t.Fatalf("got %v, want ErrConnLost", err)
	}
	if err := ps.ep(0).Send(2, numbered(2, 0, 0)); !errors.Is(err, ErrConnLost) {
		t.Errorf("send on a closed connection: got %v, want ErrConnLost", err)
	}
	ps[1].Close()
	ps[1].nc.Close()
	time.Sleep(10 * time.Millisecond)
	ps[1:].noErr(t)
	if err := ps.ep(2).Send(3, numbered(3, 0, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("send after Close: got %v, want ErrClosed", err)
	}
}

// TestNewNATSConfig refuses impossible layouts and run ids.
func TestNewNATSConfig(t *testing.T) {
	nc := connect(t, runServer(t))
	cases := []struct {
		name                string
		nc                  *nats.Conn
		run                 string
		first, local, total int
	}{
		{"no connection", nil, "r", 0, 1, 1},
		{"empty run", nc, "", 0, 1, 1},
		{"run with a dot", nc, "a.b", 0, 1, 1},
		{"run with a wildcard", nc, "a*", 0, 1, 1},
		{"no local workers", nc, "r", 0, 0, 1},
		{"negative first", nc, "r", -1, 1, 1},
		{"past total", nc, "r", 1, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewNATS(c.nc, c.run, c.first, c.local, c.total); !errors.Is(err, ErrConfig) {
				t.Errorf("got %v, want ErrConfig", err)
			}
		})
	}
}

// TestAwaitPeersCancelled gives up when a process never starts.
func TestAwaitPeersCancelled(t *testing.T) {
	tr, err := NewNATS(connect(t, runServer(t)), "alone", 0, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.AwaitPeers(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want DeadlineExceeded", err)
	}
}

// TestNATSChunksLargeFrames sends frames of about three times the
// server's max_payload between 2 processes x 2 workers, every worker to
// every worker at once, so that the chunks of two senders interleave at
// each receiver: every message arrives whole, in order, and credit returns.
func TestNATSChunksLargeFrames(t *testing.T) {
	const workers, perPair, pad = 4, 50, 3000
	s := runServerWith(t, server.Options{MaxPayload: 1024})
	ps := startProcs(t, s, "chunks", 2, 2)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- exchange(ps.ep(w), w, workers, perPair, pad)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "credit to return", func() bool {
		for w := range workers {
			if ps.ep(w).InFlight() != 0 {
				return false
			}
		}
		return true
	})
	ps.noErr(t)
	if v, _ := s.Varz(nil); v.InMsgs < workers*perPair*4 {
		t.Errorf("the server saw %d messages: frames were not chunked", v.InMsgs)
	}
}

// TestItemLimit refuses a message with an item over the limit, in memory
// and over NATS, before anything is counted in flight.
func TestItemLimit(t *testing.T) {
	const limit = 1000
	local := NewLocal(2)
	local.SetMaxItemSize(limit)
	ps := startProcs(t, runServer(t), "limit", 2, 1)
	ps[0].SetMaxItemSize(limit)
	for name, ep := range map[string]Endpoint{"local": local.Endpoint(0), "nats": ps.ep(0)} {
		t.Run(name, func(t *testing.T) {
			// numbered's item is a 1-byte key and a value of 1 + pad bytes.
			if err := ep.Send(1, numbered(7, 1, limit-2)); err != nil {
				t.Fatalf("an item of the limit: %v", err)
			}
			before := ep.InFlight()
			err := ep.Send(1, numbered(7, 2, limit-1))
			want := &ItemSizeError{From: 0, To: 1, Node: 7, Size: limit + 1, Limit: limit}
			var got *ItemSizeError
			if !errors.As(err, &got) || *got != *want || !errors.Is(err, ErrItemTooLarge) {
				t.Fatalf("got %v, want %v", err, want)
			}
			if ep.InFlight() != before {
				t.Errorf("a refused message counts %d bytes in flight", ep.InFlight()-before)
			}
		})
	}
}
