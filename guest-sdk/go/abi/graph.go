package abi

import "fmt"

// Graph is a built flow as the guest describes it (the OpBuild response):
// core steps in the order the flow declared them, wired by stream ids.
//
//	flow string | streams uvarint | nsteps uvarint | steps
//	step: id string | kind byte | nin uvarint | in uvarint... |
//	      nout uvarint | out uvarint... | conn byte | arg string
type Graph struct {
	Flow    string // the flow's id, the first part of every step id
	Streams int    // stream ids are 0..Streams-1
	Steps   []Step
}

// Step is one core operator of a built flow.
type Step struct {
	ID      string // hierarchical, e.g. "wordcount.split.flat_map_batch"
	Kind    StepKind
	Inputs  []uint32 // stream ids read, in port order
	Outputs []uint32 // stream ids written, in port order (branch: true, false)
	Conn    ConnKind // input and output steps only; 0 otherwise
	Arg     string   // the connector's argument (a path, a glob)
}

// Encode appends the graph to w.
func (g *Graph) Encode(w *Writer) {
	w.String(g.Flow)
	w.Uvarint(uint64(g.Streams))
	w.Uvarint(uint64(len(g.Steps)))
	for i := range g.Steps {
		s := &g.Steps[i]
		w.String(s.ID)
		w.Byte(byte(s.Kind))
		writeIDs(w, s.Inputs)
		writeIDs(w, s.Outputs)
		w.Byte(byte(s.Conn))
		w.String(s.Arg)
	}
}

// DecodeGraph reads a graph. It checks the encoding only; internal/plan
// checks that the graph makes sense.
func DecodeGraph(r *Reader) (*Graph, error) {
	g := &Graph{Flow: r.String(), Streams: int(r.Uvarint())}
	n := r.Count(6)
	g.Steps = make([]Step, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		s := Step{ID: r.String(), Kind: StepKind(r.Byte())}
		s.Inputs = readIDs(r)
		s.Outputs = readIDs(r)
		s.Conn = ConnKind(r.Byte())
		s.Arg = r.String()
		g.Steps = append(g.Steps, s)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("abi: decoding flow graph: %w", err)
	}
	return g, nil
}

func writeIDs(w *Writer, ids []uint32) {
	w.Uvarint(uint64(len(ids)))
	for _, id := range ids {
		w.Uvarint(uint64(id))
	}
}

func readIDs(r *Reader) []uint32 {
	n := r.Count(1)
	ids := make([]uint32, 0, n)
	for i := 0; i < n; i++ {
		ids = append(ids, uint32(r.Uvarint()))
	}
	return ids
}
