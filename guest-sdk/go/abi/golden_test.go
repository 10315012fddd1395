package abi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The tests in this file pin the wire byte for byte. The expected bytes
// are written out by hand (those of docs/abi.md's worked examples as the
// document prints them), never computed by the code under test: a change
// that alters what any guest or host writes or reads fails here.

// unhex reads bytes written as hex pairs separated by spaces.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// encoder is a body with an Encode method (every message type).
type encoder interface{ Encode(w *Writer) }

// batchBody encodes a Batch as it sits inside a message.
type batchBody struct{ Batch }

func (b *batchBody) Encode(w *Writer) { b.WriteTo(w) }

// golden is one value and its exact wire form: head (an op or status
// byte, when the example is a whole request or response) then the body.
type golden struct {
	name string
	head []byte
	val  encoder
	read func(r *Reader) any // decodes the body into a value like val
	hex  string
}

// equal compares a decoded value with the expected one as %+v prints
// them, which does not tell a nil slice from an empty one (decoders return
// empty slices that alias the frame).
func equal(a, b any) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }

// check encodes g.val after g.head and compares with g.hex, then decodes
// the body of those bytes and compares with g.val.
func (g golden) check(t *testing.T) {
	want := unhex(t, g.hex)
	var w Writer
	w.Raw(g.head)
	g.val.Encode(&w)
	if !bytes.Equal(w.B, want) {
		t.Errorf("encoded as\n% x\nwant\n% x", w.B, want)
	}
	if !bytes.HasPrefix(want, g.head) {
		t.Fatalf("expected bytes do not start with % x", g.head)
	}
	r := NewReader(want[len(g.head):])
	got := g.read(r)
	if err := r.End(); err != nil {
		t.Fatalf("decoding % x: %v", want, err)
	}
	if !equal(got, g.val) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, g.val)
	}
}

// batchOf builds a batch of keyed items from key, value pairs.
func batchOf(kv ...string) Batch {
	var b Batch
	for i := 0; i < len(kv); i += 2 {
		b.Append([]byte(kv[i]), true, []byte(kv[i+1]))
	}
	return b
}

// Readers returning a pointer to the value, like the values in the tables.
func readBatch(r *Reader) any            { b := ReadBatch(r); return &batchBody{b} }
func readErrorInfo(r *Reader) any        { v := ReadErrorInfo(r); return &v }
func readChainRequest(r *Reader) any     { v := ReadChainRequest(r); return &v }
func readChainResponse(r *Reader) any    { v := ReadChainResponse(r); return &v }
func readFlowList(r *Reader) any         { v := ReadFlowList(r); return &v }
func readBuildRequest(r *Reader) any     { v := ReadBuildRequest(r); return &v }
func readFuseRequest(r *Reader) any      { v := ReadFuseRequest(r); return &v }
func readStatefulRequest(r *Reader) any  { v := ReadStatefulRequest(r); return &v }
func readKeysRequest(r *Reader) any      { v := ReadKeysRequest(r); return &v }
func readStepRequest(r *Reader) any      { v := ReadStepRequest(r); return &v }
func readKeyedUpdates(r *Reader) any     { v := ReadKeyedUpdates(r); return &v }
func readSnapshots(r *Reader) any        { v := ReadSnapshots(r); return &v }
func readPartsRequest(r *Reader) any     { v := ReadPartsRequest(r); return &v }
func readPartList(r *Reader) any         { v := ReadPartList(r); return &v }
func readBuildPartRequest(r *Reader) any { v := ReadBuildPartRequest(r); return &v }
func readHandleRequest(r *Reader) any    { v := ReadHandleRequest(r); return &v }
func readNextBatch(r *Reader) any        { v := ReadNextBatch(r); return &v }
func readWriteRequest(r *Reader) any     { v := ReadWriteRequest(r); return &v }
func readOptBytes(r *Reader) any         { v := ReadOptBytes(r); return &v }

func readGraph(r *Reader) any {
	g, _ := DecodeGraph(r) // the error stays in r for End
	return g
}

// wcGraph is the word-count graph of docs/abi.md section 9.
func wcGraph() *Graph {
	return &Graph{Flow: "wc", Streams: 3, Steps: []Step{
		{ID: "wc.inp", Kind: KindInput, Outputs: []uint32{0}, Conn: ConnFile, Arg: "in.txt"},
		{ID: "wc.split", Kind: KindFlatMapBatch, Inputs: []uint32{0}, Outputs: []uint32{1}},
		{ID: "wc.count", Kind: KindStatefulBatch, Inputs: []uint32{1}, Outputs: []uint32{2}},
		{ID: "wc.out", Kind: KindOutput, Inputs: []uint32{2}, Conn: ConnStdout},
	}}
}

var (
	op     = func(o Op) []byte { return []byte{byte(o)} }
	status = func(s Status) []byte { return []byte{byte(s)} }
)

// TestDocExamples is every worked example of docs/abi.md sections 7 to 10
// that shows bytes, with the bytes the document prints.
func TestDocExamples(t *testing.T) {
	abhi := batchOf("ab", "hi", "c", "xyz")
	var unkeyed Batch
	unkeyed.Append(nil, false, []byte("hi"))
	for _, g := range []golden{
		{"7 ErrorInfo in a StatusError response", status(StatusError),
			&ErrorInfo{Message: "boom", Step: 2, HasKey: true, Key: "k"}, readErrorInfo,
			"01  04 62 6f 6f 6d  00  03  01  01 6b"},
		{"8 a 2-item batch", nil, &batchBody{abhi}, readBatch,
			"02 0c 03 61 62 02 68 69 02 63 03 78 79 7a"},
		{"8 run_chain request through chain 3 by worker 1 in epoch 2", op(OpRunChain),
			&ChainRequest{Chain: 3, Worker: 1, Epoch: 2, Batch: abhi}, readChainRequest,
			"04 03 01 02 02 0c 03 61 62 02 68 69 02 63 03 78 79 7a"},
		{"8 branch response", status(StatusOK),
			&ChainResponse{Outputs: []Batch{batchOf("ab", "hi"), batchOf("c", "xyz")}}, readChainResponse,
			"00 02  01 06 03 61 62 02 68 69  01 06 02 63 03 78 79 7a"},
		{"8 an unkeyed item", nil, &batchBody{unkeyed}, readBatch, "01 04 00 02 68 69"},
		{"8 an empty batch", nil, &batchBody{}, readBatch, "00 00"},
		{"9 word-count build response", status(StatusOK), wcGraph(), readGraph, `00
			02 77 63  03  04
			06 77 63 2e 69 6e 70  01  00  01 00  03  06 69 6e 2e 74 78 74
			08 77 63 2e 73 70 6c 69 74  03  01 00  01 01  00  00
			08 77 63 2e 63 6f 75 6e 74  08  01 01  01 02  00  00
			06 77 63 2e 6f 75 74  02  01 02  00  06  00`},
		{"9 fuse chain 1 with steps [1]", op(OpFuse), &FuseRequest{Chain: 1, Steps: []uint32{1}}, readFuseRequest,
			"03 01 01 01"},
		{"10.1 list_flows response", status(StatusOK),
			&FlowList{Flows: []FlowInfo{{Name: "flow"}, {Name: "get_flow", Params: []Param{{Name: "path", Type: ArgString}}}}},
			readFlowList, "00 02 04 66 6c 6f 77 00 08 67 65 74 5f 66 6c 6f 77 01 04 70 61 74 68 01"},
		{"10.2 build request get_flow('in.txt', -3)", op(OpBuild),
			&BuildRequest{Flow: "get_flow", Args: []Arg{{Type: ArgString, S: "in.txt"}, {Type: ArgInt, I: -3}}},
			readBuildRequest, "02 08 67 65 74 5f 66 6c 6f 77 02 01 06 69 6e 2e 74 78 74 02 05"},
		{"10.7 eof response of an instance without keys", status(StatusOK), &KeyedUpdates{}, readKeyedUpdates,
			"00 00 00 00"},
	} {
		t.Run(g.name, g.check)
	}
}

// sampleHex is sampleBatch (fuzz_test.go), the three shapes of item:
//
//	03 0f                          3 items, 15 bytes
//	02 6b 01 76                    key "k", value "v"
//	00 07 75 6e 6b 65 79 65 64     no key, value "unkeyed"
//	01 00                          key "", value ""
const sampleHex = "03 0f 02 6b 01 76 00 07 75 6e 6b 65 79 65 64 01 00"

// TestMessageBytes pins every message body of the wire (the values the
// fuzz targets start from), field by field.
func TestMessageBytes(t *testing.T) {
	for _, g := range []golden{
		{"FlowList", nil, &FlowList{Flows: []FlowInfo{{Name: "f"}, {Name: "g", Params: []Param{{Name: "n", Type: ArgInt}}}}},
			readFlowList, "02  01 66 00  01 67 01 01 6e 02"},
		{"BuildRequest of every argument type", nil, &BuildRequest{Flow: "f", Args: []Arg{{Type: ArgString, S: "s"},
			{Type: ArgInt, I: -1}, {Type: ArgFloat, F: 0.5}, {Type: ArgBool, B: true}}},
			readBuildRequest, "01 66 04  01 01 73  02 01  03 00 00 00 00 00 00 e0 3f  04 01"},
		{"Graph", nil, &Graph{Flow: "f", Streams: 2, Steps: []Step{
			{ID: "f.in", Kind: KindInput, Outputs: []uint32{0}, Conn: ConnFile, Arg: "x"},
			{ID: "f.m", Kind: KindFlatMapBatch, Inputs: []uint32{0}, Outputs: []uint32{1}}}},
			readGraph, "01 66 02 02  04 66 2e 69 6e 01 00 01 00 03 01 78  03 66 2e 6d 03 01 00 01 01 00 00"},
		{"FuseRequest", nil, &FuseRequest{Chain: 1, Steps: []uint32{1, 2}}, readFuseRequest, "01 02 01 02"},
		{"FuseRequest with ids over one byte", nil, &FuseRequest{Chain: 300, Steps: []uint32{128}}, readFuseRequest,
			"ac 02 01 80 01"},
		{"ChainRequest", nil, &ChainRequest{Chain: 1, Worker: 2, Epoch: 3, Batch: sampleBatch()}, readChainRequest,
			"01 02 03 " + sampleHex},
		{"ChainResponse", nil, &ChainResponse{Outputs: []Batch{sampleBatch(), {}}}, readChainResponse,
			"02 " + sampleHex + " 00 00"},
		{"StatefulRequest", nil, &StatefulRequest{Step: 1, Now: -5, Batch: sampleBatch()}, readStatefulRequest,
			"01 09 " + sampleHex},
		{"KeysRequest", nil, &KeysRequest{Step: 1, Now: 5, Keys: []string{"a", ""}}, readKeysRequest,
			"01 0a 02 01 61 00"},
		{"StepRequest", nil, &StepRequest{Step: 1, Now: 5}, readStepRequest, "01 0a"},
		{"KeyedUpdates", nil, &KeyedUpdates{Emits: sampleBatch(), Keys: []KeyState{{Key: "a", Discard: true, NotifyAt: 9},
			{Key: "b", NotifyAt: 1_700_000_000_000_000_000}}}, readKeyedUpdates,
			sampleHex + " 02  01 61 01 12  01 62 00 80 80 d0 e2 c6 bf ce 97 2f"},
		{"Snapshots", nil, &Snapshots{Step: 1, Items: []KeySnap{{Key: "a", Present: true, State: []byte("s")}, {Key: "b"}}},
			readSnapshots, "01 02  01 61 01 01 73  01 62 00 00"},
		{"PartsRequest", nil, &PartsRequest{Step: 1, Worker: 2, Workers: 3}, readPartsRequest, "01 02 03"},
		{"PartList", nil, &PartList{Parts: []string{"p0", "p1"}}, readPartList, "02 02 70 30 02 70 31"},
		{"BuildPartRequest", nil, &BuildPartRequest{Step: 1, Handle: 2, Part: "p", Worker: 1, Workers: 2,
			HasResume: true, Resume: []byte("r")}, readBuildPartRequest, "01 02 01 70 01 02 01 01 72"},
		{"BuildPartRequest of a dynamic connector", nil, &BuildPartRequest{Step: 4, Handle: 1, Worker: 0, Workers: 2},
			readBuildPartRequest, "04 01 00 00 02 00 00"},
		{"HandleRequest", nil, &HandleRequest{Step: 1, Handle: 2, Now: 3}, readHandleRequest, "01 02 06"},
		{"NextBatch", nil, &NextBatch{EOF: true, Awake: 7, Batch: sampleBatch()}, readNextBatch, "01 0e " + sampleHex},
		{"WriteRequest", nil, &WriteRequest{Step: 1, Handle: 2, Batch: sampleBatch()}, readWriteRequest, "01 02 " + sampleHex},
		{"OptBytes", nil, &OptBytes{Present: true, B: []byte("b")}, readOptBytes, "01 01 62"},
		{"OptBytes none", nil, &OptBytes{}, readOptBytes, "00 00"},
		{"ErrorInfo without a step", nil, &ErrorInfo{Message: "m", Stack: "s", Step: -1}, readErrorInfo,
			"01 6d 01 73 00 00 00"},
		{"ErrorInfo with a key", nil, &ErrorInfo{Step: 3, HasKey: true, Key: "k"}, readErrorInfo, "00 00 04 01 01 6b"},
	} {
		t.Run(g.name, g.check)
	}
}

// primitive is one value of docs/abi.md section 6 and its bytes.
type primitive struct {
	name  string
	write func(w *Writer)
	read  func(r *Reader) any
	want  any
	hex   string
}

func uvar(v uint64) primitive {
	return primitive{fmt.Sprintf("uvarint %d", v), func(w *Writer) { w.Uvarint(v) },
		func(r *Reader) any { return r.Uvarint() }, v, ""}
}

func svar(v int64) primitive {
	return primitive{fmt.Sprintf("varint %d", v), func(w *Writer) { w.Varint(v) },
		func(r *Reader) any { return r.Varint() }, v, ""}
}

func (p primitive) is(hex string) primitive { p.hex = hex; return p }

// TestPrimitives is the table of examples in docs/abi.md section 6.
func TestPrimitives(t *testing.T) {
	for _, p := range []primitive{
		uvar(0).is("00"), uvar(1).is("01"), uvar(127).is("7f"), uvar(128).is("80 01"),
		uvar(300).is("ac 02"), uvar(16384).is("80 80 01"),
		uvar(1<<64 - 1).is("ff ff ff ff ff ff ff ff ff 01"),
		svar(0).is("00"), svar(-1).is("01"), svar(1).is("02"), svar(-2).is("03"), svar(63).is("7e"),
		svar(-64).is("7f"), svar(64).is("80 01"), svar(1_700_000_000_000_000_000).is("80 80 d0 e2 c6 bf ce 97 2f"),
		{"f64 1.5", func(w *Writer) { w.Float(1.5) }, func(r *Reader) any { return r.Float() }, 1.5,
			"00 00 00 00 00 00 f8 3f"},
		{"string hi", func(w *Writer) { w.String("hi") }, func(r *Reader) any { return r.String() }, "hi", "02 68 69"},
		{"bytes empty", func(w *Writer) { w.Bytes(nil) }, func(r *Reader) any { return string(r.Bytes()) }, "", "00"},
		{"bool true", func(w *Writer) { w.Bool(true) }, func(r *Reader) any { return r.Bool() }, true, "01"},
		{"bool false", func(w *Writer) { w.Bool(false) }, func(r *Reader) any { return r.Bool() }, false, "00"},
	} {
		t.Run(p.name, func(t *testing.T) {
			want := unhex(t, p.hex)
			var w Writer
			p.write(&w)
			if !bytes.Equal(w.B, want) {
				t.Errorf("encoded as % x, want % x", w.B, want)
			}
			r := NewReader(want)
			if got := p.read(r); got != p.want || r.End() != nil {
				t.Errorf("decoded %v (%v), want %v", got, r.End(), p.want)
			}
		})
	}
}

// TestReaderLeniency pins what readers accept besides what writers write:
// non-minimal varints (up to 10 bytes), and any non-zero bool.
func TestReaderLeniency(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		read func(r *Reader) any
		want any // nil: an error
	}{
		{"uvarint 0 in two bytes", "80 00", func(r *Reader) any { return r.Uvarint() }, uint64(0)},
		{"uvarint 1 in three bytes", "81 80 00", func(r *Reader) any { return r.Uvarint() }, uint64(1)},
		{"uvarint 0 in ten bytes", "80 80 80 80 80 80 80 80 80 00", func(r *Reader) any { return r.Uvarint() }, uint64(0)},
		{"uvarint in eleven bytes", "80 80 80 80 80 80 80 80 80 80 00", func(r *Reader) any { return r.Uvarint() }, nil},
		{"uvarint over 64 bits", "ff ff ff ff ff ff ff ff ff 02", func(r *Reader) any { return r.Uvarint() }, nil},
		{"uvarint cut short", "80", func(r *Reader) any { return r.Uvarint() }, nil},
		{"varint -1 in two bytes", "81 00", func(r *Reader) any { return r.Varint() }, int64(-1)},
		{"bool 2 is true", "02", func(r *Reader) any { return r.Bool() }, true},
		{"string length in two bytes", "82 00 68 69", func(r *Reader) any { return r.String() }, "hi"},
		{"string past the end", "03 68 69", func(r *Reader) any { return r.String() }, nil},
		{"batch with a non-minimal key tag", "01 05 82 00 6b 01 76", func(r *Reader) any {
			b := ReadBatch(r)
			var it Item
			iter := b.Iter()
			iter.Next(&it)
			return fmt.Sprintf("%s=%s", it.Key, it.Value)
		}, "k=v"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(unhex(t, tc.hex))
			got := tc.read(r)
			err := r.End()
			switch {
			case tc.want == nil && err == nil:
				t.Errorf("read %v, want an error", got)
			case tc.want != nil && (err != nil || got != tc.want):
				t.Errorf("read %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

// TestCountMinimums pins the smallest encoding of each repeated element,
// which readers use to refuse a count the rest of the frame cannot hold
// before they allocate (docs/abi.md section 6): a frame of n smallest
// elements decodes, and the same frame claiming n+1 is refused at once.
func TestCountMinimums(t *testing.T) {
	tests := []struct {
		name     string
		head     string // bytes before the count
		elem     string // the smallest element
		tail     string // bytes after the elements
		read     func(r *Reader) any
		withBody bool // the count is followed by a body length (a batch)
	}{
		{"FlowList flow (name, nparams): 2", "", "00 00", "", readFlowList, false},
		{"flow parameter (name, type): 2", "01 00", "00 01", "", readFlowList, false},
		{"build argument (type, bool): 2", "00", "04 00", "", readBuildRequest, false},
		{"graph step (id, kind, nin, nout, conn, arg): 6", "00 00", "00 01 00 00 00 00", "", readGraph, false},
		{"stream or step id: 1", "00", "00", "", readFuseRequest, false},
		{"chain output batch (count, bodylen): 2", "", "00 00", "", readChainResponse, false},
		{"batch item (keytag, vlen): 2", "", "00 00", "", readBatch, true},
		{"key of notify and snapshot: 1", "00 00", "00", "", readKeysRequest, false},
		{"KeyedUpdates key (key, discard, notify_at): 3", "00 00", "00 00 00", "", readKeyedUpdates, false},
		{"snapshot item (key, present, state): 3", "00", "00 00 00", "", readSnapshots, false},
		{"partition name: 1", "", "00", "", readPartList, false},
	}
	frame := func(t *testing.T, head, elem string, count, n int, withBody bool) []byte {
		b := unhex(t, head)
		b = append(b, byte(count))
		if withBody {
			b = append(b, byte(n*len(unhex(t, elem))))
		}
		for range n {
			b = append(b, unhex(t, elem)...)
		}
		return b
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 5} {
				r := NewReader(frame(t, tc.head, tc.elem, n, n, tc.withBody))
				tc.read(r)
				if err := r.End(); err != nil {
					t.Errorf("%d smallest elements: %v", n, err)
				}
				r = NewReader(frame(t, tc.head, tc.elem, n+1, n, tc.withBody))
				tc.read(r)
				if err := r.End(); !errors.Is(err, ErrTooLong) {
					t.Errorf("count %d over %d smallest elements: %v, want ErrTooLong", n+1, n, err)
				}
			}
		})
	}
}
