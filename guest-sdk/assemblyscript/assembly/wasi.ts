// The few WASI preview 1 calls the SDK needs; bxwasm guests import nothing
// else (docs/abi.md section 3).

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, niovs: u32, written: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, out: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buf: usize, len: usize): u16;

const scratch = memory.data(16);

/** The wall clock in Unix nanoseconds (WASI clock_time_get, realtime). */
export function nowNanos(): i64 {
  clock_time_get(0, 1000, scratch);
  return load<i64>(scratch);
}

/** The monotonic clock in nanoseconds (WASI clock_time_get, monotonic). */
export function monoNanos(): i64 {
  clock_time_get(1, 1000, scratch);
  return load<i64>(scratch);
}

/** Writes the UTF-8 of s to a WASI file descriptor (1 stdout, 2 stderr). */
export function writeFd(fd: u32, s: string): void {
  const buf = String.UTF8.encode(s);
  let p = changetype<usize>(buf);
  let n = <usize>buf.byteLength;
  while (n > 0) {
    store<usize>(scratch, p);
    store<usize>(scratch, n, sizeof<usize>());
    if (fd_write(fd, scratch, 1, scratch + 8) != 0) return;
    const done = load<u32>(scratch + 8);
    if (done == 0) return;
    p += done;
    n -= done;
  }
}

/** Prints a line on standard output (shared with the stdout sink: use it
 * for diagnostics, not data). */
export function printOut(s: string): void { writeFd(1, s + "\n"); }

/** Prints a line on standard error (quoted in the host's crash reports). */
export function printErr(s: string): void { writeFd(2, s + "\n"); }

/** Seeds Math.random from WASI random_get (the build's --use seed=...). */
export function wasiSeed(): f64 {
  random_get(scratch, 8);
  return reinterpret<f64>((load<u64>(scratch) & 0x000fffffffffffff) | 0x3ff0000000000000);
}
