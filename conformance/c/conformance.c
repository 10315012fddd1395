/*
 * The conformance flows (conformance/README.md) written with the C guest
 * SDK. Build: guest-sdk/c/build.sh conformance/c conformance-c.wasm
 */
#include "bxwasm.h"

#include <stdio.h>
#include <string.h>

/* ---- shared helpers ---------------------------------------------------- */

static bx_item lower(void *ctx, bx_item line) {
	line.value = bx_lower(line.value);
	return line;
}

static void split(void *ctx, bx_item line, bx_items *out) { bx_push_fields(out, line.value); }

static bx_bytes identity(void *ctx, bx_item it) { return it.value; }

static int64_t i64_of(bx_bytes b) {
	int64_t v = 0;
	if (!bx_get_i64(b, &v))
		bx_fail("value is not an encoded int64");
	return v;
}

/* key_tab_i64 renders (key, int64) as "KEY<TAB>N". */
static bx_item key_tab_i64(void *ctx, bx_item kv) {
	bx_item out = {kv.key, bx_fmt("%.*s\t%lld", (int)kv.key.len, (const char *)kv.key.ptr, (long long)i64_of(kv.value)),
	               false};
	return out;
}

/* key_value splits "KEY,VALUE" into the trimmed parts, KEY non-empty. */
static bool key_value(void *ctx, bx_item line, bx_item *out) {
	bx_bytes k, v;
	if (!bx_cut(line.value, ',', &k, &v))
		return false;
	k = bx_trim(k);
	if (!k.len)
		return false;
	*out = (bx_item){k, bx_trim(v), true};
	return true;
}

/* ---- 1. wordcount ------------------------------------------------------ */

static bx_flow *wordcount(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("wordcount");
	bx_stream s = bx_input(f, "inp", bx_file_source(bx_arg_str(a, 0)));
	s = bx_redistribute("spread", s);
	s = bx_map("lower", s, lower, NULL);
	s = bx_flat_map("split", s, split, NULL);
	s = bx_count_final("count", s, identity, NULL);
	s = bx_map("format", s, key_tab_i64, NULL);
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 1)));
	return f;
}

/* ---- 2. running_sum ---------------------------------------------------- */

static bool parse_amount(void *ctx, bx_item line, bx_item *out) {
	int64_t n;
	if (!key_value(ctx, line, out) || !bx_parse_i64(out->value, &n))
		return false;
	out->value = bx_i64(n);
	return true;
}

static bx_bytes add(void *ctx, bx_bytes key, bx_state *st, bx_bytes value) {
	int64_t total = bx_state_i64(st) + i64_of(value);
	bx_state_set_i64(st, total);
	return bx_i64(total);
}

static bx_flow *running_sum(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("running_sum");
	bx_stream s = bx_input(f, "inp", bx_file_source(bx_arg_str(a, 0)));
	s = bx_filter_map("parse", s, parse_amount, NULL);
	s = bx_stateful_map("total", s, add, NULL);
	s = bx_map("format", s, key_tab_i64, NULL);
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 1)));
	return f;
}

/* ---- 3. branch_merge --------------------------------------------------- */

static bool parse_int(void *ctx, bx_item line, bx_item *out) {
	int64_t n;
	if (!bx_parse_i64(bx_trim(line.value), &n))
		return false;
	*out = (bx_item){{NULL, 0}, bx_i64(n), false};
	return true;
}

static bool is_even(void *ctx, bx_item it) { return i64_of(it.value) % 2 == 0; }

static bx_item square(void *ctx, bx_item it) {
	int64_t n = i64_of(it.value);
	it.value = bx_fmt("even\t%lld", (long long)(n * n));
	return it;
}

static bx_item negate(void *ctx, bx_item it) {
	it.value = bx_fmt("odd\t%lld", (long long)-i64_of(it.value));
	return it;
}

static bx_flow *branch_merge(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("branch_merge");
	bx_stream s = bx_input(f, "inp", bx_file_source(bx_arg_str(a, 0)));
	s = bx_filter_map("parse", s, parse_int, NULL);
	bx_stream evens, odds;
	bx_branch("even_or_odd", s, is_even, NULL, &evens, &odds);
	bx_stream both[2] = {bx_map("square", evens, square, NULL), bx_map("negate", odds, negate, NULL)};
	s = bx_merge("merge", both, 2);
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 1)));
	return f;
}

/* ---- 4. custom_source ------------------------------------------------ */

typedef struct numbers {
	int64_t parts, per_part;
} numbers;

typedef struct number_part {
	int64_t base, next, per_part;
} number_part;

static void numbers_list(void *ctx, uint32_t worker, uint32_t workers, bx_items *names) {
	numbers *n = ctx;
	for (int64_t p = 0; p < n->parts; p++)
		bx_push_value(names, bx_fmt("part-%lld", (long long)p));
}

static void numbers_build(void *ctx, const bx_part_info *info, void *part) {
	numbers *n = ctx;
	number_part *p = part;
	int64_t idx = 0;
	bx_bytes name = info->part;
	if (name.len < 6 || !bx_parse_i64(bx_slice(name, 5, name.len), &idx))
		bx_fail("no such partition");
	p->base = idx * n->per_part;
	p->per_part = n->per_part;
	if (info->resume)
		p->next = i64_of(*info->resume);
}

static bool numbers_next(void *ctx, void *part, bx_items *out) {
	number_part *p = part;
	for (int k = 0; k < 7 && p->next < p->per_part; k++, p->next++)
		bx_push_value(out, bx_i64(p->base + p->next));
	return p->next >= p->per_part;
}

static bx_bytes numbers_snapshot(void *ctx, void *part) { return bx_i64(((number_part *)part)->next); }

static const bx_source_vt numbers_vt = {sizeof(number_part), numbers_list, numbers_build, numbers_next, NULL,
                                        numbers_snapshot, NULL};

static bx_item format_number(void *ctx, bx_item it) {
	numbers *n = ctx;
	int64_t v = i64_of(it.value);
	it.value = bx_fmt("part-%lld\t%lld", (long long)(v / n->per_part), (long long)v);
	return it;
}

static bx_flow *custom_source(void *ctx, const bx_args *a) {
	int64_t parts = bx_arg_int(a, 0), per_part = bx_arg_int(a, 1);
	if (parts < 1 || per_part < 1)
		return bx_refuse("need parts >= 1 and per_part >= 1, got parts=%lld per_part=%lld", (long long)parts,
		                 (long long)per_part);
	bx_flow *f = bx_dataflow("custom_source");
	numbers *n = bx_flow_alloc(f, sizeof *n);
	n->parts = parts;
	n->per_part = per_part;
	bx_stream s = bx_input(f, "numbers", bx_partitioned_source(&numbers_vt, n));
	s = bx_map("format", s, format_number, n);
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 2)));
	return f;
}

/* ---- 5. timers ------------------------------------------------------- */

typedef struct events {
	int64_t keys, per_key;
} events;

typedef struct events_part {
	int64_t next, deadline;
} events_part;

static void events_list(void *ctx, uint32_t worker, uint32_t workers, bx_items *names) {
	bx_push_value(names, bx_str("events"));
}

static void events_build(void *ctx, const bx_part_info *info, void *part) {
	events_part *p = part;
	if (info->resume)
		p->next = i64_of(*info->resume);
}

static bool events_next(void *ctx, void *part, bx_items *out) {
	events *e = ctx;
	events_part *p = part;
	int64_t total = e->keys * e->per_key;
	if (p->next < total) {
		for (int k = 0; k < 5 && p->next < total; k++, p->next++)
			bx_push_kv(out, bx_fmt("k%lld", (long long)(p->next % e->keys)), bx_itoa(p->next));
		return false;
	}
	if (!p->deadline) {
		p->deadline = bx_now() + 2000000000LL;
		return false;
	}
	return bx_now() >= p->deadline;
}

static int64_t events_awake(void *ctx, void *part) { return ((events_part *)part)->deadline; }

static bx_bytes events_snapshot(void *ctx, void *part) { return bx_i64(((events_part *)part)->next); }

static const bx_source_vt events_vt = {sizeof(events_part), events_list, events_build, events_next, events_awake,
                                       events_snapshot, NULL};

/* collect's state: the deadline (8 bytes), then the values, each as
 * length-prefixed bytes. */
static bool collect_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	if (st->len < 8) {
		int64_t deadline = bx_now() + 20000000LL;
		bx_state_set(st, (bx_bytes){(const uint8_t *)&deadline, 8});
	}
	for (size_t i = 0; i < n; i++) {
		bx_writer w = {0};
		bx_w_bytes(&w, values[i]);
		bx_state_append(st, bx_w_done(&w));
	}
	return false;
}

static void emit_kept(bx_bytes key, const bx_state *st, const char *suffix, bx_items *emit) {
	bx_reader r = bx_reader_of(bx_slice(bx_state_bytes(st), 8, st->len));
	while (r.off < r.len) {
		bx_bytes v = bx_r_bytes(&r);
		if (r.err)
			bx_fail("corrupt state: %s", r.err);
		bx_push_value(emit, bx_fmt("%.*s\t%.*s%s", (int)key.len, (const char *)key.ptr, (int)v.len,
		                           (const char *)v.ptr, suffix));
	}
}

static bool collect_notify(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	emit_kept(key, st, "", emit);
	return true;
}

static bool collect_eof(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	emit_kept(key, st, "\tlate", emit);
	return true;
}

static int64_t collect_notify_at(void *ctx, bx_bytes key, const bx_state *st) {
	int64_t deadline = 0;
	if (st->len >= 8)
		memcpy(&deadline, st->ptr, 8);
	return deadline;
}

static const bx_logic collect_logic = {NULL, collect_batch, collect_notify, collect_eof, collect_notify_at, NULL};

static bx_flow *timers(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("timers");
	events *e = bx_flow_alloc(f, sizeof *e);
	e->keys = bx_arg_int(a, 0);
	e->per_key = bx_arg_int(a, 1);
	bx_stream s = bx_input(f, "events", bx_partitioned_source(&events_vt, e));
	s = bx_stateful_batch("collect", s, &collect_logic, NULL);
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 2)));
	return f;
}

/* ---- 6. discard ------------------------------------------------------ */

typedef struct session {
	int64_t sum, count;
} session;

static bool session_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	session *s = bx_state_resize(st, sizeof(session));
	bool ended = false;
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		ended = false;
		if (bx_eq(values[i], "end")) {
			bx_push_value(emit, bx_fmt("%.*s\t%lld\t%lld", (int)key.len, (const char *)key.ptr, (long long)s->sum,
			                           (long long)s->count));
			s->sum = s->count = 0;
			ended = true;
		} else if (bx_parse_i64(values[i], &v)) {
			s->sum += v;
			s->count++;
		}
	}
	return ended;
}

static bool session_eof(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	session *s = bx_state_resize(st, sizeof(session));
	bx_push_value(emit, bx_fmt("%.*s\t%lld\t%lld\topen", (int)key.len, (const char *)key.ptr, (long long)s->sum,
	                           (long long)s->count));
	return true;
}

static const bx_logic session_logic = {NULL, session_batch, NULL, session_eof, NULL, NULL};

static bx_flow *discard(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("discard");
	bx_stream s = bx_input(f, "inp", bx_file_source(bx_arg_str(a, 0)));
	s = bx_filter_map("parse", s, key_value, NULL);
	s = bx_stateful_batch("session", s, &session_logic, NULL);
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 1)));
	return f;
}

/* ---- 7. fail ----------------------------------------------------------- */

static bx_bytes sum_or_boom(void *ctx, bx_bytes key, bx_state *st, bx_bytes value) {
	int64_t v, total = bx_state_i64(st);
	if (bx_eq(value, "boom"))
		bx_fail("boom at %.*s", (int)key.len, (const char *)key.ptr);
	if (bx_parse_i64(value, &v))
		total += v;
	bx_state_set_i64(st, total);
	return bx_i64(total);
}

static bx_flow *fail(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("fail");
	bx_stream s = bx_input(f, "inp", bx_file_source(bx_arg_str(a, 0)));
	s = bx_filter_map("parse", s, key_value, NULL);
	s = bx_stateful_map("sum", s, sum_or_boom, NULL);
	s = bx_map("format", s, key_tab_i64, NULL);
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 1)));
	return f;
}

/* ---- 9. window_count ---------------------------------------------------- */

#define SECOND 1000000000LL

/* parse_event keeps a "KEY,SECONDS" line as (key, int64 seconds). */
static bool parse_event(void *ctx, bx_item line, bx_item *out) {
	bx_bytes k, v;
	int64_t t;
	if (!bx_cut(line.value, ',', &k, &v) || !bx_trim(k).len || !bx_parse_i64(bx_trim(v), &t))
		return false;
	*out = (bx_item){bx_trim(k), bx_i64(t), true};
	return true;
}

static int64_t event_ns(void *ctx, bx_bytes value) { return i64_of(value) * SECOND; }

static bx_bytes event_key(void *ctx, bx_item it) { return it.key; }

/* format_down renders a closed window as "KEY<TAB>ID<TAB>COUNT". */
static bx_item format_down(void *ctx, bx_item it) {
	int64_t id = 0;
	bx_bytes count;
	if (!bx_window_value(it.value, &id, &count))
		bx_fail("not a window value");
	it.value = bx_fmt("%.*s\t%lld\t%lld", (int)it.key.len, (const char *)it.key.ptr, (long long)id, (long long)i64_of(count));
	it.has_key = false;
	return it;
}

/* format_late renders a late event as "late:KEY<TAB>SECONDS". */
static bx_item format_late(void *ctx, bx_item it) {
	int64_t id = 0;
	bx_bytes ev;
	if (!bx_window_value(it.value, &id, &ev))
		bx_fail("not a window value");
	it.value = bx_fmt("late:%.*s\t%lld", (int)it.key.len, (const char *)it.key.ptr, (long long)i64_of(ev));
	it.has_key = false;
	return it;
}

static bx_flow *window_count(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("window_count");
	bx_stream s = bx_input(f, "inp", bx_file_source(bx_arg_str(a, 0)));
	s = bx_filter_map("parse", s, parse_event, NULL);
	bx_window_out w = bx_count_window("count", s, bx_event_clock(event_ns, 60 * SECOND), bx_tumbling_windower(300 * SECOND, 0),
	                                  event_key, NULL);
	bx_stream outs[2] = {bx_map("format_down", w.down, format_down, NULL), bx_map("format_late", w.late, format_late, NULL)};
	bx_output("out", bx_merge("all", outs, 2), bx_file_sink(bx_arg_str(a, 1)));
	return f;
}

/* ---- 8. args ----------------------------------------------------------- */

static bx_flow *args(void *ctx, const bx_args *a) {
	double milli = bx_arg_float(a, 2) * 1000;
	long long f_milli = (long long)(milli < 0 ? milli - 0.5 : milli + 0.5);
	bx_bytes item = bx_fmt("s=%s|i=%lld|f_milli=%lld|b=%s", bx_arg_str(a, 0), (long long)bx_arg_int(a, 1), f_milli,
	                       bx_arg_bool(a, 3) ? "true" : "false");
	bx_flow *f = bx_dataflow("args");
	bx_stream s = bx_input(f, "inp", bx_testing_source(f, &item, 1, 1));
	bx_output("out", s, bx_file_sink(bx_arg_str(a, 4)));
	return f;
}

void bx_setup(void) {
	bx_register("wordcount", wordcount, NULL, "inp string, out string");
	bx_register("running_sum", running_sum, NULL, "inp string, out string");
	bx_register("branch_merge", branch_merge, NULL, "inp string, out string");
	bx_register("custom_source", custom_source, NULL, "parts int, per_part int, out string");
	bx_register("timers", timers, NULL, "keys int, per_key int, out string");
	bx_register("discard", discard, NULL, "inp string, out string");
	bx_register("fail", fail, NULL, "inp string, out string");
	bx_register("args", args, NULL, "s string, i int, f float64, b bool, out string");
	bx_register("window_count", window_count, NULL, "inp string, out string");
}
