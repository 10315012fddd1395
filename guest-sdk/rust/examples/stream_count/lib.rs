//! Stream count: a running count of the messages of a NATS JetStream
//! stream per subject, published as `subject<TAB>count` to a JetStream
//! subject after every message. The connection is named "nats"; the
//! operator binds it to a server:
//!
//!     guest-sdk/rust/build.sh guest-sdk/rust/examples/stream_count stream_count.wasm
//!     bxwasm run stream_count.wasm:"flow('EVENTS', 'counts')" --connection nats=nats://127.0.0.1:4222 -w2 -r DIR
//!
//! With a recovery store (-r) the output is exactly once across crashes:
//! the source resumes after the last committed message and the sink
//! publishes an epoch's counts once the epoch is committed.

extern crate bxwasm;

use bxwasm::{jetstream_sink, jetstream_source, Dataflow, Message, Registry, SinkOptions, StreamOptions};

/// The stateful_map mapper: the state is the subject's count so far.
fn count(n: Option<i64>, _one: ()) -> (Option<i64>, i64) {
    let t = n.unwrap_or(0) + 1;
    (Some(t), t)
}

fn stream_count(stream: String, out: String) -> Dataflow {
    let flow = Dataflow::new("stream_count");
    flow.input("inp", jetstream_source("nats", &stream, StreamOptions::default()))
        .map("key", |m: Message| (m.subject, ()))
        .stateful_map("count", count)
        .map("format", |(subject, n): (String, i64)| (subject.clone(), format!("{}\t{}", subject, n)))
        .output("out", jetstream_sink("nats", &out, SinkOptions::default()));
    flow
}

fn flows(r: &mut Registry) {
    r.register("flow", &["stream", "out"], stream_count);
}

bxwasm::export!(flows);
