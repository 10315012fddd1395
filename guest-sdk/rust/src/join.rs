//! Joins of Bytewax 0.21: `join` (`bytewax.operators.join`) and
//! `join_window` (`bytewax.operators.windowing.join_window`), with their
//! named-side variants. Sides are keyed streams of one value type (use an
//! enum to join different types); a row holds one `Option` per side, in
//! side order, `None` for a side that has no value.

use crate::codec::Codec;
use crate::flow::{Scope, Stream};
use crate::library::StatefulLogic;
use crate::ops::merge;
use crate::window_time::{Clock, Windower};
use crate::windowing::{scoped, window_in, Agg, WindowOut};

/// How a join keeps several values of one side (Bytewax's
/// `JoinInsertMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinInsertMode {
    /// The first value of each side.
    First,
    /// The last value of each side.
    Last,
    /// Every value: rows are every combination of the sides' values
    /// (a cross join).
    Product,
}

/// When a join emits rows (Bytewax's `JoinEmitMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinEmitMode {
    /// Once every side has a value; the state is then cleared.
    Complete,
    /// When the inputs end (`join`) or the window closes (`join_window`).
    Final,
    /// After every value, with what the state holds; kept forever
    /// (`join`) or until the window closes (`join_window`).
    Running,
}

/// The values seen per side (Bytewax's `_JoinState`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JoinState<V> {
    pub seen: Vec<Vec<V>>,
}

/// The `Vec<Vec<V>>` of the sides' values.
impl<V: Codec> Codec for JoinState<V> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.seen.encode(out)
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        Ok(JoinState { seen: Vec::decode(b)? })
    }
}

impl<V: Clone> JoinState<V> {
    pub fn new(sides: usize) -> JoinState<V> {
        JoinState { seen: vec![Vec::new(); sides] }
    }

    /// Records `v` on `side` as `mode` says.
    pub fn insert(&mut self, side: usize, v: V, mode: JoinInsertMode) {
        let vals = match self.seen.get_mut(side) {
            Some(vals) => vals,
            None => return,
        };
        match mode {
            JoinInsertMode::First if vals.is_empty() => vals.push(v),
            JoinInsertMode::First => {}
            JoinInsertMode::Last => *vals = vec![v],
            JoinInsertMode::Product => vals.push(v),
        }
    }

    pub fn all_set(&self) -> bool {
        self.seen.iter().all(|v| !v.is_empty())
    }

    /// Every combination of one value per side, in side order (the first
    /// side varies slowest); `None` for a side without values.
    pub fn rows(&self) -> Vec<Vec<Option<V>>> {
        let mut rows: Vec<Vec<Option<V>>> = vec![Vec::with_capacity(self.seen.len())];
        for vals in &self.seen {
            if vals.is_empty() {
                rows.iter_mut().for_each(|r| r.push(None));
                continue;
            }
            let mut next = Vec::with_capacity(rows.len() * vals.len());
            for r in &rows {
                for v in vals {
                    let mut r2 = r.clone();
                    r2.push(Some(v.clone()));
                    next.push(r2);
                }
            }
            rows = next;
        }
        rows
    }

    pub fn clear(&mut self) {
        self.seen.iter_mut().for_each(|v| v.clear());
    }

    /// Absorbs `other`, the state of a window merged into this one.
    /// Bytewax's code lets the merged window's values win for `First`,
    /// against its own comment; here the target (the session that opened
    /// first, so holding the earlier values) keeps its values for `First`
    /// and the merged one's win for `Last`. `Product` appends them.
    pub fn absorb(&mut self, other: JoinState<V>, mode: JoinInsertMode) {
        for (mine, theirs) in self.seen.iter_mut().zip(other.seen) {
            match mode {
                JoinInsertMode::First if mine.is_empty() => *mine = theirs,
                JoinInsertMode::First => {}
                JoinInsertMode::Last if !theirs.is_empty() => *mine = theirs,
                JoinInsertMode::Last => {}
                JoinInsertMode::Product => mine.extend(theirs),
            }
        }
    }
}

/// The logic of one key of `join` (Bytewax's `_JoinLogic`).
struct JoinLogic<V> {
    insert: JoinInsertMode,
    emit: JoinEmitMode,
    state: JoinState<V>,
}

type Row<V> = Vec<Option<V>>;

impl<V: Clone> StatefulLogic<(usize, V), Row<V>, JoinState<V>> for JoinLogic<V> {
    fn on_item(&mut self, (side, v): (usize, V)) -> (Vec<Row<V>>, bool) {
        self.state.insert(side, v, self.insert);
        match self.emit {
            JoinEmitMode::Complete if self.state.all_set() => (self.state.rows(), true),
            JoinEmitMode::Running => (self.state.rows(), false),
            _ => (Vec::new(), false),
        }
    }
    fn on_eof(&mut self) -> (Vec<Row<V>>, bool) {
        match self.emit {
            JoinEmitMode::Final => (self.state.rows(), true),
            _ => (Vec::new(), false),
        }
    }
    fn snapshot(&self) -> JoinState<V> {
        self.state.clone()
    }
}

/// The windows of `join_window` (Bytewax's `_JoinWindowLogic`).
struct JoinAgg {
    insert: JoinInsertMode,
    emit: JoinEmitMode,
    sides: usize,
}

impl JoinAgg {
    fn check<V: Clone>(&self, s: &mut JoinState<V>, out: &mut Vec<Row<V>>) {
        match self.emit {
            JoinEmitMode::Complete if s.all_set() => {
                out.extend(s.rows());
                s.clear();
            }
            JoinEmitMode::Running => out.extend(s.rows()),
            _ => {}
        }
    }
}

impl<V: Codec + Clone> Agg<(usize, V), Row<V>> for JoinAgg {
    type L = JoinState<V>;
    type S = JoinState<V>;
    fn build(&mut self, resume: Option<JoinState<V>>) -> JoinState<V> {
        resume.unwrap_or_else(|| JoinState::new(self.sides))
    }
    fn value(&mut self, s: &mut JoinState<V>, (side, v): (usize, V), out: &mut Vec<Row<V>>) {
        s.insert(side, v, self.insert);
        self.check(s, out);
    }
    fn merge(&mut self, into: &mut JoinState<V>, orig: JoinState<V>, out: &mut Vec<Row<V>>) {
        into.absorb(orig, self.insert);
        self.check(into, out);
    }
    fn close(&mut self, s: JoinState<V>, out: &mut Vec<Row<V>>) {
        if self.emit == JoinEmitMode::Final {
            out.extend(s.rows());
        }
    }
    fn snapshot(&self, s: &JoinState<V>) -> JoinState<V> {
        s.clone()
    }
}

/// Brings every side into scope `sc`.
fn bring_all<V: Codec>(sc: &Scope, sides: &[&Stream<(String, V)>]) -> Vec<Stream<(String, V)>> {
    sides.iter().map(|s| sc.bring(s)).collect()
}

/// Labels each side's values with the side's index and merges them:
/// steps `add_names.label_<i>.map` and `add_names.merge`, in the scope of
/// the sides (Bytewax's `_join_label_merge`).
fn label_merge<V: Codec>(sides: &[Stream<(String, V)>]) -> Stream<(String, (usize, V))> {
    let (sc, first) = sides[0].enter("add_names");
    let mut inner = vec![first];
    inner.extend(sides[1..].iter().map(|s| sc.bring(s)));
    let labeled: Vec<Stream<(String, (usize, V))>> =
        inner.iter().enumerate().map(|(i, s)| s.map_value(&format!("label_{}", i), move |v: V| (i, v))).collect();
    let refs: Vec<&Stream<(String, (usize, V))>> = labeled.iter().collect();
    sc.exit(&merge("merge", &refs))
}

/// The steps of `join` inside the operator's scope.
fn join_in<V: Codec + Clone>(sides: &[Stream<(String, V)>], insert: JoinInsertMode, emit: JoinEmitMode) -> Stream<(String, Row<V>)> {
    let n = sides.len();
    label_merge(sides).stateful("join", move |resume: Option<JoinState<V>>| {
        let state = resume.unwrap_or_else(|| JoinState::new(n));
        Box::new(JoinLogic { insert, emit, state }) as Box<dyn StatefulLogic<(usize, V), Row<V>, JoinState<V>>>
    })
}

/// The steps of `join_window` inside the operator's scope.
fn join_window_in<V: Codec + Clone>(
    sides: &[Stream<(String, V)>],
    clock: Clock<V>,
    windower: Windower,
    insert: JoinInsertMode,
    emit: JoinEmitMode,
) -> WindowOut<(usize, V), Row<V>> {
    let merged = label_merge(sides);
    let clock = clock.map(|sv: &(usize, V)| &sv.1);
    let agg = JoinAgg { insert, emit, sides: sides.len() };
    scoped(&merged, &["window"], move |s| window_in(s, clock, windower, agg, true))
}

impl<V: Codec + Clone> Stream<(String, V)> {
    /// Joins the values of each key on this stream and `others` (Bytewax's
    /// `join`): rows hold a value per side, in order (this stream first).
    /// Bytewax's defaults are `Last` and `Complete`. Core steps:
    /// `<id>.add_names.label_<i>.map`, `<id>.add_names.merge` and
    /// `<id>.join.stateful_batch`.
    pub fn join(&self, id: &str, others: &[&Stream<(String, V)>], insert_mode: JoinInsertMode, emit_mode: JoinEmitMode) -> Stream<(String, Vec<Option<V>>)> {
        let (sc, first) = self.enter(id);
        let mut sides = vec![first];
        sides.extend(bring_all(&sc, others));
        sc.exit(&join_in(&sides, insert_mode, emit_mode))
    }

    /// Joins the values of each key on this stream and `others` within each
    /// window (Bytewax's `join_window`); `clock` reads the sides' values.
    /// Values enter windows in timestamp order. Rows come on `down`; `late`
    /// carries late values with their side index. Bytewax's defaults are
    /// `Last` and `Final`. Core step: `<id>.window.stateful_batch`.
    #[allow(clippy::too_many_arguments)]
    pub fn join_window(
        &self,
        id: &str,
        clock: Clock<V>,
        windower: Windower,
        others: &[&Stream<(String, V)>],
        insert_mode: JoinInsertMode,
        emit_mode: JoinEmitMode,
    ) -> WindowOut<(usize, V), Vec<Option<V>>> {
        let (sc, first) = self.enter(id);
        let mut sides = vec![first];
        sides.extend(bring_all(&sc, others));
        let out = join_window_in(&sides, clock, windower, insert_mode, emit_mode);
        WindowOut { down: sc.exit(&out.down), late: sc.exit(&out.late), meta: sc.exit(&out.meta) }
    }
}

/// A row as `(name, value)` pairs in side order, without the sides that
/// have no value (Bytewax's `asdicts`).
fn name_row<V>(names: &[String], row: Row<V>) -> Vec<(String, V)> {
    names.iter().zip(row).filter_map(|(n, v)| v.map(|v| (n.clone(), v))).collect()
}

/// Names the values of rows.
fn named<V: Codec>(rows: &Stream<(String, Row<V>)>, names: Vec<String>) -> Stream<(String, Vec<(String, V)>)> {
    rows.map_value("asdict", move |row: Row<V>| name_row(&names, row))
}

/// `join` over named sides (Bytewax's `join_named`): rows are `(name,
/// value)` pairs in the order of `sides`, leaving out sides without a
/// value. Core steps: those of `join`,
/// then `<id>.asdict.map`.
pub fn join_named<V: Codec + Clone>(
    id: &str,
    sides: &[(&str, &Stream<(String, V)>)],
    insert_mode: JoinInsertMode,
    emit_mode: JoinEmitMode,
) -> Stream<(String, Vec<(String, V)>)> {
    let names: Vec<String> = sides.iter().map(|s| s.0.to_string()).collect();
    let streams: Vec<&Stream<(String, V)>> = sides.iter().map(|s| s.1).collect();
    let (sc, _) = streams[0].enter(id);
    let inner = bring_all(&sc, &streams);
    sc.exit(&named(&join_in(&inner, insert_mode, emit_mode), names))
}

/// `join_window` over named sides (Bytewax's `join_window_named`): rows on
/// `down` are `(name, value)` pairs in the order of `sides`, leaving out
/// sides without a value. Core steps:
/// those of `join_window`, then `<id>.asdict.map`.
pub fn join_window_named<V: Codec + Clone>(
    id: &str,
    clock: Clock<V>,
    windower: Windower,
    sides: &[(&str, &Stream<(String, V)>)],
    insert_mode: JoinInsertMode,
    emit_mode: JoinEmitMode,
) -> WindowOut<(usize, V), Vec<(String, V)>> {
    let names: Vec<String> = sides.iter().map(|s| s.0.to_string()).collect();
    let streams: Vec<&Stream<(String, V)>> = sides.iter().map(|s| s.1).collect();
    let (sc, _) = streams[0].enter(id);
    let inner = bring_all(&sc, &streams);
    let out = join_window_in(&inner, clock, windower, insert_mode, emit_mode);
    let down = out.down.map_value("asdict", move |(w, row): (i64, Row<V>)| (w, name_row(&names, row)));
    WindowOut { down: sc.exit(&down), late: sc.exit(&out.late), meta: sc.exit(&out.meta) }
}
