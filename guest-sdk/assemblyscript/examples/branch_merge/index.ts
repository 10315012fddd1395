// branch_merge: splits a stream of numbers in two with branch, transforms
// each half its own way and joins them again with merge: even numbers are
// squared, odd numbers are negated (a port of wasm-examples/branch_merge).
//
//   guest-sdk/assemblyscript/build.sh guest-sdk/assemblyscript/examples/branch_merge bin/branch_merge-as.wasm
//   bxwasm run bin/branch_merge-as.wasm:"get_flow(10)" -w2

import {
  Args, Dataflow, register, input, output, branch, merge, map, TestingSource, StdOutSink,
} from "../../assembly/index";

/** The numbers 1..n. */
function numbers(n: i64): Array<i64> {
  const out = new Array<i64>();
  for (let i: i64 = 1; i <= n; i++) out.push(i);
  return out;
}

function isEven(x: i64): bool { return x % 2 == 0; }
function square(x: i64): i64 { return x * x; }
function negate(x: i64): i64 { return -x; }
function format(x: i64): string { return x.toString(); }

function branchMerge(a: Args): Dataflow | null {
  const flow = new Dataflow("branch_merge");
  const nums = input<i64>("inp", flow, new TestingSource<i64>(numbers(a.int(0)), 16));
  const b = branch<i64>("even_or_odd", nums, isEven);
  const squares = map<i64, i64>("square", b.trues, square);
  const negated = map<i64, i64>("negate", b.falses, negate);
  const merged = merge<i64>("merge", [squares, negated]);
  output<string>("out", map<i64, string>("format", merged, format), StdOutSink());
  return flow;
}

register("get_flow", "n int", branchMerge);
