// window_count: counts events per key in 60-second tumbling windows of
// event time. It reads "key,unix_seconds" lines from a file, waits 10
// seconds of system time for late events, and prints one "key window_id
// count" line per window as it closes (window 0 starts at the epoch, so
// window_id * 60 is the window's start in Unix seconds). Lines that do not
// parse are skipped; an event that comes after its key's watermark passed
// it goes to the late stream, which this example drops. The same flow as
// guest-sdk/c/examples/window_count.
//
//   guest-sdk/assemblyscript/build.sh guest-sdk/assemblyscript/examples/window_count wcount-as.wasm
//   bxwasm run wcount-as.wasm:"get_flow('guest-sdk/c/examples/window_count/testdata/events.txt')" -w2

import {
  Args, Dataflow, KV, register, input, output, map, filter, FileSource, StdOutSink, trimSpace,
  eventClock, TumblingWindower, WindowValue, countWindow,
} from "../../assembly/index";

const SECOND: i64 = 1_000_000_000;

/** The key of a "key,unix_seconds" line. */
function keyOf(line: string): string { return trimSpace(line.substring(0, line.indexOf(","))); }

/** The seconds of a line, or -1 when they are not digits. */
function secondsOf(line: string): i64 {
  const s = trimSpace(line.substring(line.indexOf(",") + 1));
  if (s.length == 0) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return I64.parseInt(s);
}

function wellFormed(line: string): bool { return line.indexOf(",") > 0 && keyOf(line).length > 0 && secondsOf(line) >= 0; }

/** The event clock's timestamp getter: Unix ns. */
function eventTime(line: string): i64 { return secondsOf(line) * SECOND; }

function format(kv: KV<WindowValue<i64>>): string {
  return kv.key + " " + kv.value.windowId.toString() + " " + kv.value.value.toString();
}

function windowCount(args: Args): Dataflow | null {
  const flow = new Dataflow("window_count");
  const lines = input<string>("inp", flow, FileSource(args.str(0)));
  const events = filter<string>("parse", lines, wellFormed);
  const clock = eventClock<string>(eventTime, 10 * SECOND);
  const w = countWindow<string>("count", events, clock, new TumblingWindower(60 * SECOND, 0), keyOf);
  output<string>("out", map<KV<WindowValue<i64>>, string>("format", w.down, format), StdOutSink());
  return flow;
}

register("get_flow", "path string", windowCount);
