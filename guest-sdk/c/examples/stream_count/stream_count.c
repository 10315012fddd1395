/*
 * stream_count keeps a running count of the messages of a NATS JetStream
 * stream per subject and publishes "subject<TAB>count" to a JetStream
 * subject after every message. The connection is named "nats"; the
 * operator binds it to a server:
 *
 *   guest-sdk/c/build.sh guest-sdk/c/examples/stream_count sc.wasm
 *   bxwasm run sc.wasm:"flow('EVENTS', 'counts')" --connection nats=nats://127.0.0.1:4222 -w2 -r DIR
 *
 * With a recovery store (-r) the output is exactly once across crashes:
 * the source resumes after the last committed message and the sink
 * publishes an epoch's counts once the epoch is committed.
 */
#include "bxwasm.h"

/* by_subject keys a message by its subject. */
static bx_item by_subject(void *ctx, bx_item it) {
	bx_message m;
	const char *err;
	if (!bx_message_decode(it.value, &m, &err))
		bx_fail("%s", err);
	return (bx_item){m.subject, bx_str(""), true};
}

/* count is the stateful_map mapper: the state is the subject's count so
 * far; it keeps and emits the new count. */
static bx_bytes count(void *ctx, bx_bytes subject, bx_state *n, bx_bytes one) {
	bx_state_set_i64(n, bx_state_i64(n) + 1);
	return bx_i64(bx_state_i64(n));
}

/* format renders one count as "subject<TAB>count", keyed by the subject. */
static bx_item format(void *ctx, bx_item kv) {
	int64_t n = 0;
	bx_get_i64(kv.value, &n);
	kv.value = bx_fmt("%.*s\t%lld", (int)kv.key.len, (const char *)kv.key.ptr, (long long)n);
	return kv;
}

static bx_flow *stream_count(void *ctx, const bx_args *args) {
	bx_flow *flow = bx_dataflow("stream_count");
	bx_stream s = bx_input(flow, "inp", bx_jetstream_source("nats", bx_arg_str(args, 0), (bx_stream_opts){0}));
	s = bx_map("key", s, by_subject, NULL);
	s = bx_stateful_map("count", s, count, NULL);
	s = bx_map("format", s, format, NULL);
	bx_output("out", s, bx_jetstream_sink("nats", bx_arg_str(args, 1), (bx_sink_opts){0}));
	return flow;
}

void bx_setup(void) { bx_register("flow", stream_count, NULL, "stream string, out string"); }
