//! Window count: counts events per key in 1-minute tumbling windows of
//! event time. Reads "key,unix_seconds" lines from a file; an event may
//! arrive up to 10 s after a later one and still count. Prints
//! `key window_id count` for every window when it closes (window n spans
//! [n, n+1) minutes after 1970); lines that do not parse are skipped.
//!
//!     guest-sdk/rust/build.sh guest-sdk/rust/examples/window_count window_count.wasm
//!     bxwasm run window_count.wasm:"get_flow('events.csv')" -w2

extern crate bxwasm;

use bxwasm::{file_source, stdout_sink, Dataflow, EventClock, Registry, TumblingWindower};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Turns "key,unix_seconds" into (key, seconds), or None.
fn parse(line: String) -> Option<(String, i64)> {
    let (key, secs) = line.split_once(',')?;
    let secs = secs.trim().parse::<i64>().ok().filter(|s| *s >= 0)?;
    Some((key.trim().to_string(), secs))
}

/// The event time of a parsed event.
fn event_time(e: &(String, i64)) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(e.1 as u64)
}

fn window_count(path: String) -> Dataflow {
    let flow = Dataflow::new("window_count");
    let clock = EventClock::new(event_time, Duration::from_secs(10));
    let windower = TumblingWindower::new(Duration::from_secs(60), UNIX_EPOCH);
    let counts = flow
        .input("inp", file_source(&path))
        .filter_map("parse", parse)
        .count_window("count", clock, windower, |e: &(String, i64)| e.0.clone());
    counts
        .down
        .map("format", |(key, (window, n)): (String, (i64, i64))| format!("{} {} {}", key, window, n))
        .output("out", stdout_sink());
    flow
}

fn flows(r: &mut Registry) {
    r.register("get_flow", &["path"], window_count);
}

bxwasm::export!(flows);
