package bx

import (
	"testing"
	"time"
)

// TestCountWindowBatchAllocs checks that a value landing in an open
// tumbling window of an unordered fold allocates nothing: the queue and
// the windower's result keep their arrays from call to call. The window
// benchmark's guest makes about one such call per event.
func TestCountWindowBatchAllocs(t *testing.T) {
	spec := &windowSpec[int64, int, int]{
		clock:    EventClock(func(ms int64) time.Time { return time.UnixMilli(ms) }, 30*time.Second).WithNow(func() time.Time { return time.Unix(1, 0) }),
		windower: TumblingWindower(time.Minute, time.Unix(0, 0)),
		builder: func(resume *int) WindowLogic[int64, int, int] {
			return &foldWindowLogic[int64, int]{folder: func(n int, _ int64) int { return n + 1 }, merger: func(a, b int) int { return a + b }}
		},
	}
	l := spec.build(nil)
	batch := []int64{1000}
	l.OnBatch(batch) // opens window 0 and sizes the queue
	allocs := testing.AllocsPerRun(100, func() {
		batch[0]++
		if out, _ := l.OnBatch(batch); len(out) != 0 {
			t.Fatalf("the window emitted %v before closing", out)
		}
	})
	if allocs != 0 {
		t.Errorf("OnBatch into an open window allocates %.1f times, want 0", allocs)
	}
	// AllocsPerRun calls once more to warm up: 1 + 101 values.
	if out, _ := l.OnEOF(); len(out) != 2 || out[0].emit != 102 {
		t.Errorf("OnEOF = %+v, want the count 102 and the metadata of window 0", out)
	}
}
