// Command flows is a guest with small flows that exercise the host: plain
// runs, keyed state, timers, guest panics and factory arguments.
package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func main() {}

func init() {
	bx.Register("upper", func() *bx.Dataflow {
		flow := bx.NewDataflow("upper")
		in := bx.Input("inp", flow, bx.TestingSource([]string{"a", "b"}, 1))
		up := bx.FlatMapBatch("up", in, func(xs []string) []string {
			out := make([]string, len(xs))
			for i, x := range xs {
				out[i] = strings.ToUpper(x)
			}
			return out
		})
		bx.Output("out", up, bx.StdOutSink())
		return flow
	})
	bx.Register("lines", func(path string) *bx.Dataflow {
		flow := bx.NewDataflow("lines")
		bx.Output("out", bx.Input("inp", flow, bx.FileSource(path)), bx.StdOutSink())
		return flow
	}, "path")
	bx.Register("flood", func(n, size, sleepMillis int) *bx.Dataflow {
		flow := bx.NewDataflow("flood")
		in := bx.Input("inp", flow, bx.PartitionedSource[string, int](flood{n, size}))
		spread := bx.Redistribute("spread", in)
		bx.Output("out", spread, bx.DynamicOutput[string](slowSink{time.Duration(sleepMillis) * time.Millisecond}))
		return flow
	}, "n", "size", "sleep_millis")
	bx.Register("sum", func() *bx.Dataflow { return sumFlow("sum", bx.TestingSource([]string{"a"}, 1), "") })
	bx.Register("sum_file", func(path string) *bx.Dataflow { return sumFlow("sum", bx.FileSource(path), "") }, "path")
	bx.Register("sum_copy", func(glob, copy string) *bx.Dataflow {
		flow, in := sumFlowIn("sum", bx.DirSource(glob), "")
		bx.Output("copy", in, bx.FileSink(copy))
		return flow
	}, "glob", "copy")
	bx.Register("boom_file", func(path string) *bx.Dataflow { return sumFlow("boom", bx.FileSource(path), "state") }, "path")
	bx.Register("boom", func(where string) *bx.Dataflow { return sumFlow("boom", bx.TestingSource([]string{"a"}, 1), where) }, "where")
	bx.Register("factory", factory, "n", "name", "ratio", "on")
	bx.Register("dup", func() *bx.Dataflow {
		flow := bx.NewDataflow("dup")
		in := bx.Input("inp", flow, bx.TestingSource([]string{"a"}, 1))
		bx.Output("inp", in, bx.StdOutSink())
		return flow
	})
	bx.Register("remind", func(delayMillis, idleMillis int) *bx.Dataflow {
		flow := bx.NewDataflow("remind")
		in := bx.Input("inp", flow, bx.PartitionedSource[string, bool](once{time.Duration(idleMillis) * time.Millisecond}))
		keyed := bx.FlatMapBatch("key", in, keyAll)
		st := bx.StatefulBatch("st", keyed, func(at *int64) bx.StatefulBatchLogic[int, string, int64] {
			r := &reminder{delay: time.Duration(delayMillis) * time.Millisecond}
			if at != nil {
				r.at = time.UnixMilli(*at)
			}
			return r
		})
		bx.Output("out", values(st), bx.StdOutSink())
		return flow
	}, "delay_millis", "idle_millis")
	bx.Register("timer", func(waitMillis int) *bx.Dataflow {
		flow := bx.NewDataflow("timer")
		in := bx.Input("inp", flow, bx.DynamicInput[string](slowSource{time.Duration(waitMillis) * time.Millisecond}))
		keyed := bx.FlatMapBatch("key", in, keyAll)
		st := bx.StatefulBatch("st", keyed, func(*int) bx.StatefulBatchLogic[int, string, int] {
			return &alarm{at: time.Now().Add(20 * time.Millisecond)}
		})
		bx.Output("out", values(st), bx.StdOutSink())
		return flow
	}, "wait_millis")
}

// sumFlow keys strings "k:n" by k and sums n per key, emitting "k=sum" at
// EOF. where names a place to panic: "map" (on item "bad:0"), "state" (for
// key "bad").
func sumFlow(id string, src bx.Source[string], where string) *bx.Dataflow {
	flow, _ := sumFlowIn(id, src, where)
	return flow
}

// sumFlowIn is sumFlow and its input stream, for flows that add steps.
func sumFlowIn(id string, src bx.Source[string], where string) (*bx.Dataflow, *bx.Stream[string]) {
	flow := bx.NewDataflow(id)
	in := bx.Input("inp", flow, src)
	keyed := bx.FlatMapBatch("parse", in, func(xs []string) []bx.KV[int] {
		out := make([]bx.KV[int], 0, len(xs))
		for _, x := range xs {
			if where == "map" && x == "bad:0" {
				panic("cannot parse " + x)
			}
			var n int
			k, v, _ := strings.Cut(x, ":")
			fmt.Sscan(v, &n)
			out = append(out, bx.KV[int]{Key: k, Value: n})
		}
		return out
	})
	sums := bx.StatefulBatch("sum", keyed, func(resume *int) bx.StatefulBatchLogic[int, string, int] {
		s := &summer{fail: where == "state"}
		if resume != nil {
			s.sum = *resume
		}
		return s
	})
	bx.Output("out", values(sums), bx.StdOutSink())
	return flow, in
}

func values(s *bx.Stream[bx.KV[string]]) *bx.Stream[string] {
	return bx.FlatMapBatch("values", s, func(kvs []bx.KV[string]) []string {
		out := make([]string, len(kvs))
		for i, kv := range kvs {
			out[i] = kv.Key + "=" + kv.Value
		}
		return out
	})
}

func keyAll(xs []string) []bx.KV[int] {
	out := make([]bx.KV[int], len(xs))
	for i, x := range xs {
		out[i] = bx.KV[int]{Key: x, Value: 1}
	}
	return out
}

type summer struct {
	sum  int
	fail bool
	key  bool
}

func (s *summer) OnBatch(vs []int) ([]string, bool) {
	for _, v := range vs {
		if s.fail && v < 0 {
			panic("negative value")
		}
		s.sum += v
	}
	return nil, false
}
func (s *summer) OnNotify() ([]string, bool)  { return nil, false }
func (s *summer) OnEOF() ([]string, bool)     { return []string{fmt.Sprint(s.sum)}, true }
func (s *summer) NotifyAt() (time.Time, bool) { return time.Time{}, false }
func (s *summer) Snapshot() int               { return s.sum }

// alarm emits "notified" when its timer fires, and "eof" if the input ends
// first.
type alarm struct{ at time.Time }

func (a *alarm) OnBatch([]int) ([]string, bool) { return nil, false }
func (a *alarm) OnNotify() ([]string, bool)     { return []string{"notified"}, true }
func (a *alarm) OnEOF() ([]string, bool)        { return []string{"eof"}, true }
func (a *alarm) NotifyAt() (time.Time, bool)    { return a.at, true }
func (a *alarm) Snapshot() int                  { return 0 }

func factory(n int, name string, ratio float64, on bool) (*bx.Dataflow, error) {
	if n < 0 {
		return nil, errors.New("n must not be negative")
	}
	flow := bx.NewDataflow("factory")
	item := fmt.Sprintf("%d %s %g %t", n, name, ratio, on)
	in := bx.Input("inp", flow, bx.TestingSource([]string{item}, 1))
	bx.Output("out", in, bx.StdOutSink())
	return flow, nil
}

// slowSource emits "k" on worker 0, then nothing until wait has passed.
type slowSource struct{ wait time.Duration }

func (s slowSource) Build(_ string, worker, _ int) bx.StatelessSourcePartition[string] {
	return &slowPart{first: worker == 0, end: time.Now().Add(s.wait)}
}

type slowPart struct {
	first bool
	end   time.Time
}

func (p *slowPart) NextBatch() ([]string, error) {
	if p.first {
		p.first = false
		return []string{"k"}, nil
	}
	if time.Now().After(p.end) {
		return nil, io.EOF
	}
	return nil, nil
}
func (p *slowPart) NextAwake() (time.Time, bool) { return time.Now().Add(5 * time.Millisecond), true }
func (p *slowPart) Close()                       {}

// flood is a source of n items of size bytes in one partition, made as they
// are read, 256 per batch.
type flood struct{ n, size int }

func (f flood) ListParts() []string { return []string{"flood"} }
func (f flood) BuildPart(_, _ string, resume *int) bx.StatefulSourcePartition[string, int] {
	return &floodPart{left: f.n, item: strings.Repeat("x", f.size)}
}

type floodPart struct {
	left int
	item string
}

func (p *floodPart) NextBatch() ([]string, error) {
	n := min(p.left, 256)
	p.left -= n
	batch := make([]string, n)
	for i := range batch {
		batch[i] = p.item
	}
	if p.left == 0 {
		return batch, io.EOF
	}
	return batch, nil
}
func (p *floodPart) NextAwake() (time.Time, bool) { return time.Time{}, false }
func (p *floodPart) Snapshot() int                { return p.left }
func (p *floodPart) Close()                       {}

// slowSink sleeps for every batch it writes on workers other than 0, which
// reads the source: a fast producer and a slow consumer. Each worker's part
// prints how many items it received when it closes.
type slowSink struct{ sleep time.Duration }

func (s slowSink) Build(_ string, worker, _ int) bx.StatelessSinkPartition[string] {
	if worker == 0 {
		return &countingPart{}
	}
	return &countingPart{sleep: s.sleep}
}

type countingPart struct {
	sleep time.Duration
	n     int
}

func (p *countingPart) WriteBatch(items []string) {
	p.n += len(items)
	time.Sleep(p.sleep)
}
func (p *countingPart) Close() { fmt.Printf("received %d\n", p.n) }

// once is a source of one partition that emits "k" once (not again after a
// resume), then idles for idle before it ends.
type once struct{ idle time.Duration }

func (o once) ListParts() []string { return []string{"once"} }
func (o once) BuildPart(_, _ string, resume *bool) bx.StatefulSourcePartition[string, bool] {
	return &oncePart{sent: resume != nil && *resume, end: time.Now().Add(o.idle)}
}

type oncePart struct {
	sent bool
	end  time.Time
}

func (p *oncePart) NextBatch() ([]string, error) {
	if !p.sent {
		p.sent = true
		return []string{"k"}, nil
	}
	if time.Now().After(p.end) {
		return nil, io.EOF
	}
	return nil, nil
}
func (p *oncePart) NextAwake() (time.Time, bool) { return time.Now().Add(10 * time.Millisecond), true }
func (p *oncePart) Snapshot() bool               { return p.sent }
func (p *oncePart) Close()                       {}

// reminder sets a timer delay after its key's first item and emits
// "notified" when it fires, or "eof" if the input ends first.
type reminder struct {
	delay time.Duration
	at    time.Time
}

func (r *reminder) OnBatch([]int) ([]string, bool) {
	if r.at.IsZero() {
		r.at = time.Now().Add(r.delay)
	}
	return nil, false
}
func (r *reminder) OnNotify() ([]string, bool)  { return []string{"notified"}, true }
func (r *reminder) OnEOF() ([]string, bool)     { return []string{"eof"}, true }
func (r *reminder) NotifyAt() (time.Time, bool) { return r.at, !r.at.IsZero() }
func (r *reminder) Snapshot() int64             { return r.at.UnixMilli() }
