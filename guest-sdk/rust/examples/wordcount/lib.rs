//! Word count: the lines of a file, spread over the workers, lower-cased,
//! split into words and counted; prints `word<TAB>count` lines.
//!
//!     guest-sdk/rust/build.sh guest-sdk/rust/examples/wordcount wc.wasm
//!     bxwasm run wc.wasm:"get_flow('in.txt')" -w2

extern crate bxwasm;

use bxwasm::{file_source, stdout_sink, Dataflow, Registry};

/// Lower-cases a line as Go's strings.ToLower does, in place when it is
/// ASCII.
fn lower(mut line: String) -> String {
    if line.is_ascii() {
        line.make_ascii_lowercase();
        return line;
    }
    line.to_lowercase()
}

/// Builds the flow that counts the words of the file at `path`.
fn wordcount(path: String) -> Dataflow {
    let flow = Dataflow::new("wordcount");
    flow.input("inp", file_source(&path))
        .redistribute("spread")
        .map("lower", lower)
        .flat_map("split", |line: String| line.split_whitespace().map(String::from).collect())
        .count_final("count", |word: String| word)
        .map("format", |(word, n): (String, i64)| format!("{}\t{}", word, n))
        .output("out", stdout_sink());
    flow
}

fn flows(r: &mut Registry) {
    r.register("get_flow", &["path"], wordcount);
}

bxwasm::export!(flows);
