//! Sources and sinks: the host's connectors (files, directories, stdin,
//! stdout) and the user's partitioned and dynamic ones, with Bytewax
//! 0.21's interfaces.

use crate::codec::Codec;
use crate::flow::*;
use crate::hash::FxHashMap;
use crate::ops::{decode_items, encode_items};
use crate::site;
use crate::stateful::unix_nanos;
use crate::wire::{Batch, BatchWriter};
use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::SystemTime;

const CONN_GUEST_PARTITIONED: u8 = 1;
const CONN_GUEST_DYNAMIC: u8 = 2;
const CONN_FILE: u8 = 3;
const CONN_DIR: u8 = 4;
const CONN_STDIN: u8 = 5;
const CONN_STDOUT: u8 = 6;

/// What a source partition's `next_batch` returns: items, or the last
/// items (possibly none) when the partition is done (Bytewax raises
/// StopIteration there).
pub enum NextBatch<T> {
    /// More items may follow.
    Items(Vec<T>),
    /// The partition is done; these are its last items.
    Eof(Vec<T>),
}

/// One partition of a `FixedPartitionedSource`.
pub trait StatefulSourcePartition<T, S> {
    /// The next items, or the end of the partition.
    fn next_batch(&mut self) -> NextBatch<T>;
    /// When to call `next_batch` next; None means "as soon as the host
    /// likes".
    fn next_awake(&self) -> Option<SystemTime> {
        None
    }
    /// The state to resume the partition from.
    fn snapshot(&self) -> S;
    /// Releases the partition.
    fn close(&mut self) {}
}

/// A source with a fixed set of named partitions, each read by one
/// worker, resumable from its snapshot.
pub trait FixedPartitionedSource<T, S> {
    /// The partitions this worker can reach.
    fn list_parts(&mut self) -> Vec<String>;
    /// Opens a partition, from `resume` when the flow resumes.
    fn build_part(&mut self, step_id: &str, for_part: &str, resume: Option<S>) -> Box<dyn StatefulSourcePartition<T, S>>;
}

/// A `DynamicSource`'s instance on one worker.
pub trait StatelessSourcePartition<T> {
    /// The next items, or the end of the instance.
    fn next_batch(&mut self) -> NextBatch<T>;
    /// When to call `next_batch` next, if it matters.
    fn next_awake(&self) -> Option<SystemTime> {
        None
    }
    /// Releases the instance.
    fn close(&mut self) {}
}

/// A source with one instance per worker and no resume state.
pub trait DynamicSource<T> {
    /// Makes the instance of worker `worker_index` of `worker_count`.
    fn build(&mut self, step_id: &str, worker_index: usize, worker_count: usize) -> Box<dyn StatelessSourcePartition<T>>;
}

/// One partition of a `FixedPartitionedSink`.
pub trait StatefulSinkPartition<V, S> {
    /// Writes the values routed to this partition.
    fn write_batch(&mut self, values: Vec<V>);
    /// The state to resume the partition from.
    fn snapshot(&self) -> S;
    /// Releases the partition.
    fn close(&mut self) {}
}

/// A sink with a fixed set of named partitions; the host routes an item
/// to partition hash(key) mod the number of partitions.
pub trait FixedPartitionedSink<V, S> {
    /// The partitions this worker can reach.
    fn list_parts(&mut self) -> Vec<String>;
    /// Opens a partition, from `resume` when the flow resumes.
    fn build_part(&mut self, step_id: &str, for_part: &str, resume: Option<S>) -> Box<dyn StatefulSinkPartition<V, S>>;
}

/// A `DynamicSink`'s instance on one worker.
pub trait StatelessSinkPartition<T> {
    /// Writes the items this worker received.
    fn write_batch(&mut self, items: Vec<T>);
    /// Releases the instance.
    fn close(&mut self) {}
}

/// A sink with one instance per worker and no resume state.
pub trait DynamicSink<T> {
    /// Makes the instance of worker `worker_index` of `worker_count`.
    fn build(&mut self, step_id: &str, worker_index: usize, worker_count: usize) -> Box<dyn StatelessSinkPartition<T>>;
}

/// A build_part request.
pub(crate) struct BuildPart<'a> {
    pub handle: u32,
    pub part: &'a str,
    pub worker: usize,
    pub workers: usize,
    pub resume: Option<&'a [u8]>,
}

/// A built partition of a source or sink step.
pub(crate) trait OpenPart {
    /// Sources: the next items into `out`; returns (eof, awake).
    fn next(&mut self, _out: &mut BatchWriter) -> Result<(bool, i64), String> {
        Err("bx: bad step: this step is not a source".to_string())
    }
    /// Sinks: writes a batch.
    fn write(&mut self, _b: &Batch) -> Result<(), String> {
        Err("bx: bad step: this step is not a sink".to_string())
    }
    /// The partition's state, if it has one.
    fn snapshot(&mut self, _out: &mut Vec<u8>) -> Result<bool, String> {
        Ok(false)
    }
    fn close(&mut self);
}

type ListFn = Box<dyn FnMut(usize, usize) -> Vec<String>>;
type BuildFn = Box<dyn FnMut(&BuildPart) -> Result<Box<dyn OpenPart>, String>>;

/// The guest side of a source or sink step: partitions listed by the
/// user's code and built under handles the host chooses.
pub(crate) struct PartsRt {
    pub step: usize,
    pub step_id: String,
    list: Option<ListFn>,
    build: BuildFn,
    open: FxHashMap<u32, (String, Box<dyn OpenPart>)>,
}

impl PartsRt {
    pub(crate) fn list_parts(&mut self, worker: usize, workers: usize) -> Vec<String> {
        match &mut self.list {
            None => Vec::new(),
            Some(f) => {
                site::enter_part(Some(self.step), "list_parts", "");
                f(worker, workers)
            }
        }
    }

    pub(crate) fn build_part(&mut self, q: &BuildPart) -> Result<(), String> {
        if self.open.contains_key(&q.handle) {
            return Err(format!("bx: bad partition handle: handle {} of step {} is already built", q.handle, self.step_id));
        }
        let p = (self.build)(q)?;
        self.open.insert(q.handle, (q.part.to_string(), p));
        Ok(())
    }

    pub(crate) fn part(&mut self, handle: u32) -> Result<&mut Box<dyn OpenPart>, String> {
        match self.open.get_mut(&handle) {
            Some((_, p)) => Ok(p),
            None => Err(format!("bx: bad partition handle: step {} has no partition with handle {}", self.step_id, handle)),
        }
    }

    pub(crate) fn close(&mut self, handle: u32) -> Result<(), String> {
        match self.open.remove(&handle) {
            Some((name, mut p)) => {
                site::enter_part(Some(self.step), "close", &name);
                p.close();
                Ok(())
            }
            None => Err(format!("bx: bad partition handle: step {} has no partition with handle {}", self.step_id, handle)),
        }
    }
}

type Attach = Box<dyn FnOnce(usize, String) -> PartsRt>;

/// Where an input step gets its items: a host connector (`file_source`,
/// `dir_source`, `stdin_source`, the stream sources) or the user's code (`partitioned_source`,
/// `dynamic_source`, `testing_source`).
pub struct Source<T> {
    kind: u8,
    arg: String,
    rt: Option<Attach>,
    _t: PhantomData<fn() -> T>,
}

/// Where an output step writes its items: a host connector (`stdout_sink`,
/// `file_sink`, the stream sinks) or the user's code (`partitioned_sink`, `dynamic_sink`).
pub struct Sink<T> {
    kind: u8,
    arg: String,
    rt: Option<Attach>,
    _t: PhantomData<fn(T)>,
}

fn attach(flow: &Rc<RefCell<FlowInner>>, i: usize, kind: u8, arg: String, rt: Option<Attach>) {
    let mut f = flow.borrow_mut();
    let id = f.steps[i].id.clone();
    let st = &mut f.steps[i];
    st.conn = kind;
    st.arg = arg;
    if let Some(make) = rt {
        st.rt = StepRt::Parts(make(i, id));
    }
}

impl<T> Source<T> {
    pub(crate) fn attach(self, flow: &Rc<RefCell<FlowInner>>, i: usize) {
        attach(flow, i, self.kind, self.arg, self.rt)
    }
}

impl<T> Sink<T> {
    pub(crate) fn attach(self, flow: &Rc<RefCell<FlowInner>>, i: usize) {
        attach(flow, i, self.kind, self.arg, self.rt)
    }
}

fn host<T>(kind: u8, arg: &str) -> Source<T> {
    host_source(kind, arg.to_string())
}

/// A source the host implements: connector `kind` with argument `arg`.
pub(crate) fn host_source<T>(kind: u8, arg: String) -> Source<T> {
    Source { kind, arg, rt: None, _t: PhantomData }
}

/// A sink the host implements: connector `kind` with argument `arg`.
pub(crate) fn host_sink<T>(kind: u8, arg: String) -> Sink<T> {
    Sink { kind, arg, rt: None, _t: PhantomData }
}

/// Reads the lines of the file at `path` (without their newline), one
/// partition. The host does the reading.
pub fn file_source(path: &str) -> Source<String> {
    host(CONN_FILE, path)
}

/// Reads the lines of every file matching `glob`, one partition per file.
/// The host does the reading.
pub fn dir_source(glob: &str) -> Source<String> {
    host(CONN_DIR, glob)
}

/// Reads the lines of the host's standard input, one partition.
pub fn stdin_source() -> Source<String> {
    host(CONN_STDIN, "")
}

/// Writes each item as a line on the host's standard output.
pub fn stdout_sink() -> Sink<String> {
    Sink { kind: CONN_STDOUT, arg: String::new(), rt: None, _t: PhantomData }
}

/// Writes each item as a line of the file at `path`. The host does the
/// writing.
pub fn file_sink(path: &str) -> Sink<String> {
    Sink { kind: CONN_FILE, arg: path.to_string(), rt: None, _t: PhantomData }
}

fn decode_resume<S: Codec>(q: &BuildPart, step_id: &str) -> Result<Option<S>, String> {
    match q.resume {
        None => Ok(None),
        Some(b) => S::decode(b).map(Some).map_err(|e| {
            format!("decoding the resume state of partition {} in step {}: {}", site::quote(q.part.as_bytes()), step_id, e)
        }),
    }
}

/// A built source partition of either kind.
struct SourcePart<T, S> {
    step: usize,
    name: String,
    next: Box<dyn FnMut() -> NextBatch<T>>,
    awake: Box<dyn FnMut() -> Option<SystemTime>>,
    snap: Option<Box<dyn FnMut() -> S>>,
    close: Box<dyn FnMut()>,
}

impl<T: Codec, S: Codec> OpenPart for SourcePart<T, S> {
    fn next(&mut self, out: &mut BatchWriter) -> Result<(bool, i64), String> {
        site::enter_part(Some(self.step), "next_batch", &self.name);
        let (items, eof) = match (self.next)() {
            NextBatch::Items(v) => (v, false),
            NextBatch::Eof(v) => (v, true),
        };
        encode_items(&items, out);
        let mut awake = 0;
        if !eof {
            site::enter_part(Some(self.step), "next_awake", &self.name);
            awake = (self.awake)().map(unix_nanos).unwrap_or(0);
        }
        Ok((eof, awake))
    }

    fn snapshot(&mut self, out: &mut Vec<u8>) -> Result<bool, String> {
        match &mut self.snap {
            None => Ok(false),
            Some(f) => {
                site::enter_part(Some(self.step), "snapshot", &self.name);
                f().encode(out);
                Ok(true)
            }
        }
    }

    fn close(&mut self) {
        (self.close)()
    }
}

/// Adapts a `FixedPartitionedSource` for `Dataflow::input`.
pub fn partitioned_source<T: Codec, S: Codec, P: FixedPartitionedSource<T, S> + 'static>(source: P) -> Source<T> {
    let src = Rc::new(RefCell::new(source));
    let make = move |step: usize, step_id: String| {
        let s2 = src.clone();
        let id2 = step_id.clone();
        PartsRt {
            step,
            step_id: step_id.clone(),
            list: Some(Box::new(move |_, _| src.borrow_mut().list_parts())),
            build: Box::new(move |q: &BuildPart| {
                let resume = decode_resume::<S>(q, &id2)?;
                site::enter_part(Some(step), "build_part", q.part);
                let p = Rc::new(RefCell::new(s2.borrow_mut().build_part(&id2, q.part, resume)));
                let (p1, p2, p3, p4) = (p.clone(), p.clone(), p.clone(), p);
                let part: SourcePart<T, S> = SourcePart {
                    step,
                    name: q.part.to_string(),
                    next: Box::new(move || p1.borrow_mut().next_batch()),
                    awake: Box::new(move || p2.borrow().next_awake()),
                    snap: Some(Box::new(move || p3.borrow().snapshot())),
                    close: Box::new(move || p4.borrow_mut().close()),
                };
                Ok(Box::new(part) as Box<dyn OpenPart>)
            }),
            open: FxHashMap::default(),
        }
    };
    Source { kind: CONN_GUEST_PARTITIONED, arg: String::new(), rt: Some(Box::new(make)), _t: PhantomData }
}

/// Adapts a `DynamicSource` for `Dataflow::input`.
pub fn dynamic_source<T: Codec, D: DynamicSource<T> + 'static>(source: D) -> Source<T> {
    let mut src = source;
    let make = move |step: usize, step_id: String| {
        let id2 = step_id.clone();
        PartsRt {
            step,
            step_id,
            list: None,
            build: Box::new(move |q: &BuildPart| {
                site::enter_part(Some(step), "build", "");
                let p = Rc::new(RefCell::new(src.build(&id2, q.worker, q.workers)));
                let (p1, p2, p4) = (p.clone(), p.clone(), p);
                let part: SourcePart<T, ()> = SourcePart {
                    step,
                    name: q.part.to_string(),
                    next: Box::new(move || p1.borrow_mut().next_batch()),
                    awake: Box::new(move || p2.borrow().next_awake()),
                    snap: None,
                    close: Box::new(move || p4.borrow_mut().close()),
                };
                Ok(Box::new(part) as Box<dyn OpenPart>)
            }),
            open: FxHashMap::default(),
        }
    };
    Source { kind: CONN_GUEST_DYNAMIC, arg: String::new(), rt: Some(Box::new(make)), _t: PhantomData }
}

/// A built sink partition of either kind.
struct SinkPart<T, S> {
    step: usize,
    step_id: String,
    name: String,
    write: Box<dyn FnMut(Vec<T>)>,
    snap: Option<Box<dyn FnMut() -> S>>,
    close: Box<dyn FnMut()>,
}

impl<T: Codec, S: Codec> OpenPart for SinkPart<T, S> {
    fn write(&mut self, b: &Batch) -> Result<(), String> {
        let items = decode_items::<T>(b).map_err(|e| format!("decoding an item for step {}: {}", self.step_id, e))?;
        site::enter_part(Some(self.step), "write_batch", &self.name);
        (self.write)(items);
        Ok(())
    }

    fn snapshot(&mut self, out: &mut Vec<u8>) -> Result<bool, String> {
        match &mut self.snap {
            None => Ok(false),
            Some(f) => {
                site::enter_part(Some(self.step), "snapshot", &self.name);
                f().encode(out);
                Ok(true)
            }
        }
    }

    fn close(&mut self) {
        (self.close)()
    }
}

/// Adapts a `FixedPartitionedSink` for `Stream::output`. Its partitions
/// receive the values of the keyed stream; keys only route.
pub fn partitioned_sink<V: Codec, S: Codec, P: FixedPartitionedSink<V, S> + 'static>(sink: P) -> Sink<(String, V)> {
    let snk = Rc::new(RefCell::new(sink));
    let make = move |step: usize, step_id: String| {
        let s2 = snk.clone();
        let id2 = step_id.clone();
        PartsRt {
            step,
            step_id: step_id.clone(),
            list: Some(Box::new(move |_, _| snk.borrow_mut().list_parts())),
            build: Box::new(move |q: &BuildPart| {
                let resume = decode_resume::<S>(q, &id2)?;
                site::enter_part(Some(step), "build_part", q.part);
                let p = Rc::new(RefCell::new(s2.borrow_mut().build_part(&id2, q.part, resume)));
                let (p1, p3, p4) = (p.clone(), p.clone(), p);
                let part: SinkPart<(String, V), S> = SinkPart {
                    step,
                    step_id: id2.clone(),
                    name: q.part.to_string(),
                    write: Box::new(move |kvs: Vec<(String, V)>| {
                        p1.borrow_mut().write_batch(kvs.into_iter().map(|kv| kv.1).collect())
                    }),
                    snap: Some(Box::new(move || p3.borrow().snapshot())),
                    close: Box::new(move || p4.borrow_mut().close()),
                };
                Ok(Box::new(part) as Box<dyn OpenPart>)
            }),
            open: FxHashMap::default(),
        }
    };
    Sink { kind: CONN_GUEST_PARTITIONED, arg: String::new(), rt: Some(Box::new(make)), _t: PhantomData }
}

/// Adapts a `DynamicSink` for `Stream::output`.
pub fn dynamic_sink<T: Codec, D: DynamicSink<T> + 'static>(sink: D) -> Sink<T> {
    let mut snk = sink;
    let make = move |step: usize, step_id: String| {
        let id2 = step_id.clone();
        PartsRt {
            step,
            step_id,
            list: None,
            build: Box::new(move |q: &BuildPart| {
                site::enter_part(Some(step), "build", "");
                let p = Rc::new(RefCell::new(snk.build(&id2, q.worker, q.workers)));
                let (p1, p4) = (p.clone(), p);
                let part: SinkPart<T, ()> = SinkPart {
                    step,
                    step_id: id2.clone(),
                    name: q.part.to_string(),
                    write: Box::new(move |items: Vec<T>| p1.borrow_mut().write_batch(items)),
                    snap: None,
                    close: Box::new(move || p4.borrow_mut().close()),
                };
                Ok(Box::new(part) as Box<dyn OpenPart>)
            }),
            open: FxHashMap::default(),
        }
    };
    Sink { kind: CONN_GUEST_DYNAMIC, arg: String::new(), rt: Some(Box::new(make)), _t: PhantomData }
}

/// Emits `items` in batches of `batch_size` (at least 1) from one partition
/// named "iterable"; its resume state is the index of the next item. It is
/// Bytewax's TestingSource, for tests and examples.
pub fn testing_source<T: Codec + Clone>(items: Vec<T>, batch_size: usize) -> Source<T> {
    partitioned_source(TestingSource { items: Rc::new(items), batch: batch_size.max(1) })
}

struct TestingSource<T> {
    items: Rc<Vec<T>>,
    batch: usize,
}

struct TestingPart<T> {
    items: Rc<Vec<T>>,
    batch: usize,
    next: usize,
}

impl<T: Clone + 'static> FixedPartitionedSource<T, u64> for TestingSource<T> {
    fn list_parts(&mut self) -> Vec<String> {
        vec!["iterable".to_string()]
    }
    fn build_part(&mut self, _: &str, _: &str, resume: Option<u64>) -> Box<dyn StatefulSourcePartition<T, u64>> {
        let next = resume.map(|r| (r as usize).min(self.items.len())).unwrap_or(0);
        Box::new(TestingPart { items: self.items.clone(), batch: self.batch, next })
    }
}

impl<T: Clone> StatefulSourcePartition<T, u64> for TestingPart<T> {
    fn next_batch(&mut self) -> NextBatch<T> {
        let end = (self.next + self.batch).min(self.items.len());
        let out = self.items[self.next..end].to_vec();
        self.next = end;
        if end == self.items.len() {
            NextBatch::Eof(out)
        } else {
            NextBatch::Items(out)
        }
    }
    fn snapshot(&self) -> u64 {
        self.next as u64
    }
}

impl Sink<String> {
    /// This sink, taking a keyed stream of strings: it writes the values
    /// and ignores the keys (as the host's connectors do with any keyed
    /// item), so a stateful step's text output needs no key_rm step.
    pub fn keyed(self) -> Sink<(String, String)> {
        Sink { kind: self.kind, arg: self.arg, rt: self.rt, _t: PhantomData }
    }
}
