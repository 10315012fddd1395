// The guest side of the wire: one request in, one response out
// (docs/abi.md sections 4, 7 and 10). Every request is decoded strictly;
// a bad one gets a StatusError, never a trap.

import { Writer, Reader } from "./codec";
import { StepInfo, BatchIter, RunCtx, Erased, ChainStep, KeyedUpdates, StatefulRuntime, PartsRuntime, kindName, connName, KIND_INPUT, KIND_OUTPUT, KIND_STATEFUL_BATCH } from "./batch";
import { Dataflow } from "./flow";
import { Args, lookupFlow, buildFlow, encodeFlowList } from "./register";
import { clearSite, enterPart, encodeErrorInfo, siteStep } from "./errors";

export const OP_LIST_FLOWS: u8 = 1;
export const OP_BUILD: u8 = 2;
export const OP_FUSE: u8 = 3;
export const OP_RUN_CHAIN: u8 = 4;
export const OP_STATEFUL_BATCH: u8 = 5;
export const OP_NOTIFY: u8 = 6;
export const OP_EOF: u8 = 7;
export const OP_SNAPSHOT: u8 = 8;
export const OP_RESTORE: u8 = 9;
export const OP_LIST_PARTS: u8 = 10;
export const OP_BUILD_PART: u8 = 11;
export const OP_NEXT_BATCH: u8 = 12;
export const OP_WRITE_BATCH: u8 = 13;
export const OP_PART_SNAPSHOT: u8 = 14;
export const OP_CLOSE_PART: u8 = 15;

const MALFORMED = "bx: malformed request: ";
const NOT_BUILT = "bx: no flow built yet";

/** A chain declared by fuse. */
class Chain {
  steps: Array<StepInfo> = [];
  runs: Array<ChainStep> = [];
}

let flow: Dataflow | null = null;
let chains = new Map<u32, Chain>();
const resp = new Writer(4096);
const updates = new KeyedUpdates();
const rc = new RunCtx();

/** Runs one request (op byte and body at p, n bytes) and returns the
 * response writer (status byte and body), valid until the next call. */
export function dispatch(p: usize, n: i32): Writer {
  clearSite();
  resp.reset();
  if (n <= 0) return fail(MALFORMED + "empty request");
  const op = load<u8>(p);
  resp.byte(0);
  const r = new Reader(p + 1, n - 1);
  const err = handle(op, r);
  if (err.length > 0) return fail(err);
  return resp;
}

/** Replaces whatever was written with a StatusError at the current site. */
function fail(message: string): Writer {
  resp.reset();
  resp.byte(1);
  encodeErrorInfo(resp, message, "");
  return resp;
}

function handle(op: u8, r: Reader): string {
  switch (op) {
    case OP_LIST_FLOWS: return listFlows(r);
    case OP_BUILD: return build(r);
    case OP_FUSE: return fuse(r);
    case OP_RUN_CHAIN: return runChain(r);
    case OP_STATEFUL_BATCH: return statefulBatchOp(r);
    case OP_NOTIFY: return notifyOp(r, false);
    case OP_EOF: return eofOp(r);
    case OP_SNAPSHOT: return notifyOp(r, true);
    case OP_RESTORE: return restoreOp(r);
    case OP_LIST_PARTS: return listParts(r);
    case OP_BUILD_PART: return buildPart(r);
    case OP_NEXT_BATCH: return handleOp(r, op, KIND_INPUT, "next batch");
    case OP_WRITE_BATCH: return writeBatch(r);
    case OP_PART_SNAPSHOT: return handleOp(r, op, 0, "part snapshot");
    case OP_CLOSE_PART: return handleOp(r, op, 0, "close part");
  }
  return MALFORMED + "unknown op " + op.toString();
}

/** Checks that the request decoded completely. */
function end(r: Reader, what: string): string {
  if (!r.finish()) return MALFORMED + what + ": " + r.err;
  return "";
}

/** Step i of the built flow, checked to be of kind k (any for 0). */
function stepAt(i: u32, k: u8, err: Array<string>): StepInfo | null {
  const f = flow;
  if (f == null) { err.push(NOT_BUILT); return null; }
  if (<i32>i >= f.steps.length || i > 0x7fffffff) {
    err.push("bx: bad step: step index " + i.toString() + ", the flow has " + f.steps.length.toString() + " steps");
    return null;
  }
  const st = f.steps[i];
  if (k != 0 && st.kind != k) {
    err.push("bx: bad step: step " + i.toString() + " (" + st.id + ") is a " + kindName(st.kind) + " step, not " + kindName(k));
    return null;
  }
  return st;
}

function listFlows(r: Reader): string {
  const e = end(r, "list flows");
  if (e.length > 0) return e;
  encodeFlowList(resp);
  return "";
}

function build(r: Reader): string {
  const name = r.str();
  const args = new Args();
  args.read(r);
  const e = end(r, "build");
  if (e.length > 0) return e;
  flow = null;
  chains = new Map<u32, Chain>();
  const err = new Array<string>();
  const def = lookupFlow(name, err);
  if (def == null) return err[0];
  const ce = def.check(args);
  if (ce.length > 0) return ce;
  const f = buildFlow(def, args, err);
  clearSite();
  if (f == null) return err[0];
  flow = f;
  f.encodeGraph(resp);
  return "";
}

function fuse(r: Reader): string {
  const id = r.uint32("chain");
  const n = r.count(1);
  const idx = new Array<u32>();
  for (let i = 0; i < n; i++) idx.push(r.uint32("step"));
  const e = end(r, "fuse");
  if (e.length > 0) return e;
  const f = flow;
  if (f == null) return NOT_BUILT;
  if (n == 0) return "bx: bad chain: chain " + id.toString() + " has no steps";
  const ch = new Chain();
  for (let i = 0; i < n; i++) {
    const si = idx[i];
    if (si >= <u32>f.steps.length) return "bx: bad chain: chain " + id.toString() + ": step index " + si.toString() + ", the flow has " + f.steps.length.toString() + " steps";
    const st = f.steps[si];
    if (!st.stateless) return "bx: bad chain: chain " + id.toString() + ": step " + si.toString() + " (" + st.id + ") is a " + kindName(st.kind) + " step, which cannot be fused";
    if (ch.steps.length > 0) {
      const prev = ch.steps[ch.steps.length - 1];
      if (prev.outs.length != 1 || prev.outs[0] != st.ins[0]) return "bx: bad chain: chain " + id.toString() + ": step " + st.id + " does not read the only output of step " + prev.id;
    }
    ch.steps.push(st);
    ch.runs.push(st.chain!);
  }
  chains.set(id, ch);
  return "";
}

function runChain(r: Reader): string {
  const id = r.uint32("chain");
  rc.worker = <i32>r.uint32("worker");
  rc.epoch = r.uvarint();
  const it = new BatchIter(r);
  const e = end(r, "run chain");
  if (e.length > 0) return e;
  if (flow == null || !chains.has(id)) return "bx: bad chain: chain " + id.toString() + " was not fused";
  const ch = chains.get(id);
  const first = ch.steps[0];
  enterPart(first, "", "");
  let vals: Erased = ch.runs[0].decode(it);
  if (it.err.length == 0) it.done();
  if (it.err.length > 0) return "decoding an item for step " + first.id + ": " + it.err;
  for (let i = 0; i < ch.runs.length; i++) {
    const st = ch.steps[i];
    enterPart(st, st.what, "");
    vals = ch.runs[i].run(vals, rc);
  }
  const last = ch.steps[ch.steps.length - 1];
  const lastRun = ch.runs[ch.runs.length - 1];
  enterPart(last, "", "");
  const nout = last.outs.length;
  resp.uvarint(<u64>nout);
  lastRun.encode(0, vals, resp);
  if (nout == 2) lastRun.encode(1, lastRun.other!, resp);
  lastRun.other = null;
  return "";
}

function statefulRT(i: u32, err: Array<string>): StatefulRuntime | null {
  const st = stepAt(i, KIND_STATEFUL_BATCH, err);
  if (st == null) return null;
  return st.stateful;
}

function statefulBatchOp(r: Reader): string {
  const step = r.uint32("step");
  r.varint();
  const it = new BatchIter(r);
  const e = end(r, "stateful batch");
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = statefulRT(step, err);
  if (rt == null) return err[0];
  updates.reset();
  const re = rt.onBatch(it, updates);
  if (re.length > 0) return re;
  updates.encode(resp);
  return "";
}

/** notify and snapshot: a step, a time and keys. */
function notifyOp(r: Reader, snapshot: bool): string {
  const step = r.uint32("step");
  r.varint();
  const n = r.count(1);
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = r.str();
  const e = end(r, snapshot ? "snapshot" : "notify");
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = statefulRT(step, err);
  if (rt == null) return err[0];
  if (snapshot) {
    resp.uvarint(<u64>step);
    return rt.snapshot(keys, resp);
  }
  updates.reset();
  const re = rt.onNotify(keys, updates);
  if (re.length > 0) return re;
  updates.encode(resp);
  return "";
}

function eofOp(r: Reader): string {
  const step = r.uint32("step");
  r.varint();
  const e = end(r, "eof");
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = statefulRT(step, err);
  if (rt == null) return err[0];
  updates.reset();
  const re = rt.onEOF(updates);
  if (re.length > 0) return re;
  updates.encode(resp);
  return "";
}

function restoreOp(r: Reader): string {
  const step = r.uint32("step");
  const n = r.count(3);
  const start = r.pos;
  // Validate the whole request before touching any state.
  for (let i = 0; i < n; i++) {
    r.skip(r.len());
    r.bool();
    r.skip(r.len());
  }
  const e = end(r, "restore");
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = statefulRT(step, err);
  if (rt == null) return err[0];
  const rr = new Reader(start, <i32>(r.end - start));
  for (let i = 0; i < n; i++) {
    const key = rr.str();
    const present = rr.bool();
    const len = rr.len();
    const re = rt.restore(key, present, rr.pos, len);
    if (re.length > 0) return re;
    rr.skip(len);
  }
  return "";
}

/** The guest connector of step i (an input or output, or kind k). */
function partsRT(i: u32, k: u8, err: Array<string>): PartsRuntime | null {
  const st = stepAt(i, k, err);
  if (st == null) return null;
  if (k == 0 && st.kind != KIND_INPUT && st.kind != KIND_OUTPUT) {
    err.push("bx: bad step: step " + i.toString() + " (" + st.id + ") is a " + kindName(st.kind) + " step, not input or output");
    return null;
  }
  const p = st.parts;
  if (p == null) {
    err.push("bx: the host runs this connector: step " + st.id + " uses the host's " + connName(st.conn) + " connector");
    return null;
  }
  return p;
}

function listParts(r: Reader): string {
  const step = r.uint32("step");
  const worker = r.uint32("worker");
  const workers = r.uint32("workers");
  const e = end(r, "list parts");
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = partsRT(step, 0, err);
  if (rt == null) return err[0];
  const parts = rt.listParts(<i32>worker, <i32>workers);
  resp.uvarint(<u64>parts.length);
  for (let i = 0; i < parts.length; i++) resp.str(parts[i]);
  return "";
}

function buildPart(r: Reader): string {
  const step = r.uint32("step");
  const handle = r.uint32("handle");
  const part = r.str();
  const worker = r.uint32("worker");
  const workers = r.uint32("workers");
  const has = r.bool();
  const len = r.len();
  const at = r.pos;
  r.skip(len);
  const e = end(r, "build part");
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = partsRT(step, 0, err);
  if (rt == null) return err[0];
  return rt.buildPart(handle, part, <i32>worker, <i32>workers, has, at, len);
}

function writeBatch(r: Reader): string {
  const step = r.uint32("step");
  const handle = r.uint32("handle");
  const it = new BatchIter(r);
  const e = end(r, "write batch");
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = partsRT(step, KIND_OUTPUT, err);
  if (rt == null) return err[0];
  return rt.write(handle, it);
}

/** next_batch, part_snapshot and close_part: a step, a handle and a time. */
function handleOp(r: Reader, op: u8, k: u8, what: string): string {
  const step = r.uint32("step");
  const handle = r.uint32("handle");
  r.varint();
  const e = end(r, what);
  if (e.length > 0) return e;
  const err = new Array<string>();
  const rt = partsRT(step, k, err);
  if (rt == null) return err[0];
  if (op == OP_NEXT_BATCH) return rt.next(handle, resp);
  if (op == OP_PART_SNAPSHOT) return rt.snapshot(handle, resp);
  return rt.close(handle);
}
