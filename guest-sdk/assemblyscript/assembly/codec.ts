// The ABI v1 encoding primitives (docs/abi.md section 6): a growable
// Writer and a strict Reader over guest memory.

/** Writer appends the wire encoding of values to a growable buffer. */
export class Writer {
  /** The backing buffer; its first `len` bytes are the encoding so far. */
  buf: ArrayBuffer;
  /** How many bytes are written. */
  len: i32 = 0;

  constructor(cap: i32 = 256) {
    this.buf = new ArrayBuffer(cap < 16 ? 16 : cap);
  }

  /** The address of the first byte written. */
  @inline get ptr(): usize { return changetype<usize>(this.buf); }

  /** Forgets what was written, keeping the buffer. */
  reset(): void { this.len = 0; }

  /** Makes room for n more bytes and returns the address to write them at. */
  reserve(n: i32): usize {
    const need = this.len + n;
    let cap = this.buf.byteLength;
    if (need > cap) {
      while (cap < need) cap = cap * 2;
      const nb = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), this.len);
      this.buf = nb;
    }
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  /** Appends one byte. */
  byte(b: u8): void {
    const p = this.reserve(1);
    store<u8>(p, b);
    this.len += 1;
  }

  /** Appends a bool as 0x00 or 0x01. */
  bool(b: bool): void { this.byte(b ? 1 : 0); }

  /** Appends an unsigned LEB128 varint. */
  uvarint(v: u64): void {
    let p = this.reserve(10);
    const start = p;
    while (v >= 0x80) {
      store<u8>(p, <u8>(v | 0x80));
      v >>= 7;
      p++;
    }
    store<u8>(p, <u8>v);
    this.len += <i32>(p - start) + 1;
  }

  /** Appends a zig-zag signed varint. */
  varint(v: i64): void { this.uvarint(<u64>((v << 1) ^ (v >> 63))); }

  /** Appends an IEEE 754 binary64, little-endian. */
  float(v: f64): void {
    const p = this.reserve(8);
    store<f64>(p, v);
    this.len += 8;
  }

  /** Appends n raw bytes from address src. */
  raw(src: usize, n: i32): void {
    const p = this.reserve(n);
    memory.copy(p, src, n);
    this.len += n;
  }

  /** Appends a length-prefixed run of n bytes from address src. */
  bytes(src: usize, n: i32): void {
    this.uvarint(<u64>n);
    this.raw(src, n);
  }

  /** Appends a string as its UTF-8 bytes, without a length. */
  utf8(s: string): void {
    const n = String.UTF8.byteLength(s);
    const p = this.reserve(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
    this.len += n;
  }

  /** Appends a length-prefixed UTF-8 string. */
  str(s: string): void {
    const n = String.UTF8.byteLength(s);
    this.uvarint(<u64>n);
    const p = this.reserve(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
    this.len += n;
  }

  /** Returns a copy of the bytes written. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.len);
    memory.copy(out.dataStart, this.ptr, this.len);
    return out;
  }
}

/** Reader decodes the wire encoding from guest memory, checking every
 * bound. The first error sticks in `err`; reads after it return zero
 * values, so a decoder checks `err` once at its end. */
export class Reader {
  /** The next byte to read. */
  pos: usize;
  /** One past the last byte. */
  end: usize;
  /** The first error, or "" while all is well. */
  err: string = "";

  constructor(ptr: usize, len: i32) {
    this.pos = ptr;
    this.end = ptr + <usize>len;
  }

  /** Reads over a copy-free view of a Uint8Array. */
  static of(b: Uint8Array): Reader { return new Reader(b.dataStart, b.length); }

  /** Records an error unless one is recorded already. */
  fail(msg: string): void {
    if (this.err.length == 0) this.err = msg;
    this.pos = this.end;
  }

  /** How many bytes are left. */
  @inline get left(): i32 { return <i32>(this.end - this.pos); }

  /** Reads one byte. */
  byte(): u8 {
    if (this.pos >= this.end) { this.fail("unexpected end of frame"); return 0; }
    const b = load<u8>(this.pos);
    this.pos++;
    return b;
  }

  /** Reads a bool: any non-zero byte is true. */
  bool(): bool { return this.byte() != 0; }

  /** Reads an unsigned LEB128 varint of at most 10 bytes. */
  uvarint(): u64 {
    let v: u64 = 0;
    let shift: u64 = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) { this.fail("varint runs past the end of the frame"); return 0; }
      const b = load<u8>(this.pos);
      this.pos++;
      if (i == 9 && b > 1) { this.fail("varint overflows 64 bits"); return 0; }
      v |= (<u64>(b & 0x7f)) << shift;
      if (b < 0x80) return v;
      shift += 7;
    }
    this.fail("varint longer than 10 bytes");
    return 0;
  }

  /** Reads a uvarint that must fit in 32 bits (steps, chains, handles). */
  uint32(what: string): u32 {
    const v = this.uvarint();
    if (v > 0xffffffff) { this.fail(what + " " + v.toString() + " does not fit in 32 bits"); return 0; }
    return <u32>v;
  }

  /** Reads a zig-zag signed varint. */
  varint(): i64 {
    const u = this.uvarint();
    return <i64>(u >> 1) ^ -(<i64>(u & 1));
  }

  /** Reads an IEEE 754 binary64, little-endian. */
  float(): f64 {
    if (this.left < 8) { this.fail("f64 runs past the end of the frame"); return 0; }
    const v = load<f64>(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a length and checks that many bytes follow; returns the length
   * and leaves pos at the first byte (the caller takes them with skip). */
  len(): i32 {
    const n = this.uvarint();
    if (n > <u64>this.left) { this.fail("length " + n.toString() + " points past the end of the frame"); return 0; }
    return <i32>n;
  }

  /** Reads a count of elements each at least min bytes long, refusing a
   * count the rest of the frame cannot hold. */
  count(min: i32): i32 {
    const n = this.uvarint();
    if (n > <u64>this.left / <u64>(min < 1 ? 1 : min)) { this.fail("count " + n.toString() + " is more than the frame can hold"); return 0; }
    return <i32>n;
  }

  /** Advances over n bytes the caller already bounds-checked. */
  @inline skip(n: i32): void { this.pos += <usize>n; }

  /** Reads a length-prefixed string, decoding its UTF-8. */
  str(): string {
    const n = this.len();
    const s = String.UTF8.decodeUnsafe(this.pos, <usize>n);
    this.pos += <usize>n;
    return s;
  }

  /** Reads length-prefixed bytes into a new array. */
  bytes(): Uint8Array {
    const n = this.len();
    const out = new Uint8Array(n);
    memory.copy(out.dataStart, this.pos, n);
    this.pos += <usize>n;
    return out;
  }

  /** Records an error if bytes are left over; returns whether all is well. */
  finish(): bool {
    if (this.err.length == 0 && this.pos != this.end) {
      this.err = (this.end - this.pos).toString() + " trailing byte(s)";
    }
    return this.err.length == 0;
  }
}
