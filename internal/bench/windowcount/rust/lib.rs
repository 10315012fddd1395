//! The Rust guest of the benchmark's window figure, the same flow as
//! internal/bench/windowcount: "key,unix_millis" lines of a file counted per
//! key in 1-minute tumbling windows of event time (count_window, an event
//! clock waiting 30 s, windows aligned to the Unix epoch), one
//! "key window_id count" line per key and window written to a file as each
//! window closes. Lines that do not parse are dropped; late events go to the
//! late stream, which the flow ignores.
//!
//!     guest-sdk/rust/build.sh internal/bench/windowcount/rust windowcount-rust.wasm
//!     bxwasm run windowcount-rust.wasm:"flow('events.txt', 'counts.txt')" -w1

extern crate bxwasm;

use bxwasm::{file_sink, file_source, Dataflow, EventClock, Registry, TumblingWindower};
use std::time::{Duration, SystemTime};

/// An event: the key and its time in Unix milliseconds.
fn parse(line: String) -> Option<(String, i64)> {
    let (key, ms) = line.split_once(',')?;
    let ms: i64 = ms.parse().ok()?;
    if key.is_empty() || ms < 0 {
        return None;
    }
    Some((key.to_string(), ms))
}

fn windowcount(inp: String, out: String) -> Dataflow {
    let flow = Dataflow::new("windowcount");
    let events = flow.input("inp", file_source(&inp)).filter_map("parse", parse);
    let clock = EventClock::new(|e: &(String, i64)| SystemTime::UNIX_EPOCH + Duration::from_millis(e.1 as u64), Duration::from_secs(30));
    let win = TumblingWindower::new(Duration::from_secs(60), SystemTime::UNIX_EPOCH);
    events
        .count_window("count", clock, win, |e: &(String, i64)| e.0.clone())
        .down
        .map("format", |(key, (id, n)): (String, (i64, i64))| format!("{} {} {}", key, id, n))
        .output("out", file_sink(&out));
    flow
}

fn flows(r: &mut Registry) {
    r.register("flow", &["in", "out"], windowcount);
}

bxwasm::export!(flows);
