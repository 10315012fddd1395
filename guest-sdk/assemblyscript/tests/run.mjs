// Unit tests of the AssemblyScript SDK, run under node against a module
// built from tests/flows.ts: the codec against the golden bytes of
// docs/abi.md, the dispatcher's strictness, and the stateful rules.
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const hex = (s) => Uint8Array.from(s.trim().split(/\s+/), (b) => parseInt(b, 16));
const show = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

let inst;
let stderr = "";
const mem = () => new Uint8Array(inst.exports.memory.buffer);
const wasi = {
  fd_write(fd, iovs, n, written) {
    const dv = new DataView(inst.exports.memory.buffer);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = dv.getUint32(iovs + 8 * i, true), l = dv.getUint32(iovs + 8 * i + 4, true);
      const s = new TextDecoder().decode(mem().subarray(p, p + l));
      if (fd === 2) stderr += s;
      total += l;
    }
    dv.setUint32(written, total, true);
    return 0;
  },
  clock_time_get(id, prec, out) { new DataView(inst.exports.memory.buffer).setBigInt64(out, 1700000000000000000n, true); return 0; },
  random_get(buf, len) { return 0; },
};

function load(path) {
  const mod = new WebAssembly.Module(readFileSync(path));
  const imports = WebAssembly.Module.imports(mod);
  assert.deepEqual(imports.filter((i) => i.module !== "wasi_snapshot_preview1"), [], "imports outside WASI");
  inst = new WebAssembly.Instance(mod, { wasi_snapshot_preview1: wasi });
  inst.exports._initialize();
  assert.equal(inst.exports.bxwasm_abi_version(), 1);
}

function slice(ref) {
  const r = BigInt.asUintN(64, ref);
  const p = Number(r >> 32n), n = Number(r & 0xffffffffn);
  return mem().slice(p, p + n);
}

function call(bytes) {
  const p = inst.exports.bxwasm_buffer(bytes.length) >>> 0;
  mem().set(bytes, p);
  return slice(inst.exports.bxwasm_call(bytes.length));
}

// A tiny encoder for requests.
class W {
  constructor() { this.b = []; }
  byte(x) { this.b.push(x); return this; }
  uv(x) { x = BigInt(x); while (x >= 0x80n) { this.b.push(Number(x & 0x7fn) | 0x80); x >>= 7n; } this.b.push(Number(x)); return this; }
  v(x) { x = BigInt(x); return this.uv(BigInt.asUintN(64, (x << 1n) ^ (x >> 63n))); }
  str(s) { const e = new TextEncoder().encode(s); this.uv(e.length); this.b.push(...e); return this; }
  raw(a) { this.b.push(...a); return this; }
  batch(items) {
    const body = new W();
    for (const [k, v] of items) {
      if (k === null) body.uv(0); else { const e = new TextEncoder().encode(k); body.uv(e.length + 1).raw(e); }
      body.str(v);
    }
    return this.uv(items.length).uv(body.b.length).raw(body.b);
  }
  get bytes() { return Uint8Array.from(this.b); }
}

// A tiny decoder for responses.
class R {
  constructor(b) { this.b = b; this.i = 0; }
  byte() { return this.b[this.i++]; }
  uv() { let x = 0n, s = 0n; for (;;) { const c = this.b[this.i++]; x |= BigInt(c & 0x7f) << s; if (c < 0x80) return x; s += 7n; } }
  v() { const u = this.uv(); return (u >> 1n) ^ -(u & 1n); }
  str() { const n = Number(this.uv()); const s = new TextDecoder().decode(this.b.subarray(this.i, this.i + n)); this.i += n; return s; }
  batch() {
    const n = Number(this.uv()), len = Number(this.uv()), end = this.i + len, items = [];
    for (let k = 0; k < n; k++) {
      const tag = Number(this.uv());
      let key = null;
      if (tag > 0) { key = new TextDecoder().decode(this.b.subarray(this.i, this.i + tag - 1)); this.i += tag - 1; }
      items.push([key, this.str()]);
    }
    assert.equal(this.i, end);
    return items;
  }
  updates() {
    const emits = this.batch(), keys = [];
    for (let n = Number(this.uv()); n > 0; n--) keys.push([this.str(), this.byte(), this.v()]);
    return { emits, keys };
  }
  end() { assert.equal(this.i, this.b.length, "trailing bytes in response"); }
}

function error(resp) {
  assert.equal(resp[0], 1, "want StatusError, got " + show(resp));
  const r = new R(resp.subarray(1));
  const e = { message: r.str(), stack: r.str(), step: Number(r.uv()), haskey: r.byte(), key: r.str() };
  r.end();
  return e;
}

function ok(resp) {
  assert.equal(resp[0], 0, "want StatusOK, got " + (resp[0] === 1 ? error(resp).message : show(resp)));
  return new R(resp.subarray(1));
}

const tests = [];
const test = (name, fn) => tests.push([name, fn]);
const path = process.argv[2];
const partsPath = process.argv[3];

test("primitives encode as in section 6", () => {
  load(path);
  assert.equal(show(slice(inst.exports.t_primitives())),
    show(hex("00 01 7f 80 01 ac 02 80 80 01  00 01 02 03 7e 7f 80 01  00 00 00 00 00 00 f8 3f  80 80 d0 e2 c6 bf ce 97 2f  02 68 69")));
});

test("batches encode as in section 8", () => {
  load(path);
  assert.equal(show(slice(inst.exports.t_batches())),
    show(hex("02 0c 03 61 62 02 68 69 02 63 03 78 79 7a  01 04 00 02 68 69  00 00")));
});

test("ErrorInfo encodes as in section 7", () => {
  load(path);
  assert.equal(show(slice(inst.exports.t_errorinfo())), show(hex("01 04 62 6f 6f 6d 00 03 01 01 6b")));
});

test("list_flows answers the section 10 example", () => {
  load(path);
  assert.equal(show(call(hex("01"))), show(hex("00 02 04 66 6c 6f 77 00 08 67 65 74 5f 66 6c 6f 77 01 04 70 61 74 68 01")));
});

test("build decodes the section 10 request and checks its arguments", () => {
  load(path);
  const e = error(call(hex("02 08 67 65 74 5f 66 6c 6f 77 02 01 06 69 6e 2e 74 78 74 02 05")));
  assert.equal(e.message, "bad arguments: get_flow(path string) takes 1 argument(s), got 2");
  assert.equal(e.step, 0);
  const e2 = error(call(new W().byte(2).str("get_flow").uv(1).byte(2).v(3).bytes));
  assert.equal(e2.message, "bad arguments: argument 1 (path) of get_flow(path string): want string, got int");
  const e3 = error(call(new W().byte(2).str("nope").uv(0).bytes));
  assert.equal(e3.message, 'unknown flow "nope"; this module has: flow(), get_flow(path string)');
});

test("requests are decoded strictly", () => {
  load(path);
  const cases = [
    ["trailing byte", "01 00", "bx: malformed request: list flows: 1 trailing byte(s)"],
    ["op 0", "00", "bx: malformed request: unknown op 0"],
    ["op 16", "10", "bx: malformed request: unknown op 16"],
    ["truncated build", "02 08 67 65", "bx: malformed request: build: length 8 points past the end of the frame"],
    ["overlong varint", "03 ff ff ff ff ff ff ff ff ff ff 01 00", "bx: malformed request: fuse: varint overflows 64 bits"],
    ["not built", "05 00 00 00 00", "bx: no flow built yet"],
  ];
  for (const [name, req, want] of cases) {
    assert.equal(error(call(hex(req))).message, want, name);
  }
  // An empty request never reaches the guest from the host, but must not trap.
  assert.equal(error(slice(inst.exports.bxwasm_call(0))).message, "bx: malformed request: empty request");
});

function built() {
  load(path);
  const g = ok(call(new W().byte(2).str("flow").uv(0).bytes));
  assert.equal(g.str(), "t");
  ok(call(new W().byte(3).uv(7).uv(1).uv(1).bytes)).end(); // chain 7 = [pick]
  ok(call(new W().byte(3).uv(9).uv(1).uv(3).bytes)).end(); // chain 9 = [show]
}

test("run_chain answers the branch example of section 8", () => {
  built();
  const resp = call(hex("04 07 01 02 02 0c 03 61 62 02 68 69 02 63 03 78 79 7a"));
  assert.equal(show(resp), show(hex("00 02 01 06 03 61 62 02 68 69 01 06 02 63 03 78 79 7a")));
});

test("bad chains, steps and batches get a StatusError", () => {
  built();
  const cases = [
    ["unfused chain", new W().byte(4).uv(8).uv(0).uv(1).batch([["a", "x"]]), "bx: bad chain: chain 8 was not fused"],
    ["count beyond items", hex("04 07 00 01 02 06 03 61 62 02 68 69"), "decoding an item for step t.pick: batch count does not match its items"],
    ["item past body", hex("04 07 00 01 01 03 03 61 62"), "decoding an item for step t.pick: batch count does not match its items"],
    ["trailing after batch", hex("04 07 00 01 00 00 00"), "bx: malformed request: run chain: 1 trailing byte(s)"],
    ["unkeyed item for keyed stream", new W().byte(4).uv(7).uv(0).uv(1).batch([[null, "x"]]), "decoding an item for step t.pick: bx: cannot decode value: item of a keyed stream has no key"],
    ["fuse a stateful step", new W().byte(3).uv(1).uv(1).uv(2), "bx: bad chain: chain 1: step 2 (t.rec) is a stateful_batch step, which cannot be fused"],
    ["fuse steps that do not feed each other", new W().byte(3).uv(1).uv(2).uv(1).uv(3), "bx: bad chain: chain 1: step t.show.flat_map_batch does not read the only output of step t.pick"],
    ["step out of range", new W().byte(5).uv(99).v(0).batch([["a", "x"]]), "bx: bad step: step index 99, the flow has 5 steps"],
    ["stateful op on a chain step", new W().byte(7).uv(1).v(0), "bx: bad step: step 1 (t.pick) is a branch step, not stateful_batch"],
    ["host connector", new W().byte(10).uv(4).uv(0).uv(1), "bx: the host runs this connector: step t.out uses the host's stdout connector"],
    ["unknown handle", new W().byte(12).uv(0).uv(5).v(0), "bx: bad partition handle: step t.inp has no partition with handle 5"],
  ];
  for (const [name, req, want] of cases) {
    assert.equal(error(call(req instanceof W ? req.bytes : req)).message, want, name);
  }
});

test("stateful_batch groups by key in first-seen order and reports timers", () => {
  built();
  const r = ok(call(new W().byte(5).uv(2).v(0).batch([["a", "1"], ["b", "at:50"], ["a", "2"], ["c", "drop"]]).bytes));
  const u = r.updates();
  r.end();
  assert.deepEqual(u.emits, [["a", "batch:1,2"], ["b", "batch:at:50"], ["c", "batch:drop"]]);
  assert.deepEqual(u.keys, [["b", 0, 50n], ["c", 1, 0n]]);
  // Unchanged notify_at: not reported again; a time before the epoch becomes 1.
  const r2 = ok(call(new W().byte(5).uv(2).v(0).batch([["b", "x"], ["a", "at:-5"]]).bytes)).updates();
  assert.deepEqual(r2.keys, [["a", 0, 1n]]);
  // notify: the fired timer counts as 0; a key without a logic is discarded.
  const n = ok(call(new W().byte(6).uv(2).v(0).uv(2).str("b").str("c").bytes)).updates();
  assert.deepEqual(n.emits, [["b", "notified"]]);
  assert.deepEqual(n.keys, [["c", 1, 0n]]);
});

test("snapshot, restore and eof in building order", () => {
  built();
  ok(call(new W().byte(5).uv(2).v(0).batch([["z", "1"], ["y", "2"]]).bytes));
  const s = ok(call(new W().byte(8).uv(2).v(0).uv(2).str("y").str("q").bytes));
  assert.equal(s.uv(), 2n);
  assert.equal(s.uv(), 2n);
  assert.deepEqual([s.str(), s.byte(), s.str()], ["y", 1, "2"]);
  assert.deepEqual([s.str(), s.byte(), s.str()], ["q", 0, ""]);
  s.end();
  // restore: z dropped, x built from state "7"
  ok(call(new W().byte(9).uv(2).uv(2).str("z").byte(0).uv(0).str("x").byte(1).str("7").bytes)).end();
  const e = ok(call(new W().byte(7).uv(2).v(0).bytes)).updates();
  assert.deepEqual(e.emits, [["y", "eof:2"], ["x", "eof:7"]]);
  assert.deepEqual(e.keys, [["y", 1, 0n], ["x", 1, 0n]]);
  // eof with no keys: empty batch, no keys
  assert.equal(show(call(new W().byte(7).uv(2).v(0).bytes)), "00 00 00 00");
});

test("the testing source serves its partition", () => {
  built();
  const l = ok(call(new W().byte(10).uv(0).uv(0).uv(1).bytes));
  assert.equal(l.uv(), 1n);
  assert.equal(l.str(), "iterable");
  ok(call(new W().byte(11).uv(0).uv(1).str("iterable").uv(0).uv(1).byte(0).uv(0).bytes)).end();
  assert.equal(error(call(new W().byte(11).uv(0).uv(1).str("iterable").uv(0).uv(1).byte(0).uv(0).bytes)).message,
    "bx: bad partition handle: handle 1 of step t.inp is already built");
  const b1 = ok(call(new W().byte(12).uv(0).uv(1).v(0).bytes));
  assert.deepEqual([b1.byte(), b1.v(), b1.batch()], [0, 0n, [["ab", "hi"]]]);
  const snap = ok(call(new W().byte(14).uv(0).uv(1).v(0).bytes));
  assert.deepEqual([snap.byte(), snap.str()], [1, "\x02"]); // state: varint 1
  const b2 = ok(call(new W().byte(12).uv(0).uv(1).v(0).bytes));
  assert.deepEqual([b2.byte(), b2.v(), b2.batch()], [1, 0n, [["c", "xyz"]]]);
  ok(call(new W().byte(15).uv(0).uv(1).v(0).bytes)).end();
});

test("a throw in user code records an ErrorInfo for bxwasm_last_error", () => {
  load(path);
  assert.equal(inst.exports.bxwasm_last_error(), 0n);
  ok(call(new W().byte(2).str("get_flow").uv(1).byte(1).str("in.txt").bytes));
  ok(call(new W().byte(3).uv(1).uv(1).uv(1).bytes));
  assert.throws(() => call(new W().byte(4).uv(1).uv(0).uv(1).batch([[null, "fine"], [null, "boom"]]).bytes), WebAssembly.RuntimeError);
  const e = new R(slice(inst.exports.bxwasm_last_error()));
  assert.equal(e.str(), "error calling mapper in step g.explode.flat_map_batch: boom at boom");
  assert.match(e.str(), /^at .*tests\/flows\.ts:\d+:\d+$/);
  assert.equal(e.uv(), 2n);
  assert.equal(e.byte(), 0);
  assert.equal(e.str(), "");
  e.end();
  assert.match(stderr, /boom at boom/);
});

test("a throw in a stateful logic names the key", () => {
  built();
  assert.throws(() => call(new W().byte(5).uv(2).v(0).batch([["k1", "boom"]]).bytes), WebAssembly.RuntimeError);
  const e = new R(slice(inst.exports.bxwasm_last_error()));
  assert.equal(e.str(), 'error calling on_batch in step t.rec for key "k1": boom in the recorder');
  e.str();
  assert.equal(e.uv(), 3n);
  assert.deepEqual([e.byte(), e.str()], [1, "k1"]);
});

function graph(r) {
  const g = { flow: r.str(), streams: Number(r.uv()), steps: [] };
  for (let n = Number(r.uv()); n > 0; n--) {
    const st = { id: r.str(), kind: r.byte(), ins: [], outs: [] };
    for (let k = Number(r.uv()); k > 0; k--) st.ins.push(Number(r.uv()));
    for (let k = Number(r.uv()); k > 0; k--) st.outs.push(Number(r.uv()));
    st.conn = r.byte();
    st.arg = r.str();
    g.steps.push(st);
  }
  r.end();
  return g;
}

const takeLog = () => new TextDecoder().decode(slice(inst.exports.t_log()));

test("guest connectors: dynamic source, partitioned and dynamic sinks; host connectors", () => {
  load(partsPath);
  const g = graph(ok(call(new W().byte(2).str("flow").uv(0).bytes)));
  assert.deepEqual(g.steps.map((s) => [s.id, s.kind, s.ins, s.outs, s.conn, s.arg]), [
    ["p.dyn", 1, [], [0], 2, ""],
    ["p.show.flat_map_batch", 3, [0], [1], 0, ""],
    ["p.psink", 2, [1], [], 1, ""],
    ["p.dsink", 2, [1], [], 2, ""],
    ["p.files", 1, [], [2], 4, "logs/*.txt"],
    ["p.echo", 2, [2], [], 2, ""],
    ["p.stdin", 1, [], [3], 5, ""],
    ["p.echo2", 2, [3], [], 2, ""],
  ]);
  // The dynamic source: one partition per worker, ending with its items.
  ok(call(new W().byte(11).uv(0).uv(1).str("").uv(1).uv(2).byte(0).uv(0).bytes)).end();
  const nb = ok(call(new W().byte(12).uv(0).uv(1).v(0).bytes));
  assert.deepEqual([nb.byte(), nb.v()], [1, 0n]);
  // Unkeyed i64 values 100, 101, 102: zig-zag varints c8 01, ca 01, cc 01.
  assert.equal(show(nb.b.subarray(nb.i)), show(hex("03 0c 00 02 c8 01 00 02 ca 01 00 02 cc 01")));
  const ps = ok(call(new W().byte(14).uv(0).uv(1).v(0).bytes));
  assert.deepEqual([ps.byte(), Number(ps.uv())], [0, 0]); // dynamic: no state
  ps.end();
  ok(call(new W().byte(15).uv(0).uv(1).v(0).bytes)).end();
  assert.equal(takeLog(), "build p.dyn 1/2\nclose dyn 100");
  // The partitioned sink: its partitions, resume state, snapshots.
  const l = ok(call(new W().byte(10).uv(2).uv(0).uv(1).bytes));
  assert.deepEqual([l.uv(), l.str(), l.str()], [2n, "a", "b"]);
  ok(call(new W().byte(11).uv(2).uv(2).str("a").uv(0).uv(1).byte(1).uv(1).v(5).bytes)).end();
  ok(call(new W().byte(13).uv(2).uv(2).batch([["x", "n1"], [null, "n2"]]).bytes)).end();
  const snap = ok(call(new W().byte(14).uv(2).uv(2).v(0).bytes));
  assert.deepEqual([snap.byte(), snap.uv(), snap.v()], [1, 1n, 7n]);
  assert.equal(error(call(new W().byte(11).uv(2).uv(3).str("b").uv(0).uv(1).byte(1).uv(1).byte(0xff).bytes)).message,
    'decoding the resume state of partition "b" in step p.psink: bx: cannot decode value: bad integer value of 1 byte(s)');
  ok(call(new W().byte(15).uv(2).uv(2).v(0).bytes)).end();
  // The dynamic sink.
  ok(call(new W().byte(11).uv(3).uv(4).str("").uv(0).uv(1).byte(0).uv(0).bytes)).end();
  ok(call(new W().byte(13).uv(3).uv(4).batch([[null, "n9"]]).bytes)).end();
  assert.equal(takeLog(), "a:n1,n2\nclose a\ndyn:n9");
  // Ops on the wrong kind of step.
  assert.equal(error(call(new W().byte(13).uv(0).uv(1).batch([[null, "x"]]).bytes)).message, "bx: bad step: step 0 (p.dyn) is a input step, not output");
  assert.equal(error(call(new W().byte(12).uv(2).uv(2).v(0).bytes)).message, "bx: bad step: step 2 (p.psink) is a output step, not input");
  assert.equal(error(call(new W().byte(11).uv(4).uv(9).str("x").uv(0).uv(1).byte(0).uv(0).bytes)).message, "bx: the host runs this connector: step p.files uses the host's dir connector");
  assert.equal(error(call(new W().byte(10).uv(1).uv(0).uv(1).bytes)).message, "bx: bad step: step 1 (p.show.flat_map_batch) is a flat_map_batch step, not input or output");
});

test("the library operators: step ids, a fused chain, folds and reduces", () => {
  load(partsPath);
  const g = graph(ok(call(new W().byte(2).str("lib").uv(0).bytes)));
  assert.deepEqual(g.steps.map((s) => s.id), [
    "l.inp", "l.batch", "l.nonempty.flat_map.flat_map_batch", "l.peek", "l.dup.flat_map_batch",
    "l.tag.flat_map.flat_map_batch", "l.spread", "l.key.map.flat_map_batch",
    "l.fold.stateful.stateful_batch", "l.longest.pre_reduce", "l.longest.fold_final.stateful.stateful_batch",
    "l.both", "l.show.flat_map_batch", "l.out",
  ]);
  ok(call(new W().byte(3).uv(1).uv(5).uv(1).uv(2).uv(3).uv(4).uv(5).bytes)).end();
  const r = ok(call(new W().byte(4).uv(1).uv(3).uv(2).batch([[null, "ab"], [null, ""], [null, "x"], [null, "ac"], [null, "b"]]).bytes));
  assert.equal(r.uv(), 1n);
  assert.deepEqual(r.batch(), [[null, "ab7"], [null, "ab7"], [null, "ac7"], [null, "ac7"], [null, "b7"], [null, "b7"]]);
  r.end();
  assert.equal(takeLog(), "l.peek ab 2 3\nl.peek x 2 3\nl.peek ac 2 3\nl.peek b 2 3");
  ok(call(new W().byte(3).uv(2).uv(2).uv(7).uv(9).bytes)).end();
  const k = ok(call(new W().byte(4).uv(2).uv(0).uv(1).batch([[null, "ab"], [null, "b"], [null, "abc"], [null, "a"]]).bytes));
  assert.equal(k.uv(), 1n);
  assert.deepEqual(k.batch(), [["a", "abc"], ["b", "b"]]); // pre-reduced per key, first-seen order
  ok(call(new W().byte(5).uv(8).v(0).batch([["a", "ab"], ["b", "b"], ["a", "ac"]]).bytes));
  const e = ok(call(new W().byte(7).uv(8).v(0).bytes)).updates();
  assert.deepEqual(e.emits, [["a", "abac"], ["b", "b"]]);
  ok(call(new W().byte(5).uv(10).v(0).batch([["a", "ab"], ["a", "abc"], ["a", "xy"]]).bytes));
  assert.deepEqual(ok(call(new W().byte(7).uv(10).v(0).bytes)).updates().emits, [["a", "abc"]]);
});

test("random requests never trap", () => {
  built();
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  // Requests that would run user code on made-up keys (stateful ops with
  // the value "boom") may trap by design; random bytes hardly spell it.
  for (let i = 0; i < 20000; i++) {
    const op = 1 + rnd(16);
    const body = Array.from({ length: rnd(24) }, () => (rnd(4) === 0 ? rnd(256) : rnd(4)));
    const resp = call(Uint8Array.from([op, ...body]));
    assert.ok(resp.length > 0 && (resp[0] === 0 || resp[0] === 1), "bad status for " + show([op, ...body]));
    if (op === 2 && resp[0] === 0) built(); // a random build replaced the flow
  }
});

// ---- stream connectors (tests/streams.ts) ----

const streamsPath = process.argv[4];
const text = (ref) => new TextDecoder().decode(slice(ref));

test("stream connectors write the Go SDK's JSON arguments", () => {
  load(streamsPath);
  const g = graph(ok(call(new W().byte(2).str("streams").uv(0).bytes)));
  // The bytes abi.StreamConn.Encode writes for the same options, by hand.
  assert.deepEqual(g.steps.filter((s) => s.conn !== 0).map((s) => [s.id, s.kind, s.conn, s.arg]), [
    ["s.js0", 1, 7, String.raw`{"conn":"events","stream":"ORDERS"}`],
    ["s.js1", 1, 7, String.raw`{"conn":"events","stream":"ORDERS","subjects":["orders.eu","orders.us"],"start":"new","tail":true,"batch":100}`],
    ["s.js2", 1, 7, String.raw`{"conn":"events","stream":"ORDERS","partition_by":"orders.\u003e","start":"time","start_time":"2024-01-02T03:04:05.5Z","format":"payload"}`],
    ["s.nats", 1, 8, String.raw`{"conn":"bus","subjects":["a.b","c"]}`],
    ["s.k1", 1, 9, String.raw`{"conn":"k","topics":["t1","t2"],"start":"new","batch":10}`],
    ["s.k2", 1, 9, String.raw`{"conn":"k","topics":["t"],"start":"time","start_time":"2024-01-02T03:04:05Z","tail":true}`],
    ["s.jsout", 2, 7, String.raw`{"conn":"out","subject":"counts","partitions":3}`],
    ["s.jsmout", 2, 7, String.raw`{"conn":"out","format":"message"}`],
    ["s.natsout", 2, 8, String.raw`{"conn":"bus","subject":"replies"}`],
    ["s.kout", 2, 9, String.raw`{"conn":"k","topic":"out"}`],
    ["s.kmout", 2, 9, String.raw`{"conn":"k","topic":"out","format":"message"}`],
  ]);
  // the host runs them: no guest partitions
  assert.match(error(call(new W().byte(10).uv(0).uv(0).uv(1).bytes)).message, /uses the host's jetstream connector/);
});

test("JSON strings are escaped as Go escapes them", () => {
  load(streamsPath);
  const want = [
    String.raw`"plain"`, String.raw`""`, String.raw`"q\"b\\s/"`, String.raw`"\b\f\n\r\t"`,
    String.raw`"\u0000\u0001\u001f` + "\x7f" + `"`, String.raw`"\u003ca\u003e\u0026b"`,
    String.raw`"é\u2028\u2029€😀"`, String.raw`"lone \ufffd high"`, String.raw`"lone \ufffd low"`, String.raw`"cut \ufffd"`,
  ];
  want.forEach((w, i) => assert.equal(text(inst.exports.t_escape(i)), w, "case " + i));
  assert.equal(text(inst.exports.t_escape(want.length)), "");
});

test("start times are written as Go writes RFC 3339 with nanoseconds", () => {
  load(streamsPath);
  for (const [t, want] of [
    [0n, "1970-01-01T00:00:00Z"], [-1n, "1969-12-31T23:59:59.999999999Z"],
    [1704164645500000000n, "2024-01-02T03:04:05.5Z"], [951782400123456789n, "2000-02-29T00:00:00.123456789Z"],
    [-315619200000000000n, "1960-01-01T00:00:00Z"],
  ]) assert.equal(text(inst.exports.t_time(t)), want, "time " + t);
});

const SAMPLE = "09 6f 72 64 65 72 73 2e 65 75 01 6b 02 68 69 02 01 61 01 31 01 62 00 08 6f 72 64 65 72 73 2e 3e ac 02 03";

function decodeMessage(bytes) {
  const p = Number(inst.exports.t_input(bytes.length)) >>> 0;
  mem().set(bytes, p);
  return text(inst.exports.t_decode());
}

test("messages encode and decode the hand-written bytes", () => {
  load(streamsPath);
  assert.equal(show(slice(inst.exports.t_sample())), SAMPLE);
  assert.equal(decodeMessage(hex(SAMPLE)), "orders.eu|6b|68 69|a=31;b=;|orders.>|300|-2|31|" + SAMPLE);
});

test("messages round trip", () => {
  load(streamsPath);
  const msg = (subject, key, value, headers, partition, seq, time) => {
    const w = new W().str(subject).uv(key.length).raw(key).uv(value.length).raw(value).uv(headers.length);
    for (const [n, v] of headers) w.str(n).uv(v.length).raw(v);
    return w.str(partition).uv(seq).v(time).bytes;
  };
  const big = new Array(300).fill(7);
  const cases = [
    [msg("", [], [], [], "", 0, 0), "|||||0|0|-|00 00 00 00 00 00 00"],
    [msg("t", [0, 255], big, [["x", [1]], ["x", [0, 255]]], "t/3", 2n ** 64n - 1n, -(2n ** 63n)),
      "t|00 ff|" + show(big) + "|x=01;x=00 ff;|t/3|18446744073709551615|-9223372036854775808|-|"],
    [msg("é", [], [104, 105], [["a", []]], "p", 1, 1700000000123456789n), "é||68 69|a=;|p|1|1700000000123456789||"],
  ];
  for (const [b, want] of cases) {
    const got = decodeMessage(b);
    assert.ok(got.startsWith(want), got);
    assert.ok(got.endsWith("|" + show(b)), "re-encoded: " + got);
  }
});

test("truncated and malformed messages are refused", () => {
  load(streamsPath);
  const full = hex(SAMPLE);
  for (let n = 0; n < full.length; n++) assert.match(decodeMessage(full.subarray(0, n)), /^error: /, "cut at " + n);
  assert.equal(decodeMessage(hex(SAMPLE + " 00")), "error: 1 trailing byte(s)");
  assert.match(decodeMessage(hex("05 61")), /^error: length 5/);
  assert.match(decodeMessage(hex("00 00 00 ff ff ff ff 0f")), /^error: count/);
  assert.match(decodeMessage(hex("00 00 00 00 00 ff ff ff ff ff ff ff ff ff ff 01 00")), /^error: varint/);
});

test("a message source's items decode as Message in a chain", () => {
  load(streamsPath);
  ok(call(new W().byte(2).str("streams").uv(0).bytes));
  ok(call(new W().byte(3).uv(1).uv(1).uv(1).bytes)).end(); // chain 1 = [s.key]
  const m = hex(SAMPLE);
  const body = new W().uv(0).uv(m.length).raw(m);
  const r = ok(call(new W().byte(4).uv(1).uv(0).uv(0).uv(1).uv(body.b.length).raw(body.b).bytes));
  assert.equal(r.uv(), 1n);
  const n = r.uv(), len = Number(r.uv());
  assert.equal(n, 1n);
  const want = new W().uv(10).raw(new TextEncoder().encode("orders.eu")).uv(m.length).raw(m);
  assert.equal(show(r.b.subarray(r.i, r.i + len)), show(want.bytes));
  const bad = new W().uv(0).uv(2).raw([5, 97]);
  assert.match(error(call(new W().byte(4).uv(1).uv(0).uv(0).uv(1).uv(bad.b.length).raw(bad.b).bytes)).message, /cannot decode/);
});

const windowsPath = process.argv[5];

test("windowing: Bytewax's cases, its known bugs, a restore mid-window and random streams (tests/windows.ts)", () => {
  load(windowsPath);
  stderr = "";
  const failed = inst.exports.windowTests();
  assert.equal(failed, 0, failed + " windowing check(s) failed:\n" + stderr);
});

test("count_window through the ABI: step ids, Bytewax's test_count_window, EOF closing the rest", () => {
  load(windowsPath);
  const g = graph(ok(call(new W().byte(2).str("counts").uv(0).bytes)));
  assert.deepEqual(g.steps.map((s) => s.id), [
    "w.inp", "w.win.keyed.map.flat_map_batch", "w.win.sum.window.stateful_batch",
    "w.win.sum.window.unwrap_down.flat_map_value.flat_map.flat_map_batch",
    "w.win.sum.window.unwrap_late.flat_map_value.flat_map.flat_map_batch",
    "w.win.sum.window.unwrap_meta.flat_map_value.flat_map.flat_map_batch", "w.show.flat_map_batch", "w.out",
  ]);
  ok(call(new W().byte(3).uv(1).uv(1).uv(1).bytes)).end(); // chain 1 = [keyed]
  ok(call(new W().byte(3).uv(2).uv(2).uv(3).uv(6).bytes)).end(); // chain 2 = [unwrap_down, show]
  const keyed = (vals) => {
    const r = ok(call(new W().byte(4).uv(1).uv(0).uv(0).batch(vals.map((v) => [null, v])).bytes));
    assert.equal(r.uv(), 1n);
    const items = r.batch();
    r.end();
    return items;
  };
  const downs = [];
  const step = (items) => {
    const u = ok(call(new W().byte(5).uv(2).v(0).batch(items).bytes)).updates();
    const enc = new W().batch(u.emits).bytes;
    const r = ok(call(new W().byte(4).uv(2).uv(0).uv(0).raw(enc).bytes));
    assert.equal(r.uv(), 1n);
    downs.push(...r.batch().map(([k, v]) => v));
    return u.keys;
  };
  // Bytewax: a@0, a@4, b@8, a@12, a@13 in 10-wide windows, no wait
  for (const v of ["0:a", "4:a", "8:b", "12:a", "13:a"]) step(keyed([v]));
  assert.deepEqual(downs, ["a 0 2"]);
  const u = ok(call(new W().byte(7).uv(2).v(0).bytes)).updates();
  assert.deepEqual(u.keys, [["a", 1, 0n], ["b", 1, 0n]]);
  const r = ok(call(new W().byte(4).uv(2).uv(0).uv(0).raw(new W().batch(u.emits).bytes).bytes));
  r.uv();
  assert.deepEqual(r.batch().map(([k, v]) => v), ["a 1 2", "b 0 1"]);
});

let failed = 0;
for (const [name, fn] of tests) {
  try {
    fn();
    console.log("ok   " + name);
  } catch (err) {
    failed++;
    console.log("FAIL " + name + "\n     " + String(err.message).split("\n").join("\n     "));
  }
}
console.log(`${tests.length - failed}/${tests.length} passed`);
process.exit(failed ? 1 : 0);
