// Value codecs: how the SDK turns the values of a stream into item bytes
// and back. Strings are their raw UTF-8 bytes (so the host's file, dir,
// stdin and stdout connectors can read and write them); integers are
// zig-zag varints, floats 8 bytes little-endian, bools one byte, bytes
// themselves; an Array is a count and its elements as length-prefixed
// values; a class of yours encodes itself with encodeTo(w: Writer) and
// decodeFrom(r: Reader) (and has a constructor without arguments).

import { Writer, Reader } from "./codec";

/** The start of every value decoding error (the Go SDK's ErrDecode). */
export const DECODE = "bx: cannot decode value: ";

/** The error of the last value that did not decode, for messages. */
export let valueErr: string = "";

/** Whether T is Uint8Array, the type of raw bytes values. */
// @ts-ignore: decorator
@inline
export function isBytes<T>(): bool {
  if (isManaged<T>()) return idof<T>() == idof<Uint8Array>();
  return false;
}

/** Appends v's encoding to w, without a length. */
export function encodeValue<T>(w: Writer, v: T): void {
  if (isString<T>()) {
    w.utf8(changetype<string>(v));
  } else if (isBoolean<T>()) {
    w.bool(<bool>v);
  } else if (isInteger<T>()) {
    w.varint(<i64>v);
  } else if (isFloat<T>()) {
    w.float(<f64>v);
  } else if (isBytes<T>()) {
    const b = changetype<Uint8Array>(v);
    w.raw(b.dataStart, b.length);
  } else if (isArray<T>()) {
    const xs = changetype<T>(v);
    w.uvarint(<u64>xs.length);
    for (let i = 0; i < xs.length; i++) putValue(w, unchecked(xs[i]));
  } else if (isDefined(changetype<T>(0).encodeTo)) {
    changetype<T>(v).encodeTo(w);
  } else {
    ERROR("bxwasm: no codec for this type; use string, an integer, f64, bool, Uint8Array, an Array of those, or a class with encodeTo(w: Writer) and decodeFrom(r: Reader)");
  }
}

/** Appends v's encoding to w with its length in front. */
export function putValue<T>(w: Writer, v: T): void {
  if (isString<T>()) {
    w.str(changetype<string>(v));
  } else if (isBytes<T>()) {
    const b = changetype<Uint8Array>(v);
    w.bytes(b.dataStart, b.length);
  } else {
    const s = scratch();
    encodeValue<T>(s, v);
    w.bytes(s.ptr, s.len);
    scratchDepth--;
  }
}

// Scratch writers for values whose length is known only once encoded; one
// per nesting level (an Array of class values nests).
const scratches = new Array<Writer>();
let scratchDepth = 0;

function scratch(): Writer {
  if (scratchDepth == scratches.length) scratches.push(new Writer(64));
  const s = unchecked(scratches[scratchDepth]);
  scratchDepth++;
  s.reset();
  return s;
}

/** Decodes a whole value from the n bytes at p. On a bad encoding it sets
 * valueErr (and returns a zero value); the caller checks valueErr. */
export function decodeValueAt<T>(p: usize, n: i32): T {
  if (isString<T>()) {
    return changetype<T>(String.UTF8.decodeUnsafe(p, <usize>n));
  } else if (isBytes<T>()) {
    const b = new Uint8Array(n);
    memory.copy(b.dataStart, p, n);
    return changetype<T>(b);
  } else if (isBoolean<T>()) {
    if (n != 1) valueErr = DECODE + "a bool takes 1 byte, got " + n.toString();
    return <T>(n > 0 && load<u8>(p) != 0);
  } else if (isInteger<T>()) {
    // A varint filling the value exactly, without a Reader.
    let u: u64 = 0;
    let shift: u64 = 0;
    let i = 0;
    for (; i < n && i < 10; i++) {
      const b = load<u8>(p + <usize>i);
      u |= (<u64>(b & 0x7f)) << shift;
      shift += 7;
      if (b < 0x80) break;
    }
    if (i != n - 1 || (i == 9 && load<u8>(p + 9) > 1)) { valueErr = DECODE + "bad integer value of " + n.toString() + " byte(s)"; return <T>0; }
    const v = <i64>(u >> 1) ^ -(<i64>(u & 1));
    if (sizeof<T>() < 8 && <i64><T>v != v) valueErr = DECODE + "integer " + v.toString() + " does not fit its type";
    return <T>v;
  } else {
    const r = new Reader(p, n);
    const v = decodeValue<T>(r);
    if (!r.finish()) valueErr = DECODE + r.err;
    return v;
  }
}

/** Reads a value that takes the rest of r. */
export function decodeValue<T>(r: Reader): T {
  if (isString<T>() || isBytes<T>()) {
    const n = r.left;
    const v = decodeValueAt<T>(r.pos, n);
    r.skip(n);
    return v;
  } else if (isBoolean<T>()) {
    return <T>r.bool();
  } else if (isInteger<T>()) {
    const v = r.varint();
    if (sizeof<T>() < 8 && <i64><T>v != v) r.fail("integer " + v.toString() + " does not fit its type");
    return <T>v;
  } else if (isFloat<T>()) {
    return <T>r.float();
  } else if (isArray<T>()) {
    const n = r.count(1);
    const xs = instantiate<T>(0);
    for (let i = 0; i < n; i++) {
      const len = r.len();
      const sub = new Reader(r.pos, len);
      xs.push(decodeValue<valueof<T>>(sub));
      if (!sub.finish()) r.fail(sub.err);
      r.skip(len);
    }
    return xs;
  } else if (isDefined(changetype<T>(0).decodeFrom)) {
    const v = instantiate<T>();
    v.decodeFrom(r);
    return v;
  } else {
    ERROR("bxwasm: no codec for this type");
  }
}

/** The zero value of T: 0, false, "", an empty array or bytes, or a new
 * instance of your class. Builders get it when there is no resume state. */
export function zeroOf<T>(): T {
  if (isString<T>()) return changetype<T>("");
  else if (isBoolean<T>()) return <T>false;
  else if (isInteger<T>() || isFloat<T>()) return <T>0;
  else if (isBytes<T>()) return changetype<T>(new Uint8Array(0));
  else if (isArray<T>()) return instantiate<T>(0);
  else return instantiate<T>();
}

/** Encodes a value into new bytes (for states and snapshots). */
export function encodeToBytes<T>(v: T): Uint8Array {
  const s = scratch();
  encodeValue<T>(s, v);
  const out = s.toBytes();
  scratchDepth--;
  return out;
}

/** Returns and clears the error of the last value that did not decode. */
export function takeValueErr(): string {
  const e = valueErr;
  valueErr = "";
  return e;
}
