// Package bx is the Go SDK for writing bxwasm dataflows: flows of
// Bytewax-style operators compiled to a WebAssembly module that the bxwasm
// host runs.
//
// A module registers flows in an init func and is built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o flow.wasm .
//
// For example:
//
//	func init() {
//		bx.Register("flow", func(path string) *bx.Dataflow {
//			flow := bx.NewDataflow("wordcount")
//			lines := bx.Input("inp", flow, bx.FileSource(path))
//			words := bx.FlatMapBatch("split", lines, func(ls []string) []string {
//				var ws []string
//				for _, l := range ls {
//					ws = append(ws, strings.Fields(l)...)
//				}
//				return ws
//			})
//			bx.Output("out", words, bx.StdOutSink())
//			return flow
//		}, "path")
//	}
//
//	func main() {}
//
// # Core operators and scopes
//
// The host executes eight core operators: Input, Output, FlatMapBatch,
// Branch, Merge, Redistribute, InspectDebug and StatefulBatch. Each adds one
// step with the id "<scope>.<id>". Library operators (Map, Filter,
// StatefulMap, windows...) are built from them inside an operator scope
// opened with Enter and left with Exit, so their steps get ids like
// "wordcount.count.stateful_batch", as in Bytewax.
//
// # Items on the wire
//
// Items cross the boundary as bytes: string and []byte raw, numbers and
// bool in a compact binary form, types with MarshalBinary/UnmarshalBinary
// through those, anything else as JSON. A KV[V] puts its Key in the item
// key the host routes by. Consecutive stateless steps are fused by the host
// and run on native values: decoded once, encoded once.
//
// # Errors
//
// A panic in user code never crashes the module: the call fails with a
// message like "error calling mapper in step wordcount.split: ..." that
// names the step (and the key, for stateful steps) plus the stack.
package bx
