// The registry of flow factories the host lists (list_flows) and builds
// (build), with typed parameters and the Go SDK's error words.

import { Writer, Reader } from "./codec";
import { Dataflow } from "./flow";
import { quote, enterPart, raise } from "./errors";

export const ARG_STRING: u8 = 1;
export const ARG_INT: u8 = 2;
export const ARG_FLOAT: u8 = 3;
export const ARG_BOOL: u8 = 4;

/** The Go name of an argument type, as messages write it. */
export function argTypeName(t: u8): string {
  switch (t) {
    case 1: return "string";
    case 2: return "int";
    case 3: return "float64";
    case 4: return "bool";
  }
  return "unknown";
}

/** The arguments of a build, already checked against the parameters:
 * read each with the accessor of its declared type. */
export class Args {
  types: Array<u8> = [];
  strs: Array<string> = [];
  ints: Array<i64> = [];
  floats: Array<f64> = [];
  /** Why the factory refused its arguments (see fail). */
  error: string = "";

  /** Argument i, declared string. */
  str(i: i32): string { return this.strs[i]; }
  /** Argument i, declared int. */
  int(i: i32): i64 { return this.ints[i]; }
  /** Argument i, declared float64 (an int literal is converted). */
  float(i: i32): f64 { return this.floats[i]; }
  /** Argument i, declared bool. */
  bool(i: i32): bool { return this.ints[i] != 0; }

  /** Refuses the arguments: return args.fail("...") from the factory and
   * the build fails with `flow factory failed: NAME: MESSAGE`. */
  fail(message: string): Dataflow | null {
    this.error = message;
    return null;
  }

  /** Reads nargs arguments from a build request. */
  read(r: Reader): void {
    const n = r.count(2);
    for (let i = 0; i < n; i++) {
      const t = r.byte();
      this.types.push(t);
      let s = "";
      let v: i64 = 0;
      let f: f64 = 0;
      if (t == ARG_STRING) s = r.str();
      else if (t == ARG_INT) { v = r.varint(); f = <f64>v; }
      else if (t == ARG_FLOAT) f = r.float();
      else if (t == ARG_BOOL) v = r.bool() ? 1 : 0;
      else { r.fail("argument " + (i + 1).toString() + " has unknown type " + t.toString()); return; }
      this.strs.push(s);
      this.ints.push(v);
      this.floats.push(f);
    }
  }
}

/** A registered flow factory. */
export class FlowDef {
  names: Array<string> = [];
  types: Array<u8> = [];
  constructor(public name: string, public factory: (args: Args) => Dataflow | null) {}

  /** The factory for messages: name(p1 type1, p2 type2). */
  signature(): string {
    const ps = new Array<string>();
    for (let i = 0; i < this.names.length; i++) ps.push(this.names[i] + " " + argTypeName(this.types[i]));
    return this.name + "(" + ps.join(", ") + ")";
  }

  /** Checks args against the parameters; returns "" or the error. */
  check(args: Args): string {
    if (args.types.length != this.types.length) {
      return "bad arguments: " + this.signature() + " takes " + this.types.length.toString() + " argument(s), got " + args.types.length.toString();
    }
    for (let i = 0; i < this.types.length; i++) {
      const want = this.types[i];
      const got = args.types[i];
      if (got == want || (got == ARG_INT && want == ARG_FLOAT)) continue;
      return "bad arguments: argument " + (i + 1).toString() + " (" + this.names[i] + ") of " + this.signature() + ": want " + argTypeName(want) + ", got " + argTypeName(got);
    }
    return "";
  }
}

const defs = new Array<FlowDef>();

/** Makes a flow known to the host under name. params declares the
 * factory's parameters for the host's command line, e.g.
 * "inp string, n int, f float64, b bool" ("" for none); the factory reads
 * them from its Args by position. Registering the same name twice, or a
 * bad parameter list, aborts the module's start. */
export function register(name: string, params: string, factory: (args: Args) => Dataflow | null): void {
  if (name.length == 0) raise("bxwasm register: empty flow name");
  for (let i = 0; i < defs.length; i++) {
    if (defs[i].name == name) raise("bxwasm register: flow " + quote(name) + " registered twice");
  }
  const d = new FlowDef(name, factory);
  const parts = params.trim().length == 0 ? new Array<string>() : params.split(",");
  for (let i = 0; i < parts.length; i++) {
    const pt = parts[i].trim().split(" ");
    let t: u8 = 0;
    if (pt.length == 2) {
      const ty = pt[1];
      if (ty == "string") t = ARG_STRING;
      else if (ty == "int") t = ARG_INT;
      else if (ty == "float64" || ty == "float") t = ARG_FLOAT;
      else if (ty == "bool") t = ARG_BOOL;
    }
    if (t == 0 || pt[0].length == 0) raise("bxwasm register(" + quote(name) + "): parameter " + quote(parts[i].trim()) + " is not \"NAME TYPE\" with TYPE string, int, float64 or bool");
    if (d.names.includes(pt[0])) raise("bxwasm register(" + quote(name) + "): parameter name " + quote(pt[0]) + " used twice");
    d.names.push(pt[0]);
    d.types.push(t);
  }
  defs.push(d);
}

/** Appends the FlowList of every registered flow, in registration order. */
export function encodeFlowList(w: Writer): void {
  w.uvarint(<u64>defs.length);
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i];
    w.str(d.name);
    w.uvarint(<u64>d.types.length);
    for (let j = 0; j < d.types.length; j++) {
      w.str(d.names[j]);
      w.byte(d.types[j]);
    }
  }
}

/** Finds a registered flow, or null with *err set to the Go SDK's words. */
export function lookupFlow(name: string, err: Array<string>): FlowDef | null {
  for (let i = 0; i < defs.length; i++) if (defs[i].name == name) return defs[i];
  if (defs.length == 0) {
    err.push("unknown flow " + quote(name) + ": this module registers no flows (call register at the top level of your module)");
    return null;
  }
  const known = new Array<string>();
  for (let i = 0; i < defs.length; i++) known.push(defs[i].signature());
  err.push("unknown flow " + quote(name) + "; this module has: " + known.join(", "));
  return null;
}

/** Runs a factory on checked arguments; returns the flow, or null with
 * the error pushed on err. */
export function buildFlow(d: FlowDef, args: Args, err: Array<string>): Dataflow | null {
  enterPart(null, "flow factory " + d.name, "");
  const flow = d.factory(args);
  if (flow == null) {
    err.push("flow factory failed: " + d.name + ": " + (args.error.length > 0 ? args.error : "the factory returned null"));
  }
  return flow;
}
