//! Stream connectors the host implements: NATS JetStream, core NATS and
//! Kafka (docs/abi.md; the Go SDK's bx/streams.go is the reference). A
//! step's argument is a JSON object (the Go SDK's `abi.StreamConn`) built
//! here by hand; the module names a connection, the operator binds it with
//! `--connection NAME=URL`.

use crate::codec::Codec;
use crate::parts::{host_sink, host_source, Sink, Source};
use crate::wire::{put_bytes, put_uvarint, put_varint, Reader};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) const CONN_JETSTREAM: u8 = 7;
pub(crate) const CONN_NATS: u8 = 8;
pub(crate) const CONN_KAFKA: u8 = 9;

const FORMAT_MESSAGE: &str = "message";
const FORMAT_PAYLOAD: &str = "payload";

/// One header of a `Message`; a name may repeat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Vec<u8>,
}

/// A message of a stream connector: read by `jetstream_source`,
/// `nats_source` or `kafka_source`, or published by a message sink.
/// `value` is the payload; `key` is a Kafka record's key; `partition` and
/// `seq` say where a source read it (the subject filter or
/// "topic/partition", and the JetStream stream sequence or Kafka offset; 0
/// for core NATS); `time` is when the server stored it. A sink ignores
/// `partition`, `seq` and `time`; an empty `subject` publishes to the
/// step's own subject.
///
/// On the wire (the Go SDK's `abi.Message`):
/// `string subject | bytes key | bytes value | uvarint n | (string name, bytes value) × n |
/// string partition | uvarint seq | varint time` (Unix nanoseconds, 0 for none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub headers: Vec<Header>,
    pub partition: String,
    pub seq: u64,
    pub time: Option<SystemTime>,
}

impl Message {
    /// The first value of the header `name`, or None.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|h| h.name == name).map(|h| h.value.as_slice())
    }
}

/// Unix nanoseconds of `t` (saturating), as the wire carries times.
fn nanos_of(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map(|n| -n).unwrap_or(i64::MIN),
    }
}

/// The time `n` Unix nanoseconds stand for.
fn time_of(n: i64) -> SystemTime {
    if n >= 0 {
        UNIX_EPOCH + Duration::from_nanos(n as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(n.unsigned_abs())
    }
}

impl Codec for Message {
    fn encode(&self, out: &mut Vec<u8>) {
        put_bytes(out, self.subject.as_bytes());
        put_bytes(out, &self.key);
        put_bytes(out, &self.value);
        put_uvarint(out, self.headers.len() as u64);
        for h in &self.headers {
            put_bytes(out, h.name.as_bytes());
            put_bytes(out, &h.value);
        }
        put_bytes(out, self.partition.as_bytes());
        put_uvarint(out, self.seq);
        put_varint(out, self.time.map(nanos_of).unwrap_or(0));
    }

    fn decode(b: &[u8]) -> Result<Self, String> {
        decode_message(b).map_err(|e| format!("bx: cannot decode a Message: {}", e))
    }
}

fn decode_message(b: &[u8]) -> Result<Message, String> {
    let mut r = Reader::new(b);
    let mut m = Message { subject: r.string()?, key: r.bytes()?.to_vec(), value: r.bytes()?.to_vec(), ..Message::default() };
    let n = r.count(2)?;
    for _ in 0..n {
        m.headers.push(Header { name: r.string()?, value: r.bytes()?.to_vec() });
    }
    m.partition = r.string()?;
    m.seq = r.uvarint()?;
    let t = r.varint()?;
    if t != 0 {
        m.time = Some(time_of(t));
    }
    if r.rest() != 0 {
        return Err(format!("{} trailing bytes", r.rest()));
    }
    Ok(m)
}

/// Where a stream source without resume state begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// From the stream's first message (the default).
    First,
    /// Only what arrives after the run starts.
    New,
    /// From the first message stored at or after this time.
    At(SystemTime),
}

impl Default for Start {
    fn default() -> Start {
        Start::First
    }
}

/// Options of `jetstream_source`, `jetstream_payloads` and `kafka_source`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamOptions {
    /// A JetStream source's partitions, one subject filter each (default:
    /// the stream's subjects).
    pub subjects: Vec<String>,
    /// Makes a JetStream source's partitions the subjects of the stream
    /// that match this pattern when the run starts.
    pub partition_by: String,
    /// Where to begin without resume state (default `Start::First`).
    pub start: Start,
    /// Keeps waiting for new messages, so the input never ends; without it
    /// the source ends at the last message there when the run started.
    pub tail: bool,
    /// The most messages fetched at once (0: the host's default, 1000).
    pub batch: usize,
}

/// Options of the JetStream and core NATS sinks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkOptions {
    /// How many partitions the sink has (0: the default, 1); items go to
    /// one by their key, each publishes in order.
    pub partitions: usize,
}

/// A stream connector's argument: the Go SDK's `abi.StreamConn`, whose
/// JSON fields are written in its order and left out when empty.
#[derive(Default)]
pub(crate) struct StreamConn {
    pub conn: String,
    pub stream: String,
    pub subjects: Vec<String>,
    pub partition_by: String,
    pub topics: Vec<String>,
    pub subject: String,
    pub topic: String,
    pub start: &'static str,
    pub start_time: String,
    pub tail: bool,
    pub batch: usize,
    pub format: &'static str,
    pub partitions: usize,
}

impl StreamConn {
    /// The JSON object, as encoding/json writes the Go struct.
    pub(crate) fn encode(&self) -> String {
        let mut o = JsonObject::default();
        o.string("conn", &self.conn, true);
        o.string("stream", &self.stream, false);
        o.strings("subjects", &self.subjects);
        o.string("partition_by", &self.partition_by, false);
        o.strings("topics", &self.topics);
        o.string("subject", &self.subject, false);
        o.string("topic", &self.topic, false);
        o.string("start", self.start, false);
        o.string("start_time", &self.start_time, false);
        if self.tail {
            o.field("tail").push_str("true");
        }
        o.int("batch", self.batch);
        o.string("format", self.format, false);
        o.int("partitions", self.partitions);
        o.finish()
    }
}

/// Writes a JSON object field by field.
#[derive(Default)]
struct JsonObject {
    s: String,
}

impl JsonObject {
    /// Starts the field `name` and returns the text to write its value to.
    fn field(&mut self, name: &str) -> &mut String {
        self.s.push(if self.s.is_empty() { '{' } else { ',' });
        json_string(&mut self.s, name);
        self.s.push(':');
        &mut self.s
    }

    fn string(&mut self, name: &str, v: &str, always: bool) {
        if always || !v.is_empty() {
            json_string(self.field(name), v);
        }
    }

    fn strings(&mut self, name: &str, v: &[String]) {
        if v.is_empty() {
            return;
        }
        let s = self.field(name);
        for (i, x) in v.iter().enumerate() {
            s.push(if i == 0 { '[' } else { ',' });
            json_string(s, x);
        }
        s.push(']');
    }

    fn int(&mut self, name: &str, v: usize) {
        if v != 0 {
            let s = self.field(name);
            s.push_str(&v.to_string());
        }
    }

    fn finish(mut self) -> String {
        if self.s.is_empty() {
            self.s.push('{');
        }
        self.s.push('}');
        self.s
    }
}

/// Appends `v` as a JSON string the way Go's encoding/json writes it:
/// quotes, backslashes and control characters escaped, and also `<`, `>`,
/// `&`, U+2028 and U+2029.
pub(crate) fn json_string(out: &mut String, v: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The days since 1970-01-01 as a civil (year, month, day).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

/// `t` in RFC 3339 with nanoseconds, in UTC, as Go's
/// `t.UTC().Format(time.RFC3339Nano)` writes it (trailing zeros of the
/// fraction dropped).
pub(crate) fn rfc3339_nano(t: SystemTime) -> String {
    let n = nanos_of(t) as i128;
    let secs = n.div_euclid(1_000_000_000) as i64;
    let frac = n.rem_euclid(1_000_000_000) as u32;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let mut out = format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, mo, d, s / 3600, s / 60 % 60, s % 60);
    if frac != 0 {
        let f = format!("{:09}", frac);
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

fn source_arg(conn: &str, o: &StreamOptions, format: &'static str) -> StreamConn {
    let mut a = StreamConn {
        conn: conn.to_string(),
        subjects: o.subjects.clone(),
        partition_by: o.partition_by.clone(),
        tail: o.tail,
        batch: o.batch,
        format,
        ..StreamConn::default()
    };
    match o.start {
        Start::First => {}
        Start::New => a.start = "new",
        Start::At(t) => {
            a.start = "time";
            a.start_time = rfc3339_nano(t);
        }
    }
    a
}

fn sink_arg(conn: &str, subject: &str, topic: &str, partitions: usize, format: &'static str) -> StreamConn {
    StreamConn { conn: conn.to_string(), subject: subject.to_string(), topic: topic.to_string(), partitions, format, ..StreamConn::default() }
}

/// Reads the NATS JetStream stream `stream` on connection `conn` (a name
/// the operator binds with `--connection conn=nats://...`). Each partition
/// (a subject filter) is read by one worker; its stream sequence is
/// snapshotted every epoch, so a resume continues right after the last
/// message the flow committed: exactly once into the dataflow.
pub fn jetstream_source(conn: &str, stream: &str, o: StreamOptions) -> Source<Message> {
    let mut a = source_arg(conn, &o, "");
    a.stream = stream.to_string();
    host_source(CONN_JETSTREAM, a.encode())
}

/// `jetstream_source` emitting only each message's data.
pub fn jetstream_payloads(conn: &str, stream: &str, o: StreamOptions) -> Source<String> {
    let mut a = source_arg(conn, &o, FORMAT_PAYLOAD);
    a.stream = stream.to_string();
    host_source(CONN_JETSTREAM, a.encode())
}

/// Publishes each value into the JetStream stream that holds `subject`,
/// once the epoch it belongs to is committed, with a Nats-Msg-Id that a
/// resumed run reuses: exactly once when the stream's duplicate window is
/// longer than the longest outage a resume follows. Without a recovery
/// store it publishes right away. The item key routes it to a partition.
pub fn jetstream_sink(conn: &str, subject: &str, o: SinkOptions) -> Sink<(String, String)> {
    host_sink(CONN_JETSTREAM, sink_arg(conn, subject, "", o.partitions, "").encode())
}

/// `jetstream_sink` for whole messages: each one's subject (`subject` when
/// empty), value and headers are published.
pub fn jetstream_message_sink(conn: &str, subject: &str, o: SinkOptions) -> Sink<(String, Message)> {
    host_sink(CONN_JETSTREAM, sink_arg(conn, subject, "", o.partitions, FORMAT_MESSAGE).encode())
}

/// Subscribes to core NATS subjects, one partition (and one worker) per
/// subject. Core NATS keeps nothing: what arrives while the flow is down is
/// lost, so it is at most once. It never ends.
pub fn nats_source(conn: &str, subjects: &[&str]) -> Source<Message> {
    let a = StreamConn { conn: conn.to_string(), subjects: subjects.iter().map(|s| s.to_string()).collect(), ..StreamConn::default() };
    host_source(CONN_NATS, a.encode())
}

/// Publishes each value to a core NATS subject, right away; what a resume
/// replays is published again (at least once), and nothing is kept for a
/// subscriber that is not there.
pub fn nats_sink(conn: &str, subject: &str, o: SinkOptions) -> Sink<(String, String)> {
    host_sink(CONN_NATS, sink_arg(conn, subject, "", o.partitions, "").encode())
}

/// Reads Kafka topics on connection `conn` (bound with
/// `--connection conn=kafka://HOST:PORT`). Each topic partition is a source
/// partition read by one worker; offsets are snapshotted every epoch, so a
/// resume continues right after the last committed record: exactly once
/// into the dataflow, without consumer groups.
pub fn kafka_source(conn: &str, topics: &[&str], o: StreamOptions) -> Source<Message> {
    let mut a = source_arg(conn, &o, "");
    a.topics = topics.iter().map(|s| s.to_string()).collect();
    host_source(CONN_KAFKA, a.encode())
}

/// Produces each value into `topic` with the item's key as the record key.
/// Each partition of the topic is a partition of the sink (an item goes to
/// the one its key hashes to) and gets an epoch's records once the epoch is
/// committed, under ids a resumed run checks, so nothing is produced twice.
pub fn kafka_sink(conn: &str, topic: &str) -> Sink<(String, String)> {
    host_sink(CONN_KAFKA, sink_arg(conn, "", topic, 0, "").encode())
}

/// `kafka_sink` for whole messages: each one's key (the item's key when
/// empty), value and headers are produced.
pub fn kafka_message_sink(conn: &str, topic: &str) -> Sink<(String, Message)> {
    host_sink(CONN_KAFKA, sink_arg(conn, "", topic, 0, FORMAT_MESSAGE).encode())
}
