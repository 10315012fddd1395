//! The core operators of Bytewax 0.21 that the guest takes part in:
//! input, output, flat_map_batch, branch, merge, redistribute and
//! inspect_debug (stateful_batch is in `stateful`).

use crate::codec::Codec;
use crate::flow::*;
use crate::parts::{Sink, Source};
use crate::wire::{Batch, BatchWriter};
use std::any::Any;
use std::marker::PhantomData;

/// Decodes every item of a batch as a `T`.
pub(crate) fn decode_items<T: Codec>(b: &Batch) -> Result<Vec<T>, String> {
    let mut out = Vec::with_capacity(b.count);
    let mut it = b.iter();
    while let Some(item) = it.next_item() {
        let item = item?;
        out.push(T::decode_item(item.key, item.value)?);
    }
    Ok(out)
}

/// Encodes values as items (keyed for `(String, V)`).
#[inline]
pub(crate) fn encode_items<T: Codec>(vals: &[T], out: &mut BatchWriter) {
    for v in vals {
        out.push_with(v.item_key().map(|k| k.as_bytes()), |b| v.encode_item(b));
    }
}

/// A stateless step from `T` to `U` (branch: to `T` and `T`).
struct CoreStep<T, U, F> {
    what: &'static str,
    f: F,
    _p: PhantomData<fn(T) -> U>,
}

impl<T, U, F> ChainStep for CoreStep<T, U, F>
where
    T: Codec,
    U: Codec,
    F: FnMut(Vec<T>, &RunCtx) -> (Vec<U>, Option<Vec<U>>),
{
    fn what(&self) -> &'static str {
        self.what
    }

    fn decode(&self, b: &Batch) -> Result<Box<dyn Any>, String> {
        Ok(Box::new(decode_items::<T>(b)?))
    }

    fn run(&mut self, input: Box<dyn Any>, rc: &RunCtx) -> (Box<dyn Any>, Option<Box<dyn Any>>) {
        let xs = match input.downcast::<Vec<T>>() {
            Ok(v) => *v,
            Err(_) => Vec::new(),
        };
        let (a, b) = (self.f)(xs, rc);
        (Box::new(a), b.map(|v| Box::new(v) as Box<dyn Any>))
    }

    fn encode(&self, vals: &dyn Any, out: &mut BatchWriter) {
        if let Some(v) = vals.downcast_ref::<Vec<U>>() {
            encode_items(v, out);
        }
    }
}

fn chain_rt<T: Codec, U: Codec, F>(what: &'static str, f: F) -> StepRt
where
    F: FnMut(Vec<T>, &RunCtx) -> (Vec<U>, Option<Vec<U>>) + 'static,
{
    StepRt::Chain(Box::new(CoreStep { what, f, _p: PhantomData }))
}

impl Dataflow {
    /// Adds a step that reads items from `source` into a new stream.
    pub fn input<T: Codec>(&self, id: &str, source: Source<T>) -> Stream<T> {
        let down = self.new_stream::<T>();
        let i = add_step(&self.inner, &self.root, id, KIND_INPUT, vec![], vec![down.id], StepRt::None);
        source.attach(&self.inner, i);
        down
    }
}

impl<T: Codec> Stream<T> {
    /// Adds a step that writes the items of this stream into `sink`.
    pub fn output(&self, id: &str, sink: Sink<T>) {
        let i = self.add_step(id, KIND_OUTPUT, vec![self.id], vec![], StepRt::None);
        sink.attach(&self.flow, i);
    }

    /// Adds a step that calls `mapper` once per batch with all its items
    /// and emits every item it returns.
    pub fn flat_map_batch<U: Codec, F>(&self, id: &str, mut mapper: F) -> Stream<U>
    where
        F: FnMut(Vec<T>) -> Vec<U> + 'static,
    {
        let down = self.sibling::<U>();
        let rt = chain_rt("mapper", move |xs: Vec<T>, _: &RunCtx| (mapper(xs), None));
        self.add_step(id, KIND_FLAT_MAP_BATCH, vec![self.id], vec![down.id], rt);
        down
    }

    /// Adds a step that splits this stream by `predicate`: items for which
    /// it returns true go to the first stream, the others to the second.
    pub fn branch<F>(&self, id: &str, mut predicate: F) -> (Stream<T>, Stream<T>)
    where
        F: FnMut(&T) -> bool + 'static,
    {
        let trues = self.sibling::<T>();
        let falses = self.sibling::<T>();
        let rt = chain_rt("predicate", move |xs: Vec<T>, _: &RunCtx| {
            let mut yes = Vec::new();
            let mut no = Vec::new();
            for x in xs {
                if predicate(&x) {
                    yes.push(x);
                } else {
                    no.push(x);
                }
            }
            (yes, Some(no))
        });
        self.add_step(id, KIND_BRANCH, vec![self.id], vec![trues.id, falses.id], rt);
        (trues, falses)
    }

    /// Adds a step that emits the items of this stream and of `others` as
    /// one stream. All streams must be in one scope.
    pub fn merge(&self, id: &str, others: &[&Stream<T>]) -> Stream<T> {
        let mut all = vec![self];
        all.extend_from_slice(others);
        merge(id, &all)
    }

    /// Adds a step that spreads the items of this stream over all workers.
    pub fn redistribute(&self, id: &str) -> Stream<T> {
        let down = self.sibling::<T>();
        self.add_step(id, KIND_REDISTRIBUTE, vec![self.id], vec![down.id], StepRt::None);
        down
    }

    /// Adds a step that calls `inspector` with the step's id, every item,
    /// the epoch and the worker index, and passes the items on.
    pub fn inspect_debug<F>(&self, id: &str, mut inspector: F) -> Stream<T>
    where
        F: FnMut(&str, &T, u64, usize) + 'static,
    {
        let down = self.sibling::<T>();
        let step_id = self.full_id(id);
        let rt = chain_rt("inspector", move |xs: Vec<T>, rc: &RunCtx| {
            for x in &xs {
                inspector(&step_id, x, rc.epoch, rc.worker);
            }
            (xs, None)
        });
        self.add_step(id, KIND_INSPECT_DEBUG, vec![self.id], vec![down.id], rt);
        down
    }
}

/// Adds a step that emits the items of every stream of `ups` as one
/// stream. All streams must be in one scope.
pub fn merge<T: Codec>(id: &str, ups: &[&Stream<T>]) -> Stream<T> {
    let first = ups[0];
    for s in ups {
        if !std::rc::Rc::ptr_eq(&s.scope, &first.scope) {
            first.fail(format!(
                "stream used outside its scope: merge {} joins streams of {} and {}; bring them into one scope",
                id, first.scope.path, s.scope.path
            ));
        }
    }
    let down = first.sibling::<T>();
    first.add_step(id, KIND_MERGE, ups.iter().map(|s| s.id).collect(), vec![down.id], StepRt::None);
    down
}
