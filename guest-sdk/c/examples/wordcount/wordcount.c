/*
 * wordcount counts the words of a text file and prints one
 * "word<TAB>count" line per distinct word, like wasm-examples/wordcount.
 *
 *   guest-sdk/c/build.sh guest-sdk/c/examples/wordcount wc.wasm
 *   bxwasm run wc.wasm:"get_flow('in.txt')" -w2
 */
#include "bxwasm.h"

/* lower lower-cases a line (ASCII). */
static bx_item lower(void *ctx, bx_item line) {
	line.value = bx_lower(line.value);
	return line;
}

/* split emits the words of a line. */
static void split(void *ctx, bx_item line, bx_items *out) { bx_push_fields(out, line.value); }

/* word keys every word by itself, so count_final counts each word. */
static bx_bytes word(void *ctx, bx_item it) { return it.value; }

/* format renders one count as "word<TAB>count". */
static bx_item format(void *ctx, bx_item kv) {
	int64_t n = 0;
	bx_get_i64(kv.value, &n);
	bx_item out = {kv.key, bx_fmt("%.*s\t%lld", (int)kv.key.len, (const char *)kv.key.ptr, (long long)n), false};
	return out;
}

static bx_flow *get_flow(void *ctx, const bx_args *args) {
	bx_flow *flow = bx_dataflow("wordcount");
	bx_stream lines = bx_input(flow, "inp", bx_file_source(bx_arg_str(args, 0)));
	/* One file is one partition, read by one worker; spreading its lines
	 * over every worker lets all of them lower-case and split. */
	bx_stream spread = bx_redistribute("spread", lines);
	bx_stream lowered = bx_map("lower", spread, lower, NULL);
	bx_stream words = bx_flat_map("split", lowered, split, NULL);
	bx_stream counts = bx_count_final("count", words, word, NULL);
	bx_stream out = bx_map("format", counts, format, NULL);
	bx_output("out", out, bx_stdout_sink());
	return flow;
}

void bx_setup(void) { bx_register("get_flow", get_flow, NULL, "path string"); }
