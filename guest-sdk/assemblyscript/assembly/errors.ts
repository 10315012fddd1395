// Where user code runs and how its failures reach the host: a site (the
// step, the function, the key) recorded before each call into user code,
// the abort handler that turns a throw into an ErrorInfo, and the
// bxwasm_last_error export the host reads after the trap.

import { Writer } from "./codec";
import { StepInfo } from "./batch";
import { writeFd } from "./wasi";

/** The step whose user code runs now, or null. */
export let siteStep: StepInfo | null = null;
/** The user function running: mapper, predicate, on_batch, ... */
export let siteWhat: string = "";
/** The stateful key being processed, if siteHasKey. */
export let siteKey: string = "";
export let siteHasKey: bool = false;
/** The partition being processed, or "". */
export let sitePart: string = "";

/** Clears the site at the start of every request. */
export function clearSite(): void {
  siteStep = null;
  siteWhat = "";
  siteKey = "";
  siteHasKey = false;
  sitePart = "";
}

/** Records that user code of step st runs next, for a key. */
export function enterKey(st: StepInfo, what: string, key: string): void {
  siteStep = st;
  siteWhat = what;
  siteKey = key;
  siteHasKey = true;
  sitePart = "";
}

/** Records that user code runs next, for a partition if part is not "". */
export function enterPart(st: StepInfo | null, what: string, part: string): void {
  siteStep = st;
  siteWhat = what;
  siteKey = "";
  siteHasKey = false;
  sitePart = part;
}

/** Renders the site in the Go SDK's words: `mapper in step f.split for key "k"`. */
export function where(): string {
  let msg = siteWhat;
  const st = siteStep;
  if (st != null) msg += " in step " + st.id;
  if (siteHasKey) msg += " for key " + quote(siteKey);
  if (sitePart.length > 0) msg += " for partition " + quote(sitePart);
  return msg;
}

/** Quotes s as Go's %q does for printable ASCII (and escapes the rest). */
export function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x09) out += "\\t";
    else if (c == 0x0d) out += "\\r";
    else if (c < 0x20 || c == 0x7f) out += "\\x" + (c < 16 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

/** Appends an ErrorInfo body located at the current site. */
export function encodeErrorInfo(w: Writer, message: string, stack: string): void {
  w.str(message);
  w.str(stack);
  const st = siteStep;
  w.uvarint(st != null ? <u64>(st.index + 1) : 0);
  w.bool(siteHasKey);
  w.str(siteHasKey ? siteKey : "");
}

// The ErrorInfo the abort handler prepared, for bxwasm_last_error.
let lastError: Writer | null = null;
let aborting = false;

/** A flow-definition error: set while building, reported without the
 * "error calling" prefix (the Go SDK's buildPanic). */
let definitionError = false;

/** Fails the build with a flow-definition error (a bad step id, a
 * duplicate id...). It traps; the host reports the message. */
export function raise(msg: string): void {
  definitionError = true;
  abort(msg);
}

/** The abort handler the build points AssemblyScript's abort at (--use
 * abort=...): `throw new Error(msg)` and failed assertions end here. It
 * records an ErrorInfo for bxwasm_last_error, prints it on stderr and
 * traps. */
export function bxAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {
  if (aborting) unreachable(); // failing while failing (out of memory): plain trap
  aborting = true;
  const msg = message != null ? message : "abort";
  let text = msg;
  if (!definitionError) {
    let what = where();
    if (what.length == 0) what = "the guest";
    text = "error calling " + what + ": " + msg;
  }
  let stack = "";
  if (fileName != null) stack = "at " + fileName + ":" + line.toString() + ":" + column.toString();
  const w = new Writer(64 + text.length * 3 + stack.length * 3);
  encodeErrorInfo(w, text, stack);
  lastError = w;
  writeFd(2, "bxwasm guest: " + text + (stack.length > 0 ? " (" + stack + ")" : "") + "\n");
  unreachable();
}

/** The body of the ErrorInfo recorded before the last trap, as
 * (ptr << 32) | len, or 0 when none was recorded. No allocation. */
export function lastErrorRef(): i64 {
  const w = lastError;
  if (w == null) return 0;
  return (<i64>w.ptr << 32) | <i64>w.len;
}
