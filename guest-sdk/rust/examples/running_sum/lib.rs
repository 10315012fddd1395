//! Running sum: a running total per user over a stream of "user,amount"
//! events; prints `user<TAB>total` after every event. The port of
//! wasm-examples/running_sum.
//!
//!     guest-sdk/rust/build.sh guest-sdk/rust/examples/running_sum running_sum.wasm
//!     bxwasm run running_sum.wasm -w2

extern crate bxwasm;

use bxwasm::{stdout_sink, testing_source, Dataflow, Registry};

/// The flow's input: payments as "user,amount" lines, in the order they
/// happened. A line that does not parse is skipped.
const EVENTS: &[&str] = &[
    "alice,5", "bob,3", "alice,7", "carol,10", "bob,-1", "not an event", "alice,1", "carol,2", "dave,100", "bob,4",
    "alice,-3", "dave,-50", "carol,x", "carol,8", "erin,0",
];

/// Turns "user,amount" into the amount keyed by user, or None.
fn parse(line: String) -> Option<(String, i64)> {
    let (user, amount) = line.split_once(',')?;
    if user.is_empty() {
        return None;
    }
    let n = amount.trim().parse::<i64>().ok()?;
    Some((user.trim().to_string(), n))
}

/// The stateful_map mapper: the state is the user's total so far (None
/// for a user not seen yet); it returns the new state and emits the total.
fn add(total: Option<i64>, amount: i64) -> (Option<i64>, i64) {
    let t = total.unwrap_or(0) + amount;
    (Some(t), t)
}

fn running_sum() -> Dataflow {
    let flow = Dataflow::new("running_sum");
    let events: Vec<String> = EVENTS.iter().map(|s| s.to_string()).collect();
    flow.input("inp", testing_source(events, 4))
        .filter_map("parse", parse)
        .stateful_map("total", add)
        .map("format", |(user, total): (String, i64)| format!("{}\t{}", user, total))
        .output("out", stdout_sink());
    flow
}

fn flows(r: &mut Registry) {
    r.register("flow", &[], running_sum);
}

bxwasm::export!(flows);
