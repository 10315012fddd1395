//! Native unit tests of the stream connectors: the JSON argument of each
//! constructor (the bytes the Go SDK's abi.StreamConn.Encode writes for the
//! same options, written out by hand), the string escaping, and the
//! Message codec.

use crate::codec::Codec;
use crate::flow::Dataflow;
use crate::streams::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect()
}

fn at(nanos: i64) -> SystemTime {
    if nanos >= 0 {
        UNIX_EPOCH + Duration::from_nanos(nanos as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(nanos.unsigned_abs())
    }
}

/// The connector kind and argument of the input or output step `id` of a
/// flow built with `source` and `sink`.
fn step_conns(flow: &Dataflow) -> Vec<(String, u8, String)> {
    flow.inner.borrow().steps.iter().map(|s| (s.id.clone(), s.conn, s.arg.clone())).collect()
}

#[test]
fn source_constructors_write_the_go_sdks_json() {
    let sources: Vec<(crate::parts::Source<Message>, u8, &str)> = vec![
        (jetstream_source("events", "ORDERS", StreamOptions::default()), 7, r#"{"conn":"events","stream":"ORDERS"}"#),
        (
            jetstream_source(
                "events",
                "ORDERS",
                StreamOptions {
                    subjects: vec!["orders.eu".into(), "orders.us".into()],
                    start: Start::New,
                    tail: true,
                    batch: 100,
                    ..StreamOptions::default()
                },
            ),
            7,
            r#"{"conn":"events","stream":"ORDERS","subjects":["orders.eu","orders.us"],"start":"new","tail":true,"batch":100}"#,
        ),
        (nats_source("bus", &["a.b", "c"]), 8, r#"{"conn":"bus","subjects":["a.b","c"]}"#),
        (nats_source("bus", &[]), 8, r#"{"conn":"bus"}"#),
        (
            kafka_source("k", &["t1", "t2"], StreamOptions { start: Start::New, batch: 10, ..StreamOptions::default() }),
            9,
            r#"{"conn":"k","topics":["t1","t2"],"start":"new","batch":10}"#,
        ),
        (
            kafka_source("k", &["t"], StreamOptions { start: Start::At(at(1_704_164_645_000_000_000)), tail: true, ..StreamOptions::default() }),
            9,
            r#"{"conn":"k","topics":["t"],"start":"time","start_time":"2024-01-02T03:04:05Z","tail":true}"#,
        ),
    ];
    let flow = Dataflow::new("f");
    let mut want = Vec::new();
    for (i, (src, kind, json)) in sources.into_iter().enumerate() {
        flow.input(&format!("in{}", i), src);
        want.push((format!("f.in{}", i), kind, json.to_string()));
    }
    assert_eq!(step_conns(&flow), want);
}

#[test]
fn payload_source_and_sinks_write_the_go_sdks_json() {
    let flow = Dataflow::new("f");
    let opts = StreamOptions { partition_by: "orders.>".into(), start: Start::At(at(1_704_164_645_500_000_000)), ..StreamOptions::default() };
    let lines = flow.input("in", jetstream_payloads("events", "ORDERS", opts));
    let kv = lines.map("key", |s: String| (s.clone(), s));
    let msgs = kv.clone().map("msg", |(k, v): (String, String)| (k, Message { value: v.into_bytes(), ..Message::default() }));
    kv.output("js", jetstream_sink("out", "counts", SinkOptions { partitions: 3 }));
    msgs.output("jsm", jetstream_message_sink("out", "", SinkOptions::default()));
    kv.output("nats", nats_sink("bus", "replies", SinkOptions::default()));
    kv.output("kafka", kafka_sink("k", "out"));
    msgs.output("kafkam", kafka_message_sink("k", "out"));
    let got: Vec<(String, u8, String)> = step_conns(&flow).into_iter().filter(|s| s.1 != 0).collect();
    let want = [
        ("f.in", 7, r#"{"conn":"events","stream":"ORDERS","partition_by":"orders.\u003e","start":"time","start_time":"2024-01-02T03:04:05.5Z","format":"payload"}"#),
        ("f.js", 7, r#"{"conn":"out","subject":"counts","partitions":3}"#),
        ("f.jsm", 7, r#"{"conn":"out","format":"message"}"#),
        ("f.nats", 8, r#"{"conn":"bus","subject":"replies"}"#),
        ("f.kafka", 9, r#"{"conn":"k","topic":"out"}"#),
        ("f.kafkam", 9, r#"{"conn":"k","topic":"out","format":"message"}"#),
    ];
    let want: Vec<(String, u8, String)> = want.iter().map(|(a, b, c)| (a.to_string(), *b, c.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn json_strings_are_escaped_as_go_escapes_them() {
    let cases: &[(&str, &str)] = &[
        ("plain", r#""plain""#),
        ("", r#""""#),
        ("q\"b\\s/", r#""q\"b\\s/""#),
        ("\u{8}\u{c}\n\r\t", r#""\b\f\n\r\t""#),
        ("\u{0}\u{1}\u{1f}\u{7f}", "\"\\u0000\\u0001\\u001f\u{7f}\""),
        ("<a>&b", r#""\u003ca\u003e\u0026b""#),
        ("é\u{2028}\u{2029}€😀", "\"é\\u2028\\u2029€😀\""),
    ];
    for (v, want) in cases {
        let mut got = String::new();
        json_string(&mut got, v);
        assert_eq!(&got, want, "escaping {:?}", v);
    }
    let src = jetstream_source("ev\"\\\u{8}\u{c}\n\r\t\u{1}\u{1f}<>&\u{2028}é", "S", StreamOptions::default());
    let flow = Dataflow::new("f");
    flow.input("in", src);
    assert_eq!(
        step_conns(&flow)[0].2,
        r#"{"conn":"ev\"\\\b\f\n\r\t\u0001\u001f\u003c\u003e\u0026\u2028é","stream":"S"}"#
    );
}

#[test]
fn start_times_are_written_as_go_writes_rfc3339_nano() {
    let cases: &[(i64, &str)] = &[
        (0, "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (1_704_164_645_500_000_000, "2024-01-02T03:04:05.5Z"),
        (951_782_400_123_456_789, "2000-02-29T00:00:00.123456789Z"),
        (-315_619_200_000_000_000, "1960-01-01T00:00:00Z"),
    ];
    for (n, want) in cases {
        assert_eq!(rfc3339_nano(at(*n)), *want, "time {}", n);
    }
}

/// The message of the hand-written bytes below.
fn sample() -> Message {
    Message {
        subject: "orders.eu".into(),
        key: b"k".to_vec(),
        value: b"hi".to_vec(),
        headers: vec![Header { name: "a".into(), value: b"1".to_vec() }, Header { name: "b".into(), value: vec![] }],
        partition: "orders.>".into(),
        seq: 300,
        time: Some(at(-2)),
    }
}

const SAMPLE: &str = "09 6f 72 64 65 72 73 2e 65 75  01 6b  02 68 69  02 01 61 01 31 01 62 00  08 6f 72 64 65 72 73 2e 3e  ac 02  03";

#[test]
fn messages_decode_from_hand_written_bytes() {
    let m = Message::decode(&hex(SAMPLE)).unwrap();
    assert_eq!(m, sample());
    assert_eq!(m.header("a"), Some(&b"1"[..]));
    assert_eq!(m.header("b"), Some(&b""[..]));
    assert_eq!(m.header("c"), None);
    let mut b = Vec::new();
    sample().encode(&mut b);
    assert_eq!(b, hex(SAMPLE));
}

#[test]
fn messages_round_trip() {
    let cases = vec![
        Message::default(),
        sample(),
        Message {
            subject: "t".into(),
            key: vec![0, 255],
            value: vec![7; 300],
            headers: vec![Header { name: "x".into(), value: vec![1] }, Header { name: "x".into(), value: vec![2] }],
            partition: "t/3".into(),
            seq: u64::MAX,
            time: Some(at(1_700_000_000_123_456_789)),
        },
    ];
    for m in cases {
        let mut b = Vec::new();
        m.encode(&mut b);
        assert_eq!(Message::decode(&b).unwrap(), m);
        let kv = ("key".to_string(), m.clone());
        let mut v = Vec::new();
        kv.encode_item(&mut v);
        assert_eq!(v, b, "a keyed message's item value is the message");
        assert_eq!(<(String, Message)>::decode_item(Some(b"key"), &v).unwrap(), kv);
    }
    assert_eq!(hex("00 00 00 00 00 00 00"), crate::codec::to_bytes(&Message::default()));
}

#[test]
fn malformed_messages_are_refused() {
    let full = hex(SAMPLE);
    for n in 0..full.len() {
        let err = Message::decode(&full[..n]).unwrap_err();
        assert!(err.starts_with("bx: cannot decode a Message: "), "{}", err);
    }
    let mut long = full.clone();
    long.push(0);
    assert_eq!(Message::decode(&long).unwrap_err(), "bx: cannot decode a Message: 1 trailing bytes");
    let bad: &[&str] = &[
        "05 61",                               // a subject longer than the data
        "00 00 00 ff ff ff ff 0f",             // a header count the data cannot hold
        "00 00 00 00 00 ff ff ff ff ff ff ff ff ff ff 01 00", // a sequence of 11 bytes
    ];
    for b in bad {
        assert!(Message::decode(&hex(b)).is_err(), "{} decoded", b);
    }
}
