package transport

import (
	"sync"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// TestLocalFIFOAndCredit sends from several goroutines at once and checks
// per-sender order, that nothing is lost, and that credit returns to zero.
func TestLocalFIFOAndCredit(t *testing.T) {
	const senders, msgs = 3, 1000
	l := NewLocal(senders + 1)
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
		if f := l.Endpoint(s).InFlight(); f != 0 {
			t.Errorf("sender %d has %d bytes in flight after everything was consumed", s, f)
		}
	}
	l.Close()
	if err := l.Endpoint(0).Send(1, Message{Kind: Frontier}); err != ErrClosed {
		t.Errorf("send after close: got %v, want ErrClosed", err)
	}
}
