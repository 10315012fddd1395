// wordcount: counts the words of a text file and prints one
// "word<TAB>count" line per distinct word, like wasm-examples/wordcount.
//
//   guest-sdk/assemblyscript/build.sh guest-sdk/assemblyscript/examples/wordcount bin/wordcount-as.wasm
//   bxwasm run bin/wordcount-as.wasm:"get_flow('wasm-examples/wordcount/testdata/demo.txt')" -w2

import {
  Args, Dataflow, KV, register, input, output, redistribute, map, flatMap, countFinal,
  FileSource, StdOutSink,
} from "../../assembly/index";

/** Lower case, as strings.ToLower: the string itself when it has no
 * upper case ASCII letter and is all ASCII (most lines), else a copy. */
function lower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (c >= 65 && c <= 90)) return s.toLowerCase();
  }
  return s;
}

/** Whether c is ASCII whitespace (space, \t, \n, \v, \f, \r). */
function isSpace(c: i32): bool { return c == 32 || (c >= 9 && c <= 13); }

/** The words of a line: runs of non-whitespace. */
function fields(s: string): Array<string> {
  const out = new Array<string>();
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    if (isSpace(s.charCodeAt(i))) {
      if (start >= 0) out.push(s.substring(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(s.substring(start));
  return out;
}

function identity(w: string): string { return w; }

function format(kv: KV<i64>): string { return kv.key + "\t" + kv.value.toString(); }

function wordcount(args: Args): Dataflow | null {
  const flow = new Dataflow("wordcount");
  const lines = input<string>("inp", flow, FileSource(args.str(0)));
  // One file is one partition, read by one worker; spreading its lines
  // over every worker lets all of them lower-case and split.
  const spread = redistribute<string>("spread", lines);
  const low = map<string, string>("lower", spread, lower);
  const words = flatMap<string, string>("split", low, fields);
  const counts = countFinal<string>("count", words, identity);
  output<string>("out", map<KV<i64>, string>("format", counts, format), StdOutSink());
  return flow;
}

register("get_flow", "path string", wordcount);
