// stateful_batch: one logic per key, with Bytewax 0.21's semantics
// (docs/abi.md section 11).

import { Writer } from "./codec";
import { StepInfo, StatefulRuntime, KeyedUpdates, KeyState, BatchIter, KV, KIND_STATEFUL_BATCH, putKeyed } from "./batch";
import { Stream, newStream } from "./flow";
import { decodeValueAt, takeValueErr, zeroOf, putValue, DECODE } from "./values";
import { enterKey, quote } from "./errors";

/** notifyAt's answer for "no notification". */
export const NO_NOTIFY: i64 = i64.MIN_VALUE;

/** The state of one key of a stateful_batch step. Every method gets the
 * list to push the values to emit into (they are keyed with the logic's
 * key) and returns whether to discard the logic; a discarded key is built
 * again by the builder if values arrive for it later. */
export abstract class StatefulBatchLogic<V, W, S> {
  /** Receives the key's values of one batch, in arrival order. */
  abstract onBatch(values: Array<V>, out: Array<W>): bool;
  /** Called once the time notifyAt returned has come. */
  onNotify(out: Array<W>): bool { return false; }
  /** Called once when the inputs of the step end. */
  onEOF(out: Array<W>): bool { return false; }
  /** When to call onNotify next, in Unix nanoseconds, or NO_NOTIFY. Read
   * after every other call for logics not discarded. */
  notifyAt(): i64 { return NO_NOTIFY; }
  /** The state to resume from; later calls must not change it (the SDK
   * encodes it at once). */
  abstract snapshot(): S;
}

/** One key's logic and what the runtime tracks about it. */
class KeyLogic<V, W, S> {
  notify: i64 = 0;   // the notify_at last reported to the host (0: none)
  batch: u64 = 0;    // the batch that last touched the key
  group: i32 = 0;    // the key's group in that batch
  constructor(public key: string, public logic: StatefulBatchLogic<V, W, S>, public seq: u64) {}
}

/** Converts a notifyAt answer for the wire, where 0 means none: times at
 * or before the epoch become 1, "as soon as possible". */
function wireTime(t: i64): i64 {
  if (t == NO_NOTIFY) return 0;
  return t < 1 ? 1 : t;
}

class StatefulRT<V, W, S> extends StatefulRuntime {
  keys: Map<string, KeyLogic<V, W, S>> = new Map();
  seq: u64 = 0;
  batches: u64 = 0;
  groups: Array<KeyLogic<V, W, S>> = [];
  vals: Array<Array<V>> = [];
  emit: Array<W> = [];
  wKV: KV<W> = new KV<W>("", zeroOf<W>());

  constructor(public st: StepInfo, public factory: LogicFactory<V, W, S>) { super(); }

  onBatch(it: BatchIter, out: KeyedUpdates): string {
    this.batches++;
    this.groups.length = 0;
    this.vals.length = 0;
    while (it.next()) {
      if (!it.hasKey) return "decoding an item for step " + this.st.id + ": " + DECODE + "item of a keyed stream has no key";
      const v = decodeValueAt<V>(it.vp, it.vl);
      const e = takeValueErr();
      if (e.length > 0) return "decoding an item for step " + this.st.id + ": " + e;
      const key = it.key();
      let kl: KeyLogic<V, W, S>;
      if (this.keys.has(key)) kl = this.keys.get(key);
      else kl = this.build(key, false, zeroOf<S>());
      if (kl.batch != this.batches) {
        kl.batch = this.batches;
        kl.group = this.groups.length;
        this.groups.push(kl);
        this.vals.push(new Array<V>());
      }
      unchecked(this.vals[kl.group]).push(v);
    }
    if (it.err.length > 0) return "decoding an item for step " + this.st.id + ": " + it.err;
    for (let g = 0; g < this.groups.length; g++) {
      const kl = unchecked(this.groups[g]);
      enterKey(this.st, "on_batch", kl.key);
      this.emit.length = 0;
      const discard = kl.logic.onBatch(unchecked(this.vals[g]), this.emit);
      this.finish(kl, discard, out);
    }
    this.groups.length = 0;
    this.vals.length = 0;
    return "";
  }

  /** Builds a key's logic and registers it. */
  build(key: string, resumed: bool, state: S): KeyLogic<V, W, S> {
    enterKey(this.st, "builder", key);
    const l = this.factory.build(resumed, state);
    this.seq++;
    const kl = new KeyLogic<V, W, S>(key, l, this.seq);
    this.keys.set(key, kl);
    return kl;
  }

  /** Encodes what a logic emitted (in this.emit) and reports the key when
   * it was discarded or its notify_at changed. */
  finish(kl: KeyLogic<V, W, S>, discard: bool, out: KeyedUpdates): void {
    const em = this.emit;
    const o = out.emits;
    const kv = this.wKV;
    kv.key = kl.key;
    for (let i = 0; i < em.length; i++) {
      kv.value = unchecked(em[i]);
      putKeyed<W>(o.body, kv);
    }
    o.n += em.length;
    em.length = 0;
    if (discard) {
      this.keys.delete(kl.key);
      out.keys.push(new KeyState(kl.key, true, 0));
      return;
    }
    enterKey(this.st, "notify_at", kl.key);
    const at = wireTime(kl.logic.notifyAt());
    if (at != kl.notify) {
      kl.notify = at;
      out.keys.push(new KeyState(kl.key, false, at));
    }
  }

  onNotify(keys: Array<string>, out: KeyedUpdates): string {
    for (let i = 0; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      if (!this.keys.has(key)) {
        out.keys.push(new KeyState(key, true, 0));
        continue;
      }
      const kl = this.keys.get(key);
      enterKey(this.st, "on_notify", key);
      kl.notify = 0; // the host dropped the timer that fired
      this.emit.length = 0;
      const discard = kl.logic.onNotify(this.emit);
      this.finish(kl, discard, out);
    }
    return "";
  }

  onEOF(out: KeyedUpdates): string {
    const logics = this.keys.values();
    logics.sort((a: KeyLogic<V, W, S>, b: KeyLogic<V, W, S>): i32 => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    for (let i = 0; i < logics.length; i++) {
      const kl = unchecked(logics[i]);
      enterKey(this.st, "on_eof", kl.key);
      this.emit.length = 0;
      const discard = kl.logic.onEOF(this.emit);
      this.finish(kl, discard, out);
    }
    return "";
  }

  snapshot(keys: Array<string>, w: Writer): string {
    w.uvarint(<u64>keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      w.str(key);
      if (!this.keys.has(key)) {
        w.bool(false);
        w.uvarint(0);
        continue;
      }
      enterKey(this.st, "snapshot", key);
      w.bool(true);
      putValue<S>(w, this.keys.get(key).logic.snapshot());
    }
    return "";
  }

  restore(key: string, present: bool, state: usize, len: i32): string {
    if (this.keys.has(key)) this.keys.delete(key);
    if (!present) return "";
    const s = decodeValueAt<S>(state, len);
    const e = takeValueErr();
    if (e.length > 0) return "decoding the state of key " + quote(key) + " in step " + this.st.id + ": " + e;
    this.build(key, true, s);
    return "";
  }
}

/** Builds the logics of a stateful step. Use a factory (with
 * statefulBatchBy) when building needs data of the flow, which a plain
 * builder function cannot capture. */
export abstract class LogicFactory<V, W, S> {
  /** Builds a key's logic: resumed is false for a new key (state is then
   * the zero value of S) and true when resuming from a snapshot. */
  abstract build(resumed: bool, state: S): StatefulBatchLogic<V, W, S>;
}

class FnFactory<V, W, S> extends LogicFactory<V, W, S> {
  constructor(public fn: (resumed: bool, state: S) => StatefulBatchLogic<V, W, S>) { super(); }
  build(resumed: bool, state: S): StatefulBatchLogic<V, W, S> { return this.fn(resumed, state); }
}

/** stateful_batch: keeps a logic per key of up, built by
 * builder(false, zero state) for a new key and builder(true, state) when
 * resuming from a snapshot. Emitted values are keyed with their logic's
 * key. */
export function statefulBatch<V, W, S>(id: string, up: Stream<KV<V>>, builder: (resumed: bool, state: S) => StatefulBatchLogic<V, W, S>): Stream<KV<W>> {
  return statefulBatchBy<V, W, S>(id, up, new FnFactory<V, W, S>(builder));
}

/** stateful_batch with a LogicFactory instead of a builder function. */
export function statefulBatchBy<V, W, S>(id: string, up: Stream<KV<V>>, factory: LogicFactory<V, W, S>): Stream<KV<W>> {
  const down = newStream<KV<W>>(up.scope);
  const st = up.scope.addStep(id, KIND_STATEFUL_BATCH, [up.id], [down.id]);
  st.stateful = new StatefulRT<V, W, S>(st, factory);
  return down;
}
