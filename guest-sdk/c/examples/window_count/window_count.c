/*
 * window_count counts events per key in 60-second tumbling windows of
 * event time. It reads "key,unix_seconds" lines from a file, waits 10
 * seconds of system time for late events, and prints one "key window_id
 * count" line per window as it closes (window 0 starts at the epoch, so
 * window_id * 60 is the window's start in Unix seconds). Lines that do not
 * parse are skipped; an event that comes after the watermark of its key
 * passed it (more than 10 s behind the latest event of that key, less the
 * system time since) goes to the late stream, which this example drops.
 *
 *   guest-sdk/c/build.sh guest-sdk/c/examples/window_count wc.wasm
 *   bxwasm run wc.wasm:"get_flow('guest-sdk/c/examples/window_count/testdata/events.txt')" -w2
 */
#include "bxwasm.h"

#define SECOND 1000000000LL

/* parse keeps a well-formed "key,unix_seconds" line, keyed by key, with
 * its time as the value. */
static bool parse(void *ctx, bx_item line, bx_item *out) {
	bx_bytes key, secs;
	int64_t t;
	if (!bx_cut(line.value, ',', &key, &secs) || !bx_trim(key).len || !bx_parse_i64(bx_trim(secs), &t))
		return false;
	*out = (bx_item){bx_trim(key), bx_i64(t), true};
	return true;
}

/* event_time is the event clock's timestamp getter: Unix ns. */
static int64_t event_time(void *ctx, bx_bytes value) {
	int64_t t = 0;
	bx_get_i64(value, &t);
	return t * SECOND;
}

static bx_bytes key_of(void *ctx, bx_item it) { return it.key; }

/* format renders a closed window's count as "key window_id count". */
static bx_item format(void *ctx, bx_item it) {
	int64_t id = 0, n = 0;
	bx_bytes count;
	if (bx_window_value(it.value, &id, &count))
		bx_get_i64(count, &n);
	it.value = bx_fmt("%.*s %lld %lld", (int)it.key.len, (const char *)it.key.ptr, (long long)id, (long long)n);
	return it;
}

static bx_flow *get_flow(void *ctx, const bx_args *args) {
	bx_flow *flow = bx_dataflow("window_count");
	bx_stream s = bx_input(flow, "inp", bx_file_source(bx_arg_str(args, 0)));
	s = bx_filter_map("parse", s, parse, NULL);
	bx_clock clock = bx_event_clock(event_time, 10 * SECOND);
	bx_windower windower = bx_tumbling_windower(60 * SECOND, 0);
	bx_window_out w = bx_count_window("count", s, clock, windower, key_of, NULL);
	bx_output("out", bx_map("format", w.down, format, NULL), bx_stdout_sink());
	return flow;
}

void bx_setup(void) { bx_register("get_flow", get_flow, NULL, "path string"); }
