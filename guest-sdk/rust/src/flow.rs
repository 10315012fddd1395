//! Dataflows, scopes and streams: what a flow factory builds, and the
//! graph (docs/abi.md section 9) the host receives.

use crate::codec::Codec;
use crate::parts::PartsRt;
use crate::stateful::StatefulRuntime;
use crate::wire::{put_bytes, put_uvarint, Batch, BatchWriter};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashSet;
use std::marker::PhantomData;
use std::rc::Rc;

/// Step kinds of the wire.
pub(crate) const KIND_INPUT: u8 = 1;
pub(crate) const KIND_OUTPUT: u8 = 2;
pub(crate) const KIND_FLAT_MAP_BATCH: u8 = 3;
pub(crate) const KIND_BRANCH: u8 = 4;
pub(crate) const KIND_MERGE: u8 = 5;
pub(crate) const KIND_REDISTRIBUTE: u8 = 6;
pub(crate) const KIND_INSPECT_DEBUG: u8 = 7;
pub(crate) const KIND_STATEFUL_BATCH: u8 = 8;

/// The name of a step kind, for messages.
pub(crate) fn kind_name(k: u8) -> &'static str {
    match k {
        KIND_INPUT => "input",
        KIND_OUTPUT => "output",
        KIND_FLAT_MAP_BATCH => "flat_map_batch",
        KIND_BRANCH => "branch",
        KIND_MERGE => "merge",
        KIND_REDISTRIBUTE => "redistribute",
        KIND_INSPECT_DEBUG => "inspect_debug",
        KIND_STATEFUL_BATCH => "stateful_batch",
        _ => "unknown",
    }
}

/// What a chain run knows beyond its items.
pub(crate) struct RunCtx {
    pub epoch: u64,
    pub worker: usize,
}

/// A stateless step (flat_map_batch, branch, inspect_debug) with its types
/// erased: values travel between the steps of a chain as a boxed `Vec<T>`.
pub(crate) trait ChainStep {
    /// The user function's name for messages: mapper, predicate...
    fn what(&self) -> &'static str;
    /// Decodes a batch of the step's input.
    fn decode(&self, b: &Batch) -> Result<Box<dyn Any>, String>;
    /// Runs the step on its input values; the second output is branch's.
    fn run(&mut self, input: Box<dyn Any>, rc: &RunCtx) -> (Box<dyn Any>, Option<Box<dyn Any>>);
    /// Encodes output values as items.
    fn encode(&self, vals: &dyn Any, out: &mut BatchWriter);
}

/// What runs a step in the guest.
pub(crate) enum StepRt {
    /// Host-only steps and host connectors.
    None,
    Chain(Box<dyn ChainStep>),
    Stateful(Box<dyn StatefulRuntime>),
    Parts(PartsRt),
}

/// One core step of a built flow.
pub(crate) struct Step {
    pub id: String,
    pub kind: u8,
    pub ins: Vec<u32>,
    pub outs: Vec<u32>,
    pub conn: u8,
    pub arg: String,
    pub rt: StepRt,
}

pub(crate) struct FlowInner {
    pub id: String,
    pub steps: Vec<Step>,
    pub streams: u32,
    /// The first flow-definition error, reported when the flow is built.
    pub err: Option<String>,
}

impl FlowInner {
    /// Records a flow-definition error (the first one wins).
    pub(crate) fn fail(&mut self, msg: String) {
        if self.err.is_none() {
            self.err = Some(msg);
        }
    }
}

/// An operator scope: steps added inside it get ids below its id.
pub(crate) struct ScopeNode {
    pub path: String,
    pub parent: Option<Rc<ScopeNode>>,
    pub ids: RefCell<HashSet<String>>,
}

/// A flow under construction. Its id is the first part of every step id.
pub struct Dataflow {
    pub(crate) inner: Rc<RefCell<FlowInner>>,
    pub(crate) root: Rc<ScopeNode>,
}

fn bad_id(id: &str) -> Option<String> {
    if id.is_empty() || id.contains('.') {
        return Some(format!("bad step id {:?}: ids must be non-empty and must not contain '.'", id))
    }
    None
}

impl Dataflow {
    /// Starts an empty flow named `id`.
    pub fn new(id: &str) -> Dataflow {
        let inner = FlowInner { id: id.to_string(), steps: Vec::new(), streams: 0, err: bad_id(id) };
        let root = Rc::new(ScopeNode { path: id.to_string(), parent: None, ids: RefCell::new(HashSet::new()) });
        Dataflow { inner: Rc::new(RefCell::new(inner)), root }
    }

    /// The flow's id.
    pub fn id(&self) -> String {
        self.inner.borrow().id.clone()
    }

    /// A stream of the root scope, for inputs.
    pub(crate) fn new_stream<T: Codec>(&self) -> Stream<T> {
        Stream::alloc(&self.inner, &self.root)
    }

    /// Encodes the flow's graph.
    pub(crate) fn encode_graph(steps: &[Step], id: &str, streams: u32, out: &mut Vec<u8>) {
        put_bytes(out, id.as_bytes());
        put_uvarint(out, streams as u64);
        put_uvarint(out, steps.len() as u64);
        for s in steps {
            put_bytes(out, s.id.as_bytes());
            out.push(s.kind);
            put_uvarint(out, s.ins.len() as u64);
            for &i in &s.ins {
                put_uvarint(out, i as u64);
            }
            put_uvarint(out, s.outs.len() as u64);
            for &o in &s.outs {
                put_uvarint(out, o as u64);
            }
            out.push(s.conn);
            put_bytes(out, s.arg.as_bytes());
        }
    }
}

/// A stream of items of type `T` between two steps. A stream of
/// `(String, V)` pairs is keyed: the string is the routing key. Streams are
/// cheap handles (clone them to use one stream twice).
pub struct Stream<T> {
    pub(crate) flow: Rc<RefCell<FlowInner>>,
    pub(crate) scope: Rc<ScopeNode>,
    pub(crate) id: u32,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Stream<T> {
    fn clone(&self) -> Self {
        Stream { flow: self.flow.clone(), scope: self.scope.clone(), id: self.id, _t: PhantomData }
    }
}

/// A scope opened by `Stream::enter`, for composite operators.
pub struct Scope {
    pub(crate) node: Rc<ScopeNode>,
}

impl Scope {
    /// The scope's full id, e.g. "wordcount.count".
    pub fn id(&self) -> &str {
        &self.node.path
    }

    /// Returns `s`, a stream inside this scope, as seen from the enclosing
    /// scope.
    pub fn exit<T: Codec>(&self, s: &Stream<T>) -> Stream<T> {
        if !Rc::ptr_eq(&s.scope, &self.node) {
            s.flow.borrow_mut().fail(format!(
                "stream used outside its scope: exit({}) needs a stream of that scope, got one of {}",
                self.node.path, s.scope.path
            ));
        }
        let parent = self.node.parent.clone().unwrap_or_else(|| self.node.clone());
        Stream { flow: s.flow.clone(), scope: parent, id: s.id, _t: PhantomData }
    }

    /// Brings `s`, a stream of the enclosing scope, into this scope.
    pub fn bring<T: Codec>(&self, s: &Stream<T>) -> Stream<T> {
        let ok = match &self.node.parent {
            Some(p) => Rc::ptr_eq(p, &s.scope),
            None => false,
        };
        if !ok {
            s.flow.borrow_mut().fail(format!(
                "stream used outside its scope: bring({}) needs a stream of the enclosing scope, got one of {}",
                self.node.path, s.scope.path
            ));
        }
        Stream { flow: s.flow.clone(), scope: self.node.clone(), id: s.id, _t: PhantomData }
    }
}

impl<T: Codec> Stream<T> {
    pub(crate) fn alloc(flow: &Rc<RefCell<FlowInner>>, scope: &Rc<ScopeNode>) -> Stream<T> {
        let id = {
            let mut f = flow.borrow_mut();
            f.streams += 1;
            f.streams - 1
        };
        Stream { flow: flow.clone(), scope: scope.clone(), id, _t: PhantomData }
    }

    /// A new stream in this stream's scope.
    pub(crate) fn sibling<U: Codec>(&self) -> Stream<U> {
        Stream::alloc(&self.flow, &self.scope)
    }

    /// Claims `id` in this stream's scope and returns the full step id; a
    /// duplicate or bad id is recorded as the flow's error.
    pub(crate) fn claim(&self, id: &str) -> String {
        claim(&self.flow, &self.scope, id)
    }

    /// Adds a core step in this stream's scope and returns its index.
    pub(crate) fn add_step(&self, id: &str, kind: u8, ins: Vec<u32>, outs: Vec<u32>, rt: StepRt) -> usize {
        add_step(&self.flow, &self.scope, id, kind, ins, outs, rt)
    }

    /// The full id the step `id` gets in this scope (without claiming it).
    pub(crate) fn full_id(&self, id: &str) -> String {
        format!("{}.{}", self.scope.path, id)
    }

    /// Opens the operator scope `id` inside this stream's scope and
    /// returns it with this stream as seen from inside it. Steps added to
    /// streams of the scope get ids below it (`flow.op.step`); `Scope::exit`
    /// brings a result back out.
    pub fn enter(&self, id: &str) -> (Scope, Stream<T>) {
        self.claim(id);
        let node = Rc::new(ScopeNode {
            path: format!("{}.{}", self.scope.path, id),
            parent: Some(self.scope.clone()),
            ids: RefCell::new(HashSet::new()),
        });
        let inner = Stream { flow: self.flow.clone(), scope: node.clone(), id: self.id, _t: PhantomData };
        (Scope { node }, inner)
    }

    /// Records a flow-definition error.
    pub(crate) fn fail(&self, msg: String) {
        self.flow.borrow_mut().fail(msg);
    }
}

pub(crate) fn claim(flow: &Rc<RefCell<FlowInner>>, scope: &Rc<ScopeNode>, id: &str) -> String {
    let full = format!("{}.{}", scope.path, id);
    if let Some(e) = bad_id(id) {
        flow.borrow_mut().fail(e);
    } else if !scope.ids.borrow_mut().insert(id.to_string()) {
        flow.borrow_mut().fail(format!("duplicate step id {:?}", full));
    }
    full
}

pub(crate) fn add_step(flow: &Rc<RefCell<FlowInner>>, scope: &Rc<ScopeNode>, id: &str, kind: u8, ins: Vec<u32>, outs: Vec<u32>, rt: StepRt) -> usize {
    let full = claim(flow, scope, id);
    let mut f = flow.borrow_mut();
    f.steps.push(Step { id: full, kind, ins, outs, conn: 0, arg: String::new(), rt });
    f.steps.len() - 1
}
