package main

import (
	"strconv"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func listFlows(r *abi.Reader) {
	l := abi.FlowList{Flows: []abi.FlowInfo{
		{Name: "flow"},
		{Name: "factory", Params: []abi.Param{{Name: "n", Type: abi.ArgInt}, {Name: "s", Type: abi.ArgString}}},
	}}
	l.Encode(&out)
}

// build answers with a one-step graph named after the flow and its
// arguments; the flow "fail" answers with a guest error instead.
func build(r *abi.Reader) {
	q := abi.ReadBuildRequest(r)
	if q.Flow == "fail" {
		fail(abi.ErrorInfo{Message: "no flow named fail", Stack: "build()", Step: 0, HasKey: true, Key: "k"})
		return
	}
	id := q.Flow
	for _, a := range q.Args {
		switch a.Type {
		case abi.ArgString:
			id += "." + a.S
		case abi.ArgInt:
			id += "." + strconv.FormatInt(a.I, 10)
		case abi.ArgFloat:
			id += "." + strconv.FormatFloat(a.F, 'g', -1, 64)
		case abi.ArgBool:
			id += "." + strconv.FormatBool(a.B)
		}
	}
	g := abi.Graph{Flow: q.Flow, Streams: 1, Steps: []abi.Step{
		{ID: id, Kind: abi.KindInput, Outputs: []uint32{0}, Conn: abi.ConnFile, Arg: "in.txt"},
		{ID: q.Flow + ".out", Kind: abi.KindOutput, Inputs: []uint32{0}, Conn: abi.ConnStdout},
	}}
	g.Encode(&out)
}

func fuse(r *abi.Reader) { abi.ReadFuseRequest(r) }

// runChain returns the batch as the chain's first output and an empty
// batch as its second.
func runChain(r *abi.Reader) {
	q := abi.ReadChainRequest(r)
	p := abi.ChainResponse{Outputs: []abi.Batch{q.Batch, {}}}
	p.Encode(&out)
}

// statefulBatch emits every item back and reports each distinct key once,
// with NotifyAt = Now and Discard for the key "drop".
func statefulBatch(r *abi.Reader) {
	q := abi.ReadStatefulRequest(r)
	p := abi.KeyedUpdates{Emits: q.Batch}
	seen := map[string]bool{}
	it := q.Batch.Iter()
	var item abi.Item
	for it.Next(&item) {
		k := string(item.Key)
		if !seen[k] {
			seen[k] = true
			p.Keys = append(p.Keys, abi.KeyState{Key: k, Discard: k == "drop", NotifyAt: q.Now})
		}
	}
	p.Encode(&out)
}

// keys answers OpNotify with one emitted item per key (value = key).
func keys(r *abi.Reader) {
	q := abi.ReadKeysRequest(r)
	var p abi.KeyedUpdates
	for _, k := range q.Keys {
		p.Emits.Append([]byte(k), true, []byte(k))
		p.Keys = append(p.Keys, abi.KeyState{Key: k, NotifyAt: q.Now + 1})
	}
	p.Encode(&out)
}

func eof(r *abi.Reader) {
	q := abi.ReadStepRequest(r)
	p := abi.KeyedUpdates{Keys: []abi.KeyState{{Key: "step" + strconv.Itoa(int(q.Step)), Discard: true}}}
	p.Encode(&out)
}

// snapshot answers with state = key for every key, and a tombstone for "gone".
func snapshot(r *abi.Reader) {
	q := abi.ReadKeysRequest(r)
	s := abi.Snapshots{Step: q.Step}
	for _, k := range q.Keys {
		s.Items = append(s.Items, abi.KeySnap{Key: k, Present: k != "gone", State: []byte(k)})
	}
	s.Encode(&out)
}

func restore(r *abi.Reader) { abi.ReadSnapshots(r) }

// listParts names one partition per worker of the request.
func listParts(r *abi.Reader) {
	q := abi.ReadPartsRequest(r)
	var l abi.PartList
	for i := uint32(0); i < q.Workers; i++ {
		l.Parts = append(l.Parts, "part"+strconv.Itoa(int(i)))
	}
	l.Encode(&out)
}

func buildPart(r *abi.Reader) { abi.ReadBuildPartRequest(r) }

// nextBatch returns Handle items and EOF when Handle is 0.
func nextBatch(r *abi.Reader) {
	q := abi.ReadHandleRequest(r)
	p := abi.NextBatch{EOF: q.Handle == 0, Awake: q.Now}
	for i := uint32(0); i < q.Handle; i++ {
		p.Batch.Append(nil, false, []byte(strconv.Itoa(int(i))))
	}
	p.Encode(&out)
}

func writeBatch(r *abi.Reader) { abi.ReadWriteRequest(r) }

// partSnapshot answers "none" for handle 0 and the handle's number otherwise.
func partSnapshot(r *abi.Reader) {
	q := abi.ReadHandleRequest(r)
	o := abi.OptBytes{Present: q.Handle != 0}
	if o.Present {
		o.B = []byte(strconv.Itoa(int(q.Handle)))
	}
	o.Encode(&out)
}

func closePart(r *abi.Reader) { abi.ReadHandleRequest(r) }
