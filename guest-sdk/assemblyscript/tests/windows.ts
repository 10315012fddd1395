// The windowing tests (tests/run.mjs calls windowTests and builds the
// flows): hand-worked cases of Bytewax 0.21's semantics and of its known
// bugs, driven on a key's logic with a fake system clock, a snapshot
// encoded and restored mid-window, and random streams against a
// brute-force model. Times are small integers (nanoseconds).

import {
  Args, Dataflow, KV, register, input, output, map, StdinSource, StdOutSink, eventClock, systemClock,
  TumblingWindower, WindowValue, foldWindow, countWindow,
} from "../assembly/index";
import { WindowConf, WindowFactory, WindowLogic, WindowEvent, WindowState } from "../assembly/windowing";
import { encodeToBytes, decodeValueAt, takeValueErr } from "../assembly/values";
import { NO_NOTIFY } from "../assembly/stateful";
import { printErr } from "../assembly/wasi";

let fakeNow: i64 = 1000;
function getNow(): i64 { return fakeNow; }

/** Values are "T" or "T:tag": their event time is T. */
function tsOf(v: string): i64 {
  const c = v.indexOf(":");
  return I64.parseInt(c < 0 ? v : v.substring(0, c));
}
function empty(): string { return ""; }
function append(acc: string, v: string): string { return acc + v + ","; }

type Logic = WindowLogic<string, string>;

let conf: WindowConf<string, string> = newConf(false, true, 0, 10, 0);

function newConf(system: bool, ordered: bool, wait: i64, length: i64, align: i64): WindowConf<string, string> {
  const clock = system ? systemClock<string>() : eventClock<string>(tsOf, wait);
  clock.now = getNow;
  return new WindowConf<string, string>(clock, new TumblingWindower(length, align), empty, append, ordered);
}

function fresh(): Logic {
  return changetype<Logic>(new WindowFactory<string, string>(conf).build(false, changetype<WindowState<string, string>>(0)));
}

/** restored is a logic built from the encoding of l's snapshot. */
function restored(l: Logic): Logic {
  const b = encodeToBytes<WindowState<string, string>>(l.snapshot());
  const s = decodeValueAt<WindowState<string, string>>(b.dataStart, b.length);
  const e = takeValueErr();
  if (e.length > 0) fail("snapshot does not decode: " + e);
  return changetype<Logic>(new WindowFactory<string, string>(conf).build(true, s));
}

/** render shows a call's events and then the notify time or "drop". */
function render(events: Array<WindowEvent<string, string>>, discard: bool, l: Logic): string {
  let s = "";
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.tag == 0x45) s += "E " + e.id.toString() + " " + e.acc + ";";
    else if (e.tag == 0x4c) s += "L " + e.id.toString() + " " + e.late + ";";
    else s += "M " + e.id.toString() + " " + e.open.toString() + " " + e.close.toString() + ";";
  }
  if (discard) return s + "|drop";
  const at = l.notifyAt();
  return s + "|" + (at == NO_NOTIFY ? "none" : at.toString());
}

function batch(l: Logic, values: Array<string>): string {
  const out = new Array<WindowEvent<string, string>>();
  return render(out, l.onBatch(values, out), l);
}
function notify(l: Logic): string {
  const out = new Array<WindowEvent<string, string>>();
  return render(out, l.onNotify(out), l);
}
function eof(l: Logic): string {
  const out = new Array<WindowEvent<string, string>>();
  return render(out, l.onEOF(out), l);
}

let failures = 0;
function fail(msg: string): void {
  failures++;
  printErr(msg);
}
function eq(what: string, got: string, want: string): void {
  if (got != want) fail(what + ":\n  got  " + got + "\n  want " + want);
}

/** Out of order within the wait, late values, the system clock moving the
 * watermark, EOF; ordered folds in timestamp order. */
function eventClockCases(): void {
  conf = newConf(false, true, 5, 10, 0);
  fakeNow = 1000;
  const l = fresh();
  eq("12 waits until the watermark (7) reaches it", batch(l, ["12"]), "|1005");
  eq("8 and 9 are on time", batch(l, ["9", "8"]), "|1001");
  eq("window 0 closes in time order", batch(l, ["20"]), "E 0 8,9,;M 0 0 10;|1005");
  eq("late values", batch(l, ["3:x", "14"]), "L 0 3:x;L 1 14;|1005");
  fakeNow = 1005;
  eq("the system clock moves the watermark", notify(l), "E 1 12,;M 1 10 20;|1015");
  eq("EOF closes every window", eof(l), "E 2 20,;M 2 20 30;|drop");
  conf = newConf(false, false, 5, 10, 0);
  fakeNow = 1000;
  const u = fresh();
  eq("unordered: arrival order", batch(u, ["9", "8"]), "|1006");
  eq("unordered EOF", eof(u), "E 0 9,8,;M 0 0 10;|drop");
}

/** Bytewax #470: the watermark never goes back, even with the system
 * clock going back. */
function outOfOrderCases(): void {
  conf = newConf(false, true, 5, 10, 0);
  fakeNow = 1000;
  const l = fresh();
  eq("wm 2", batch(l, ["7"]), "|1005");
  fakeNow = 1002;
  eq("8 would make it 3: it stays 4", batch(l, ["8", "3"]), "L 0 3;|1005");
  fakeNow = 990;
  eq("the clock goes back", batch(l, ["2"]), "L 0 2;|1005");
  eq("notify holds", notify(l), "|1005");
}

/** Bytewax #578: a system-clock key whose window closed is dropped and
 * asks for no notification. */
function systemClockCases(): void {
  conf = newConf(true, true, 0, 10, 0);
  fakeNow = 1000;
  const l = fresh();
  eq("one window", batch(l, ["v1", "v2"]), "|1010");
  fakeNow = 1009;
  eq("not yet", notify(l), "|1010");
  fakeNow = 1010;
  eq("closed and dropped", notify(l), "E 100 v1,v2,;M 100 1000 1010;|drop");
}

/** Bytewax #413: exact window ids, whatever alignTo. */
function windowIdCases(): void {
  const cases: Array<Array<i64>> = [
    [0, 10, 0, 0], [9, 10, 0, 0], [10, 10, 0, 1], [-1, 10, 0, -1], [-11, 10, 0, -2], [5, 10, 3, 0], [2, 10, 3, -1],
    [-7, 10, 3, -1], [i64.MAX_VALUE, 7, 0, 1317624576693539401], [i64.MIN_VALUE, 7, 0, -1317624576693539402],
    [i64.MAX_VALUE, 1, i64.MIN_VALUE + 1, i64.MAX_VALUE], [i64.MIN_VALUE, 1, i64.MAX_VALUE, i64.MIN_VALUE],
    [1700000000000000000, 60000000000, i64.MIN_VALUE + 5, 182056200],
    [i64.MIN_VALUE + 3, 1000000000, i64.MAX_VALUE - 4, -18446744074],
  ];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    eq("window id of " + c[0].toString() + " (length " + c[1].toString() + ", align " + c[2].toString() + ")",
      new TumblingWindower(c[1], c[2]).windowId(c[0]).toString(), c[3].toString());
  }
  conf = newConf(false, true, 0, 60000000000, i64.MIN_VALUE + 5);
  const l = fresh();
  batch(l, ["1700000000000000000"]);
  eq("align far in the past", eof(l), "E 182056200 1700000000000000000,;M 182056200 1699999963145224197 1700000023145224197;|drop");
}

/** A logic restored from its encoded snapshot mid-window goes on as the
 * one that was not stopped. */
function runSteps(restartAfter: i32): string {
  conf = newConf(false, true, 5, 10, 0);
  fakeNow = 1000;
  const steps = [["12", "3"], ["9", "8"], ["1", "13"], ["21", "30"]];
  let l = fresh();
  let all = "";
  for (let i = 0; i < steps.length; i++) {
    all += batch(l, steps[i]) + "\n";
    if (i == restartAfter) l = restored(l);
  }
  return all + eof(l);
}

function snapshotCases(): void {
  const straight = runSteps(-1);
  for (let at = 0; at < 3; at++) eq("restored after batch " + at.toString(), runSteps(at), straight);
  if (!straight.includes("E 0 8,9,;") || !straight.includes("E 1 12,13,;")) fail("the windows were not open across the restart:\n" + straight);
}

// ---- property test ----

let rng: u64 = 1;
function rand(lo: i64, hi: i64): i64 {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return lo + <i64>(rng % <u64>(hi - lo + 1));
}

class MItem {
  constructor(public ts: i64, public seq: i32, public late: bool) {}
}

function sortLines(s: string): string {
  const bar = s.indexOf("|");
  const parts = (bar < 0 ? s : s.substring(0, bar)).split(";").filter((x: string): bool => x.length > 0);
  parts.sort();
  return parts.join(";");
}

/** modelCloses renders what the windows whose close the watermark wm
 * reached emit, once each: their on-time values in (time, arrival) order. */
function modelCloses(items: Array<MItem>, wm: i64, done: Set<i64>): string {
  const w = conf.windower;
  let s = "";
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (it.late) continue;
    const id = w.windowId(it.ts);
    const open = w.alignTo + id * w.length, close = open + w.length;
    if (done.has(id) || close > wm) continue;
    done.add(id);
    const mine = new Array<MItem>();
    for (let j = 0; j < items.length; j++) if (!items[j].late && w.windowId(items[j].ts) == id) mine.push(items[j]);
    mine.sort((a: MItem, b: MItem): i32 => (a.ts != b.ts ? (a.ts < b.ts ? -1 : 1) : a.seq - b.seq));
    let acc = "";
    for (let j = 0; j < mine.length; j++) acc += mine[j].ts.toString() + ":" + mine[j].seq.toString() + ",";
    s += "E " + id.toString() + " " + acc + ";M " + id.toString() + " " + open.toString() + " " + close.toString() + ";";
  }
  return s;
}

function propertyRun(seed: u64): void {
  rng = seed;
  conf = newConf(false, true, rand(0, 20), rand(1, 15), rand(-30, 30));
  fakeNow = 1000;
  let l = fresh();
  const items = new Array<MItem>();
  const done = new Set<i64>();
  let wm = i64.MIN_VALUE;
  let base = rand(0, 50);
  let seq = 0;
  while (seq < 300) {
    const n = <i32>rand(1, 8);
    const values = new Array<string>();
    let want = "";
    for (let i = 0; i < n; i++) {
      const it = new MItem(base + rand(-25, 10), seq++, false);
      base += rand(0, 3);
      it.late = it.ts < wm;
      if (it.ts - conf.clock.wait > wm) wm = it.ts - conf.clock.wait;
      items.push(it);
      const v = it.ts.toString() + ":" + it.seq.toString();
      values.push(v);
      if (it.late) want += "L " + conf.windower.windowId(it.ts).toString() + " " + v + ";";
    }
    want += modelCloses(items, wm, done);
    const got = batch(l, values);
    if (sortLines(got) != sortLines(want)) { eq("seed " + seed.toString() + " batch at " + seq.toString(), sortLines(got), sortLines(want)); return; }
    if (rand(0, 9) == 0) l = restored(l);
  }
  eq("seed " + seed.toString() + " EOF", sortLines(eof(l)), sortLines(modelCloses(items, i64.MAX_VALUE, done)));
}

/** Runs every windowing test and returns how many checks failed (each
 * printed on stderr). */
export function windowTests(): i32 {
  failures = 0;
  eventClockCases();
  outOfOrderCases();
  systemClockCases();
  windowIdCases();
  snapshotCases();
  for (let s: u64 = 1; s <= 40 && failures == 0; s++) propertyRun(s * 0x9e3779b97f4a7c15);
  return failures;
}

// ---- flows, for their step ids and a run through the ABI ----

function valueTs(v: string): i64 { return tsOf(v); }
function userOf(v: string): string { return v.substring(v.indexOf(":") + 1); }
function show(kv: KV<WindowValue<i64>>): string { return kv.key + " " + kv.value.windowId.toString() + " " + kv.value.value.toString(); }

function counts(a: Args): Dataflow | null {
  const flow = new Dataflow("w");
  const inp = input<string>("inp", flow, StdinSource());
  const o = countWindow<string>("win", inp, eventClock<string>(valueTs, 0), new TumblingWindower(10, 0), userOf);
  output<string>("out", map<KV<WindowValue<i64>>, string>("show", o.down, show), StdOutSink());
  return flow;
}

register("counts", "", counts);
