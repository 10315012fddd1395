//! Bytewax's library operators, built on the core ones as the Go SDK
//! builds them: each opens an operator scope (and Bytewax's inner scopes,
//! so step ids read as in Bytewax, e.g. `flow.evens.flat_map.flat_map_batch`)
//! around a single flat_map_batch, inspect_debug or stateful_batch. The
//! batch functions are written directly, so nesting costs nothing per item,
//! and the host fuses the stateless ones with their neighbours.

use crate::codec::Codec;
use crate::flow::Stream;
use crate::hash::FxHashMap;
use crate::stateful::{unix_nanos, StatefulBatchLogic};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Opens the scopes of `path` one inside the other, starting in `up`'s
/// scope; runs `body` on `up` as seen from the innermost one; and returns
/// the result as seen from `up`'s scope.
fn nested<T: Codec, U: Codec, F: FnOnce(&Stream<T>) -> Stream<U>>(up: &Stream<T>, path: &[&str], body: F) -> Stream<U> {
    let mut scopes = Vec::with_capacity(path.len());
    let mut s = up.clone();
    for id in path {
        let (sc, inner) = s.enter(id);
        scopes.push(sc);
        s = inner;
    }
    let mut out = body(&s);
    for sc in scopes.iter().rev() {
        out = sc.exit(&out);
    }
    out
}

/// A flat_map_batch step named "flat_map_batch" below the scopes of `path`.
fn batch_op<T: Codec, U: Codec, F>(up: &Stream<T>, path: &[&str], mapper: F) -> Stream<U>
where
    F: FnMut(Vec<T>) -> Vec<U> + 'static,
{
    nested(up, path, |s| s.flat_map_batch("flat_map_batch", mapper))
}

impl<T: Codec> Stream<T> {
    /// Transforms items one by one. Core step: `<id>.flat_map_batch`.
    pub fn map<U: Codec, F: FnMut(T) -> U + 'static>(&self, id: &str, mut mapper: F) -> Stream<U> {
        batch_op(self, &[id], move |xs: Vec<T>| xs.into_iter().map(&mut mapper).collect())
    }

    /// Keeps the items for which `predicate` returns true. Core step:
    /// `<id>.flat_map.flat_map_batch`.
    pub fn filter<F: FnMut(&T) -> bool + 'static>(&self, id: &str, mut predicate: F) -> Stream<T> {
        batch_op(self, &[id, "flat_map"], move |mut xs: Vec<T>| {
            xs.retain(|x| predicate(x));
            xs
        })
    }

    /// Maps items one to at most one: `None` results are dropped. Core
    /// step: `<id>.flat_map.flat_map_batch`.
    pub fn filter_map<U: Codec, F: FnMut(T) -> Option<U> + 'static>(&self, id: &str, mut mapper: F) -> Stream<U> {
        batch_op(self, &[id, "flat_map"], move |xs: Vec<T>| xs.into_iter().filter_map(&mut mapper).collect())
    }

    /// Transforms items one to many: every item of the Vec `mapper`
    /// returns is emitted. Core step: `<id>.flat_map_batch`.
    pub fn flat_map<U: Codec, F: FnMut(T) -> Vec<U> + 'static>(&self, id: &str, mut mapper: F) -> Stream<U> {
        let mut last = 0usize;
        batch_op(self, &[id], move |xs: Vec<T>| {
            let mut out = Vec::with_capacity(xs.len().max(last + last / 8));
            for x in xs {
                out.extend(mapper(x));
            }
            last = out.len();
            out
        })
    }

    /// Turns the stream into a keyed stream: every item becomes the value
    /// of a pair keyed by `key(&item)`. Core step: `<id>.map.flat_map_batch`.
    pub fn key_on<F: FnMut(&T) -> String + 'static>(&self, id: &str, mut key: F) -> Stream<(String, T)> {
        batch_op(self, &[id, "map"], move |xs: Vec<T>| {
            xs.into_iter()
                .map(|x| {
                    let k = key(&x);
                    (k, x)
                })
                .collect()
        })
    }

    /// Calls `inspector` with the operator's full id (`flow.<id>`) and
    /// every item, and passes the items on. Core step:
    /// `<id>.inspect_debug`.
    pub fn inspect<F: FnMut(&str, &T) + 'static>(&self, id: &str, mut inspector: F) -> Stream<T> {
        let (sc, inner) = self.enter(id);
        let op_id = sc.id().to_string();
        let out = inner.inspect_debug("inspect_debug", move |_, x, _, _| inspector(&op_id, x));
        sc.exit(&out)
    }

    /// `inspect` with Bytewax's default inspector: prints
    /// `<flow>.<id>: <item:?>` on standard output.
    pub fn inspect_print(&self, id: &str) -> Stream<T>
    where
        T: std::fmt::Debug,
    {
        self.inspect(id, |step, x| println!("{}: {:?}", step, x))
    }

    /// Counts the items per `key(item)` and emits each key's count when
    /// the inputs end. Core steps: `<id>.init_count.flat_map_batch`,
    /// `<id>.sum.pre_reduce` and `<id>.sum.fold_final.stateful.stateful_batch`.
    /// `key` takes the item by value, so `|w: String| w` costs nothing.
    pub fn count_final<F: FnMut(T) -> String + 'static>(&self, id: &str, mut key: F) -> Stream<(String, i64)> {
        nested(self, &[id], |s| {
            let ones = s.map("init_count", move |x: T| (key(x), 1i64));
            reduce_in(&ones, |a: i64, b: i64| a + b, &["sum"])
        })
    }

    /// Joins items with data fetched from outside the flow: `mapper` gets
    /// a `TtlCache` (whose getter is `getter`) and every item, and its
    /// results are emitted. The cache is the step's, one per worker, not
    /// part of snapshots; its clock is read once per batch. A zero `ttl`
    /// never expires values. Core step: `<id>.flat_map_batch`.
    pub fn enrich_cached<V: Clone + 'static, U: Codec, G, F>(&self, id: &str, getter: G, mut mapper: F, ttl: Duration) -> Stream<U>
    where
        G: FnMut(&str) -> V + 'static,
        F: FnMut(&mut TtlCache<V>, T) -> U + 'static,
    {
        let mut cache = TtlCache::new(getter, ttl);
        batch_op(self, &[id], move |xs: Vec<T>| {
            cache.now = SystemTime::now();
            xs.into_iter().map(|x| mapper(&mut cache, x)).collect()
        })
    }
}

impl<T: Codec> Stream<Vec<T>> {
    /// Emits the items of every Vec of the stream, in order. Core step:
    /// `<id>.flat_map.flat_map_batch`.
    pub fn flatten(&self, id: &str) -> Stream<T> {
        batch_op(self, &[id, "flat_map"], |xs: Vec<Vec<T>>| xs.into_iter().flatten().collect())
    }
}

impl<V: Codec> Stream<(String, V)> {
    /// Transforms the values of a keyed stream and keeps their keys. Core
    /// step: `<id>.map.flat_map_batch`.
    pub fn map_value<W: Codec, F: FnMut(V) -> W + 'static>(&self, id: &str, mut mapper: F) -> Stream<(String, W)> {
        batch_op(self, &[id, "map"], move |xs: Vec<(String, V)>| xs.into_iter().map(|(k, v)| (k, mapper(v))).collect())
    }

    /// Keeps the items whose value satisfies `predicate`. Core step:
    /// `<id>.filter.flat_map.flat_map_batch`.
    pub fn filter_value<F: FnMut(&V) -> bool + 'static>(&self, id: &str, mut predicate: F) -> Stream<(String, V)> {
        batch_op(self, &[id, "filter", "flat_map"], move |mut xs: Vec<(String, V)>| {
            xs.retain(|kv| predicate(&kv.1));
            xs
        })
    }

    /// Maps the values one to at most one and keeps their keys. Core step:
    /// `<id>.flat_map_value.flat_map.flat_map_batch`.
    pub fn filter_map_value<W: Codec, F>(&self, id: &str, mut mapper: F) -> Stream<(String, W)>
    where
        F: FnMut(V) -> Option<W> + 'static,
    {
        batch_op(self, &[id, "flat_map_value", "flat_map"], move |xs: Vec<(String, V)>| {
            xs.into_iter().filter_map(|(k, v)| mapper(v).map(|w| (k, w))).collect()
        })
    }

    /// Transforms the values one to many, each with the key of its input.
    /// Core step: `<id>.flat_map.flat_map_batch`.
    pub fn flat_map_value<W: Codec, F>(&self, id: &str, mut mapper: F) -> Stream<(String, W)>
    where
        F: FnMut(V) -> Vec<W> + 'static,
    {
        batch_op(self, &[id, "flat_map"], move |xs: Vec<(String, V)>| {
            let mut out = Vec::with_capacity(xs.len());
            for (k, v) in xs {
                for w in mapper(v) {
                    out.push((k.clone(), w));
                }
            }
            out
        })
    }

    /// Drops the keys and emits the values. Core step:
    /// `<id>.map.flat_map_batch`.
    pub fn key_rm(&self, id: &str) -> Stream<V> {
        batch_op(self, &[id, "map"], |xs: Vec<(String, V)>| xs.into_iter().map(|kv| kv.1).collect())
    }

    /// Keeps a `StatefulLogic` per key, called one value at a time.
    /// `builder(None)` builds the logic of a new key, `builder(Some(s))`
    /// resumes one. Core step: `<id>.stateful_batch`.
    pub fn stateful<W: Codec, S: Codec, F>(&self, id: &str, builder: F) -> Stream<(String, W)>
    where
        F: FnMut(Option<S>) -> Box<dyn StatefulLogic<V, W, S>> + 'static,
    {
        let builder = Rc::new(RefCell::new(builder));
        nested(self, &[id], move |s| {
            s.stateful_batch("stateful_batch", move |resume: Option<S>| {
                let logic = (builder.borrow_mut())(resume);
                Box::new(ItemLogic { logic: Some(logic), builder: builder.clone() }) as Box<dyn StatefulBatchLogic<V, W, S>>
            })
        })
    }

    /// Transforms the values one to one with a state per key: `mapper`
    /// gets the key's state (None for a new key) and a value, and returns
    /// the new state and the value to emit; a None state discards the key.
    /// Core step: `<id>.stateful_flat_map.stateful.stateful_batch`.
    pub fn stateful_map<S: Codec + Clone, W: Codec, F>(&self, id: &str, mut mapper: F) -> Stream<(String, W)>
    where
        F: FnMut(Option<S>, V) -> (Option<S>, W) + 'static,
    {
        let step = move |out: &mut Vec<W>, s: Option<S>, v: V| {
            let (s, w) = mapper(s, v);
            out.push(w);
            s
        };
        state_in(self, step, &[id, "stateful_flat_map", "stateful"])
    }

    /// Like `stateful_map`, emitting every value `mapper` returns. Core
    /// step: `<id>.stateful.stateful_batch`.
    pub fn stateful_flat_map<S: Codec + Clone, W: Codec, F>(&self, id: &str, mut mapper: F) -> Stream<(String, W)>
    where
        F: FnMut(Option<S>, V) -> (Option<S>, Vec<W>) + 'static,
    {
        let step = move |out: &mut Vec<W>, s: Option<S>, v: V| {
            let (s, ws) = mapper(s, v);
            out.extend(ws);
            s
        };
        state_in(self, step, &[id, "stateful"])
    }

    /// Folds the values of each key into an accumulator that starts as
    /// `builder()` and emits it when the inputs end. Core step:
    /// `<id>.stateful.stateful_batch`.
    pub fn fold_final<S: Codec + Clone, B, F>(&self, id: &str, builder: B, folder: F) -> Stream<(String, S)>
    where
        B: FnMut() -> S + 'static,
        F: FnMut(S, V) -> S + 'static,
    {
        let folder = Rc::new(RefCell::new(folder));
        let mut builder = builder;
        nested(self, &[id, "stateful"], move |s| {
            s.stateful_batch("stateful_batch", move |resume: Option<S>| {
                let state = match resume {
                    Some(s) => s,
                    None => builder(),
                };
                Box::new(FoldLogic { folder: folder.clone(), state: Some(state) }) as Box<dyn StatefulBatchLogic<V, S, S>>
            })
        })
    }

    /// Combines the values of each key with `reducer` (the first value is
    /// the initial accumulator) and emits the result when the inputs end.
    /// Each batch is reduced per key before it is routed, so `reducer`
    /// must be associative. Core steps: `<id>.pre_reduce` and
    /// `<id>.fold_final.stateful.stateful_batch`.
    pub fn reduce_final<F: FnMut(V, V) -> V + 'static>(&self, id: &str, reducer: F) -> Stream<(String, V)>
    where
        V: Clone,
    {
        reduce_in(self, reducer, &[id])
    }

    /// Gathers the values of each key into Vecs. A key's Vec is emitted as
    /// soon as it holds `max_size` values, when `timeout` has passed since
    /// its first value arrived, or when the inputs end; the key is then
    /// forgotten until its next value. Core step: `<id>.stateful.stateful_batch`.
    pub fn collect(&self, id: &str, timeout: Duration, max_size: usize) -> Stream<(String, Vec<V>)>
    where
        V: Clone,
    {
        if max_size < 1 {
            self.fail(format!("bad operator parameter: collect {:?} needs a max size of at least 1, got {}", id, max_size));
        }
        nested(self, &[id, "stateful"], move |s| {
            s.stateful_batch("stateful_batch", move |resume: Option<(Vec<V>, i64)>| {
                let (acc, at) = resume.unwrap_or((Vec::new(), 0));
                Box::new(CollectLogic { acc, at, timeout, max_size }) as Box<dyn StatefulBatchLogic<V, Vec<V>, (Vec<V>, i64)>>
            })
        })
    }
}

impl<V: Codec + Clone + PartialOrd> Stream<(String, V)> {
    /// Emits the largest value of each key when the inputs end; of equal
    /// values the first seen wins. Core steps: `<id>.reduce_final.pre_reduce`
    /// and `<id>.reduce_final.fold_final.stateful.stateful_batch`.
    pub fn max_final(&self, id: &str) -> Stream<(String, V)> {
        reduce_in(self, |s: V, v: V| if v > s { v } else { s }, &[id, "reduce_final"])
    }

    /// Emits the smallest value of each key when the inputs end; of equal
    /// values the first seen wins. Core steps: those of `max_final`.
    pub fn min_final(&self, id: &str) -> Stream<(String, V)> {
        reduce_in(self, |s: V, v: V| if v < s { v } else { s }, &[id, "reduce_final"])
    }
}

/// The steps of a reduce below the scopes of `path`.
fn reduce_in<V: Codec + Clone, F: FnMut(V, V) -> V + 'static>(up: &Stream<(String, V)>, reducer: F, path: &[&str]) -> Stream<(String, V)> {
    let reducer = Rc::new(RefCell::new(reducer));
    nested(up, path, move |s| {
        let r1 = reducer.clone();
        let mut index = KeyIndex::default();
        let pre = s.flat_map_batch("pre_reduce", move |xs: Vec<(String, V)>| {
            let mut acc: Vec<(String, Option<V>)> = Vec::with_capacity(xs.len() / 2 + 1);
            index.reset(xs.len());
            let mut f = r1.borrow_mut();
            for (k, v) in xs {
                match index.find(&k, |i| acc[i].0 == k) {
                    Ok(i) => {
                        let old = acc[i].1.take().expect("reduced value");
                        acc[i].1 = Some((f)(old, v));
                    }
                    Err(slot) => {
                        index.set(slot, acc.len());
                        acc.push((k, Some(v)));
                    }
                }
            }
            acc.into_iter().map(|(k, v)| (k, v.expect("reduced value"))).collect()
        });
        nested(&pre, &["fold_final", "stateful"], move |s2| {
            s2.stateful_batch("stateful_batch", move |resume: Option<V>| {
                Box::new(ReduceLogic { reducer: reducer.clone(), state: resume }) as Box<dyn StatefulBatchLogic<V, V, V>>
            })
        })
    })
}

/// The stateful step of stateful_map and stateful_flat_map.
fn state_in<V: Codec, S: Codec + Clone, W: Codec, F>(up: &Stream<(String, V)>, step: F, path: &[&str]) -> Stream<(String, W)>
where
    F: FnMut(&mut Vec<W>, Option<S>, V) -> Option<S> + 'static,
{
    let step = Rc::new(RefCell::new(step));
    let (last, scopes) = path.split_last().expect("a path");
    let _ = last;
    nested(up, scopes, |s| {
        nested(s, &[path[path.len() - 1]], move |s2| {
            s2.stateful_batch("stateful_batch", move |resume: Option<S>| {
                Box::new(StateLogic { step: step.clone(), state: resume }) as Box<dyn StatefulBatchLogic<V, W, S>>
            })
        })
    })
}

/// The state of one key of a `stateful` step, called one value at a time
/// (Bytewax's StatefulLogic). Every method returns the values to emit,
/// keyed with the logic's key, and whether to discard the logic; a logic
/// discarded by `on_item` is built again with `builder(None)` if more
/// values arrive for its key, even within one batch.
pub trait StatefulLogic<V, W, S> {
    /// Receives one value of the key.
    fn on_item(&mut self, value: V) -> (Vec<W>, bool);
    /// Called once the time `notify_at` returned has come.
    fn on_notify(&mut self) -> (Vec<W>, bool) {
        (Vec::new(), false)
    }
    /// Called once when the inputs of the step end.
    fn on_eof(&mut self) -> (Vec<W>, bool) {
        (Vec::new(), false)
    }
    /// When to call `on_notify` next, if at all.
    fn notify_at(&self) -> Option<SystemTime> {
        None
    }
    /// The state to resume from.
    fn snapshot(&self) -> S;
}

type LogicBuilder<V, W, S> = Rc<RefCell<dyn FnMut(Option<S>) -> Box<dyn StatefulLogic<V, W, S>>>>;

/// Runs a StatefulLogic as a StatefulBatchLogic.
struct ItemLogic<V, W, S> {
    logic: Option<Box<dyn StatefulLogic<V, W, S>>>,
    builder: LogicBuilder<V, W, S>,
}

impl<V, W, S> StatefulBatchLogic<V, W, S> for ItemLogic<V, W, S> {
    fn on_batch(&mut self, values: Vec<V>) -> (Vec<W>, bool) {
        let mut out = Vec::new();
        for v in values {
            if self.logic.is_none() {
                self.logic = Some((self.builder.borrow_mut())(None));
            }
            let (emit, discard) = self.logic.as_mut().expect("logic").on_item(v);
            out.extend(emit);
            if discard {
                self.logic = None;
            }
        }
        (out, self.logic.is_none())
    }
    fn on_notify(&mut self) -> (Vec<W>, bool) {
        self.logic.as_mut().expect("logic").on_notify()
    }
    fn on_eof(&mut self) -> (Vec<W>, bool) {
        self.logic.as_mut().expect("logic").on_eof()
    }
    fn notify_at(&self) -> Option<SystemTime> {
        self.logic.as_ref().expect("logic").notify_at()
    }
    fn snapshot(&self) -> S {
        self.logic.as_ref().expect("logic").snapshot()
    }
}

type StateStep<V, W, S> = Rc<RefCell<dyn FnMut(&mut Vec<W>, Option<S>, V) -> Option<S>>>;

/// The logic of stateful_map and stateful_flat_map.
struct StateLogic<V, W, S> {
    step: StateStep<V, W, S>,
    state: Option<S>,
}

impl<V, W, S: Clone> StatefulBatchLogic<V, W, S> for StateLogic<V, W, S> {
    fn on_batch(&mut self, values: Vec<V>) -> (Vec<W>, bool) {
        let mut out = Vec::new();
        let mut f = self.step.borrow_mut();
        for v in values {
            self.state = (f)(&mut out, self.state.take(), v);
        }
        (out, self.state.is_none())
    }
    fn snapshot(&self) -> S {
        self.state.clone().expect("a live key has a state")
    }
}

/// The logic of fold_final.
struct FoldLogic<V, S> {
    folder: Rc<RefCell<dyn FnMut(S, V) -> S>>,
    state: Option<S>,
}

impl<V, S: Clone> StatefulBatchLogic<V, S, S> for FoldLogic<V, S> {
    fn on_batch(&mut self, values: Vec<V>) -> (Vec<S>, bool) {
        let mut f = self.folder.borrow_mut();
        for v in values {
            let s = self.state.take().expect("fold state");
            self.state = Some((f)(s, v));
        }
        (Vec::new(), false)
    }
    fn on_eof(&mut self) -> (Vec<S>, bool) {
        (self.state.take().into_iter().collect(), true)
    }
    fn snapshot(&self) -> S {
        self.state.clone().expect("fold state")
    }
}

/// The logic of reduce_final: the first value is the state.
struct ReduceLogic<V> {
    reducer: Rc<RefCell<dyn FnMut(V, V) -> V>>,
    state: Option<V>,
}

impl<V: Clone> StatefulBatchLogic<V, V, V> for ReduceLogic<V> {
    fn on_batch(&mut self, values: Vec<V>) -> (Vec<V>, bool) {
        let mut f = self.reducer.borrow_mut();
        for v in values {
            self.state = Some(match self.state.take() {
                None => v,
                Some(s) => (f)(s, v),
            });
        }
        (Vec::new(), false)
    }
    fn on_eof(&mut self) -> (Vec<V>, bool) {
        (self.state.take().into_iter().collect(), true)
    }
    fn snapshot(&self) -> V {
        self.state.clone().expect("reduce state")
    }
}

/// The logic of collect: the waiting values and their timeout (Unix ns).
struct CollectLogic<V> {
    acc: Vec<V>,
    at: i64,
    timeout: Duration,
    max_size: usize,
}

impl<V: Clone> StatefulBatchLogic<V, Vec<V>, (Vec<V>, i64)> for CollectLogic<V> {
    fn on_batch(&mut self, values: Vec<V>) -> (Vec<Vec<V>>, bool) {
        let mut out = Vec::new();
        for v in values {
            if self.acc.is_empty() {
                self.at = unix_nanos(SystemTime::now() + self.timeout);
            }
            self.acc.push(v);
            if self.acc.len() >= self.max_size {
                out.push(std::mem::take(&mut self.acc));
            }
        }
        (out, self.acc.is_empty())
    }
    fn on_notify(&mut self) -> (Vec<Vec<V>>, bool) {
        self.flush()
    }
    fn on_eof(&mut self) -> (Vec<Vec<V>>, bool) {
        self.flush()
    }
    fn notify_at(&self) -> Option<SystemTime> {
        if self.acc.is_empty() {
            return None;
        }
        Some(UNIX_EPOCH + Duration::from_nanos(self.at.max(0) as u64))
    }
    fn snapshot(&self) -> (Vec<V>, i64) {
        (self.acc.clone(), self.at)
    }
}

impl<V> CollectLogic<V> {
    fn flush(&mut self) -> (Vec<Vec<V>>, bool) {
        if self.acc.is_empty() {
            return (Vec::new(), true);
        }
        (vec![std::mem::take(&mut self.acc)], true)
    }
}

/// Caches values by key: `get` returns the cached value while it is
/// younger than the TTL and fetches it again with the getter otherwise,
/// as Bytewax's TTLCache does. It has no size bound.
pub struct TtlCache<V> {
    getter: Box<dyn FnMut(&str) -> V>,
    /// The cache's clock (enrich_cached sets it once per batch).
    pub now: SystemTime,
    ttl: Duration,
    entries: FxHashMap<String, (SystemTime, V)>,
}

impl<V: Clone> TtlCache<V> {
    /// An empty cache that fetches missing and expired values with
    /// `getter`. A zero `ttl` means values never expire.
    pub fn new<G: FnMut(&str) -> V + 'static>(getter: G, ttl: Duration) -> TtlCache<V> {
        TtlCache { getter: Box::new(getter), now: SystemTime::now(), ttl, entries: FxHashMap::default() }
    }

    /// The value for `key`, fetched when it is not cached or older than
    /// the TTL.
    pub fn get(&mut self, key: &str) -> V {
        let now = self.now;
        if let Some((at, v)) = self.entries.get(key) {
            let age = now.duration_since(*at).unwrap_or(Duration::ZERO);
            if self.ttl == Duration::ZERO || age <= self.ttl {
                return v.clone();
            }
        }
        let v = (self.getter)(key);
        self.entries.insert(key.to_string(), (now, v.clone()));
        v
    }

    /// Forgets the value for `key`, if any.
    pub fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

/// An open-addressing index from keys to positions in a Vec that holds the
/// keys, so a batch is reduced without copying any key.
#[derive(Default)]
struct KeyIndex {
    /// position + 1, or 0 for an empty slot.
    slots: Vec<u32>,
    mask: usize,
}

impl KeyIndex {
    /// Empties the index, sized for up to n keys.
    fn reset(&mut self, n: usize) {
        let cap = (2 * n.max(8)).next_power_of_two();
        if self.slots.len() != cap {
            self.slots = vec![0; cap];
        } else {
            self.slots.iter_mut().for_each(|s| *s = 0);
        }
        self.mask = cap - 1;
    }

    /// Ok(position) of key, or Err(slot) where to add it; `is` tells
    /// whether the key at a position is the one looked for.
    #[inline]
    fn find<E: Fn(usize) -> bool>(&self, key: &str, is: E) -> Result<usize, usize> {
        use std::hash::Hasher;
        let mut h = crate::hash::FxHasher::default();
        h.write(key.as_bytes());
        let mut i = (h.finish() as usize) & self.mask;
        loop {
            match self.slots[i] {
                0 => return Err(i),
                p if is(p as usize - 1) => return Ok(p as usize - 1),
                _ => i = (i + 1) & self.mask,
            }
        }
    }

    #[inline]
    fn set(&mut self, slot: usize, pos: usize) {
        self.slots[slot] = pos as u32 + 1;
    }
}
