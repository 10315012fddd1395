// Windowing with Bytewax 0.21's semantics (bytewax.windowing): the system
// and event clocks, the tumbling windower, and foldWindow / countWindow
// built on stateful_batch, each returning Bytewax's down, late and meta
// streams.
//
// Times are Unix nanoseconds (i64), durations nanoseconds. A key's logic
// keeps its clock's state, its open windows (in the order they opened)
// with their accumulators, and (ordered mode) the values not yet due; that
// is its snapshot, so windows survive a resume and a rescale. Where this
// differs from Bytewax, on purpose: window ids are integer arithmetic,
// never a loop from alignTo (#413); the watermark never goes back, so
// out-of-order values are late or on time, never an assertion (#470);
// notifyAt is the system time at which the watermark reaches the earliest
// close (or the earliest value not yet due), and none when nothing is
// open (#578); a key with nothing open is discarded (bounded state).

import { Writer, Reader } from "./codec";
import { KV, RunCtx, KIND_FLAT_MAP_BATCH } from "./batch";
import { Stream, TypedStep, addChainStep, enterPath, exitN } from "./flow";
import { StatefulBatchLogic, LogicFactory, NO_NOTIFY, statefulBatchBy } from "./stateful";
import { putValue, decodeValue, zeroOf } from "./values";
import { nowNanos } from "./wasi";
import { keyOn } from "./lib";
import { raise } from "./errors";

const MIN: i64 = i64.MIN_VALUE;
const MAX: i64 = i64.MAX_VALUE;

function satAdd(a: i64, b: i64): i64 {
  const r = a + b;
  if (b > 0 && r < a) return MAX;
  if (b < 0 && r > a) return MIN;
  return r;
}

function satSub(a: i64, b: i64): i64 {
  const r = a - b;
  if (b < 0 && r < a) return MAX;
  if (b > 0 && r > a) return MIN;
  return r;
}

// floorDiv and floorMod for b > 0.
function floorDiv(a: i64, b: i64): i64 {
  const q = a / b;
  return a % b != 0 && a < 0 ? q - 1 : q;
}

function floorMod(a: i64, b: i64): i64 {
  const m = a % b;
  return m < 0 ? m + b : m;
}

// ---- clocks and windowers ----

/** A sense of time for a windowing operator: Bytewax's SystemClock or
 * EventClock. `now` reads the system time (nowNanos); tests replace it. */
export class Clock<V> {
  /** The system time, Unix ns. */
  now: () => i64 = nowNanos;
  constructor(public event: bool, public ts: (v: V) => i64, public wait: i64) {}
}

/** SystemClock: a value's timestamp and the watermark are the system time. */
export function systemClock<V>(): Clock<V> { return new Clock<V>(false, (v: V): i64 => 0, 0); }

/** EventClock: a value's timestamp is ts(value); a key's watermark is the
 * latest timestamp seen minus waitForSystemDuration, plus the system time
 * passed since that timestamp was seen. It never goes back. */
export function eventClock<V>(ts: (v: V) => i64, waitForSystemDuration: i64): Clock<V> {
  return new Clock<V>(true, ts, waitForSystemDuration);
}

/** Tumbling windows of `length` ns, one of them starting at alignTo: window
 * floor((t - alignTo) / length) holds [open, open + length). */
export class TumblingWindower {
  constructor(public length: i64, public alignTo: i64) {}

  /** The id of the window holding t, for any t and alignTo. */
  windowId(t: i64): i64 {
    // t = qt*L + rt and a = qa*L + ra: floor((t - a) / L) = qt - qa - (rt < ra)
    const q = satSub(floorDiv(t, this.length), floorDiv(this.alignTo, this.length));
    return floorMod(t, this.length) < floorMod(this.alignTo, this.length) ? satSub(q, 1) : q;
  }

  /** The open time of the window holding t. */
  openOf(t: i64): i64 {
    let r = floorMod(t, this.length) - floorMod(this.alignTo, this.length);
    if (r < 0) r += this.length;
    return satSub(t, r);
  }
}

// ---- what the operators emit ----

/** A value of the down or late stream: the window's id and a value. */
export class WindowValue<T> {
  constructor(public windowId: i64 = 0, public value: T = zeroOf<T>()) {}
  encodeTo(w: Writer): void {
    w.varint(this.windowId);
    putValue<T>(w, this.value);
  }
  decodeFrom(r: Reader): void {
    this.windowId = r.varint();
    this.value = readSub<T>(r);
  }
}

/** A value of the meta stream: a window's id, open and close time. */
export class WindowMeta {
  constructor(public windowId: i64 = 0, public open: i64 = 0, public close: i64 = 0) {}
  encodeTo(w: Writer): void {
    w.varint(this.windowId);
    w.varint(this.open);
    w.varint(this.close);
  }
  decodeFrom(r: Reader): void {
    this.windowId = r.varint();
    this.open = r.varint();
    this.close = r.varint();
  }
}

/** The streams of a windowing operator (Bytewax's WindowOut), keyed with
 * the input's keys. */
export class WindowOut<V, W> {
  constructor(
    /** (window id, value) of each window as it closes. */
    public down: Stream<KV<WindowValue<W>>>,
    /** (window id, value) of values that came after the watermark passed them. */
    public late: Stream<KV<WindowValue<V>>>,
    /** (window id, open, close) of each window as it closes. */
    public meta: Stream<KV<WindowMeta>>,
  ) {}
}

/** Reads a length-prefixed value written by putValue. */
function readSub<T>(r: Reader): T {
  const n = r.len();
  const sub = new Reader(r.pos, n);
  const v = decodeValue<T>(sub);
  if (!sub.finish()) r.fail(sub.err);
  r.skip(n);
  return v;
}

const EV_DOWN: u8 = 0x45, EV_LATE: u8 = 0x4c, EV_META: u8 = 0x4d; // 'E', 'L', 'M'

/** What the stateful step emits; the unwrap steps split it by tag. */
export class WindowEvent<V, W> {
  constructor(public tag: u8 = 0, public id: i64 = 0, public late: V = zeroOf<V>(), public acc: W = zeroOf<W>(),
    public open: i64 = 0, public close: i64 = 0) {}
  encodeTo(w: Writer): void {
    w.byte(this.tag);
    w.varint(this.id);
    if (this.tag == EV_DOWN) putValue<W>(w, this.acc);
    else if (this.tag == EV_LATE) putValue<V>(w, this.late);
    else { w.varint(this.open); w.varint(this.close); }
  }
  decodeFrom(r: Reader): void {
    this.tag = r.byte();
    this.id = r.varint();
    if (this.tag == EV_DOWN) this.acc = readSub<W>(r);
    else if (this.tag == EV_LATE) this.late = readSub<V>(r);
    else if (this.tag == EV_META) { this.open = r.varint(); this.close = r.varint(); }
    else r.fail("bad window event tag " + this.tag.toString());
  }
}

// ---- a key's state ----

/** An open window: its id, open time and accumulator. */
export class OpenWindow<W> {
  constructor(public id: i64 = 0, public open: i64 = 0, public acc: W = zeroOf<W>()) {}
}

/** A value not yet due (ordered mode): its timestamp and arrival order. */
export class Queued<V> {
  constructor(public ts: i64 = 0, public value: V = zeroOf<V>(), public seq: i32 = 0) {}
}

/** The state of one key of a window step, and its snapshot. now is the
 * latest system time seen (it never goes back); for the event clock the
 * watermark is base + (now - sysMax). */
export class WindowState<V, W> {
  now: i64 = 0;
  sysMax: i64 = 0;
  base: i64 = MIN;
  wins: Array<OpenWindow<W>> = [];
  queue: Array<Queued<V>> = [];

  encodeTo(w: Writer): void {
    w.varint(this.now);
    w.varint(this.sysMax);
    w.varint(this.base);
    w.uvarint(<u64>this.wins.length);
    for (let i = 0; i < this.wins.length; i++) {
      const win = unchecked(this.wins[i]);
      w.varint(win.id);
      w.varint(win.open);
      putValue<W>(w, win.acc);
    }
    w.uvarint(<u64>this.queue.length);
    for (let i = 0; i < this.queue.length; i++) {
      w.varint(unchecked(this.queue[i]).ts);
      putValue<V>(w, unchecked(this.queue[i]).value);
    }
  }

  decodeFrom(r: Reader): void {
    this.now = r.varint();
    this.sysMax = r.varint();
    this.base = r.varint();
    const nw = r.count(3);
    for (let i = 0; i < nw; i++) {
      const id = r.varint();
      const open = r.varint();
      this.wins.push(new OpenWindow<W>(id, open, readSub<W>(r)));
    }
    const nq = r.count(2);
    for (let i = 0; i < nq; i++) {
      const ts = r.varint();
      this.queue.push(new Queued<V>(ts, readSub<V>(r), i));
    }
  }
}

// ---- the logic ----

/** How a window step folds: the configuration every key's logic shares. */
export class WindowConf<V, W> {
  constructor(public clock: Clock<V>, public windower: TumblingWindower, public builder: () => W,
    public folder: (acc: W, v: V) => W, public ordered: bool) {}
}

/** One key's window logic (Bytewax's _WindowLogic with a fold). */
export class WindowLogic<V, W> extends StatefulBatchLogic<V, WindowEvent<V, W>, WindowState<V, W>> {
  constructor(public c: WindowConf<V, W>, public s: WindowState<V, W>) { super(); }

  /** Reads the system time, which never goes back. */
  tick(): void {
    const now = this.c.clock.now();
    if (now > this.s.now) this.s.now = now;
  }

  watermark(): i64 {
    if (!this.c.clock.event) return this.s.now;
    return satAdd(this.s.base, satSub(this.s.now, this.s.sysMax));
  }

  onBatch(values: Array<V>, out: Array<WindowEvent<V, W>>): bool {
    this.tick();
    const c = this.c, s = this.s;
    let wm = this.watermark();
    for (let i = 0; i < values.length; i++) {
      const v = unchecked(values[i]);
      let ts = s.now;
      if (c.clock.event) {
        ts = c.clock.ts(v);
        const cand = satSub(ts, c.clock.wait);
        if (cand > wm) {
          s.base = cand;
          s.sysMax = s.now;
          wm = cand;
        }
      }
      if (ts < wm) out.push(new WindowEvent<V, W>(EV_LATE, c.windower.windowId(ts), v));
      else s.queue.push(new Queued<V>(ts, v, s.queue.length));
    }
    return this.flush(wm, out);
  }

  onNotify(out: Array<WindowEvent<V, W>>): bool {
    this.tick();
    return this.flush(this.watermark(), out);
  }

  onEOF(out: Array<WindowEvent<V, W>>): bool { return this.flush(MAX, out); }

  /** Folds the due values in (ordered: those the watermark reached, in
   * timestamp order; otherwise all, in arrival order), closes the windows
   * the watermark reached, in the order they opened, and reports whether
   * nothing is left (the key is then discarded). */
  flush(wm: i64, out: Array<WindowEvent<V, W>>): bool {
    const c = this.c, s = this.s;
    const due = new Array<Queued<V>>();
    const keep = new Array<Queued<V>>();
    for (let i = 0; i < s.queue.length; i++) {
      const q = unchecked(s.queue[i]);
      q.seq = i;
      if (c.ordered && q.ts > wm) keep.push(q);
      else due.push(q);
    }
    for (let i = 0; i < keep.length; i++) unchecked(keep[i]).seq = i;
    s.queue = keep;
    if (c.ordered) {
      due.sort((a: Queued<V>, b: Queued<V>): i32 => {
        if (a.ts != b.ts) return a.ts < b.ts ? -1 : 1;
        return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
      });
    }
    for (let i = 0; i < due.length; i++) this.insert(unchecked(due[i]));
    const open = new Array<OpenWindow<W>>();
    for (let i = 0; i < s.wins.length; i++) {
      const w = unchecked(s.wins[i]);
      const close = satAdd(w.open, c.windower.length);
      if (close > wm) { open.push(w); continue; }
      out.push(new WindowEvent<V, W>(EV_DOWN, w.id, zeroOf<V>(), w.acc));
      out.push(new WindowEvent<V, W>(EV_META, w.id, zeroOf<V>(), zeroOf<W>(), w.open, close));
    }
    s.wins = open;
    return open.length == 0 && keep.length == 0;
  }

  insert(q: Queued<V>): void {
    const c = this.c, s = this.s;
    const id = c.windower.windowId(q.ts);
    for (let i = 0; i < s.wins.length; i++) {
      const w = unchecked(s.wins[i]);
      if (w.id == id) { w.acc = c.folder(w.acc, q.value); return; }
    }
    s.wins.push(new OpenWindow<W>(id, c.windower.openOf(q.ts), c.folder(c.builder(), q.value)));
  }

  /** When the earliest open window closes or the earliest queued value
   * becomes due, as a system time; NO_NOTIFY when there is neither. */
  notifyAt(): i64 {
    const s = this.s;
    if (s.wins.length == 0 && s.queue.length == 0) return NO_NOTIFY;
    let at = MAX;
    for (let i = 0; i < s.wins.length; i++) {
      const close = satAdd(unchecked(s.wins[i]).open, this.c.windower.length);
      if (close < at) at = close;
    }
    for (let i = 0; i < s.queue.length; i++) if (unchecked(s.queue[i]).ts < at) at = unchecked(s.queue[i]).ts;
    if (!this.c.clock.event) return at;
    return satAdd(satSub(at, s.base), s.sysMax);
  }

  snapshot(): WindowState<V, W> { return this.s; }
}

export class WindowFactory<V, W> extends LogicFactory<V, WindowEvent<V, W>, WindowState<V, W>> {
  constructor(public c: WindowConf<V, W>) { super(); }
  build(resumed: bool, state: WindowState<V, W>): StatefulBatchLogic<V, WindowEvent<V, W>, WindowState<V, W>> {
    if (!resumed) {
      state = new WindowState<V, W>();
      state.now = state.sysMax = this.c.clock.now();
    }
    return new WindowLogic<V, W>(this.c, state);
  }
}

// ---- the operators ----

class UnwrapDown<V, W> extends TypedStep<KV<WindowEvent<V, W>>, KV<WindowValue<W>>> {
  apply(xs: Array<KV<WindowEvent<V, W>>>, rc: RunCtx): Array<KV<WindowValue<W>>> {
    const out = new Array<KV<WindowValue<W>>>();
    for (let i = 0; i < xs.length; i++) {
      const e = unchecked(xs[i]).value;
      if (e.tag == EV_DOWN) out.push(new KV<WindowValue<W>>(unchecked(xs[i]).key, new WindowValue<W>(e.id, e.acc)));
    }
    return out;
  }
}

class UnwrapLate<V, W> extends TypedStep<KV<WindowEvent<V, W>>, KV<WindowValue<V>>> {
  apply(xs: Array<KV<WindowEvent<V, W>>>, rc: RunCtx): Array<KV<WindowValue<V>>> {
    const out = new Array<KV<WindowValue<V>>>();
    for (let i = 0; i < xs.length; i++) {
      const e = unchecked(xs[i]).value;
      if (e.tag == EV_LATE) out.push(new KV<WindowValue<V>>(unchecked(xs[i]).key, new WindowValue<V>(e.id, e.late)));
    }
    return out;
  }
}

class UnwrapMeta<V, W> extends TypedStep<KV<WindowEvent<V, W>>, KV<WindowMeta>> {
  apply(xs: Array<KV<WindowEvent<V, W>>>, rc: RunCtx): Array<KV<WindowMeta>> {
    const out = new Array<KV<WindowMeta>>();
    for (let i = 0; i < xs.length; i++) {
      const e = unchecked(xs[i]).value;
      if (e.tag == EV_META) out.push(new KV<WindowMeta>(unchecked(xs[i]).key, new WindowMeta(e.id, e.open, e.close)));
    }
    return out;
  }
}

/** Bytewax's filter_map_value "unwrap_<what>": steps
 * "<scope>.<id>.flat_map_value.flat_map.flat_map_batch". */
function unwrapStep<V, W, U>(events: Stream<KV<WindowEvent<V, W>>>, id: string, step: TypedStep<KV<WindowEvent<V, W>>, U>): Stream<U> {
  const path = [id, "flat_map_value", "flat_map"];
  const inner = enterPath<KV<WindowEvent<V, W>>>(events, path);
  return exitN<U>(addChainStep<KV<WindowEvent<V, W>>, U>("flat_map_batch", inner, KIND_FLAT_MAP_BATCH, "mapper", step), path.length);
}

function checkWindow<V>(id: string, clock: Clock<V>, windower: TumblingWindower): void {
  if (windower.length <= 0) raise("step \"" + id + "\": the tumbling windower's length must be positive, got " + windower.length.toString() + "ns");
  if (clock.event && clock.wait < 0) raise("step \"" + id + "\": the event clock's waitForSystemDuration must not be negative, got " + clock.wait.toString() + "ns");
}

/** fold_window: each window of each key starts at builder() and folds its
 * values in with folder; down gets the accumulator when the window
 * closes. ordered (Bytewax's default) folds values in timestamp order,
 * holding each until the watermark reaches it; otherwise in arrival
 * order. Steps "<id>.window.stateful_batch" and
 * "<id>.window.unwrap_{down,late,meta}.flat_map_value.flat_map.flat_map_batch". */
export function foldWindow<V, W>(id: string, up: Stream<KV<V>>, clock: Clock<V>, windower: TumblingWindower,
  builder: () => W, folder: (acc: W, v: V) => W, ordered: bool = true): WindowOut<V, W> {
  checkWindow<V>(id, clock, windower);
  const inner = enterPath<KV<V>>(up, [id, "window"]);
  const conf = new WindowConf<V, W>(clock, windower, builder, folder, ordered);
  const events = statefulBatchBy<V, WindowEvent<V, W>, WindowState<V, W>>("stateful_batch", inner, new WindowFactory<V, W>(conf));
  const down = unwrapStep<V, W, KV<WindowValue<W>>>(events, "unwrap_down", new UnwrapDown<V, W>());
  const late = unwrapStep<V, W, KV<WindowValue<V>>>(events, "unwrap_late", new UnwrapLate<V, W>());
  const meta = unwrapStep<V, W, KV<WindowMeta>>(events, "unwrap_meta", new UnwrapMeta<V, W>());
  return new WindowOut<V, W>(exitN<KV<WindowValue<W>>>(down, 2), exitN<KV<WindowValue<V>>>(late, 2), exitN<KV<WindowMeta>>(meta, 2));
}

function zeroCount(): i64 { return 0; }

/** count_window: counts the items of up per key(item) and window (as
 * Bytewax, unordered). Steps "<id>.keyed.map.flat_map_batch" and
 * "<id>.sum.window...". */
export function countWindow<V>(id: string, up: Stream<V>, clock: Clock<V>, windower: TumblingWindower, key: (x: V) => string): WindowOut<V, i64> {
  checkWindow<V>(id, clock, windower);
  const inner = enterPath<V>(up, [id]);
  const keyed = keyOn<V>("keyed", inner, key);
  const o = foldWindow<V, i64>("sum", keyed, clock, windower, zeroCount, (n: i64, v: V): i64 => n + 1, false);
  return new WindowOut<V, i64>(exitN<KV<WindowValue<i64>>>(o.down, 1), exitN<KV<WindowValue<V>>>(o.late, 1), exitN<KV<WindowMeta>>(o.meta, 1));
}
