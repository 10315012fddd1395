package bx

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// This file ports Bytewax 0.21's unit tests of the windowers and clocks
// (test_sliding_windower.py, test_session_windower.py,
// test_event_clock.py, test_system_clock.py) to the pure window core.

var align0316 = time.Date(2023, 3, 16, 9, 0, 0, 0, time.UTC)

func TestSlidingIntersects(t *testing.T) { // test_sliding_windower.py
	hms := func(h, m int, s float64) time.Time {
		return time.Date(2023, 3, 16, h, m, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second)))
	}
	cases := []struct {
		name           string
		length, offset time.Duration
		at             time.Time
		want           []int64
	}{
		{"overlap_divisible_bulk_positive", 10 * time.Second, 5 * time.Second, hms(9, 0, 13), []int64{1, 2}},
		{"overlap_divisible_bulk_negative", 10 * time.Second, 5 * time.Second, hms(8, 59, 57), []int64{-2, -1}},
		{"overlap_divisible_bulk_zero_negative", 10 * time.Second, 5 * time.Second, hms(9, 0, 3), []int64{-1, 0}},
		{"overlap_divisible_bulk_zero_positive", 10 * time.Second, 5 * time.Second, hms(9, 0, 7), []int64{0, 1}},
		{"overlap_divisible_edge_positive", 10 * time.Second, 5 * time.Second, hms(9, 0, 15), []int64{2, 3}},
		{"overlap_divisible_edge_negative", 10 * time.Second, 5 * time.Second, hms(8, 59, 55), []int64{-2, -1}},
		{"overlap_divisible_edge_start_zero", 10 * time.Second, 5 * time.Second, hms(9, 0, 0), []int64{-1, 0}},
		{"overlap_divisible_edge_end_zero", 10 * time.Second, 5 * time.Second, hms(9, 0, 10), []int64{1, 2}},
		{"overlap_indivisible_bulk_positive", 10 * time.Second, 3 * time.Second, hms(9, 0, 11), []int64{1, 2, 3}},
		{"overlap_indivisible_bulk_positive_remainder", 10 * time.Second, 3 * time.Second, hms(9, 0, 11.5), []int64{1, 2, 3}},
		{"overlap_indivisible_bulk_negative", 10 * time.Second, 3 * time.Second, hms(8, 59, 59), []int64{-3, -2, -1}},
		{"overlap_indivisible_bulk_negative_remainder", 10 * time.Second, 3 * time.Second, hms(8, 59, 58.5), []int64{-3, -2, -1}},
		{"overlap_indivisible_bulk_zero", 10 * time.Second, 3 * time.Second, hms(9, 0, 5), []int64{-1, 0, 1}},
		{"overlap_indivisible_edge_start_positive", 10 * time.Second, 7 * time.Second, hms(9, 0, 14), []int64{1, 2}},
		{"overlap_indivisible_edge_start_negative", 10 * time.Second, 7 * time.Second, hms(8, 59, 53), []int64{-2, -1}},
		{"overlap_indivisible_edge_start_zero", 10 * time.Second, 7 * time.Second, hms(9, 0, 0), []int64{-1, 0}},
		{"overlap_indivisible_edge_end_positive", 10 * time.Second, 7 * time.Second, hms(9, 0, 17), []int64{2}},
		{"overlap_indivisible_edge_end_negative", 10 * time.Second, 7 * time.Second, hms(8, 59, 56), []int64{-1}},
		{"overlap_indivisible_edge_end_zero", 10 * time.Second, 7 * time.Second, hms(9, 0, 10), []int64{1}},
		{"tumble_bulk_positive", 10 * time.Second, 10 * time.Second, hms(9, 0, 15), []int64{1}},
		{"tumble_bulk_negative", 10 * time.Second, 10 * time.Second, hms(8, 59, 55), []int64{-1}},
		{"tumble_bulk_zero", 10 * time.Second, 10 * time.Second, hms(9, 0, 5), []int64{0}},
		{"tumble_edge_positive", 10 * time.Second, 10 * time.Second, hms(9, 0, 20), []int64{2}},
		{"tumble_edge_negative", 10 * time.Second, 10 * time.Second, hms(8, 59, 50), []int64{-1}},
		{"tumble_edge_zero_start", 10 * time.Second, 10 * time.Second, hms(9, 0, 0), []int64{0}},
		{"tumble_edge_zero_end", 10 * time.Second, 10 * time.Second, hms(9, 0, 10), []int64{1}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			w := newSliding("test", tt.length, tt.offset, align0316)
			if got := w.lateFor(toNanos(tt.at)); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
		})
	}
}

// sessionAt is 2024-01-01 09:00:00 plus s seconds, in nanoseconds.
func sessionAt(s float64) int64 {
	return toNanos(time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second))))
}

func TestSessionWindower(t *testing.T) { // test_session_windower.py
	w := SessionWindower(10 * time.Second).(sessionWindower)
	cases := []struct {
		name   string
		before []float64 // items opened first
		item   float64
		id     int64
		open   map[int64]windowMeta
		merges [][2]int64
	}{
		{"initial_session", nil, 0, 0, map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(0)}}, nil},
		{"extend_forward_within_gap", []float64{0}, 5, 0, map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(5)}}, nil},
		{"extend_forward_exact_gap", []float64{0}, 10, 0, map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(10)}}, nil},
		{"extend_backward_within_gap", []float64{0}, -5, 0, map[int64]windowMeta{0: {Open: sessionAt(-5), Close: sessionAt(0)}}, nil},
		{"extend_backward_exact_gap", []float64{0}, -10, 0, map[int64]windowMeta{0: {Open: sessionAt(-10), Close: sessionAt(0)}}, nil},
		{"extend_merge", []float64{0, 20}, 10, 0,
			map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(20), Merged: []int64{1}}}, [][2]int64{{1, 0}}},
		{"within_existing", []float64{0, 10}, 5, 0, map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(10)}}, nil},
		{"new_session_past_gap", []float64{0}, 11, 1,
			map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(0)}, 1: {Open: sessionAt(11), Close: sessionAt(11)}}, nil},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			st := newWindowerState()
			for _, s := range tt.before {
				w.openFor(&st, sessionAt(s))
			}
			if got := w.openFor(&st, sessionAt(tt.item)); !slices.Equal(got, []int64{tt.id}) {
				t.Errorf("ids = %v, want [%d]", got, tt.id)
			}
			if got := deref(st.Open); !reflect.DeepEqual(got, tt.open) {
				t.Errorf("sessions = %+v, want %+v", got, tt.open)
			}
			if !slices.Equal(st.merges, tt.merges) {
				t.Errorf("merges = %v, want %v", st.merges, tt.merges)
			}
		})
	}
	if got := w.lateFor(sessionAt(-1e6)); !slices.Equal(got, []int64{LateSessionID}) { // test_late
		t.Errorf("late ids = %v", got)
	}
}

func deref(m map[int64]*windowMeta) map[int64]windowMeta {
	out := map[int64]windowMeta{}
	for id, p := range m {
		out[id] = *p
	}
	return out
}

func TestSessionFindMerges(t *testing.T) { // test_session_windower.py::test_find_merges_*
	point := func(s float64) *windowMeta { return &windowMeta{Open: sessionAt(s), Close: sessionAt(s)} }
	cases := []struct {
		name     string
		sessions []float64 // one point session per id
		merges   [][2]int64
		left     map[int64]windowMeta
	}{
		{"none", []float64{0, 20}, nil, map[int64]windowMeta{0: *point(0), 1: *point(20)}},
		{"within_gap", []float64{0, 5}, [][2]int64{{1, 0}},
			map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(5), Merged: []int64{1}}}},
		{"exact_gap", []float64{0, 10}, [][2]int64{{1, 0}},
			map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(10), Merged: []int64{1}}}},
		{"multi", []float64{0, 5, 10}, [][2]int64{{1, 0}, {2, 0}},
			map[int64]windowMeta{0: {Open: sessionAt(0), Close: sessionAt(10), Merged: []int64{1, 2}}}},
		{"no_yes_no", []float64{0, 20, 25, 40}, [][2]int64{{2, 1}},
			map[int64]windowMeta{0: *point(0), 1: {Open: sessionAt(20), Close: sessionAt(25), Merged: []int64{2}}, 3: *point(40)}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			st := newWindowerState()
			for id, s := range tt.sessions {
				st.Open[int64(id)] = point(s)
			}
			SessionWindower(10 * time.Second).(sessionWindower).findMerges(&st)
			if !slices.Equal(st.merges, tt.merges) {
				t.Errorf("merges = %v, want %v", st.merges, tt.merges)
			}
			if got := deref(st.Open); !reflect.DeepEqual(got, tt.left) {
				t.Errorf("sessions = %+v, want %+v", got, tt.left)
			}
		})
	}
}

// clockAt is 2024-01-01 plus s seconds, in nanoseconds.
func clockAt(s float64) int64 {
	return toNanos(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second))))
}

func TestEventClock(t *testing.T) { // test_event_clock.py
	type step struct {
		advance float64   // system seconds to move first
		items   []float64 // item timestamps (clockAt) in one batch; none: on_notify
	}
	maxWait := time.Duration(1<<63 - 1)
	cases := []struct {
		name  string
		wait  time.Duration
		steps []step
		want  int64 // the last watermark
	}{
		{"watermark_starts_at_beginning_of_time", 5 * time.Second, []step{{}}, minTime},
		{"watermark_is_item_timestamp_minus_wait", 5 * time.Second, []step{{items: []float64{7}}}, clockAt(2)},
		{"watermark_forwards_by_system_time", 5 * time.Second, []step{{items: []float64{7}}, {advance: 2}}, clockAt(4)},
		{"watermark_advances_in_batch", 5 * time.Second, []step{{items: []float64{7, 10}}}, clockAt(5)},
		{"watermark_does_not_reverse_in_batch", 5 * time.Second, []step{{items: []float64{7, 3}}}, clockAt(2)},
		{"does_not_reverse_and_forwards_by_system_time_next_batch", 5 * time.Second,
			[]step{{items: []float64{7}}, {advance: 2, items: []float64{3}}}, clockAt(4)},
		{"does_not_reverse_advancing_item_slower_than_system_time_gap", 5 * time.Second,
			[]step{{items: []float64{7}}, {advance: 2, items: []float64{8}}}, clockAt(4)},
		{"allows_max_wait_for_system_duration_init", maxWait, []step{{items: []float64{7}}}, subSat(clockAt(7), int64(maxWait))},
		// Python's timestamp - timedelta.max overflows and Bytewax keeps
		// UTC_MIN + 2s; a Go Duration is at most 292 years, so 10s - wait
		// is a time and, being later than 7s - wait + 2s, the watermark.
		{"allows_max_wait_update_does_not_regress", maxWait,
			[]step{{items: []float64{7}}, {advance: 2, items: []float64{10}}}, subSat(clockAt(10), int64(maxWait))},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			now := clockAt(0)
			c := EventClock(func(ts int64) time.Time { return fromNanos(ts) }, tt.wait)
			st := newClockState(now)
			var wm int64
			for _, s := range tt.steps {
				now += int64(s.advance * 1e9)
				if s.items == nil {
					wm = c.current(st, now)
				}
				for _, ts := range s.items {
					_, wm = c.stamp(&st, clockAt(ts), now)
				}
			}
			if wm != tt.want {
				t.Errorf("watermark = %v, want %v", fromNanos(wm), fromNanos(tt.want))
			}
		})
	}
}

// TestClocksAtEOF: both clocks close every window at EOF
// (test_event_clock.py::test_watermark_is_end_of_time_on_eof,
// test_system_clock.py::test_watermark_is_end_of_time_on_eof): the logic
// flushes at the end of time whatever the clock.
func TestClocksAtEOF(t *testing.T) {
	for name, clock := range map[string]Clock[wev]{"event": EventClock(evTime, 5*time.Second), "system": SystemClock[wev]()} {
		t.Run(name, func(t *testing.T) {
			sp := &windowSpec[wev, []string, []string]{clock: clock.WithNow(func() time.Time { return at(0) }),
				windower: TumblingWindower(time.Hour, align2022), ordered: true,
				builder: func(resume *[]string) WindowLogic[wev, []string, []string] {
					return &foldWindowLogic[wev, []string]{folder: appendEv, merger: concat}
				}}
			l := sp.build(nil)
			l.OnBatch([]wev{evS(1, "a")})
			out, discard := l.OnEOF()
			if len(out) != 2 || out[0].kind != eventEmit || out[1].kind != eventMeta || !discard {
				t.Errorf("eof = %+v, discard %v; want the window's emit and meta, then discard", out, discard)
			}
		})
	}
}
