// A module for the stream connector tests of tests/run.mjs: a flow using
// every stream constructor (its graph carries their JSON arguments), and
// hooks for the JSON escaping, the start times and the Message codec.

import {
  Args, Dataflow, KV, Writer, Reader, register, input, output, map,
  Message, Header, Start, StreamOptions, SinkOptions,
  JetStreamSource, JetStreamPayloads, JetStreamSink, JetStreamMessageSink, NATSSource, NATSSink,
  KafkaSource, KafkaSink, KafkaMessageSink,
} from "../assembly/index";
import { jsonString, rfc3339Nano } from "../assembly/streams";

function bySubject(m: Message): KV<Message> { return new KV<Message>(m.subject, m); }

function asText(s: string): KV<string> { return new KV<string>(s, s); }

function streams(a: Args): Dataflow | null {
  const flow = new Dataflow("s");
  const o1 = new StreamOptions();
  o1.subjects = ["orders.eu", "orders.us"];
  o1.start = Start.New;
  o1.tail = true;
  o1.batch = 100;
  const o2 = new StreamOptions();
  o2.partitionBy = "orders.>";
  o2.start = Start.Time;
  o2.startTime = 1704164645500000000;
  const o3 = new StreamOptions();
  o3.start = Start.New;
  o3.batch = 10;
  const o4 = new StreamOptions();
  o4.start = Start.Time;
  o4.startTime = 1704164645000000000;
  o4.tail = true;
  const three = new SinkOptions();
  three.partitions = 3;

  const msgs = map<Message, KV<Message>>("key", input<Message>("js0", flow, JetStreamSource("events", "ORDERS")), bySubject);
  input<Message>("js1", flow, JetStreamSource("events", "ORDERS", o1));
  const text = map<string, KV<string>>("text", input<string>("js2", flow, JetStreamPayloads("events", "ORDERS", o2)), asText);
  input<Message>("nats", flow, NATSSource("bus", ["a.b", "c"]));
  input<Message>("k1", flow, KafkaSource("k", ["t1", "t2"], o3));
  input<Message>("k2", flow, KafkaSource("k", ["t"], o4));
  output<KV<string>>("jsout", text, JetStreamSink("out", "counts", three));
  output<KV<Message>>("jsmout", msgs, JetStreamMessageSink("out", ""));
  output<KV<string>>("natsout", text, NATSSink("bus", "replies"));
  output<KV<string>>("kout", text, KafkaSink("k", "out"));
  output<KV<Message>>("kmout", msgs, KafkaMessageSink("k", "out"));
  return flow;
}

register("streams", "", streams);

const hook = new Writer();

function ref(w: Writer): i64 { return (<i64>w.ptr << 32) | <i64>w.len; }

function text(s: string): i64 {
  hook.reset();
  hook.utf8(s);
  return ref(hook);
}

/** Strings to escape, by index (t_escape); "" past the end. */
const ESCAPES: Array<string> = [
  "plain", "", "q\"b\\s/", "\b\f\n\r\t", "\u0000\u0001\u001f\u007f", "<a>&b",
  "é\u2028\u2029€😀", "lone \ud800 high", "lone \udc00 low", "cut \ud83d",
];

/** The JSON string of the i-th escaping case. */
export function t_escape(i: i32): i64 { return text(i < ESCAPES.length ? jsonString(ESCAPES[i]) : ""); }

/** Unix nanoseconds t as a start_time. */
export function t_time(t: i64): i64 { return text(rfc3339Nano(t)); }

/** The message of the hand-written bytes of the tests, encoded. */
export function t_sample(): i64 {
  const m = new Message();
  m.subject = "orders.eu";
  m.key = Uint8Array.wrap(String.UTF8.encode("k"));
  m.value = Uint8Array.wrap(String.UTF8.encode("hi"));
  m.headers = [new Header("a", Uint8Array.wrap(String.UTF8.encode("1"))), new Header("b")];
  m.partition = "orders.>";
  m.seq = 300;
  m.time = -2;
  hook.reset();
  m.encodeTo(hook);
  return ref(hook);
}

let input_ = new Uint8Array(0);

/** A buffer of n bytes for t_decode to read. */
export function t_input(n: i32): usize {
  input_ = new Uint8Array(n);
  return input_.dataStart;
}

function hexOf(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (i > 0 ? " " : "") + b[i].toString(16).padStart(2, "0");
  return s;
}

/** Decodes the message in the t_input buffer and returns its fields as
 * "subject|key hex|value hex|name=value hex;...|partition|seq|time|" then
 * its encoding again in hex, or "error: ..." for a malformed one. */
export function t_decode(): i64 {
  const r = Reader.of(input_);
  const m = new Message();
  m.decodeFrom(r);
  if (!r.finish()) return text("error: " + r.err);
  let hs = "";
  for (let i = 0; i < m.headers.length; i++) hs += m.headers[i].name + "=" + hexOf(m.headers[i].value) + ";";
  const a = m.header("a");
  const w = new Writer();
  m.encodeTo(w);
  return text(m.subject + "|" + hexOf(m.key) + "|" + hexOf(m.value) + "|" + hs + "|" + m.partition + "|" +
    m.seq.toString() + "|" + m.time.toString() + "|" + (a == null ? "-" : hexOf(a)) + "|" + hexOf(w.toBytes()));
}
