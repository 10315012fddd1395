// Command conformance is the Go SDK's implementation of the conformance
// flows described in conformance/README.md; every other SDK implements the
// same flows, and conformance_test.go runs them all.
package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("wordcount", wordcount, "inp", "out")
	bx.Register("running_sum", runningSum, "inp", "out")
	bx.Register("branch_merge", branchMerge, "inp", "out")
	bx.Register("custom_source", customSource, "parts", "per_part", "out")
	bx.Register("timers", timers, "keys", "per_key", "out")
	bx.Register("discard", discard, "inp", "out")
	bx.Register("fail", fail, "inp", "out")
	bx.Register("args", args, "s", "i", "f", "b", "out")
	bx.Register("window_count", windowCount, "inp", "out")
}

// asciiSpace is what the suite calls whitespace.
const asciiSpace = " \t\n\v\f\r"

func trim(s string) string { return strings.Trim(s, asciiSpace) }

// parseInt is the suite's integer: an optional sign, then digits only.
func parseInt(s string) (int64, bool) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// lowerASCII lower-cases A-Z only.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// words splits at runs of ASCII whitespace.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < 128 && strings.ContainsRune(asciiSpace, r) })
}

func wordcount(inp, out string) *bx.Dataflow {
	flow := bx.NewDataflow("wordcount")
	lines := bx.Input("inp", flow, bx.FileSource(inp))
	spread := bx.Redistribute("spread", lines)
	lower := bx.Map("lower", spread, lowerASCII)
	ws := bx.FlatMap("split", lower, words)
	counts := bx.CountFinal("count", ws, func(w string) string { return w })
	bx.Output("out", bx.Map("format", counts, func(kv bx.KV[int]) string {
		return kv.Key + "\t" + strconv.Itoa(kv.Value)
	}), bx.FileSink(out))
	return flow
}

// keyValue splits a line at its first comma: the trimmed key (not empty)
// and the trimmed value.
func keyValue(line string) (bx.KV[string], bool) {
	k, v, ok := strings.Cut(line, ",")
	k = trim(k)
	return bx.KV[string]{Key: k, Value: trim(v)}, ok && k != ""
}

func runningSum(inp, out string) *bx.Dataflow {
	flow := bx.NewDataflow("running_sum")
	lines := bx.Input("inp", flow, bx.FileSource(inp))
	amounts := bx.FilterMap("parse", lines, func(line string) (bx.KV[int64], bool) {
		kv, ok := keyValue(line)
		n, isInt := parseInt(kv.Value)
		return bx.KV[int64]{Key: kv.Key, Value: n}, ok && isInt
	})
	totals := bx.StatefulMap("total", amounts, func(sum *int64, n int64) (*int64, int64) {
		if sum == nil {
			sum = new(int64)
		}
		*sum += n
		return sum, *sum
	})
	bx.Output("out", bx.Map("format", totals, formatKV), bx.FileSink(out))
	return flow
}

func formatKV(kv bx.KV[int64]) string { return kv.Key + "\t" + strconv.FormatInt(kv.Value, 10) }

func branchMerge(inp, out string) *bx.Dataflow {
	flow := bx.NewDataflow("branch_merge")
	lines := bx.Input("inp", flow, bx.FileSource(inp))
	nums := bx.FilterMap("parse", lines, func(line string) (int64, bool) { return parseInt(trim(line)) })
	evens, odds := bx.Branch("even_or_odd", nums, func(n int64) bool { return n%2 == 0 })
	squares := bx.Map("square", evens, func(n int64) string { return "even\t" + strconv.FormatInt(n*n, 10) })
	negated := bx.Map("negate", odds, func(n int64) string { return "odd\t" + strconv.FormatInt(-n, 10) })
	bx.Output("out", bx.Merge("merge", squares, negated), bx.FileSink(out))
	return flow
}

func customSource(parts, perPart int, out string) (*bx.Dataflow, error) {
	if parts < 1 || perPart < 1 {
		return nil, fmt.Errorf("need parts >= 1 and per_part >= 1, got parts=%d per_part=%d", parts, perPart)
	}
	flow := bx.NewDataflow("custom_source")
	nums := bx.Input("numbers", flow, bx.PartitionedSource(numbers{parts: parts, perPart: perPart}))
	bx.Output("out", bx.Map("format", nums, func(n int) string {
		return "part-" + strconv.Itoa(n/perPart) + "\t" + strconv.Itoa(n)
	}), bx.FileSink(out))
	return flow, nil
}

// numbers is the partitioned source of custom_source.
type numbers struct{ parts, perPart int }

func (s numbers) ListParts() []string {
	names := make([]string, s.parts)
	for i := range names {
		names[i] = "part-" + strconv.Itoa(i)
	}
	return names
}

func (s numbers) BuildPart(_, forPart string, resume *int) bx.StatefulSourcePartition[int, int] {
	p, err := strconv.Atoi(strings.TrimPrefix(forPart, "part-"))
	if err != nil || p < 0 || p >= s.parts {
		panic(fmt.Sprintf("unknown partition %q", forPart))
	}
	part := &numberPart{first: p * s.perPart, count: s.perPart}
	if resume != nil {
		part.pos = *resume
	}
	return part
}

type numberPart struct{ first, count, pos int }

func (p *numberPart) NextBatch() ([]int, error) {
	end := min(p.pos+7, p.count)
	var batch []int
	for ; p.pos < end; p.pos++ {
		batch = append(batch, p.first+p.pos)
	}
	if p.pos == p.count {
		return batch, io.EOF
	}
	return batch, nil
}

func (p *numberPart) NextAwake() (time.Time, bool) { return time.Time{}, false }
func (p *numberPart) Snapshot() int                { return p.pos }
func (p *numberPart) Close()                       {}

func timers(keys, perKey int, out string) *bx.Dataflow {
	flow := bx.NewDataflow("timers")
	evs := bx.Input("events", flow, bx.PartitionedSource(events{n: keys * perKey, keys: keys}))
	collected := bx.StatefulBatch("collect", evs, func(resume *collectState) bx.StatefulBatchLogic[int, string, collectState] {
		if resume == nil {
			resume = &collectState{}
		}
		return &collector{collectState: *resume}
	})
	bx.Output("out", bx.Map("format", collected, func(kv bx.KV[string]) string { return kv.Key + "\t" + kv.Value }), bx.FileSink(out))
	return flow
}

// events is the one-partition source of timers.
type events struct{ n, keys int }

func (events) ListParts() []string { return []string{"events"} }

func (s events) BuildPart(_, _ string, resume *int) bx.StatefulSourcePartition[bx.KV[int], int] {
	p := &eventPart{events: s}
	if resume != nil {
		p.pos = *resume
	}
	return p
}

type eventPart struct {
	events
	pos      int
	deadline time.Time // set when nothing is left: EOF from then on
}

func (p *eventPart) NextBatch() ([]bx.KV[int], error) {
	if p.pos == p.n {
		if p.deadline.IsZero() {
			p.deadline = time.Now().Add(2 * time.Second)
		}
		if time.Now().Before(p.deadline) {
			return nil, nil
		}
		return nil, io.EOF
	}
	end := min(p.pos+5, p.n)
	var batch []bx.KV[int]
	for ; p.pos < end; p.pos++ {
		batch = append(batch, bx.KV[int]{Key: "k" + strconv.Itoa(p.pos%p.keys), Value: p.pos})
	}
	return batch, nil
}

func (p *eventPart) NextAwake() (time.Time, bool) { return p.deadline, !p.deadline.IsZero() }
func (p *eventPart) Snapshot() int                { return p.pos }
func (p *eventPart) Close()                       {}

// collectState is what a collector snapshots.
type collectState struct {
	Values   []int `json:"values"`
	Deadline int64 `json:"deadline"` // Unix ns; 0 while no value is kept
}

// collector keeps a key's values until 20 ms after the first one.
type collector struct{ collectState }

func (c *collector) OnBatch(values []int) ([]string, bool) {
	if c.Deadline == 0 {
		c.Deadline = time.Now().Add(20 * time.Millisecond).UnixNano()
	}
	c.Values = append(c.Values, values...)
	return nil, false
}

func (c *collector) flush(suffix string) ([]string, bool) {
	out := make([]string, len(c.Values))
	for i, v := range c.Values {
		out[i] = strconv.Itoa(v) + suffix
	}
	return out, true
}

func (c *collector) OnNotify() ([]string, bool) { return c.flush("") }
func (c *collector) OnEOF() ([]string, bool)    { return c.flush("\tlate") }
func (c *collector) NotifyAt() (time.Time, bool) {
	return time.Unix(0, c.Deadline), c.Deadline != 0
}
func (c *collector) Snapshot() collectState {
	return collectState{Values: append([]int(nil), c.Values...), Deadline: c.Deadline}
}

func discard(inp, out string) *bx.Dataflow {
	flow := bx.NewDataflow("discard")
	lines := bx.Input("inp", flow, bx.FileSource(inp))
	kvs := bx.FilterMap("parse", lines, keyValue)
	sessions := bx.StatefulBatch("session", kvs, func(resume *sessionState) bx.StatefulBatchLogic[string, string, sessionState] {
		s := &session{}
		if resume != nil {
			s.sessionState = *resume
		}
		return s
	})
	bx.Output("out", bx.Map("format", sessions, func(kv bx.KV[string]) string { return kv.Key + "\t" + kv.Value }), bx.FileSink(out))
	return flow
}

// sessionState is what a session snapshots.
type sessionState struct {
	Sum   int64 `json:"sum"`
	Count int64 `json:"count"`
}

// session sums a key's integers until its value "end".
type session struct{ sessionState }

func (s *session) OnBatch(values []string) ([]string, bool) {
	var out []string
	for _, v := range values {
		if v == "end" {
			out = append(out, s.format(""))
			s.sessionState = sessionState{} // what follows starts a new session
		} else if n, ok := parseInt(v); ok {
			s.Sum += n
			s.Count++
		}
	}
	return out, values[len(values)-1] == "end"
}

func (s *session) format(suffix string) string {
	return strconv.FormatInt(s.Sum, 10) + "\t" + strconv.FormatInt(s.Count, 10) + suffix
}

func (s *session) OnNotify() ([]string, bool)  { return nil, false }
func (s *session) OnEOF() ([]string, bool)     { return []string{s.format("\topen")}, true }
func (s *session) NotifyAt() (time.Time, bool) { return time.Time{}, false }
func (s *session) Snapshot() sessionState      { return s.sessionState }

func fail(inp, out string) *bx.Dataflow {
	flow := bx.NewDataflow("fail")
	lines := bx.Input("inp", flow, bx.FileSource(inp))
	// The value keeps its key too: the mapper names the key when it fails.
	kvs := bx.FilterMap("parse", lines, func(line string) (bx.KV[bx.KV[string]], bool) {
		kv, ok := keyValue(line)
		return bx.KV[bx.KV[string]]{Key: kv.Key, Value: kv}, ok
	})
	sums := bx.StatefulMap("sum", kvs, func(sum *int64, kv bx.KV[string]) (*int64, int64) {
		if sum == nil {
			sum = new(int64)
		}
		if kv.Value == "boom" {
			panic(errors.New("boom at " + kv.Key))
		}
		if n, ok := parseInt(kv.Value); ok {
			*sum += n
		}
		return sum, *sum
	})
	bx.Output("out", bx.Map("format", sums, formatKV), bx.FileSink(out))
	return flow
}

func args(s string, i int, f float64, b bool, out string) *bx.Dataflow {
	flow := bx.NewDataflow("args")
	line := fmt.Sprintf("s=%s|i=%d|f_milli=%d|b=%t", s, i, int64(math.Round(f*1000)), b)
	bx.Output("out", bx.Input("inp", flow, bx.TestingSource([]string{line}, 1)), bx.FileSink(out))
	return flow
}

func main() {}

// event is a window_count input line: a key and a Unix time in seconds.
type event struct {
	Key string
	At  int64
}

func windowCount(inp, out string) *bx.Dataflow {
	flow := bx.NewDataflow("window_count")
	lines := bx.Input("inp", flow, bx.FileSource(inp))
	events := bx.FilterMap("parse", lines, func(line string) (event, bool) {
		k, v, ok := strings.Cut(line, ",")
		n, isInt := parseInt(trim(v))
		return event{Key: trim(k), At: n}, ok && isInt && trim(k) != ""
	})
	clock := bx.EventClock(func(e event) time.Time { return time.Unix(e.At, 0) }, time.Minute)
	counts := bx.CountWindow("count", events, clock, bx.TumblingWindower(5*time.Minute, time.Unix(0, 0)),
		func(e event) string { return e.Key })
	down := bx.Map("format_down", counts.Down, func(kv bx.KV[bx.Windowed[int]]) string {
		return fmt.Sprintf("%s\t%d\t%d", kv.Key, kv.Value.ID, kv.Value.Value)
	})
	late := bx.Map("format_late", counts.Late, func(kv bx.KV[bx.Windowed[event]]) string {
		return fmt.Sprintf("late:%s\t%d", kv.Key, kv.Value.Value.At)
	})
	bx.Output("out", bx.Merge("all", down, late), bx.FileSink(out))
	return flow
}
