package bx

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// joinModes are Bytewax's join modes of the ported pytests (the 0.20 mode
// names) in 0.21's insert and emit modes.
var joinModes = map[string]struct {
	insert JoinInsertMode
	emit   JoinEmitMode
}{
	"complete": {JoinLast, JoinComplete},
	"final":    {JoinLast, JoinFinal},
	"running":  {JoinLast, JoinRunning},
	"product":  {JoinProduct, JoinFinal},
}

// joinCase is one ported pytest: the two sides' inputs (values, and for
// the windowed joins seconds after align2022 too) and the rows expected.
type joinCase struct {
	mode        string
	left, right []int
	leftAt      []float64
	rightAt     []float64
	want, named []string
}

// The cases of pytests/operators/test_join.py and
// pytests/operators/windowing/test_join_window.py (same inputs; the
// windowed ones add the timestamps).
var joinCases = []joinCase{
	{mode: "complete", left: ints(1), right: ints(2), leftAt: []float64{0}, rightAt: []float64{1},
		want: strs("1,2"), named: strs("map[left:1 right:2]")},
	{mode: "final", left: ints(1), right: ints(2, 3), leftAt: []float64{0}, rightAt: []float64{1, 2},
		want: strs("1,3"), named: strs("map[left:1 right:3]")},
	{mode: "running", left: ints(1), right: ints(2, 3), leftAt: []float64{0}, rightAt: []float64{1, 2},
		want: strs("1,nil", "1,2", "1,3"), named: strs("map[left:1]", "map[left:1 right:2]", "map[left:1 right:3]")},
	{mode: "product", left: ints(1, 2), right: ints(3, 4), leftAt: []float64{0, 1}, rightAt: []float64{1, 2},
		want:  strs("1,3", "1,4", "2,3", "2,4"),
		named: strs("map[left:1 right:3]", "map[left:1 right:4]", "map[left:2 right:3]", "map[left:2 right:4]")},
}

// joinSides builds the two keyed inputs of a join pytest; with times the
// values are windowed events.
func joinSides(f *Dataflow, c joinCase) (l, r *Stream[KV[int]]) {
	all := func(int) string { return "ALL" }
	l = KeyOn("key_l", Input("inp_l", f, TestingSource(c.left, 1)), all)
	r = KeyOn("key_r", Input("inp_r", f, TestingSource(c.right, 1)), all)
	return l, r
}

// runJoin runs a flow whose rows are formatted into got.
func runJoin(t *testing.T, build func(f *Dataflow, got *[]string)) []string {
	t.Helper()
	var got []string
	runFlow(t, func() *Dataflow {
		f := NewDataflow("test_df")
		build(f, &got)
		return f
	}, simOpts{tick: time.Millisecond})
	return got
}

func TestJoinBytewaxCases(t *testing.T) {
	for _, c := range joinCases {
		m := joinModes[c.mode]
		t.Run(c.mode, func(t *testing.T) { // test_join.py::test_join_<mode>
			got := runJoin(t, func(f *Dataflow, got *[]string) {
				l, r := joinSides(f, c)
				rows := Join("join", m.insert, m.emit, l, r)
				Output("out", MapValue("clean", rows, fmtRow), captureValues(got))
			})
			checkRows(t, got, c.want)
		})
		t.Run(c.mode+"_named", func(t *testing.T) { // test_join.py::test_join_named_<mode>
			got := runJoin(t, func(f *Dataflow, got *[]string) {
				l, r := joinSides(f, c)
				rows := JoinNamed("join", m.insert, m.emit, map[string]*Stream[KV[int]]{"left": l, "right": r})
				Output("out", MapValue("clean", rows, func(m map[string]int) string { return fmt.Sprint(m) }), captureValues(got))
			})
			checkRows(t, got, c.named)
		})
	}
}

// timedSides builds the two keyed event inputs of a join_window pytest.
func timedSides(f *Dataflow, c joinCase) (l, r *Stream[KV[wev]]) {
	evs := func(ns []int, secs []float64) []wev {
		out := make([]wev, len(ns))
		for i := range ns {
			out[i] = evU(secs[i], "", ns[i])
		}
		return out
	}
	all := func(wev) string { return "ALL" }
	l = KeyOn("key_l", Input("inp_l", f, TestingSource(evs(c.left, c.leftAt), 1)), all)
	r = KeyOn("key_r", Input("inp_r", f, TestingSource(evs(c.right, c.rightAt), 1)), all)
	return l, r
}

func evRow(row []*wev) string {
	ns := make([]*int, len(row))
	for i, e := range row {
		if e != nil {
			ns[i] = &e.N
		}
	}
	return fmtRow(ns)
}

func TestJoinWindowBytewaxCases(t *testing.T) {
	clock := EventClock(evTime, 10*time.Second)
	for _, c := range joinCases {
		m := joinModes[c.mode]
		t.Run(c.mode, func(t *testing.T) { // test_join_window.py::test_join_window_<mode>
			got := runJoin(t, func(f *Dataflow, got *[]string) {
				l, r := timedSides(f, c)
				o := JoinWindow("join", clock, SessionWindower(10*time.Second), m.insert, m.emit, l, r)
				clean := MapValue("clean", o.Down, func(w Windowed[[]*wev]) string { return evRow(w.Value) })
				Output("out", clean, captureValues(got))
			})
			checkRows(t, got, c.want)
		})
		t.Run(c.mode+"_named", func(t *testing.T) { // test_join_window.py::test_join_window_named_<mode>
			got := runJoin(t, func(f *Dataflow, got *[]string) {
				l, r := timedSides(f, c)
				o := JoinWindowNamed("join", clock, SessionWindower(time.Second), m.insert, m.emit,
					map[string]*Stream[KV[wev]]{"left": l, "right": r})
				clean := MapValue("clean", o.Down, func(w Windowed[map[string]wev]) string {
					ns := map[string]int{}
					for k, e := range w.Value {
						ns[k] = e.N
					}
					return fmt.Sprint(ns)
				})
				Output("out", clean, captureValues(got))
			})
			checkRows(t, got, c.named)
		})
	}
}

// TestSessionMergeMeta checks that an item bridging two sessions merges
// them (unordered: in timestamp order a bridging item is always late) and
// that the Meta of the merged session lists the id merged into it.
func TestSessionMergeMeta(t *testing.T) {
	got := runJoin(t, func(f *Dataflow, got *[]string) {
		in := keyedInput(f, "inp", evS(0, "a"), evS(20, "b"), evS(21, "c"), evS(10, "bridge"))
		o := FoldWindow("fold", in, EventClock(evTime, time.Minute), SessionWindower(10*time.Second),
			func() []string { return nil }, appendEv, concat, Ordered(false))
		Output("out", MapValue("clean", o.Down, func(w Windowed[[]string]) string { return fmt.Sprint(w.ID, ":", w.Value) }), captureValues(got))
		Output("meta", MapValue("m", o.Meta, func(w Windowed[WindowMetadata]) string {
			return fmt.Sprint(w.ID, " merged ", w.Value.MergedIDs, " ", w.Value.CloseTime.Sub(w.Value.OpenTime))
		}), captureValues(got))
	})
	checkRows(t, got, strs("0:[a bridge b c]", "0 merged [1] 21s"))
}

// captureValues collects the values of a keyed stream of strings.
func captureValues(got *[]string) Sink[KV[string]] {
	return DynamicOutput[KV[string]](valuesSink{got})
}

type valuesSink struct{ got *[]string }

func (c valuesSink) Build(string, int, int) StatelessSinkPartition[KV[string]] { return c }
func (c valuesSink) WriteBatch(items []KV[string]) {
	for _, kv := range items {
		*c.got = append(*c.got, kv.Value)
	}
}
func (c valuesSink) Close() {}

func checkRows(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
