// wordcount: counts the words of a text file and prints one
// "word<TAB>count" line per distinct word, like wasm-examples/wordcount.
//
//   guest-sdk/assemblyscript/build.sh guest-sdk/assemblyscript/examples/wordcount bin/wordcount-as.wasm
//   bxwasm run bin/wordcount-as.wasm:"get_flow('wasm-examples/wordcount/testdata/demo.txt')" -w2

import {
  Args, Dataflow, KV, register, input, output, redistribute, map, flatMap, countFinal,
  FileSource, StdOutSink, toLower, fields,
} from "../../assembly/index";

function identity(w: string): string { return w; }

function format(kv: KV<i64>): string { return kv.key + "\t" + kv.value.toString(); }

function wordcount(args: Args): Dataflow | null {
  const flow = new Dataflow("wordcount");
  const lines = input<string>("inp", flow, FileSource(args.str(0)));
  // One file is one partition, read by one worker; spreading its lines
  // over every worker lets all of them lower-case and split.
  const spread = redistribute<string>("spread", lines);
  const low = map<string, string>("lower", spread, toLower);
  const words = flatMap<string, string>("split", low, fields);
  const counts = countFinal<string>("count", words, identity);
  output<string>("out", map<KV<i64>, string>("format", counts, format), StdOutSink());
  return flow;
}

register("get_flow", "path string", wordcount);
