package bx

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// This file ports Bytewax 0.21's flow-level windowing tests
// (pytests/operators/windowing/test_*.py): same inputs, same expected
// outputs and late items, run by the simulator with a clock that moves
// 1ms a round, as run_main does in well under a second.

// wev is a test event: a timestamp, a user and a value.
type wev struct {
	At   time.Time `json:"at"`
	User string    `json:"user,omitempty"`
	S    string    `json:"s,omitempty"`
	N    int       `json:"n,omitempty"`
}

func (e wev) String() string {
	if e.S != "" {
		return e.S
	}
	return fmt.Sprint(e.N)
}

var align2022 = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return align2022.Add(time.Duration(sec * float64(time.Second))) }

func evS(sec float64, s string) wev { return wev{At: at(sec), S: s} }

func evU(sec float64, user string, n int) wev { return wev{At: at(sec), User: user, N: n} }

func evTime(e wev) time.Time { return e.At }

// winOutput captures a windowed stream as formatted strings.
func winOutput[T any](id string, s *Stream[KV[Windowed[T]]], got *[]string) {
	Output(id, MapValue(id+"_fmt", s, func(w Windowed[T]) string { return fmt.Sprintf("(%d, %v)", w.ID, w.Value) }),
		DynamicOutput[KV[string]](stringsSink{got}))
}

type stringsSink struct{ got *[]string }

func (c stringsSink) Build(string, int, int) StatelessSinkPartition[KV[string]] { return c }
func (c stringsSink) WriteBatch(items []KV[string]) {
	for _, kv := range items {
		*c.got = append(*c.got, kv.Key+"="+kv.Value)
	}
}
func (c stringsSink) Close() {}

// winCase is a flow with a down and a late output, and what each gets.
type winCase struct {
	name       string
	flow       func(f *Dataflow, down, late *[]string)
	down, late []string
}

func runWinCases(t *testing.T, cases []winCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var down, late []string
			runFlow(t, func() *Dataflow {
				f := NewDataflow("test_df")
				tt.flow(f, &down, &late)
				return f
			}, simOpts{tick: time.Millisecond})
			if !slices.Equal(down, tt.down) {
				t.Errorf("down = %q\nwant   %q", down, tt.down)
			}
			if !slices.Equal(late, tt.late) {
				t.Errorf("late = %q\nwant   %q", late, tt.late)
			}
		})
	}
}

// keyedInput reads evs one per batch (TestingSource's default) keyed
// "ALL".
func keyedInput(f *Dataflow, id string, evs ...wev) *Stream[KV[wev]] {
	return KeyOn("key_"+id, Input(id, f, TestingSource(evs, 1)), func(wev) string { return "ALL" })
}

func appendEv(acc []string, e wev) []string { return append(acc, e.String()) }
func concat(a, b []string) []string         { return append(a, b...) }

func TestWindowBytewaxCases(t *testing.T) {
	clock0 := EventClock(evTime, 0)
	runWinCases(t, []winCase{{
		// test_fold_window.py::test_fold_window_tumbling
		name: "fold_window_tumbling",
		flow: func(f *Dataflow, down, late *[]string) {
			in := keyedInput(f, "inp", evS(0, "login"), evS(4, "post"), evS(8, "post"), evS(16, "post"))
			o := FoldWindow("count", in, clock0, TumblingWindower(10*time.Second, align2022),
				func() map[string]int { return map[string]int{} },
				func(m map[string]int, e wev) map[string]int { m[e.S]++; return m },
				func(a, b map[string]int) map[string]int { maps.Copy(a, b); return a })
			winOutput("out", o.Down, down)
			winOutput("late", o.Late, late)
		},
		down: strs("ALL=(0, map[login:1 post:2])", "ALL=(1, map[post:1])"),
		late: strs(),
	}, {
		// test_fold_window.py::test_fold_window_session
		name: "fold_window_session",
		flow: func(f *Dataflow, down, late *[]string) {
			in := keyedInput(f, "inp", evS(1, "a"), evS(5, "b"), evS(11, "c"), evS(12, "d"), evS(13, "e"),
				evS(14, "f"), evS(20, "g"), evS(1, "h"))
			o := FoldWindow("sum", in, clock0, SessionWindower(5*time.Second), func() []string { return nil }, appendEv, concat)
			winOutput("out", o.Down, down)
			winOutput("late", o.Late, late)
		},
		down: strs("ALL=(0, [a b])", "ALL=(1, [c d e f])", "ALL=(2, [g])"),
		late: strs("ALL=(-1, h)"),
	}, {
		// test_fold_window.py::test_fold_window_sliding
		name: "fold_window_sliding",
		flow: func(f *Dataflow, down, late *[]string) {
			in := keyedInput(f, "inp", evS(1, "a"), evS(4, "b"), evS(8, "c"), evS(12, "d"), evS(13, "e"),
				evS(14, "f"), evS(16, "g"), evS(1, "h"))
			o := FoldWindow("sum", in, clock0, SlidingWindower(10*time.Second, 5*time.Second, align2022),
				func() []string { return nil }, appendEv, concat)
			winOutput("out", o.Down, down)
			winOutput("late", o.Late, late)
		},
		down: strs("ALL=(-1, [a b])", "ALL=(0, [a b c])", "ALL=(1, [c d e f])", "ALL=(2, [d e f g])", "ALL=(3, [g])"),
		late: strs("ALL=(-1, h)", "ALL=(0, h)"),
	}, {
		// test_collect_window.py::test_collect_window (timedelta.max wait:
		// nothing is late, everything closes at EOF, in timestamp order)
		name: "collect_window",
		flow: func(f *Dataflow, down, late *[]string) {
			in := keyedInput(f, "inp", evU(0, "", 1), evU(8, "", 3), evU(4, "", 2), evU(13, "", 5), evU(12, "", 4))
			o := CollectWindow("collect_window", in, EventClock(evTime, time.Duration(1<<63-1)), TumblingWindower(10*time.Second, align2022))
			winOutput("out", o.Down, down)
			winOutput("late", o.Late, late)
		},
		down: strs("ALL=(0, [1 2 3])", "ALL=(1, [4 5])"),
		late: strs(),
	}, {
		// test_count_window.py::test_count_window
		name: "count_window",
		flow: func(f *Dataflow, down, late *[]string) {
			in := Input("inp", f, TestingSource([]wev{evU(0, "a", 1), evU(4, "a", 1), evU(8, "b", 1), evU(12, "a", 1), evU(13, "a", 1)}, 1))
			o := CountWindow("add", in, clock0, TumblingWindower(10*time.Second, align2022), func(e wev) string { return e.User })
			winOutput("out", o.Down, down)
			winOutput("late", o.Late, late)
		},
		down: strs("a=(0, 2)", "a=(1, 2)", "b=(0, 1)"),
		late: strs(),
	}, {
		// test_max_min_window.py::test_max_window
		name: "max_window",
		flow: func(f *Dataflow, down, late *[]string) {
			o := MaxWindowBy("add", userInput(f), clock0, TumblingWindower(10*time.Second, align2022), func(e wev) int { return e.N })
			winOutput("out", MapValue("at", o.Down, evSecs), down)
			winOutput("late", o.Late, late)
		},
		down: strs("a=(0, 9@4s)", "a=(1, 10@12s)"),
		late: strs(),
	}, {
		// test_max_min_window.py::test_min_window
		name: "min_window",
		flow: func(f *Dataflow, down, late *[]string) {
			o := MinWindowBy("min", userInput(f), clock0, TumblingWindower(10*time.Second, align2022), func(e wev) int { return e.N })
			winOutput("out", MapValue("at", o.Down, evSecs), down)
			winOutput("late", o.Late, late)
		},
		down: strs("a=(0, 1@0s)", "a=(1, 4@13s)"),
		late: strs(),
	}, {
		// test_reduce_window.py::test_reduce_window
		name: "reduce_window",
		flow: func(f *Dataflow, down, late *[]string) {
			in := KeyOn("key_on_user", Input("inp", f, TestingSource([]wev{evU(0, "a", 1), evU(4, "a", 1), evU(8, "a", 1),
				evU(12, "a", 1), evU(13, "a", 1)}, 1)), func(e wev) string { return e.User })
			o := ReduceWindow("add", in, clock0, TumblingWindower(10*time.Second, align2022), func(a, b wev) wev { a.N += b.N; return a })
			winOutput("out", o.Down, down)
			winOutput("late", o.Late, late)
		},
		down: strs("a=(0, 3)", "a=(1, 2)"),
		late: strs(),
	}, {
		// test_session_windower.py::test_session_with_system_clock
		name: "session_with_system_clock",
		flow: func(f *Dataflow, down, late *[]string) {
			in := KeyOn("key", Input("input", f, TestingSource(ints(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 1)), func(int) string { return "ALL" })
			o := FoldWindow("collect_records", in, SystemClock[int](), SessionWindower(10*time.Second),
				func() []int { return nil }, func(s []int, v int) []int { return append(s, v) }, func(a, b []int) []int { return append(a, b...) })
			winOutput("out", o.Down, down)
			winOutput("late", o.Late, late)
		},
		down: strs("ALL=(0, [0 1 2 3 4 5 6 7 8 9])"),
		late: strs(),
	}})
}

// userInput is the input of the max/min/reduce pytests, keyed by user.
func userInput(f *Dataflow) *Stream[KV[wev]] {
	evs := []wev{evU(0, "a", 1), evU(4, "a", 9), evU(8, "a", 3), evU(12, "a", 10), evU(13, "a", 4)}
	return KeyOn("key_on_user", Input("inp", f, TestingSource(evs, 1)), func(e wev) string { return e.User })
}

// evSecs formats a windowed event as "value@seconds".
func evSecs(w Windowed[wev]) Windowed[string] {
	return Windowed[string]{ID: w.ID, Value: fmt.Sprintf("%d@%gs", w.Value.N, w.Value.At.Sub(align2022).Seconds())}
}

// fmtRow formats a join row as "1,nil".
func fmtRow(row []*int) string {
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = "nil"
		if v != nil {
			parts[i] = fmt.Sprint(*v)
		}
	}
	return strings.Join(parts, ",")
}
