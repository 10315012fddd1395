// Flows: the Dataflow, its operator scopes and streams, and the core
// stateless operators (docs/abi.md sections 9 and 11).

import { Writer } from "./codec";
import {
  StepInfo, Erased, Vals, RunCtx, ChainStep, ItemCodec, BatchIter, BatchOut, codecOf,
  KIND_INPUT, KIND_OUTPUT, KIND_FLAT_MAP_BATCH, KIND_BRANCH, KIND_MERGE, KIND_REDISTRIBUTE, KIND_INSPECT_DEBUG,
} from "./batch";
import { raise, quote } from "./errors";

/** A flow under construction and, once the host built it, the flow the
 * module runs. Its steps are core operators; library operators only add
 * scopes around them. */
export class Dataflow {
  root!: Scope;
  steps: Array<StepInfo> = [];
  streams: u32 = 0;

  /** Starts an empty flow; its id is the first part of every step id. */
  constructor(id: string) {
    checkID(id);
    this.root = new Scope(this, null, id);
  }

  /** The flow's id. */
  get id(): string { return this.root.path; }

  /** Appends the Graph (section 9) to w. */
  encodeGraph(w: Writer): void {
    w.str(this.id);
    w.uvarint(<u64>this.streams);
    w.uvarint(<u64>this.steps.length);
    for (let i = 0; i < this.steps.length; i++) {
      const s = unchecked(this.steps[i]);
      w.str(s.id);
      w.byte(s.kind);
      w.uvarint(<u64>s.ins.length);
      for (let j = 0; j < s.ins.length; j++) w.uvarint(<u64>unchecked(s.ins[j]));
      w.uvarint(<u64>s.outs.length);
      for (let j = 0; j < s.outs.length; j++) w.uvarint(<u64>unchecked(s.outs[j]));
      w.byte(s.conn);
      w.str(s.arg);
    }
  }
}

/** An operator scope: steps added inside it get ids below the scope's id,
 * as in Bytewax (flow.count.stateful_batch). */
export class Scope {
  ids: Set<string> = new Set<string>();
  constructor(public flow: Dataflow, public parent: Scope | null, public path: string) {}

  /** Registers id in the scope and returns the full step id. */
  claim(id: string): string {
    checkID(id);
    const full = this.path + "." + id;
    if (this.ids.has(id)) raise("duplicate step id " + quote(full));
    this.ids.add(id);
    return full;
  }

  /** Appends a core step with the given input and output streams. */
  addStep(id: string, kind: u8, ins: Array<u32>, outs: Array<u32>): StepInfo {
    const st = new StepInfo();
    st.id = this.claim(id);
    st.kind = kind;
    st.ins = ins;
    st.outs = outs;
    st.index = this.flow.steps.length;
    this.flow.steps.push(st);
    return st;
  }
}

function checkID(id: string): void {
  if (id.length == 0 || id.includes(".")) {
    raise("bad step id " + quote(id) + ": ids must be non-empty and must not contain '.'");
  }
}

/** A stream of items of type T between two steps. A keyed stream is a
 * Stream<KV<V>>. Items flow through streams only when the host runs the
 * flow. */
export class Stream<T> {
  codec: ItemCodec<T> = codecOf<T>();
  constructor(public id: u32, public scope: Scope) {}
}

/** A new stream in scope sc. */
export function newStream<T>(sc: Scope): Stream<T> {
  const s = new Stream<T>(sc.flow.streams, sc);
  sc.flow.streams++;
  return s;
}

/** Opens the operator scope id inside up's scope and returns up as seen
 * from inside it. */
export function enterScope<T>(id: string, up: Stream<T>): Stream<T> {
  const sc = up.scope;
  sc.claim(id);
  return new Stream<T>(up.id, new Scope(sc.flow, sc, sc.path + "." + id));
}

/** Returns s, a stream inside a scope, as seen from the enclosing one. */
export function exitScope<T>(s: Stream<T>): Stream<T> {
  const parent = s.scope.parent;
  if (parent == null) { raise("exit from the flow's root scope"); unreachable(); }
  return new Stream<T>(s.id, parent!);
}

/** Opens each scope of path in turn, the first inside up's scope. */
export function enterPath<T>(up: Stream<T>, path: Array<string>): Stream<T> {
  let s = up;
  for (let i = 0; i < path.length; i++) s = enterScope<T>(unchecked(path[i]), s);
  return s;
}

/** Leaves n scopes. */
export function exitN<T>(s: Stream<T>, n: i32): Stream<T> {
  for (let i = 0; i < n; i++) s = exitScope<T>(s);
  return s;
}

/** A chain step that decodes Ts, runs a batch function and encodes Us. */
export abstract class TypedStep<T, U> extends ChainStep {
  inCodec: ItemCodec<T> = codecOf<T>();
  outCodec: ItemCodec<U> = codecOf<U>();
  out: BatchOut = new BatchOut();

  decode(it: BatchIter): Erased {
    const xs = new Array<T>(it.n);
    let i = 0;
    while (it.next()) {
      unchecked(xs[i] = this.inCodec.get(it));
      i++;
      if (it.err.length > 0) break;
    }
    if (i < xs.length) xs.length = i;
    return new Vals<T>(xs);
  }

  run(e: Erased, rc: RunCtx): Erased {
    return new Vals<U>(this.apply(changetype<Vals<T>>(e).xs, rc));
  }

  encode(port: i32, e: Erased, w: Writer): void {
    const xs = changetype<Vals<U>>(e).xs;
    const o = this.out;
    o.reset();
    for (let i = 0; i < xs.length; i++) this.outCodec.put(o.body, unchecked(xs[i]));
    o.n = xs.length;
    o.flush(w);
  }

  /** Runs the step's function on a batch. */
  abstract apply(xs: Array<T>, rc: RunCtx): Array<U>;
}

/** Adds a chain step to a stream: the core flat_map_batch, branch or
 * inspect_debug kind with a user function called what. */
export function addChainStep<T, U>(id: string, up: Stream<T>, kind: u8, what: string, run: ChainStep): Stream<U> {
  const down = newStream<U>(up.scope);
  const st = up.scope.addStep(id, kind, [up.id], [down.id]);
  st.what = what;
  st.chain = run;
  return down;
}

class FlatMapBatchStep<T, U> extends TypedStep<T, U> {
  constructor(public mapper: (xs: Array<T>) => Array<U>) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<U> { return this.mapper(xs); }
}

/** flat_map_batch: calls mapper once per batch with all its values and
 * emits every value it returns. */
export function flatMapBatch<T, U>(id: string, up: Stream<T>, mapper: (xs: Array<T>) => Array<U>): Stream<U> {
  return addChainStep<T, U>(id, up, KIND_FLAT_MAP_BATCH, "mapper", new FlatMapBatchStep<T, U>(mapper));
}

/** The two outputs of branch: values for which the predicate held, and
 * the others. */
export class Branches<T> {
  constructor(public trues: Stream<T>, public falses: Stream<T>) {}
}

class BranchStep<T> extends TypedStep<T, T> {
  constructor(public predicate: (x: T) => bool) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<T> {
    const yes = new Array<T>();
    const no = new Array<T>();
    for (let i = 0; i < xs.length; i++) {
      const x = unchecked(xs[i]);
      if (this.predicate(x)) yes.push(x);
      else no.push(x);
    }
    this.other = new Vals<T>(no);
    return yes;
  }
}

/** branch: values for which predicate returns true go to trues, the
 * others to falses, each keeping their order. */
export function branch<T>(id: string, up: Stream<T>, predicate: (x: T) => bool): Branches<T> {
  const trues = newStream<T>(up.scope);
  const falses = newStream<T>(up.scope);
  const st = up.scope.addStep(id, KIND_BRANCH, [up.id], [trues.id, falses.id]);
  st.what = "predicate";
  st.chain = new BranchStep<T>(predicate);
  return new Branches<T>(trues, falses);
}

/** merge: emits the items of all ups as one stream. */
export function merge<T>(id: string, ups: Array<Stream<T>>): Stream<T> {
  if (ups.length == 0) { raise("nil argument: merge " + quote(id) + " needs at least one stream"); unreachable(); }
  const sc = ups[0].scope;
  const ins = new Array<u32>();
  for (let i = 0; i < ups.length; i++) {
    if (ups[i].scope != sc) raise("stream used outside its scope: merge " + id + " joins streams of " + sc.path + " and " + ups[i].scope.path);
    ins.push(ups[i].id);
  }
  const down = newStream<T>(sc);
  sc.addStep(id, KIND_MERGE, ins, [down.id]);
  return down;
}

/** redistribute: spreads the items of up over all workers. */
export function redistribute<T>(id: string, up: Stream<T>): Stream<T> {
  const down = newStream<T>(up.scope);
  up.scope.addStep(id, KIND_REDISTRIBUTE, [up.id], [down.id]);
  return down;
}

class InspectStep<T> extends TypedStep<T, T> {
  stepID: string = "";
  constructor(public inspector: (stepID: string, x: T, epoch: u64, worker: i32) => void) { super(); }
  apply(xs: Array<T>, rc: RunCtx): Array<T> {
    for (let i = 0; i < xs.length; i++) this.inspector(this.stepID, unchecked(xs[i]), rc.epoch, rc.worker);
    return xs;
  }
}

/** inspect_debug: calls inspector with the step id, every value, the
 * epoch and the worker index, and passes the values on. */
export function inspectDebug<T>(id: string, up: Stream<T>, inspector: (stepID: string, x: T, epoch: u64, worker: i32) => void): Stream<T> {
  const run = new InspectStep<T>(inspector);
  const down = addChainStep<T, T>(id, up, KIND_INSPECT_DEBUG, "inspector", run);
  run.stepID = up.scope.path + "." + id;
  return down;
}

/** The input step of a source: see Source in parts.ts. */
export function addInput(id: string, flow: Dataflow, outID: u32): StepInfo {
  return flow.root.addStep(id, KIND_INPUT, [], [outID]);
}

/** The output step of a sink: see Sink in parts.ts. */
export function addOutput<T>(id: string, up: Stream<T>): StepInfo {
  return up.scope.addStep(id, KIND_OUTPUT, [up.id], []);
}
