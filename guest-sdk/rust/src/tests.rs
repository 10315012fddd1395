//! Native unit tests: the wire against the golden bytes of docs/abi.md,
//! the codecs, the dispatcher's strictness, the stateful reporting rules
//! and the panic hook.

use crate::codec::Codec;
use crate::dispatch::Dispatcher;
use crate::flow::{Dataflow, Stream};
use crate::parts::{file_source, stdout_sink, testing_source};
use crate::register::Registry;
use crate::site;
use crate::stateful::StatefulBatchLogic;
use crate::wire::*;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect()
}

fn call(d: &mut Dispatcher, req: &[u8]) -> Vec<u8> {
    d.dispatch(req);
    d.resp.clone()
}

/// The message of a StatusError response.
fn error_of(resp: &[u8]) -> String {
    assert_eq!(resp[0], 1, "want a StatusError, got {:02x?}", resp);
    Reader::new(&resp[1..]).string().unwrap()
}

#[test]
fn varints_match_the_abi_examples() {
    let cases: &[(u64, &str)] = &[(0, "00"), (1, "01"), (127, "7f"), (128, "80 01"), (300, "ac 02"), (16384, "80 80 01")];
    for (v, want) in cases {
        let mut b = Vec::new();
        put_uvarint(&mut b, *v);
        assert_eq!(b, hex(want), "uvarint {}", v);
        assert_eq!(Reader::new(&b).uvarint().unwrap(), *v);
    }
    let signed: &[(i64, &str)] = &[
        (0, "00"),
        (-1, "01"),
        (1, "02"),
        (-2, "03"),
        (63, "7e"),
        (-64, "7f"),
        (64, "80 01"),
        (1700000000000000000, "80 80 d0 e2 c6 bf ce 97 2f"),
    ];
    for (v, want) in signed {
        let mut b = Vec::new();
        put_varint(&mut b, *v);
        assert_eq!(b, hex(want), "varint {}", v);
        assert_eq!(Reader::new(&b).varint().unwrap(), *v);
    }
    let mut b = Vec::new();
    put_f64(&mut b, 1.5);
    assert_eq!(b, hex("00 00 00 00 00 00 f8 3f"));
    let mut b = Vec::new();
    put_bytes(&mut b, b"hi");
    assert_eq!(b, hex("02 68 69"));
}

#[test]
fn readers_refuse_what_runs_past_the_end() {
    assert!(Reader::new(&hex("80")).uvarint().is_err());
    assert!(Reader::new(&hex("ff ff ff ff ff ff ff ff ff ff 01")).uvarint().is_err());
    assert!(Reader::new(&hex("05 61")).bytes().is_err());
    assert!(Reader::new(&hex("05 00")).count(1).is_err());
}

#[test]
fn the_two_item_batch_is_byte_for_byte() {
    let golden = hex("02 0c 03 61 62 02 68 69 02 63 03 78 79 7a");
    let mut w = BatchWriter::default();
    vec![("ab".to_string(), "hi".to_string()), ("c".to_string(), "xyz".to_string())].iter().for_each(|kv| {
        w.push_with(kv.item_key().map(|k| k.as_bytes()), |b| kv.encode_item(b));
    });
    let mut out = Vec::new();
    w.write_to(&mut out);
    assert_eq!(out, golden);

    let mut r = Reader::new(&golden);
    let b = r.batch().unwrap();
    r.end("batch").unwrap();
    let items: Vec<(String, String)> = crate::ops::decode_items(&b).unwrap();
    assert_eq!(items, vec![("ab".to_string(), "hi".to_string()), ("c".to_string(), "xyz".to_string())]);

    let mut w = BatchWriter::default();
    w.push(None, b"hi");
    let mut out = Vec::new();
    w.write_to(&mut out);
    assert_eq!(out, hex("01 04 00 02 68 69"));
    let mut out = Vec::new();
    BatchWriter::default().write_to(&mut out);
    assert_eq!(out, hex("00 00"));
}

#[test]
fn batches_whose_count_does_not_match_are_refused() {
    for bad in ["03 0c 03 61 62 02 68 69 02 63 03 78 79 7a", "01 0c 03 61 62 02 68 69 02 63 03 78 79 7a", "01 03 00 05 68"] {
        let b = hex(bad);
        assert!(Reader::new(&b).batch().is_err(), "{}", bad);
    }
}

#[test]
fn long_values_get_a_two_byte_length() {
    let v = "x".repeat(300);
    let mut w = BatchWriter::default();
    w.push_with(None, |b| v.encode(b));
    let mut direct = BatchWriter::default();
    direct.push(None, v.as_bytes());
    assert_eq!(w.body, direct.body);
}

#[test]
fn the_error_info_example() {
    let e = site::Located { message: "boom".to_string(), stack: String::new(), step: 2, key: Some(b"k".to_vec()) };
    let mut out = vec![1];
    site::encode_error(&mut out, &e);
    assert_eq!(out, hex("01 04 62 6f 6f 6d 00 03 01 01 6b"));
}

fn round_trip<T: Codec + PartialEq + std::fmt::Debug>(v: T) {
    let b = crate::codec::to_bytes(&v);
    assert_eq!(T::decode(&b).unwrap(), v);
    let mut longer = b.clone();
    longer.push(0);
    if T::decode(&longer).is_ok() && !matches!(std::any::type_name::<T>(), "alloc::string::String" | "alloc::vec::Vec<u8>") {
        panic!("{} accepts a trailing byte", std::any::type_name::<T>());
    }
}

#[test]
fn codecs_round_trip() {
    round_trip("héllo".to_string());
    round_trip(String::new());
    round_trip(vec![0u8, 1, 255]);
    round_trip(-5i64);
    round_trip(i64::MIN);
    round_trip(i32::MAX);
    round_trip(u64::MAX);
    round_trip(7u32);
    round_trip(300usize);
    round_trip(-2.25f64);
    round_trip(true);
    round_trip(false);
    round_trip(("k".to_string(), 3i64));
    round_trip((1i64, "x".repeat(200), false));
    round_trip(vec!["a".to_string(), String::new(), "c".to_string()]);
    round_trip(vec![(1u64, 2.5f64)]);
    round_trip(Some(vec![Some(3i64), None]));
    round_trip(None::<String>);
    assert_eq!(crate::codec::to_bytes(&"hi".to_string()), b"hi".to_vec(), "strings are raw UTF-8");
    assert_eq!(crate::codec::to_bytes(&-1i64), vec![1], "ints are zig-zag varints");
    assert!(i32::decode(&crate::codec::to_bytes(&(1i64 << 40))).is_err());
    assert!(bool::decode(&[2]).is_err());
}

#[test]
fn keyed_pairs_put_the_key_on_the_item() {
    let kv = ("word".to_string(), 7i64);
    assert_eq!(kv.item_key(), Some("word"));
    let mut v = Vec::new();
    kv.encode_item(&mut v);
    assert_eq!(v, vec![14]);
    assert_eq!(<(String, i64)>::decode_item(Some(b"word"), &[14]).unwrap(), kv);
    assert!(<(String, i64)>::decode_item(None, &[14]).is_err());
    let plain = (1i64, 2i64);
    assert_eq!(plain.item_key(), None);
}

fn registry() -> Registry {
    let mut r = Registry::default();
    r.register("flow", &[], || Dataflow::new("flow"));
    r.register("get_flow", &["path"], |_p: String| Dataflow::new("x"));
    r
}

#[test]
fn list_flows_matches_the_example() {
    let mut d = Dispatcher::new(registry());
    assert_eq!(call(&mut d, &[1]), hex("00 02 04 66 6c 6f 77 00 08 67 65 74 5f 66 6c 6f 77 01 04 70 61 74 68 01"));
}

/// The word-count graph of docs/abi.md section 9, with core steps only.
fn doc_wc(path: String, n: i64) -> Dataflow {
    assert_eq!((path.as_str(), n), ("in.txt", -3));
    let flow = Dataflow::new("wc");
    flow.input("inp", file_source(&path))
        .flat_map_batch("split", |xs: Vec<String>| xs.into_iter().map(|w| (w, 1i64)).collect())
        .stateful_batch("count", |_: Option<i64>| Box::new(Sum(0)) as Box<dyn StatefulBatchLogic<i64, String, i64>>)
        .key_rm_core()
        .output("out", stdout_sink());
    flow
}

impl Stream<(String, String)> {
    /// The doc's graph writes the stateful output straight to stdout.
    fn key_rm_core(&self) -> Stream<String> {
        Stream { flow: self.flow.clone(), scope: self.scope.clone(), id: self.id, _t: std::marker::PhantomData }
    }
}

struct Sum(i64);

impl StatefulBatchLogic<i64, String, i64> for Sum {
    fn on_batch(&mut self, values: Vec<i64>) -> (Vec<String>, bool) {
        self.0 += values.iter().sum::<i64>();
        (Vec::new(), false)
    }
    fn on_eof(&mut self) -> (Vec<String>, bool) {
        (vec![self.0.to_string()], true)
    }
    fn snapshot(&self) -> i64 {
        self.0
    }
}

#[test]
fn build_decodes_the_example_request_and_answers_the_example_graph() {
    let mut r = Registry::default();
    r.register("get_flow", &["path", "n"], doc_wc);
    let mut d = Dispatcher::new(r);
    let resp = call(&mut d, &hex("02 08 67 65 74 5f 66 6c 6f 77 02 01 06 69 6e 2e 74 78 74 02 05"));
    let want = hex(
        "00 02 77 63 03 04 \
         06 77 63 2e 69 6e 70 01 00 01 00 03 06 69 6e 2e 74 78 74 \
         08 77 63 2e 73 70 6c 69 74 03 01 00 01 01 00 00 \
         08 77 63 2e 63 6f 75 6e 74 08 01 01 01 02 00 00 \
         06 77 63 2e 6f 75 74 02 01 02 00 06 00",
    );
    assert_eq!(resp, want);
    assert_eq!(call(&mut d, &hex("03 01 01 01")), vec![0], "fuse chain 1 = [1]");
}

/// A flow whose chain 3 is a branch on keyed strings, as in section 8.
fn branch_flow() -> Dataflow {
    let flow = Dataflow::new("b");
    let (yes, no) =
        flow.input("inp", testing_source(Vec::<(String, String)>::new(), 1)).branch("split", |kv: &(String, String)| kv.0 == "ab");
    yes.output("t", stdout_sink().keyed());
    no.output("f", stdout_sink().keyed());
    flow
}

fn built(flow: fn() -> Dataflow) -> Dispatcher {
    let mut r = Registry::default();
    r.register("flow", &[], flow);
    let mut d = Dispatcher::new(r);
    let resp = call(&mut d, &hex("02 04 66 6c 6f 77 00"));
    assert_eq!(resp[0], 0, "build: {}", if resp[0] == 1 { error_of(&resp) } else { String::new() });
    d
}

#[test]
fn run_chain_answers_the_branch_example() {
    let mut d = built(branch_flow);
    assert_eq!(call(&mut d, &hex("03 03 01 01")), vec![0]);
    let resp = call(&mut d, &hex("04 03 01 02 02 0c 03 61 62 02 68 69 02 63 03 78 79 7a"));
    assert_eq!(resp, hex("00 02 01 06 03 61 62 02 68 69 01 06 02 63 03 78 79 7a"));
}

#[test]
fn bad_requests_are_status_errors() {
    let mut d = built(branch_flow);
    call(&mut d, &hex("03 03 01 01"));
    let cases: &[(&str, &str)] = &[
        ("", "empty request"),
        ("00", "unknown op 0"),
        ("10", "unknown op 16"),
        ("01 00", "trailing bytes"),
        ("03 03 01 01 00", "trailing bytes"),
        ("04 03 01 02 02 0c 03 61 62 02 68 69 02 63 03 78 79 7a 00", "trailing bytes"),
        ("04 09 01 02 00 00", "chain 9 was not fused"),
        ("04 03 01 02 05 0c 03 61 62 02 68 69 02 63 03 78 79 7a", "batch count"),
        ("03 04 01 00", "cannot be fused"),
        ("05 07 00 00 00", "step index 7"),
        ("05 01 00 00 00", "not stateful_batch"),
        ("0c 00 05 00", "no partition with handle 5"),
        ("0d 00 01 00 00", "not output"),
        ("02 03 6e 6f 70 00", "unknown flow \"nop\"; this module has: flow()"),
    ];
    for (req, want) in cases {
        let resp = call(&mut d, &hex(req));
        let msg = error_of(&resp);
        assert!(msg.contains(want), "{}: got {:?}, want {:?}", req, msg, want);
    }
}

#[test]
fn build_checks_arguments_in_the_go_sdks_words() {
    let mut r = Registry::default();
    r.register("f", &["s", "x"], |_s: String, _x: f64| Dataflow::new("f"));
    r.register("g", &["n"], |n: i64| if n < 0 { Err(format!("n = {} < 0", n)) } else { Ok(Dataflow::new("g")) });
    r.register("dup", &[], || {
        let flow = Dataflow::new("dup");
        let s = flow.input("inp", testing_source(vec![1i64], 1));
        s.map("m", |x: i64| x).output("out", crate::parts::dynamic_sink(NullSink));
        s.map("m", |x: i64| x);
        flow
    });
    let mut d = Dispatcher::new(r);
    let build = |name: &str, args: &[u8]| {
        let mut req = vec![2];
        put_bytes(&mut req, name.as_bytes());
        req.extend_from_slice(args);
        req
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (build("f", &hex("01 01 01 61")), "bad arguments: f(s string, x float64) takes 2 argument(s), got 1"),
        (build("f", &hex("02 01 01 61 04 01")), "bad arguments: argument 2 (x) of f(s string, x float64): want float64, got bool"),
        (build("g", &hex("01 01 01 61")), "bad arguments: argument 1 (n) of g(n int): want int, got string"),
        (build("g", &hex("01 02 01")), "flow factory failed: g: n = -1 < 0"),
        (build("dup", &hex("00")), "duplicate step id \"dup.m\""),
        (build("zz", &hex("00")), "unknown flow \"zz\"; this module has: f(s string, x float64), g(n int), dup()"),
    ];
    for (req, want) in cases {
        assert_eq!(error_of(&call(&mut d, &req)), want);
    }
    let resp = call(&mut d, &build("f", &hex("02 01 01 61 02 04")));
    assert_eq!(resp[0], 0, "an int is accepted for a float64 parameter");
}

struct NullSink;
impl crate::parts::DynamicSink<i64> for NullSink {
    fn build(&mut self, _: &str, _: usize, _: usize) -> Box<dyn crate::parts::StatelessSinkPartition<i64>> {
        Box::new(NullPart)
    }
}
struct NullPart;
impl crate::parts::StatelessSinkPartition<i64> for NullPart {
    fn write_batch(&mut self, _: Vec<i64>) {}
}

/// A logic that records its values, asks to be notified at 1000 + the
/// number of values, and discards on the value "end".
struct Rec {
    vals: Vec<String>,
}

impl StatefulBatchLogic<String, String, Vec<String>> for Rec {
    fn on_batch(&mut self, values: Vec<String>) -> (Vec<String>, bool) {
        let end = values.iter().any(|v| v == "end");
        self.vals.extend(values);
        (vec![self.vals.join("+")], end)
    }
    fn on_notify(&mut self) -> (Vec<String>, bool) {
        (vec![format!("notified {}", self.vals.len())], false)
    }
    fn on_eof(&mut self) -> (Vec<String>, bool) {
        (vec![format!("eof {}", self.vals.join("+"))], false)
    }
    fn notify_at(&self) -> Option<SystemTime> {
        if self.vals.len() >= 3 {
            return None;
        }
        Some(UNIX_EPOCH + Duration::from_nanos(1000 + self.vals.len() as u64))
    }
    fn snapshot(&self) -> Vec<String> {
        self.vals.clone()
    }
}

fn rec_flow() -> Dataflow {
    let flow = Dataflow::new("s");
    flow.input("inp", testing_source(Vec::<(String, String)>::new(), 1))
        .stateful_batch("rec", |resume: Option<Vec<String>>| {
            Box::new(Rec { vals: resume.unwrap_or_default() }) as Box<dyn StatefulBatchLogic<String, String, Vec<String>>>
        })
        .output("out", stdout_sink().keyed());
    flow
}

fn keyed_batch(items: &[(&str, &str)]) -> Vec<u8> {
    let mut w = BatchWriter::default();
    for (k, v) in items {
        w.push(Some(k.as_bytes()), v.as_bytes());
    }
    let mut out = Vec::new();
    w.write_to(&mut out);
    out
}

/// Decodes a KeyedUpdates response: emits as (key, value) and key entries.
fn keyed_updates(resp: &[u8]) -> (Vec<(String, String)>, Vec<(String, bool, i64)>) {
    assert_eq!(resp[0], 0, "{}", if resp[0] == 1 { error_of(resp) } else { String::new() });
    let mut r = Reader::new(&resp[1..]);
    let b = r.batch().unwrap();
    let emits = crate::ops::decode_items::<(String, String)>(&b).unwrap();
    let n = r.count(3).unwrap();
    let mut keys = Vec::new();
    for _ in 0..n {
        keys.push((r.string().unwrap(), r.bool().unwrap(), r.varint().unwrap()));
    }
    r.end("keyed updates").unwrap();
    (emits, keys)
}

fn s(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

fn k(key: &str, discard: bool, at: i64) -> (String, bool, i64) {
    (key.to_string(), discard, at)
}

#[test]
fn stateful_groups_by_key_and_reports_changed_timers() {
    let mut d = built(rec_flow);
    // step 1 = stateful_batch; now = 0.
    let mut req = hex("05 01 00");
    req.extend(keyed_batch(&[("b", "1"), ("a", "2"), ("b", "3")]));
    let (emits, keys) = keyed_updates(&call(&mut d, &req));
    assert_eq!(emits, vec![s("b", "1+3"), s("a", "2")], "keys in first-seen order, values in arrival order");
    assert_eq!(keys, vec![k("b", false, 1002), k("a", false, 1001)]);

    // a again: notify_at moves to 1002; b untouched is not reported.
    let mut req = hex("05 01 00");
    req.extend(keyed_batch(&[("a", "4")]));
    let (_, keys) = keyed_updates(&call(&mut d, &req));
    assert_eq!(keys, vec![k("a", false, 1002)]);

    // b gets a third value: no timer any more (0).
    let mut req = hex("05 01 00");
    req.extend(keyed_batch(&[("b", "5")]));
    let (_, keys) = keyed_updates(&call(&mut d, &req));
    assert_eq!(keys, vec![k("b", false, 0)]);

    // notify a (timer fired: the last reported time counts as 0, so the
    // same 1002 is reported again) and an unknown key z (discard).
    let (emits, keys) = keyed_updates(&call(&mut d, &hex("06 01 00 02 01 61 01 7a")));
    assert_eq!(emits, vec![s("a", "notified 2")]);
    assert_eq!(keys, vec![k("a", false, 1002), k("z", true, 0)]);

    // a discards on "end".
    let mut req = hex("05 01 00");
    req.extend(keyed_batch(&[("a", "end")]));
    let (emits, keys) = keyed_updates(&call(&mut d, &req));
    assert_eq!(emits, vec![s("a", "2+4+end")]);
    assert_eq!(keys, vec![k("a", true, 0)]);

    // a comes back fresh.
    let mut req = hex("05 01 00");
    req.extend(keyed_batch(&[("a", "6")]));
    let (emits, _) = keyed_updates(&call(&mut d, &req));
    assert_eq!(emits, vec![s("a", "6")]);

    // snapshot: b present, q absent (tombstone), echoing the step.
    let resp = call(&mut d, &hex("08 01 00 02 01 62 01 71"));
    let mut r = Reader::new(&resp[1..]);
    assert_eq!((r.uvarint().unwrap(), r.uvarint().unwrap()), (1, 2));
    assert_eq!((r.string().unwrap(), r.bool().unwrap()), ("b".to_string(), true));
    assert_eq!(Vec::<String>::decode(r.bytes().unwrap()).unwrap(), vec!["1", "3", "5"]);
    assert_eq!((r.string().unwrap(), r.bool().unwrap(), r.bytes().unwrap().len()), ("q".to_string(), false, 0));
    r.end("snapshots").unwrap();

    // eof: every live key, in the order the keys were built (b, then the
    // rebuilt a).
    let (emits, _) = keyed_updates(&call(&mut d, &hex("07 01 00")));
    assert_eq!(emits, vec![s("b", "eof 1+3+5"), s("a", "eof 6")]);
}

#[test]
fn eof_without_keys_is_four_zero_bytes() {
    let mut d = built(rec_flow);
    assert_eq!(call(&mut d, &hex("07 01 00")), hex("00 00 00 00"));
}

#[test]
fn restore_rebuilds_keys_from_their_state() {
    let mut d = built(rec_flow);
    let state = crate::codec::to_bytes(&vec!["x".to_string(), "y".to_string()]);
    let mut req = hex("09 01 02 01 61 01");
    put_bytes(&mut req, &state);
    req.extend(hex("01 62 00 00"));
    assert_eq!(call(&mut d, &req), vec![0]);
    let mut req = hex("05 01 00");
    req.extend(keyed_batch(&[("a", "z"), ("b", "1")]));
    let (emits, _) = keyed_updates(&call(&mut d, &req));
    assert_eq!(emits, vec![s("a", "x+y+z"), s("b", "1")]);

    // A state that does not decode names the key when it is used.
    let mut req = hex("09 01 01 01 63 01 01 ff");
    req.extend(Vec::<u8>::new());
    assert_eq!(call(&mut d, &req), vec![0]);
    let mut req = hex("05 01 00");
    req.extend(keyed_batch(&[("c", "1")]));
    let msg = error_of(&call(&mut d, &req));
    assert!(msg.starts_with("decoding the state of key \"c\" in step s.rec"), "{}", msg);
}

#[test]
fn sources_emit_batches_and_snapshots() {
    fn flow() -> Dataflow {
        let flow = Dataflow::new("t");
        flow.input("inp", testing_source(vec!["a".to_string(), "b".to_string(), "c".to_string()], 2)).output("out", stdout_sink());
        flow
    }
    let mut d = built(flow);
    let resp = call(&mut d, &hex("0a 00 00 01"));
    assert_eq!(resp, hex("00 01 08 69 74 65 72 61 62 6c 65"), "one partition, iterable");
    assert_eq!(call(&mut d, &hex("0b 00 01 08 69 74 65 72 61 62 6c 65 00 01 00 00")), vec![0]);
    let again = call(&mut d, &hex("0b 00 01 08 69 74 65 72 61 62 6c 65 00 01 00 00"));
    assert!(error_of(&again).contains("already built"));
    assert_eq!(call(&mut d, &hex("0c 00 01 00")), hex("00 00 00 02 06 00 01 61 00 01 62"));
    assert_eq!(call(&mut d, &hex("0e 00 01 00")), hex("00 01 01 02"), "state: next index 2");
    assert_eq!(call(&mut d, &hex("0c 00 01 00")), hex("00 01 00 01 03 00 01 63"), "eof with the last item");
    assert_eq!(call(&mut d, &hex("0f 00 01 00")), vec![0]);
    assert!(error_of(&call(&mut d, &hex("0f 00 01 00"))).contains("no partition with handle 1"));
    assert!(error_of(&call(&mut d, &hex("0a 01 00 01"))).contains("the host runs this connector"));
}

#[test]
fn library_scopes_name_steps_as_the_go_sdk_does() {
    fn flow() -> Dataflow {
        let flow = Dataflow::new("f");
        let s = flow.input("inp", testing_source(vec![1i64], 1));
        s.filter("evens", |x: &i64| x % 2 == 0)
            .key_on("key", |x: &i64| x.to_string())
            .stateful_map("sm", |s: Option<i64>, v: i64| (Some(s.unwrap_or(0) + v), v))
            .map_value("mv", |v: i64| v)
            .reduce_final("r", |a: i64, b: i64| a + b)
            .max_final("mx")
            .key_rm("rm")
            .count_final("c", |x: i64| x.to_string())
            .key_rm("rm2")
            .output("out", crate::parts::dynamic_sink(NullSink));
        flow
    }
    let mut d = built(flow);
    d.dispatch(&hex("02 04 66 6c 6f 77 00"));
    let mut r = Reader::new(&d.resp[1..]);
    r.string().unwrap();
    r.uvarint().unwrap();
    let n = r.uvarint().unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(r.string().unwrap());
        r.byte().unwrap();
        for _ in 0..2 {
            let m = r.uvarint().unwrap();
            for _ in 0..m {
                r.uvarint().unwrap();
            }
        }
        r.byte().unwrap();
        r.string().unwrap();
    }
    assert_eq!(
        ids,
        vec![
            "f.inp",
            "f.evens.flat_map.flat_map_batch",
            "f.key.map.flat_map_batch",
            "f.sm.stateful_flat_map.stateful.stateful_batch",
            "f.mv.map.flat_map_batch",
            "f.r.pre_reduce",
            "f.r.fold_final.stateful.stateful_batch",
            "f.mx.reduce_final.pre_reduce",
            "f.mx.reduce_final.fold_final.stateful.stateful_batch",
            "f.rm.map.flat_map_batch",
            "f.c.init_count.flat_map_batch",
            "f.c.sum.pre_reduce",
            "f.c.sum.fold_final.stateful.stateful_batch",
            "f.rm2.map.flat_map_batch",
            "f.out",
        ]
    );
}

#[test]
fn a_panic_is_recorded_for_bxwasm_last_error() {
    site::install_hook();
    site::set_step_ids(vec!["f.inp".to_string(), "f.sum.stateful_batch".to_string()]);
    site::enter_key(1, "on_batch", b"bad");
    let r = std::panic::catch_unwind(|| panic!("boom at {}", "bad"));
    assert!(r.is_err());
    let b = site::last_error_bytes();
    let mut rd = Reader::new(&b);
    assert_eq!(rd.string().unwrap(), "error calling on_batch in step f.sum.stateful_batch for key \"bad\": boom at bad");
    assert!(rd.string().unwrap().starts_with("panicked at "));
    assert_eq!(rd.uvarint().unwrap(), 2, "step index 1 + 1");
    assert!(rd.bool().unwrap());
    assert_eq!(rd.string().unwrap(), "bad");
    rd.end("error info").unwrap();
    assert_ne!(site::last_error(), 0);
    site::reset_last_error();
    assert_eq!(site::last_error(), 0);
    let _ = std::panic::take_hook();
}

/// The word-count flow of examples/wordcount, for the benchmark below.
fn bench_wc(path: String) -> Dataflow {
    let flow = Dataflow::new("wordcount");
    flow.input("inp", file_source(&path))
        .redistribute("spread")
        .map("lower", |mut line: String| {
            line.make_ascii_lowercase();
            line
        })
        .flat_map("split", |line: String| line.split_whitespace().map(String::from).collect())
        .count_final("count", |word: String| word)
        .map("format", |(word, n): (String, i64)| format!("{}\t{}", word, n))
        .output("out", stdout_sink());
    flow
}

/// Runs the word count through the dispatcher natively, as the host does
/// at -w1, on the file BXWASM_BENCH_FILE, and prints where the time goes:
///     BXWASM_BENCH_FILE=big.txt ./test.sh --ignored bench --nocapture
#[test]
#[ignore]
fn bench_wordcount_dispatch() {
    let path = std::env::var("BXWASM_BENCH_FILE").expect("BXWASM_BENCH_FILE");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = Registry::default();
    r.register("get_flow", &["path"], bench_wc);
    let mut d = Dispatcher::new(r);
    let mut req = vec![2];
    put_bytes(&mut req, b"get_flow");
    req.extend(hex("01 01"));
    put_bytes(&mut req, path.as_bytes());
    assert_eq!(call(&mut d, &req)[0], 0);
    assert_eq!(call(&mut d, &hex("03 01 04 02 03 04 05")), vec![0]);
    assert_eq!(call(&mut d, &hex("03 02 01 07")), vec![0]);
    let (mut t_chain, mut t_state) = (Duration::ZERO, Duration::ZERO);
    let mut lines = text.lines().peekable();
    let mut out_lines = 0;
    while lines.peek().is_some() {
        let mut w = BatchWriter::default();
        while w.body.len() < 256 << 10 {
            match lines.next() {
                Some(l) => w.push(None, l.as_bytes()),
                None => break,
            }
        }
        let mut req = hex("04 01 00 01");
        w.write_to(&mut req);
        let t = std::time::Instant::now();
        d.dispatch(&req);
        t_chain += t.elapsed();
        let mut st = hex("05 06 00");
        st.extend_from_slice(&d.resp[2..]);
        let t = std::time::Instant::now();
        d.dispatch(&st);
        t_state += t.elapsed();
        assert_eq!(d.resp[0], 0);
    }
    let t = std::time::Instant::now();
    let eof = call(&mut d, &hex("07 06 00"));
    let mut rd = Reader::new(&eof[1..]);
    let b = rd.batch().unwrap();
    let mut req = hex("04 02 00 01");
    let mut w = BatchWriter::default();
    w.count = b.count;
    w.body.extend_from_slice(b.body);
    w.write_to(&mut req);
    d.dispatch(&req);
    out_lines += b.count;
    let t_end = t.elapsed();
    println!("chain {:?}  stateful {:?}  eof+format {:?}  ({} words)", t_chain, t_state, t_end, out_lines);
}

thread_local! {
    static CAPTURED: std::cell::RefCell<Vec<String>> = std::cell::RefCell::new(Vec::new());
}

/// A dynamic sink that keeps what it is given, for the simulated host.
pub(crate) struct Capture;
struct CapturePart;
impl crate::parts::DynamicSink<String> for Capture {
    fn build(&mut self, _: &str, _: usize, _: usize) -> Box<dyn crate::parts::StatelessSinkPartition<String>> {
        Box::new(CapturePart)
    }
}
impl crate::parts::StatelessSinkPartition<String> for CapturePart {
    fn write_batch(&mut self, items: Vec<String>) {
        CAPTURED.with(|c| c.borrow_mut().extend(items));
    }
}

/// A one-worker host for linear and branching flows of one guest-source
/// input: every stateless step is its own chain, batches are pushed
/// downstream as soon as they are made, and EOF goes to the stateful
/// steps in declaration order.
pub(crate) struct Sim {
    d: Dispatcher,
    kinds: Vec<u8>,
    ins: Vec<Vec<u64>>,
    outs: Vec<Vec<u64>>,
}

impl Sim {
    pub(crate) fn new(flow: fn() -> Dataflow) -> Sim {
        CAPTURED.with(|c| c.borrow_mut().clear());
        let mut d = built(flow);
        let graph = call(&mut d, &hex("02 04 66 6c 6f 77 00"));
        let mut r = Reader::new(&graph[1..]);
        r.string().unwrap();
        r.uvarint().unwrap();
        let n = r.uvarint().unwrap();
        let mut sim = Sim { d, kinds: vec![], ins: vec![], outs: vec![] };
        for _ in 0..n {
            r.string().unwrap();
            sim.kinds.push(r.byte().unwrap());
            let ins = (0..r.uvarint().unwrap()).map(|_| r.uvarint().unwrap()).collect();
            let outs = (0..r.uvarint().unwrap()).map(|_| r.uvarint().unwrap()).collect();
            sim.ins.push(ins);
            sim.outs.push(outs);
            r.byte().unwrap();
            r.string().unwrap();
        }
        for i in 0..sim.kinds.len() {
            let mut req = vec![];
            match sim.kinds[i] {
                3 | 4 | 7 => {
                    req.push(3);
                    put_uvarint(&mut req, i as u64);
                    req.push(1);
                    put_uvarint(&mut req, i as u64);
                }
                1 | 2 => {
                    req.push(11);
                    put_uvarint(&mut req, i as u64);
                    put_uvarint(&mut req, i as u64 + 1);
                    let part: &[u8] = if sim.kinds[i] == 1 { b"iterable" } else { b"" };
                    put_bytes(&mut req, part);
                    req.extend(hex("00 01 00 00"));
                }
                _ => continue,
            }
            assert_eq!(call(&mut sim.d, &req), vec![0], "set up step {}", i);
        }
        sim
    }

    fn push(&mut self, stream: u64, batch: &[u8]) {
        if batch.starts_with(&[0]) {
            return;
        }
        for j in 0..self.kinds.len() {
            if !self.ins[j].contains(&stream) {
                continue;
            }
            let mut req = vec![];
            match self.kinds[j] {
                3 | 4 | 7 => {
                    req.push(4);
                    put_uvarint(&mut req, j as u64);
                    req.extend(hex("00 01"));
                    req.extend_from_slice(batch);
                    let resp = call(&mut self.d, &req);
                    assert_eq!(resp[0], 0, "{}", if resp[0] == 1 { error_of(&resp) } else { String::new() });
                    let mut r = Reader::new(&resp[1..]);
                    let n = r.uvarint().unwrap();
                    for port in 0..n as usize {
                        let b = r.batch().unwrap();
                        let frame = frame_of(&b);
                        self.push(self.outs[j][port], &frame);
                    }
                }
                8 => {
                    req.push(5);
                    put_uvarint(&mut req, j as u64);
                    req.push(0);
                    req.extend_from_slice(batch);
                    let resp = call(&mut self.d, &req);
                    self.emit(j, &resp);
                }
                2 => {
                    req.push(13);
                    put_uvarint(&mut req, j as u64);
                    put_uvarint(&mut req, j as u64 + 1);
                    req.extend_from_slice(batch);
                    assert_eq!(call(&mut self.d, &req), vec![0]);
                }
                _ => {
                    let out = self.outs[j][0];
                    self.push(out, batch);
                }
            }
        }
    }

    fn emit(&mut self, j: usize, resp: &[u8]) {
        assert_eq!(resp[0], 0, "{}", if resp[0] == 1 { error_of(resp) } else { String::new() });
        let b = Reader::new(&resp[1..]).batch().unwrap();
        let frame = frame_of(&b);
        self.push(self.outs[j][0], &frame);
    }

    /// Runs the flow to its end and returns what the capture sinks got.
    pub(crate) fn run(mut self) -> Vec<String> {
        loop {
            let resp = call(&mut self.d, &hex("0c 00 01 00"));
            assert_eq!(resp[0], 0);
            let mut r = Reader::new(&resp[1..]);
            let eof = r.bool().unwrap();
            r.varint().unwrap();
            let frame = frame_of(&r.batch().unwrap());
            self.push(self.outs[0][0], &frame);
            if eof {
                break;
            }
        }
        for j in 0..self.kinds.len() {
            if self.kinds[j] == 8 {
                let mut req = vec![7];
                put_uvarint(&mut req, j as u64);
                req.push(0);
                let resp = call(&mut self.d, &req);
                self.emit(j, &resp);
            }
        }
        CAPTURED.with(|c| c.borrow().clone())
    }
}

fn frame_of(b: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    put_uvarint(&mut out, b.count as u64);
    put_bytes(&mut out, b.body);
    out
}

pub(crate) fn strs(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn events() -> Vec<String> {
    strs(&["a,1", "b,5", "a,3", "c,x", "b,2", "a,-4", "c,9", "d,0"])
}

fn kv(line: String) -> Option<(String, i64)> {
    let (k, v) = line.split_once(',')?;
    Some((k.to_string(), v.parse().ok()?))
}

/// The events of a flow, parsed into keyed numbers, in batches of n.
fn parsed(flow: &Dataflow, n: usize) -> Stream<(String, i64)> {
    flow.input("inp", testing_source(events(), n)).filter_map("parse", kv)
}

fn show<V: std::fmt::Display>((k, v): (String, V)) -> String {
    format!("{}={}", k, v)
}

#[test]
fn final_aggregations_emit_one_value_per_key_at_eof() {
    fn flow() -> Dataflow {
        let flow = Dataflow::new("f");
        let kvs = parsed(&flow, 3);
        let sums = kvs.reduce_final("sum", |a, b| a + b).map("s", |x| format!("sum {}", show(x)));
        let maxs = kvs.max_final("max").map("m", |x| format!("max {}", show(x)));
        let mins = kvs.min_final("min").map("n", |x| format!("min {}", show(x)));
        let folds = kvs.fold_final("fold", String::new, |acc: String, v: i64| acc + &v.to_string()).map("f", |x| format!("fold {}", show(x)));
        let counts = kvs.count_final("count", |(k, _): (String, i64)| k).map("c", |x| format!("count {}", show(x)));
        sums.merge("all", &[&maxs, &mins, &folds, &counts]).output("out", crate::parts::dynamic_sink(Capture));
        flow
    }
    let mut got = Sim::new(flow).run();
    got.sort();
    let want = strs(&[
        "count a=3", "count b=2", "count c=1", "count d=1", "fold a=13-4", "fold b=52", "fold c=9", "fold d=0",
        "max a=3", "max b=5", "max c=9", "max d=0", "min a=-4", "min b=2", "min c=9", "min d=0", "sum a=0",
        "sum b=7", "sum c=9", "sum d=0",
    ]);
    assert_eq!(got, want);
}

#[test]
fn stateless_library_operators() {
    fn flow() -> Dataflow {
        let flow = Dataflow::new("f");
        let kvs = parsed(&flow, 2);
        let (pos, rest) = kvs.branch("sign", |kv: &(String, i64)| kv.1 > 0);
        let a = pos
            .filter_value("big", |v: &i64| *v > 1)
            .map_value("double", |v: i64| v * 2)
            .flat_map_value("twice", |v: i64| vec![v, v + 1])
            .filter_map_value("odd", |v: i64| if v % 2 == 1 { Some(format!("odd {}", v)) } else { None })
            .key_rm("rm");
        let b = rest
            .key_rm("values")
            .map("pair", |v: i64| vec![v, -v])
            .flatten("flat")
            .filter("nonzero", |v: &i64| *v != 0)
            .key_on("key", |v: &i64| format!("k{}", v))
            .map("show", |x| format!("rest {}", show(x)));
        let cache_hits = std::rc::Rc::new(std::cell::Cell::new(0));
        let hits = cache_hits.clone();
        let c = kvs
            .key_rm("vals")
            .enrich_cached(
                "enrich",
                move |k: &str| {
                    hits.set(hits.get() + 1);
                    format!("{}#{}", k, hits.get())
                },
                |cache, v: i64| format!("enrich {}", cache.get(if v > 0 { "pos" } else { "neg" })),
                Duration::ZERO,
            )
            .inspect("look", |step, _| assert_eq!(step, "f.look"));
        a.merge("all", &[&b, &c]).output("out", crate::parts::dynamic_sink(Capture));
        flow
    }
    let mut got = Sim::new(flow).run();
    got.sort();
    let want = strs(&[
        "enrich neg#2", "enrich neg#2", "enrich pos#1", "enrich pos#1", "enrich pos#1", "enrich pos#1", "enrich pos#1",
        "odd 11", "odd 19", "odd 5", "odd 7", "rest k-4=-4", "rest k4=4",
    ]);
    assert_eq!(got, want);
}

#[test]
fn stateful_operators_keep_and_discard_state() {
    fn flow() -> Dataflow {
        let flow = Dataflow::new("f");
        let kvs = parsed(&flow, 8);
        // A running sum that forgets the key once it reaches 4 or more.
        let runs = kvs
            .stateful_map("run", |s: Option<i64>, v: i64| {
                let t = s.unwrap_or(0) + v;
                (if t >= 4 { None } else { Some(t) }, t)
            })
            .map("r", |x| format!("run {}", show(x)));
        let flat = kvs
            .stateful_flat_map("seen", |s: Option<u64>, v: i64| {
                let n = s.unwrap_or(0) + 1;
                (Some(n), vec![format!("{}:{}", n, v)])
            })
            .map("s", |x| format!("seen {}", show(x)));
        let items = kvs
            .stateful("count2", |resume: Option<i64>| Box::new(Pairs(resume.unwrap_or(0))) as Box<dyn crate::StatefulLogic<i64, String, i64>>)
            .map("p", |x| format!("pairs {}", show(x)));
        let collected = kvs
            .collect("coll", Duration::from_secs(3600), 2)
            .map("c", |(k, vs): (String, Vec<i64>)| format!("coll {}={:?}", k, vs));
        runs.merge("all", &[&flat, &items, &collected]).output("out", crate::parts::dynamic_sink(Capture));
        flow
    }
    let mut got = Sim::new(flow).run();
    got.sort();
    let want = strs(&[
        "coll a=[-4]", "coll a=[1, 3]", "coll b=[5, 2]", "coll c=[9]", "coll d=[0]", "pairs a=1,3", "pairs a=eof -4",
        "pairs b=5,2", "pairs c=eof 9", "pairs d=0,0", "run a=-4", "run a=1", "run a=4", "run b=2", "run b=5",
        "run c=9", "run d=0", "seen a=1:1", "seen a=2:3", "seen a=3:-4", "seen b=1:5", "seen b=2:2", "seen c=1:9",
        "seen d=1:0",
    ]);
    assert_eq!(got, want);
}

/// A StatefulLogic that emits values two by two and discards after each
/// pair; at EOF it emits what waits.
struct Pairs(i64);
impl crate::StatefulLogic<i64, String, i64> for Pairs {
    fn on_item(&mut self, v: i64) -> (Vec<String>, bool) {
        if self.0 == 0 && v != 0 {
            self.0 = v;
            return (vec![], false);
        }
        (vec![format!("{},{}", self.0, v)], true)
    }
    fn on_eof(&mut self) -> (Vec<String>, bool) {
        (vec![format!("eof {}", self.0)], true)
    }
    fn snapshot(&self) -> i64 {
        self.0
    }
}

/// Tables index by the low bits of FxHasher::finish, so those must spread
/// similar keys: the 2025 two-syllable words of the bench corpus's kind
/// ("ba", "kura", ...) over 4096 buckets fill about 1560 when random.
#[test]
fn fx_hash_spreads_similar_keys_over_low_bits() {
    use std::hash::Hasher;
    let syllables: Vec<String> =
        "bdklmnrst".chars().flat_map(|c| "aeiou".chars().map(move |v| format!("{}{}", c, v))).collect();
    let mut seen = std::collections::HashSet::new();
    for a in &syllables {
        for b in &syllables {
            let mut h = crate::hash::FxHasher::default();
            h.write(format!("{}{}", a, b).as_bytes());
            seen.insert(h.finish() & 4095);
        }
    }
    assert!(seen.len() > 1200, "2025 keys fill only {} of 4096 buckets", seen.len());
}
