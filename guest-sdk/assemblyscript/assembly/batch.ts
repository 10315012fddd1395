// The batch frame (docs/abi.md section 8), keyed items, and how the items
// of a stream are encoded.

import { Writer, Reader } from "./codec";
import { putValue, decodeValueAt, decodeValue, takeValueErr, zeroOf, DECODE } from "./values";

/** Step kinds (StepKind). */
export const KIND_INPUT: u8 = 1;
export const KIND_OUTPUT: u8 = 2;
export const KIND_FLAT_MAP_BATCH: u8 = 3;
export const KIND_BRANCH: u8 = 4;
export const KIND_MERGE: u8 = 5;
export const KIND_REDISTRIBUTE: u8 = 6;
export const KIND_INSPECT_DEBUG: u8 = 7;
export const KIND_STATEFUL_BATCH: u8 = 8;

/** Connector kinds (ConnKind). */
export const CONN_GUEST_PARTITIONED: u8 = 1;
export const CONN_GUEST_DYNAMIC: u8 = 2;
export const CONN_FILE: u8 = 3;
export const CONN_DIR: u8 = 4;
export const CONN_STDIN: u8 = 5;
export const CONN_STDOUT: u8 = 6;
export const CONN_JETSTREAM: u8 = 7;
export const CONN_NATS: u8 = 8;
export const CONN_KAFKA: u8 = 9;

/** The name of a step kind, as the host writes it. */
export function kindName(k: u8): string {
  switch (k) {
    case 1: return "input";
    case 2: return "output";
    case 3: return "flat_map_batch";
    case 4: return "branch";
    case 5: return "merge";
    case 6: return "redistribute";
    case 7: return "inspect_debug";
    case 8: return "stateful_batch";
  }
  return "unknown";
}

/** The name of a connector kind, as the host writes it. */
export function connName(c: u8): string {
  switch (c) {
    case 1: return "guest-partitioned";
    case 2: return "guest-dynamic";
    case 3: return "file";
    case 4: return "dir";
    case 5: return "stdin";
    case 6: return "stdout";
    case 7: return "jetstream";
    case 8: return "nats";
    case 9: return "kafka";
  }
  return "unknown";
}

/** One core step of a built flow: what the graph says of it, and the
 * runtime the dispatcher drives (set by its kind). */
export class StepInfo {
  id: string = "";
  kind: u8 = 0;
  index: i32 = 0;
  ins: Array<u32> = [];
  outs: Array<u32> = [];
  conn: u8 = 0;
  arg: string = "";
  /** The user function the step calls, for messages (mapper, predicate...). */
  what: string = "";
  /** Set for flat_map_batch, branch and inspect_debug. */
  chain: ChainStep | null = null;
  /** Set for stateful_batch. */
  stateful: StatefulRuntime | null = null;
  /** Set for input and output steps with a guest connector. */
  parts: PartsRuntime | null = null;

  /** Whether the step may run in a chain. */
  get stateless(): bool {
    return this.kind == KIND_FLAT_MAP_BATCH || this.kind == KIND_BRANCH || this.kind == KIND_INSPECT_DEBUG;
  }
}

/** A batch of native values between chain steps (an Array<T> the SDK
 * knows the type of). */
export abstract class Erased {}

/** The Erased form of an Array<T>. */
export class Vals<T> extends Erased {
  constructor(public xs: Array<T>) { super(); }
}

/** What a chain run knows beyond its items. */
export class RunCtx {
  epoch: u64 = 0;
  worker: i32 = 0;
}

/** A stateless step as a chain runs it. */
export abstract class ChainStep {
  /** The second output of a branch, after run. */
  other: Erased | null = null;
  /** Decodes a wire batch of the step's input; sets err on failure. */
  abstract decode(it: BatchIter): Erased;
  /** Runs the user's function on a batch. */
  abstract run(xs: Erased, rc: RunCtx): Erased;
  /** Appends output port port's values as a batch frame. */
  abstract encode(port: i32, xs: Erased, w: Writer): void;
}

/** A stateful_batch step as the dispatcher drives it. Each method returns
 * "" or an error message. */
export abstract class StatefulRuntime {
  abstract onBatch(it: BatchIter, out: KeyedUpdates): string;
  abstract onNotify(keys: Array<string>, out: KeyedUpdates): string;
  abstract onEOF(out: KeyedUpdates): string;
  abstract snapshot(keys: Array<string>, w: Writer): string;
  abstract restore(key: string, present: bool, state: usize, len: i32): string;
}

/** A guest source or sink as the dispatcher drives it. Each method
 * returns "" or an error message. */
export abstract class PartsRuntime {
  abstract listParts(worker: i32, workers: i32): Array<string>;
  abstract buildPart(handle: u32, part: string, worker: i32, workers: i32, hasResume: bool, resume: usize, len: i32): string;
  abstract next(handle: u32, w: Writer): string;
  abstract write(handle: u32, it: BatchIter): string;
  abstract snapshot(handle: u32, w: Writer): string;
  abstract close(handle: u32): string;
}

/** An item of a keyed stream: the key routes it (it is the item key on
 * the wire), the value goes through V's codec. */
@final
export class KV<V> {
  constructor(public key: string = "", public value: V = zeroOf<V>()) {}

  /** As a value (a KV inside another value): the key, then the value,
   * each length-prefixed. */
  encodeTo(w: Writer): void {
    w.str(this.key);
    putValue<V>(w, this.value);
  }

  decodeFrom(r: Reader): void {
    this.key = r.str();
    const n = r.len();
    const sub = new Reader(r.pos, n);
    this.value = decodeValue<V>(sub);
    if (!sub.finish()) r.fail(sub.err);
    r.skip(n);
  }

  /** The item codec of KV<V> streams (the SDK's type test looks for it). */
  __kvCodec(): ItemCodec<KV<V>> { return new KVCodec<V>(); }
}

/** How the items of a Stream<T> are written and read. */
export abstract class ItemCodec<T> {
  /** Whether items carry a key (T is KV<V>). */
  keyed: bool = false;
  /** Appends x as one item. */
  abstract put(w: Writer, x: T): void;
  /** Decodes the iterator's current item; sets it.err on failure. */
  abstract get(it: BatchIter): T;
}

/** Items without a key whose value is T's encoding. */
export class PlainCodec<T> extends ItemCodec<T> {
  put(w: Writer, x: T): void {
    w.byte(0);
    putValue<T>(w, x);
  }
  get(it: BatchIter): T {
    const v = decodeValueAt<T>(it.vp, it.vl);
    const e = takeValueErr();
    if (e.length > 0) it.err = e;
    return v;
  }
}

/** Keyed items: the key is the item key, the value V's encoding. */
export class KVCodec<V> extends ItemCodec<KV<V>> {
  constructor() { super(); this.keyed = true; }
  put(w: Writer, x: KV<V>): void { putKeyed<V>(w, x); }
  get(it: BatchIter): KV<V> {
    if (!it.hasKey) it.err = DECODE + "item of a keyed stream has no key";
    const v = decodeValueAt<V>(it.vp, it.vl);
    const e = takeValueErr();
    if (e.length > 0) it.err = e;
    return new KV<V>(it.key(), v);
  }
}

/** Appends a keyed item: key kv.key, value kv.value's encoding. */
export function putKeyed<V>(w: Writer, kv: KV<V>): void {
  const k = kv.key;
  const n = String.UTF8.byteLength(k);
  w.uvarint(<u64>n + 1);
  const p = w.reserve(n);
  String.UTF8.encodeUnsafe(changetype<usize>(k), k.length, p);
  w.len += n;
  putValue<V>(w, kv.value);
}

/** The item codec of Stream<T>. */
export function codecOf<T>(): ItemCodec<T> {
  if (isManaged<T>()) {
    if (isDefined(changetype<T>(0).__kvCodec)) {
      return changetype<ItemCodec<T>>(changetype<T>(0).__kvCodec());
    }
  }
  return new PlainCodec<T>();
}

/** Whether T is a KV<V>. */
export function isKV<T>(): bool {
  if (isManaged<T>()) {
    if (isDefined(changetype<T>(0).__kvCodec)) return true;
  }
  return false;
}

/** Walks the items of a batch frame read from r, checking every bound:
 * the body must hold exactly count well-formed items. */
export class BatchIter {
  n: i32 = 0;
  i: i32 = 0;
  p: usize;
  end: usize;
  err: string = "";
  /** The current item. */
  hasKey: bool = false;
  kp: usize = 0;
  kl: i32 = 0;
  vp: usize = 0;
  vl: i32 = 0;

  constructor(r: Reader) {
    this.n = r.count(1);
    const body = r.len();
    this.p = r.pos;
    this.end = r.pos + <usize>body;
    r.skip(body);
    if (r.err.length == 0 && <i64>this.n * 2 > <i64>body) r.fail("batch count does not match its items");
    if (r.err.length > 0) { this.err = r.err; this.n = 0; }
  }

  /** Moves to the next item; false at the end or on an error. */
  next(): bool {
    if (this.err.length > 0) return false;
    if (this.i == this.n) {
      if (this.p != this.end) this.err = "batch count does not match its items";
      return false;
    }
    const tag = this.uv();
    this.hasKey = tag > 0;
    const kl = tag > 0 ? tag - 1 : 0;
    if (this.err.length > 0 || kl > <u64>(this.end - this.p)) return this.bad();
    this.kp = this.p;
    this.kl = <i32>kl;
    this.p += <usize>kl;
    const vl = this.uv();
    if (this.err.length > 0 || vl > <u64>(this.end - this.p)) return this.bad();
    this.vp = this.p;
    this.vl = <i32>vl;
    this.p += <usize>vl;
    this.i++;
    return true;
  }

  /** The current item's key, decoded from UTF-8. */
  key(): string { return String.UTF8.decodeUnsafe(this.kp, <usize>this.kl); }

  /** Checks the iteration ended cleanly; returns the error or "". */
  done(): string {
    while (this.next()) {}
    return this.err;
  }

  private bad(): bool {
    if (this.err.length == 0) this.err = "batch count does not match its items";
    return false;
  }

  private uv(): u64 {
    let v: u64 = 0;
    let shift: u64 = 0;
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.end) { this.err = "batch count does not match its items"; return 0; }
      const b = load<u8>(this.p);
      this.p++;
      v |= (<u64>(b & 0x7f)) << shift;
      if (b < 0x80) return v;
      shift += 7;
    }
    this.err = "varint longer than 10 bytes";
    return 0;
  }
}

/** A batch frame under construction: items go to body, and flush writes
 * count, length and body to the response. */
export class BatchOut {
  body: Writer = new Writer(1024);
  n: i32 = 0;

  reset(): void { this.body.reset(); this.n = 0; }

  /** Appends a batch frame of everything added so far to w. */
  flush(w: Writer): void {
    w.uvarint(<u64>this.n);
    w.bytes(this.body.ptr, this.body.len);
  }
}

/** A key whose timer changed (KeyedUpdates entry). */
export class KeyState {
  constructor(public key: string, public discard: bool, public notifyAt: i64) {}
}

/** The response of stateful_batch, notify and eof. */
export class KeyedUpdates {
  emits: BatchOut = new BatchOut();
  keys: Array<KeyState> = [];

  reset(): void {
    this.emits.reset();
    this.keys.length = 0;
  }

  encode(w: Writer): void {
    this.emits.flush(w);
    w.uvarint(<u64>this.keys.length);
    for (let i = 0; i < this.keys.length; i++) {
      const k = unchecked(this.keys[i]);
      w.str(k.key);
      w.bool(k.discard);
      w.varint(k.notifyAt);
    }
  }
}
