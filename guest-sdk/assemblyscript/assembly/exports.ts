// The exports the bxwasm host calls (docs/abi.md section 4). build.sh
// compiles this file as an entry next to yours, so your module has them
// without writing anything.

import { dispatch } from "./dispatch";
import { lastErrorRef } from "./errors";
import { monoNanos } from "./wasi";

/** The ABI version this SDK speaks. */
export function bxwasm_abi_version(): i32 {
  return 1;
}

// The request buffer: one buffer, doubled when a request does not fit. A
// global holds it, so the garbage collector keeps it (and never moves it).
let request = new ArrayBuffer(4096);

/** Returns a buffer of at least size bytes for the next request. */
export function bxwasm_buffer(size: i32): usize {
  if (size > request.byteLength) {
    let cap = request.byteLength;
    while (cap < size) cap = cap << 1 > cap ? cap << 1 : size;
    request = new ArrayBuffer(cap);
  }
  return changetype<usize>(request);
}

// With the minimal runtime (build.sh's choice) nothing collects garbage by
// itself: the SDK collects between calls, where no reference lives on the
// stack (everything live hangs off globals). It paces collections by their
// cost: it collects once four times as long as the last collection took
// has passed since it ended, so collecting takes at most about a fifth of
// the time, and a small heap (cheap to collect) is collected often while a
// large one accumulates garbage in proportion. It also collects whenever
// the heap had to grow since the last collection.
let pagesAtCollect: i32 = 0;
let lastCollectEnd: i64 = 0;
let collectCost: i64 = 0;

function collect(): void {
  if (ASC_RUNTIME != 1) return;
  const now = monoNanos();
  if (memory.size() > pagesAtCollect || now - lastCollectEnd >= collectCost << 2) {
    __collect();
    lastCollectEnd = monoNanos();
    collectCost = lastCollectEnd - now;
    pagesAtCollect = memory.size();
  }
}

/** Runs the request of len bytes in the buffer; returns the response as
 * (ptr << 32) | len. The response lives in a global writer until the next
 * call. */
export function bxwasm_call(len: i32): i64 {
  collect();
  if (len < 0 || len > request.byteLength) len = 0;
  const w = dispatch(changetype<usize>(request), len);
  return (<i64>w.ptr << 32) | <i64>w.len;
}

/** After a trap: the ErrorInfo the guest recorded before it, as
 * (ptr << 32) | len, or 0 (no allocation). */
export function bxwasm_last_error(): i64 {
  return lastErrorRef();
}
