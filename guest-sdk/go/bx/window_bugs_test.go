package bx

import (
	"encoding/json"
	"math/big"
	"math/rand"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// This file holds a test per known Bytewax windowing bug (issue numbers
// of bytewax/bytewax), and the resume of a window step, all driving the
// dispatcher as the host does, with the host's clock in every request.

var hostT0 = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// winStep builds a flow counting the events of each key in windows and
// returns its registered name and the stateful step.
func winStep(t *testing.T, windower func() Windower, wait time.Duration) (string, uint32) {
	t.Helper()
	name := register(func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource([]KV[wev]{}, 1))
		o := FoldWindow("count", s, EventClock(evTime, wait), windower(), func() int { return 0 },
			func(n int, _ wev) int { return n + 1 }, func(a, b int) int { return a + b })
		Output("out", o.Down, captureSink(new([]KV[Windowed[int]])))
		return f
	})
	g := buildNamed(t, name)
	return name, stepIndex(t, g, "f.count.window.stateful_batch")
}

type winEv = windowEvent[wev, int]

// fmtEvents formats a window step's events: "key E id value", "key L id
// value", "key M id open..close".
func fmtEvents(t *testing.T, r *abi.Reader) ([]string, []abi.KeyState) {
	t.Helper()
	u := abi.ReadKeyedUpdates(r)
	checkEnd(t, r)
	var out []string
	for _, kv := range valuesOf[KV[winEv]](t, u.Emits) {
		e := kv.Value
		switch e.kind {
		case eventEmit:
			out = append(out, kv.Key+" E "+itoa(e.id)+" "+itoa(int64(e.emit)))
		case eventLate:
			out = append(out, kv.Key+" L "+itoa(e.id)+" "+e.late.S)
		default:
			out = append(out, kv.Key+" M "+itoa(e.id)+" "+e.meta.OpenTime.Format("15:04:05")+".."+e.meta.CloseTime.Format("15:04:05"))
		}
	}
	return out, u.Keys
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func batchAt(t *testing.T, step uint32, now time.Time, evs ...KV[wev]) ([]string, []abi.KeyState) {
	t.Helper()
	return fmtEvents(t, call(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: step, Now: now.UnixNano(), Batch: batchOf(evs...)}))
}

func notifyAt(t *testing.T, step uint32, now time.Time, keys ...string) ([]string, []abi.KeyState) {
	t.Helper()
	return fmtEvents(t, call(t, abi.OpNotify, &abi.KeysRequest{Step: step, Now: now.UnixNano(), Keys: keys}))
}

func eofAt(t *testing.T, step uint32, now time.Time) ([]string, []abi.KeyState) {
	t.Helper()
	return fmtEvents(t, call(t, abi.OpEOF, &abi.StepRequest{Step: step, Now: now.UnixNano()}))
}

func hm(h, m, s int) time.Time { return time.Date(2022, 1, 1, h, m, s, 0, time.UTC) }

func ev(user string, t time.Time, s string) KV[wev] { return kv(user, wev{At: t, S: s}) }

func tumbling() Windower { return TumblingWindower(time.Minute, align2022) }

// TestIssue578 (bytewax#578, busy loop when no window is open): the key's
// notify_at is the system time its window closes, the notification closes
// it without new input, and then the key reports no timer at all
// (discarded) instead of one due at once, again and again.
func TestIssue578(t *testing.T) {
	_, st := winStep(t, tumbling, 5*time.Second)
	got, keys := batchAt(t, st, hostT0, ev("a", hm(0, 0, 10), "x"))
	// Watermark 0:00:05 at hostT0: the item waits, ordered, until the
	// watermark passes it 5s later (bytewax#507); its window closes at
	// 0:01:00, 55s later.
	checkKeyed(t, "batch", keyed{got, keys}, nil, []abi.KeyState{ks("a", hostT0.Add(5*time.Second).UnixNano())})
	got, keys = notifyAt(t, st, hostT0.Add(5*time.Second), "a")
	checkKeyed(t, "queue due", keyed{got, keys}, nil, []abi.KeyState{ks("a", hostT0.Add(55*time.Second).UnixNano())})
	got, keys = notifyAt(t, st, hostT0.Add(55*time.Second), "a")
	checkKeyed(t, "notify", keyed{got, keys}, strs("a E 0 1", "a M 0 00:00:00..00:01:00"), []abi.KeyState{gone("a")})

	l := (&windowSpec[wev, int, int]{clock: EventClock(evTime, 0), windower: tumbling()}).build(nil)
	if at, ok := l.NotifyAt(); ok {
		t.Errorf("a key with no window open asks to be notified at %v", at)
	}
}

// TestIssue577 (bytewax#577, session state never dropped): once its last
// session closes, a key is discarded and snapshots as a tombstone, so the
// recovery store forgets it.
func TestIssue577(t *testing.T) {
	_, st := winStep(t, func() Windower { return SessionWindower(10 * time.Second) }, 0)
	batchAt(t, st, hostT0, ev("u", hm(0, 0, 0), "x"), ev("u", hm(0, 0, 5), "y"))
	got, keys := notifyAt(t, st, hostT0.Add(11*time.Second), "u")
	checkKeyed(t, "notify", keyed{got, keys}, strs("u E 0 2", "u M 0 00:00:00..00:00:05"), []abi.KeyState{gone("u")})
	if s := snapshotKeys(t, st, "u"); len(s.Items) != 1 || s.Items[0].Present {
		t.Errorf("snapshot after the last session closed = %+v, want a tombstone", s.Items)
	}
}

// TestIssue413 (bytewax#413, align_to far in the past): window ids are
// computed, not counted from align_to, so an alignment 2000 years back
// gives the windows a brute-force search finds, at once.
func TestIssue413(t *testing.T) {
	align := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	length, offset := 1600*time.Millisecond, 700*time.Millisecond
	w := SlidingWindower(length, offset, align).(*slidingWindower)
	rng := rand.New(rand.NewSource(413))
	for range 1000 {
		ts := time.Date(2024, 3, 1, 0, 0, 0, rng.Intn(1e9), time.UTC).Add(time.Duration(rng.Intn(3600)) * time.Second)
		ids := w.lateFor(toNanos(ts))
		if len(ids) < 2 || len(ids) > 3 {
			t.Fatalf("%v is in %d windows %v, want 2 or 3", ts, len(ids), ids)
		}
		for _, id := range ids {
			m := w.meta(id)
			if !(m.Open <= toNanos(ts) && toNanos(ts) < m.Close) {
				t.Fatalf("%v is not in window %d [%v, %v)", ts, id, fromNanos(m.Open), fromNanos(m.Close))
			}
			if got := offsetsSince(align, fromNanos(m.Open), offset); got != id {
				t.Fatalf("window %d opens %d offsets after align_to", id, got)
			}
		}
		// The windows just outside the range do not hold ts.
		if m := w.meta(ids[0] - 1); m.Close > toNanos(ts) {
			t.Fatalf("window %d also holds %v", ids[0]-1, ts)
		}
		if m := w.meta(ids[len(ids)-1] + 1); m.Open <= toNanos(ts) {
			t.Fatalf("window %d also holds %v", ids[len(ids)-1]+1, ts)
		}
	}
}

// offsetsSince counts whole offsets from a to b with big integers (b - a
// exceeds a Duration).
func offsetsSince(a, b time.Time, offset time.Duration) int64 {
	ns := func(t time.Time) *big.Int {
		n := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(1e9))
		return n.Add(n, big.NewInt(int64(t.Nanosecond())))
	}
	d := new(big.Int).Sub(ns(b), ns(a))
	return d.Div(d, big.NewInt(int64(offset))).Int64()
}

// TestIssue470 (bytewax#470, watermark assertions on out-of-order input):
// items far out of order, a clock that goes back, and a batch whose
// watermark would regress never fail a call; each item is late or on time
// by the watermark before it.
func TestIssue470(t *testing.T) {
	_, st := winStep(t, tumbling, 0)
	got, _ := batchAt(t, st, hostT0, ev("k", hm(1, 0, 0), "a"), ev("k", hm(0, 0, 0), "old"),
		ev("k", hm(1, 0, 30), "b"), ev("k", hm(1, 0, 10), "older"), ev("k", hm(1, 0, 30), "same"))
	checkRows(t, got, strs("k L 0 old", "k L 60 older"))
	// The host's clock goes back: the watermark stays where it was.
	got, _ = batchAt(t, st, hostT0.Add(-time.Hour), ev("k", hm(1, 0, 20), "late"), ev("k", hm(1, 0, 40), "c"))
	checkRows(t, got, strs("k L 60 late"))
	got, _ = eofAt(t, st, hostT0)
	checkRows(t, got, strs("k E 60 4", "k M 60 01:00:00..01:01:00"))
}

// TestWindowResume snapshots a key with an open window and a queued
// item, restores it into a fresh instance and finishes there: the counts
// are those of an uninterrupted run, and the notify_at survives.
func TestWindowResume(t *testing.T) {
	name, st := winStep(t, tumbling, 20*time.Second)
	batchAt(t, st, hostT0, ev("a", hm(0, 0, 10), "x"), ev("a", hm(0, 0, 50), "y"), ev("a", hm(0, 0, 40), "z"))
	snaps := snapshotKeys(t, st, "a")
	if len(snaps.Items) != 1 || !snaps.Items[0].Present {
		t.Fatalf("snapshot = %+v", snaps.Items)
	}
	var s windowSnapshot[wev, int]
	if err := json.Unmarshal(snaps.Items[0].State, &s); err != nil || len(s.Logics) != 1 || len(s.Queue) != 2 {
		t.Fatalf("state %s: %v, want one open window and two queued items", snaps.Items[0].State, err)
	}
	buildNamed(t, name)
	restoreKeys(t, snaps)
	// Watermark 0:00:30 at hostT0: the queue's 0:00:40 is due 10s later.
	got, keys := notifyAt(t, st, hostT0.Add(10*time.Second), "a")
	checkKeyed(t, "notify after resume", keyed{got, keys}, nil, []abi.KeyState{ks("a", hostT0.Add(20*time.Second).UnixNano())})
	got, keys = notifyAt(t, st, hostT0.Add(30*time.Second), "a")
	checkKeyed(t, "window closes", keyed{got, keys}, strs("a E 0 3", "a M 0 00:00:00..00:01:00"), []abi.KeyState{gone("a")})
}
