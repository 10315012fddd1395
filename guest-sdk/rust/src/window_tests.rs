//! Tests of the windowing operators and joins: the cases of Bytewax
//! 0.21's pytests (pytests/operators/windowing/test_*.py and
//! pytests/operators/test_join.py; each table row names its pytest), the
//! Bytewax bugs not repeated (tests named after their issue numbers) and a
//! property test against a brute-force model.

use crate::flow::{Dataflow, Stream};
use crate::join::{join_named, join_window_named, JoinEmitMode, JoinInsertMode, JoinState};
use crate::parts::{dynamic_sink, testing_source};
use crate::tests::{strs, Capture, Sim};
use crate::window_time::*;
use crate::windowing::{count_logic, CountLogic, Event};
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const S: i64 = 1_000_000_000;
/// 2022-01-01T00:00:00Z, the `align_to` of most pytests.
const ALIGN: i64 = 1_640_995_200;
/// 2024-01-01T00:00:00Z, the start of the clock pytests.
const Y2024: i64 = 1_704_067_200;

fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs((ALIGN + secs) as u64)
}

fn secs(n: i64) -> Duration {
    Duration::from_secs(n as u64)
}

/// An event clock over `(seconds after ALIGN, value)` items.
fn ev_clock<V: 'static>(wait: Duration) -> Clock<(i64, V)> {
    EventClock::new(|e: &(i64, V)| at(e.0), wait)
}

// ---- test_event_clock.py ----

/// A step of a clock trace: advance the system time, or an item, or a
/// notification; with the watermark it must give.
enum Tick {
    Advance(i64),
    Item(i64, i64),
    Notify(i64),
}

#[test]
fn event_clock_pytests() {
    use Tick::*;
    let t = |s: i64| (Y2024 + s) * S;
    let max = Duration::MAX;
    let cases: Vec<(&str, Duration, Vec<Tick>)> = vec![
        ("test_watermark_starts_at_beginning_of_time", secs(5), vec![Notify(UTC_MIN)]),
        ("test_watermark_is_item_timestamp_minus_wait", secs(5), vec![Item(t(7), t(2))]),
        ("test_watermark_forwards_by_system_time", secs(5), vec![Item(t(7), t(2)), Advance(2), Notify(t(4))]),
        ("test_watermark_advances_in_batch", secs(5), vec![Item(t(7), t(2)), Item(t(10), t(5))]),
        ("test_watermark_does_not_reverse_in_batch", secs(5), vec![Item(t(7), t(2)), Item(t(3), t(2))]),
        (
            "test_watermark_does_not_reverse_and_forwards_by_system_time_next_batch",
            secs(5),
            vec![Item(t(7), t(2)), Advance(2), Item(t(3), t(4))],
        ),
        (
            "test_watermark_does_not_reverse_advancing_item_is_slower_than_system_time_gap",
            secs(5),
            vec![Item(t(7), t(2)), Advance(2), Item(t(8), t(4))],
        ),
        ("test_allows_max_wait_for_system_duration_init", max, vec![Item(t(7), UTC_MIN)]),
        (
            "test_allows_max_wait_for_system_duration_update_does_not_regress",
            max,
            vec![Item(t(7), UTC_MIN), Advance(2), Item(t(10), UTC_MIN + 2 * S)],
        ),
    ];
    for (name, wait, ticks) in cases {
        let now = Rc::new(Cell::new(t(0)));
        let n2 = now.clone();
        let clock = EventClock::new(|v: &i64| system_time(*v), wait).now_getter(move || system_time(n2.get()));
        let mut kc = clock.build(None);
        for (i, tick) in ticks.into_iter().enumerate() {
            let (got, want) = match tick {
                Advance(s) => {
                    now.set(now.get() + s * S);
                    continue;
                }
                Item(ts, want) => {
                    kc.before_batch(now.get());
                    (kc.on_item(ts), want)
                }
                Notify(want) => {
                    kc.before_batch(now.get());
                    (kc.watermark(), want)
                }
            };
            assert_eq!(got, want, "{}: tick {}", name, i);
        }
    }
}

// ---- test_sliding_windower.py ----

#[test]
fn sliding_intersects_pytests() {
    // (pytest, length s, offset s, item at ms from align_to, window ids)
    let cases: &[(&str, i64, i64, i64, &[i64])] = &[
        ("test_intersect_overlap_offset_divisible_by_length_bulk_positive", 10, 5, 13_000, &[1, 2]),
        ("test_intersect_overlap_offset_divisible_by_length_bulk_negative", 10, 5, -3_000, &[-2, -1]),
        ("test_intersect_overlap_offset_divisible_by_length_bulk_zero_negative", 10, 5, 3_000, &[-1, 0]),
        ("test_intersect_overlap_offset_divisible_by_length_bulk_zero_positive", 10, 5, 7_000, &[0, 1]),
        ("test_intersect_overlap_offset_divisible_by_length_edge_positive", 10, 5, 15_000, &[2, 3]),
        ("test_intersect_overlap_offset_divisible_by_length_edge_negative", 10, 5, -5_000, &[-2, -1]),
        ("test_intersect_overlap_offset_divisible_by_length_edge_start_zero", 10, 5, 0, &[-1, 0]),
        ("test_intersect_overlap_offset_divisible_by_length_edge_end_zero", 10, 5, 10_000, &[1, 2]),
        ("test_intersect_overlap_offset_indivisible_by_length_bulk_positive", 10, 3, 11_000, &[1, 2, 3]),
        ("test_intersect_overlap_offset_indivisible_by_length_bulk_positive_remainder", 10, 3, 11_500, &[1, 2, 3]),
        ("test_intersect_overlap_offset_indivisible_by_length_bulk_negative", 10, 3, -1_000, &[-3, -2, -1]),
        ("test_intersect_overlap_offset_indivisible_by_length_bulk_negative_remainder", 10, 3, -1_500, &[-3, -2, -1]),
        ("test_intersect_overlap_offset_indivisible_by_length_bulk_zero", 10, 3, 5_000, &[-1, 0, 1]),
        ("test_intersect_overlap_offset_indivisible_by_length_edge_start_positive", 10, 7, 14_000, &[1, 2]),
        ("test_intersect_overlap_offset_indivisible_by_length_edge_start_negative", 10, 7, -7_000, &[-2, -1]),
        ("test_intersect_overlap_offset_indivisible_by_length_edge_start_zero", 10, 7, 0, &[-1, 0]),
        ("test_intersect_overlap_offset_indivisible_by_length_edge_end_positive", 10, 7, 17_000, &[2]),
        ("test_intersect_overlap_offset_indivisible_by_length_edge_end_negative", 10, 7, -4_000, &[-1]),
        ("test_intersect_overlap_offset_indivisible_by_length_edge_end_zero", 10, 7, 10_000, &[1]),
        ("test_intersect_tumble_bulk_positive", 10, 10, 15_000, &[1]),
        ("test_intersect_tumble_bulk_negative", 10, 10, -5_000, &[-1]),
        ("test_intersect_tumble_bulk_zero", 10, 10, 5_000, &[0]),
        ("test_intersect_tumble_edge_positive", 10, 10, 20_000, &[2]),
        ("test_intersect_tumble_edge_negative", 10, 10, -10_000, &[-1]),
        ("test_intersect_tumble_edge_zero_start", 10, 10, 0, &[0]),
        ("test_intersect_tumble_edge_zero_end", 10, 10, 10_000, &[1]),
    ];
    let align = (1_678_957_200) * S; // 2023-03-16T09:00:00Z
    for &(name, length, offset, ms, want) in cases {
        let got: Vec<i64> = KeyWindower::intersects(length * S, offset * S, align, align + ms * 1_000_000).collect();
        assert_eq!(got, want, "{}", name);
    }
}

// ---- test_session_windower.py ----

fn meta(open: i64, close: i64) -> WindowMetadata {
    WindowMetadata { open_time: (Y2024 + open) * S, close_time: (Y2024 + close) * S, merged_ids: vec![] }
}

fn sessions(gap: i64, open: &[(i64, i64, i64)]) -> KeyWindower {
    let kind = SessionWindower::new(secs(gap)).kind;
    let open: Vec<(i64, WindowMetadata)> = open.iter().map(|&(id, o, c)| (id, meta(o, c))).collect();
    let max_key = open.iter().map(|w| w.0).max().unwrap_or(LATE_SESSION_ID);
    KeyWindower::new(kind, Some((max_key, open)))
}

#[test]
fn session_windower_pytests() {
    // (pytest, sessions before (id, open s, close s), items at s, ids the
    // last item got, merges, sessions after)
    type Case = (&'static str, Vec<(i64, i64, i64)>, Vec<i64>, Vec<i64>, Vec<(i64, i64)>, Vec<(i64, i64, i64)>);
    let cases: Vec<Case> = vec![
        ("test_initial_session", vec![], vec![0], vec![0], vec![], vec![(0, 0, 0)]),
        ("test_extend_forward_within_gap", vec![], vec![0, 5], vec![0], vec![], vec![(0, 0, 5)]),
        ("test_extend_forward_exact_gap", vec![], vec![0, 10], vec![0], vec![], vec![(0, 0, 10)]),
        ("test_extend_backward_within_gap", vec![], vec![0, -5], vec![0], vec![], vec![(0, -5, 0)]),
        ("test_extend_backward_exact_gap", vec![], vec![0, -10], vec![0], vec![], vec![(0, -10, 0)]),
        ("test_extend_merge", vec![], vec![0, 20, 10], vec![0], vec![(1, 0)], vec![(0, 0, 20)]),
        ("test_within_existing", vec![(0, 0, 10)], vec![5], vec![0], vec![], vec![(0, 0, 10)]),
    ];
    for (name, before, items, want_ids, want_merges, after) in cases {
        let mut w = sessions(10, &before);
        let mut ids = Vec::new();
        for ts in items {
            w.open_for((Y2024 + ts) * S, &mut ids);
        }
        assert_eq!(ids, want_ids, "{}", name);
        assert_eq!(w.merged(), want_merges, "{}", name);
        let mut want = sessions(10, &after).open;
        for (id, m) in want.iter_mut() {
            m.merged_ids = want_merges.iter().filter(|mg| mg.1 == *id).map(|mg| mg.0).collect();
        }
        assert_eq!(w.open, want, "{}", name);
    }
    let mut ids = Vec::new();
    sessions(10, &[]).late_for(0, &mut ids);
    assert_eq!(ids, vec![LATE_SESSION_ID], "test_late");
}

#[test]
fn session_find_merges_pytests() {
    // (pytest, sessions (id, open s, close s), merges, sessions after)
    type Case = (&'static str, Vec<(i64, i64, i64)>, Vec<(i64, i64)>, Vec<(i64, i64, i64)>);
    let cases: Vec<Case> = vec![
        ("test_find_merges_none", vec![(0, 0, 0), (1, 20, 20)], vec![], vec![(0, 0, 0), (1, 20, 20)]),
        ("test_find_merges_within_gap", vec![(0, 0, 0), (1, 5, 5)], vec![(1, 0)], vec![(0, 0, 5)]),
        ("test_find_merges_exact_gap", vec![(0, 0, 0), (1, 10, 10)], vec![(1, 0)], vec![(0, 0, 10)]),
        ("test_find_merges_multi", vec![(0, 0, 0), (1, 5, 5), (2, 10, 10)], vec![(1, 0), (2, 0)], vec![(0, 0, 10)]),
        (
            "test_find_merges_no_yes_no",
            vec![(0, 0, 0), (1, 20, 20), (2, 25, 25), (3, 40, 40)],
            vec![(2, 1)],
            vec![(0, 0, 0), (1, 20, 25), (3, 40, 40)],
        ),
    ];
    for (name, before, want_merges, after) in cases {
        let mut w = sessions(10, &before);
        w.find_merges(10 * S);
        assert_eq!(w.merged(), want_merges, "{}", name);
        let got: Vec<(i64, i64, i64)> = w.open.iter().map(|(id, m)| (*id, m.open_time / S - Y2024, m.close_time / S - Y2024)).collect();
        assert_eq!(got, after, "{}", name);
    }
}

// ---- flows of the operator pytests, run by the simulated host ----

fn out<T: crate::codec::Codec>(s: &Stream<T>, f: fn(T) -> String) {
    s.map("show", f).output("out", dynamic_sink(Capture));
}

fn keyed_events<V: crate::codec::Codec + Clone>(flow: &Dataflow, items: Vec<(i64, V)>) -> Stream<(String, (i64, V))> {
    flow.input("inp", testing_source(items, 1)).key_on("key", |_: &(i64, V)| "ALL".to_string())
}

fn join_str(v: &[String]) -> String {
    v.join(",")
}

fn fold_tumbling() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let items = vec![(0, "login".to_string()), (4, "post".into()), (8, "post".into()), (16, "post".into())];
    let w = TumblingWindower::new(secs(10), at(0));
    let counts = keyed_events(&flow, items).fold_window(
        "count",
        ev_clock(Duration::ZERO),
        w,
        Vec::<(i64, String)>::new,
        |mut c: Vec<(i64, String)>, e: (i64, String)| {
            match c.iter_mut().find(|x| x.1 == e.1) {
                Some(x) => x.0 += 1,
                None => c.push((1, e.1)),
            }
            c
        },
        |mut a: Vec<(i64, String)>, b: Vec<(i64, String)>| {
            a.extend(b);
            a
        },
        true,
    );
    out(&counts.down.key_rm("key_rm"), |(id, c)| {
        format!("{} {}", id, c.iter().map(|(n, t)| format!("{}={}", t, n)).collect::<Vec<_>>().join(","))
    });
    flow
}

fn events_abc(ts: &[i64]) -> Vec<(i64, String)> {
    ts.iter().enumerate().map(|(i, &t)| (t, ((b'a' + i as u8) as char).to_string())).collect()
}

fn collect_values(flow: &Dataflow, items: Vec<(i64, String)>, w: Windower) {
    let add = |mut acc: Vec<String>, e: (i64, String)| {
        acc.push(e.1);
        acc
    };
    let cat = |mut a: Vec<String>, b: Vec<String>| {
        a.extend(b);
        a
    };
    let o = keyed_events(flow, items).fold_window("sum", ev_clock(Duration::ZERO), w, Vec::new, add, cat, true);
    out(&o.down.key_rm("unkey"), |(id, v)| format!("{} {}", id, join_str(&v)));
    out_late(&o.late);
}

fn out_late<V: crate::codec::Codec + std::fmt::Debug>(late: &Stream<(String, (i64, V))>) {
    late.map("show_late", |(k, (id, v))| format!("late {} {} {:?}", k, id, v)).output("late_out", dynamic_sink(Capture));
}

fn fold_session() -> Dataflow {
    let flow = Dataflow::new("test_df");
    collect_values(&flow, events_abc(&[1, 5, 11, 12, 13, 14, 20, 1]), SessionWindower::new(secs(5)));
    flow
}

fn fold_sliding() -> Dataflow {
    let flow = Dataflow::new("test_df");
    collect_values(&flow, events_abc(&[1, 4, 8, 12, 13, 14, 16, 1]), SlidingWindower::new(secs(10), secs(5), at(0)));
    flow
}

fn session_system_clock() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let nums = flow.input("input", testing_source((0..10).collect::<Vec<i64>>(), 1)).key_on("key", |_: &i64| "ALL".to_string());
    let add = |mut s: Vec<i64>, v: i64| {
        s.push(v);
        s
    };
    let cat = |mut a: Vec<i64>, b: Vec<i64>| {
        a.extend(b);
        a
    };
    let o = nums.fold_window("collect_records", SystemClock::new(), SessionWindower::new(secs(10)), Vec::new, add, cat, true);
    out(&o.down.key_rm("unkey"), |(id, v)| format!("{} {:?}", id, v));
    flow
}

fn collect_window() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let items: Vec<(i64, i64)> = vec![(0, 1), (8, 3), (4, 2), (13, 5), (12, 4)];
    let w = TumblingWindower::new(secs(10), at(0));
    let o = keyed_events(&flow, items).collect_window("collect_window", ev_clock(Duration::MAX), w, true);
    out(&o.down.key_rm("unkey"), |(id, v)| format!("{} {:?}", id, v.iter().map(|e| e.1).collect::<Vec<_>>()));
    flow
}

/// `(seconds, user, val)` events of the max and min pytests (the reduce
/// pytest's have every val 1).
fn user_events() -> Vec<(i64, (String, i64))> {
    vec![(0, ("a".into(), 1)), (4, ("a".into(), 9)), (8, ("a".into(), 3)), (12, ("a".into(), 10)), (13, ("a".into(), 4))]
}

fn count_window() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let items: Vec<(i64, (String, i64))> =
        vec![(0, ("a".into(), 1)), (4, ("a".into(), 1)), (8, ("b".into(), 1)), (12, ("a".into(), 1)), (13, ("a".into(), 1))];
    let w = TumblingWindower::new(secs(10), at(0));
    let o = flow.input("inp", testing_source(items, 1)).count_window("add", ev_clock(Duration::ZERO), w, |e: &(i64, (String, i64))| e.1 .0.clone());
    out(&o.down, |(k, (id, n))| format!("{} {} {}", k, id, n));
    flow
}

/// The user events as `(val, seconds)`, so that ordering compares `val`
/// first as the pytests' `by=lambda e: e["val"]` does.
fn by_val(flow: &Dataflow, events: Vec<(i64, (String, i64))>) -> Stream<(String, (i64, i64))> {
    flow.input("inp", testing_source(events, 1))
        .map("by_val", |(t, (u, v)): (i64, (String, i64))| (u, (v, t)))
}

fn val_clock() -> Clock<(i64, i64)> {
    EventClock::new(|e: &(i64, i64)| at(e.1), Duration::ZERO)
}

fn max_window() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let o = by_val(&flow, user_events()).max_window("add", val_clock(), TumblingWindower::new(secs(10), at(0)));
    out(&o.down, |(k, (id, (v, t)))| format!("{} {} val={} at={}", k, id, v, t));
    flow
}

fn min_window() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let o = by_val(&flow, user_events()).min_window("min", val_clock(), TumblingWindower::new(secs(10), at(0)));
    out(&o.down, |(k, (id, (v, t)))| format!("{} {} val={} at={}", k, id, v, t));
    flow
}

fn reduce_window() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let add = |a: (i64, i64), b: (i64, i64)| (a.0 + b.0, a.1);
    let ones = user_events().into_iter().map(|(t, (u, _))| (t, (u, 1))).collect();
    let o = by_val(&flow, ones).reduce_window("add", val_clock(), TumblingWindower::new(secs(10), at(0)), add);
    out(&o.down, |(k, (id, (v, _)))| format!("{} {} {}", k, id, v));
    flow
}

#[test]
fn window_operator_pytests() {
    let cases: Vec<(&str, fn() -> Dataflow, Vec<&str>)> = vec![
        ("test_fold_window.py::test_fold_window_tumbling", fold_tumbling, vec!["0 login=1,post=2", "1 post=1"]),
        (
            "test_fold_window.py::test_fold_window_session",
            fold_session,
            vec!["0 a,b", "1 c,d,e,f", "late ALL -1 (1, \"h\")", "2 g"],
        ),
        (
            "test_fold_window.py::test_fold_window_sliding",
            fold_sliding,
            vec!["-1 a,b", "0 a,b,c", "1 c,d,e,f", "late ALL -1 (1, \"h\")", "late ALL 0 (1, \"h\")", "2 d,e,f,g", "3 g"],
        ),
        ("test_session_windower.py::test_session_with_system_clock", session_system_clock, vec!["0 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"]),
        ("test_collect_window.py::test_collect_window", collect_window, vec!["0 [1, 2, 3]", "1 [4, 5]"]),
        ("test_count_window.py::test_count_window", count_window, vec!["a 0 2", "a 1 2", "b 0 1"]),
        ("test_max_min_window.py::test_max_window", max_window, vec!["a 0 val=9 at=4", "a 1 val=10 at=12"]),
        ("test_max_min_window.py::test_min_window", min_window, vec!["a 0 val=1 at=0", "a 1 val=4 at=13"]),
        ("test_reduce_window.py::test_reduce_window", reduce_window, vec!["a 0 3", "a 1 2"]),
    ];
    for (name, flow, want) in cases {
        assert_eq!(Sim::new(flow).run(), strs(&want), "{}", name);
    }
}

// ---- test_join.py and test_join_window.py ----

/// The left and right inputs of the join pytests as one source of
/// `(side, (seconds, value))`, split again by side (the simulated host has
/// one input); lefts come first, as Bytewax's run gives them.
fn sides(flow: &Dataflow, lefts: &[(i64, i64)], rights: &[(i64, i64)]) -> (Stream<(String, (i64, i64))>, Stream<(String, (i64, i64))>) {
    let mut items: Vec<(i64, (i64, i64))> = lefts.iter().map(|&e| (0, e)).collect();
    items.extend(rights.iter().map(|&e| (1, e)));
    let (l, r) = flow.input("inp", testing_source(items, 1)).branch("side", |e: &(i64, (i64, i64))| e.0 == 0);
    let key = |e: (i64, (i64, i64))| ("ALL".to_string(), e.1);
    (l.map("key_l", key), r.map("key_r", key))
}

/// The pytests' `mode`: Bytewax 0.20's join modes as 0.21 insert and emit
/// modes.
fn mode(m: &str) -> (JoinInsertMode, JoinEmitMode) {
    match m {
        "complete" => (JoinInsertMode::Last, JoinEmitMode::Complete),
        "final" => (JoinInsertMode::Last, JoinEmitMode::Final),
        "running" => (JoinInsertMode::Last, JoinEmitMode::Running),
        _ => (JoinInsertMode::Product, JoinEmitMode::Final),
    }
}

fn show_row(row: Vec<Option<(i64, i64)>>) -> String {
    let vals: Vec<String> = row.iter().map(|v| v.map_or("None".to_string(), |v| v.1.to_string())).collect();
    format!("({})", vals.join(", "))
}

fn show_named(row: Vec<(String, (i64, i64))>) -> String {
    let vals: Vec<String> = row.iter().map(|(n, v)| format!("{}: {}", n, v.1)).collect();
    format!("{{{}}}", vals.join(", "))
}

thread_local! {
    static JOIN_CASE: std::cell::RefCell<(Vec<(i64, i64)>, Vec<(i64, i64)>, &'static str)> = std::cell::RefCell::new((vec![], vec![], ""));
}

fn join_case() -> (Vec<(i64, i64)>, Vec<(i64, i64)>, (JoinInsertMode, JoinEmitMode)) {
    JOIN_CASE.with(|c| {
        let c = c.borrow();
        (c.0.clone(), c.1.clone(), mode(c.2))
    })
}

fn join_flow() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let (l, r, (ins, emit)) = join_case();
    let (l, r) = sides(&flow, &l, &r);
    out(&l.join("join", &[&r], ins, emit).key_rm("clean"), show_row);
    flow
}

fn join_named_flow() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let (l, r, (ins, emit)) = join_case();
    let (l, r) = sides(&flow, &l, &r);
    out(&join_named("join", &[("left", &l), ("right", &r)], ins, emit).key_rm("clean"), show_named);
    flow
}

fn join_window_flow() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let (l, r, (ins, emit)) = join_case();
    let (l, r) = sides(&flow, &l, &r);
    let o = l.join_window("join", ev_clock(secs(10)), SessionWindower::new(secs(10)), &[&r], ins, emit);
    out(&o.down.key_rm("clean"), |(_, row)| show_row(row));
    flow
}

fn join_window_named_flow() -> Dataflow {
    let flow = Dataflow::new("test_df");
    let (l, r, (ins, emit)) = join_case();
    let (l, r) = sides(&flow, &l, &r);
    let o = join_window_named("join", ev_clock(secs(10)), SessionWindower::new(secs(1)), &[("left", &l), ("right", &r)], ins, emit);
    out(&o.down.key_rm("clean"), |(_, row)| show_named(row));
    flow
}

#[test]
fn join_pytests() {
    // (pytest, flow, lefts, rights (seconds, value), mode, rows)
    type Case = (&'static str, fn() -> Dataflow, Vec<(i64, i64)>, Vec<(i64, i64)>, &'static str, Vec<&'static str>);
    let one = vec![(0, 1)];
    let two = vec![(1, 2), (2, 3)];
    let lp = vec![(0, 1), (1, 2)];
    let rp = vec![(1, 3), (2, 4)];
    let prod = vec!["(1, 3)", "(1, 4)", "(2, 3)", "(2, 4)"];
    let prod_named = vec!["{left: 1, right: 3}", "{left: 1, right: 4}", "{left: 2, right: 3}", "{left: 2, right: 4}"];
    let running = vec!["(1, None)", "(1, 2)", "(1, 3)"];
    let running_named = vec!["{left: 1}", "{left: 1, right: 2}", "{left: 1, right: 3}"];
    let cases: Vec<Case> = vec![
        ("test_join.py::test_join_complete", join_flow, one.clone(), vec![(1, 2)], "complete", vec!["(1, 2)"]),
        ("test_join.py::test_join_final", join_flow, one.clone(), two.clone(), "final", vec!["(1, 3)"]),
        ("test_join.py::test_join_running", join_flow, one.clone(), two.clone(), "running", running.clone()),
        ("test_join.py::test_join_product", join_flow, lp.clone(), rp.clone(), "product", prod.clone()),
        ("test_join.py::test_join_named_complete", join_named_flow, one.clone(), vec![(1, 2)], "complete", vec!["{left: 1, right: 2}"]),
        ("test_join.py::test_join_named_final", join_named_flow, one.clone(), two.clone(), "final", vec!["{left: 1, right: 3}"]),
        ("test_join.py::test_join_named_running", join_named_flow, one.clone(), two.clone(), "running", running_named.clone()),
        ("test_join.py::test_join_named_product", join_named_flow, lp.clone(), rp.clone(), "product", prod_named.clone()),
        ("test_join_window.py::test_join_window_complete", join_window_flow, one.clone(), vec![(1, 2)], "complete", vec!["(1, 2)"]),
        ("test_join_window.py::test_join_window_final", join_window_flow, one.clone(), two.clone(), "final", vec!["(1, 3)"]),
        ("test_join_window.py::test_join_window_running", join_window_flow, one.clone(), two.clone(), "running", running),
        ("test_join_window.py::test_join_window_product", join_window_flow, lp.clone(), rp.clone(), "product", prod),
        (
            "test_join_window.py::test_join_window_named_complete",
            join_window_named_flow,
            one.clone(),
            vec![(1, 2)],
            "complete",
            vec!["{left: 1, right: 2}"],
        ),
        ("test_join_window.py::test_join_window_named_final", join_window_named_flow, one.clone(), two.clone(), "final", vec!["{left: 1, right: 3}"]),
        ("test_join_window.py::test_join_window_named_running", join_window_named_flow, one, two, "running", running_named),
        ("test_join_window.py::test_join_window_named_product", join_window_named_flow, lp, rp, "product", prod_named),
    ];
    for (name, flow, l, r, m, want) in cases {
        JOIN_CASE.with(|c| *c.borrow_mut() = (l, r, m));
        assert_eq!(Sim::new(flow).run(), strs(&want), "{}", name);
    }
}

#[test]
fn join_state_astuples_pytest() {
    // test_join.py::test_join_state_astuples
    let mut s = JoinState::new(3);
    for (side, v) in [(0, 1), (0, 2), (2, 3), (2, 4)] {
        s.insert(side, v, JoinInsertMode::Product);
    }
    let want = vec![
        vec![Some(1), None, Some(3)],
        vec![Some(1), None, Some(4)],
        vec![Some(2), None, Some(3)],
        vec![Some(2), None, Some(4)],
    ];
    assert_eq!(s.rows(), want);
}

// ---- the key logic, driven with a fixed clock ----

/// A count logic over values that are their own Unix-nanosecond
/// timestamps, with the system time read from `now`.
fn counter(w: Windower, wait: Duration, now: &Rc<Cell<i64>>, ordered: bool) -> impl FnMut(Option<crate::windowing::Snap<i64, i64>>) -> CountLogic {
    let n = now.clone();
    let clock = EventClock::new(|v: &i64| system_time(*v), wait).now_getter(move || system_time(n.get()));
    count_logic(clock, w, ordered)
}

/// The events as "down id n", "late id ts", "meta id".
fn show(ev: Vec<Event<i64, i64>>) -> Vec<String> {
    ev.into_iter()
        .map(|e| match e {
            Event::Down(id, n) => format!("down {} {}", id, n),
            Event::Late(id, v) => format!("late {} {}", id, v / S),
            Event::Meta(id, m) => format!("meta {} {}..{} {:?}", id, m.open_time / S, m.close_time / S, m.merged_ids),
        })
        .collect()
}

/// Event time lagging the system clock by an hour: Bytewax asks to wake at
/// the window's close in event time, an hour in the past, and loops. Here
/// the wake-up is when the watermark will reach the close, and a key with
/// no open window asks for none.
#[test]
fn issue_578_no_busy_loop() {
    let now = Rc::new(Cell::new(10_000 * S));
    let w = TumblingWindower::new(secs(10), UNIX_EPOCH);
    let mut logic = counter(w, secs(2), &now, false)(None);
    assert_eq!(logic.notify_at(), None, "a new key asks for no wake-up");
    let (ev, discard) = logic.on_batch(vec![(10_000 - 3600 + 1) * S]);
    assert!(ev.is_empty() && !discard);
    // Window [6400, 6410) closes when the watermark (6401 - 2 + elapsed)
    // reaches 6410: 11 s after the item arrived.
    let at = logic.notify_at().expect("a wake-up for the open window");
    assert_eq!(at, system_time(10_011 * S));
    now.set(10_011 * S - 1);
    assert_eq!(show(logic.on_notify().0), Vec::<String>::new(), "not yet");
    now.set(10_011 * S);
    let (ev, discard) = logic.on_notify();
    assert_eq!(show(ev), strs(&["down 640 1", "meta 640 6400..6410 []"]));
    assert!(discard, "no window open: the key is discarded");
}

/// A session key is discarded once its sessions close, so a long run over
/// a bounded key space keeps a bounded store; Bytewax keeps every session
/// key forever.
#[test]
fn issue_577_session_keys_are_discarded() {
    let now = Rc::new(Cell::new(0));
    let mut build = counter(SessionWindower::new(secs(5)), Duration::ZERO, &now, false);
    for round in 0..100 {
        let t = round * 60;
        now.set(t * S);
        let mut logic = build(None);
        let (_, discard) = logic.on_batch(vec![t * S, (t + 3) * S]);
        assert!(!discard);
        // The watermark is already t + 3: the session closes 5 s + 1 ns on.
        assert_eq!(logic.notify_at(), Some(system_time((t + 5) * S + 1)), "round {}", round);
        now.set((t + 5) * S + 1);
        let (ev, discard) = logic.on_notify();
        assert_eq!(show(ev), vec!["down 0 2".to_string(), format!("meta 0 {}..{} []", t, t + 3)], "round {}", round);
        assert!(discard, "round {}: a key with no open session is discarded", round);
    }
}

/// Window ids come from arithmetic: an `align_to` in 1900 with the
/// 700 ms / 1600 ms sliding windows of the issue puts a 2024 item in the
/// right windows at once, with ids near 6 billion.
#[test]
fn issue_413_align_to_long_ago() {
    let align = UNIX_EPOCH - Duration::from_secs(2_208_988_800); // 1900-01-01
    let w = SlidingWindower::new(Duration::from_millis(1600), Duration::from_millis(700), align);
    let now = Rc::new(Cell::new(1_709_315_512 * S));
    let ts = 1_709_315_512_577_000_000i64;
    let mut logic = counter(w, Duration::ZERO, &now, false)(None);
    let (ev, _) = logic.on_batch(vec![ts]);
    assert!(ev.is_empty());
    let (ev, _) = logic.on_eof();
    let ids: Vec<i64> = ev.iter().filter_map(|e| if let Event::Down(id, 1) = e { Some(*id) } else { None }).collect();
    let holds = |id: i64| {
        let open = -2_208_988_800i128 * S as i128 + id as i128 * 700_000_000;
        open <= ts as i128 && (ts as i128) < open + 1_600_000_000
    };
    assert!(!ids.is_empty(), "the item is in its windows, not lost");
    assert!(ids.iter().all(|&id| holds(id)), "ids {:?}", ids);
    assert!(!holds(ids[0] - 1) && !holds(ids[ids.len() - 1] + 1), "ids {:?} are all the windows of the item", ids);
    assert!(ids[0] > 5_000_000_000);
}

/// Out-of-order items never trip anything: the watermark stays where the
/// latest item put it, older items within the wait go into their windows,
/// older ones still are late, and a system clock going back does not move
/// the watermark back (Bytewax asserted on both).
#[test]
fn issue_470_out_of_order_input() {
    let now = Rc::new(Cell::new(1000 * S));
    let w = TumblingWindower::new(secs(10), UNIX_EPOCH);
    let mut logic = counter(w, secs(5), &now, true)(None);
    let (ev, _) = logic.on_batch(vec![100 * S, 120 * S, 117 * S, 112 * S, 103 * S]);
    // Watermark 115: 112 and 103 are late; 100 waits for nothing (it came
    // when the watermark was 95) and closed with window 10 at 115.
    assert_eq!(show(ev), strs(&["late 11 112", "late 10 103", "down 10 1", "meta 10 100..110 []"]));
    now.set(990 * S); // the system clock goes back
    let (ev, _) = logic.on_batch(vec![116 * S]);
    assert!(ev.is_empty(), "the watermark is still 115: 116 waits with 117 and 120");
    assert_eq!(logic.notify_at(), Some(system_time(1001 * S)), "116 comes due 1 s after 120 raised the watermark");
    now.set(1005 * S);
    let (ev, _) = logic.on_notify();
    assert_eq!(show(ev), strs(&["down 11 2", "meta 11 110..120 []"]));
    let (ev, discard) = logic.on_eof();
    assert_eq!(show(ev), strs(&["down 12 1", "meta 12 120..130 []"]));
    assert!(discard);
}

/// A key resumed from its snapshot carries on as if never stopped: the
/// open windows, their counts, the values waiting and the clock.
#[test]
fn snapshot_resumes_windows_and_queue() {
    let now = Rc::new(Cell::new(500 * S));
    let w = TumblingWindower::new(secs(10), UNIX_EPOCH);
    let mut build = counter(w, secs(5), &now, true);
    let mut a = build(None);
    a.on_batch(vec![100 * S, 101 * S, 104 * S]);
    let snap = crate::codec::to_bytes(&a.snapshot());
    let mut b = build(Some(crate::codec::Codec::decode(&snap).unwrap()));
    assert_eq!(b.notify_at(), a.notify_at());
    now.set(510 * S);
    assert_eq!(show(b.on_notify().0), show(a.on_notify().0));
    assert_eq!(show(b.on_eof().0), show(a.on_eof().0));
}

// ---- property test ----

/// A small deterministic PRNG (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

/// Keyed events in seconds that mostly move forward, some jumping back.
fn random_events(rng: &mut Rng, n: usize, keys: u64) -> Vec<(String, i64)> {
    let mut t = 1000;
    (0..n)
        .map(|_| {
            t += rng.below(4);
            let back = if rng.below(5) == 0 { rng.below(30) } else { 0 };
            (format!("k{}", rng.below(keys)), t - back)
        })
        .collect()
}

/// The brute-force model: per key, the items not late (older than the
/// latest timestamp minus the wait, at the time they came), and the late
/// ones.
fn model_split(events: &[(String, i64)], wait: i64) -> (Vec<(String, i64)>, Vec<(String, i64)>) {
    let mut max: std::collections::HashMap<&str, i64> = Default::default();
    let (mut on_time, mut late) = (Vec::new(), Vec::new());
    for (k, t) in events {
        let m = max.entry(k).or_insert(i64::MIN);
        if *m != i64::MIN && *t < *m - wait {
            late.push((k.clone(), *t));
        } else {
            on_time.push((k.clone(), *t));
        }
        *m = (*m).max(*t);
    }
    (on_time, late)
}

/// Model counts of sliding windows: (key, id, count), sorted.
fn model_sliding(on_time: &[(String, i64)], length: i64, offset: i64) -> Vec<(String, i64, i64)> {
    let mut m: std::collections::BTreeMap<(String, i64), i64> = Default::default();
    for (k, t) in on_time {
        let first = (t - length).div_euclid(offset) + 1;
        let last = t.div_euclid(offset);
        for id in first..=last {
            *m.entry((k.clone(), id)).or_default() += 1;
        }
    }
    m.into_iter().map(|((k, id), n)| (k, id, n)).collect()
}

/// Model session sizes: (key, count), sorted; sessions are runs of a
/// key's sorted times with steps of at most `gap`.
fn model_sessions(on_time: &[(String, i64)], gap: i64) -> Vec<(String, i64)> {
    let mut by_key: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
    for (k, t) in on_time {
        by_key.entry(k).or_default().push(*t);
    }
    let mut out = Vec::new();
    for (k, mut ts) in by_key {
        ts.sort();
        let mut n = 1;
        for w in ts.windows(2) {
            if w[1] - w[0] > gap {
                out.push((k.to_string(), n));
                n = 0;
            }
            n += 1;
        }
        out.push((k.to_string(), n));
    }
    out.sort();
    out
}

/// Runs the count logic per key over `events` in batches of up to 3 items
/// with a fixed system time, then EOF; returns (key, id, count) of every
/// closed window and the number of late reports.
fn run_counts(events: &[(String, i64)], w: &Windower, wait: i64, batch: usize) -> (Vec<(String, i64, i64)>, usize) {
    let now = Rc::new(Cell::new(5_000 * S));
    let mut build = counter(w.clone(), Duration::from_secs(wait as u64), &now, true);
    let mut logics: std::collections::BTreeMap<String, CountLogic> = Default::default();
    let (mut downs, mut late) = (Vec::new(), 0);
    let mut take = |k: &str, ev: Vec<Event<i64, i64>>| {
        for e in ev {
            match e {
                Event::Down(id, n) => downs.push((k.to_string(), id, n)),
                Event::Late(..) => late += 1,
                Event::Meta(..) => {}
            }
        }
    };
    for chunk in events.chunks(batch) {
        let mut keys: Vec<&str> = chunk.iter().map(|e| e.0.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            let vals: Vec<i64> = chunk.iter().filter(|e| e.0 == k).map(|e| e.1 * S).collect();
            let logic = logics.entry(k.to_string()).or_insert_with(|| build(None));
            let (ev, discard) = logic.on_batch(vals);
            take(k, ev);
            assert!(!discard, "a key with an on-time item keeps an open window until EOF");
        }
    }
    for (k, logic) in logics.iter_mut() {
        let (ev, discard) = logic.on_eof();
        take(k, ev);
        assert!(discard);
    }
    downs.sort();
    (downs, late)
}

#[test]
fn property_counts_equal_the_model() {
    let mut rng = Rng(42);
    for round in 0..40 {
        let events = random_events(&mut rng, 300, 4);
        let wait = rng.below(20);
        let batch = 1 + rng.below(3) as usize;
        let (on_time, late) = model_split(&events, wait);
        let len = 1 + rng.below(15);
        let off = 1 + rng.below(len as u64);
        let cases = [
            ("tumbling", TumblingWindower::new(secs(len), UNIX_EPOCH), len, len),
            ("sliding", SlidingWindower::new(secs(len), secs(off), UNIX_EPOCH), len, off),
        ];
        for (what, w, length, offset) in cases {
            let (got, got_late) = run_counts(&events, &w, wait, batch);
            assert_eq!(got, model_sliding(&on_time, length, offset), "round {} {}", round, what);
            let per_late = |t: i64| ((t - length).div_euclid(offset) + 1..=t.div_euclid(offset)).count();
            assert_eq!(got_late, late.iter().map(|l| per_late(l.1)).sum::<usize>(), "round {} {} late", round, what);
        }
        let gap = rng.below(8);
        let (got, got_late) = run_counts(&events, &SessionWindower::new(secs(gap)), wait, batch);
        let mut sizes: Vec<(String, i64)> = got.into_iter().map(|(k, _, n)| (k, n)).collect();
        sizes.sort();
        assert_eq!(sizes, model_sessions(&on_time, gap), "round {} sessions gap {}", round, gap);
        assert_eq!(got_late, late.len(), "round {} sessions late", round);
    }
}
