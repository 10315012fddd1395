// bxwasm's AssemblyScript guest SDK: write Bytewax-style dataflows in
// AssemblyScript and run them with `bxwasm run`. Import this file by its
// path, register your flows at the top level of your entry file, and build
// with guest-sdk/assemblyscript/build.sh. See README.md.

export { Writer, Reader } from "./codec";
export { KV } from "./batch";
export { Dataflow, Stream, Branches, flatMapBatch, branch, merge, redistribute, inspectDebug } from "./flow";
export { StatefulBatchLogic, LogicFactory, NO_NOTIFY, statefulBatch, statefulBatchBy } from "./stateful";
export {
  Source, Sink, input, output, FileSource, DirSource, StdinSource, FileSink, StdOutSink,
  FixedPartitionedSource, StatefulSourcePartition, DynamicSource, StatelessSourcePartition,
  FixedPartitionedSink, StatefulSinkPartition, DynamicSink, StatelessSinkPartition, TestingSource,
} from "./parts";
export {
  Message, Header, decodeMessage, Start, StreamOptions, SinkOptions,
  JetStreamSource, JetStreamPayloads, JetStreamSink, JetStreamMessageSink, NATSSource, NATSSink,
  KafkaSource, KafkaSink, KafkaMessageSink,
} from "./streams";
export {
  map, mapWith, filter, filterMap, filterMapWith, flatMap, flatMapWith, keyOn,
  State, statefulMap, foldFinal, reduceFinal, countFinal,
} from "./lib";
export {
  Clock, systemClock, eventClock, TumblingWindower, WindowValue, WindowMeta, WindowOut, foldWindow, countWindow,
} from "./windowing";
export { Args, register } from "./register";
export { nowNanos, printOut, printErr } from "./wasi";
export { encodeValue, decodeValue } from "./values";
export { isSpace, fields, trimSpace, lowerASCII, toLower } from "./text";
