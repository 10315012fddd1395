package transport

import (
	"sync"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// TestLocalFIFOAndCredit sends from several goroutines at once and checks
// per-sender order, that nothing is lost, and that credit returns to zero.
// Two senders also send to worker 0, which consumes nothing: their credit
// stays out, all of it owed by worker 0.
func TestLocalFIFOAndCredit(t *testing.T) {
	const senders, msgs = 3, 1000
	l := NewLocal(senders + 1)
	var owed int64
	for s := 1; s < senders; s++ {
		m := Message{Kind: Frontier, Epoch: 1}
		owed = int64(m.Size())
		if err := l.Endpoint(s).Send(0, m); err != nil {
			t.Fatal(err)
		}
	}
	recv := l.Endpoint(senders)
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ep := l.Endpoint(s)
			for i := 0; i < msgs; i++ {
				var b abi.Batch
				b.Append(nil, false, []byte{byte(i)})
				if err := ep.Send(senders, Message{Kind: Data, Epoch: uint64(i), Batch: b}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	next := make([]uint64, senders)
	got := 0
	for got < senders*msgs {
		<-recv.Ready()
		for _, m := range recv.Receive(nil) {
			if m.Epoch != next[m.From] {
				t.Fatalf("from %d: got epoch %d, want %d", m.From, m.Epoch, next[m.From])
			}
			next[m.From]++
			got++
			recv.Consumed(m.From, m.Size())
		}
	}
	wg.Wait()
	for s := 0; s < senders; s++ {
		ep := l.Endpoint(s)
		want := owed
		if s == 0 {
			want = 0
		}
		if f, to0, rest := ep.InFlight(), ep.InFlightTo(0), ep.InFlightTo(senders); f != want || to0 != want || rest != 0 {
			t.Errorf("sender %d has %d bytes in flight, %d to worker 0 and %d to worker %d, after worker %d consumed everything; want %d, %d and 0",
				s, f, to0, rest, senders, senders, want, want)
		}
	}
	l.Close()
	if err := l.Endpoint(0).Send(1, Message{Kind: Frontier}); err != ErrClosed {
		t.Errorf("send after close: got %v, want ErrClosed", err)
	}
}
