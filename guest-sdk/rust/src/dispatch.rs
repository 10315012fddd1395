//! The guest's side of the wire: decodes each request strictly, runs it,
//! and encodes the response (docs/abi.md sections 7 and 10). It never
//! traps on bad input; only user code can panic.

use crate::flow::*;
use crate::hash::FxHashMap;
use crate::parts::{BuildPart, PartsRt};
use crate::register::{Arg, Registry, ARG_BOOL, ARG_FLOAT, ARG_INT, ARG_STRING};
use crate::site;
use crate::stateful::{KeyedOut, StatefulRuntime};
use crate::wire::{put_bool, put_bytes, put_uvarint, put_varint, BatchWriter, Reader};

/// The built flow.
struct Built {
    steps: Vec<Step>,
}

/// The dispatcher: the registry, the built flow, its chains and the
/// response buffer, which stays valid until the next call.
pub(crate) struct Dispatcher {
    pub registry: Registry,
    flow: Option<Built>,
    chains: FxHashMap<u32, Vec<usize>>,
    pub resp: Vec<u8>,
    keyed: KeyedOut,
    outs: [BatchWriter; 2],
    scratch: Vec<u8>,
}

fn malformed(what: &str, e: String) -> String {
    format!("bx: malformed request: {}: {}", what, e)
}

impl Dispatcher {
    pub(crate) fn new(registry: Registry) -> Dispatcher {
        Dispatcher {
            registry,
            flow: None,
            chains: FxHashMap::default(),
            resp: Vec::with_capacity(4096),
            keyed: KeyedOut::default(),
            outs: [BatchWriter::default(), BatchWriter::default()],
            scratch: Vec::new(),
        }
    }

    /// Runs one request (an op byte and its body) and leaves the response
    /// (a status byte and its body) in `resp`.
    pub(crate) fn dispatch(&mut self, req: &[u8]) {
        site::clear();
        self.resp.clear();
        if let Err(e) = self.handle(req) {
            let located = site::locate(e);
            self.resp.clear();
            self.resp.push(1);
            site::encode_error(&mut self.resp, &located);
        }
        site::clear();
    }

    fn handle(&mut self, req: &[u8]) -> Result<(), String> {
        let (&op, body) = match req.split_first() {
            Some(x) => x,
            None => return Err("bx: malformed request: empty request".to_string()),
        };
        let mut r = Reader::new(body);
        self.resp.push(0);
        match op {
            1 => self.list_flows(&mut r),
            2 => self.build(&mut r),
            3 => self.fuse(&mut r),
            4 => self.run_chain(&mut r),
            5 => self.stateful_batch(&mut r),
            6 => self.notify(&mut r),
            7 => self.eof(&mut r),
            8 => self.snapshot(&mut r),
            9 => self.restore(&mut r),
            10 => self.list_parts(&mut r),
            11 => self.build_part(&mut r),
            12 => self.next_batch(&mut r),
            13 => self.write_batch(&mut r),
            14 => self.part_snapshot(&mut r),
            15 => self.close_part(&mut r),
            _ => Err(format!("bx: malformed request: unknown op {}", op)),
        }
    }

    fn steps(&mut self) -> Result<&mut Vec<Step>, String> {
        match &mut self.flow {
            Some(b) => Ok(&mut b.steps),
            None => Err("bx: no flow built yet".to_string()),
        }
    }

    /// Step i of the built flow if it is of kind k (any kind for 0).
    fn step(&mut self, i: u32, k: u8) -> Result<&mut Step, String> {
        let steps = self.steps()?;
        let n = steps.len();
        let st = match steps.get_mut(i as usize) {
            Some(st) => st,
            None => return Err(format!("bx: bad step: step index {}, the flow has {} steps", i, n)),
        };
        if k != 0 && st.kind != k {
            return Err(format!("bx: bad step: step {} ({}) is a {} step, not {}", i, st.id, kind_name(st.kind), kind_name(k)));
        }
        Ok(st)
    }

    fn list_flows(&mut self, r: &mut Reader) -> Result<(), String> {
        r.end("list flows")?;
        put_uvarint(&mut self.resp, self.registry.defs.len() as u64);
        for d in &self.registry.defs {
            put_bytes(&mut self.resp, d.name.as_bytes());
            put_uvarint(&mut self.resp, d.params.len() as u64);
            for (n, t) in &d.params {
                put_bytes(&mut self.resp, n.as_bytes());
                self.resp.push(*t);
            }
        }
        Ok(())
    }

    fn build(&mut self, r: &mut Reader) -> Result<(), String> {
        let (name, args) = read_build(r).map_err(|e| malformed("build", e))?;
        r.end("build")?;
        self.flow = None;
        self.chains.clear();
        site::set_step_ids(Vec::new());
        let def = self.registry.lookup(&name)?;
        site::enter_part(None, &format!("flow factory {}", name), "");
        let flow = def.build(&args);
        site::clear();
        let flow = flow?;
        let mut inner = flow.inner.borrow_mut();
        if let Some(e) = inner.err.take() {
            return Err(e);
        }
        let steps = std::mem::take(&mut inner.steps);
        Dataflow::encode_graph(&steps, &inner.id, inner.streams, &mut self.resp);
        site::set_step_ids(steps.iter().map(|s| s.id.clone()).collect());
        self.flow = Some(Built { steps });
        Ok(())
    }

    fn fuse(&mut self, r: &mut Reader) -> Result<(), String> {
        let chain = r.u32().map_err(|e| malformed("fuse", e))?;
        let n = r.count(1).map_err(|e| malformed("fuse", e))?;
        let mut list = Vec::with_capacity(n);
        for _ in 0..n {
            list.push(r.u32().map_err(|e| malformed("fuse", e))?);
        }
        r.end("fuse")?;
        let steps = self.steps()?;
        if list.is_empty() {
            return Err(format!("bx: bad chain: chain {} has no steps", chain));
        }
        let mut idx: Vec<usize> = Vec::with_capacity(n);
        for &i in &list {
            let st = match steps.get(i as usize) {
                Some(st) => st,
                None => {
                    return Err(format!(
                        "bx: bad chain: chain {}: step index {}, the flow has {} steps",
                        chain,
                        i,
                        steps.len()
                    ))
                }
            };
            if !matches!(st.rt, StepRt::Chain(_)) {
                return Err(format!(
                    "bx: bad chain: chain {}: step {} ({}) is a {} step, which cannot be fused",
                    chain,
                    i,
                    st.id,
                    kind_name(st.kind)
                ));
            }
            if let Some(&p) = idx.last() {
                let prev = &steps[p];
                if prev.outs.len() != 1 || prev.outs[0] != st.ins[0] {
                    return Err(format!(
                        "bx: bad chain: chain {}: step {} does not read the only output of step {}",
                        chain, st.id, prev.id
                    ));
                }
            }
            idx.push(i as usize);
        }
        self.chains.insert(chain, idx);
        Ok(())
    }

    fn run_chain(&mut self, r: &mut Reader) -> Result<(), String> {
        fn read<'a>(r: &mut Reader<'a>) -> Result<(u32, u32, u64, crate::wire::Batch<'a>), String> {
            Ok((r.u32()?, r.u32()?, r.uvarint()?, r.batch()?))
        }
        let (chain, worker, epoch, batch) = read(r).map_err(|e| malformed("run chain", e))?;
        r.end("run chain")?;
        let steps = match &mut self.flow {
            Some(b) => &mut b.steps,
            None => return Err(format!("bx: bad chain: chain {} was not fused", chain)),
        };
        let list = match self.chains.get(&chain) {
            Some(l) => l,
            None => return Err(format!("bx: bad chain: chain {} was not fused", chain)),
        };
        let rc = RunCtx { epoch, worker: worker as usize };
        let first = list[0];
        site::enter(first, "");
        let mut vals = match &steps[first].rt {
            StepRt::Chain(c) => c.decode(&batch).map_err(|e| format!("decoding an item for step {}: {}", steps[first].id, e))?,
            _ => return Err("bx: bad chain".to_string()),
        };
        let mut other = None;
        for &i in list {
            if let StepRt::Chain(c) = &mut steps[i].rt {
                site::enter(i, c.what());
                let (a, b) = c.run(vals, &rc);
                vals = a;
                other = b;
            }
        }
        let last = *list.last().expect("chain has steps");
        site::enter(last, "");
        let c = match &steps[last].rt {
            StepRt::Chain(c) => c,
            _ => return Err("bx: bad chain".to_string()),
        };
        let nout = steps[last].outs.len();
        put_uvarint(&mut self.resp, nout as u64);
        for port in 0..nout {
            let w = &mut self.outs[port.min(1)];
            w.reset();
            if port == 0 {
                c.encode(&*vals, w);
            } else if let Some(o) = &other {
                c.encode(&**o, w);
            }
            w.write_to(&mut self.resp);
        }
        Ok(())
    }

    fn stateful(&mut self, i: u32) -> Result<&mut Box<dyn StatefulRuntime>, String> {
        match &mut self.step(i, KIND_STATEFUL_BATCH)?.rt {
            StepRt::Stateful(s) => Ok(s),
            _ => Err(format!("bx: bad step: step {} has no stateful logic", i)),
        }
    }

    fn stateful_batch(&mut self, r: &mut Reader) -> Result<(), String> {
        fn read<'a>(r: &mut Reader<'a>) -> Result<(u32, i64, crate::wire::Batch<'a>), String> {
            Ok((r.u32()?, r.varint()?, r.batch()?))
        }
        let (step, _now, batch) = read(r).map_err(|e| malformed("stateful batch", e))?;
        r.end("stateful batch")?;
        let mut out = std::mem::take(&mut self.keyed);
        out.reset();
        let res = self.stateful(step).and_then(|rt| rt.on_batch(&batch, &mut out));
        out.write_to(&mut self.resp);
        self.keyed = out;
        res
    }

    fn notify(&mut self, r: &mut Reader) -> Result<(), String> {
        let (step, keys) = read_keys(r).map_err(|e| malformed("notify", e))?;
        r.end("notify")?;
        let mut out = std::mem::take(&mut self.keyed);
        out.reset();
        let res = self.stateful(step).and_then(|rt| rt.on_notify(&keys, &mut out));
        out.write_to(&mut self.resp);
        self.keyed = out;
        res
    }

    fn eof(&mut self, r: &mut Reader) -> Result<(), String> {
        let read = |r: &mut Reader| -> Result<_, String> { Ok((r.u32()?, r.varint()?)) };
        let (step, _now) = read(r).map_err(|e| malformed("eof", e))?;
        r.end("eof")?;
        let mut out = std::mem::take(&mut self.keyed);
        out.reset();
        let res = self.stateful(step).and_then(|rt| rt.on_eof(&mut out));
        out.write_to(&mut self.resp);
        self.keyed = out;
        res
    }

    fn snapshot(&mut self, r: &mut Reader) -> Result<(), String> {
        let (step, keys) = read_keys(r).map_err(|e| malformed("snapshot", e))?;
        r.end("snapshot")?;
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        let res = self.stateful(step).and_then(|rt| rt.snapshot(&keys, &mut body));
        put_uvarint(&mut self.resp, step as u64);
        put_uvarint(&mut self.resp, keys.len() as u64);
        self.resp.extend_from_slice(&body);
        self.scratch = body;
        res
    }

    fn restore(&mut self, r: &mut Reader) -> Result<(), String> {
        type Items<'a> = Vec<(&'a [u8], Option<&'a [u8]>)>;
        fn read<'a>(r: &mut Reader<'a>) -> Result<(u32, Items<'a>), String> {
            let step = r.u32()?;
            let n = r.count(3)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let key = r.bytes()?;
                let present = r.bool()?;
                let state = r.bytes()?;
                items.push((key, if present { Some(state) } else { None }));
            }
            Ok((step, items))
        }
        let (step, items) = read(r).map_err(|e| malformed("restore", e))?;
        r.end("restore")?;
        self.stateful(step)?.restore(&items)
    }

    /// The guest connector of step i, which must be an input or an output
    /// (or of kind k when k is not 0).
    fn parts(&mut self, i: u32, k: u8) -> Result<&mut PartsRt, String> {
        let st = self.step(i, k)?;
        if st.kind != KIND_INPUT && st.kind != KIND_OUTPUT {
            return Err(format!("bx: bad step: step {} ({}) is a {} step, not input or output", i, st.id, kind_name(st.kind)));
        }
        let conn = st.conn;
        let id = st.id.clone();
        match &mut st.rt {
            StepRt::Parts(p) => Ok(p),
            _ => Err(format!("bx: the host runs this connector: step {} uses the host's {} connector", id, conn_name(conn))),
        }
    }

    fn list_parts(&mut self, r: &mut Reader) -> Result<(), String> {
        let read = |r: &mut Reader| -> Result<_, String> { Ok((r.u32()?, r.u32()?, r.u32()?)) };
        let (step, worker, workers) = read(r).map_err(|e| malformed("list parts", e))?;
        r.end("list parts")?;
        let names = self.parts(step, 0)?.list_parts(worker as usize, workers as usize);
        put_uvarint(&mut self.resp, names.len() as u64);
        for n in names {
            put_bytes(&mut self.resp, n.as_bytes());
        }
        Ok(())
    }

    fn build_part(&mut self, r: &mut Reader) -> Result<(), String> {
        type Req<'a> = (u32, u32, &'a [u8], u32, u32, Option<&'a [u8]>);
        fn read<'a>(r: &mut Reader<'a>) -> Result<Req<'a>, String> {
            let step = r.u32()?;
            let handle = r.u32()?;
            let part = r.bytes()?;
            let worker = r.u32()?;
            let workers = r.u32()?;
            let has = r.bool()?;
            let resume = r.bytes()?;
            Ok((step, handle, part, worker, workers, if has { Some(resume) } else { None }))
        }
        let (step, handle, part, worker, workers, resume) = read(r).map_err(|e| malformed("build part", e))?;
        r.end("build part")?;
        let part = crate::codec::utf8(part);
        let q = BuildPart { handle, part: &part, worker: worker as usize, workers: workers as usize, resume };
        self.parts(step, 0)?.build_part(&q)
    }

    fn next_batch(&mut self, r: &mut Reader) -> Result<(), String> {
        let (step, handle) = read_handle(r).map_err(|e| malformed("next batch", e))?;
        r.end("next batch")?;
        let mut w = std::mem::take(&mut self.outs[0]);
        w.reset();
        let res = self.parts(step, KIND_INPUT).and_then(|rt| rt.part(handle)).and_then(|p| p.next(&mut w));
        let out = match res {
            Ok(x) => x,
            Err(e) => {
                self.outs[0] = w;
                return Err(e);
            }
        };
        put_bool(&mut self.resp, out.0);
        put_varint(&mut self.resp, out.1);
        w.write_to(&mut self.resp);
        self.outs[0] = w;
        Ok(())
    }

    fn write_batch(&mut self, r: &mut Reader) -> Result<(), String> {
        fn read<'a>(r: &mut Reader<'a>) -> Result<(u32, u32, crate::wire::Batch<'a>), String> {
            Ok((r.u32()?, r.u32()?, r.batch()?))
        }
        let (step, handle, batch) = read(r).map_err(|e| malformed("write batch", e))?;
        r.end("write batch")?;
        self.parts(step, KIND_OUTPUT)?.part(handle)?.write(&batch)
    }

    fn part_snapshot(&mut self, r: &mut Reader) -> Result<(), String> {
        let (step, handle) = read_handle(r).map_err(|e| malformed("part snapshot", e))?;
        r.end("part snapshot")?;
        let mut body = std::mem::take(&mut self.scratch);
        body.clear();
        let res = self.parts(step, 0).and_then(|rt| rt.part(handle)).and_then(|p| p.snapshot(&mut body));
        let present = match res {
            Ok(p) => p,
            Err(e) => {
                self.scratch = body;
                return Err(e);
            }
        };
        put_bool(&mut self.resp, present);
        put_bytes(&mut self.resp, if present { &body } else { &[] });
        self.scratch = body;
        Ok(())
    }

    fn close_part(&mut self, r: &mut Reader) -> Result<(), String> {
        let (step, handle) = read_handle(r).map_err(|e| malformed("close part", e))?;
        r.end("close part")?;
        self.parts(step, 0)?.close(handle)
    }
}

fn conn_name(c: u8) -> &'static str {
    match c {
        1 => "guest-partitioned",
        2 => "guest-dynamic",
        3 => "file",
        4 => "dir",
        5 => "stdin",
        6 => "stdout",
        7 => "jetstream",
        8 => "nats",
        9 => "kafka",
        _ => "unknown",
    }
}

fn read_build(r: &mut Reader) -> Result<(String, Vec<Arg>), String> {
    let name = r.string()?;
    let n = r.count(2)?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n {
        let t = r.byte()?;
        args.push(match t {
            ARG_STRING => Arg::Str(r.string()?),
            ARG_INT => Arg::Int(r.varint()?),
            ARG_FLOAT => Arg::Float(r.f64()?),
            ARG_BOOL => Arg::Bool(r.bool()?),
            _ => return Err(format!("unknown argument type {}", t)),
        });
    }
    Ok((name, args))
}

fn read_keys<'a>(r: &mut Reader<'a>) -> Result<(u32, Vec<&'a [u8]>), String> {
    let step = r.u32()?;
    let _now = r.varint()?;
    let n = r.count(1)?;
    let mut keys = Vec::with_capacity(n);
    for _ in 0..n {
        keys.push(r.bytes()?);
    }
    Ok((step, keys))
}

fn read_handle(r: &mut Reader) -> Result<(u32, u32), String> {
    let step = r.u32()?;
    let handle = r.u32()?;
    let _now = r.varint()?;
    Ok((step, handle))
}

impl Dispatcher {
    /// Answers a request that cannot be read with a StatusError.
    pub(crate) fn refuse(&mut self, msg: String) {
        site::clear();
        self.resp.clear();
        self.resp.push(1);
        site::encode_error(&mut self.resp, &site::locate(msg));
    }
}
