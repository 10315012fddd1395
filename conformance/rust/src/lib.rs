//! The conformance flows (conformance/README.md) written with the Rust
//! SDK. Build (from conformance/): bash ../guest-sdk/rust/build.sh rust out.wasm

extern crate bxwasm;

use bxwasm::*;
use std::time::{Duration, SystemTime};

/// ASCII whitespace as the conformance suite defines it (with \v, which
/// char::is_ascii_whitespace leaves out).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// An optional sign and decimal digits, within int64.
fn integer(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

/// Splits a line at its first ',' into a trimmed non-empty key and the
/// trimmed value.
fn key_value(line: String) -> Option<(String, String)> {
    let (k, v) = line.split_once(',')?;
    let k = trim(k);
    if k.is_empty() {
        return None;
    }
    Some((k.to_string(), trim(v).to_string()))
}

fn wordcount(inp: String, out: String) -> Dataflow {
    let flow = Dataflow::new("wordcount");
    flow.input("inp", file_source(&inp))
        .redistribute("spread")
        .map("lower", |mut l: String| {
            l.make_ascii_lowercase();
            l
        })
        .flat_map("split", |l: String| l.split(is_space).filter(|w| !w.is_empty()).map(String::from).collect())
        .count_final("count", |w: String| w)
        .map("format", |(w, n): (String, i64)| format!("{}\t{}", w, n))
        .output("out", file_sink(&out));
    flow
}

fn running_sum(inp: String, out: String) -> Dataflow {
    let flow = Dataflow::new("running_sum");
    flow.input("inp", file_source(&inp))
        .filter_map("parse", |line: String| {
            let (user, amount) = line.split_once(',')?;
            let user = trim(user);
            if user.is_empty() {
                return None;
            }
            Some((user.to_string(), integer(trim(amount))?))
        })
        .stateful_map("total", |sum: Option<i64>, n: i64| {
            let s = sum.unwrap_or(0) + n;
            (Some(s), s)
        })
        .map("format", format_kv)
        .output("out", file_sink(&out));
    flow
}

fn branch_merge(inp: String, out: String) -> Dataflow {
    let flow = Dataflow::new("branch_merge");
    let nums = flow.input("inp", file_source(&inp)).filter_map("parse", |l: String| integer(trim(&l)));
    let (evens, odds) = nums.branch("even_or_odd", |n: &i64| n % 2 == 0);
    let squares = evens.map("square", |n: i64| format!("even\t{}", n * n));
    let negated = odds.map("negate", |n: i64| format!("odd\t{}", -n));
    squares.merge("merge", &[&negated]).output("out", file_sink(&out));
    flow
}

/// The partitioned source of custom_source.
struct Numbers {
    parts: i64,
    per_part: i64,
}

struct NumbersPart {
    first: i64,
    per_part: i64,
    next: i64,
}

impl FixedPartitionedSource<i64, i64> for Numbers {
    fn list_parts(&mut self) -> Vec<String> {
        (0..self.parts).map(|p| format!("part-{}", p)).collect()
    }
    fn build_part(&mut self, _: &str, part: &str, resume: Option<i64>) -> Box<dyn StatefulSourcePartition<i64, i64>> {
        let p: i64 = part.trim_start_matches("part-").parse().expect("a partition named part-N");
        Box::new(NumbersPart { first: p * self.per_part, per_part: self.per_part, next: resume.unwrap_or(0) })
    }
}

impl StatefulSourcePartition<i64, i64> for NumbersPart {
    fn next_batch(&mut self) -> NextBatch<i64> {
        let end = (self.next + 7).min(self.per_part);
        let items: Vec<i64> = (self.next..end).map(|i| self.first + i).collect();
        self.next = end;
        if end == self.per_part {
            NextBatch::Eof(items)
        } else {
            NextBatch::Items(items)
        }
    }
    fn snapshot(&self) -> i64 {
        self.next
    }
}

fn custom_source(parts: i64, per_part: i64, out: String) -> Result<Dataflow, String> {
    if parts < 1 || per_part < 1 {
        return Err(format!("need parts >= 1 and per_part >= 1, got parts={} per_part={}", parts, per_part));
    }
    let flow = Dataflow::new("custom_source");
    flow.input("numbers", partitioned_source(Numbers { parts, per_part }))
        .map("format", move |n: i64| format!("part-{}\t{}", n / per_part, n))
        .output("out", file_sink(&out));
    Ok(flow)
}

/// The source of timers: one partition of keyed items, then a 2 s wait.
struct Events {
    keys: i64,
    total: i64,
}

struct EventsPart {
    keys: i64,
    total: i64,
    next: i64,
    deadline: Option<SystemTime>,
}

impl FixedPartitionedSource<(String, i64), i64> for Events {
    fn list_parts(&mut self) -> Vec<String> {
        vec!["events".to_string()]
    }
    fn build_part(&mut self, _: &str, _: &str, resume: Option<i64>) -> Box<dyn StatefulSourcePartition<(String, i64), i64>> {
        Box::new(EventsPart { keys: self.keys, total: self.total, next: resume.unwrap_or(0), deadline: None })
    }
}

impl StatefulSourcePartition<(String, i64), i64> for EventsPart {
    fn next_batch(&mut self) -> NextBatch<(String, i64)> {
        if self.next < self.total {
            let end = (self.next + 5).min(self.total);
            let items = (self.next..end).map(|i| (format!("k{}", i % self.keys), i)).collect();
            self.next = end;
            return NextBatch::Items(items);
        }
        match self.deadline {
            None => {
                self.deadline = Some(SystemTime::now() + Duration::from_secs(2));
                NextBatch::Items(Vec::new())
            }
            Some(d) if SystemTime::now() >= d => NextBatch::Eof(Vec::new()),
            Some(_) => NextBatch::Items(Vec::new()),
        }
    }
    fn next_awake(&self) -> Option<SystemTime> {
        if self.next < self.total {
            return None;
        }
        self.deadline
    }
    fn snapshot(&self) -> i64 {
        self.next
    }
}

/// The logic of the timers flow's collect step: a key's values until 20
/// ms after the first one (the deadline, Unix ns; 0 while none is kept).
struct Collect {
    values: Vec<i64>,
    deadline: i64,
}

impl Collect {
    fn flush(&mut self, suffix: &str) -> (Vec<String>, bool) {
        (self.values.drain(..).map(|v| format!("{}{}", v, suffix)).collect(), true)
    }
}

impl StatefulBatchLogic<i64, String, (Vec<i64>, i64)> for Collect {
    fn on_batch(&mut self, values: Vec<i64>) -> (Vec<String>, bool) {
        if self.deadline == 0 {
            let at = SystemTime::now() + Duration::from_millis(20);
            self.deadline = at.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(1);
        }
        self.values.extend(values);
        (Vec::new(), false)
    }
    fn on_notify(&mut self) -> (Vec<String>, bool) {
        self.flush("")
    }
    fn on_eof(&mut self) -> (Vec<String>, bool) {
        self.flush("\tlate")
    }
    fn notify_at(&self) -> Option<SystemTime> {
        if self.deadline == 0 {
            return None;
        }
        Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(self.deadline as u64))
    }
    fn snapshot(&self) -> (Vec<i64>, i64) {
        (self.values.clone(), self.deadline)
    }
}

/// Renders a keyed text as `KEY<TAB>TEXT`.
fn format_kv<V: std::fmt::Display>((key, v): (String, V)) -> String {
    format!("{}\t{}", key, v)
}

fn timers(keys: i64, per_key: i64, out: String) -> Dataflow {
    let flow = Dataflow::new("timers");
    flow.input("events", partitioned_source(Events { keys, total: keys * per_key }))
        .stateful_batch("collect", |resume: Option<(Vec<i64>, i64)>| {
            let (values, deadline) = resume.unwrap_or_default();
            Box::new(Collect { values, deadline }) as Box<dyn StatefulBatchLogic<i64, String, (Vec<i64>, i64)>>
        })
        .map("format", format_kv)
        .output("out", file_sink(&out));
    flow
}

/// The logic of the discard flow's session step: a key's sum and count
/// of integers until its value "end".
struct Session {
    sum: i64,
    count: i64,
}

impl Session {
    fn format(&self, suffix: &str) -> String {
        format!("{}\t{}{}", self.sum, self.count, suffix)
    }
}

impl StatefulBatchLogic<String, String, (i64, i64)> for Session {
    fn on_batch(&mut self, values: Vec<String>) -> (Vec<String>, bool) {
        let mut out = Vec::new();
        let ended = values.last().map(|v| v == "end").unwrap_or(false);
        for v in values {
            if v == "end" {
                out.push(self.format(""));
                self.sum = 0; // what follows starts a new session
                self.count = 0;
            } else if let Some(n) = integer(&v) {
                self.sum += n;
                self.count += 1;
            }
        }
        (out, ended)
    }
    fn on_eof(&mut self) -> (Vec<String>, bool) {
        (vec![self.format("\topen")], true)
    }
    fn snapshot(&self) -> (i64, i64) {
        (self.sum, self.count)
    }
}

fn discard(inp: String, out: String) -> Dataflow {
    let flow = Dataflow::new("discard");
    flow.input("inp", file_source(&inp))
        .filter_map("parse", key_value)
        .stateful_batch("session", |resume: Option<(i64, i64)>| {
            let (sum, count) = resume.unwrap_or_default();
            Box::new(Session { sum, count }) as Box<dyn StatefulBatchLogic<String, String, (i64, i64)>>
        })
        .map("format", format_kv)
        .output("out", file_sink(&out));
    flow
}

fn fail(inp: String, out: String) -> Dataflow {
    let flow = Dataflow::new("fail");
    flow.input("inp", file_source(&inp))
        // The value keeps its key too: the mapper names the key when it fails.
        .filter_map("parse", |line: String| key_value(line).map(|(k, v)| (k.clone(), (k, v))))
        .stateful_map("sum", |sum: Option<i64>, (key, v): (String, String)| {
            if v == "boom" {
                panic!("boom at {}", key);
            }
            let s = sum.unwrap_or(0) + integer(&v).unwrap_or(0);
            (Some(s), s)
        })
        .map("format", format_kv)
        .output("out", file_sink(&out));
    flow
}

fn args(s: String, i: i64, f: f64, b: bool, out: String) -> Dataflow {
    let flow = Dataflow::new("args");
    let line = format!("s={}|i={}|f_milli={}|b={}", s, i, (f * 1000.0).round() as i64, b);
    flow.input("inp", testing_source(vec![line], 1)).output("out", file_sink(&out));
    flow
}

/// A window_count event: the key and the Unix time in seconds.
fn event(line: String) -> Option<(String, i64)> {
    let (key, secs) = line.split_once(',')?;
    let key = trim(key);
    if key.is_empty() {
        return None;
    }
    Some((key.to_string(), integer(trim(secs))?))
}

fn window_count(inp: String, out: String) -> Dataflow {
    let flow = Dataflow::new("window_count");
    let events = flow.input("inp", file_source(&inp)).filter_map("parse", event);
    let clock = EventClock::new(|e: &(String, i64)| SystemTime::UNIX_EPOCH + Duration::from_secs(e.1 as u64), Duration::from_secs(60));
    let w = events.count_window("count", clock, TumblingWindower::new(Duration::from_secs(300), SystemTime::UNIX_EPOCH), |e: &(String, i64)| e.0.clone());
    let down = w.down.map("format_down", |(k, (id, n)): (String, (i64, i64))| format!("{}\t{}\t{}", k, id, n));
    let late = w.late.map("format_late", |(k, (_, e)): (String, (i64, (String, i64)))| format!("late:{}\t{}", k, e.1));
    down.merge("all", &[&late]).output("out", file_sink(&out));
    flow
}

fn flows(r: &mut Registry) {
    r.register("wordcount", &["inp", "out"], wordcount);
    r.register("running_sum", &["inp", "out"], running_sum);
    r.register("branch_merge", &["inp", "out"], branch_merge);
    r.register("custom_source", &["parts", "per_part", "out"], custom_source);
    r.register("timers", &["keys", "per_key", "out"], timers);
    r.register("discard", &["inp", "out"], discard);
    r.register("fail", &["inp", "out"], fail);
    r.register("args", &["s", "i", "f", "b", "out"], args);
    r.register("window_count", &["inp", "out"], window_count);
}

bxwasm::export!(flows);
