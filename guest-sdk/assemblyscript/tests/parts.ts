// A module for the connector tests of tests/run.mjs: a dynamic source, a
// partitioned and a dynamic sink, and the host connectors, with a log the
// tests read through t_log.

import {
  Args, Dataflow, Writer, KV, register, input, output, map, DynamicSource, StatelessSourcePartition,
  flatMapBatch, filter, inspectDebug, flatMapWith, filterMapWith, keyOn, foldFinal, reduceFinal, redistribute,
  TestingSource, StdOutSink, merge,
  FixedPartitionedSink, StatefulSinkPartition, DynamicSink, StatelessSinkPartition, DirSource, StdinSource,
} from "../assembly/index";

const log = new Array<string>();

class Countdown extends StatelessSourcePartition<i64> {
  constructor(public first: i64) { super(); }
  nextBatch(out: Array<i64>): bool {
    for (let i: i64 = 0; i < 3; i++) out.push(this.first + i);
    return true;
  }
  close(): void { log.push("close dyn " + this.first.toString()); }
}

class Numbers extends DynamicSource<i64> {
  build(stepID: string, worker: i32, workers: i32): StatelessSourcePartition<i64> {
    log.push("build " + stepID + " " + worker.toString() + "/" + workers.toString());
    return new Countdown(<i64>worker * 100);
  }
}

class Part extends StatefulSinkPartition<string, i64> {
  constructor(public name: string, public written: i64) { super(); }
  writeBatch(values: Array<string>): void {
    this.written += values.length;
    log.push(this.name + ":" + values.join(","));
  }
  snapshot(): i64 { return this.written; }
  close(): void { log.push("close " + this.name); }
}

class Parts extends FixedPartitionedSink<string, i64> {
  listParts(worker: i32, workers: i32): Array<string> { return ["a", "b"]; }
  buildPart(stepID: string, part: string, resumed: bool, state: i64): StatefulSinkPartition<string, i64> {
    return new Part(part, state);
  }
}

class Printer extends StatelessSinkPartition<string> {
  writeBatch(values: Array<string>): void { log.push("dyn:" + values.join(",")); }
}

class Printers extends DynamicSink<string> {
  build(stepID: string, worker: i32, workers: i32): StatelessSinkPartition<string> { return new Printer(); }
}

function show(n: i64): string { return "n" + n.toString(); }

function flow(a: Args): Dataflow | null {
  const f = new Dataflow("p");
  const texts = map<i64, string>("show", input<i64>("dyn", f, new Numbers()), show);
  output<string>("psink", texts, new Parts());
  output<string>("dsink", texts, new Printers());
  output<string>("echo", input<string>("files", f, DirSource("logs/*.txt")), new Printers());
  output<string>("echo2", input<string>("stdin", f, StdinSource()), new Printers());
  return f;
}

register("flow", "", flow);

// ---- lib: every library operator on one line of steps ----

function same(xs: Array<string>): Array<string> { return xs; }
function nonEmpty(s: string): bool { return s.length > 0; }
function peek(stepID: string, s: string, epoch: u64, worker: i32): void {
  log.push(stepID + " " + s + " " + epoch.toString() + " " + worker.toString());
}
class Times { constructor(public n: i32) {} }
function repeat(t: Times, s: string): Array<string> {
  const out = new Array<string>();
  for (let i = 0; i < t.n; i++) out.push(s);
  return out;
}
function notX(t: Times, s: string): string | null { return s == "x" ? null : s + t.n.toString(); }
function first(s: string): string { return s.substring(0, 1); }
function emptyText(): string { return ""; }
function concat(acc: string, kv: string): string { return acc + kv; }
function longer(a: string, b: string): string { return b.length > a.length ? b : a; }
function showKV(kv: KV<string>): string { return kv.key + "=" + kv.value; }

function lib(a: Args): Dataflow | null {
  const f = new Dataflow("l");
  const xs = flatMapBatch<string, string>("batch", input<string>("inp", f, new TestingSource<string>(["ab", "", "x", "ac", "b"], 5)), same);
  const ys = filter<string>("nonempty", xs, nonEmpty);
  const zs = inspectDebug<string>("peek", ys, peek);
  const ws = filterMapWith<Times, string, string>("tag", flatMapWith<Times, string, string>("dup", zs, new Times(2), repeat), new Times(7), notX);
  const keyed = keyOn<string>("key", redistribute<string>("spread", ws), first);
  const folded = foldFinal<string, string>("fold", keyed, emptyText, concat);
  const reduced = reduceFinal<string>("longest", keyed, longer);
  output<string>("out", map<KV<string>, string>("show", merge<KV<string>>("both", [folded, reduced]), showKV), StdOutSink());
  return f;
}

register("lib", "", lib);

const hook = new Writer();

/** The log so far, one entry a line, and clears it. */
export function t_log(): i64 {
  hook.reset();
  hook.utf8(log.join("\n"));
  log.length = 0;
  return (<i64>hook.ptr << 32) | <i64>hook.len;
}
