// Command custom_source shows a source and a sink written in the guest: a
// partitioned source that generates numbers (each partition a range of its
// own, resumable from its position) and a dynamic sink that prints every
// number with the index of the worker that wrote it.
//
// Build it as a bxwasm guest and run it with the CLI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o custom_source.wasm .
//	bxwasm run custom_source.wasm:"get_flow(4, 10)" -w3
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("get_flow", customSource, "parts", "per_part")
}

// customSource builds the flow: parts partitions of per_part numbers each,
// printed by whichever worker reads them.
func customSource(parts, perPart int) (*bx.Dataflow, error) {
	if parts < 1 || perPart < 0 {
		return nil, fmt.Errorf("need parts >= 1 and per_part >= 0, got parts=%d per_part=%d", parts, perPart)
	}
	flow := bx.NewDataflow("custom_source")
	nums := bx.Input("numbers", flow, bx.PartitionedSource(Numbers{Parts: parts, PerPart: perPart, BatchSize: 64}))
	bx.Output("print", nums, bx.DynamicOutput(PrintSink{Out: os.Stdout}))
	return flow, nil
}

// Numbers is a FixedPartitionedSource of Parts partitions named "part-0",
// "part-1", ...; partition p yields p*PerPart up to (p+1)*PerPart-1, so
// every number in [0, Parts*PerPart) comes from exactly one partition. Its
// state is the position inside the partition's range.
type Numbers struct {
	Parts     int
	PerPart   int
	BatchSize int
}

// ListParts names the partitions. Every worker lists the same ones; the
// host gives each to exactly one worker.
func (s Numbers) ListParts() []string {
	names := make([]string, s.Parts)
	for i := range names {
		names[i] = "part-" + strconv.Itoa(i)
	}
	return names
}

// BuildPart opens a partition at the start of its range, or at the
// position a snapshot recorded.
func (s Numbers) BuildPart(_, forPart string, resume *int) bx.StatefulSourcePartition[int, int] {
	p, err := strconv.Atoi(strings.TrimPrefix(forPart, "part-"))
	if err != nil || p < 0 || p >= s.Parts {
		panic(fmt.Sprintf("unknown partition %q", forPart))
	}
	part := &NumberPart{First: p * s.PerPart, Count: s.PerPart, BatchSize: max(s.BatchSize, 1)}
	if resume != nil {
		part.Pos = min(max(*resume, 0), s.PerPart)
	}
	return part
}

// NumberPart is one open partition of Numbers.
type NumberPart struct {
	First, Count, BatchSize int
	Pos                     int // numbers already emitted
}

// NextBatch returns the next numbers of the range, and io.EOF with the
// last of them.
func (p *NumberPart) NextBatch() ([]int, error) {
	end := min(p.Pos+p.BatchSize, p.Count)
	batch := make([]int, 0, end-p.Pos)
	for ; p.Pos < end; p.Pos++ {
		batch = append(batch, p.First+p.Pos)
	}
	if p.Pos == p.Count {
		return batch, io.EOF
	}
	return batch, nil
}

// NextAwake asks to be polled again right away: numbers are always ready.
func (p *NumberPart) NextAwake() (time.Time, bool) { return time.Time{}, false }

// Snapshot returns the position to resume from.
func (p *NumberPart) Snapshot() int { return p.Pos }

// Close releases nothing: the partition holds no resources.
func (p *NumberPart) Close() {}

// PrintSink is a DynamicSink: every worker builds its own partition, which
// writes the numbers that reach it as "w<worker><TAB><number>" lines.
type PrintSink struct {
	Out io.Writer
}

// Build opens the sink on one worker.
func (s PrintSink) Build(_ string, workerIndex, _ int) bx.StatelessSinkPartition[int] {
	return &printPart{out: s.Out, prefix: "w" + strconv.Itoa(workerIndex) + "\t"}
}

type printPart struct {
	out    io.Writer
	prefix string
	buf    []byte
}

// WriteBatch writes the whole batch with one write.
func (p *printPart) WriteBatch(items []int) {
	p.buf = p.buf[:0]
	for _, n := range items {
		p.buf = append(p.buf, p.prefix...)
		p.buf = strconv.AppendInt(p.buf, int64(n), 10)
		p.buf = append(p.buf, '\n')
	}
	if _, err := p.out.Write(p.buf); err != nil {
		panic(err)
	}
}

// Close has nothing to flush: every batch is written at once.
func (p *printPart) Close() {}

func main() {}
