// check.mjs OUT.wasm: fails if a built guest imports anything but WASI
// preview 1 or lacks an export the bxwasm host needs.
import { readFileSync } from "node:fs";

const path = process.argv[2];
const mod = new WebAssembly.Module(readFileSync(path));
const bad = WebAssembly.Module.imports(mod).filter((i) => i.module !== "wasi_snapshot_preview1");
const names = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
const missing = ["bxwasm_abi_version", "bxwasm_buffer", "bxwasm_call", "bxwasm_last_error", "memory"].filter((n) => !names.has(n));
let ok = true;
for (const i of bad) {
  console.error(`${path}: imports ${i.module}.${i.name}; a bxwasm guest may import only wasi_snapshot_preview1` +
    (i.module === "env" ? " (do not use console.log, trace, Date.now or other host bindings: use the SDK's printOut, printErr and nowNanos)" : ""));
  ok = false;
}
for (const n of missing) {
  console.error(`${path}: lacks the export ${n}; build with guest-sdk/assemblyscript/build.sh, which compiles the SDK's assembly/exports.ts in`);
  ok = false;
}
if (!ok) process.exit(1);
