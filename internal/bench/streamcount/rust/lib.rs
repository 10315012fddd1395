//! The Rust guest of the benchmark's stream figure, the same flow as
//! internal/bench/streamcount: the payloads of a JetStream stream (each a
//! key) counted per key with count_final, one "key count" line per key
//! published to a JetStream subject when the bounded input ends.
//!
//!     guest-sdk/rust/build.sh internal/bench/streamcount/rust streamcount-rust.wasm
//!     bxwasm run streamcount-rust.wasm:"flow('EVENTS', 'counts')" --connection nats=nats://127.0.0.1:4222 -w1

extern crate bxwasm;

use bxwasm::{jetstream_payloads, jetstream_sink, Dataflow, Registry, SinkOptions, StreamOptions};

fn streamcount(stream: String, out: String) -> Dataflow {
    let flow = Dataflow::new("streamcount");
    flow.input("inp", jetstream_payloads("nats", &stream, StreamOptions::default()))
        .count_final("count", |key: String| key)
        .map("format", |(key, n): (String, i64)| {
            let line = format!("{} {}", key, n);
            (key, line)
        })
        .output("out", jetstream_sink("nats", &out, SinkOptions::default()));
    flow
}

fn flows(r: &mut Registry) {
    r.register("flow", &["stream", "out"], streamcount);
}

bxwasm::export!(flows);
