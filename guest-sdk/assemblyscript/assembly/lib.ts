// The library operators, built on the core ones as in Bytewax 0.21: map,
// filter, filter_map, flat_map, key_on, stateful_map, fold_final,
// reduce_final and count_final. Each is an operator scope around core
// steps, so step ids read as in Bytewax and the Go SDK
// ("flow.evens.flat_map.flat_map_batch").
//
// AssemblyScript has no closures that capture variables: every function
// given here is a plain function (or a method-less arrow that captures
// nothing). Where a function needs data of the flow, use the *With form,
// which passes a context object of yours as the first argument.

import { RunCtx, KV, KIND_FLAT_MAP_BATCH } from "./batch";
import { Stream, TypedStep, addChainStep, enterPath, exitN } from "./flow";
import { StatefulBatchLogic, LogicFactory, statefulBatchBy } from "./stateful";
import { zeroOf } from "./values";

/** Adds a flat_map_batch step "flat_map_batch" inside the scopes of path. */
function batchOp<T, U>(up: Stream<T>, run: TypedStep<T, U>, path: Array<string>): Stream<U> {
  const inner = enterPath<T>(up, path);
  const out = addChainStep<T, U>("flat_map_batch", inner, KIND_FLAT_MAP_BATCH, "mapper", run);
  return exitN<U>(out, path.length);
}

class MapStep<T, U> extends TypedStep<T, U> {
  constructor(public fn: (x: T) => U) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<U> {
    const out = new Array<U>(xs.length);
    for (let i = 0; i < xs.length; i++) unchecked(out[i] = this.fn(unchecked(xs[i])));
    return out;
  }
}

class MapCtxStep<C, T, U> extends TypedStep<T, U> {
  constructor(public ctx: C, public fn: (ctx: C, x: T) => U) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<U> {
    const out = new Array<U>(xs.length);
    for (let i = 0; i < xs.length; i++) unchecked(out[i] = this.fn(this.ctx, unchecked(xs[i])));
    return out;
  }
}

/** map: every item becomes mapper(item). Core step "<id>.flat_map_batch". */
export function map<T, U>(id: string, up: Stream<T>, mapper: (x: T) => U): Stream<U> {
  return batchOp<T, U>(up, new MapStep<T, U>(mapper), [id]);
}

/** map with a context: every item becomes mapper(ctx, item). */
export function mapWith<C, T, U>(id: string, up: Stream<T>, ctx: C, mapper: (ctx: C, x: T) => U): Stream<U> {
  return batchOp<T, U>(up, new MapCtxStep<C, T, U>(ctx, mapper), [id]);
}

class FilterStep<T> extends TypedStep<T, T> {
  constructor(public fn: (x: T) => bool) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<T> {
    const out = new Array<T>();
    for (let i = 0; i < xs.length; i++) {
      const x = unchecked(xs[i]);
      if (this.fn(x)) out.push(x);
    }
    return out;
  }
}

/** filter: keeps the items for which predicate returns true. Core step
 * "<id>.flat_map.flat_map_batch". */
export function filter<T>(id: string, up: Stream<T>, predicate: (x: T) => bool): Stream<T> {
  return batchOp<T, T>(up, new FilterStep<T>(predicate), [id, "flat_map"]);
}

class FilterMapStep<T, U> extends TypedStep<T, U> {
  constructor(public fn: (x: T) => U | null) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<U> {
    const out = new Array<U>();
    for (let i = 0; i < xs.length; i++) {
      const u = this.fn(unchecked(xs[i]));
      if (u != null) out.push(changetype<U>(u));
    }
    return out;
  }
}

class FilterMapCtxStep<C, T, U> extends TypedStep<T, U> {
  constructor(public ctx: C, public fn: (ctx: C, x: T) => U | null) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<U> {
    const out = new Array<U>();
    for (let i = 0; i < xs.length; i++) {
      const u = this.fn(this.ctx, unchecked(xs[i]));
      if (u != null) out.push(changetype<U>(u));
    }
    return out;
  }
}

/** filter_map: emits mapper(item) unless it is null (U is a class or a
 * string; wrap numbers in a class or use flatMap). Core step
 * "<id>.flat_map.flat_map_batch". */
export function filterMap<T, U>(id: string, up: Stream<T>, mapper: (x: T) => U | null): Stream<U> {
  return batchOp<T, U>(up, new FilterMapStep<T, U>(mapper), [id, "flat_map"]);
}

/** filter_map with a context. */
export function filterMapWith<C, T, U>(id: string, up: Stream<T>, ctx: C, mapper: (ctx: C, x: T) => U | null): Stream<U> {
  return batchOp<T, U>(up, new FilterMapCtxStep<C, T, U>(ctx, mapper), [id, "flat_map"]);
}

class FlatMapStep<T, U> extends TypedStep<T, U> {
  constructor(public fn: (x: T) => Array<U>) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<U> {
    const out = new Array<U>();
    for (let i = 0; i < xs.length; i++) {
      const ys = this.fn(unchecked(xs[i]));
      for (let j = 0; j < ys.length; j++) out.push(unchecked(ys[j]));
    }
    return out;
  }
}

class FlatMapCtxStep<C, T, U> extends TypedStep<T, U> {
  constructor(public ctx: C, public fn: (ctx: C, x: T) => Array<U>) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<U> {
    const out = new Array<U>();
    for (let i = 0; i < xs.length; i++) {
      const ys = this.fn(this.ctx, unchecked(xs[i]));
      for (let j = 0; j < ys.length; j++) out.push(unchecked(ys[j]));
    }
    return out;
  }
}

/** flat_map: emits every item of mapper(item). Core step
 * "<id>.flat_map_batch". */
export function flatMap<T, U>(id: string, up: Stream<T>, mapper: (x: T) => Array<U>): Stream<U> {
  return batchOp<T, U>(up, new FlatMapStep<T, U>(mapper), [id]);
}

/** flat_map with a context. */
export function flatMapWith<C, T, U>(id: string, up: Stream<T>, ctx: C, mapper: (ctx: C, x: T) => Array<U>): Stream<U> {
  return batchOp<T, U>(up, new FlatMapCtxStep<C, T, U>(ctx, mapper), [id]);
}

class KeyOnStep<T> extends TypedStep<T, KV<T>> {
  constructor(public fn: (x: T) => string) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<KV<T>> {
    const out = new Array<KV<T>>(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const x = unchecked(xs[i]);
      unchecked(out[i] = new KV<T>(this.fn(x), x));
    }
    return out;
  }
}

/** key_on: makes a keyed stream; every item becomes KV(key(item), item).
 * Core step "<id>.map.flat_map_batch". */
export function keyOn<T>(id: string, up: Stream<T>, key: (x: T) => string): Stream<KV<T>> {
  return batchOp<T, KV<T>>(up, new KeyOnStep<T>(key), [id, "map"]);
}

// ---- stateful_map ----

/** The state of one key of statefulMap. `fresh` is true for a key seen
 * for the first time (value is then the zero value of S); call discard()
 * to forget the key after this value (its next value starts fresh). */
export class State<S> {
  fresh: bool = true;
  discarded: bool = false;
  constructor(public value: S) {}
  /** Forgets the key once the mapper returns. */
  discard(): void { this.discarded = true; }
}

/** stateful_map's per-key logic: a State the mapper updates value by value. */
class StateMapLogic<V, S, W> extends StatefulBatchLogic<V, W, S> {
  constructor(public mapper: (state: State<S>, value: V) => W, public state: State<S>) { super(); }
  onBatch(values: Array<V>, out: Array<W>): bool {
    for (let i = 0; i < values.length; i++) {
      if (this.state.discarded) this.state = new State<S>(zeroOf<S>());
      out.push(this.mapper(this.state, unchecked(values[i])));
      this.state.fresh = false;
    }
    return this.state.discarded;
  }
  snapshot(): S { return this.state.value; }
}

/** stateful_map: transforms the values of a keyed stream one to one with
 * a state per key. Core step "<id>.stateful_flat_map.stateful.stateful_batch". */
export function statefulMap<V, S, W>(id: string, up: Stream<KV<V>>, mapper: (state: State<S>, value: V) => W): Stream<KV<W>> {
  const inner = enterPath<KV<V>>(up, [id, "stateful_flat_map", "stateful"]);
  const out = statefulBatchBy<V, W, S>("stateful_batch", inner, new StateMapFactory<V, S, W>(mapper));
  return exitN<KV<W>>(out, 3);
}

class StateMapFactory<V, S, W> extends LogicFactory<V, W, S> {
  constructor(public mapper: (state: State<S>, value: V) => W) { super(); }
  build(resumed: bool, state: S): StatefulBatchLogic<V, W, S> {
    const st = new State<S>(state);
    st.fresh = !resumed;
    return new StateMapLogic<V, S, W>(this.mapper, st);
  }
}

// ---- the *_final aggregations ----

class FoldLogic<V, S> extends StatefulBatchLogic<V, S, S> {
  constructor(public folder: (acc: S, v: V) => S, public acc: S) { super(); }
  onBatch(values: Array<V>, out: Array<S>): bool {
    for (let i = 0; i < values.length; i++) this.acc = this.folder(this.acc, unchecked(values[i]));
    return false;
  }
  onEOF(out: Array<S>): bool {
    out.push(this.acc);
    return true;
  }
  snapshot(): S { return this.acc; }
}

class FoldFactory<V, S> extends LogicFactory<V, S, S> {
  constructor(public init: () => S, public folder: (acc: S, v: V) => S) { super(); }
  build(resumed: bool, state: S): StatefulBatchLogic<V, S, S> {
    return new FoldLogic<V, S>(this.folder, resumed ? state : this.init());
  }
}

/** fold_final: folds the values of each key into an accumulator that
 * starts as init() and emits it when the inputs end. Core step
 * "<id>.stateful.stateful_batch". */
export function foldFinal<V, S>(id: string, up: Stream<KV<V>>, init: () => S, folder: (acc: S, v: V) => S): Stream<KV<S>> {
  const inner = enterPath<KV<V>>(up, [id, "stateful"]);
  const out = statefulBatchBy<V, S, S>("stateful_batch", inner, new FoldFactory<V, S>(init, folder));
  return exitN<KV<S>>(out, 2);
}

class ReduceLogic<V> extends StatefulBatchLogic<V, V, V> {
  set: bool = false;
  constructor(public reducer: (a: V, b: V) => V, public acc: V) { super(); }
  onBatch(values: Array<V>, out: Array<V>): bool {
    let i = 0;
    if (!this.set && values.length > 0) {
      this.acc = unchecked(values[0]);
      this.set = true;
      i = 1;
    }
    for (; i < values.length; i++) this.acc = this.reducer(this.acc, unchecked(values[i]));
    return false;
  }
  onEOF(out: Array<V>): bool {
    out.push(this.acc);
    return true;
  }
  snapshot(): V { return this.acc; }
}

class ReduceFactory<V> extends LogicFactory<V, V, V> {
  constructor(public reducer: (a: V, b: V) => V) { super(); }
  build(resumed: bool, state: V): StatefulBatchLogic<V, V, V> {
    const l = new ReduceLogic<V>(this.reducer, state);
    l.set = resumed;
    return l;
  }
}

/** Reduces a batch per key before it is routed, keeping the order in
 * which keys are first seen (as Bytewax's reduce_final does). */
class PreReduceStep<V> extends TypedStep<KV<V>, KV<V>> {
  index: Map<string, i32> = new Map();
  constructor(public reducer: (a: V, b: V) => V) { super(); }
  apply(xs: Array<KV<V>>, rc: RunCtx): Array<KV<V>> {
    const index = this.index;
    index.clear();
    const out = new Array<KV<V>>();
    for (let i = 0; i < xs.length; i++) {
      const kv = unchecked(xs[i]);
      if (index.has(kv.key)) {
        const o = unchecked(out[index.get(kv.key)]);
        o.value = this.reducer(o.value, kv.value);
        continue;
      }
      index.set(kv.key, out.length);
      out.push(kv);
    }
    return out;
  }
}

/** Adds the steps of a reduce inside the scopes of path. */
function reduceIn<V>(up: Stream<KV<V>>, reducer: (a: V, b: V) => V, path: Array<string>): Stream<KV<V>> {
  const inner = enterPath<KV<V>>(up, path);
  const pre = addChainStep<KV<V>, KV<V>>("pre_reduce", inner, KIND_FLAT_MAP_BATCH, "mapper", new PreReduceStep<V>(reducer));
  const inner2 = enterPath<KV<V>>(pre, ["fold_final", "stateful"]);
  const out = statefulBatchBy<V, V, V>("stateful_batch", inner2, new ReduceFactory<V>(reducer));
  return exitN<KV<V>>(out, 2 + path.length);
}

/** reduce_final: combines the values of each key with reducer (the first
 * value starts the accumulator) and emits the result when the inputs end;
 * reducer must be associative. Core steps "<id>.pre_reduce" and
 * "<id>.fold_final.stateful.stateful_batch". */
export function reduceFinal<V>(id: string, up: Stream<KV<V>>, reducer: (a: V, b: V) => V): Stream<KV<V>> {
  return reduceIn<V>(up, reducer, [id]);
}

class InitCountStep<T> extends TypedStep<T, KV<i64>> {
  constructor(public fn: (x: T) => string) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<KV<i64>> {
    const out = new Array<KV<i64>>(xs.length);
    for (let i = 0; i < xs.length; i++) unchecked(out[i] = new KV<i64>(this.fn(unchecked(xs[i])), 1));
    return out;
  }
}

function addCounts(a: i64, b: i64): i64 { return a + b; }

/** count_final: counts the items of up per key(item) and emits each key's
 * count when the inputs end. Core steps "<id>.init_count.flat_map_batch",
 * "<id>.sum.pre_reduce" and "<id>.sum.fold_final.stateful.stateful_batch". */
export function countFinal<T>(id: string, up: Stream<T>, key: (x: T) => string): Stream<KV<i64>> {
  const inner = enterPath<T>(up, [id, "init_count"]);
  const ones = addChainStep<T, KV<i64>>("flat_map_batch", inner, KIND_FLAT_MAP_BATCH, "mapper", new InitCountStep<T>(key));
  const back = exitN<KV<i64>>(ones, 1);
  return exitN<KV<i64>>(reduceIn<i64>(back, addCounts, ["sum"]), 1);
}
