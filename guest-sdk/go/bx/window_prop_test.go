package bx

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// This file checks the window operators against a brute-force model on
// random event streams: keys, event times out of order by up to
// disorder, arriving in random batches. The clock waits disorder plus a
// second, and the simulator's system clock moves 1ms a round (fewer than
// 1000 rounds), so no item is late: every item must be counted in every
// window that holds it.

const disorder = 5 * time.Second

// propEvents makes n events over keys a..e, each at most disorder older
// than the newest before it.
func propEvents(rng *rand.Rand, n int) []KV[wev] {
	base := align2022
	out := make([]KV[wev], n)
	for i := range out {
		base = base.Add(time.Duration(rng.Intn(4000)) * time.Millisecond)
		ts := base.Add(-time.Duration(rng.Int63n(int64(disorder))))
		out[i] = kv(string(rune('a'+rng.Intn(5))), wev{At: ts, N: i})
	}
	return out
}

// span is what the property flows fold each window into.
type span struct {
	N   int   `json:"n"`
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

func (s span) add(ts int64) span {
	if s.N == 0 {
		return span{N: 1, Min: ts, Max: ts}
	}
	return span{N: s.N + 1, Min: min(s.Min, ts), Max: max(s.Max, ts)}
}

// modelSliding counts, per key, the events in every window [align +
// i*offset, +length) that holds them, by checking windows one by one.
func modelSliding(evs []KV[wev], length, offset time.Duration) []string {
	type win struct {
		key string
		id  int64
	}
	counts := map[win]int{}
	for _, e := range evs {
		k := int64(e.Value.At.Sub(align2022) / offset)
		for i := k - int64(length/offset) - 2; i <= k+2; i++ {
			open := align2022.Add(time.Duration(i) * offset)
			if !e.Value.At.Before(open) && e.Value.At.Before(open.Add(length)) {
				counts[win{e.Key, i}]++
			}
		}
	}
	var out []string
	for w, n := range counts {
		out = append(out, fmt.Sprintf("%s %d n=%d", w.key, w.id, n))
	}
	slices.Sort(out)
	return out
}

// modelSessions splits each key's sorted times where they are more than
// gap apart.
func modelSessions(evs []KV[wev], gap time.Duration) []string {
	byKey := map[string][]time.Time{}
	for _, e := range evs {
		byKey[e.Key] = append(byKey[e.Key], e.Value.At)
	}
	var out []string
	for key, ts := range byKey {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		start, n := 0, 0
		for i := range ts {
			n++
			if i == len(ts)-1 || ts[i+1].Sub(ts[i]) > gap {
				out = append(out, fmt.Sprintf("%s [%d..%d] n=%d", key, toNanos(ts[start]), toNanos(ts[i]), n))
				start, n = i+1, 0
			}
		}
	}
	slices.Sort(out)
	return out
}

// runProp runs a fold of spans over evs and returns the windows, formatted
// for sliding windows ("key id n=") or sessions ("key [min..max] n=").
func runProp(t *testing.T, evs []KV[wev], batch int, windower Windower, ordered, sessions bool) []string {
	t.Helper()
	var got []KV[Windowed[span]]
	runFlow(t, func() *Dataflow {
		f := NewDataflow("p")
		s := Input("inp", f, TestingSource(evs, batch))
		o := FoldWindow("fold", s, EventClock(evTime, disorder+time.Second), windower, func() span { return span{} },
			func(s span, e wev) span { return s.add(toNanos(e.At)) }, func(a, b span) span {
				return span{N: a.N + b.N, Min: min(a.Min, b.Min), Max: max(a.Max, b.Max)}
			}, Ordered(ordered))
		Output("out", o.Down, captureSink(&got))
		return f
	}, simOpts{tick: time.Millisecond})
	out := make([]string, len(got))
	for i, w := range got {
		if sessions {
			out[i] = fmt.Sprintf("%s [%d..%d] n=%d", w.Key, w.Value.Value.Min, w.Value.Value.Max, w.Value.Value.N)
		} else {
			out[i] = fmt.Sprintf("%s %d n=%d", w.Key, w.Value.ID, w.Value.Value.N)
		}
	}
	slices.Sort(out)
	return out
}

func TestWindowProperty(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		evs := propEvents(rng, 50+rng.Intn(250))
		batch := 1 + rng.Intn(5)
		ordered := seed%2 == 0
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			checkRows(t, runProp(t, evs, batch, TumblingWindower(10*time.Second, align2022), ordered, false),
				modelSliding(evs, 10*time.Second, 10*time.Second))
			checkRows(t, runProp(t, evs, batch, SlidingWindower(10*time.Second, 3*time.Second, align2022), ordered, false),
				modelSliding(evs, 10*time.Second, 3*time.Second))
			checkRows(t, runProp(t, evs, batch, SessionWindower(3*time.Second), ordered, true),
				modelSessions(evs, 3*time.Second))
		})
	}
}
