/*
 * running_sum keeps a running total per user over a stream of
 * "user,amount" events and emits "user<TAB>total" after every event, like
 * wasm-examples/running_sum.
 *
 *   guest-sdk/c/build.sh guest-sdk/c/examples/running_sum rs.wasm
 *   bxwasm run rs.wasm -w2
 */
#include "bxwasm.h"

/* The flow's input: payments as "user,amount" lines, in the order they
 * happened. A line that does not parse is skipped. */
static const char *const events[] = {
    "alice,5", "bob,3",    "alice,7",  "carol,10", "bob,-1", "not an event", "alice,1", "carol,2",
    "dave,100", "bob,4",   "alice,-3", "dave,-50", "carol,x", "carol,8",     "erin,0",
};

/* parse turns "user,amount" into the amount keyed by user. */
static bool parse(void *ctx, bx_item line, bx_item *out) {
	bx_bytes user, amount;
	int64_t n;
	if (!bx_cut(line.value, ',', &user, &amount) || !user.len || !bx_parse_i64(bx_trim(amount), &n))
		return false;
	*out = (bx_item){bx_trim(user), bx_i64(n), true};
	return true;
}

/* add is the stateful_map mapper: the state is the user's total so far
 * (unset for a user not seen yet); it keeps and emits the new total. */
static bx_bytes add(void *ctx, bx_bytes user, bx_state *total, bx_bytes amount) {
	int64_t n = 0;
	bx_get_i64(amount, &n);
	bx_state_set_i64(total, bx_state_i64(total) + n);
	return bx_i64(bx_state_i64(total));
}

/* format renders one total as "user<TAB>total". */
static bx_item format(void *ctx, bx_item kv) {
	int64_t n = 0;
	bx_get_i64(kv.value, &n);
	kv.value = bx_fmt("%.*s\t%lld", (int)kv.key.len, (const char *)kv.key.ptr, (long long)n);
	return kv;
}

static bx_flow *running_sum(void *ctx, const bx_args *args) {
	bx_flow *flow = bx_dataflow("running_sum");
	size_t n = sizeof events / sizeof events[0];
	bx_bytes values[sizeof events / sizeof events[0]];
	for (size_t i = 0; i < n; i++)
		values[i] = bx_str(events[i]);
	bx_stream s = bx_input(flow, "inp", bx_testing_source(flow, values, n, 4));
	s = bx_filter_map("parse", s, parse, NULL);
	s = bx_stateful_map("total", s, add, NULL);
	s = bx_map("format", s, format, NULL);
	bx_output("out", s, bx_stdout_sink());
	return flow;
}

void bx_setup(void) { bx_register("flow", running_sum, NULL, ""); }
