// Stream connectors the host implements: NATS JetStream, core NATS and
// Kafka (the Go SDK's bx/streams.go is the reference). A step's argument is
// a JSON object (the Go SDK's abi.StreamConn) built here by hand; the
// module names a connection, the operator binds it with
// --connection NAME=URL.

import { Writer, Reader } from "./codec";
import { KV, CONN_JETSTREAM, CONN_NATS, CONN_KAFKA } from "./batch";
import { Source, Sink } from "./parts";

const FORMAT_MESSAGE = "message";
const FORMAT_PAYLOAD = "payload";

/** One header of a Message; a name may repeat. */
export class Header {
  constructor(public name: string = "", public value: Uint8Array = new Uint8Array(0)) {}
}

/** A message of a stream connector: read by JetStreamSource, NATSSource or
 * KafkaSource, or published by a message sink. value is the payload; key a
 * Kafka record's key; partition and seq say where a source read it (the
 * subject filter or "topic/partition", and the JetStream stream sequence or
 * Kafka offset; 0 for core NATS); time is when the server stored it, in
 * Unix nanoseconds (0 for none). A sink ignores partition, seq and time; an
 * empty subject publishes to the step's own subject.
 *
 * On the wire (the Go SDK's abi.Message): string subject | bytes key |
 * bytes value | uvarint n | (string name, bytes value) × n |
 * string partition | uvarint seq | varint time. */
export class Message {
  subject: string = "";
  key: Uint8Array = new Uint8Array(0);
  value: Uint8Array = new Uint8Array(0);
  headers: Array<Header> = [];
  partition: string = "";
  seq: u64 = 0;
  time: i64 = 0;

  /** The first value of the header name, or null. */
  header(name: string): Uint8Array | null {
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i].name == name) return this.headers[i].value;
    }
    return null;
  }

  /** Appends the message's encoding. */
  encodeTo(w: Writer): void {
    w.str(this.subject);
    w.bytes(this.key.dataStart, this.key.length);
    w.bytes(this.value.dataStart, this.value.length);
    w.uvarint(<u64>this.headers.length);
    for (let i = 0; i < this.headers.length; i++) {
      const h = this.headers[i];
      w.str(h.name);
      w.bytes(h.value.dataStart, h.value.length);
    }
    w.str(this.partition);
    w.uvarint(this.seq);
    w.varint(this.time);
  }

  /** Reads a message; a malformed one leaves r.err set (and the reader's
   * caller checks r.finish() for trailing bytes). */
  decodeFrom(r: Reader): void {
    this.subject = r.str();
    this.key = r.bytes();
    this.value = r.bytes();
    const n = r.count(2);
    const hs = new Array<Header>();
    for (let i = 0; i < n && r.err.length == 0; i++) {
      const name = r.str();
      hs.push(new Header(name, r.bytes()));
    }
    this.headers = hs;
    this.partition = r.str();
    this.seq = r.uvarint();
    this.time = r.varint();
  }
}

/** Decodes a whole message from b; throws on a malformed one. */
export function decodeMessage(b: Uint8Array): Message {
  const r = Reader.of(b);
  const m = new Message();
  m.decodeFrom(r);
  if (!r.finish()) throw new Error("bx: cannot decode a message: " + r.err);
  return m;
}

/** Where a stream source without resume state begins. */
export enum Start {
  /** From the stream's first message (the default). */
  First,
  /** Only what arrives after the run starts. */
  New,
  /** From the first message stored at or after StreamOptions.startTime. */
  Time,
}

/** Options of JetStreamSource, JetStreamPayloads and KafkaSource. */
export class StreamOptions {
  /** A JetStream source's partitions, one subject filter each (default:
   * the stream's subjects). */
  subjects: Array<string> = [];
  /** Makes a JetStream source's partitions the subjects of the stream
   * that match this pattern when the run starts. */
  partitionBy: string = "";
  /** Where to begin without resume state (default Start.First). */
  start: Start = Start.First;
  /** For Start.Time: Unix nanoseconds. */
  startTime: i64 = 0;
  /** Keeps waiting for new messages, so the input never ends; without it
   * the source ends at the last message there when the run started. */
  tail: bool = false;
  /** The most messages fetched at once (0: the default, 1000). */
  batch: i32 = 0;
}

/** Options of the JetStream and core NATS sinks. */
export class SinkOptions {
  /** How many partitions the sink has (0: the default, 1); items go to
   * one by their key, each publishes in order. */
  partitions: i32 = 0;
}

/** A stream connector's argument: the Go SDK's abi.StreamConn, whose JSON
 * fields are written in its order and left out when empty. */
class StreamConn {
  conn: string = "";
  stream: string = "";
  subjects: Array<string> = [];
  partitionBy: string = "";
  topics: Array<string> = [];
  subject: string = "";
  topic: string = "";
  start: string = "";
  startTime: string = "";
  tail: bool = false;
  batch: i32 = 0;
  format: string = "";
  partitions: i32 = 0;

  encode(): string {
    const o = new JsonObject();
    o.str("conn", this.conn, true);
    o.str("stream", this.stream, false);
    o.strs("subjects", this.subjects);
    o.str("partition_by", this.partitionBy, false);
    o.strs("topics", this.topics);
    o.str("subject", this.subject, false);
    o.str("topic", this.topic, false);
    o.str("start", this.start, false);
    o.str("start_time", this.startTime, false);
    if (this.tail) o.field("tail").push("true");
    o.int("batch", this.batch);
    o.str("format", this.format, false);
    o.int("partitions", this.partitions);
    return o.finish();
  }
}

/** Writes a JSON object field by field. */
class JsonObject {
  parts: Array<string> = [];

  field(name: string): Array<string> {
    this.parts.push(this.parts.length == 0 ? "{" : ",");
    this.parts.push(jsonString(name));
    this.parts.push(":");
    return this.parts;
  }

  str(name: string, v: string, always: bool): void {
    if (always || v.length > 0) this.field(name).push(jsonString(v));
  }

  strs(name: string, v: Array<string>): void {
    if (v.length == 0) return;
    const p = this.field(name);
    for (let i = 0; i < v.length; i++) {
      p.push(i == 0 ? "[" : ",");
      p.push(jsonString(v[i]));
    }
    p.push("]");
  }

  int(name: string, v: i32): void {
    if (v != 0) this.field(name).push(v.toString());
  }

  finish(): string {
    if (this.parts.length == 0) this.parts.push("{");
    this.parts.push("}");
    return this.parts.join("");
  }
}

const HEX = "0123456789abcdef";

/** s as a JSON string the way Go's encoding/json writes it: quotes,
 * backslashes and control characters escaped, and also <, >, &, U+2028
 * and U+2029; a lone surrogate (not UTF-8) becomes \ufffd. */
export function jsonString(s: string): string {
  let out = "\"";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc = "";
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c == 0x08) esc = "\\b";
    else if (c == 0x0c) esc = "\\f";
    else if (c < 0x20 || c == 0x3c || c == 0x3e || c == 0x26) esc = "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 15);
    else if (c == 0x2028) esc = "\\u2028";
    else if (c == 0x2029) esc = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      i++; // a surrogate pair: one character, kept
      continue;
    } else if (c >= 0xd800 && c <= 0xdfff) esc = "\\ufffd";
    else continue;
    out += s.substring(from, i) + esc;
    from = i + 1;
  }
  return out + s.substring(from) + "\"";
}

function pad(v: i64, n: i32): string { return v.toString().padStart(n, "0"); }

/** Unix nanoseconds t as Go's t.UTC().Format(time.RFC3339Nano) writes it
 * (the fraction without its trailing zeros). */
export function rfc3339Nano(t: i64): string {
  let secs = t / 1000000000;
  let frac = t % 1000000000;
  if (frac < 0) { frac += 1000000000; secs--; }
  let days = secs / 86400;
  let sod = secs % 86400;
  if (sod < 0) { sod += 86400; days--; }
  // days to a civil date (H. Hinnant's algorithm)
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  let out = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(sod / 3600, 2) + ":" + pad(sod / 60 % 60, 2) + ":" + pad(sod % 60, 2);
  if (frac != 0) {
    let f = pad(frac, 9);
    let n = 9;
    while (f.charCodeAt(n - 1) == 0x30) n--;
    out += "." + f.substring(0, n);
  }
  return out + "Z";
}

class StreamSource<T> extends Source<T> {
  constructor(public kind: u8, public json: string) { super(); }
  conn(): u8 { return this.kind; }
  arg(): string { return this.json; }
}

class StreamSink<T> extends Sink<T> {
  constructor(public kind: u8, public json: string) { super(); }
  conn(): u8 { return this.kind; }
  arg(): string { return this.json; }
}

function sourceConn(conn: string, o: StreamOptions, format: string): StreamConn {
  const a = new StreamConn();
  a.conn = conn;
  a.subjects = o.subjects;
  a.partitionBy = o.partitionBy;
  a.tail = o.tail;
  a.batch = o.batch;
  a.format = format;
  if (o.start == Start.New) {
    a.start = "new";
  } else if (o.start == Start.Time) {
    a.start = "time";
    a.startTime = rfc3339Nano(o.startTime);
  }
  return a;
}

function sinkConn(conn: string, subject: string, topic: string, partitions: i32, format: string): StreamConn {
  const a = new StreamConn();
  a.conn = conn;
  a.subject = subject;
  a.topic = topic;
  a.partitions = partitions;
  a.format = format;
  return a;
}

/** Reads the NATS JetStream stream on connection conn (a name the operator
 * binds with --connection conn=nats://...). Each partition (a subject
 * filter) is read by one worker; its stream sequence is snapshotted every
 * epoch, so a resume continues right after the last message the flow
 * committed: exactly once into the dataflow. */
export function JetStreamSource(conn: string, stream: string, o: StreamOptions = new StreamOptions()): Source<Message> {
  const a = sourceConn(conn, o, "");
  a.stream = stream;
  return new StreamSource<Message>(CONN_JETSTREAM, a.encode());
}

/** JetStreamSource emitting only each message's data. */
export function JetStreamPayloads(conn: string, stream: string, o: StreamOptions = new StreamOptions()): Source<string> {
  const a = sourceConn(conn, o, FORMAT_PAYLOAD);
  a.stream = stream;
  return new StreamSource<string>(CONN_JETSTREAM, a.encode());
}

/** Publishes each value into the JetStream stream that holds subject, once
 * the epoch it belongs to is committed, with a Nats-Msg-Id that a resumed
 * run reuses: exactly once when the stream's duplicate window is longer
 * than the longest outage a resume follows. Without a recovery store it
 * publishes right away. The item's key routes it to a partition. */
export function JetStreamSink(conn: string, subject: string, o: SinkOptions = new SinkOptions()): Sink<KV<string>> {
  return new StreamSink<KV<string>>(CONN_JETSTREAM, sinkConn(conn, subject, "", o.partitions, "").encode());
}

/** JetStreamSink for whole messages: each one's subject (subject when
 * empty), value and headers are published. */
export function JetStreamMessageSink(conn: string, subject: string, o: SinkOptions = new SinkOptions()): Sink<KV<Message>> {
  return new StreamSink<KV<Message>>(CONN_JETSTREAM, sinkConn(conn, subject, "", o.partitions, FORMAT_MESSAGE).encode());
}

/** Subscribes to core NATS subjects, one partition (and one worker) per
 * subject. Core NATS keeps nothing: what arrives while the flow is down is
 * lost, so it is at most once. It never ends. */
export function NATSSource(conn: string, subjects: Array<string>): Source<Message> {
  const a = new StreamConn();
  a.conn = conn;
  a.subjects = subjects;
  return new StreamSource<Message>(CONN_NATS, a.encode());
}

/** Publishes each value to a core NATS subject, right away; what a resume
 * replays is published again (at least once), and nothing is kept for a
 * subscriber that is not there. */
export function NATSSink(conn: string, subject: string, o: SinkOptions = new SinkOptions()): Sink<KV<string>> {
  return new StreamSink<KV<string>>(CONN_NATS, sinkConn(conn, subject, "", o.partitions, "").encode());
}

/** Reads Kafka topics on connection conn (bound with
 * --connection conn=kafka://HOST:PORT). Each topic partition is a source
 * partition read by one worker; offsets are snapshotted every epoch, so a
 * resume continues right after the last committed record: exactly once
 * into the dataflow, without consumer groups. */
export function KafkaSource(conn: string, topics: Array<string>, o: StreamOptions = new StreamOptions()): Source<Message> {
  const a = sourceConn(conn, o, "");
  a.topics = topics;
  return new StreamSource<Message>(CONN_KAFKA, a.encode());
}

/** Produces each value into topic with the item's key as the record key.
 * Each partition of the topic is a partition of the sink (an item goes to
 * the one its key hashes to) and gets an epoch's records once the epoch is
 * committed, under ids a resumed run checks, so nothing is produced
 * twice. */
export function KafkaSink(conn: string, topic: string): Sink<KV<string>> {
  return new StreamSink<KV<string>>(CONN_KAFKA, sinkConn(conn, "", topic, 0, "").encode());
}

/** KafkaSink for whole messages: each one's key (the item's key when
 * empty), value and headers are produced. */
export function KafkaMessageSink(conn: string, topic: string): Sink<KV<Message>> {
  return new StreamSink<KV<Message>>(CONN_KAFKA, sinkConn(conn, "", topic, 0, FORMAT_MESSAGE).encode());
}
