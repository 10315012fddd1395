/*
 * bxwasm_window.c - windowing for the C guest SDK, with Bytewax 0.21's
 * semantics (bytewax.windowing): clocks, the tumbling windower, and
 * fold_window / count_window built on stateful_batch.
 *
 * Each key's logic keeps, in its bx_state, the clock's state, the open
 * windows (in the order they opened) with their accumulators, and the
 * values not yet due (ordered mode). The state is this module's encoding:
 *
 *   varint now, varint sys_max, varint base,
 *   uvarint nwin, nwin x (varint id, varint open, bytes acc),
 *   uvarint nq,   nq   x (varint ts, bytes value)
 *
 * and is the key's snapshot. Where this differs from Bytewax, on purpose:
 * window ids are integer arithmetic (never a loop from align_to, #413);
 * the watermark never goes back, so out-of-order input never fails an
 * assertion (#470); notify_at is the system time at which the watermark
 * reaches the earliest close (or the earliest value not yet due), and
 * none when nothing is open, so an idle key is never woken (#578); a key
 * with nothing open is discarded, so the store stays bounded.
 */
#include "bxwasm.h"

#include <stdlib.h>
#include <string.h>

/* ---- time arithmetic ------------------------------------------------------ */

static int64_t sat_add(int64_t a, int64_t b) {
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t sat_sub(int64_t a, int64_t b) {
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* floor_div and floor_mod for b > 0. */
static int64_t floor_div(int64_t a, int64_t b) {
	int64_t q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b) {
	int64_t m = a % b;
	return m < 0 ? m + b : m;
}

/* window_offset is (t - align_to) mod length, without forming t - align_to. */
static int64_t window_offset(bx_windower w, int64_t t) {
	int64_t r = floor_mod(t, w.length) - floor_mod(w.align_to, w.length);
	return r < 0 ? r + w.length : r;
}

int64_t bx_window_id(bx_windower w, int64_t t) {
	/* t = qt*L + rt and a = qa*L + ra, so floor((t - a) / L) is
	 * qt - qa - (rt < ra): no intermediate overflows unless L is 1 */
	int64_t q = sat_sub(floor_div(t, w.length), floor_div(w.align_to, w.length));
	return floor_mod(t, w.length) < floor_mod(w.align_to, w.length) ? sat_sub(q, 1) : q;
}

bx_clock bx_system_clock(void) { return (bx_clock){0}; }

bx_clock bx_event_clock(bx_ts_fn ts, int64_t wait) { return (bx_clock){ts, wait, NULL, NULL}; }

bx_windower bx_tumbling_windower(int64_t length, int64_t align_to) { return (bx_windower){length, align_to}; }

/* ---- a key's state ---------------------------------------------------------- */

typedef struct wwin {
	int64_t id, open;
	bx_bytes acc;
} wwin;

typedef struct wentry {
	int64_t ts;
	bx_bytes value;
} wentry;

/* wstate is a key's state, decoded into the call's arena. now is the
 * latest system time seen (it never goes back); sys_max and base are the
 * event clock's: the watermark is base + (now - sys_max). */
typedef struct wstate {
	int64_t now, sys_max, base;
	wwin *win;
	size_t nwin;
	wentry *q;
	size_t nq;
} wstate;

/* wctx is a window step's configuration, the ctx of its bx_logic. */
typedef struct wctx {
	bx_clock clock;
	bx_windower windower;
	bx_init_fn builder;
	bx_fold_fn folder;
	bool ordered;
	void *ctx;
} wctx;

static int64_t system_now(const wctx *c) { return c->clock.now ? c->clock.now(c->clock.now_ctx) : bx_now(); }

/* ws_decode reads a key's state, with room for n more windows and queued
 * values; an unset state is a fresh key's, whose clock starts now. */
static wstate ws_decode(const wctx *c, const bx_state *st, size_t n) {
	wstate ws = {0};
	bx_reader r = bx_reader_of(bx_state_bytes(st));
	if (st->set) {
		ws.now = bx_r_varint(&r);
		ws.sys_max = bx_r_varint(&r);
		ws.base = bx_r_varint(&r);
	} else {
		ws.now = ws.sys_max = system_now(c);
		ws.base = INT64_MIN;
	}
	/* each queued value may open a window */
	size_t nwin = st->set ? (size_t)bx_r_uvarint(&r) : 0;
	if (nwin > r.len)
		bx_fail("window state does not decode: %zu windows in %zu bytes", nwin, r.len);
	wwin *win = bx_alloc(nwin * sizeof(wwin) + 1);
	for (size_t i = 0; i < nwin; i++) {
		win[i].id = bx_r_varint(&r);
		win[i].open = bx_r_varint(&r);
		win[i].acc = bx_r_bytes(&r);
	}
	size_t nq = st->set ? (size_t)bx_r_uvarint(&r) : 0;
	if (nq > r.len)
		bx_fail("window state does not decode: %zu queued values in %zu bytes", nq, r.len);
	ws.q = bx_alloc((nq + n + 1) * sizeof(wentry));
	for (; ws.nq < nq; ws.nq++) {
		ws.q[ws.nq].ts = bx_r_varint(&r);
		ws.q[ws.nq].value = bx_r_bytes(&r);
	}
	ws.win = bx_alloc((nwin + nq + n + 1) * sizeof(wwin));
	memcpy(ws.win, win, nwin * sizeof(wwin));
	ws.nwin = nwin;
	if (st->set && !bx_r_end(&r))
		bx_fail("window state does not decode: %s", r.err ? r.err : "bytes left over");
	return ws;
}

/* ws_encode stores ws in st (through the arena: ws points into st). */
static void ws_encode(const wstate *ws, bx_state *st) {
	bx_writer w = {0};
	bx_w_varint(&w, ws->now);
	bx_w_varint(&w, ws->sys_max);
	bx_w_varint(&w, ws->base);
	bx_w_uvarint(&w, ws->nwin);
	for (size_t i = 0; i < ws->nwin; i++) {
		bx_w_varint(&w, ws->win[i].id);
		bx_w_varint(&w, ws->win[i].open);
		bx_w_bytes(&w, ws->win[i].acc);
	}
	bx_w_uvarint(&w, ws->nq);
	for (size_t i = 0; i < ws->nq; i++) {
		bx_w_varint(&w, ws->q[i].ts);
		bx_w_bytes(&w, ws->q[i].value);
	}
	bx_state_set(st, bx_w_done(&w));
}

/* ---- the clock ----------------------------------------------------------------- */

/* tick reads the system time, which never goes back (Bytewax's
 * before_batch). */
static void tick(const wctx *c, wstate *ws) {
	int64_t now = system_now(c);
	if (now > ws->now)
		ws->now = now;
}

/* watermark is the key's watermark at ws->now. */
static int64_t watermark(const wctx *c, const wstate *ws) {
	if (!c->clock.ts)
		return ws->now;
	return sat_add(ws->base, sat_sub(ws->now, ws->sys_max));
}

/* on_item returns a value's timestamp and sets *wm to the watermark after
 * it: an event time past the watermark's own pace moves it forward. */
static int64_t on_item(const wctx *c, wstate *ws, bx_bytes value, int64_t *wm) {
	if (!c->clock.ts) {
		*wm = ws->now;
		return ws->now;
	}
	int64_t ts = c->clock.ts(c->ctx, value);
	int64_t cur = watermark(c, ws), cand = sat_sub(ts, c->clock.wait);
	if (cand > cur) {
		ws->base = cand;
		ws->sys_max = ws->now;
		cur = cand;
	}
	*wm = cur;
	return ts;
}

/* to_system is the system time at which the watermark reaches t. */
static int64_t to_system(const wctx *c, const wstate *ws, int64_t t) {
	if (!c->clock.ts)
		return t;
	return sat_add(sat_sub(t, ws->base), ws->sys_max);
}

/* ---- events -------------------------------------------------------------------- */

/* Events of the stateful step, split by the unwrap steps: a tag byte, the
 * window id, then the value (or open and close for meta). */
enum { EV_DOWN = 'E', EV_LATE = 'L', EV_META = 'M' };

static void push_event(bx_items *emit, uint8_t tag, int64_t id, bx_bytes value) {
	bx_writer w = {0};
	bx_w_u8(&w, tag);
	bx_w_varint(&w, id);
	bx_w_raw(&w, value.ptr, value.len);
	bx_push_value(emit, bx_w_done(&w));
}

static void push_meta(bx_items *emit, int64_t id, int64_t open, int64_t close) {
	bx_writer w = {0};
	bx_w_varint(&w, open);
	bx_w_varint(&w, close);
	push_event(emit, EV_META, id, bx_w_done(&w));
}

bool bx_window_value(bx_bytes v, int64_t *window_id, bx_bytes *value) {
	bx_reader r = bx_reader_of(v);
	int64_t id = bx_r_varint(&r);
	if (r.err)
		return false;
	*window_id = id;
	*value = bx_slice(v, r.off, v.len);
	return true;
}

bool bx_window_meta(bx_bytes v, int64_t *window_id, int64_t *open, int64_t *close) {
	bx_reader r = bx_reader_of(v);
	int64_t id = bx_r_varint(&r), o = bx_r_varint(&r), cl = bx_r_varint(&r);
	if (!bx_r_end(&r))
		return false;
	*window_id = id, *open = o, *close = cl;
	return true;
}

/* ---- the window logic ---------------------------------------------------------- */

/* insert folds a due value into its window, opening it if needed. */
static void insert(const wctx *c, wstate *ws, wentry e) {
	int64_t id = bx_window_id(c->windower, e.ts);
	wwin *w = NULL;
	for (size_t i = 0; i < ws->nwin && !w; i++)
		if (ws->win[i].id == id)
			w = &ws->win[i];
	if (!w) {
		w = &ws->win[ws->nwin++];
		*w = (wwin){id, sat_sub(e.ts, window_offset(c->windower, e.ts)), c->builder(c->ctx)};
	}
	w->acc = c->folder(c->ctx, w->acc, e.value);
}

/* dueent is a due value and its place in arrival order, which breaks
 * ties of the timestamp order (qsort is not stable). */
typedef struct dueent {
	wentry e;
	size_t seq;
} dueent;

static int by_ts(const void *a, const void *b) {
	const dueent *x = a, *y = b;
	if (x->e.ts != y->e.ts)
		return x->e.ts < y->e.ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* flush folds the due values in (ordered: those the watermark reached, in
 * timestamp order; otherwise all, in arrival order), then closes the
 * windows the watermark reached, in the order they opened. */
static void flush(const wctx *c, wstate *ws, int64_t wm, bx_items *emit) {
	size_t ndue = 0, nkeep = 0;
	dueent *due = bx_alloc((ws->nq + 1) * sizeof(dueent));
	for (size_t i = 0; i < ws->nq; i++) {
		if (c->ordered && ws->q[i].ts > wm) {
			ws->q[nkeep++] = ws->q[i];
			continue;
		}
		due[ndue].e = ws->q[i];
		due[ndue].seq = ndue;
		ndue++;
	}
	ws->nq = nkeep;
	if (c->ordered)
		qsort(due, ndue, sizeof *due, by_ts);
	for (size_t i = 0; i < ndue; i++)
		insert(c, ws, due[i].e);
	size_t open = 0;
	for (size_t i = 0; i < ws->nwin; i++) {
		wwin w = ws->win[i];
		int64_t close = sat_add(w.open, c->windower.length);
		if (close > wm) {
			ws->win[open++] = w;
			continue;
		}
		push_event(emit, EV_DOWN, w.id, w.acc);
		push_meta(emit, w.id, w.open, close);
	}
	ws->nwin = open;
}

/* finish flushes, stores the state and reports whether the key is empty
 * (nothing open, nothing queued): then it is discarded. */
static bool finish(const wctx *c, wstate *ws, int64_t wm, bx_state *st, bx_items *emit) {
	flush(c, ws, wm, emit);
	ws_encode(ws, st);
	return ws->nwin == 0 && ws->nq == 0;
}

static bool w_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	(void)key;
	const wctx *c = ctx;
	wstate ws = ws_decode(c, st, n);
	tick(c, &ws);
	int64_t wm = watermark(c, &ws);
	for (size_t i = 0; i < n; i++) {
		int64_t ts = on_item(c, &ws, values[i], &wm);
		if (ts < wm)
			push_event(emit, EV_LATE, bx_window_id(c->windower, ts), values[i]);
		else
			ws.q[ws.nq++] = (wentry){ts, values[i]};
	}
	return finish(c, &ws, wm, st, emit);
}

static bool w_notify(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	(void)key;
	const wctx *c = ctx;
	wstate ws = ws_decode(c, st, 0);
	tick(c, &ws);
	return finish(c, &ws, watermark(c, &ws), st, emit);
}

static bool w_eof(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	(void)key;
	const wctx *c = ctx;
	wstate ws = ws_decode(c, st, 0);
	return finish(c, &ws, INT64_MAX, st, emit);
}

/* w_notify_at: when the earliest open window closes, or the earliest
 * queued value becomes due; 0 (none) when there is neither. */
static int64_t w_notify_at(void *ctx, bx_bytes key, const bx_state *st) {
	(void)key;
	const wctx *c = ctx;
	wstate ws = ws_decode(c, st, 0);
	bool any = false;
	int64_t at = INT64_MAX;
	for (size_t i = 0; i < ws.nwin; i++, any = true) {
		int64_t close = sat_add(ws.win[i].open, c->windower.length);
		at = close < at ? close : at;
	}
	for (size_t i = 0; i < ws.nq; i++, any = true)
		at = ws.q[i].ts < at ? ws.q[i].ts : at;
	return any ? to_system(c, &ws, at) : 0;
}

static const bx_logic window_logic = {NULL, w_batch, w_notify, w_eof, w_notify_at, NULL};

/* ---- the operators -------------------------------------------------------------- */

static bool unwrap(uint8_t tag, bx_item in, bx_item *out) {
	if (!in.value.len || in.value.ptr[0] != tag)
		return false;
	*out = in;
	out->value = bx_slice(in.value, 1, in.value.len);
	return true;
}

static void unwrap_run(void *ctx, const bx_item *items, size_t n, bx_items *out) {
	uint8_t tag = (uint8_t)(uintptr_t)ctx;
	for (size_t i = 0; i < n; i++) {
		bx_item it;
		if (unwrap(tag, items[i], &it))
			bx_push(out, it);
	}
}

/* unwrap_step is Bytewax's filter_map_value "unwrap_<what>" of one tag. */
static bx_stream unwrap_step(bx_stream events, const char *id, uint8_t tag) {
	bx_stream s = bx_scope("flat_map", bx_scope("flat_map_value", bx_scope(id, events)));
	s = bx_flat_map_batch("flat_map_batch", s, unwrap_run, (void *)(uintptr_t)tag);
	s.scope = events.scope;
	return s;
}

static bool window_ok(bx_stream up, const char *id, bx_clock clock, bx_windower w) {
	if (w.length <= 0)
		bx_flow_error(up.flow, "step \"%s\": the tumbling windower's length must be positive, got %lldns",
		              id ? id : "", (long long)w.length);
	if (clock.ts && clock.wait < 0)
		bx_flow_error(up.flow, "step \"%s\": the event clock's wait_for_system_duration must not be negative, got %lldns",
		              id ? id : "", (long long)clock.wait);
	return w.length > 0 && (!clock.ts || clock.wait >= 0);
}

bx_window_out bx_fold_window(const char *id, bx_stream up, bx_clock clock, bx_windower windower, bx_init_fn builder,
                             bx_fold_fn folder, bool ordered, void *ctx) {
	bx_window_out out = {up, up, up};
	if (up.flow && (!builder || !folder))
		bx_flow_error(up.flow, "nil argument: FoldWindow \"%s\" needs a builder and a folder", id ? id : "");
	if (!up.flow || !builder || !folder || !window_ok(up, id, clock, windower))
		return out;
	bx_stream in = bx_scope("window", bx_scope(id, up));
	wctx *c = bx_flow_alloc(up.flow, sizeof *c);
	*c = (wctx){clock, windower, builder, folder, ordered, ctx};
	bx_stream events = bx_stateful_batch("stateful_batch", in, &window_logic, c);
	out.down = unwrap_step(events, "unwrap_down", EV_DOWN);
	out.late = unwrap_step(events, "unwrap_late", EV_LATE);
	out.meta = unwrap_step(events, "unwrap_meta", EV_META);
	out.down.scope = out.late.scope = out.meta.scope = up.scope;
	return out;
}

/* count_window: key_on, then a fold of int64 counts. */
typedef struct count_ctx {
	bx_key_fn key;
	bx_ts_fn ts;
	void *ctx;
} count_ctx;

static bx_bytes count_key(void *ctx, bx_item it) {
	const count_ctx *c = ctx;
	return c->key ? c->key(c->ctx, it) : it.value;
}

static int64_t count_ts(void *ctx, bx_bytes value) {
	const count_ctx *c = ctx;
	return c->ts(c->ctx, value);
}

static bx_bytes count_zero(void *ctx) {
	(void)ctx;
	return bx_i64(0);
}

static bx_bytes count_one(void *ctx, bx_bytes acc, bx_bytes value) {
	(void)ctx, (void)value;
	int64_t n = 0;
	if (!bx_get_i64(acc, &n))
		bx_fail("count_window: a count does not decode");
	return bx_i64(n + 1);
}

bx_window_out bx_count_window(const char *id, bx_stream up, bx_clock clock, bx_windower windower, bx_key_fn key,
                              void *ctx) {
	bx_window_out out = {up, up, up};
	if (!up.flow || !window_ok(up, id, clock, windower))
		return out;
	count_ctx *c = bx_flow_alloc(up.flow, sizeof *c);
	*c = (count_ctx){key, clock.ts, ctx};
	if (clock.ts)
		clock.ts = count_ts;
	bx_stream in = bx_scope(id, up);
	bx_stream keyed = bx_key_on("keyed", in, count_key, c);
	out = bx_fold_window("sum", keyed, clock, windower, count_zero, count_one, false, c);
	out.down.scope = out.late.scope = out.meta.scope = up.scope;
	return out;
}
