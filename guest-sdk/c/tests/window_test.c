/*
 * Tests of the windowing operators (bxwasm_window.c) through the
 * dispatcher: hand-worked cases of Bytewax 0.21's semantics, the cases of
 * its known bugs, a snapshot and restore in the middle of a window, and a
 * property test against a brute-force model. Times are small integers
 * (nanoseconds); the system clock is fake_now.
 */
#define _GNU_SOURCE
#include "check.h"

#include <stdint.h>

static int64_t fake_now;
static int64_t get_now(void *ctx) { return fake_now; }

/* Values are "T" or "T:tag": their event time is T. */
static int64_t value_ts(void *ctx, bx_bytes v) {
	bx_bytes t = v, rest;
	bx_cut(v, ':', &t, &rest);
	int64_t n = 0;
	if (!bx_parse_i64(t, &n))
		bx_fail("bad test value %.*s", (int)v.len, (const char *)v.ptr);
	return n;
}

static bx_bytes empty(void *ctx) { return bx_str(""); }
static bx_bytes append(void *ctx, bx_bytes acc, bx_bytes v) {
	return bx_fmt("%.*s%.*s,", (int)acc.len, (const char *)acc.ptr, (int)v.len, (const char *)v.ptr);
}

/* The flow under test: its clock and windower are set before each build. */
static struct {
	bool system, ordered, count;
	int64_t wait, length, align;
} cfg;

static bx_flow *window_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("w");
	bx_stream s = bx_input(f, "inp", bx_stdin_source());
	bx_clock clock = cfg.system ? bx_system_clock() : bx_event_clock(value_ts, cfg.wait);
	clock.now = get_now;
	bx_windower win = bx_tumbling_windower(cfg.length, cfg.align);
	bx_window_out o = cfg.count ? bx_count_window("win", s, clock, win, NULL, NULL)
	                            : bx_fold_window("win", s, clock, win, empty, append, cfg.ordered, NULL);
	bx_output("down", o.down, bx_stdout_sink());
	bx_output("late", o.late, bx_stdout_sink());
	bx_output("meta", o.meta, bx_stdout_sink());
	return f;
}

/* build builds the flow and returns its graph; the stateful step is step
 * 1 of a fold (after inp) and step 2 of a count (after keyed). */
static bx_bytes build(void) {
	bx_reset_native();
	bx_register("w", window_flow, NULL, "");
	return call((bx_bytes){(const uint8_t *)"\x02\x01w\x00", 4});
}

static uint32_t wstep(void) { return cfg.count ? 2 : 1; }

/* batch sends keyed values "k=v" to the stateful step. */
static bx_bytes batch(const char *const *kvs, size_t n) {
	bx_writer body = {0};
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(kvs[i], '=');
		bx_w_uvarint(&body, (size_t)(eq - kvs[i]) + 1);
		bx_w_raw(&body, kvs[i], (size_t)(eq - kvs[i]));
		bx_w_bytes(&body, bx_str(eq + 1));
	}
	bx_writer w = {0};
	bx_w_u8(&w, 5);
	bx_w_uvarint(&w, wstep());
	bx_w_varint(&w, 0);
	bx_w_uvarint(&w, n);
	bx_w_bytes(&w, bx_w_done(&body));
	return call(bx_w_done(&w));
}

#define BATCH(...) batch((const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

/* keys_req encodes op (notify, snapshot) for keys. */
static bx_bytes keys_req(uint8_t op, const char *const *keys, size_t n) {
	bx_writer w = {0};
	bx_w_u8(&w, op);
	bx_w_uvarint(&w, wstep());
	bx_w_varint(&w, 0);
	bx_w_uvarint(&w, n);
	for (size_t i = 0; i < n; i++)
		bx_w_bytes(&w, bx_str(keys[i]));
	return call(bx_w_done(&w));
}

#define NOTIFY(...) keys_req(6, (const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

static bx_bytes eof(void) {
	bx_writer w = {0};
	bx_w_u8(&w, 7);
	bx_w_uvarint(&w, wstep());
	bx_w_varint(&w, 0);
	return call(bx_w_done(&w));
}

/* event renders one emitted event: "k:E id acc", "k:L id value",
 * "k:M id open close"; a count's acc is its number. */
static void event(bx_writer *out, bx_bytes key, bool has_key, bx_bytes v) {
	bx_bytes line = bx_str("?");
	int64_t id, open, close, n;
	bx_bytes rest;
	if (v.len && v.ptr[0] == 'M' && bx_window_meta(bx_slice(v, 1, v.len), &id, &open, &close))
		line = bx_fmt("M %lld %lld %lld", (long long)id, (long long)open, (long long)close);
	else if (v.len && v.ptr[0] == 'E' && bx_window_value(bx_slice(v, 1, v.len), &id, &rest) && cfg.count &&
	         bx_get_i64(rest, &n))
		line = bx_fmt("E %lld %lld", (long long)id, (long long)n);
	else if (v.len && (v.ptr[0] == 'E' || v.ptr[0] == 'L') && bx_window_value(bx_slice(v, 1, v.len), &id, &rest))
		line = bx_fmt("%c %lld %.*s", v.ptr[0], (long long)id, (int)rest.len, (const char *)rest.ptr);
	bx_w_raw(out, key.ptr, key.len);
	bx_w_u8(out, ':');
	bx_w_raw(out, line.ptr, line.len);
	bx_w_u8(out, ';');
}

/* render renders a KeyedUpdates response: "events|key:discard:at;...". */
static const char *render(bx_bytes resp) {
	const char *r = render_updates(resp, event);
	return strncmp(r, "error", 5) == 0 ? "error" : r;
}

static void configure(bool system, bool ordered, bool count, int64_t wait, int64_t length, int64_t align) {
	cfg.system = system, cfg.ordered = ordered, cfg.count = count;
	cfg.wait = wait, cfg.length = length, cfg.align = align;
	fake_now = 1000;
	bx_bytes graph = build();
	CHECK(graph.len && graph.ptr[0] == 0);
}

/* Bytewax's test_count_window: a 10-wide window closes when an item of
 * the next arrives; EOF closes the rest, keys in the order they came. */
static void test_count_window(void) {
	configure(false, false, true, 0, 10, 0);
	bx_bytes graph = build();
	static const char *const ids[] = {"w.win.keyed.map.flat_map_batch", "w.win.sum.window.stateful_batch",
	                                  "w.win.sum.window.unwrap_down.flat_map_value.flat_map.flat_map_batch",
	                                  "w.win.sum.window.unwrap_late.flat_map_value.flat_map.flat_map_batch",
	                                  "w.win.sum.window.unwrap_meta.flat_map_value.flat_map.flat_map_batch"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (!memmem(graph.ptr, graph.len, ids[i], strlen(ids[i])))
			fprintf(stderr, "  no step %s in the graph\n", ids[i]), failures++;
	/* window 0 closes at 10: the system time when the watermark (0) gets
	 * there, 10 after the item (now 1000) */
	CHECK_STR(render(BATCH("a=0")), "|a:0:1010;");
	CHECK_STR(render(BATCH("a=4")), "|a:0:1006;");
	CHECK_STR(render(BATCH("b=8")), "|b:0:1002;");
	CHECK_STR(render(BATCH("a=12")), "a:E 0 2;a:M 0 0 10;|a:0:1008;");
	CHECK_STR(render(BATCH("a=13")), "|a:0:1007;");
	CHECK_STR(render(eof()), "a:E 1 2;a:M 1 10 20;b:E 0 1;b:M 0 0 10;|a:1:0;b:1:0;");
}

/* Out of order within the wait, late items, system time moving the
 * watermark, EOF; ordered folds in timestamp order. */
static void test_event_clock(void) {
	configure(false, true, false, 5, 10, 0);
	/* wm 7: 12 waits in the queue until the watermark reaches it */
	CHECK_STR(render(BATCH("k=12")), "|k:0:1005;");
	/* 8 and 9 are on time (>= wm 7); the earliest due is 8 */
	CHECK_STR(render(BATCH("k=9", "k=8")), "|k:0:1001;");
	/* wm 15: 8, 9, 12 are due, window 0 closes with them in time order */
	CHECK_STR(render(BATCH("k=20")), "k:E 0 8,9,;k:M 0 0 10;|k:0:1005;");
	/* 3 is late for window 0 (before wm 15); 14 is late too */
	CHECK_STR(render(BATCH("k=3:x", "k=14")), "k:L 0 3:x;k:L 1 14;|");
	/* the system clock moves the watermark: at 1005 it is 20 */
	fake_now = 1005;
	CHECK_STR(render(NOTIFY("k")), "k:E 1 12,;k:M 1 10 20;|k:0:1015;");
	/* EOF closes every window and the key is dropped */
	CHECK_STR(render(eof()), "k:E 2 20,;k:M 2 20 30;|k:1:0;");
	/* unordered: arrival order, every value at once */
	configure(false, false, false, 5, 10, 0);
	CHECK_STR(render(BATCH("k=9", "k=8")), "|k:0:1006;");
	CHECK_STR(render(eof()), "k:E 0 9,8,;k:M 0 0 10;|k:1:0;");
}

/* Bytewax #470: out-of-order input never breaks the watermark, which
 * never goes back, even when the system clock does. */
static void test_out_of_order(void) {
	configure(false, true, false, 5, 10, 0);
	CHECK_STR(render(BATCH("k=7")), "|k:0:1005;"); /* wm 2 */
	fake_now = 1002;                                 /* wm 4 */
	/* 8 alone would make the watermark 3: it stays 4 */
	CHECK_STR(render(BATCH("k=8", "k=3")), "k:L 0 3;|");
	fake_now = 990; /* the system clock goes back: the watermark holds */
	CHECK_STR(render(BATCH("k=2")), "k:L 0 2;|");
	CHECK_STR(render(NOTIFY("k")), "|k:0:1005;");
}

/* Bytewax #578: with the system clock, a key whose windows all closed is
 * discarded and asks for no notification. */
static void test_system_clock(void) {
	configure(true, true, false, 0, 10, 0);
	CHECK_STR(render(BATCH("k=v1", "k=v2")), "|k:0:1010;");
	fake_now = 1009;
	CHECK_STR(render(NOTIFY("k")), "|k:0:1010;");
	fake_now = 1010;
	CHECK_STR(render(NOTIFY("k")), "k:E 100 v1,v2,;k:M 100 1000 1010;|k:1:0;");
	/* the discarded key has no state: its snapshot is a tombstone */
	bx_bytes snap = keys_req(8, (const char *const[]){"k"}, 1);
	CHECK(bx_equal(snap, (bx_bytes){(const uint8_t *)"\x00\x01\x01\x01k\x00\x00", 7}));
	CHECK_STR(render(eof()), "|");
}

/* Bytewax #413: align_to far in the past; ids are exact arithmetic. */
static int64_t id128(int64_t t, int64_t len, int64_t align) {
	__int128 d = (__int128)t - align, q = d / len;
	if (d % len != 0 && d < 0)
		q--;
	return q > INT64_MAX ? INT64_MAX : q < INT64_MIN ? INT64_MIN : (int64_t)q;
}

static void test_window_ids(void) {
	static const int64_t cases[][3] = {
	    {0, 10, 0},          {9, 10, 0},         {10, 10, 0},      {-1, 10, 0},      {-10, 10, 0},      {-11, 10, 0},
	    {5, 10, 3},          {2, 10, 3},         {-7, 10, 3},      {3, 10, -3},      {INT64_MAX, 7, 0}, {INT64_MIN, 7, 0},
	    {INT64_MAX, 1, INT64_MIN + 1}, {INT64_MIN, 1, INT64_MAX},
	    {1700000000000000000, 60000000000, INT64_MIN + 5},
	    {1700000000123456789, 1000, -9000000000000000000}, {INT64_MIN + 3, 1000000000, INT64_MAX - 4},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = cases[i][0], len = cases[i][1], align = cases[i][2];
		int64_t got = bx_window_id(bx_tumbling_windower(len, align), t), want = id128(t, len, align);
		if (got != want)
			fprintf(stderr, "  window id of %lld (length %lld, align %lld): got %lld, want %lld\n", (long long)t,
			        (long long)len, (long long)align, (long long)got, (long long)want),
			    failures++;
	}
	/* and through the operator, with the window's open and close */
	configure(false, true, true, 0, 60000000000, INT64_MIN + 5);
	int64_t t = 1700000000000000000, id = id128(t, 60000000000, INT64_MIN + 5);
	BATCH("k=1700000000000000000");
	const char *got = render(eof());
	int64_t open = t - (int64_t)(((__int128)t - (INT64_MIN + 5)) % 60000000000);
	bx_bytes want = bx_fmt("k:E %lld 1;k:M %lld %lld %lld;|k:1:0;", (long long)id, (long long)id, (long long)open,
	                       (long long)(open + 60000000000));
	CHECK_STR(got, bx_cstr_of(want));
}

/* A key's snapshot taken mid-window and restored into a new instance goes
 * on exactly as the instance that was not stopped: the same events. (A
 * restored key reports its notify_at again, which the host already had.) */
static char *run_steps(int restart_after) {
	configure(false, true, false, 5, 10, 0);
	static const char *const steps[][2] = {{"a=12", "b=3"}, {"a=9", "a=8"}, {"b=1", "a=13"}, {"a=21", "b=30"}};
	bx_writer all = {.heap = 1};
	for (int i = 0; i < 4; i++) {
		const char *r = render(batch(steps[i], 2));
		bx_w_raw(&all, r, strcspn(r, "|"));
		bx_w_u8(&all, '\n');
		if (i != restart_after)
			continue;
		bx_bytes snap = keys_req(8, (const char *const[]){"a", "b"}, 2);
		uint8_t *state = malloc(snap.len);
		memcpy(state, snap.ptr, snap.len);
		build(); /* a new instance */
		/* restore takes the snapshot's entries as they are */
		bx_writer w = {0};
		bx_w_u8(&w, 9);
		bx_w_uvarint(&w, wstep());
		bx_w_raw(&w, state + 2, snap.len - 2); /* after status and step */
		free(state);
		CHECK(bx_equal(call(bx_w_done(&w)), (bx_bytes){(const uint8_t *)"", 1}));
	}
	const char *r = render(eof());
	bx_w_raw(&all, r, strcspn(r, "|"));
	bx_w_u8(&all, 0);
	return (char *)all.ptr;
}

static void test_snapshot_restore(void) {
	char *straight = run_steps(-1);
	for (int at = 0; at < 3; at++) {
		char *resumed = run_steps(at);
		CHECK_STR(resumed, straight);
		free(resumed);
	}
	/* the windows were really open across the restart */
	CHECK(strstr(straight, "a:E 0 8,9,;") && strstr(straight, "a:E 1 12,13,;"));
	free(straight);
}

/* ---- property test: random streams against a brute-force model ------------ */

static uint64_t rng;
static uint64_t next_rand(void) {
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}
static int64_t rand_in(int64_t lo, int64_t hi) { return lo + (int64_t)(next_rand() % (uint64_t)(hi - lo + 1)); }

enum { NKEYS = 3, MAXITEMS = 400 };

typedef struct mitem {
	int key;
	int64_t ts;
	int seq;
	bool late;
} mitem;

static int by_key_line(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sorted_lines sorts the ';'-separated events before the '|' of r. */
static char *sorted_lines(const char *r) {
	char *s = strdup(r), *bar = strchr(s, '|');
	if (bar)
		*bar = 0;
	char *lines[MAXITEMS * 3];
	int n = 0;
	for (char *tok = strtok(s, ";"); tok; tok = strtok(NULL, ";"))
		lines[n++] = tok;
	qsort(lines, (size_t)n, sizeof *lines, by_key_line);
	bx_writer w = {.heap = 1};
	for (int i = 0; i < n; i++) {
		bx_w_raw(&w, lines[i], strlen(lines[i]));
		bx_w_u8(&w, ';');
	}
	bx_w_u8(&w, 0);
	free(s);
	return (char *)w.ptr;
}

/* model_closes lists, sorted, what a key's windows whose close the
 * watermark wm reached emit, once each (done marks them). */
static void model_closes(bx_writer *w, const mitem *items, int n, int key, int64_t wm, int64_t *done, int *ndone) {
	for (int i = 0; i < n; i++) {
		if (items[i].key != key || items[i].late)
			continue;
		int64_t id = bx_window_id(bx_tumbling_windower(cfg.length, cfg.align), items[i].ts);
		int64_t open = cfg.align + id * cfg.length, close = open + cfg.length;
		bool seen = false;
		for (int j = 0; j < *ndone; j++)
			seen |= done[j] == (key * 1000003 + id);
		if (seen || close > wm)
			continue;
		done[(*ndone)++] = key * 1000003 + id;
		/* the fold: the window's on-time values in (time, arrival) order */
		int order[MAXITEMS], m = 0;
		for (int j = 0; j < n; j++)
			if (items[j].key == key && !items[j].late &&
			    bx_window_id(bx_tumbling_windower(cfg.length, cfg.align), items[j].ts) == id)
				order[m++] = j;
		for (int a = 1; a < m; a++)
			for (int b = a; b > 0 && items[order[b]].ts < items[order[b - 1]].ts; b--) {
				int t = order[b];
				order[b] = order[b - 1], order[b - 1] = t;
			}
		bx_bytes line = bx_fmt("k%d:E %lld ", key, (long long)id);
		bx_w_raw(w, line.ptr, line.len);
		for (int j = 0; j < m; j++) {
			bx_bytes v = bx_fmt("%lld:%d,", (long long)items[order[j]].ts, items[order[j]].seq);
			bx_w_raw(w, v.ptr, v.len);
		}
		line = bx_fmt(";k%d:M %lld %lld %lld;", key, (long long)id, (long long)open, (long long)close);
		bx_w_raw(w, line.ptr, line.len);
	}
}

static void property_run(uint64_t seed) {
	rng = seed;
	configure(false, true, false, rand_in(0, 20), rand_in(1, 15), rand_in(-30, 30));
	mitem items[MAXITEMS];
	int n = 0, ndone = 0;
	int64_t wm[NKEYS], done[MAXITEMS];
	for (int k = 0; k < NKEYS; k++)
		wm[k] = INT64_MIN;
	int64_t base = rand_in(0, 50);
	while (n < MAXITEMS - 10) {
		int bn = (int)rand_in(1, 8);
		const char *kvs[8];
		bx_writer want = {.heap = 1};
		for (int i = 0; i < bn; i++) {
			mitem it = {(int)rand_in(0, NKEYS - 1), base + rand_in(-25, 10), n, false};
			base += rand_in(0, 3);
			int64_t cand = it.ts - cfg.wait;
			it.late = it.ts < wm[it.key];
			if (cand > wm[it.key])
				wm[it.key] = cand;
			items[n++] = it;
			kvs[i] = bx_cstr_of(bx_fmt("k%d=%lld:%d", it.key, (long long)it.ts, it.seq));
			if (it.late) {
				bx_bytes line = bx_fmt("k%d:L %lld %lld:%d;", it.key,
				                       (long long)bx_window_id(bx_tumbling_windower(cfg.length, cfg.align), it.ts),
				                       (long long)it.ts, it.seq);
				bx_w_raw(&want, line.ptr, line.len);
			}
		}
		for (int k = 0; k < NKEYS; k++)
			model_closes(&want, items, n, k, wm[k], done, &ndone);
		bx_w_u8(&want, 0);
		char *w = sorted_lines((const char *)want.ptr);
		free(want.ptr);
		char *got = sorted_lines(render(batch(kvs, (size_t)bn)));
		CHECK_STR(got, w);
		free(got), free(w);
		if (rand_in(0, 9) == 0) { /* a restart from a snapshot */
			bx_bytes snap = keys_req(8, (const char *const[]){"k0", "k1", "k2"}, 3);
			uint8_t *state = malloc(snap.len);
			memcpy(state, snap.ptr, snap.len);
			build();
			bx_writer r = {0};
			bx_w_u8(&r, 9);
			bx_w_uvarint(&r, wstep());
			bx_w_raw(&r, state + 2, snap.len - 2);
			free(state);
			call(bx_w_done(&r));
		}
	}
	bx_writer want = {.heap = 1};
	for (int k = 0; k < NKEYS; k++)
		model_closes(&want, items, n, k, INT64_MAX, done, &ndone);
	bx_w_u8(&want, 0);
	char *w = sorted_lines((const char *)want.ptr);
	char *got = sorted_lines(render(eof()));
	CHECK_STR(got, w);
	free(got), free(w), free(want.ptr);
}

static void test_property(void) {
	int before = failures;
	for (uint64_t seed = 1; seed <= 40 && failures == before; seed++)
		property_run(seed * 0x9e3779b97f4a7c15ull);
}

void test_windows(void) {
	test_count_window();
	test_event_clock();
	test_out_of_order();
	test_system_clock();
	test_window_ids();
	test_snapshot_restore();
	test_property();
}
