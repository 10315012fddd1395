package bx

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// logSource has partitions "p0" and "p1"; each emits "<part>-<n>" three
// times, sleeping 1s between batches; "bad" parts fail.
type logSource struct{ log *[]string }

func (s logSource) ListParts() []string { return []string{"p0", "p1"} }

func (s logSource) BuildPart(stepID, part string, resume *offset) StatefulSourcePartition[string, offset] {
	p := &logPart{src: s, part: part}
	if resume != nil {
		p.off = *resume
	}
	*s.log = append(*s.log, fmt.Sprintf("build %s %s %+v", stepID, part, p.off))
	return p
}

type offset struct{ N int }

type logPart struct {
	src  logSource
	part string
	off  offset
}

var errBroken = errors.New("broken pipe")

func (p *logPart) NextBatch() ([]string, error) {
	if p.part == "bad" {
		return nil, errBroken
	}
	p.off.N++
	item := fmt.Sprintf("%s-%d", p.part, p.off.N)
	if p.off.N == 3 {
		return []string{item}, io.EOF
	}
	return []string{item}, nil
}

func (p *logPart) NextAwake() (time.Time, bool) { return time.Unix(100+int64(p.off.N), 0), true }
func (p *logPart) Snapshot() offset             { return p.off }
func (p *logPart) Close()                       { *p.src.log = append(*p.src.log, "close "+p.part) }

// dynSource emits one batch naming its worker, then ends.
type dynSource struct{}

func (dynSource) Build(stepID string, worker, workers int) StatelessSourcePartition[string] {
	return &dynPart{item: fmt.Sprintf("%s %d/%d", stepID, worker, workers)}
}

type dynPart struct{ item string }

func (p *dynPart) NextBatch() ([]string, error) { return []string{p.item}, io.EOF }
func (p *dynPart) NextAwake() (time.Time, bool) { return time.Time{}, false }
func (p *dynPart) Close()                       {}

// logSink records what its partitions are given.
type logSink struct{ log *[]string }

func (s logSink) ListParts() []string { return []string{"a", "b", "c"} }

func (s logSink) BuildPart(stepID, part string, resume *int) StatefulSinkPartition[float64, int] {
	p := &logSinkPart{sink: s, part: part}
	if resume != nil {
		p.n = *resume
	}
	return p
}

type logSinkPart struct {
	sink logSink
	part string
	n    int
}

func (p *logSinkPart) WriteBatch(vs []float64) {
	if len(vs) > 0 && vs[0] < 0 {
		panic("negative")
	}
	p.n += len(vs)
	*p.sink.log = append(*p.sink.log, fmt.Sprintf("%s %v", p.part, vs))
}
func (p *logSinkPart) Snapshot() int { return p.n }
func (p *logSinkPart) Close()        { *p.sink.log = append(*p.sink.log, "close "+p.part) }

func partsFlow(log *[]string, dyn *[]string) func() *Dataflow {
	return func() *Dataflow {
		f := NewDataflow("p")
		a := Input("logs", f, PartitionedSource[string, offset](logSource{log}))
		b := Input("dyn", f, DynamicInput[string](dynSource{}))
		c := Input("test", f, TestingSource([]string{"a", "b", "c", "d", "e"}, 2))
		Output("file", Merge("all", a, b, c), FileSink("out"))
		Output("sink", Input("nums", f, TestingSource([]KV[float64]{{"k", 1}}, 1)), PartitionedSink[float64, int](logSink{log}))
		Output("dynout", Input("dynin", f, FileSource("in")), captureSink(dyn))
		return f
	}
}

func listParts(t *testing.T, step uint32) []string {
	t.Helper()
	r := call(t, abi.OpListParts, &abi.PartsRequest{Step: step, Worker: 1, Workers: 2})
	l := abi.ReadPartList(r)
	checkEnd(t, r)
	return l.Parts
}

func nextBatch(t *testing.T, step, handle uint32) (items []string, eof bool, awake int64) {
	t.Helper()
	r := call(t, abi.OpNextBatch, &abi.HandleRequest{Step: step, Handle: handle})
	nb := abi.ReadNextBatch(r)
	checkEnd(t, r)
	return valuesOf[string](t, nb.Batch), nb.EOF, nb.Awake
}

func partSnapshot(t *testing.T, step, handle uint32) abi.OptBytes {
	t.Helper()
	r := call(t, abi.OpPartSnapshot, &abi.HandleRequest{Step: step, Handle: handle})
	o := abi.ReadOptBytes(r)
	checkEnd(t, r)
	return o
}

func TestPartitionedSource(t *testing.T) {
	var log []string
	g := buildFlow(t, partsFlow(&log, nil))
	logs := stepIndex(t, g, "p.logs")
	check(t, "parts", listParts(t, logs), []string{"p0", "p1"})
	call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: logs, Handle: 7, Part: "p1"})
	call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: logs, Handle: 8, Part: "p0", HasResume: true, Resume: []byte(`{"N":1}`)})
	check(t, "builds", log, []string{"build p.logs p1 {N:0}", "build p.logs p0 {N:1}"})

	items, eof, awake := nextBatch(t, logs, 7)
	check(t, "first batch", []any{items, eof, awake}, []any{[]string{"p1-1"}, false, int64(101e9)})
	check(t, "snapshot", partSnapshot(t, logs, 7), abi.OptBytes{Present: true, B: []byte(`{"N":1}`)})
	items, eof, awake = nextBatch(t, logs, 8)
	check(t, "resumed", []any{items, eof, awake}, []any{[]string{"p0-2"}, false, int64(102e9)})
	items, eof, awake = nextBatch(t, logs, 8)
	check(t, "last with eof", []any{items, eof, awake}, []any{[]string{"p0-3"}, true, int64(0)})

	call(t, abi.OpClosePart, &abi.HandleRequest{Step: logs, Handle: 8})
	check(t, "closed", log[len(log)-1], "close p0")
	e := callErr(t, abi.OpNextBatch, &abi.HandleRequest{Step: logs, Handle: 8})
	check(t, "after close", e.Message, "bx: bad partition handle: step p.logs has no partition with handle 8")
}

func TestTestingSource(t *testing.T) {
	tests := []struct {
		name    string
		resume  []byte
		batches [][]string
		snaps   []string
	}{
		{"from start", nil, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, []string{"\x04", "\x08", "\x0a"}},
		{"resumed", []byte{6}, [][]string{{"d", "e"}}, []string{"\x0a"}},
		{"resumed at end", []byte{10}, [][]string{{}}, []string{"\x0a"}},
		{"resumed past end", []byte{20}, [][]string{{}}, []string{"\x0a"}},
	}
	g := buildFlow(t, partsFlow(new([]string), nil))
	st := stepIndex(t, g, "p.test")
	check(t, "parts", listParts(t, st), []string{"iterable"})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := uint32(100 + i)
			call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: st, Handle: h, Part: "iterable", HasResume: tt.resume != nil, Resume: tt.resume})
			for j, want := range tt.batches {
				items, eof, awake := nextBatch(t, st, h)
				check(t, "batch", items, want)
				check(t, "eof", eof, j == len(tt.batches)-1)
				check(t, "awake", awake, int64(0))
				check(t, "snapshot", string(partSnapshot(t, st, h).B), tt.snaps[j])
			}
		})
	}
}

func TestDynamicSource(t *testing.T) {
	g := buildFlow(t, partsFlow(new([]string), nil))
	dyn := stepIndex(t, g, "p.dyn")
	check(t, "no parts", listParts(t, dyn), []string(nil))
	call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: dyn, Handle: 1, Worker: 2, Workers: 3})
	items, eof, _ := nextBatch(t, dyn, 1)
	check(t, "batch", items, []string{"p.dyn 2/3"})
	check(t, "eof", eof, true)
	check(t, "no snapshot", partSnapshot(t, dyn, 1), abi.OptBytes{B: []byte{}})
}

func TestPartitionedSink(t *testing.T) {
	var log []string
	g := buildFlow(t, partsFlow(&log, nil))
	sink := stepIndex(t, g, "p.sink")
	check(t, "parts", listParts(t, sink), []string{"a", "b", "c"})
	call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: sink, Handle: 1, Part: "b", HasResume: true, Resume: []byte{10}})
	call(t, abi.OpWriteBatch, &abi.WriteRequest{Step: sink, Handle: 1, Batch: batchOf(KV[float64]{"x", 1.5}, KV[float64]{"y", 2})})
	check(t, "written", log, []string{"b [1.5 2]"})
	check(t, "snapshot", partSnapshot(t, sink, 1), abi.OptBytes{Present: true, B: []byte{14}})
	e := callErr(t, abi.OpWriteBatch, &abi.WriteRequest{Step: sink, Handle: 1, Batch: batchOf(KV[float64]{"x", -1})})
	check(t, "panic", e.Message, `error calling write_batch in step p.sink for partition "b": negative`)
	check(t, "panic step", e.Step, int(sink))
	call(t, abi.OpClosePart, &abi.HandleRequest{Step: sink, Handle: 1})
	check(t, "closed", log[len(log)-1], "close b")
}

func TestDynamicSink(t *testing.T) {
	var got []string
	g := buildFlow(t, partsFlow(new([]string), &got))
	out := stepIndex(t, g, "p.dynout")
	call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: out, Handle: 4})
	call(t, abi.OpWriteBatch, &abi.WriteRequest{Step: out, Handle: 4, Batch: batchOf("x", "y")})
	call(t, abi.OpWriteBatch, &abi.WriteRequest{Step: out, Handle: 4, Batch: batchOf("z")})
	check(t, "written", got, []string{"x", "y", "z"})
}

func TestPartErrors(t *testing.T) {
	g := buildFlow(t, partsFlow(new([]string), nil))
	logs, file, dynin, sink := stepIndex(t, g, "p.logs"), stepIndex(t, g, "p.file"), stepIndex(t, g, "p.dynin"), stepIndex(t, g, "p.sink")
	call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: logs, Handle: 1, Part: "p0"})
	call(t, abi.OpBuildPart, &abi.BuildPartRequest{Step: logs, Handle: 2, Part: "bad"})
	tests := []struct {
		name string
		op   abi.Op
		body encoder
		want string
		step int
	}{
		{"handle in use", abi.OpBuildPart, &abi.BuildPartRequest{Step: logs, Handle: 1, Part: "p1"}, "handle 1 of step p.logs is already built", -1},
		{"unknown handle", abi.OpPartSnapshot, &abi.HandleRequest{Step: logs, Handle: 9}, "has no partition with handle 9", -1},
		{"source error", abi.OpNextBatch, &abi.HandleRequest{Step: logs, Handle: 2}, `next_batch of partition "bad" in step p.logs: broken pipe`, int(logs)},
		{"bad resume", abi.OpBuildPart, &abi.BuildPartRequest{Step: logs, Handle: 3, Part: "p0", HasResume: true, Resume: []byte("[")},
			`decoding the resume state of partition "p0" in step p.logs`, -1},
		{"host sink", abi.OpListParts, &abi.PartsRequest{Step: file}, "bx: the host runs this connector: step p.file uses the host's file connector", -1},
		{"host source", abi.OpBuildPart, &abi.BuildPartRequest{Step: dynin}, "step p.dynin uses the host's file connector", -1},
		{"next batch of a sink", abi.OpNextBatch, &abi.HandleRequest{Step: sink}, "step 6 (p.sink) is a output step, not input", -1},
		{"write to a source", abi.OpWriteBatch, &abi.WriteRequest{Step: logs}, "step 0 (p.logs) is a input step, not output", -1},
		{"list parts of merge", abi.OpListParts, &abi.PartsRequest{Step: 3}, "step 3 (p.all) is a merge step, not input or output", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := callErr(t, tt.op, tt.body)
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not contain %q", e.Message, tt.want)
			}
			if e.Step != tt.step {
				t.Errorf("step %d, want %d", e.Step, tt.step)
			}
		})
	}
}

func TestSimulatedParts(t *testing.T) {
	var log, dyn []string
	out := runFlow(t, partsFlow(&log, &dyn), simOpts{start: time.Unix(100, 0), lines: map[string][]string{"p.dynin": {"l1", "l2"}}})
	got := valuesOf[string](t, out["p.file"])
	want := []string{"p0-1", "p1-1", "p.dyn 0/1", "a", "b", "p0-2", "p1-2", "c", "d", "p0-3", "p1-3", "e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file got %q\nwant %q", got, want)
	}
	check(t, "dynamic sink", dyn, []string{"l1", "l2"})
}
