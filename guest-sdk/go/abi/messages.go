package abi

// This file holds the bodies of requests and responses. Each has Encode
// (append to a Writer) and a Read function (decode from a Reader; check
// Reader.Err afterwards). The op each belongs to is documented on Op.

// Param is one parameter of a flow factory.
type Param struct {
	Name string
	Type ArgType
}

// FlowInfo describes a flow the module registered; a flow without Params
// is a plain flow, one with Params a factory.
type FlowInfo struct {
	Name   string
	Params []Param
}

// FlowList is the OpListFlows response.
type FlowList struct{ Flows []FlowInfo }

// Encode appends l to w.
func (l *FlowList) Encode(w *Writer) {
	w.Uvarint(uint64(len(l.Flows)))
	for _, f := range l.Flows {
		w.String(f.Name)
		w.Uvarint(uint64(len(f.Params)))
		for _, p := range f.Params {
			w.String(p.Name)
			w.Byte(byte(p.Type))
		}
	}
}

// ReadFlowList decodes a FlowList.
func ReadFlowList(r *Reader) FlowList {
	var l FlowList
	n := r.Count(2)
	for i := 0; i < n && r.Err() == nil; i++ {
		f := FlowInfo{Name: r.String()}
		np := r.Count(2)
		for j := 0; j < np; j++ {
			f.Params = append(f.Params, Param{Name: r.String(), Type: ArgType(r.Byte())})
		}
		l.Flows = append(l.Flows, f)
	}
	return l
}

// Arg is one literal argument of a flow factory call.
type Arg struct {
	Type ArgType
	S    string
	I    int64
	F    float64
	B    bool
}

// BuildRequest is the OpBuild body: which flow, with which arguments.
type BuildRequest struct {
	Flow string
	Args []Arg
}

// Encode appends q to w.
func (q *BuildRequest) Encode(w *Writer) {
	w.String(q.Flow)
	w.Uvarint(uint64(len(q.Args)))
	for _, a := range q.Args {
		w.Byte(byte(a.Type))
		switch a.Type {
		case ArgString:
			w.String(a.S)
		case ArgInt:
			w.Varint(a.I)
		case ArgFloat:
			w.Float(a.F)
		case ArgBool:
			w.Bool(a.B)
		}
	}
}

// ReadBuildRequest decodes a BuildRequest.
func ReadBuildRequest(r *Reader) BuildRequest {
	q := BuildRequest{Flow: r.String()}
	n := r.Count(2)
	for i := 0; i < n && r.Err() == nil; i++ {
		a := Arg{Type: ArgType(r.Byte())}
		switch a.Type {
		case ArgString:
			a.S = r.String()
		case ArgInt:
			a.I = r.Varint()
		case ArgFloat:
			a.F = r.Float()
		case ArgBool:
			a.B = r.Bool()
		default:
			r.fail(errArgType)
		}
		q.Args = append(q.Args, a)
	}
	return q
}

// FuseRequest is the OpFuse body: chain id, then the indices (into
// Graph.Steps) of the stateless steps it runs, upstream first. Each step's
// single output feeds the next step's single input; the last step's
// outputs are the chain's outputs.
type FuseRequest struct {
	Chain uint32
	Steps []uint32
}

// Encode appends q to w.
func (q *FuseRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Chain))
	writeIDs(w, q.Steps)
}

// ReadFuseRequest decodes a FuseRequest.
func ReadFuseRequest(r *Reader) FuseRequest {
	return FuseRequest{Chain: uint32(r.Uvarint()), Steps: readIDs(r)}
}

// ChainRequest is the OpRunChain body.
type ChainRequest struct {
	Chain  uint32
	Worker uint32 // global worker index, passed to inspectors
	Epoch  uint64
	Batch  Batch
}

// Encode appends q to w.
func (q *ChainRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Chain))
	w.Uvarint(uint64(q.Worker))
	w.Uvarint(q.Epoch)
	q.Batch.WriteTo(w)
}

// ReadChainRequest decodes a ChainRequest.
func ReadChainRequest(r *Reader) ChainRequest {
	return ChainRequest{Chain: uint32(r.Uvarint()), Worker: uint32(r.Uvarint()), Epoch: r.Uvarint(), Batch: ReadBatch(r)}
}

// ChainResponse is the OpRunChain response: one batch per output of the
// chain's last step, in port order.
type ChainResponse struct{ Outputs []Batch }

// Encode appends p to w.
func (p *ChainResponse) Encode(w *Writer) {
	w.Uvarint(uint64(len(p.Outputs)))
	for i := range p.Outputs {
		p.Outputs[i].WriteTo(w)
	}
}

// ReadChainResponse decodes a ChainResponse.
func ReadChainResponse(r *Reader) ChainResponse {
	n := r.Count(2)
	p := ChainResponse{Outputs: make([]Batch, 0, n)}
	for i := 0; i < n && r.Err() == nil; i++ {
		p.Outputs = append(p.Outputs, ReadBatch(r))
	}
	return p
}

// StatefulRequest is the OpStatefulBatch body: a keyed batch for one
// stateful step. The guest groups values by key, keeping their order, and
// calls on_batch once per key.
type StatefulRequest struct {
	Step  uint32
	Now   int64 // Unix nanoseconds
	Batch Batch
}

// Encode appends q to w.
func (q *StatefulRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Step))
	w.Varint(q.Now)
	q.Batch.WriteTo(w)
}

// ReadStatefulRequest decodes a StatefulRequest.
func ReadStatefulRequest(r *Reader) StatefulRequest {
	return StatefulRequest{Step: uint32(r.Uvarint()), Now: r.Varint(), Batch: ReadBatch(r)}
}

// KeysRequest is the body of OpNotify and OpSnapshot.
type KeysRequest struct {
	Step uint32
	Now  int64
	Keys []string
}

// Encode appends q to w.
func (q *KeysRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Step))
	w.Varint(q.Now)
	w.Uvarint(uint64(len(q.Keys)))
	for _, k := range q.Keys {
		w.String(k)
	}
}

// ReadKeysRequest decodes a KeysRequest.
func ReadKeysRequest(r *Reader) KeysRequest {
	q := KeysRequest{Step: uint32(r.Uvarint()), Now: r.Varint()}
	n := r.Count(1)
	for i := 0; i < n && r.Err() == nil; i++ {
		q.Keys = append(q.Keys, r.String())
	}
	return q
}

// StepRequest is the OpEOF body.
type StepRequest struct {
	Step uint32
	Now  int64
}

// Encode appends q to w.
func (q *StepRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Step))
	w.Varint(q.Now)
}

// ReadStepRequest decodes a StepRequest.
func ReadStepRequest(r *Reader) StepRequest {
	return StepRequest{Step: uint32(r.Uvarint()), Now: r.Varint()}
}

// KeyState is what the host must know of a key after a stateful call.
type KeyState struct {
	Key      string
	Discard  bool  // the logic asked to be dropped
	NotifyAt int64 // Unix nanoseconds of the next on_notify; 0 for none
}

// KeyedUpdates is the response of OpStatefulBatch, OpNotify and OpEOF:
// what the step emitted (a keyed batch, the stateful key on every item) and
// the keys whose timer changed: every discarded key and every key whose
// notify_at differs from the last one reported (a timer that fired counts
// as gone). Reporting more keys is allowed.
type KeyedUpdates struct {
	Emits Batch
	Keys  []KeyState
}

// Encode appends p to w.
func (p *KeyedUpdates) Encode(w *Writer) {
	p.Emits.WriteTo(w)
	w.Uvarint(uint64(len(p.Keys)))
	for _, k := range p.Keys {
		w.String(k.Key)
		w.Bool(k.Discard)
		w.Varint(k.NotifyAt)
	}
}

// ReadKeyedUpdates decodes KeyedUpdates.
func ReadKeyedUpdates(r *Reader) KeyedUpdates {
	p := KeyedUpdates{Emits: ReadBatch(r)}
	n := r.Count(3)
	p.Keys = make([]KeyState, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		p.Keys = append(p.Keys, KeyState{Key: r.String(), Discard: r.Bool(), NotifyAt: r.Varint()})
	}
	return p
}

// KeySnap is one key's snapshot; Present false is a tombstone (the key
// has no state).
type KeySnap struct {
	Key     string
	Present bool
	State   []byte
}

// Snapshots is the OpSnapshot response and the OpRestore body.
type Snapshots struct {
	Step  uint32
	Items []KeySnap
}

// Encode appends s to w.
func (s *Snapshots) Encode(w *Writer) {
	w.Uvarint(uint64(s.Step))
	w.Uvarint(uint64(len(s.Items)))
	for _, it := range s.Items {
		w.String(it.Key)
		w.Bool(it.Present)
		w.Bytes(it.State)
	}
}

// ReadSnapshots decodes Snapshots. States alias the frame.
func ReadSnapshots(r *Reader) Snapshots {
	s := Snapshots{Step: uint32(r.Uvarint())}
	n := r.Count(3)
	for i := 0; i < n && r.Err() == nil; i++ {
		s.Items = append(s.Items, KeySnap{Key: r.String(), Present: r.Bool(), State: r.Bytes()})
	}
	return s
}

// PartsRequest is the OpListParts body.
type PartsRequest struct {
	Step    uint32
	Worker  uint32
	Workers uint32
}

// Encode appends q to w.
func (q *PartsRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Step))
	w.Uvarint(uint64(q.Worker))
	w.Uvarint(uint64(q.Workers))
}

// ReadPartsRequest decodes a PartsRequest.
func ReadPartsRequest(r *Reader) PartsRequest {
	return PartsRequest{Step: uint32(r.Uvarint()), Worker: uint32(r.Uvarint()), Workers: uint32(r.Uvarint())}
}

// PartList is the OpListParts response: partition names.
type PartList struct{ Parts []string }

// Encode appends l to w.
func (l *PartList) Encode(w *Writer) {
	w.Uvarint(uint64(len(l.Parts)))
	for _, p := range l.Parts {
		w.String(p)
	}
}

// ReadPartList decodes a PartList.
func ReadPartList(r *Reader) PartList {
	var l PartList
	n := r.Count(1)
	for i := 0; i < n && r.Err() == nil; i++ {
		l.Parts = append(l.Parts, r.String())
	}
	return l
}

// BuildPartRequest is the OpBuildPart body. Handle is chosen by the host
// and names the built partition in later calls. For dynamic connectors Part
// is empty and the guest builds the worker's instance.
type BuildPartRequest struct {
	Step      uint32
	Handle    uint32
	Part      string
	Worker    uint32
	Workers   uint32
	HasResume bool
	Resume    []byte
}

// Encode appends q to w.
func (q *BuildPartRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Step))
	w.Uvarint(uint64(q.Handle))
	w.String(q.Part)
	w.Uvarint(uint64(q.Worker))
	w.Uvarint(uint64(q.Workers))
	w.Bool(q.HasResume)
	w.Bytes(q.Resume)
}

// ReadBuildPartRequest decodes a BuildPartRequest.
func ReadBuildPartRequest(r *Reader) BuildPartRequest {
	return BuildPartRequest{Step: uint32(r.Uvarint()), Handle: uint32(r.Uvarint()), Part: r.String(),
		Worker: uint32(r.Uvarint()), Workers: uint32(r.Uvarint()), HasResume: r.Bool(), Resume: r.Bytes()}
}

// HandleRequest is the body of OpNextBatch, OpPartSnapshot and OpClosePart.
type HandleRequest struct {
	Step   uint32
	Handle uint32
	Now    int64
}

// Encode appends q to w.
func (q *HandleRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Step))
	w.Uvarint(uint64(q.Handle))
	w.Varint(q.Now)
}

// ReadHandleRequest decodes a HandleRequest.
func ReadHandleRequest(r *Reader) HandleRequest {
	return HandleRequest{Step: uint32(r.Uvarint()), Handle: uint32(r.Uvarint()), Now: r.Varint()}
}

// NextBatch is the OpNextBatch response. EOF ends the partition (Batch may
// still hold its last items). Awake, when non-zero, is the Unix nanosecond
// time before which the host should not poll again (next_awake).
type NextBatch struct {
	EOF   bool
	Awake int64
	Batch Batch
}

// Encode appends p to w.
func (p *NextBatch) Encode(w *Writer) {
	w.Bool(p.EOF)
	w.Varint(p.Awake)
	p.Batch.WriteTo(w)
}

// ReadNextBatch decodes a NextBatch.
func ReadNextBatch(r *Reader) NextBatch {
	return NextBatch{EOF: r.Bool(), Awake: r.Varint(), Batch: ReadBatch(r)}
}

// WriteRequest is the OpWriteBatch body.
type WriteRequest struct {
	Step   uint32
	Handle uint32
	Batch  Batch
}

// Encode appends q to w.
func (q *WriteRequest) Encode(w *Writer) {
	w.Uvarint(uint64(q.Step))
	w.Uvarint(uint64(q.Handle))
	q.Batch.WriteTo(w)
}

// ReadWriteRequest decodes a WriteRequest.
func ReadWriteRequest(r *Reader) WriteRequest {
	return WriteRequest{Step: uint32(r.Uvarint()), Handle: uint32(r.Uvarint()), Batch: ReadBatch(r)}
}

// OptBytes is the OpPartSnapshot response: a presence flag, then bytes.
type OptBytes struct {
	Present bool
	B       []byte
}

// Encode appends o to w.
func (o *OptBytes) Encode(w *Writer) {
	w.Bool(o.Present)
	w.Bytes(o.B)
}

// ReadOptBytes decodes OptBytes.
func ReadOptBytes(r *Reader) OptBytes { return OptBytes{Present: r.Bool(), B: r.Bytes()} }

// ErrorInfo is the body of a StatusError response: what went wrong in the
// guest and where.
//
//	message string | stack string | step uvarint (index+1; 0 = none) |
//	haskey byte | key string
type ErrorInfo struct {
	Message string
	Stack   string
	Step    int // index into Graph.Steps, or -1
	HasKey  bool
	Key     string
}

// Encode appends e to w.
func (e *ErrorInfo) Encode(w *Writer) {
	w.String(e.Message)
	w.String(e.Stack)
	w.Uvarint(uint64(e.Step + 1))
	w.Bool(e.HasKey)
	w.String(e.Key)
}

// ReadErrorInfo decodes an ErrorInfo.
func ReadErrorInfo(r *Reader) ErrorInfo {
	return ErrorInfo{Message: r.String(), Stack: r.String(), Step: int(r.Uvarint()) - 1, HasKey: r.Bool(), Key: r.String()}
}
