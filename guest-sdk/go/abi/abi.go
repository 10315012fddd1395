package abi

// Version is the ABI version this package describes. A guest whose
// bxwasm_abi_version export returns another number is refused at load time.
const Version = 1

// Names of the functions a bxwasm guest exports.
const (
	ExportVersion    = "bxwasm_abi_version"
	ExportBuffer     = "bxwasm_buffer"
	ExportCall       = "bxwasm_call"
	ExportInitialize = "_initialize"
	// ExportLastError is optional, () -> i64: after a call into the guest
	// trapped, the host calls it on the same instance and reads the
	// ErrorInfo body (without a status byte) at ptr<<32 | len, or nothing
	// when it returns 0. A guest that cannot catch its panics (Rust,
	// C, AssemblyScript) records them there before it traps, so the host
	// reports them as it reports a StatusError.
	ExportLastError = "bxwasm_last_error"
)

// Op selects what a bxwasm_call request asks the guest to do. The body that
// follows the op byte is described next to each constant.
type Op uint8

const (
	// OpListFlows has an empty body; the response is a FlowList.
	OpListFlows Op = iota + 1
	// OpBuild asks the guest to build a flow: BuildRequest -> Graph.
	// Every worker's instance builds the same flow before anything else.
	OpBuild
	// OpFuse declares a chain of stateless steps run by one call:
	// FuseRequest -> empty.
	OpFuse
	// OpRunChain runs a fused chain on a batch: ChainRequest -> ChainResponse.
	OpRunChain
	// OpStatefulBatch gives values to stateful steps' logics, grouped by key:
	// StatefulRequest -> KeyedUpdates.
	OpStatefulBatch
	// OpNotify calls on_notify for keys whose timers are due:
	// KeysRequest -> KeyedUpdates.
	OpNotify
	// OpEOF calls on_eof for every key the step holds: StepRequest -> KeyedUpdates.
	OpEOF
	// OpSnapshot asks for the state of keys: KeysRequest -> Snapshots.
	OpSnapshot
	// OpRestore builds logics for keys from resume state: Snapshots (with a
	// step) -> empty.
	OpRestore
	// OpListParts lists the partitions of a source or sink step as seen by a
	// worker: PartsRequest -> PartList.
	OpListParts
	// OpBuildPart builds a partition (or a dynamic/stateless source or sink
	// on a worker): BuildPartRequest -> empty.
	OpBuildPart
	// OpNextBatch polls a built source partition: HandleRequest -> NextBatch.
	OpNextBatch
	// OpWriteBatch writes a batch into a built sink partition: WriteRequest -> empty.
	OpWriteBatch
	// OpPartSnapshot asks a built partition for its resume state:
	// HandleRequest -> Bytes (a flag byte then the bytes; flag 0 = none).
	OpPartSnapshot
	// OpClosePart closes a built partition: HandleRequest -> empty.
	OpClosePart
)

// Status is the first byte of every response.
type Status uint8

const (
	// StatusOK means the body is the op's response.
	StatusOK Status = iota
	// StatusError means the body is an ErrorInfo.
	StatusError
)

// StepKind names the core operators the host executes.
type StepKind uint8

const (
	KindInput StepKind = iota + 1
	KindOutput
	KindFlatMapBatch
	KindBranch
	KindMerge
	KindRedistribute
	KindInspectDebug
	KindStatefulBatch
)

var kindNames = map[StepKind]string{
	KindInput: "input", KindOutput: "output", KindFlatMapBatch: "flat_map_batch",
	KindBranch: "branch", KindMerge: "merge", KindRedistribute: "redistribute",
	KindInspectDebug: "inspect_debug", KindStatefulBatch: "stateful_batch",
}

// String returns Bytewax's name of the operator.
func (k StepKind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "unknown"
}

// Stateless reports whether steps of this kind may be fused into a chain.
func (k StepKind) Stateless() bool {
	return k == KindFlatMapBatch || k == KindInspectDebug || k == KindBranch
}

// ConnKind says who implements an input or output step and how.
type ConnKind uint8

const (
	// ConnGuestPartitioned is a guest FixedPartitionedSource or
	// FixedPartitionedSink: named partitions, each owned by one worker.
	ConnGuestPartitioned ConnKind = iota + 1
	// ConnGuestDynamic is a guest DynamicSource or DynamicSink: one
	// instance on every worker.
	ConnGuestDynamic
	// ConnFile reads lines of one file (Arg is the path), or writes lines
	// into one file.
	ConnFile
	// ConnDir reads lines of every file matching a glob (Arg), one
	// partition per file.
	ConnDir
	// ConnStdin reads lines of the host's standard input (one partition).
	ConnStdin
	// ConnStdout writes each item's value as a line on standard output.
	ConnStdout
	// ConnJetStream reads a NATS JetStream stream, one partition per
	// subject filter, or publishes into one. Arg is a StreamConn in JSON.
	ConnJetStream
	// ConnNATS subscribes to core NATS subjects (at most once) or
	// publishes to them. Arg is a StreamConn in JSON.
	ConnNATS
	// ConnKafka reads Kafka topics, one partition per topic partition, or
	// produces into a topic. Arg is a StreamConn in JSON.
	ConnKafka
)

var connNames = map[ConnKind]string{
	ConnGuestPartitioned: "guest-partitioned", ConnGuestDynamic: "guest-dynamic",
	ConnFile: "file", ConnDir: "dir", ConnStdin: "stdin", ConnStdout: "stdout",
	ConnJetStream: "jetstream", ConnNATS: "nats", ConnKafka: "kafka",
}

// String names the connector kind.
func (c ConnKind) String() string {
	if n, ok := connNames[c]; ok {
		return n
	}
	return "unknown"
}

// Partitioned reports whether a sink of this kind has named partitions
// that items are routed to by key.
func (c ConnKind) Partitioned() bool {
	return c == ConnGuestPartitioned || c == ConnFile || c == ConnJetStream || c == ConnNATS || c == ConnKafka
}

// Host reports whether the host implements the connector.
func (c ConnKind) Host() bool { return c >= ConnFile }

// ArgType is the type of a flow factory's parameter.
type ArgType uint8

const (
	ArgString ArgType = iota + 1
	ArgInt
	ArgFloat
	ArgBool
)

var argNames = map[ArgType]string{ArgString: "string", ArgInt: "int", ArgFloat: "float64", ArgBool: "bool"}

// String returns the Go name of the type.
func (t ArgType) String() string {
	if n, ok := argNames[t]; ok {
		return n
	}
	return "unknown"
}
