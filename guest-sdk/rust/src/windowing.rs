//! The windowing operators of Bytewax 0.21 (`bytewax.operators.windowing`):
//! `window`, `fold_window`, `collect_window`, `count_window`,
//! `reduce_window`, `max_window` and `min_window` (`join_window` is in
//! `join`). Each is one `stateful_batch` step whose logic per key holds the
//! key's clock, its open windows and their states; its `notify_at` is the
//! system time at which the key's earliest open window closes, so windows
//! close without new input and across a resume (the host keeps timers).
//!
//! What a key keeps: open windows only. Closed windows are dropped, and a
//! key with no open window and nothing waiting is discarded, so the store
//! holds no state for it (for sessions too: bytewax/bytewax#577).

use crate::codec::Codec;
use crate::flow::{Scope, Stream};
use crate::stateful::StatefulBatchLogic;
use crate::window_time::*;
use crate::wire::{put_varint, Reader};
use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::SystemTime;

/// The state of one window of the `window` operator (Bytewax's
/// `WindowLogic`): one is built per window of each key. Every method
/// returns the values to emit, each sent downstream as
/// `(key, (window id, value))`.
pub trait WindowLogic<V, W, S> {
    /// Receives a value of the window: in timestamp order when the
    /// operator is `ordered`, in arrival order otherwise.
    fn on_value(&mut self, value: V) -> Vec<W>;
    /// Absorbs `original`, a window merged into this one (sessions only);
    /// `original.snapshot()` gives its state. `original` is dropped after.
    fn on_merge(&mut self, original: Box<dyn WindowLogic<V, W, S>>) -> Vec<W>;
    /// Called once when the window closes; the logic is dropped after.
    fn on_close(&mut self) -> Vec<W>;
    /// The window's state to resume from.
    fn snapshot(&self) -> S;
}

/// The three streams a windowing operator returns (Bytewax's `WindowOut`),
/// each keyed like its input and sub-keyed by window id.
pub struct WindowOut<V, W> {
    /// What the windows emitted: `(key, (window id, value))`.
    pub down: Stream<(String, (i64, W))>,
    /// Items older than their key's watermark when they arrived, with each
    /// window id they would have been in (`LATE_SESSION_ID` for sessions):
    /// `(key, (window id, value))`. Ids here may never open.
    pub late: Stream<(String, (i64, V))>,
    /// One item per window when it closes, after what it emitted:
    /// `(key, (window id, metadata))`. Windows merged into another get
    /// none; their ids are in the target's `merged_ids`.
    pub meta: Stream<(String, (i64, WindowMetadata))>,
}

/// What the window step emits, split into the three streams after it.
pub(crate) enum Event<V, W> {
    Down(i64, W),
    Late(i64, V),
    Meta(i64, WindowMetadata),
}

/// `tag byte (0 down, 1 late, 2 meta) | varint window id | the value`.
impl<V: Codec, W: Codec> Codec for Event<V, W> {
    fn encode(&self, out: &mut Vec<u8>) {
        let (tag, id) = match self {
            Event::Down(id, _) => (0u8, *id),
            Event::Late(id, _) => (1, *id),
            Event::Meta(id, _) => (2, *id),
        };
        out.push(tag);
        put_varint(out, id);
        match self {
            Event::Down(_, w) => w.encode(out),
            Event::Late(_, v) => v.encode(out),
            Event::Meta(_, m) => m.encode(out),
        }
    }
    fn decode(b: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(b);
        let bad = |e: String| format!("bx: cannot decode a window event: {}", e);
        let tag = r.byte().map_err(bad)?;
        let id = r.varint().map_err(bad)?;
        let rest = r.take(r.rest()).map_err(bad)?;
        match tag {
            0 => Ok(Event::Down(id, W::decode(rest)?)),
            1 => Ok(Event::Late(id, V::decode(rest)?)),
            2 => Ok(Event::Meta(id, WindowMetadata::decode(rest)?)),
            t => Err(bad(format!("unknown tag {}", t))),
        }
    }
}

/// How the windows of an operator hold and combine values: `L` is one
/// window's logic, `S` its snapshot. The fold operators use their state
/// directly; `window` boxes the user's `WindowLogic`.
pub(crate) trait Agg<V, W>: 'static {
    type L;
    type S: Codec;
    fn build(&mut self, resume: Option<Self::S>) -> Self::L;
    fn value(&mut self, l: &mut Self::L, v: V, out: &mut Vec<W>);
    fn merge(&mut self, into: &mut Self::L, orig: Self::L, out: &mut Vec<W>);
    fn close(&mut self, l: Self::L, out: &mut Vec<W>);
    fn snapshot(&self, l: &Self::L) -> Self::S;
}

/// The aggregation of `window`: the user's boxed logics.
struct BoxAgg<B, S>(B, PhantomData<fn() -> S>);

impl<V: 'static, W: 'static, S: Codec, B> Agg<V, W> for BoxAgg<B, S>
where
    B: FnMut(Option<S>) -> Box<dyn WindowLogic<V, W, S>> + 'static,
{
    type L = Box<dyn WindowLogic<V, W, S>>;
    type S = S;
    fn build(&mut self, resume: Option<S>) -> Self::L {
        (self.0)(resume)
    }
    fn value(&mut self, l: &mut Self::L, v: V, out: &mut Vec<W>) {
        out.extend(l.on_value(v));
    }
    fn merge(&mut self, into: &mut Self::L, orig: Self::L, out: &mut Vec<W>) {
        out.extend(into.on_merge(orig));
    }
    fn close(&mut self, mut l: Self::L, out: &mut Vec<W>) {
        out.extend(l.on_close());
    }
    fn snapshot(&self, l: &Self::L) -> S {
        l.snapshot()
    }
}

/// The aggregation of `fold_window`: an accumulator per window, emitted
/// when the window closes.
struct FoldAgg<B, F, M> {
    builder: B,
    folder: F,
    merger: M,
}

impl<V: 'static, S: Codec + Clone, B, F, M> Agg<V, S> for FoldAgg<B, F, M>
where
    B: FnMut() -> S + 'static,
    F: FnMut(S, V) -> S + 'static,
    M: FnMut(S, S) -> S + 'static,
{
    type L = Option<S>;
    type S = S;
    fn build(&mut self, resume: Option<S>) -> Option<S> {
        Some(resume.unwrap_or_else(&mut self.builder))
    }
    fn value(&mut self, l: &mut Option<S>, v: V, _: &mut Vec<S>) {
        let s = l.take().expect("window state");
        *l = Some((self.folder)(s, v));
    }
    fn merge(&mut self, into: &mut Option<S>, orig: Option<S>, _: &mut Vec<S>) {
        let s = into.take().expect("window state");
        *into = Some((self.merger)(s, orig.expect("window state")));
    }
    fn close(&mut self, l: Option<S>, out: &mut Vec<S>) {
        out.extend(l);
    }
    fn snapshot(&self, l: &Option<S>) -> S {
        l.clone().expect("window state")
    }
}

/// What every key of one window step shares.
struct Shared<V, A> {
    clock: Clock<V>,
    kind: WindowerKind,
    ordered: bool,
    agg: RefCell<A>,
}

/// A key's snapshot: clock (sys_max, base), windower (last session id,
/// open windows), then the windows' states and the values waiting for the
/// watermark (ordered operators only).
pub(crate) type Snap<V, S> = ((i64, i64), (i64, Vec<(i64, WindowMetadata)>), (Vec<(i64, S)>, Vec<(V, i64)>));

/// The logic of one key of a window step (Bytewax's `_WindowLogic`).
pub(crate) struct WinKey<V, W, A: Agg<V, W>> {
    sh: Rc<Shared<V, A>>,
    clock: KeyClock,
    windower: KeyWindower,
    logics: Vec<(i64, A::L)>,
    queue: Vec<(V, i64)>,
    ids: Vec<i64>,
    scratch: Vec<W>,
    _w: PhantomData<fn() -> W>,
}

impl<V: Codec + Clone, W: Codec, A: Agg<V, W>> WinKey<V, W, A> {
    fn new(sh: Rc<Shared<V, A>>, resume: Option<Snap<V, A::S>>) -> WinKey<V, W, A> {
        let (clock, windower, logics, queue) = match resume {
            None => (sh.clock.build(None), KeyWindower::new(sh.kind, None), Vec::new(), Vec::new()),
            Some((c, w, (ls, q))) => {
                let mut agg = sh.agg.borrow_mut();
                let logics = ls.into_iter().map(|(id, s)| (id, agg.build(Some(s)))).collect();
                (sh.clock.build(Some(c)), KeyWindower::new(sh.kind, Some(w)), logics, q)
            }
        };
        WinKey { sh, clock, windower, logics, queue, ids: Vec::new(), scratch: Vec::new(), _w: PhantomData }
    }

    fn now(&self) -> i64 {
        nanos((self.sh.clock.now)())
    }

    fn logic_at(&self, id: i64) -> Option<usize> {
        self.logics.iter().position(|(w, _)| *w == id)
    }

    /// Moves what the logics emitted into events of window `id`.
    fn emit(&mut self, id: i64, ev: &mut Vec<Event<V, W>>) {
        ev.extend(self.scratch.drain(..).map(|w| Event::Down(id, w)));
    }

    /// Inserts an on-time value into its windows.
    fn insert(&mut self, v: V, ts: i64, ev: &mut Vec<Event<V, W>>) {
        let mut ids = std::mem::take(&mut self.ids);
        self.windower.open_for(ts, &mut ids);
        let mut v = Some(v);
        let sh = self.sh.clone();
        let mut agg = sh.agg.borrow_mut();
        for (j, &id) in ids.iter().enumerate() {
            let i = match self.logic_at(id) {
                Some(i) => i,
                None => {
                    self.logics.push((id, agg.build(None)));
                    self.logics.len() - 1
                }
            };
            let value = if j + 1 == ids.len() { v.take().expect("value") } else { v.clone().expect("value") };
            agg.value(&mut self.logics[i].1, value, &mut self.scratch);
            self.emit(id, ev);
        }
        self.ids = ids;
    }

    /// Reports a late value for each window it would have been in.
    fn late(&mut self, v: V, ts: i64, ev: &mut Vec<Event<V, W>>) {
        let mut ids = std::mem::take(&mut self.ids);
        self.windower.late_for(ts, &mut ids);
        ev.extend(ids.iter().map(|&id| Event::Late(id, v.clone())));
        self.ids = ids;
    }

    /// Plays the values due at watermark `wm` into their windows (all of
    /// them unless ordered, then in timestamp order), then merges and
    /// closes windows (Bytewax's `_flush_queue`).
    fn flush(&mut self, wm: i64, ev: &mut Vec<Event<V, W>>) {
        let due = if self.sh.ordered {
            let (mut due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.queue).into_iter().partition(|e| e.1 <= wm);
            due.sort_by_key(|e| e.1);
            self.queue = rest;
            due
        } else {
            std::mem::take(&mut self.queue)
        };
        for (v, ts) in due {
            self.insert(v, ts, ev);
        }
        self.merge(ev);
        self.close(wm, ev);
    }

    fn merge(&mut self, ev: &mut Vec<Event<V, W>>) {
        let sh = self.sh.clone();
        let mut agg = sh.agg.borrow_mut();
        for (orig, targ) in self.windower.merged() {
            if orig == targ {
                continue;
            }
            let o = match self.logic_at(orig) {
                Some(i) => self.logics.remove(i).1,
                None => continue,
            };
            match self.logic_at(targ) {
                Some(i) => agg.merge(&mut self.logics[i].1, o, &mut self.scratch),
                None => self.logics.push((targ, o)),
            }
            self.emit(targ, ev);
        }
    }

    fn close(&mut self, wm: i64, ev: &mut Vec<Event<V, W>>) {
        let sh = self.sh.clone();
        let mut agg = sh.agg.borrow_mut();
        for (id, meta) in self.windower.close_for(wm) {
            if let Some(i) = self.logic_at(id) {
                let l = self.logics.remove(i).1;
                agg.close(l, &mut self.scratch);
                self.emit(id, ev);
            }
            ev.push(Event::Meta(id, meta));
        }
    }

    fn is_empty(&self) -> bool {
        self.logics.is_empty() && self.queue.is_empty() && self.windower.is_empty()
    }
}

impl<V: Codec + Clone, W: Codec, A: Agg<V, W>> StatefulBatchLogic<V, Event<V, W>, Snap<V, A::S>> for WinKey<V, W, A> {
    fn on_batch(&mut self, values: Vec<V>) -> (Vec<Event<V, W>>, bool) {
        let now = self.now();
        self.clock.before_batch(now);
        let mut ev = Vec::new();
        let mut wm = self.clock.watermark();
        for v in values {
            let ts = self.sh.clock.ts(&v, self.clock.now);
            wm = self.clock.on_item(ts);
            if ts < wm {
                self.late(v, ts, &mut ev);
            } else {
                self.queue.push((v, ts));
            }
        }
        self.flush(wm, &mut ev);
        (ev, self.is_empty())
    }

    fn on_notify(&mut self) -> (Vec<Event<V, W>>, bool) {
        let now = self.now();
        self.clock.before_batch(now);
        let mut ev = Vec::new();
        self.flush(self.clock.watermark(), &mut ev);
        (ev, self.is_empty())
    }

    fn on_eof(&mut self) -> (Vec<Event<V, W>>, bool) {
        let mut ev = Vec::new();
        self.flush(UTC_MAX, &mut ev);
        (ev, self.is_empty())
    }

    /// The system time at which the earliest open window closes or the
    /// earliest waiting value comes due; None when there is neither (no
    /// wake-ups for an idle key: bytewax/bytewax#578).
    fn notify_at(&self) -> Option<SystemTime> {
        let mut at = self.windower.next_close();
        if let Some(q) = self.queue.iter().map(|e| e.1).min() {
            at = Some(at.map_or(q, |a| a.min(q)));
        }
        at.and_then(|t| self.clock.system_time_of(t)).map(system_time)
    }

    fn snapshot(&self) -> Snap<V, A::S> {
        let agg = self.sh.agg.borrow();
        let logics = self.logics.iter().map(|(id, l)| (*id, agg.snapshot(l))).collect();
        (self.clock.snapshot(), self.windower.snapshot(), (logics, self.queue.clone()))
    }
}

/// Opens the scopes of `path` inside `up`'s, runs `body` in the innermost
/// and brings its three streams back out.
pub(crate) fn scoped<T: Codec, V: Codec, W: Codec, F>(up: &Stream<T>, path: &[&str], body: F) -> WindowOut<V, W>
where
    F: FnOnce(&Stream<T>) -> WindowOut<V, W>,
{
    let mut scopes: Vec<Scope> = Vec::new();
    let mut s = up.clone();
    for id in path {
        let (sc, inner) = s.enter(id);
        scopes.push(sc);
        s = inner;
    }
    let mut out = body(&s);
    for sc in scopes.iter().rev() {
        out = WindowOut { down: sc.exit(&out.down), late: sc.exit(&out.late), meta: sc.exit(&out.meta) };
    }
    out
}

/// The window step and its three unwrap steps, in `up`'s scope.
pub(crate) fn window_in<V, W, A>(up: &Stream<(String, V)>, clock: Clock<V>, windower: Windower, agg: A, ordered: bool) -> WindowOut<V, W>
where
    V: Codec + Clone,
    W: Codec,
    A: Agg<V, W>,
{
    if let Some(e) = &windower.err {
        up.fail(format!("{} (step {})", e, up.full_id("stateful_batch")));
    }
    let sh = Rc::new(Shared { clock, kind: windower.kind, ordered, agg: RefCell::new(agg) });
    let events = up.stateful_batch("stateful_batch", move |resume: Option<Snap<V, A::S>>| {
        Box::new(WinKey::new(sh.clone(), resume)) as Box<dyn StatefulBatchLogic<V, Event<V, W>, Snap<V, A::S>>>
    });
    let down = events.filter_map_value("unwrap_down", |e: Event<V, W>| match e {
        Event::Down(id, w) => Some((id, w)),
        _ => None,
    });
    let late = events.filter_map_value("unwrap_late", |e: Event<V, W>| match e {
        Event::Late(id, v) => Some((id, v)),
        _ => None,
    });
    let meta = events.filter_map_value("unwrap_meta", |e: Event<V, W>| match e {
        Event::Meta(id, m) => Some((id, m)),
        _ => None,
    });
    WindowOut { down, late, meta }
}

/// The steps of fold_window below the scopes of `path`.
fn fold_in<V, S, B, F, M>(up: &Stream<(String, V)>, path: &[&str], clock: Clock<V>, windower: Windower, agg: FoldAgg<B, F, M>, ordered: bool) -> WindowOut<V, S>
where
    V: Codec + Clone,
    S: Codec + Clone,
    B: FnMut() -> S + 'static,
    F: FnMut(S, V) -> S + 'static,
    M: FnMut(S, S) -> S + 'static,
{
    scoped(up, path, move |s| window_in(s, clock, windower, agg, ordered))
}

impl<V: Codec + Clone> Stream<(String, V)> {
    /// Windows the values of each key and runs a `WindowLogic` per window
    /// (Bytewax's `window`): `builder(None)` builds the logic of a new
    /// window, `builder(Some(s))` resumes one. With `ordered`, values wait
    /// until the watermark reaches their timestamp and enter their windows
    /// in timestamp order; otherwise they enter in arrival order at once.
    /// Core step: `<id>.stateful_batch`, then `<id>.unwrap_down`,
    /// `<id>.unwrap_late` and `<id>.unwrap_meta`.
    pub fn window<W: Codec, S: Codec, B>(&self, id: &str, clock: Clock<V>, windower: Windower, builder: B, ordered: bool) -> WindowOut<V, W>
    where
        B: FnMut(Option<S>) -> Box<dyn WindowLogic<V, W, S>> + 'static,
    {
        scoped(self, &[id], move |s| window_in(s, clock, windower, BoxAgg(builder, PhantomData), ordered))
    }

    /// Folds the values of each window into an accumulator that starts as
    /// `builder()` and emits it when the window closes; `merger` combines
    /// the accumulators of merged sessions. Core step:
    /// `<id>.window.stateful_batch`.
    #[allow(clippy::too_many_arguments)]
    pub fn fold_window<S, B, F, M>(&self, id: &str, clock: Clock<V>, windower: Windower, builder: B, folder: F, merger: M, ordered: bool) -> WindowOut<V, S>
    where
        S: Codec + Clone,
        B: FnMut() -> S + 'static,
        F: FnMut(S, V) -> S + 'static,
        M: FnMut(S, S) -> S + 'static,
    {
        fold_in(self, &[id, "window"], clock, windower, FoldAgg { builder, folder, merger }, ordered)
    }

    /// Collects the values of each window into a Vec, emitted when the
    /// window closes. Core step: `<id>.fold_window.window.stateful_batch`.
    pub fn collect_window(&self, id: &str, clock: Clock<V>, windower: Windower, ordered: bool) -> WindowOut<V, Vec<V>> {
        let agg = FoldAgg {
            builder: Vec::new,
            folder: |mut s: Vec<V>, v: V| {
                s.push(v);
                s
            },
            merger: |mut a: Vec<V>, b: Vec<V>| {
                a.extend(b);
                a
            },
        };
        fold_in(self, &[id, "fold_window", "window"], clock, windower, agg, ordered)
    }

    /// Combines the values of each window with `reducer` (the first value
    /// is the initial accumulator), in arrival order, and emits the result
    /// when the window closes. Core step:
    /// `<id>.fold_window.window.stateful_batch`.
    pub fn reduce_window<F: FnMut(V, V) -> V + 'static>(&self, id: &str, clock: Clock<V>, windower: Windower, reducer: F) -> WindowOut<V, V> {
        reduce_in(self, &[id, "fold_window", "window"], clock, windower, reducer)
    }
}

/// The aggregation of `reduce_window`: the first value, then each one
/// combined into it.
struct ReduceAgg<F>(F);

impl<V: Codec + Clone, F: FnMut(V, V) -> V + 'static> Agg<V, V> for ReduceAgg<F> {
    type L = Option<V>;
    type S = Option<V>;
    fn build(&mut self, resume: Option<Option<V>>) -> Option<V> {
        resume.flatten()
    }
    fn value(&mut self, l: &mut Option<V>, v: V, _: &mut Vec<V>) {
        *l = Some(match l.take() {
            None => v,
            Some(s) => (self.0)(s, v),
        });
    }
    fn merge(&mut self, into: &mut Option<V>, orig: Option<V>, out: &mut Vec<V>) {
        if let Some(v) = orig {
            self.value(into, v, out);
        }
    }
    fn close(&mut self, l: Option<V>, out: &mut Vec<V>) {
        out.extend(l);
    }
    fn snapshot(&self, l: &Option<V>) -> Option<V> {
        l.clone()
    }
}

/// The steps of a reduce_window below the scopes of `path`.
fn reduce_in<V: Codec + Clone, F>(up: &Stream<(String, V)>, path: &[&str], clock: Clock<V>, windower: Windower, reducer: F) -> WindowOut<V, V>
where
    F: FnMut(V, V) -> V + 'static,
{
    scoped(up, path, move |s| window_in(s, clock, windower, ReduceAgg(reducer), false))
}

impl<V: Codec + Clone + PartialOrd> Stream<(String, V)> {
    /// Emits the largest value of each window when it closes; of equal
    /// values the first wins. Core step:
    /// `<id>.reduce_window.fold_window.window.stateful_batch`.
    pub fn max_window(&self, id: &str, clock: Clock<V>, windower: Windower) -> WindowOut<V, V> {
        reduce_in(self, &[id, "reduce_window", "fold_window", "window"], clock, windower, |s: V, v: V| if v > s { v } else { s })
    }

    /// Emits the smallest value of each window when it closes; of equal
    /// values the first wins. Core step: as `max_window`.
    pub fn min_window(&self, id: &str, clock: Clock<V>, windower: Windower) -> WindowOut<V, V> {
        reduce_in(self, &[id, "reduce_window", "fold_window", "window"], clock, windower, |s: V, v: V| if v < s { v } else { s })
    }
}

impl<T: Codec + Clone> Stream<T> {
    /// Counts the items of each window per `key(item)` and emits each
    /// window's count when it closes. Core steps: `<id>.keyed.map`, then
    /// `<id>.sum.window.stateful_batch`.
    pub fn count_window<F: FnMut(&T) -> String + 'static>(&self, id: &str, clock: Clock<T>, windower: Windower, key: F) -> WindowOut<T, i64> {
        scoped(self, &[id], move |s| {
            let keyed = s.key_on("keyed", key);
            let agg = FoldAgg { builder: || 0i64, folder: |n: i64, _: T| n + 1, merger: |a: i64, b: i64| a + b };
            fold_in(&keyed, &["sum", "window"], clock, windower, agg, false)
        })
    }
}

/// A count's key logic, boxed.
#[cfg(test)]
pub(crate) type CountLogic = Box<dyn StatefulBatchLogic<i64, Event<i64, i64>, Snap<i64, i64>>>;

/// The logic builder of a count over `i64` values (their own Unix
/// nanosecond timestamps with an event clock), for tests of the logic.
#[cfg(test)]
pub(crate) fn count_logic(clock: Clock<i64>, windower: Windower, ordered: bool) -> impl FnMut(Option<Snap<i64, i64>>) -> CountLogic {
    let agg = FoldAgg { builder: || 0i64, folder: |n: i64, _: i64| n + 1, merger: |a: i64, b: i64| a + b };
    let sh = Rc::new(Shared { clock, kind: windower.kind, ordered, agg: RefCell::new(agg) });
    move |resume| Box::new(WinKey::new(sh.clone(), resume)) as CountLogic
}
