// The AssemblyScript SDK's implementation of the conformance flows of
// conformance/README.md, registered in the suite's order. Build it with
//
//   guest-sdk/assemblyscript/build.sh conformance/assemblyscript conformance-as.wasm

import {
  Args, Dataflow, KV, Writer, Reader, register, input, output, redistribute, map, mapWith, flatMap,
  filterMap, filter, branch, merge, countFinal, statefulMap, State, statefulBatch, StatefulBatchLogic,
  FixedPartitionedSource, StatefulSourcePartition, TestingSource, FileSource, FileSink, NO_NOTIFY, nowNanos,
  fields, trimSpace as trim, lowerASCII, eventClock, TumblingWindower, WindowValue, countWindow,
} from "../../guest-sdk/assemblyscript/assembly/index";

// ---- the suite's integers ----

/** Whether the last parseInt64 succeeded. */
let parsedOK = false;

/** The suite's integer: an optional + or -, then one or more digits, and
 * nothing else, within int64. Sets parsedOK. */
function parseInt64(s: string): i64 {
  parsedOK = false;
  let i = 0;
  let neg = false;
  if (s.length > 0 && (s.charCodeAt(0) == 43 || s.charCodeAt(0) == 45)) { neg = s.charCodeAt(0) == 45; i = 1; }
  if (i == s.length) return 0;
  let mag: u64 = 0;
  const limit: u64 = neg ? 0x8000000000000000 : 0x7fffffffffffffff;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
    const d = <u64>(c - 48);
    if (mag > (limit - d) / 10) return 0;
    mag = mag * 10 + d;
  }
  parsedOK = true;
  return neg ? <i64>(0 - mag) : <i64>mag;
}

/** Splits a line at its first comma into the trimmed key (not empty) and
 * the trimmed value, or null. */
function keyValue(line: string): KV<string> | null {
  const at = line.indexOf(",");
  if (at < 0) return null;
  const k = trim(line.substring(0, at));
  if (k.length == 0) return null;
  return new KV<string>(k, trim(line.substring(at + 1)));
}

function identity(w: string): string { return w; }
function formatCount(kv: KV<i64>): string { return kv.key + "\t" + kv.value.toString(); }
function formatText(kv: KV<string>): string { return kv.key + "\t" + kv.value; }

// ---- 1. wordcount ----

function wordcount(a: Args): Dataflow | null {
  const flow = new Dataflow("wordcount");
  const lines = input<string>("inp", flow, FileSource(a.str(0)));
  const spread = redistribute<string>("spread", lines);
  const lower = map<string, string>("lower", spread, lowerASCII);
  const ws = flatMap<string, string>("split", lower, fields);
  const counts = countFinal<string>("count", ws, identity);
  output<string>("out", map<KV<i64>, string>("format", counts, formatCount), FileSink(a.str(1)));
  return flow;
}

// ---- 2. running_sum ----

function parseAmount(line: string): KV<i64> | null {
  const kv = keyValue(line);
  if (kv == null) return null;
  const n = parseInt64(kv.value);
  if (!parsedOK) return null;
  return new KV<i64>(kv.key, n);
}

function addAmount(sum: State<i64>, n: i64): i64 {
  sum.value += n;
  return sum.value;
}

function runningSum(a: Args): Dataflow | null {
  const flow = new Dataflow("running_sum");
  const lines = input<string>("inp", flow, FileSource(a.str(0)));
  const amounts = filterMap<string, KV<i64>>("parse", lines, parseAmount);
  const totals = statefulMap<i64, i64, i64>("total", amounts, addAmount);
  output<string>("out", map<KV<i64>, string>("format", totals, formatCount), FileSink(a.str(1)));
  return flow;
}

// ---- 3. branch_merge ----

function parseNumber(line: string): Array<i64> {
  const n = parseInt64(trim(line));
  return parsedOK ? [n] : [];
}

function isEven(n: i64): bool { return n % 2 == 0; }
function square(n: i64): string { return "even\t" + (n * n).toString(); }
function negate(n: i64): string { return "odd\t" + (-n).toString(); }

function branchMerge(a: Args): Dataflow | null {
  const flow = new Dataflow("branch_merge");
  const lines = input<string>("inp", flow, FileSource(a.str(0)));
  const nums = flatMap<string, i64>("parse", lines, parseNumber);
  const b = branch<i64>("even_or_odd", nums, isEven);
  const squares = map<i64, string>("square", b.trues, square);
  const negated = map<i64, string>("negate", b.falses, negate);
  output<string>("out", merge<string>("merge", [squares, negated]), FileSink(a.str(1)));
  return flow;
}

// ---- 4. custom_source ----

class NumberPart extends StatefulSourcePartition<i64, i64> {
  constructor(public first: i64, public count: i64, public pos: i64) { super(); }
  nextBatch(out: Array<i64>): bool {
    const end = min(this.pos + 7, this.count);
    for (; this.pos < end; this.pos++) out.push(this.first + this.pos);
    return this.pos == this.count;
  }
  snapshot(): i64 { return this.pos; }
}

class Numbers extends FixedPartitionedSource<i64, i64> {
  constructor(public parts: i64, public perPart: i64) { super(); }
  listParts(worker: i32, workers: i32): Array<string> {
    const names = new Array<string>();
    for (let i: i64 = 0; i < this.parts; i++) names.push("part-" + i.toString());
    return names;
  }
  buildPart(stepID: string, part: string, resumed: bool, state: i64): StatefulSourcePartition<i64, i64> {
    const p = parseInt64(part.substring(5));
    if (!part.startsWith("part-") || !parsedOK || p < 0 || p >= this.parts) throw new Error("unknown partition \"" + part + "\"");
    return new NumberPart(p * this.perPart, this.perPart, state);
  }
}

class PerPart {
  constructor(public n: i64) {}
}

function formatNumber(c: PerPart, n: i64): string { return "part-" + (n / c.n).toString() + "\t" + n.toString(); }

function customSource(a: Args): Dataflow | null {
  const parts = a.int(0);
  const perPart = a.int(1);
  if (parts < 1 || perPart < 1) {
    return a.fail("need parts >= 1 and per_part >= 1, got parts=" + parts.toString() + " per_part=" + perPart.toString());
  }
  const flow = new Dataflow("custom_source");
  const nums = input<i64>("numbers", flow, new Numbers(parts, perPart));
  output<string>("out", mapWith<PerPart, i64, string>("format", nums, new PerPart(perPart), formatNumber), FileSink(a.str(2)));
  return flow;
}

// ---- 5. timers ----

class EventPart extends StatefulSourcePartition<KV<i64>, i64> {
  deadline: i64 = 0; // set when nothing is left: EOF from then on
  constructor(public n: i64, public keys: i64, public pos: i64) { super(); }
  nextBatch(out: Array<KV<i64>>): bool {
    if (this.pos == this.n) {
      if (this.deadline == 0) this.deadline = nowNanos() + 2000000000;
      return nowNanos() >= this.deadline;
    }
    const end = min(this.pos + 5, this.n);
    for (; this.pos < end; this.pos++) out.push(new KV<i64>("k" + (this.pos % this.keys).toString(), this.pos));
    return false;
  }
  nextAwake(): i64 { return this.deadline != 0 ? this.deadline : NO_NOTIFY; }
  snapshot(): i64 { return this.pos; }
}

class Events extends FixedPartitionedSource<KV<i64>, i64> {
  constructor(public n: i64, public keys: i64) { super(); }
  listParts(worker: i32, workers: i32): Array<string> { return ["events"]; }
  buildPart(stepID: string, part: string, resumed: bool, state: i64): StatefulSourcePartition<KV<i64>, i64> {
    return new EventPart(this.n, this.keys, state);
  }
}

/** What a collector snapshots: the values kept and the deadline (Unix ns,
 * 0 while no value is kept). */
class CollectState {
  values: Array<i64> = [];
  deadline: i64 = 0;
  encodeTo(w: Writer): void {
    w.uvarint(<u64>this.values.length);
    for (let i = 0; i < this.values.length; i++) w.varint(this.values[i]);
    w.varint(this.deadline);
  }
  decodeFrom(r: Reader): void {
    const n = r.count(1);
    for (let i = 0; i < n; i++) this.values.push(r.varint());
    this.deadline = r.varint();
  }
}

/** Keeps a key's values until 20 ms after the first one. */
class Collector extends StatefulBatchLogic<i64, string, CollectState> {
  constructor(public st: CollectState) { super(); }
  onBatch(values: Array<i64>, out: Array<string>): bool {
    if (this.st.deadline == 0) this.st.deadline = nowNanos() + 20000000;
    for (let i = 0; i < values.length; i++) this.st.values.push(values[i]);
    return false;
  }
  flush(out: Array<string>, suffix: string): bool {
    for (let i = 0; i < this.st.values.length; i++) out.push(this.st.values[i].toString() + suffix);
    return true;
  }
  onNotify(out: Array<string>): bool { return this.flush(out, ""); }
  onEOF(out: Array<string>): bool { return this.flush(out, "\tlate"); }
  notifyAt(): i64 { return this.st.deadline != 0 ? this.st.deadline : NO_NOTIFY; }
  snapshot(): CollectState {
    const s = new CollectState();
    s.values = this.st.values.slice(0);
    s.deadline = this.st.deadline;
    return s;
  }
}

function buildCollector(resumed: bool, state: CollectState): StatefulBatchLogic<i64, string, CollectState> {
  return new Collector(state);
}

function timers(a: Args): Dataflow | null {
  const flow = new Dataflow("timers");
  const evs = input<KV<i64>>("events", flow, new Events(a.int(0) * a.int(1), a.int(0)));
  const collected = statefulBatch<i64, string, CollectState>("collect", evs, buildCollector);
  output<string>("out", map<KV<string>, string>("format", collected, formatText), FileSink(a.str(2)));
  return flow;
}

// ---- 6. discard ----

/** What a session snapshots. */
class SessionState {
  sum: i64 = 0;
  count: i64 = 0;
  encodeTo(w: Writer): void { w.varint(this.sum); w.varint(this.count); }
  decodeFrom(r: Reader): void { this.sum = r.varint(); this.count = r.varint(); }
}

/** Sums a key's integers until its value "end". */
class Session extends StatefulBatchLogic<string, string, SessionState> {
  constructor(public st: SessionState) { super(); }
  format(suffix: string): string { return this.st.sum.toString() + "\t" + this.st.count.toString() + suffix; }
  onBatch(values: Array<string>, out: Array<string>): bool {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v == "end") {
        out.push(this.format(""));
        this.st = new SessionState(); // what follows starts a new session
        continue;
      }
      const n = parseInt64(v);
      if (parsedOK) {
        this.st.sum += n;
        this.st.count++;
      }
    }
    return values[values.length - 1] == "end";
  }
  onEOF(out: Array<string>): bool {
    out.push(this.format("\topen"));
    return true;
  }
  snapshot(): SessionState {
    const s = new SessionState();
    s.sum = this.st.sum;
    s.count = this.st.count;
    return s;
  }
}

function buildSession(resumed: bool, state: SessionState): StatefulBatchLogic<string, string, SessionState> {
  return new Session(state);
}

function discard(a: Args): Dataflow | null {
  const flow = new Dataflow("discard");
  const lines = input<string>("inp", flow, FileSource(a.str(0)));
  const kvs = filterMap<string, KV<string>>("parse", lines, keyValue);
  const sessions = statefulBatch<string, string, SessionState>("session", kvs, buildSession);
  output<string>("out", map<KV<string>, string>("format", sessions, formatText), FileSink(a.str(1)));
  return flow;
}

// ---- 7. fail ----

/** The value keeps its key too: the mapper names the key when it fails. */
function keyedKeyValue(line: string): KV<KV<string>> | null {
  const kv = keyValue(line);
  if (kv == null) return null;
  return new KV<KV<string>>(kv.key, kv);
}

function sumOrBoom(sum: State<i64>, kv: KV<string>): i64 {
  if (kv.value == "boom") throw new Error("boom at " + kv.key);
  const n = parseInt64(kv.value);
  if (parsedOK) sum.value += n;
  return sum.value;
}

function fail(a: Args): Dataflow | null {
  const flow = new Dataflow("fail");
  const lines = input<string>("inp", flow, FileSource(a.str(0)));
  const kvs = filterMap<string, KV<KV<string>>>("parse", lines, keyedKeyValue);
  const sums = statefulMap<KV<string>, i64, i64>("sum", kvs, sumOrBoom);
  output<string>("out", map<KV<i64>, string>("format", sums, formatCount), FileSink(a.str(1)));
  return flow;
}

// ---- 8. args ----

/** Rounds half away from zero, as Go's math.Round. */
function roundHalfAway(f: f64): i64 {
  return f < 0 ? -<i64>Math.floor(-f + 0.5) : <i64>Math.floor(f + 0.5);
}

function args(a: Args): Dataflow | null {
  const flow = new Dataflow("args");
  const line = "s=" + a.str(0) + "|i=" + a.int(1).toString() + "|f_milli=" + roundHalfAway(a.float(2) * 1000).toString() +
    "|b=" + (a.bool(3) ? "true" : "false");
  output<string>("out", input<string>("inp", flow, new TestingSource<string>([line], 1)), FileSink(a.str(4)));
  return flow;
}

// ---- 9. window_count ----

const SECOND: i64 = 1_000_000_000;

/** A "KEY,SECONDS" line with a key and an integer, as the suite parses. */
function isEvent(line: string): bool {
  const comma = line.indexOf(",");
  if (comma < 0 || trim(line.substring(0, comma)).length == 0) return false;
  parseInt64(trim(line.substring(comma + 1)));
  return parsedOK;
}

function eventKey(line: string): string { return trim(line.substring(0, line.indexOf(","))); }

function eventSeconds(line: string): i64 { return parseInt64(trim(line.substring(line.indexOf(",") + 1))); }

function eventNanos(line: string): i64 { return eventSeconds(line) * SECOND; }

function formatWindow(kv: KV<WindowValue<i64>>): string {
  return kv.key + "\t" + kv.value.windowId.toString() + "\t" + kv.value.value.toString();
}

function formatLate(kv: KV<WindowValue<string>>): string {
  return "late:" + kv.key + "\t" + eventSeconds(kv.value.value).toString();
}

function windowCount(a: Args): Dataflow | null {
  const flow = new Dataflow("window_count");
  const lines = input<string>("inp", flow, FileSource(a.str(0)));
  const events = filter<string>("parse", lines, isEvent);
  const w = countWindow<string>("count", events, eventClock<string>(eventNanos, 60 * SECOND),
    new TumblingWindower(300 * SECOND, 0), eventKey);
  const down = map<KV<WindowValue<i64>>, string>("format_down", w.down, formatWindow);
  const late = map<KV<WindowValue<string>>, string>("format_late", w.late, formatLate);
  output<string>("out", merge<string>("all", [down, late]), FileSink(a.str(1)));
  return flow;
}

register("wordcount", "inp string, out string", wordcount);
register("running_sum", "inp string, out string", runningSum);
register("branch_merge", "inp string, out string", branchMerge);
register("custom_source", "parts int, per_part int, out string", customSource);
register("timers", "keys int, per_key int, out string", timers);
register("discard", "inp string, out string", discard);
register("fail", "inp string, out string", fail);
register("args", "s string, i int, f float64, b bool, out string", args);
register("window_count", "inp string, out string", windowCount);
