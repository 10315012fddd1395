package abi

import (
	"bytes"
	"testing"
)

// decoder reads one message kind and returns how to encode what it read,
// or nil when it failed.
type decoder struct {
	name  string
	read  func(r *Reader) func(w *Writer)
	seeds []func(w *Writer)
}

// decoders lists every Read function of the wire with sample values.
var decoders = []decoder{
	{"FlowList", func(r *Reader) func(*Writer) { v := ReadFlowList(r); return v.Encode },
		seeds((&FlowList{Flows: []FlowInfo{{Name: "f"}, {Name: "g", Params: []Param{{Name: "n", Type: ArgInt}}}}}).Encode)},
	{"BuildRequest", func(r *Reader) func(*Writer) { v := ReadBuildRequest(r); return v.Encode },
		seeds((&BuildRequest{Flow: "f", Args: []Arg{{Type: ArgString, S: "s"}, {Type: ArgInt, I: -1},
			{Type: ArgFloat, F: 0.5}, {Type: ArgBool, B: true}}}).Encode)},
	{"Graph", func(r *Reader) func(*Writer) {
		g, err := DecodeGraph(r)
		if err != nil {
			return nil
		}
		return g.Encode
	}, seeds((&Graph{Flow: "f", Streams: 2, Steps: []Step{
		{ID: "f.in", Kind: KindInput, Outputs: []uint32{0}, Conn: ConnFile, Arg: "x"},
		{ID: "f.m", Kind: KindFlatMapBatch, Inputs: []uint32{0}, Outputs: []uint32{1}}}}).Encode)},
	{"FuseRequest", func(r *Reader) func(*Writer) { v := ReadFuseRequest(r); return v.Encode },
		seeds((&FuseRequest{Chain: 1, Steps: []uint32{1, 2}}).Encode)},
	{"ChainRequest", func(r *Reader) func(*Writer) { v := ReadChainRequest(r); return v.Encode },
		seeds((&ChainRequest{Chain: 1, Worker: 2, Epoch: 3, Batch: sampleBatch()}).Encode)},
	{"ChainResponse", func(r *Reader) func(*Writer) { v := ReadChainResponse(r); return v.Encode },
		seeds((&ChainResponse{Outputs: []Batch{sampleBatch(), {}}}).Encode)},
	{"StatefulRequest", func(r *Reader) func(*Writer) { v := ReadStatefulRequest(r); return v.Encode },
		seeds((&StatefulRequest{Step: 1, Now: -5, Batch: sampleBatch()}).Encode)},
	{"KeysRequest", func(r *Reader) func(*Writer) { v := ReadKeysRequest(r); return v.Encode },
		seeds((&KeysRequest{Step: 1, Now: 5, Keys: []string{"a", ""}}).Encode)},
	{"StepRequest", func(r *Reader) func(*Writer) { v := ReadStepRequest(r); return v.Encode },
		seeds((&StepRequest{Step: 1, Now: 5}).Encode)},
	{"KeyedUpdates", func(r *Reader) func(*Writer) { v := ReadKeyedUpdates(r); return v.Encode },
		seeds((&KeyedUpdates{Emits: sampleBatch(), Keys: []KeyState{{Key: "a", Discard: true, NotifyAt: 9}}}).Encode)},
	{"Snapshots", func(r *Reader) func(*Writer) { v := ReadSnapshots(r); return v.Encode },
		seeds((&Snapshots{Step: 1, Items: []KeySnap{{Key: "a", Present: true, State: []byte("s")}, {Key: "b"}}}).Encode)},
	{"PartsRequest", func(r *Reader) func(*Writer) { v := ReadPartsRequest(r); return v.Encode },
		seeds((&PartsRequest{Step: 1, Worker: 2, Workers: 3}).Encode)},
	{"PartList", func(r *Reader) func(*Writer) { v := ReadPartList(r); return v.Encode },
		seeds((&PartList{Parts: []string{"p0", "p1"}}).Encode)},
	{"BuildPartRequest", func(r *Reader) func(*Writer) { v := ReadBuildPartRequest(r); return v.Encode },
		seeds((&BuildPartRequest{Step: 1, Handle: 2, Part: "p", Worker: 1, Workers: 2, HasResume: true, Resume: []byte("r")}).Encode)},
	{"HandleRequest", func(r *Reader) func(*Writer) { v := ReadHandleRequest(r); return v.Encode },
		seeds((&HandleRequest{Step: 1, Handle: 2, Now: 3}).Encode)},
	{"NextBatch", func(r *Reader) func(*Writer) { v := ReadNextBatch(r); return v.Encode },
		seeds((&NextBatch{EOF: true, Awake: 7, Batch: sampleBatch()}).Encode)},
	{"WriteRequest", func(r *Reader) func(*Writer) { v := ReadWriteRequest(r); return v.Encode },
		seeds((&WriteRequest{Step: 1, Handle: 2, Batch: sampleBatch()}).Encode)},
	{"OptBytes", func(r *Reader) func(*Writer) { v := ReadOptBytes(r); return v.Encode },
		seeds((&OptBytes{Present: true, B: []byte("b")}).Encode)},
	{"ErrorInfo", func(r *Reader) func(*Writer) { v := ReadErrorInfo(r); return v.Encode },
		seeds((&ErrorInfo{Message: "m", Stack: "s", Step: -1}).Encode, (&ErrorInfo{Step: 3, HasKey: true, Key: "k"}).Encode)},
}

func seeds(fs ...func(w *Writer)) []func(w *Writer) { return fs }

func sampleBatch() Batch {
	var b Batch
	b.Append([]byte("k"), true, []byte("v"))
	b.Append(nil, false, []byte("unkeyed"))
	b.Append([]byte{}, true, nil)
	return b
}

// FuzzDecoders feeds arbitrary frames to every decoder (the first byte
// picks one). Decoding must never panic, and whatever decodes must
// re-encode to bytes that decode to the same value.
func FuzzDecoders(f *testing.F) {
	for i, d := range decoders {
		for _, seed := range d.seeds {
			var w Writer
			w.Byte(byte(i))
			seed(&w)
			f.Add(w.B)
			f.Add(w.B[:len(w.B)/2])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		d := decoders[int(data[0])%len(decoders)]
		r := NewReader(data[1:])
		enc := d.read(r)
		if r.End() != nil || enc == nil {
			return
		}
		var w1, w2 Writer
		enc(&w1)
		r2 := NewReader(w1.B)
		enc2 := d.read(r2)
		if err := r2.End(); err != nil || enc2 == nil {
			t.Fatalf("%s: re-encoded value does not decode: %v", d.name, err)
		}
		enc2(&w2)
		if !bytes.Equal(w1.B, w2.B) {
			t.Fatalf("%s: encoding is not stable:\n%x\n%x", d.name, w1.B, w2.B)
		}
	})
}

// FuzzBatchCheck feeds arbitrary bodies and counts to Batch.Check and the
// iterator. They must never panic, must agree, and a batch that checks
// must copy item by item into an identical batch.
func FuzzBatchCheck(f *testing.F) {
	b := sampleBatch()
	f.Add(b.N, b.Body)
	f.Add(b.N+1, b.Body)
	f.Add(1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(-1, []byte{})
	f.Fuzz(func(t *testing.T, n int, body []byte) {
		b := Batch{N: n, Body: body}
		err := b.Check()
		var copied Batch
		it := b.Iter()
		var item Item
		for it.Next(&item) {
			copied.AppendRaw(item.Raw)
		}
		if (err == nil) != (it.Err() == nil) {
			t.Fatalf("Check says %v, iterator says %v", err, it.Err())
		}
		if err != nil {
			return
		}
		if copied.N != b.N || !bytes.Equal(copied.Body, b.Body) {
			t.Fatalf("copy of a valid batch differs: %d %x vs %d %x", copied.N, copied.Body, b.N, b.Body)
		}
	})
}
