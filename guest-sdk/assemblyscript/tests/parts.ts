// A module for the connector tests of tests/run.mjs: a dynamic source, a
// partitioned and a dynamic sink, and the host connectors, with a log the
// tests read through t_log.

import {
  Args, Dataflow, Writer, register, input, output, map, DynamicSource, StatelessSourcePartition,
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

const hook = new Writer();

/** The log so far, one entry a line, and clears it. */
export function t_log(): i64 {
  hook.reset();
  hook.utf8(log.join("\n"));
  log.length = 0;
  return (<i64>hook.ptr << 32) | <i64>hook.len;
}
