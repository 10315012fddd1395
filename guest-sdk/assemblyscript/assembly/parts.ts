// Sources and sinks: the host connectors, and the partitioned and dynamic
// connectors written in the guest (docs/abi.md sections 10 and 11).

import { Writer } from "./codec";
import {
  StepInfo, PartsRuntime, BatchIter, BatchOut, ItemCodec, codecOf,
  CONN_GUEST_PARTITIONED, CONN_GUEST_DYNAMIC, CONN_FILE, CONN_DIR, CONN_STDIN, CONN_STDOUT,
} from "./batch";
import { Dataflow, Stream, newStream, addInput, addOutput } from "./flow";
import { decodeValueAt, takeValueErr, zeroOf, putValue } from "./values";
import { enterPart, quote } from "./errors";
import { NO_NOTIFY } from "./stateful";

/** Where the items of an input step come from. */
export abstract class Source<T> {
  /** The connector kind and its argument. */
  abstract conn(): u8;
  arg(): string { return ""; }
  /** The runtime of a guest connector; null for a host connector. */
  runtime(st: StepInfo): PartsRuntime | null { return null; }
}

/** Where the items of an output step go. */
export abstract class Sink<T> {
  abstract conn(): u8;
  arg(): string { return ""; }
  runtime(st: StepInfo): PartsRuntime | null { return null; }
}

class HostSource extends Source<string> {
  constructor(public kind: u8, public path: string) { super(); }
  conn(): u8 { return this.kind; }
  arg(): string { return this.path; }
}

class HostSink extends Sink<string> {
  constructor(public kind: u8, public path: string) { super(); }
  conn(): u8 { return this.kind; }
  arg(): string { return this.path; }
}

/** The lines of one file, read by the host (one partition). The path is
 * resolved and checked by the host. */
export function FileSource(path: string): Source<string> { return new HostSource(CONN_FILE, path); }
/** The lines of every file matching a glob, read by the host, one
 * partition per file. */
export function DirSource(glob: string): Source<string> { return new HostSource(CONN_DIR, glob); }
/** The lines of the host's standard input. */
export function StdinSource(): Source<string> { return new HostSource(CONN_STDIN, ""); }
/** Writes each value as a line into one file, through the host. */
export function FileSink(path: string): Sink<string> { return new HostSink(CONN_FILE, path); }
/** Writes each value as a line on the host's standard output. */
export function StdOutSink(): Sink<string> { return new HostSink(CONN_STDOUT, ""); }

/** input: adds a step that reads items from src into a new stream. */
export function input<T>(id: string, flow: Dataflow, src: Source<T>): Stream<T> {
  const down = newStream<T>(flow.root);
  const st = addInput(id, flow, down.id);
  st.conn = src.conn();
  st.arg = src.arg();
  st.parts = src.runtime(st);
  return down;
}

/** output: adds a step that writes the items of up into sink. */
export function output<T>(id: string, up: Stream<T>, sink: Sink<T>): void {
  const st = addOutput<T>(id, up);
  st.conn = sink.conn();
  st.arg = sink.arg();
  st.parts = sink.runtime(st);
}

// ---- sources written in the guest ----

/** What every source partition does. */
export abstract class SourcePartition<T> {
  /** Pushes the next items into out; returns true when the partition has
   * ended (out may still hold its last items). */
  abstract nextBatch(out: Array<T>): bool;
  /** When to poll next, in Unix nanoseconds, or NO_NOTIFY for "soon". */
  nextAwake(): i64 { return NO_NOTIFY; }
  /** Releases the partition. */
  close(): void {}
}

/** One partition of a FixedPartitionedSource (Bytewax's
 * StatefulSourcePartition). */
export abstract class StatefulSourcePartition<T, S> extends SourcePartition<T> {
  /** The state to resume the partition from. */
  abstract snapshot(): S;
}

/** A source of named partitions, each read by one worker, resumable from
 * a state S (Bytewax's FixedPartitionedSource). */
export abstract class FixedPartitionedSource<T, S> extends Source<T> {
  /** The partitions this worker can reach. */
  abstract listParts(worker: i32, workers: i32): Array<string>;
  /** Builds partition part; resumed tells whether state is a snapshot (it
   * is the zero state otherwise). */
  abstract buildPart(stepID: string, part: string, resumed: bool, state: S): StatefulSourcePartition<T, S>;

  conn(): u8 { return CONN_GUEST_PARTITIONED; }
  runtime(st: StepInfo): PartsRuntime | null { return new PartSourceRT<T, S>(st, this); }
}

/** One worker's partition of a DynamicSource (Bytewax's
 * StatelessSourcePartition). */
export abstract class StatelessSourcePartition<T> extends SourcePartition<T> {}

/** A source with one partition on every worker and no resume state
 * (Bytewax's DynamicSource). */
export abstract class DynamicSource<T> extends Source<T> {
  abstract build(stepID: string, worker: i32, workers: i32): StatelessSourcePartition<T>;
  conn(): u8 { return CONN_GUEST_DYNAMIC; }
  runtime(st: StepInfo): PartsRuntime | null { return new DynSourceRT<T>(st, this); }
}

/** A built partition with its name. */
class Built<P> {
  constructor(public name: string, public part: P) {}
}

/** The handle table of a guest connector. */
abstract class HandlesRT<P> extends PartsRuntime {
  built: Map<u32, Built<P>> = new Map();
  constructor(public st: StepInfo) { super(); }

  claim(handle: u32): string {
    if (this.built.has(handle)) return "bx: bad partition handle: handle " + handle.toString() + " of step " + this.st.id + " is already built";
    return "";
  }

  has(handle: u32): string {
    if (!this.built.has(handle)) return "bx: bad partition handle: step " + this.st.id + " has no partition with handle " + handle.toString();
    return "";
  }

  listParts(worker: i32, workers: i32): Array<string> { return []; }

  buildPart(handle: u32, part: string, worker: i32, workers: i32, hasResume: bool, resume: usize, len: i32): string {
    const e = this.claim(handle);
    if (e.length > 0) return e;
    const err = new Array<string>();
    const p = this.open(part, worker, workers, hasResume, resume, len, err);
    if (err.length > 0) return err[0];
    this.built.set(handle, new Built<P>(part, p));
    return "";
  }

  /** Builds a partition (the user's build_part or build); a bad resume
   * state pushes an error on err. */
  abstract open(part: string, worker: i32, workers: i32, hasResume: bool, resume: usize, len: i32, err: Array<string>): P;

  next(handle: u32, w: Writer): string { return "bx: bad step: step " + this.st.id + " is not a source"; }
  write(handle: u32, it: BatchIter): string { return "bx: bad step: step " + this.st.id + " is not a sink"; }

  snapshot(handle: u32, w: Writer): string {
    const e = this.has(handle);
    if (e.length > 0) return e;
    const b = this.built.get(handle);
    enterPart(this.st, "snapshot", b.name);
    this.snap(b.part, w);
    return "";
  }

  /** Appends the partition's OptBytes state. */
  snap(p: P, w: Writer): void { w.bool(false); w.uvarint(0); }

  close(handle: u32): string {
    const e = this.has(handle);
    if (e.length > 0) return e;
    const b = this.built.get(handle);
    enterPart(this.st, "close", b.name);
    this.closePart(b.part);
    this.built.delete(handle);
    return "";
  }

  abstract closePart(p: P): void;
}

/** Decodes the resume state of a partition; sets *err on failure. */
function resumeState<S>(st: StepInfo, part: string, hasResume: bool, p: usize, n: i32, err: Array<string>): S {
  if (!hasResume) return zeroOf<S>();
  const state = decodeValueAt<S>(p, n);
  const e = takeValueErr();
  if (e.length > 0) err.push("decoding the resume state of partition " + quote(part) + " in step " + st.id + ": " + e);
  return state;
}

/** The runtime of a guest source: polls its partitions. */
abstract class SourceRT<T> extends HandlesRT<SourcePartition<T>> {
  codec: ItemCodec<T> = codecOf<T>();
  items: Array<T> = [];
  o: BatchOut = new BatchOut();

  next(handle: u32, w: Writer): string {
    const e = this.has(handle);
    if (e.length > 0) return e;
    const b = this.built.get(handle);
    enterPart(this.st, "next_batch", b.name);
    const items = this.items;
    items.length = 0;
    const eof = b.part.nextBatch(items);
    let awake = NO_NOTIFY;
    if (!eof) {
      enterPart(this.st, "next_awake", b.name);
      awake = b.part.nextAwake();
    }
    w.bool(eof);
    w.varint(eof || awake == NO_NOTIFY ? 0 : (awake < 1 ? 1 : awake));
    const o = this.o;
    o.reset();
    for (let i = 0; i < items.length; i++) this.codec.put(o.body, unchecked(items[i]));
    o.n = items.length;
    o.flush(w);
    items.length = 0;
    return "";
  }

  closePart(p: SourcePartition<T>): void { p.close(); }
}

class PartSourceRT<T, S> extends SourceRT<T> {
  constructor(st: StepInfo, public src: FixedPartitionedSource<T, S>) { super(st); }

  listParts(worker: i32, workers: i32): Array<string> {
    enterPart(this.st, "list_parts", "");
    return this.src.listParts(worker, workers);
  }

  open(part: string, worker: i32, workers: i32, hasResume: bool, resume: usize, len: i32, err: Array<string>): SourcePartition<T> {
    const state = resumeState<S>(this.st, part, hasResume, resume, len, err);
    enterPart(this.st, "build_part", part);
    return this.src.buildPart(this.st.id, part, hasResume, state);
  }

  snap(p: SourcePartition<T>, w: Writer): void {
    w.bool(true);
    putValue<S>(w, changetype<StatefulSourcePartition<T, S>>(p).snapshot());
  }
}

class DynSourceRT<T> extends SourceRT<T> {
  constructor(st: StepInfo, public src: DynamicSource<T>) { super(st); }

  open(part: string, worker: i32, workers: i32, hasResume: bool, resume: usize, len: i32, err: Array<string>): SourcePartition<T> {
    enterPart(this.st, "build", "");
    return this.src.build(this.st.id, worker, workers);
  }
}

// ---- sinks written in the guest ----

/** What every sink partition does. */
export abstract class SinkPartition<T> {
  /** Writes the values of a batch (the keys only routed them). */
  abstract writeBatch(values: Array<T>): void;
  /** Releases the partition. */
  close(): void {}
}

/** One partition of a FixedPartitionedSink (Bytewax's
 * StatefulSinkPartition). */
export abstract class StatefulSinkPartition<T, S> extends SinkPartition<T> {
  abstract snapshot(): S;
}

/** A sink of named partitions, each written by one worker; items are
 * routed to partitions by key, so a sink with more than one partition
 * needs a keyed stream (values only reach writeBatch). */
export abstract class FixedPartitionedSink<T, S> extends Sink<T> {
  abstract listParts(worker: i32, workers: i32): Array<string>;
  abstract buildPart(stepID: string, part: string, resumed: bool, state: S): StatefulSinkPartition<T, S>;
  conn(): u8 { return CONN_GUEST_PARTITIONED; }
  runtime(st: StepInfo): PartsRuntime | null { return new PartSinkRT<T, S>(st, this); }
}

/** One worker's partition of a DynamicSink. */
export abstract class StatelessSinkPartition<T> extends SinkPartition<T> {}

/** A sink with one partition on every worker (Bytewax's DynamicSink). */
export abstract class DynamicSink<T> extends Sink<T> {
  abstract build(stepID: string, worker: i32, workers: i32): StatelessSinkPartition<T>;
  conn(): u8 { return CONN_GUEST_DYNAMIC; }
  runtime(st: StepInfo): PartsRuntime | null { return new DynSinkRT<T>(st, this); }
}

/** The runtime of a guest sink: writes batches into its partitions. */
abstract class SinkRT<T> extends HandlesRT<SinkPartition<T>> {
  codec: ItemCodec<T> = codecOf<T>();

  write(handle: u32, it: BatchIter): string {
    const e = this.has(handle);
    if (e.length > 0) return e;
    const b = this.built.get(handle);
    const xs = new Array<T>();
    while (it.next()) {
      xs.push(this.codec.get(it));
      if (it.err.length > 0) break;
    }
    if (it.err.length > 0) return "decoding an item for step " + this.st.id + ": " + it.err;
    enterPart(this.st, "write_batch", b.name);
    b.part.writeBatch(xs);
    return "";
  }

  closePart(p: SinkPartition<T>): void { p.close(); }
}

class PartSinkRT<T, S> extends SinkRT<T> {
  constructor(st: StepInfo, public sink: FixedPartitionedSink<T, S>) { super(st); }

  listParts(worker: i32, workers: i32): Array<string> {
    enterPart(this.st, "list_parts", "");
    return this.sink.listParts(worker, workers);
  }

  open(part: string, worker: i32, workers: i32, hasResume: bool, resume: usize, len: i32, err: Array<string>): SinkPartition<T> {
    const state = resumeState<S>(this.st, part, hasResume, resume, len, err);
    enterPart(this.st, "build_part", part);
    return this.sink.buildPart(this.st.id, part, hasResume, state);
  }

  snap(p: SinkPartition<T>, w: Writer): void {
    w.bool(true);
    putValue<S>(w, changetype<StatefulSinkPartition<T, S>>(p).snapshot());
  }
}

class DynSinkRT<T> extends SinkRT<T> {
  constructor(st: StepInfo, public sink: DynamicSink<T>) { super(st); }

  open(part: string, worker: i32, workers: i32, hasResume: bool, resume: usize, len: i32, err: Array<string>): SinkPartition<T> {
    enterPart(this.st, "build", "");
    return this.sink.build(this.st.id, worker, workers);
  }
}

// ---- the testing source ----

class TestingPartition<T> extends StatefulSourcePartition<T, i64> {
  constructor(public items: Array<T>, public batchSize: i32, public at: i64) { super(); }
  nextBatch(out: Array<T>): bool {
    const n = this.items.length;
    let i = <i32>this.at;
    const stop = min(n, i + this.batchSize);
    for (; i < stop; i++) out.push(unchecked(this.items[i]));
    this.at = i;
    return i >= n;
  }
  snapshot(): i64 { return this.at; }
}

/** A one-partition source (named "iterable") of a fixed list of items, in
 * batches of at most batchSize; its state is how many it has emitted.
 * For tests and examples (Bytewax's TestingSource). */
export class TestingSource<T> extends FixedPartitionedSource<T, i64> {
  constructor(public items: Array<T>, public batchSize: i32 = 1) { super(); }
  listParts(worker: i32, workers: i32): Array<string> { return ["iterable"]; }
  buildPart(stepID: string, part: string, resumed: bool, state: i64): StatefulSourcePartition<T, i64> {
    return new TestingPartition<T>(this.items, this.batchSize < 1 ? 1 : this.batchSize, state);
  }
}
