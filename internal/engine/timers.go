package engine

import "container/heap"

// timers holds the notify_at times of one stateful step's keys on one
// worker: a map of the current time per key and a min-heap that may hold
// stale entries, skipped when they surface.
type timers struct {
	at   map[string]int64
	heap timerHeap
}

func newTimers() *timers { return &timers{at: map[string]int64{}} }

func (t *timers) set(key string, at int64) {
	if t.at[key] == at {
		return
	}
	t.at[key] = at
	heap.Push(&t.heap, timer{key, at})
	if len(t.heap) > 2*len(t.at)+compactFloor {
		t.compact()
	}
}

// compactFloor is how many stale entries the heap holds at least before
// set drops them; above it the heap stays under twice the live timers.
// Keys whose time moves at every call (an event clock on a replayed
// stream) would otherwise leave one entry per call until its time passed.
const compactFloor = 1024

// compact rebuilds the heap from the live timers.
func (t *timers) compact() {
	t.heap = t.heap[:0]
	for key, at := range t.at {
		t.heap = append(t.heap, timer{key, at})
	}
	heap.Init(&t.heap)
}

func (t *timers) cancel(key string) { delete(t.at, key) }

// due removes and returns the keys whose time is at or before now.
func (t *timers) due(now int64) []string {
	var keys []string
	for len(t.heap) > 0 && t.heap[0].at <= now {
		e := heap.Pop(&t.heap).(timer)
		if cur, ok := t.at[e.key]; ok && cur == e.at {
			delete(t.at, e.key)
			keys = append(keys, e.key)
		}
	}
	return keys
}

// next is the earliest live time.
func (t *timers) next() (int64, bool) {
	for len(t.heap) > 0 {
		e := t.heap[0]
		if cur, ok := t.at[e.key]; ok && cur == e.at {
			return e.at, true
		}
		heap.Pop(&t.heap)
	}
	return 0, false
}

type timer struct {
	key string
	at  int64
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
