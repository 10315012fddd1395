package guest

import (
	"context"
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// This file holds one typed wrapper per abi.Op. Each encodes its request
// into the Instance's reused writer, calls the guest, decodes the response
// and checks nothing is left over. Batches and byte slices in the results
// alias the Instance's response buffer: they are valid until the next call
// on the same Instance.

// begin starts a request for op in the reused writer, for what the call
// does (see watchdog.Kind): the label a supervisor names it by.
func (i *Instance) begin(op abi.Op, kind watchdog.Kind, index uint32) *abi.Writer {
	i.kind, i.index = kind, index
	i.w.Reset()
	i.w.Byte(byte(op))
	return &i.w
}

// request sends the request begin started for op and decodes the
// response with read, checking that nothing is left over.
func request[T any](ctx context.Context, i *Instance, op abi.Op, read func(*abi.Reader) T) (T, error) {
	var zero T
	r, err := i.Call(ctx, i.w.B)
	if err != nil {
		return zero, err
	}
	v := read(r)
	if err := r.End(); err != nil {
		return zero, fmt.Errorf("%w: malformed %s response: %v", ErrBadResponse, OpName(op), err)
	}
	return v, nil
}

// noBody reads the empty response of ops that return nothing.
func noBody(*abi.Reader) struct{} { return struct{}{} }

func flows(r *abi.Reader) []abi.FlowInfo { return abi.ReadFlowList(r).Flows }

func parts(r *abi.Reader) []string { return abi.ReadPartList(r).Parts }

// graph decodes a Graph; a decoding error stays in the reader for End.
func graph(r *abi.Reader) *abi.Graph {
	g, _ := abi.DecodeGraph(r)
	return g
}

// ListFlows lists the flows (and flow factories) the module registered.
func (i *Instance) ListFlows(ctx context.Context) ([]abi.FlowInfo, error) {
	i.begin(abi.OpListFlows, watchdog.KindPhase, uint32(watchdog.PhaseListFlows))
	return request(ctx, i, abi.OpListFlows, flows)
}

// Build builds a flow with its factory arguments and returns its graph.
func (i *Instance) Build(ctx context.Context, q abi.BuildRequest) (*abi.Graph, error) {
	q.Encode(i.begin(abi.OpBuild, watchdog.KindPhase, uint32(watchdog.PhaseBuild)))
	return request(ctx, i, abi.OpBuild, graph)
}

// Fuse declares a chain of stateless steps that RunChain runs by its id.
func (i *Instance) Fuse(ctx context.Context, q abi.FuseRequest) error {
	q.Encode(i.begin(abi.OpFuse, watchdog.KindPhase, uint32(watchdog.PhaseFuse)))
	_, err := request(ctx, i, abi.OpFuse, noBody)
	return err
}

// RunChain runs a fused chain on a batch. The output batches alias the
// response buffer.
func (i *Instance) RunChain(ctx context.Context, q abi.ChainRequest) (abi.ChainResponse, error) {
	q.Encode(i.begin(abi.OpRunChain, watchdog.KindChain, q.Chain))
	return request(ctx, i, abi.OpRunChain, abi.ReadChainResponse)
}

// StatefulBatch gives a keyed batch to a stateful step. The emitted batch
// aliases the response buffer.
func (i *Instance) StatefulBatch(ctx context.Context, q abi.StatefulRequest) (abi.KeyedUpdates, error) {
	q.Encode(i.begin(abi.OpStatefulBatch, watchdog.KindStep, q.Step))
	return request(ctx, i, abi.OpStatefulBatch, abi.ReadKeyedUpdates)
}

// Notify runs on_notify for keys whose timers are due. The emitted batch
// aliases the response buffer.
func (i *Instance) Notify(ctx context.Context, q abi.KeysRequest) (abi.KeyedUpdates, error) {
	q.Encode(i.begin(abi.OpNotify, watchdog.KindStep, q.Step))
	return request(ctx, i, abi.OpNotify, abi.ReadKeyedUpdates)
}

// EOF runs on_eof for every key of a step. The emitted batch aliases the
// response buffer.
func (i *Instance) EOF(ctx context.Context, q abi.StepRequest) (abi.KeyedUpdates, error) {
	q.Encode(i.begin(abi.OpEOF, watchdog.KindStep, q.Step))
	return request(ctx, i, abi.OpEOF, abi.ReadKeyedUpdates)
}

// Snapshot asks for the state of keys of a stateful step. The states alias
// the response buffer.
func (i *Instance) Snapshot(ctx context.Context, q abi.KeysRequest) (abi.Snapshots, error) {
	q.Encode(i.begin(abi.OpSnapshot, watchdog.KindStep, q.Step))
	return request(ctx, i, abi.OpSnapshot, abi.ReadSnapshots)
}

// Restore rebuilds the logics of keys from resume state.
func (i *Instance) Restore(ctx context.Context, s abi.Snapshots) error {
	s.Encode(i.begin(abi.OpRestore, watchdog.KindStep, s.Step))
	_, err := request(ctx, i, abi.OpRestore, noBody)
	return err
}

// ListParts lists the partitions of a source or sink step.
func (i *Instance) ListParts(ctx context.Context, q abi.PartsRequest) ([]string, error) {
	q.Encode(i.begin(abi.OpListParts, watchdog.KindStep, q.Step))
	return request(ctx, i, abi.OpListParts, parts)
}

// BuildPart builds a partition (or a dynamic source or sink) under a
// handle the host chose.
func (i *Instance) BuildPart(ctx context.Context, q abi.BuildPartRequest) error {
	q.Encode(i.begin(abi.OpBuildPart, watchdog.KindStep, q.Step))
	_, err := request(ctx, i, abi.OpBuildPart, noBody)
	return err
}

// NextBatch polls a built source partition. The batch aliases the response
// buffer.
func (i *Instance) NextBatch(ctx context.Context, q abi.HandleRequest) (abi.NextBatch, error) {
	q.Encode(i.begin(abi.OpNextBatch, watchdog.KindStep, q.Step))
	return request(ctx, i, abi.OpNextBatch, abi.ReadNextBatch)
}

// WriteBatch writes a batch into a built sink partition.
func (i *Instance) WriteBatch(ctx context.Context, q abi.WriteRequest) error {
	q.Encode(i.begin(abi.OpWriteBatch, watchdog.KindStep, q.Step))
	_, err := request(ctx, i, abi.OpWriteBatch, noBody)
	return err
}

// PartSnapshot asks a built partition for its resume state. The bytes alias
// the response buffer.
func (i *Instance) PartSnapshot(ctx context.Context, q abi.HandleRequest) (abi.OptBytes, error) {
	q.Encode(i.begin(abi.OpPartSnapshot, watchdog.KindStep, q.Step))
	return request(ctx, i, abi.OpPartSnapshot, abi.ReadOptBytes)
}

// ClosePart closes a built partition.
func (i *Instance) ClosePart(ctx context.Context, q abi.HandleRequest) error {
	q.Encode(i.begin(abi.OpClosePart, watchdog.KindStep, q.Step))
	_, err := request(ctx, i, abi.OpClosePart, noBody)
	return err
}
