package engine

import (
	"fmt"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// dealer is worker 0 of workers with a one-node plan: a redistribute
// step, and a transport where every other worker already has queued
// bytes from worker 0.
func dealer(t *testing.T, workers int, credit int64, queued int) (*worker, *transport.Local) {
	t.Helper()
	net := transport.NewLocal(workers)
	w := &worker{
		cfg:    &Config{TotalWorkers: workers, Credit: credit},
		plan:   &plan.Plan{Nodes: []plan.Node{{Kind: plan.NodeRedistribute, Route: plan.RouteSpread, Steps: []int{0}}}},
		nodes:  make([]nodeState, 1),
		ep:     net.Endpoint(0),
		dealer: true,
	}
	for to := 1; to < workers && queued > 0; to++ {
		m := transport.Message{Kind: transport.Data, Batch: abi.Batch{N: 1, Body: make([]byte, queued)}}
		if err := w.ep.Send(to, m); err != nil {
			t.Fatal(err)
		}
		net.Endpoint(to).Receive(nil) // taken, not consumed: still owed
	}
	return w, net
}

// TestRedistributeFeedsOthersFirst routes batches through a redistribute
// node on worker 0: every other worker short of the lead by half the
// batch or more gets one contiguous run of items, just enough to bring
// what it has queued from worker 0 to the lead, and worker 0 keeps the
// rest; together the runs are the batch in order. Workers closer to their
// lead get nothing, and the batch stays whole on worker 0.
func TestRedistributeFeedsOthersFirst(t *testing.T) {
	for _, tc := range []struct {
		workers int
		credit  int64 // the lead is an eighth of it
		queued  int   // bytes each other worker has queued before
		items   int
	}{
		{2, 8 << 20, 0, 7},      // lead over the batch: all goes to worker 1
		{2, 8 * 150, 0, 20},     // worker 1 takes about 150 bytes
		{3, 8 * 200, 0, 40},     // workers 2 and 1 take about 200 bytes each
		{3, 8 * 50, 0, 3},       // the first one fed takes all
		{2, 8 * 100, 1000, 20},  // worker 1 has its lead: nothing moves
		{2, 8 * 300, 150, 30},   // short of it by less than half the batch: nothing moves
		{3, 8 * 300, 60, 30},    // short of it by more: each other worker gets a run
		{5, 8 * 30000, 0, 4096}, // two workers of 30,000 bytes take it all
		{2, 8 * 100, 0, 1},      // a single item
	} {
		t.Run(fmt.Sprintf("%d workers, lead %d, %d queued, %d items", tc.workers, tc.credit/8, tc.queued, tc.items), func(t *testing.T) {
			w, net := dealer(t, tc.workers, tc.credit, tc.queued)
			var b abi.Batch
			var want []string
			for k := range tc.items {
				v := fmt.Sprintf("item %d", k)
				b.Append(nil, false, []byte(v))
				want = append(want, v)
			}
			if err := w.route(0, 1, b, true); err != nil {
				t.Fatal(err)
			}
			var got []string
			order := []int{}
			for k := range tc.workers - 1 {
				order = append(order, 1+(w.spread+k)%(tc.workers-1))
			}
			order = append(order, 0)
			left := tc.items
			for _, to := range order {
				msgs := net.Endpoint(to).Receive(nil)
				if len(msgs) > 1 {
					t.Fatalf("worker %d got %d messages, want at most one run", to, len(msgs))
				}
				var run []string
				if len(msgs) == 1 {
					run = batchValues(t, msgs[0].Batch)
				}
				if to != 0 {
					checkFed(t, to, run, left, tc.queued, w.dealLead(), len(b.Body))
				}
				got = append(got, run...)
				left -= len(run)
			}
			if len(got) != len(want) {
				t.Fatalf("the workers got %d items, want %d", len(got), len(want))
			}
			for k := range got {
				if got[k] != want[k] {
					t.Fatalf("the runs, in dealing order %v, hold %q at item %d, want the batch in order (%q)", order, got[k], k, want[k])
				}
			}
		})
	}
}

// checkFed checks the run another worker got: nothing if it was short of
// the lead by less than half the batch, else items up to the first that
// brings its queue to the lead, or all that were left.
func checkFed(t *testing.T, to int, run []string, left, queued int, lead int64, batch int) {
	t.Helper()
	queue := int64(queued)
	if queued > 0 {
		queue += int64((&transport.Message{}).Size())
	}
	if lead-queue < int64(batch)/2 {
		if len(run) > 0 {
			t.Errorf("worker %d, %d bytes short of the lead, got %d items of a batch of %d bytes", to, lead-queue, len(run), batch)
		}
		return
	}
	for k, v := range run {
		if queue >= lead {
			t.Fatalf("worker %d got item %d (%q) with %d bytes queued, the lead is %d", to, k, v, queue, lead)
		}
		queue += int64(rawSize(v))
	}
	if queue < lead && len(run) < left {
		t.Errorf("worker %d got %d items, %d bytes queued, under the lead %d while %d items were left", to, len(run), queue, lead, left)
	}
}

// rawSize is the wire size of an unkeyed item of value v.
func rawSize(v string) int {
	var b abi.Batch
	b.Append(nil, false, []byte(v))
	return len(b.Body)
}

// TestHungry reads another batch in the same step only while the worker
// deals items and another worker has less than the lead of them queued.
func TestHungry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		queued  int
		dealer  bool
		want    bool
	}{
		{"others idle", 3, 0, true, true},
		{"others short of the lead", 3, 30, true, true},
		{"others have the lead", 3, 200, true, false},
		{"no redistribute", 3, 0, false, false},
		{"one worker", 1, 0, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := dealer(t, tc.workers, 8*100, tc.queued)
			w.dealer = tc.dealer
			if got := w.hungry(); got != tc.want {
				t.Errorf("hungry = %v, want %v", got, tc.want)
			}
		})
	}
}

// batchValues are the values of a batch's items.
func batchValues(t *testing.T, b abi.Batch) []string {
	t.Helper()
	var out []string
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		out = append(out, string(item.Value))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
