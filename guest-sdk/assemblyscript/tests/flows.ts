// The module the unit tests (tests/run.mjs) drive through the ABI: the two
// flows of the list_flows example in docs/abi.md, plus hooks that encode
// the worked examples with the SDK's codec.

import {
  Args, Dataflow, KV, Writer, register, input, output, map, branch, statefulBatch, StatefulBatchLogic,
  TestingSource, FileSource, StdOutSink, NO_NOTIFY,
} from "../assembly/index";
import { KVCodec, PlainCodec, BatchOut, StepInfo } from "../assembly/batch";
import { enterKey, encodeErrorInfo } from "../assembly/errors";

// ---- flow: a branch and a recording stateful step ----

function isAB(kv: KV<string>): bool { return kv.key == "ab"; }

/** Records what happens to a key: emits "batch:v1,v2", asks to be
 * notified at N for a value "at:N", discards on a value "drop". */
class Recorder extends StatefulBatchLogic<string, string, string> {
  at: i64 = NO_NOTIFY;
  constructor(public seen: string) { super(); }
  onBatch(values: Array<string>, out: Array<string>): bool {
    let drop = false;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v.startsWith("at:")) this.at = I64.parseInt(v.substring(3));
      if (v == "drop") drop = true;
      if (v == "boom") throw new Error("boom in the recorder");
      this.seen += (this.seen.length > 0 ? "," : "") + v;
    }
    out.push("batch:" + values.join(","));
    return drop;
  }
  onNotify(out: Array<string>): bool {
    out.push("notified");
    this.at = NO_NOTIFY;
    return false;
  }
  onEOF(out: Array<string>): bool {
    out.push("eof:" + this.seen);
    return true;
  }
  notifyAt(): i64 { return this.at; }
  snapshot(): string { return this.seen; }
}

function buildRecorder(resumed: bool, state: string): StatefulBatchLogic<string, string, string> {
  return new Recorder(state);
}

function text(kv: KV<string>): string { return kv.key + "=" + kv.value; }

function plain(a: Args): Dataflow | null {
  const flow = new Dataflow("t");
  const inp = input<KV<string>>("inp", flow, new TestingSource<KV<string>>([new KV<string>("ab", "hi"), new KV<string>("c", "xyz")], 1));
  const b = branch<KV<string>>("pick", inp, isAB);
  const rec = statefulBatch<string, string, string>("rec", b.trues, buildRecorder);
  output<string>("out", map<KV<string>, string>("show", rec, text), StdOutSink());
  return flow;
}

// ---- get_flow(path): a chain whose mapper throws ----

function explode(s: string): string {
  if (s == "boom") throw new Error("boom at " + s);
  return s;
}

function getFlow(a: Args): Dataflow | null {
  const flow = new Dataflow("g");
  output<string>("out", map<string, string>("explode", input<string>("inp", flow, FileSource(a.str(0))), explode), StdOutSink());
  return flow;
}

register("flow", "", plain);
register("get_flow", "path string", getFlow);

// ---- codec hooks ----

const hook = new Writer();

function ref(w: Writer): i64 { return (<i64>w.ptr << 32) | <i64>w.len; }

/** The encoding examples of docs/abi.md section 6, in order. */
export function t_primitives(): i64 {
  const w = hook;
  w.reset();
  w.uvarint(0); w.uvarint(1); w.uvarint(127); w.uvarint(128); w.uvarint(300); w.uvarint(16384);
  w.varint(0); w.varint(-1); w.varint(1); w.varint(-2); w.varint(63); w.varint(-64); w.varint(64);
  w.float(1.5);
  w.varint(1700000000000000000);
  w.str("hi");
  return ref(w);
}

/** The batch examples of section 8: the 2-item keyed batch, the unkeyed
 * batch of "hi" and the empty batch. */
export function t_batches(): i64 {
  const w = hook;
  w.reset();
  const kc = new KVCodec<string>();
  const o = new BatchOut();
  kc.put(o.body, new KV<string>("ab", "hi"));
  kc.put(o.body, new KV<string>("c", "xyz"));
  o.n = 2;
  o.flush(w);
  const pc = new PlainCodec<string>();
  const o2 = new BatchOut();
  pc.put(o2.body, "hi");
  o2.n = 1;
  o2.flush(w);
  new BatchOut().flush(w);
  return ref(w);
}

/** The ErrorInfo example of section 7: "boom", no stack, step index 2,
 * key "k", after its status byte. */
export function t_errorinfo(): i64 {
  const w = hook;
  w.reset();
  const st = new StepInfo();
  st.index = 2;
  enterKey(st, "on_batch", "k");
  w.byte(1);
  encodeErrorInfo(w, "boom", "");
  return ref(w);
}
