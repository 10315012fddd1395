/*
 * bxwasm.c - the C guest SDK of bxwasm: the ABI v1 dispatcher, the flow
 * builder, the stateful runtime and the library operators. See bxwasm.h
 * and docs/abi.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "bxwasm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __wasm__
#define BX_EXPORT(name) __attribute__((export_name(name)))
#else
#define BX_EXPORT(name)
#endif

/* Unaligned little-endian loads (one instruction each in wasm). */
static inline uint64_t load64(const uint8_t *p) {
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t load32(const uint8_t *p) {
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

enum { OP_LIST_FLOWS = 1, OP_BUILD, OP_FUSE, OP_RUN_CHAIN, OP_STATEFUL_BATCH, OP_NOTIFY, OP_EOF,
       OP_SNAPSHOT, OP_RESTORE, OP_LIST_PARTS, OP_BUILD_PART, OP_NEXT_BATCH, OP_WRITE_BATCH,
       OP_PART_SNAPSHOT, OP_CLOSE_PART };
enum { K_INPUT = 1, K_OUTPUT, K_FLAT_MAP_BATCH, K_BRANCH, K_MERGE, K_REDISTRIBUTE, K_INSPECT_DEBUG,
       K_STATEFUL_BATCH };
enum { C_PARTITIONED = 1, C_DYNAMIC, C_FILE, C_DIR, C_STDIN, C_STDOUT, C_JETSTREAM, C_NATS, C_KAFKA };
enum { A_STRING = 1, A_INT, A_FLOAT, A_BOOL };

static const char *kind_name(unsigned k) {
	static const char *names[] = {"unknown", "input", "output", "flat_map_batch", "branch", "merge",
	                              "redistribute", "inspect_debug", "stateful_batch"};
	return k <= 8 ? names[k] : "unknown";
}

static const char *conn_name(unsigned c) {
	static const char *names[] = {"unknown", "guest-partitioned", "guest-dynamic", "file", "dir", "stdin", "stdout",
	                              "jetstream", "nats", "kafka"};
	return c <= C_KAFKA ? names[c] : "unknown";
}

static const char *arg_name(unsigned t) {
	static const char *names[] = {"unknown", "string", "int", "float64", "bool"};
	return t <= 4 ? names[t] : "unknown";
}

/* ---- traps and memory ------------------------------------------------- */

#ifndef __wasm__
void (*bx_trap_hook)(void);
#endif

__attribute__((noreturn)) static void trap(void) {
#ifndef __wasm__
	if (bx_trap_hook)
		bx_trap_hook();
#endif
	__builtin_trap();
}

__attribute__((noreturn)) static void oom(size_t n) {
	fprintf(stderr, "bxwasm guest: out of memory allocating %zu bytes (raise --memory-limit)\n", n);
	fflush(stderr);
	trap();
}

static void *xmalloc(size_t n) {
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

static void *xrealloc(void *p, size_t n) {
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

/* An arena: chunks of bump-allocated memory, all released at once. */
typedef struct chunk {
	struct chunk *next;
	size_t size, used;
	uint8_t data[];
} chunk;

typedef struct arena {
	chunk *head;
	size_t total;
} arena;

static void *arena_alloc(arena *a, size_t n) {
	n = (n + 7) & ~(size_t)7;
	chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = a->total < 65536 ? 65536 : a->total;
		if (size < n)
			size = n;
		c = xmalloc(sizeof(chunk) + size);
		c->used = 0;
		c->size = size;
		c->next = a->head;
		a->head = c;
		a->total += size;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

static void arena_free(arena *a) {
	for (chunk *c = a->head; c;) {
		chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}

/* arena_reset keeps one chunk, big enough for what the last call used. */
static void arena_reset(arena *a) {
	if (a->head && !a->head->next) {
		a->head->used = 0;
		return;
	}
	size_t total = a->total;
	arena_free(a);
	if (total) {
		a->total = total;
		arena_alloc(a, total);
		a->head->used = 0;
	}
}

static arena call_arena; /* reset at every call */

void *bx_alloc(size_t n) { return arena_alloc(&call_arena, n); }

/* ---- items and bytes -------------------------------------------------- */

static void items_grow(bx_items *out, size_t need) {
	size_t cap = out->cap ? out->cap * 2 : 16;
	while (cap < need)
		cap *= 2;
	bx_item *v = bx_alloc(cap * sizeof(bx_item));
	if (out->len)
		memcpy(v, out->v, out->len * sizeof(bx_item));
	out->v = v;
	out->cap = cap;
}

void bx_push(bx_items *out, bx_item it) {
	if (out->len == out->cap)
		items_grow(out, out->len + 1);
	out->v[out->len++] = it;
}

void bx_push_value(bx_items *out, bx_bytes value) {
	bx_item it = {{NULL, 0}, value, false};
	bx_push(out, it);
}

void bx_push_kv(bx_items *out, bx_bytes key, bx_bytes value) {
	bx_item it = {key, value, true};
	bx_push(out, it);
}

static bx_items items_with(size_t cap) {
	bx_items it = {NULL, 0, 0};
	if (cap)
		items_grow(&it, cap);
	return it;
}

bx_bytes bx_copy(bx_bytes b) {
	uint8_t *p = bx_alloc(b.len);
	if (b.len)
		memcpy(p, b.ptr, b.len);
	return (bx_bytes){p, b.len};
}

static bx_bytes vfmt(const char *fmt, va_list ap) {
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap);
	if (n < 0)
		n = 0;
	char *p = bx_alloc((size_t)n + 1);
	if ((size_t)n < sizeof small)
		memcpy(p, small, (size_t)n + 1);
	else
		vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return (bx_bytes){(const uint8_t *)p, (size_t)n};
}

bx_bytes bx_fmt(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	bx_bytes b = vfmt(fmt, ap);
	va_end(ap);
	return b;
}

const char *bx_cstr_of(bx_bytes b) {
	char *p = bx_alloc(b.len + 1);
	if (b.len)
		memcpy(p, b.ptr, b.len);
	p[b.len] = 0;
	return p;
}

bx_bytes bx_str(const char *s) { return (bx_bytes){(const uint8_t *)s, s ? strlen(s) : 0}; }

/* same compares n bytes with whole-word loads, overlapping at the end, and
 * no loop for short keys (wasi-libc's memcmp goes byte by byte). */
static inline bool same(const uint8_t *a, const uint8_t *b, size_t n) {
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8)
			if (load64(a + i) != load64(b + i))
				return false;
		return load64(a + n - 8) == load64(b + n - 8);
	}
	if (n >= 4)
		return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
	if (n)
		return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
	return true;
}

bool bx_equal(bx_bytes a, bx_bytes b) { return a.len == b.len && same(a.ptr, b.ptr, a.len); }

bool bx_eq(bx_bytes a, const char *s) { return bx_equal(a, bx_str(s)); }

bx_bytes bx_slice(bx_bytes b, size_t from, size_t to) {
	if (to > b.len)
		to = b.len;
	if (from > to)
		from = to;
	return (bx_bytes){b.ptr + from, to - from};
}

/* ascii_space marks the ASCII whitespace bytes: one load per byte. */
static const uint8_t ascii_space[256] = {['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [' '] = 1};

static inline bool is_space(uint8_t c) { return ascii_space[c]; }

bx_bytes bx_trim(bx_bytes b) {
	while (b.len && is_space(b.ptr[0]))
		b.ptr++, b.len--;
	while (b.len && is_space(b.ptr[b.len - 1]))
		b.len--;
	return b;
}

/* lower8 lower-cases the ASCII letters of 8 bytes at once. */
static inline uint64_t lower8(uint64_t x) {
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t seven = x & ~high;                   /* each byte's low 7 bits */
	uint64_t ge_a = seven + (0x80 - 'A') * ones;  /* high bit: >= 'A' */
	uint64_t gt_z = seven + (0x7f - 'Z') * ones;  /* high bit: > 'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~x & high;   /* in 'A'..'Z' and ASCII */
	return x | (upper >> 2);
}

bx_bytes bx_lower(bx_bytes b) {
	uint8_t *p = bx_alloc(b.len);
	size_t i = 0;
	for (; i + 8 <= b.len; i += 8) {
		uint64_t v = lower8(load64(b.ptr + i));
		memcpy(p + i, &v, 8);
	}
	for (; i < b.len; i++) {
		uint8_t c = b.ptr[i];
		p[i] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
	}
	return (bx_bytes){p, b.len};
}

bool bx_cut(bx_bytes b, uint8_t sep, bx_bytes *left, bx_bytes *right) {
	const uint8_t *p = b.len ? memchr(b.ptr, sep, b.len) : NULL;
	if (!p)
		return false;
	size_t i = (size_t)(p - b.ptr);
	*left = (bx_bytes){b.ptr, i};
	*right = (bx_bytes){p + 1, b.len - i - 1};
	return true;
}

/* space8 marks (0x80) each ASCII whitespace byte of 8 bytes. */
static inline uint64_t space8(uint64_t x) {
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull, low = ~high;
	uint64_t y = x | high; /* no borrow crosses a byte below */
	uint64_t ctrl = (y - 0x09 * ones) & ~(y - 0x0e * ones); /* \t \n \v \f \r */
	uint64_t v = x ^ (0x20 * ones);                         /* zero where ' ' */
	uint64_t blank = ~(((v & low) + low) | v);
	return (ctrl | blank) & ~x & high;
}

static inline void push_word(bx_items *out, const uint8_t *start, const uint8_t *end) {
	if (out->len == out->cap)
		items_grow(out, out->len + 1);
	bx_item *it = &out->v[out->len++];
	it->key = (bx_bytes){NULL, 0};
	it->value = (bx_bytes){start, (size_t)(end - start)};
	it->has_key = false;
}

/* bx_push_fields finds word boundaries eight bytes at a time: a mask of
 * the whitespace bytes, and a count of trailing zeros per boundary. */
void bx_push_fields(bx_items *out, bx_bytes b) {
	const uint64_t high = 0x8080808080808080ull;
	const uint8_t *p = b.ptr, *start = NULL;
	size_t i = 0, n = b.len;
	bool in_word = false;
	for (; i + 8 <= n; i += 8) {
		uint64_t sp = space8(load64(p + i)), from = ~0ull;
		for (;;) {
			uint64_t edge = (in_word ? sp : ~sp & high) & from;
			if (!edge)
				break;
			unsigned k = (unsigned)__builtin_ctzll(edge) >> 3;
			if (in_word)
				push_word(out, start, p + i + k);
			else
				start = p + i + k;
			in_word = !in_word;
			from = ~0ull << (8 * k);
		}
	}
	for (; i < n; i++) {
		if (ascii_space[p[i]] == in_word) {
			if (in_word)
				push_word(out, start, p + i);
			else
				start = p + i;
			in_word = !in_word;
		}
	}
	if (in_word)
		push_word(out, start, p + n);
}

bool bx_parse_i64(bx_bytes b, int64_t *out) {
	size_t i = 0;
	bool neg = false;
	if (b.len && (b.ptr[0] == '+' || b.ptr[0] == '-'))
		neg = b.ptr[i++] == '-';
	if (i == b.len)
		return false;
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < b.len; i++) {
		uint8_t c = b.ptr[i];
		if (c < '0' || c > '9')
			return false;
		if (v > (limit - (c - '0')) / 10)
			return false;
		v = v * 10 + (c - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

int64_t bx_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- codec ---------------------------------------------------------- */

static uint8_t *w_ensure(bx_writer *w, size_t n) {
	if (w->cap - w->len < n) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		while (cap - w->len < n)
			cap *= 2;
		if (w->heap) {
			w->ptr = xrealloc(w->ptr, cap);
		} else {
			uint8_t *p = bx_alloc(cap);
			if (w->len)
				memcpy(p, w->ptr, w->len);
			w->ptr = p;
		}
		w->cap = cap;
	}
	return w->ptr + w->len;
}

void bx_w_u8(bx_writer *w, uint8_t b) {
	*w_ensure(w, 1) = b;
	w->len++;
}

void bx_w_bool(bx_writer *w, bool b) { bx_w_u8(w, b ? 1 : 0); }

static size_t put_uvarint(uint8_t *p, uint64_t v) {
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t uvarint_len(uint64_t v) {
	size_t n = 1;
	while (v >= 0x80)
		v >>= 7, n++;
	return n;
}

void bx_w_uvarint(bx_writer *w, uint64_t v) { w->len += put_uvarint(w_ensure(w, 10), v); }

void bx_w_varint(bx_writer *w, int64_t v) { bx_w_uvarint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

void bx_w_f64(bx_writer *w, double v) {
	uint64_t u;
	memcpy(&u, &v, 8);
	uint8_t *p = w_ensure(w, 8);
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(u >> (8 * i));
	w->len += 8;
}

void bx_w_raw(bx_writer *w, const void *p, size_t n) {
	if (!n)
		return;
	memcpy(w_ensure(w, n), p, n);
	w->len += n;
}

void bx_w_bytes(bx_writer *w, bx_bytes b) {
	bx_w_uvarint(w, b.len);
	bx_w_raw(w, b.ptr, b.len);
}

static void w_str(bx_writer *w, const char *s) { bx_w_bytes(w, bx_str(s)); }

bx_bytes bx_w_done(const bx_writer *w) { return (bx_bytes){w->ptr, w->len}; }

bx_reader bx_reader_of(bx_bytes b) {
	bx_reader r = {b.ptr, b.len, 0, NULL, 0};
	return r;
}

static void r_fail(bx_reader *r, const char *err) {
	if (!r->err) {
		r->err = err;
		r->err_off = r->off;
	}
}

uint8_t bx_r_u8(bx_reader *r) {
	if (r->err)
		return 0;
	if (r->off >= r->len) {
		r_fail(r, "abi: short buffer");
		return 0;
	}
	return r->ptr[r->off++];
}

bool bx_r_bool(bx_reader *r) { return bx_r_u8(r) != 0; }

/* Like Go's binary.Uvarint: at most 10 bytes, the 10th at most 1. */
uint64_t bx_r_uvarint(bx_reader *r) {
	if (r->err)
		return 0;
	uint64_t v = 0;
	for (unsigned i = 0, s = 0; i < 10; i++, s += 7) {
		if (r->off + i >= r->len)
			break;
		uint8_t b = r->ptr[r->off + i];
		if (b < 0x80) {
			if (i == 9 && b > 1)
				break;
			r->off += i + 1;
			return v | (uint64_t)b << s;
		}
		v |= (uint64_t)(b & 0x7f) << s;
	}
	r_fail(r, "abi: bad or short varint");
	return 0;
}

int64_t bx_r_varint(bx_reader *r) {
	uint64_t u = bx_r_uvarint(r);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

bx_bytes bx_r_raw(bx_reader *r, size_t n) {
	if (r->err)
		return (bx_bytes){NULL, 0};
	if (n > r->len - r->off) {
		r_fail(r, "abi: length past the end");
		return (bx_bytes){NULL, 0};
	}
	bx_bytes b = {r->ptr + r->off, n};
	r->off += n;
	return b;
}

double bx_r_f64(bx_reader *r) {
	bx_bytes b = bx_r_raw(r, 8);
	if (!b.ptr)
		return 0;
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)b.ptr[i] << (8 * i);
	double d;
	memcpy(&d, &u, 8);
	return d;
}

bx_bytes bx_r_bytes(bx_reader *r) {
	uint64_t n = bx_r_uvarint(r);
	if (!r->err && n > r->len - r->off) {
		r_fail(r, "abi: length past the end");
		return (bx_bytes){NULL, 0};
	}
	return bx_r_raw(r, (size_t)n);
}

bool bx_r_end(bx_reader *r) {
	if (!r->err && r->off != r->len)
		r_fail(r, "abi: trailing bytes");
	return r->err == NULL;
}

/* r_u32 reads a uvarint that holds a 32-bit field. */
static uint32_t r_u32(bx_reader *r) {
	uint64_t v = bx_r_uvarint(r);
	if (v > UINT32_MAX) {
		r_fail(r, "abi: 32-bit field out of range");
		return 0;
	}
	return (uint32_t)v;
}

/* r_count reads a count of elements of at least min bytes each. */
static size_t r_count(bx_reader *r, size_t min) {
	uint64_t v = bx_r_uvarint(r);
	if (!r->err && v > (r->len - r->off) / min) {
		r_fail(r, "abi: count larger than the frame");
		return 0;
	}
	return (size_t)v;
}

bx_bytes bx_i64(int64_t v) {
	uint8_t *p = bx_alloc(10);
	return (bx_bytes){p, put_uvarint(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63))};
}

bool bx_get_i64(bx_bytes b, int64_t *out) {
	bx_reader r = bx_reader_of(b);
	int64_t v = bx_r_varint(&r);
	if (!bx_r_end(&r))
		return false;
	*out = v;
	return true;
}

/* get_i64 is bx_get_i64 with the one-byte case inline. */
static inline bool get_i64(bx_bytes b, int64_t *out) {
	if (b.len == 1 && b.ptr[0] < 0x80) {
		*out = (int64_t)(b.ptr[0] >> 1) ^ -(int64_t)(b.ptr[0] & 1);
		return true;
	}
	return bx_get_i64(b, out);
}

bx_bytes bx_itoa(int64_t v) {
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[n++] = '-';
	uint8_t *p = bx_alloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)tmp[n - 1 - i];
	return (bx_bytes){p, n};
}

/* ---- the batch frame ---------------------------------------------------- */

static size_t item_size(const bx_item *it) {
	size_t n = uvarint_len(it->value.len) + it->value.len;
	if (it->has_key)
		return n + uvarint_len(it->key.len + 1) + it->key.len;
	return n + 1;
}

static void put_item(bx_writer *w, const bx_item *it) {
	uint8_t *p = w_ensure(w, 20);
	size_t n;
	if (it->has_key) {
		n = put_uvarint(p, it->key.len + 1);
		w->len += n;
		bx_w_raw(w, it->key.ptr, it->key.len);
	} else {
		*p = 0;
		w->len++;
	}
	bx_w_bytes(w, it->value);
}

/* put_batch writes count, body length and the items. */
static void put_batch(bx_writer *w, const bx_item *items, size_t n) {
	size_t body = 0;
	for (size_t i = 0; i < n; i++)
		body += item_size(&items[i]);
	bx_w_uvarint(w, n);
	bx_w_uvarint(w, body);
	w_ensure(w, body);
	for (size_t i = 0; i < n; i++)
		put_item(w, &items[i]);
}

/* read_batch decodes a batch into arena items that alias the request. */
static bool read_batch(bx_reader *r, bx_items *out) {
	size_t n = r_count(r, 2);
	bx_bytes body = bx_r_bytes(r);
	if (r->err)
		return false;
	*out = items_with(n);
	bx_reader b = bx_reader_of(body);
	for (size_t i = 0; i < n; i++) {
		bx_item it;
		uint64_t tag = bx_r_uvarint(&b);
		it.has_key = tag > 0;
		it.key = tag > 0 ? bx_r_raw(&b, tag - 1 <= b.len ? (size_t)(tag - 1) : b.len + 1) : (bx_bytes){NULL, 0};
		it.value = bx_r_bytes(&b);
		if (b.err)
			break;
		out->v[out->len++] = it;
	}
	if (b.err || b.off != b.len) {
		r_fail(r, "abi: batch count does not match its items");
		return false;
	}
	return true;
}

/* ---- flows, steps, chains --------------------------------------------- */

typedef struct step step;
typedef struct srt srt;
typedef struct prt prt;
typedef void (*run_fn)(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1);

struct step {
	const char *id;
	uint8_t kind, conn;
	const char *arg;
	uint32_t index, nin, nout;
	uint32_t *ins;
	uint32_t outs[2];
	const char *what;
	run_fn run;
	void *fn, *fn2, *ctx, *aux;
	size_t hint; /* the last output's length, to size the next */
	srt *srt;
	prt *prt;
};

typedef struct chain {
	uint32_t id, n;
	step **steps;
} chain;

struct bx_flow {
	arena mem;
	const char *id;
	step **steps;
	uint32_t nsteps, capsteps, streams;
	const char **claimed;
	size_t nclaimed, capclaimed;
	const char *err;
	chain *chains;
	size_t nchains, capchains;
	bx_flow *next_unused; /* flows made during a build */
};

static bx_flow *built;    /* the flow the host built */
static bx_flow *building; /* flows made by the running factory */

void *bx_flow_alloc(bx_flow *f, size_t n) {
	void *p = arena_alloc(&f->mem, n);
	memset(p, 0, n);
	return p;
}

const char *bx_flow_strdup(bx_flow *f, const char *s) {
	size_t n = strlen(s);
	char *p = arena_alloc(&f->mem, n + 1);
	memcpy(p, s, n + 1);
	return p;
}

static const char *flow_printf(bx_flow *f, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	char small[512];
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(&f->mem, (size_t)n + 1);
	if ((size_t)n < sizeof small) {
		memcpy(p, small, (size_t)n + 1);
	} else {
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return p;
}

/* A flow-definition error: the first one is what the build reports. */
#define flow_error(f, ...)                                  \
	do {                                                    \
		if (!(f)->err)                                      \
			(f)->err = flow_printf((f), __VA_ARGS__);       \
	} while (0)

static bool valid_id(bx_flow *f, const char *id) {
	if (!id || !*id || strchr(id, '.')) {
		flow_error(f, "bad step id \"%s\": ids must be non-empty and must not contain '.'", id ? id : "");
		return false;
	}
	return true;
}

/* claim registers scope.id and returns it, or NULL on a duplicate. */
static const char *claim(bx_flow *f, const char *scope, const char *id) {
	if (!valid_id(f, id))
		return NULL;
	const char *full = flow_printf(f, "%s.%s", scope, id);
	for (size_t i = 0; i < f->nclaimed; i++) {
		if (strcmp(f->claimed[i], full) == 0) {
			flow_error(f, "duplicate step id \"%s\"", full);
			return NULL;
		}
	}
	if (f->nclaimed == f->capclaimed) {
		size_t cap = f->capclaimed ? f->capclaimed * 2 : 16;
		const char **c = arena_alloc(&f->mem, cap * sizeof *c);
		if (f->nclaimed)
			memcpy(c, f->claimed, f->nclaimed * sizeof *c);
		f->capclaimed = cap;
		f->claimed = c;
	}
	f->claimed[f->nclaimed++] = full;
	return full;
}

bx_flow *bx_dataflow(const char *id) {
	bx_flow *f = xmalloc(sizeof *f);
	memset(f, 0, sizeof *f);
	f->id = bx_flow_strdup(f, id ? id : "");
	valid_id(f, id);
	f->next_unused = building;
	building = f;
	return f;
}

static void free_flow(bx_flow *f);

/* stream_ok checks a stream handed to an operator. */
static bool stream_ok(bx_stream s, const char *id) {
	if (!s.flow) {
		if (building)
			flow_error(building, "nil argument: step \"%s\" got a stream of no flow", id ? id : "");
		return false;
	}
	return s.flow->err == NULL;
}

static bx_stream new_stream(bx_flow *f, const char *scope) {
	bx_stream s = {f, f->streams++, scope};
	return s;
}

static step *add_step(bx_flow *f, const char *scope, const char *id, uint8_t kind, const uint32_t *ins,
                      uint32_t nin, const uint32_t *outs, uint32_t nout) {
	const char *full = claim(f, scope, id);
	if (!full)
		return NULL;
	step *st = bx_flow_alloc(f, sizeof *st);
	st->id = full;
	st->kind = kind;
	st->nin = nin;
	st->ins = bx_flow_alloc(f, (nin ? nin : 1) * sizeof(uint32_t));
	if (nin)
		memcpy(st->ins, ins, nin * sizeof(uint32_t));
	st->nout = nout;
	for (uint32_t i = 0; i < nout; i++)
		st->outs[i] = outs[i];
	st->arg = "";
	st->index = f->nsteps;
	if (f->nsteps == f->capsteps) {
		uint32_t cap = f->capsteps ? f->capsteps * 2 : 16;
		step **v = arena_alloc(&f->mem, cap * sizeof *v);
		if (f->nsteps)
			memcpy(v, f->steps, f->nsteps * sizeof *v);
		f->steps = v;
		f->capsteps = cap;
	}
	f->steps[f->nsteps++] = st;
	return st;
}

void bx_flow_error(bx_flow *f, const char *fmt, ...) {
	if (!f || f->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	bx_bytes msg = vfmt(fmt, ap);
	va_end(ap);
	f->err = flow_printf(f, "%.*s", (int)msg.len, (const char *)msg.ptr);
}

bx_stream bx_scope(const char *id, bx_stream up) {
	if (!stream_ok(up, id))
		return up;
	const char *scope = claim(up.flow, up.scope, id);
	if (scope)
		up.scope = scope;
	return up;
}

/* a dead stream, returned after a flow-definition error */
static bx_stream dead(bx_stream up) { return up; }

/* ---- the site of user code, for errors ----------------------------------- */

static struct {
	const step *st;
	const char *what;
	bx_bytes key;
	bool has_key;
	bx_bytes part;
} site;

static void enter(const step *st, const char *what) {
	site.st = st;
	site.what = what;
	site.has_key = false;
	site.part.len = 0;
}

static void enter_key(const step *st, const char *what, bx_bytes key) {
	enter(st, what);
	site.key = key;
	site.has_key = true;
}

static void enter_part(const step *st, const char *what, bx_bytes part) {
	enter(st, what);
	site.part = part;
}

/* quote appends b as Go's %q would for ASCII text. */
static void quote(bx_writer *w, bx_bytes b) {
	static const char hex[] = "0123456789abcdef";
	bx_w_u8(w, '"');
	for (size_t i = 0; i < b.len; i++) {
		uint8_t c = b.ptr[i];
		const char *esc = NULL;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\t': esc = "\\t"; break;
		case '\r': esc = "\\r"; break;
		case '\a': esc = "\\a"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\v': esc = "\\v"; break;
		}
		if (esc) {
			bx_w_raw(w, esc, strlen(esc));
		} else if (c < 0x20 || c == 0x7f) {
			uint8_t e[4] = {'\\', 'x', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15]};
			bx_w_raw(w, e, 4);
		} else {
			bx_w_u8(w, c);
		}
	}
	bx_w_u8(w, '"');
}

/* where renders the site: "mapper in step f.split for key \"k\"". */
static void where(bx_writer *w) {
	const char *what = site.what ? site.what : "the guest";
	bx_w_raw(w, what, strlen(what));
	if (site.st) {
		bx_w_raw(w, " in step ", 9);
		bx_w_raw(w, site.st->id, strlen(site.st->id));
	}
	if (site.has_key) {
		bx_w_raw(w, " for key ", 9);
		quote(w, site.key);
	}
	if (site.part.len) {
		bx_w_raw(w, " for partition ", 15);
		quote(w, site.part);
	}
}

/* where_in renders the site into w without growing it past max bytes. */
static void where_in(bx_writer *w, size_t max) {
	bx_writer tmp = {NULL, 0, 0, 0}; /* in the arena */
	where(&tmp);
	bx_w_raw(w, tmp.ptr, tmp.len < max ? tmp.len : max);
}

/* The ErrorInfo body that bxwasm_last_error points at after a trap. */
static uint8_t last_error_buf[16384];
static uint64_t last_error_word;
static size_t last_error_len;

/* put_error_info writes an ErrorInfo body (docs/abi.md section 7). */
static void put_error_info(bx_writer *w, bx_bytes msg, uint32_t step1, bool has_key, bx_bytes key) {
	bx_w_bytes(w, msg);
	bx_w_uvarint(w, 0); /* no stack */
	bx_w_uvarint(w, step1);
	bx_w_bool(w, has_key);
	bx_w_bytes(w, has_key ? key : (bx_bytes){NULL, 0});
}

void bx_fail(const char *fmt, ...) {
	static char msg[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The message in the Go SDK's words, in static memory that stays valid
	 * after the trap. */
	static uint8_t text[12288];
	bx_writer w = {text, 0, sizeof text, 1};
	bx_w_raw(&w, "error calling ", 14);
	bx_writer at = {text + w.len, 0, 4096, 1};
	where_in(&at, 4096 - 16);
	w.len += at.len;
	bx_w_raw(&w, ": ", 2);
	size_t mlen = strlen(msg);
	if (mlen > sizeof text - w.len)
		mlen = sizeof text - w.len;
	bx_w_raw(&w, msg, mlen);
	/* ErrorInfo: room for the varints and the key (clipped) */
	bx_bytes key = site.has_key ? site.key : (bx_bytes){NULL, 0};
	if (key.len > 2048)
		key.len = 2048;
	size_t room = sizeof last_error_buf - 40 - key.len;
	bx_bytes m = {w.ptr, w.len < room ? w.len : room};
	bx_writer e = {last_error_buf, 0, sizeof last_error_buf, 1};
	put_error_info(&e, m, site.st ? site.st->index + 1 : 0, site.has_key, key);
	last_error_len = e.len;
	last_error_word = ((uint64_t)(uintptr_t)last_error_buf << 32) | e.len;
	fprintf(stderr, "bxwasm guest: %.*s\n", (int)m.len, (const char *)m.ptr);
	fflush(stderr);
	trap();
}

/* ---- connectors ------------------------------------------------------- */

bx_source bx_file_source(const char *path) { return (bx_source){C_FILE, path, NULL, NULL}; }
bx_source bx_dir_source(const char *glob) { return (bx_source){C_DIR, glob, NULL, NULL}; }
bx_source bx_stdin_source(void) { return (bx_source){C_STDIN, "", NULL, NULL}; }
bx_sink bx_file_sink(const char *path) { return (bx_sink){C_FILE, path, NULL, NULL}; }
bx_sink bx_stdout_sink(void) { return (bx_sink){C_STDOUT, "", NULL, NULL}; }
bx_source bx_partitioned_source(const bx_source_vt *vt, void *ctx) { return (bx_source){C_PARTITIONED, "", vt, ctx}; }
bx_source bx_dynamic_source(const bx_source_vt *vt, void *ctx) { return (bx_source){C_DYNAMIC, "", vt, ctx}; }
bx_sink bx_partitioned_sink(const bx_sink_vt *vt, void *ctx) { return (bx_sink){C_PARTITIONED, "", vt, ctx}; }
bx_sink bx_dynamic_sink(const bx_sink_vt *vt, void *ctx) { return (bx_sink){C_DYNAMIC, "", vt, ctx}; }

/* ---- stream connectors ------------------------------------------------- */

/* utf8_len is the length of the valid UTF-8 sequence at p (p[0] >= 0x80),
 * or 0 when it is not one (as Go's utf8.DecodeRune sees it). */
static size_t utf8_len(const uint8_t *p) {
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* json_str appends s as a JSON string the way Go's encoding/json writes
 * it: quotes, backslashes and control characters escaped, and also <, >,
 * &, U+2028 and U+2029; a byte that is not valid UTF-8 becomes \ufffd. */
static void json_str(bx_writer *w, const char *s) {
	static const char hexd[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	bx_w_u8(w, '"');
	while (*p) {
		uint8_t c = *p;
		if (c >= 0x80) {
			size_t n = utf8_len(p);
			if (n == 0) {
				bx_w_raw(w, "\\ufffd", 6);
				p++;
			} else if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
				bx_w_raw(w, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
				p += 3;
			} else {
				bx_w_raw(w, p, n);
				p += n;
			}
			continue;
		}
		p++;
		const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
		                : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
		if (esc) {
			bx_w_raw(w, esc, 2);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			char u[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
			bx_w_raw(w, u, 6);
		} else {
			bx_w_u8(w, c);
		}
	}
	bx_w_u8(w, '"');
}

/* json_obj writes a JSON object field by field. */
typedef struct json_obj {
	bx_writer w;
} json_obj;

static void json_field(json_obj *o, const char *name) {
	bx_w_u8(&o->w, o->w.len ? ',' : '{');
	json_str(&o->w, name);
	bx_w_u8(&o->w, ':');
}

/* json_string writes a string field, left out when empty unless always. */
static void json_string(json_obj *o, const char *name, const char *v, bool always) {
	if (!always && (!v || !*v))
		return;
	json_field(o, name);
	json_str(&o->w, v);
}

static void json_strings(json_obj *o, const char *name, const char *const *v, size_t n) {
	if (n == 0 || !v)
		return;
	json_field(o, name);
	for (size_t i = 0; i < n; i++) {
		bx_w_u8(&o->w, i ? ',' : '[');
		json_str(&o->w, v[i]);
	}
	bx_w_u8(&o->w, ']');
}

static void json_int(json_obj *o, const char *name, int v) {
	if (v == 0)
		return;
	json_field(o, name);
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%d", v);
	bx_w_raw(&o->w, buf, (size_t)n);
}

/* json_done returns the object as a NUL-terminated string in the arena. */
static const char *json_done(json_obj *o) {
	if (!o->w.len)
		bx_w_u8(&o->w, '{');
	bx_w_u8(&o->w, '}');
	bx_w_u8(&o->w, 0);
	return (const char *)o->w.ptr;
}

/* stream_conn is the Go SDK's abi.StreamConn: its JSON fields are written
 * in that struct's order and left out when empty. */
typedef struct stream_conn {
	const char *conn, *stream;
	const char *const *subjects;
	size_t nsubjects;
	const char *partition_by;
	const char *const *topics;
	size_t ntopics;
	const char *subject, *topic, *start, *start_time;
	bool tail;
	int batch;
	const char *format;
	int partitions;
} stream_conn;

static const char *stream_conn_json(const stream_conn *a) {
	json_obj o = {{0}};
	json_string(&o, "conn", a->conn, true);
	json_string(&o, "stream", a->stream, false);
	json_strings(&o, "subjects", a->subjects, a->nsubjects);
	json_string(&o, "partition_by", a->partition_by, false);
	json_strings(&o, "topics", a->topics, a->ntopics);
	json_string(&o, "subject", a->subject, false);
	json_string(&o, "topic", a->topic, false);
	json_string(&o, "start", a->start, false);
	json_string(&o, "start_time", a->start_time, false);
	if (a->tail) {
		json_field(&o, "tail");
		bx_w_raw(&o.w, "true", 4);
	}
	json_int(&o, "batch", a->batch);
	json_string(&o, "format", a->format, false);
	json_int(&o, "partitions", a->partitions);
	return json_done(&o);
}

/* rfc3339_nano writes Unix ns t as Go's t.UTC().Format(time.RFC3339Nano)
 * does (the fraction without its trailing zeros), in the arena. */
static const char *rfc3339_nano(int64_t t) {
	int64_t secs = t / 1000000000, frac = t % 1000000000;
	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	int64_t days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	/* days to civil date (H. Hinnant's algorithm) */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	char *out = bx_alloc(48);
	int n = snprintf(out, 48, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", (long long)y, (long long)m, (long long)d,
	                 (long long)(sod / 3600), (long long)(sod / 60 % 60), (long long)(sod % 60));
	if (frac) {
		int k = 9;
		while (frac % 10 == 0) {
			frac /= 10;
			k--;
		}
		n += snprintf(out + n, (size_t)(48 - n), ".%0*lld", k, (long long)frac);
	}
	snprintf(out + n, (size_t)(48 - n), "Z");
	return out;
}

static stream_conn source_conn(const char *conn, bx_stream_opts o, const char *format) {
	stream_conn a = {.conn = conn, .subjects = o.subjects, .nsubjects = o.nsubjects, .partition_by = o.partition_by,
	                 .tail = o.tail, .batch = o.batch, .format = format};
	if (o.start == BX_START_NEW) {
		a.start = "new";
	} else if (o.start == BX_START_TIME) {
		a.start = "time";
		a.start_time = rfc3339_nano(o.start_time);
	}
	return a;
}

static bx_source stream_source(uint8_t kind, stream_conn a) {
	return (bx_source){kind, stream_conn_json(&a), NULL, NULL};
}

static bx_sink stream_sink(uint8_t kind, stream_conn a) { return (bx_sink){kind, stream_conn_json(&a), NULL, NULL}; }

bx_source bx_jetstream_source(const char *conn, const char *stream, bx_stream_opts o) {
	stream_conn a = source_conn(conn, o, NULL);
	a.stream = stream;
	return stream_source(C_JETSTREAM, a);
}

bx_source bx_jetstream_payloads(const char *conn, const char *stream, bx_stream_opts o) {
	stream_conn a = source_conn(conn, o, "payload");
	a.stream = stream;
	return stream_source(C_JETSTREAM, a);
}

bx_sink bx_jetstream_sink(const char *conn, const char *subject, bx_sink_opts o) {
	return stream_sink(C_JETSTREAM, (stream_conn){.conn = conn, .subject = subject, .partitions = o.partitions});
}

bx_sink bx_jetstream_message_sink(const char *conn, const char *subject, bx_sink_opts o) {
	return stream_sink(C_JETSTREAM,
	                   (stream_conn){.conn = conn, .subject = subject, .partitions = o.partitions, .format = "message"});
}

bx_source bx_nats_source(const char *conn, const char *const *subjects, size_t n) {
	return stream_source(C_NATS, (stream_conn){.conn = conn, .subjects = subjects, .nsubjects = n});
}

bx_sink bx_nats_sink(const char *conn, const char *subject, bx_sink_opts o) {
	return stream_sink(C_NATS, (stream_conn){.conn = conn, .subject = subject, .partitions = o.partitions});
}

bx_source bx_kafka_source(const char *conn, const char *const *topics, size_t n, bx_stream_opts o) {
	stream_conn a = source_conn(conn, o, NULL);
	a.topics = topics;
	a.ntopics = n;
	return stream_source(C_KAFKA, a);
}

bx_sink bx_kafka_sink(const char *conn, const char *topic) {
	return stream_sink(C_KAFKA, (stream_conn){.conn = conn, .topic = topic});
}

bx_sink bx_kafka_message_sink(const char *conn, const char *topic) {
	return stream_sink(C_KAFKA, (stream_conn){.conn = conn, .topic = topic, .format = "message"});
}

void bx_w_message(bx_writer *w, const bx_message *m) {
	bx_w_bytes(w, m->subject);
	bx_w_bytes(w, m->key);
	bx_w_bytes(w, m->value);
	bx_w_uvarint(w, m->nheaders);
	for (size_t i = 0; i < m->nheaders; i++) {
		bx_w_bytes(w, m->headers[i].name);
		bx_w_bytes(w, m->headers[i].value);
	}
	bx_w_bytes(w, m->partition);
	bx_w_uvarint(w, m->seq);
	bx_w_varint(w, m->time);
}

bx_bytes bx_message_encode(const bx_message *m) {
	bx_writer w = {0};
	bx_w_message(&w, m);
	return bx_w_done(&w);
}

bool bx_message_decode(bx_bytes b, bx_message *m, const char **err) {
	bx_reader r = bx_reader_of(b);
	memset(m, 0, sizeof *m);
	m->subject = bx_r_bytes(&r);
	m->key = bx_r_bytes(&r);
	m->value = bx_r_bytes(&r);
	size_t n = r_count(&r, 2);
	bx_header *h = n ? bx_alloc(n * sizeof *h) : NULL;
	for (size_t i = 0; i < n && !r.err; i++) {
		h[i].name = bx_r_bytes(&r);
		h[i].value = bx_r_bytes(&r);
	}
	m->headers = h;
	m->nheaders = n;
	m->partition = bx_r_bytes(&r);
	m->seq = bx_r_uvarint(&r);
	m->time = bx_r_varint(&r);
	if (!bx_r_end(&r)) {
		memset(m, 0, sizeof *m);
		if (err)
			*err = bx_cstr_of(bx_fmt("bx: cannot decode a message: %s at byte %zu", r.err, r.err_off));
		return false;
	}
	return true;
}

bool bx_message_header(const bx_message *m, const char *name, bx_bytes *value) {
	for (size_t i = 0; i < m->nheaders; i++) {
		if (bx_eq(m->headers[i].name, name)) {
			*value = m->headers[i].value;
			return true;
		}
	}
	return false;
}

typedef struct testing_src {
	bx_bytes *values;
	size_t n, batch;
} testing_src;

static void testing_list(void *ctx, uint32_t worker, uint32_t workers, bx_items *names) {
	(void)ctx, (void)worker, (void)workers;
	bx_push_value(names, bx_str("iterable"));
}

static void testing_build(void *ctx, const bx_part_info *info, void *part) {
	testing_src *s = ctx;
	size_t *next = part;
	int64_t at = 0;
	if (info->resume && bx_get_i64(*info->resume, &at))
		*next = at < 0 ? 0 : (size_t)at > s->n ? s->n : (size_t)at;
}

static bool testing_next(void *ctx, void *part, bx_items *out) {
	testing_src *s = ctx;
	size_t *next = part;
	size_t end = *next + s->batch < s->n ? *next + s->batch : s->n;
	for (size_t i = *next; i < end; i++)
		bx_push_value(out, s->values[i]);
	*next = end;
	return end == s->n;
}

static bx_bytes testing_snapshot(void *ctx, void *part) {
	(void)ctx;
	return bx_i64((int64_t)*(size_t *)part);
}

static const bx_source_vt testing_vt = {sizeof(size_t), testing_list, testing_build, testing_next, NULL,
                                        testing_snapshot, NULL};

bx_source bx_testing_source(bx_flow *f, const bx_bytes *values, size_t n, size_t batch_size) {
	testing_src *s = bx_flow_alloc(f, sizeof *s);
	s->values = bx_flow_alloc(f, (n ? n : 1) * sizeof(bx_bytes));
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = arena_alloc(&f->mem, values[i].len);
		if (values[i].len)
			memcpy(p, values[i].ptr, values[i].len);
		s->values[i] = (bx_bytes){p, values[i].len};
	}
	s->n = n;
	s->batch = batch_size ? batch_size : 1;
	return bx_partitioned_source(&testing_vt, s);
}

/* A built partition of a source or sink. */
typedef struct openpart {
	uint32_t handle;
	uint8_t *name;
	size_t nlen;
	void *part;
	struct openpart *next;
} openpart;

struct prt {
	step *st;
	const bx_source_vt *src;
	const bx_sink_vt *sink;
	void *ctx;
	openpart *open;
};

/* ---- core operators --------------------------------------------------- */

bx_stream bx_input(bx_flow *f, const char *id, bx_source src) {
	bx_stream none = {f, 0, f ? f->id : ""};
	if (!f)
		return none;
	if (f->err)
		return none;
	if (src.conn < C_PARTITIONED || src.conn == C_STDOUT || src.conn > C_KAFKA ||
	    (src.conn <= C_DYNAMIC && (!src.vt || !src.vt->next_batch))) {
		flow_error(f, "nil argument: Input \"%s\" needs a flow and a source", id ? id : "");
		return none;
	}
	bx_stream down = new_stream(f, f->id);
	step *st = add_step(f, f->id, id, K_INPUT, NULL, 0, &down.id, 1);
	if (!st)
		return down;
	st->conn = src.conn;
	st->arg = bx_flow_strdup(f, src.arg ? src.arg : "");
	if (src.vt) {
		st->prt = bx_flow_alloc(f, sizeof(prt));
		st->prt->st = st;
		st->prt->src = src.vt;
		st->prt->ctx = src.ctx;
	}
	return down;
}

void bx_output(const char *id, bx_stream up, bx_sink sink) {
	if (!stream_ok(up, id))
		return;
	bx_flow *f = up.flow;
	if (sink.conn < C_PARTITIONED || sink.conn == C_DIR || sink.conn == C_STDIN || sink.conn > C_KAFKA ||
	    (sink.conn <= C_DYNAMIC && (!sink.vt || !sink.vt->write_batch))) {
		flow_error(f, "nil argument: Output \"%s\" needs a sink", id ? id : "");
		return;
	}
	step *st = add_step(f, up.scope, id, K_OUTPUT, &up.id, 1, NULL, 0);
	if (!st)
		return;
	st->conn = sink.conn;
	st->arg = bx_flow_strdup(f, sink.arg ? sink.arg : "");
	if (sink.vt) {
		st->prt = bx_flow_alloc(f, sizeof(prt));
		st->prt->st = st;
		st->prt->sink = sink.vt;
		st->prt->ctx = sink.ctx;
	}
}

static bool need_fn(bx_flow *f, const char *id, const void *fn) {
	if (!fn)
		flow_error(f, "nil argument: step \"%s\" needs a function", id ? id : "");
	return fn != NULL;
}

static void run_flat_map_batch(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	*o0 = items_with(st->hint > n ? st->hint + st->hint / 8 : n);
	((bx_batch_fn)st->fn)(st->ctx, in, n, o0);
	st->hint = o0->len;
}

/* chain_step adds a stateless step (flat_map_batch or inspect_debug). */
static bx_stream chain_step(const char *scope, const char *id, bx_stream up, uint8_t kind, run_fn run, void *fn,
                            void *ctx, const char *what) {
	bx_flow *f = up.flow;
	bx_stream down = new_stream(f, up.scope);
	step *st = add_step(f, scope, id, kind, &up.id, 1, &down.id, 1);
	if (st) {
		st->run = run;
		st->fn = fn;
		st->ctx = ctx;
		st->what = what;
	}
	return down;
}

bx_stream bx_flat_map_batch(const char *id, bx_stream up, bx_batch_fn mapper, void *ctx) {
	if (!stream_ok(up, id) || !need_fn(up.flow, id, (void *)mapper))
		return dead(up);
	return chain_step(up.scope, id, up, K_FLAT_MAP_BATCH, run_flat_map_batch, (void *)mapper, ctx, "mapper");
}

static void run_branch(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	bx_pred_fn pred = (bx_pred_fn)st->fn;
	*o0 = items_with(n);
	*o1 = items_with(n);
	for (size_t i = 0; i < n; i++) {
		bx_items *o = pred(st->ctx, in[i]) ? o0 : o1;
		o->v[o->len++] = in[i];
	}
}

void bx_branch(const char *id, bx_stream up, bx_pred_fn predicate, void *ctx, bx_stream *trues, bx_stream *falses) {
	*trues = *falses = up;
	if (!stream_ok(up, id) || !need_fn(up.flow, id, (void *)predicate))
		return;
	bx_flow *f = up.flow;
	*trues = new_stream(f, up.scope);
	*falses = new_stream(f, up.scope);
	uint32_t outs[2] = {trues->id, falses->id};
	step *st = add_step(f, up.scope, id, K_BRANCH, &up.id, 1, outs, 2);
	if (st) {
		st->run = run_branch;
		st->fn = (void *)predicate;
		st->ctx = ctx;
		st->what = "predicate";
	}
}

bx_stream bx_merge(const char *id, const bx_stream *ups, size_t n) {
	bx_stream none = {building, 0, building ? building->id : ""};
	if (n == 0) {
		if (building)
			flow_error(building, "nil argument: Merge \"%s\" needs at least one stream", id ? id : "");
		return none;
	}
	for (size_t i = 0; i < n; i++) {
		if (!stream_ok(ups[i], id))
			return ups[0];
		if (ups[i].flow != ups[0].flow || strcmp(ups[i].scope, ups[0].scope) != 0) {
			flow_error(ups[0].flow, "stream used outside its scope: Merge %s joins streams of %s and %s", id ? id : "",
			           ups[0].scope, ups[i].scope);
			return ups[0];
		}
	}
	bx_flow *f = ups[0].flow;
	bx_stream down = new_stream(f, ups[0].scope);
	uint32_t *ins = bx_flow_alloc(f, n * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		ins[i] = ups[i].id;
	add_step(f, ups[0].scope, id, K_MERGE, ins, (uint32_t)n, &down.id, 1);
	return down;
}

bx_stream bx_redistribute(const char *id, bx_stream up) {
	if (!stream_ok(up, id))
		return dead(up);
	bx_stream down = new_stream(up.flow, up.scope);
	add_step(up.flow, up.scope, id, K_REDISTRIBUTE, &up.id, 1, &down.id, 1);
	return down;
}

static uint64_t rc_epoch;
static uint32_t rc_worker;

static void run_inspect(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_inspect_fn fn = (bx_inspect_fn)st->fn;
	for (size_t i = 0; i < n; i++)
		fn(st->ctx, st->id, in[i], rc_epoch, rc_worker);
	o0->v = (bx_item *)in;
	o0->len = o0->cap = n;
}

bx_stream bx_inspect_debug(const char *id, bx_stream up, bx_inspect_fn inspector, void *ctx) {
	if (!stream_ok(up, id) || !need_fn(up.flow, id, (void *)inspector))
		return dead(up);
	return chain_step(up.scope, id, up, K_INSPECT_DEBUG, run_inspect, (void *)inspector, ctx, "inspector");
}

/* ---- the stateful runtime ------------------------------------------------- */

/* kent is one key of a stateful step: its state and what the runtime
 * tracks about it. One allocation per key, key bytes at the end. */
typedef struct kent {
	struct kent *prev, *next; /* in the order the keys were built */
	uint64_t hash, batch;
	int64_t notify; /* the notify_at last reported (0: none) */
	uint32_t group, keylen;
	bx_state st;
	uint8_t key[];
} kent;

/* kslot is a slot of the key table: the key's hash tag beside its entry,
 * so a probe looks at other keys' entries only when the tags match. */
typedef struct kslot {
	uint32_t tag;
	kent *e;
} kslot;

struct srt {
	step *st;
	const bx_logic *lg;
	void *ctx;
	kslot *tab;
	size_t cap, n;
	kent *first, *last; /* every key, in building order (on_eof's order) */
	uint64_t batches;
	kent **groups;
	size_t ngroups, capgroups;
	uint32_t *counts;
};

static inline uint64_t mix(uint64_t a, uint64_t b) {
	a ^= b;
	a *= 0xbf58476d1ce4e5b9ull;
	return a ^ (a >> 31);
}

/* hash_bytes hashes a key with whole-word loads: short keys (most keys)
 * take no loop. */
static uint64_t hash_bytes(const uint8_t *p, size_t n) {
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	if (n >= 8) {
		size_t i = 0;
		for (; i + 8 < n; i += 8)
			h = mix(h, load64(p + i));
		h = mix(h, load64(p + n - 8));
	} else if (n >= 4) {
		h = mix(h, (uint64_t)load32(p) << 32 | load32(p + n - 4));
	} else if (n) {
		h = mix(h, (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1]);
	}
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 32);
}

static kslot *srt_slot(srt *rt, bx_bytes key, uint64_t h) {
	size_t mask = rt->cap - 1;
	uint32_t tag = (uint32_t)(h >> 32);
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		kslot *sl = &rt->tab[i];
		if (!sl->e || (sl->tag == tag && sl->e->keylen == key.len && same(sl->e->key, key.ptr, key.len)))
			return sl;
	}
}

static kent *srt_find(srt *rt, bx_bytes key, uint64_t h) {
	if (!rt->n)
		return NULL;
	return srt_slot(rt, key, h)->e;
}

static void srt_grow(srt *rt) {
	size_t old = rt->cap;
	kslot *tab = rt->tab;
	rt->cap = old ? old * 2 : 64;
	rt->tab = xmalloc(rt->cap * sizeof(kslot));
	memset(rt->tab, 0, rt->cap * sizeof(kslot));
	for (size_t i = 0; i < old; i++) {
		if (tab[i].e) {
			size_t mask = rt->cap - 1, j = tab[i].e->hash & mask;
			while (rt->tab[j].e)
				j = (j + 1) & mask;
			rt->tab[j] = tab[i];
		}
	}
	free(tab);
}

static void state_free(bx_state *s) {
	if (s->ptr && s->ptr != s->inl)
		free(s->ptr);
	s->ptr = s->inl;
	s->len = 0;
	s->cap = sizeof s->inl;
	s->set = false;
}

/* srt_remove deletes a key (backward-shift deletion) and frees it. */
static void srt_remove(srt *rt, kent *e) {
	*(e->prev ? &e->prev->next : &rt->first) = e->next;
	*(e->next ? &e->next->prev : &rt->last) = e->prev;
	size_t mask = rt->cap - 1, i = e->hash & mask;
	while (rt->tab[i].e != e)
		i = (i + 1) & mask;
	size_t j = i;
	for (;;) {
		rt->tab[i] = (kslot){0, NULL};
		for (;;) {
			j = (j + 1) & mask;
			if (!rt->tab[j].e) {
				rt->n--;
				state_free(&e->st);
				free(e);
				return;
			}
			size_t k = rt->tab[j].e->hash & mask;
			if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		rt->tab[i] = rt->tab[j];
		i = j;
	}
}

/* srt_new creates a key's entry (not yet built by the logic). */
static kent *srt_new(srt *rt, bx_bytes key, uint64_t h) {
	if ((rt->n + 1) * 2 > rt->cap)
		srt_grow(rt);
	kent *e = xmalloc(sizeof(kent) + key.len);
	memset(e, 0, sizeof(kent));
	e->hash = h;
	e->keylen = (uint32_t)key.len;
	if (key.len)
		memcpy(e->key, key.ptr, key.len);
	e->st.ptr = e->st.inl;
	e->st.cap = sizeof e->st.inl;
	e->prev = rt->last;
	*(rt->last ? &rt->last->next : &rt->first) = e;
	rt->last = e;
	*srt_slot(rt, key, h) = (kslot){(uint32_t)(h >> 32), e};
	rt->n++;
	return e;
}

static bx_bytes kkey(const kent *e) { return (bx_bytes){e->key, e->keylen}; }

/* srt_build runs the logic's builder for a key, from resume or fresh. */
static void srt_build(srt *rt, kent *e, const bx_bytes *resume) {
	if (rt->lg->build) {
		enter_key(rt->st, "builder", kkey(e));
		rt->lg->build(rt->ctx, kkey(e), resume, &e->st);
	} else if (resume) {
		bx_state_set(&e->st, *resume);
	}
}

/* Response pieces of a KeyedUpdates: emits and key updates. */
static bx_writer emits_body = {NULL, 0, 0, 1}, key_updates = {NULL, 0, 0, 1};
static size_t emits_n, keys_n;

static void updates_reset(void) {
	emits_body.len = key_updates.len = 0;
	emits_n = keys_n = 0;
}

static void put_update(bx_bytes key, bool discard, int64_t at) {
	bx_w_bytes(&key_updates, key);
	bx_w_bool(&key_updates, discard);
	bx_w_varint(&key_updates, at);
	keys_n++;
}

/* finish encodes what a logic emitted and reports the key when it was
 * discarded or its notify_at changed. */
static void srt_finish(srt *rt, kent *e, bx_items *emit, bool discard) {
	for (size_t i = 0; i < emit->len; i++) {
		bx_item it = {kkey(e), emit->v[i].value, true};
		put_item(&emits_body, &it);
	}
	emits_n += emit->len;
	emit->len = 0;
	if (discard) {
		put_update(kkey(e), true, 0);
		srt_remove(rt, e);
		return;
	}
	int64_t at = 0;
	if (rt->lg->notify_at) {
		enter_key(rt->st, "notify_at", kkey(e));
		at = rt->lg->notify_at(rt->ctx, kkey(e), &e->st);
		if (at < 0)
			at = 1;
	}
	if (at != e->notify) {
		e->notify = at;
		put_update(kkey(e), false, at);
	}
}

static void srt_on_batch(srt *rt, const bx_items *in) {
	rt->batches++;
	rt->ngroups = 0;
	size_t n = in->len;
	uint32_t *order = bx_alloc((n ? n : 1) * sizeof(uint32_t));
	if (rt->capgroups < n) {
		rt->capgroups = n;
		rt->groups = xrealloc(rt->groups, n * sizeof(kent *));
		rt->counts = xrealloc(rt->counts, n * sizeof(uint32_t));
	}
	for (size_t i = 0; i < n; i++) {
		bx_bytes key = in->v[i].key;
		uint64_t h = hash_bytes(key.ptr, key.len);
		kent *e = srt_find(rt, key, h);
		if (!e) {
			e = srt_new(rt, key, h);
			srt_build(rt, e, NULL);
		}
		if (e->batch != rt->batches) {
			e->batch = rt->batches;
			e->group = (uint32_t)rt->ngroups;
			rt->groups[rt->ngroups] = e;
			rt->counts[rt->ngroups++] = 0;
		}
		order[i] = e->group;
		rt->counts[e->group]++;
	}
	/* lay the values out group after group */
	uint32_t *start = bx_alloc((rt->ngroups ? rt->ngroups : 1) * sizeof(uint32_t));
	uint32_t off = 0;
	for (size_t g = 0; g < rt->ngroups; g++) {
		start[g] = off;
		off += rt->counts[g];
	}
	bx_bytes *vals = bx_alloc((n ? n : 1) * sizeof(bx_bytes));
	for (size_t i = 0; i < n; i++)
		vals[start[order[i]]++] = in->v[i].value;
	bx_items emit = items_with(16);
	off = 0;
	for (size_t g = 0; g < rt->ngroups; g++) {
		kent *e = rt->groups[g];
		enter_key(rt->st, "on_batch", kkey(e));
		bool discard = rt->lg->on_batch(rt->ctx, kkey(e), &e->st, vals + off, rt->counts[g], &emit);
		off += rt->counts[g];
		srt_finish(rt, e, &emit, discard);
	}
}

static void srt_on_notify(srt *rt, const bx_bytes *keys, size_t n) {
	bx_items emit = items_with(16);
	for (size_t i = 0; i < n; i++) {
		kent *e = srt_find(rt, keys[i], hash_bytes(keys[i].ptr, keys[i].len));
		if (!e) {
			put_update(keys[i], true, 0);
			continue;
		}
		e->notify = 0; /* the host dropped the timer that fired */
		bool discard = false;
		if (rt->lg->on_notify) {
			enter_key(rt->st, "on_notify", kkey(e));
			discard = rt->lg->on_notify(rt->ctx, kkey(e), &e->st, &emit);
		}
		srt_finish(rt, e, &emit, discard);
	}
}

/* srt_on_eof calls on_eof for every key, in the order the keys were
 * built (a key discarded meanwhile and built again counts as new). */
static void srt_on_eof(srt *rt) {
	bx_items emit = items_with(16);
	for (kent *e = rt->first, *next; e; e = next) {
		next = e->next;
		bool discard = false;
		if (rt->lg->on_eof) {
			enter_key(rt->st, "on_eof", kkey(e));
			discard = rt->lg->on_eof(rt->ctx, kkey(e), &e->st, &emit);
		}
		srt_finish(rt, e, &emit, discard);
	}
}

static void srt_free(srt *rt) {
	for (kent *e = rt->first, *next; e; e = next) {
		next = e->next;
		state_free(&e->st);
		free(e);
	}
	rt->first = rt->last = NULL;
	free(rt->tab);
	free(rt->groups);
	free(rt->counts);
	rt->tab = NULL;
	rt->groups = NULL;
	rt->counts = NULL;
	rt->n = rt->cap = rt->capgroups = 0;
}

bx_bytes bx_state_bytes(const bx_state *s) { return (bx_bytes){s->ptr, s->len}; }

static void state_reserve(bx_state *s, size_t n) {
	if (n <= s->cap)
		return;
	size_t cap = s->cap * 2;
	while (cap < n)
		cap *= 2;
	uint8_t *p = xmalloc(cap);
	memcpy(p, s->ptr, s->len);
	if (s->ptr != s->inl)
		free(s->ptr);
	s->ptr = p;
	s->cap = cap;
}

void bx_state_set(bx_state *s, bx_bytes b) {
	if (b.ptr >= s->ptr && b.ptr < s->ptr + s->cap) { /* a slice of the state itself */
		memmove(s->ptr, b.ptr, b.len);
	} else {
		state_reserve(s, b.len);
		if (b.len)
			memcpy(s->ptr, b.ptr, b.len);
	}
	s->len = b.len;
	s->set = true;
}

void bx_state_append(bx_state *s, bx_bytes b) {
	state_reserve(s, s->len + b.len);
	if (b.len)
		memcpy(s->ptr + s->len, b.ptr, b.len);
	s->len += b.len;
	s->set = true;
}

void *bx_state_resize(bx_state *s, size_t n) {
	state_reserve(s, n);
	if (n > s->len)
		memset(s->ptr + s->len, 0, n - s->len);
	s->len = n;
	s->set = true;
	return s->ptr;
}

int64_t bx_state_i64(const bx_state *s) {
	int64_t v = 0;
	if (s->len == 8)
		memcpy(&v, s->ptr, 8);
	return v;
}

void bx_state_set_i64(bx_state *s, int64_t v) {
	s->len = 8; /* cap is at least 16 */
	memcpy(s->ptr, &v, 8);
	s->set = true;
}

void bx_state_clear(bx_state *s) {
	s->len = 0;
	s->set = false;
}

bx_stream bx_stateful_batch(const char *id, bx_stream up, const bx_logic *logic, void *ctx) {
	if (!stream_ok(up, id) || !need_fn(up.flow, id, logic ? (void *)logic->on_batch : NULL))
		return dead(up);
	bx_flow *f = up.flow;
	bx_stream down = new_stream(f, up.scope);
	step *st = add_step(f, up.scope, id, K_STATEFUL_BATCH, &up.id, 1, &down.id, 1);
	if (st) {
		st->srt = bx_flow_alloc(f, sizeof(srt));
		st->srt->st = st;
		st->srt->lg = logic;
		st->srt->ctx = ctx;
	}
	return down;
}

/* ---- library operators ------------------------------------------------ */

/* scope_in opens operator scope id inside scope. */
static const char *scope_in(bx_flow *f, const char *scope, const char *id) { return claim(f, scope, id); }

/* lib_batch adds a flat_map_batch "flat_map_batch" below the scopes of
 * path (NULL-terminated), as the Go SDK does. */
static bx_stream lib_batch(bx_stream up, run_fn run, void *fn, void *fn2, void *ctx, const char *leaf,
                           const char *const *path) {
	bx_flow *f = up.flow;
	const char *scope = up.scope;
	for (; *path; path++)
		if (!(scope = scope_in(f, scope, *path)))
			return dead(up);
	bx_stream down = new_stream(f, up.scope);
	step *st = add_step(f, scope, leaf, K_FLAT_MAP_BATCH, &up.id, 1, &down.id, 1);
	if (st) {
		st->run = run;
		st->fn = fn;
		st->fn2 = fn2;
		st->ctx = ctx;
		st->what = "mapper";
	}
	return down;
}

static void run_map(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_map_fn fn = (bx_map_fn)st->fn;
	*o0 = items_with(n);
	for (size_t i = 0; i < n; i++)
		o0->v[i] = fn(st->ctx, in[i]);
	o0->len = n;
}

static void run_filter(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_pred_fn fn = (bx_pred_fn)st->fn;
	*o0 = items_with(n);
	for (size_t i = 0; i < n; i++)
		if (fn(st->ctx, in[i]))
			o0->v[o0->len++] = in[i];
}

static void run_filter_map(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_filter_map_fn fn = (bx_filter_map_fn)st->fn;
	*o0 = items_with(n);
	for (size_t i = 0; i < n; i++)
		if (fn(st->ctx, in[i], &o0->v[o0->len]))
			o0->len++;
}

static void run_flat_map(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_flat_map_fn fn = (bx_flat_map_fn)st->fn;
	*o0 = items_with(st->hint > n ? st->hint + st->hint / 8 : n);
	for (size_t i = 0; i < n; i++)
		fn(st->ctx, in[i], o0);
	st->hint = o0->len;
}

static void run_key_on(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_key_fn fn = (bx_key_fn)st->fn;
	*o0 = items_with(n);
	for (size_t i = 0; i < n; i++) {
		bx_item it = {fn(st->ctx, in[i]), in[i].value, true};
		o0->v[i] = it;
	}
	o0->len = n;
}

#define PATH(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool lib_ok(const char *op, const char *id, bx_stream up, const void *fn) {
	if (!stream_ok(up, id))
		return false;
	if (!fn)
		flow_error(up.flow, "nil argument: %s \"%s\" needs a function", op, id ? id : "");
	return fn != NULL;
}

bx_stream bx_map(const char *id, bx_stream up, bx_map_fn mapper, void *ctx) {
	if (!lib_ok("Map", id, up, (void *)mapper))
		return dead(up);
	return lib_batch(up, run_map, (void *)mapper, NULL, ctx, "flat_map_batch", PATH(id));
}

bx_stream bx_filter(const char *id, bx_stream up, bx_pred_fn predicate, void *ctx) {
	if (!lib_ok("Filter", id, up, (void *)predicate))
		return dead(up);
	return lib_batch(up, run_filter, (void *)predicate, NULL, ctx, "flat_map_batch", PATH(id, "flat_map"));
}

bx_stream bx_filter_map(const char *id, bx_stream up, bx_filter_map_fn mapper, void *ctx) {
	if (!lib_ok("FilterMap", id, up, (void *)mapper))
		return dead(up);
	return lib_batch(up, run_filter_map, (void *)mapper, NULL, ctx, "flat_map_batch", PATH(id, "flat_map"));
}

bx_stream bx_flat_map(const char *id, bx_stream up, bx_flat_map_fn mapper, void *ctx) {
	if (!lib_ok("FlatMap", id, up, (void *)mapper))
		return dead(up);
	return lib_batch(up, run_flat_map, (void *)mapper, NULL, ctx, "flat_map_batch", PATH(id));
}

bx_stream bx_key_on(const char *id, bx_stream up, bx_key_fn key, void *ctx) {
	if (!lib_ok("KeyOn", id, up, (void *)key))
		return dead(up);
	return lib_batch(up, run_key_on, (void *)key, NULL, ctx, "flat_map_batch", PATH(id, "map"));
}

static void print_inspector(void *ctx, const char *step_id, bx_item it, uint64_t epoch, uint32_t worker) {
	(void)ctx, (void)epoch, (void)worker;
	printf("%s: %.*s\n", step_id, (int)it.value.len, (const char *)it.value.ptr);
}

typedef struct inspect_ctx {
	bx_inspect_fn fn;
	void *ctx;
	const char *op_id;
} inspect_ctx;

static void inspect_op(void *ctx, const char *step_id, bx_item it, uint64_t epoch, uint32_t worker) {
	(void)step_id;
	inspect_ctx *c = ctx;
	c->fn(c->ctx, c->op_id, it, epoch, worker);
}

bx_stream bx_inspect(const char *id, bx_stream up, bx_inspect_fn inspector, void *ctx) {
	if (!stream_ok(up, id))
		return dead(up);
	const char *scope = scope_in(up.flow, up.scope, id);
	if (!scope)
		return dead(up);
	inspect_ctx *c = bx_flow_alloc(up.flow, sizeof *c);
	c->fn = inspector ? inspector : print_inspector;
	c->ctx = ctx;
	c->op_id = scope;
	bx_stream in = up;
	return chain_step(scope, "inspect_debug", in, K_INSPECT_DEBUG, run_inspect, (void *)inspect_op, c, "inspector");
}

/* stateful library operators: a bx_logic whose ctx is a lib_ctx */
typedef struct lib_ctx {
	void *fn, *fn2, *ctx;
} lib_ctx;

static bx_stream lib_stateful(bx_stream up, const bx_logic *lg, void *fn, void *fn2, void *ctx,
                              const char *const *path) {
	bx_flow *f = up.flow;
	const char *scope = up.scope;
	for (; *path; path++)
		if (!(scope = scope_in(f, scope, *path)))
			return dead(up);
	lib_ctx *c = bx_flow_alloc(f, sizeof *c);
	c->fn = fn;
	c->fn2 = fn2;
	c->ctx = ctx;
	bx_stream in = {f, up.id, scope};
	bx_stream down = bx_stateful_batch("stateful_batch", in, lg, c);
	down.scope = up.scope;
	return down;
}

/* stateful_map: the state starts unset; a value that leaves it unset
 * discards the key, and the next value starts from unset again. */
static bool smap_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	lib_ctx *c = ctx;
	bx_state_map_fn fn = (bx_state_map_fn)c->fn;
	for (size_t i = 0; i < n; i++)
		bx_push_value(emit, fn(c->ctx, key, st, values[i]));
	return !st->set;
}

static void smap_build(void *ctx, bx_bytes key, const bx_bytes *resume, bx_state *st) {
	(void)ctx, (void)key;
	if (resume)
		bx_state_set(st, *resume);
}

static const bx_logic smap_logic = {smap_build, smap_batch, NULL, NULL, NULL, NULL};

bx_stream bx_stateful_map(const char *id, bx_stream up, bx_state_map_fn mapper, void *ctx) {
	if (!lib_ok("StatefulMap", id, up, (void *)mapper))
		return dead(up);
	return lib_stateful(up, &smap_logic, (void *)mapper, NULL, ctx, PATH(id, "stateful_flat_map", "stateful"));
}

/* fold_final: the state is the accumulator, from builder() */
static void fold_build(void *ctx, bx_bytes key, const bx_bytes *resume, bx_state *st) {
	(void)key;
	lib_ctx *c = ctx;
	bx_state_set(st, resume ? *resume : ((bx_init_fn)c->fn)(c->ctx));
}

static bool fold_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	(void)key, (void)emit;
	lib_ctx *c = ctx;
	bx_fold_fn fn = (bx_fold_fn)c->fn2;
	bx_bytes acc = bx_state_bytes(st);
	for (size_t i = 0; i < n; i++)
		acc = fn(c->ctx, acc, values[i]);
	bx_state_set(st, acc);
	return false;
}

static bool final_eof(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	(void)ctx, (void)key;
	bx_push_value(emit, bx_copy(bx_state_bytes(st)));
	return true;
}

static const bx_logic fold_logic = {fold_build, fold_batch, NULL, final_eof, NULL, NULL};

bx_stream bx_fold_final(const char *id, bx_stream up, bx_init_fn builder, bx_fold_fn folder, void *ctx) {
	if (!lib_ok("FoldFinal", id, up, builder && folder ? (void *)folder : NULL))
		return dead(up);
	return lib_stateful(up, &fold_logic, (void *)builder, (void *)folder, ctx, PATH(id, "stateful"));
}

/* reduce: the first value is the accumulator */
static bool reduce_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	(void)key, (void)emit;
	lib_ctx *c = ctx;
	bx_fold_fn fn = (bx_fold_fn)c->fn;
	size_t i = 0;
	bx_bytes acc = bx_state_bytes(st);
	if (!st->set && n)
		acc = values[i++];
	for (; i < n; i++)
		acc = fn(c->ctx, acc, values[i]);
	bx_state_set(st, acc);
	return false;
}

static const bx_logic reduce_logic = {NULL, reduce_batch, NULL, final_eof, NULL, NULL};

/* pre_map finds the output index of each distinct key of a batch. */
typedef struct pre_map {
	uint64_t *tab; /* hash tag << 32 | index + 1; 0 is empty */
	size_t mask;
} pre_map;

/* pre_last is the number of distinct keys of the last batch: the table
 * starts at twice that and grows, so it stays small (in cache) when a
 * batch holds few distinct keys. */
static size_t pre_last;

static void pre_alloc(pre_map *m, size_t cap) {
	m->tab = bx_alloc(cap * sizeof(uint64_t));
	memset(m->tab, 0, cap * sizeof(uint64_t));
	m->mask = cap - 1;
}

static void pre_init(pre_map *m, size_t n) {
	size_t cap = 64;
	while (cap < pre_last * 2 && cap < n * 2)
		cap *= 2;
	pre_alloc(m, cap);
}

/* pre_grow doubles the table and puts the keys back. */
static void pre_grow(pre_map *m) {
	uint64_t *old = m->tab;
	size_t n = m->mask + 1;
	pre_alloc(m, n * 2);
	for (size_t i = 0; i < n; i++) {
		if (!old[i])
			continue;
		size_t j = (old[i] >> 32) & m->mask;
		while (m->tab[j])
			j = (j + 1) & m->mask;
		m->tab[j] = old[i];
	}
}

static void pre_done(const bx_items *o0) { pre_last = o0->len; }

/* pre_index returns the index of it's key in o0, appending it if new (o0
 * has room for every item of the batch). The tag in the table spares a
 * look at the items for most other keys. */
static inline __attribute__((always_inline)) uint32_t pre_index(pre_map *m, bx_items *o0, const bx_item *it,
                                                                bool *fresh) {
	uint64_t tag = hash_bytes(it->key.ptr, it->key.len) >> 32;
	for (size_t j = tag & m->mask;; j = (j + 1) & m->mask) {
		uint64_t t = m->tab[j];
		if (!t) {
			uint32_t i = (uint32_t)o0->len;
			m->tab[j] = tag << 32 | (i + 1);
			o0->v[o0->len++] = *it;
			*fresh = true;
			if (o0->len * 2 > m->mask + 1)
				pre_grow(m);
			return i;
		}
		uint32_t i = (uint32_t)t - 1;
		if ((t >> 32) == tag && bx_equal(o0->v[i].key, it->key)) {
			*fresh = false;
			return i;
		}
	}
}

/* pre_group appends each distinct key once to o0 and returns, for every
 * input item, the index of its key's output (through idx). */
static void pre_group(const bx_item *in, size_t n, bx_items *o0, uint32_t *idx) {
	pre_map m;
	pre_init(&m, n);
	*o0 = items_with(n);
	bool fresh;
	for (size_t i = 0; i < n; i++)
		idx[i] = pre_index(&m, o0, &in[i], &fresh);
	pre_done(o0);
}

static void run_pre_reduce(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_fold_fn fn = (bx_fold_fn)st->fn;
	uint32_t *idx = bx_alloc((n ? n : 1) * sizeof(uint32_t));
	pre_group(in, n, o0, idx);
	bool *seen = bx_alloc(o0->len ? o0->len : 1);
	memset(seen, 0, o0->len);
	for (size_t i = 0; i < n; i++) {
		if (!seen[idx[i]]) {
			seen[idx[i]] = true;
			continue;
		}
		bx_item *o = &o0->v[idx[i]];
		o->value = fn(st->ctx, o->value, in[i].value);
	}
}

static bx_stream reduce_in(bx_stream up, bx_fold_fn reducer, run_fn pre, const bx_logic *lg, void *ctx,
                           const char *const *path) {
	bx_flow *f = up.flow;
	const char *scope = up.scope;
	for (; *path; path++)
		if (!(scope = scope_in(f, scope, *path)))
			return dead(up);
	bx_stream in = {f, up.id, scope};
	static const char *const here[] = {NULL};
	bx_stream p = lib_batch(in, pre, (void *)reducer, NULL, ctx, "pre_reduce", here);
	bx_stream down = lib_stateful(p, lg, (void *)reducer, NULL, ctx, PATH("fold_final", "stateful"));
	down.scope = up.scope;
	return down;
}

bx_stream bx_reduce_final(const char *id, bx_stream up, bx_fold_fn reducer, void *ctx) {
	if (!lib_ok("ReduceFinal", id, up, (void *)reducer))
		return dead(up);
	return reduce_in(up, reducer, run_pre_reduce, &reduce_logic, ctx, PATH(id));
}

/* count_final: init_count keys every item with a count of 1, pre_reduce
 * and the stateful sum add int64 counts without going through bytes. */
static const uint8_t one_varint[1] = {2};

static void run_init_count(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1;
	bx_key_fn fn = (bx_key_fn)st->fn;
	*o0 = items_with(n);
	for (size_t i = 0; i < n; i++) {
		bx_item it = {fn ? fn(st->ctx, in[i]) : in[i].value, {one_varint, 1}, true};
		o0->v[i] = it;
	}
	o0->len = n;
}

static void run_pre_count(step *st, const bx_item *in, size_t n, bx_items *o0, bx_items *o1) {
	(void)o1, (void)st;
	uint32_t *idx = bx_alloc((n ? n : 1) * sizeof(uint32_t));
	pre_group(in, n, o0, idx);
	int64_t *sum = bx_alloc((o0->len ? o0->len : 1) * sizeof(int64_t));
	memset(sum, 0, o0->len * sizeof(int64_t));
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		if (!get_i64(in[i].value, &v))
			bx_fail("count value %zu is not an encoded int64", i);
		sum[idx[i]] += v;
	}
	for (size_t j = 0; j < o0->len; j++)
		o0->v[j].value = bx_i64(sum[j]);
}

/* run_count_fused runs init_count and pre_reduce of a count_final in one
 * pass when they are next to each other in a chain (they always are):
 * the same output, without the items in between. */
static void run_count_fused(step *st, const bx_item *in, size_t n, bx_items *o0) {
	bx_key_fn fn = (bx_key_fn)st->fn;
	pre_map m;
	pre_init(&m, n);
	*o0 = items_with(n);
	int64_t *sum = bx_alloc((n ? n : 1) * sizeof(int64_t));
	bool fresh;
	for (size_t i = 0; i < n; i++) {
		bx_item it = {fn ? fn(st->ctx, in[i]) : in[i].value, {one_varint, 1}, true};
		uint32_t j = pre_index(&m, o0, &it, &fresh);
		sum[j] = fresh ? 1 : sum[j] + 1;
	}
	pre_done(o0);
	for (size_t j = 0; j < o0->len; j++)
		o0->v[j].value = bx_i64(sum[j]);
}

static bool count_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	(void)ctx, (void)key, (void)emit;
	int64_t sum = bx_state_i64(st);
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		if (!get_i64(values[i], &v))
			bx_fail("count value is not an encoded int64");
		sum += v;
	}
	bx_state_set_i64(st, sum);
	return false;
}

static void count_build(void *ctx, bx_bytes key, const bx_bytes *resume, bx_state *st) {
	(void)ctx, (void)key;
	int64_t v = 0;
	if (resume && !bx_get_i64(*resume, &v))
		bx_fail("resume state is not an encoded int64");
	bx_state_set_i64(st, v);
}

static bool count_eof(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	(void)ctx, (void)key;
	bx_push_value(emit, bx_i64(bx_state_i64(st)));
	return true;
}

static bx_bytes count_snapshot(void *ctx, bx_bytes key, const bx_state *st) {
	(void)ctx, (void)key;
	return bx_i64(bx_state_i64(st));
}

static const bx_logic count_logic = {count_build, count_batch, NULL, count_eof, NULL, count_snapshot};

bx_stream bx_count_final(const char *id, bx_stream up, bx_key_fn key, void *ctx) {
	if (!stream_ok(up, id))
		return dead(up);
	bx_flow *f = up.flow;
	const char *scope = scope_in(f, up.scope, id);
	if (!scope)
		return dead(up);
	bx_stream in = {f, up.id, scope};
	bx_stream ones = lib_batch(in, run_init_count, (void *)key, NULL, ctx, "flat_map_batch", PATH("init_count"));
	bx_stream down = reduce_in(ones, NULL, run_pre_count, &count_logic, NULL, PATH("sum"));
	down.scope = up.scope;
	return down;
}

/* ---- the registry --------------------------------------------------- */

typedef struct param {
	char *name;
	uint8_t type;
} param;

typedef struct flowdef {
	char *name;
	bx_factory fn;
	void *ctx;
	param *params;
	size_t nparams;
	char *sig;
} flowdef;

static flowdef *defs;
static size_t ndefs;
static char *reg_err; /* a bad registration, reported to the host */
static bool setup_done;

__attribute__((weak)) void bx_setup(void);

static void reg_error(const char *fmt, ...) {
	if (reg_err)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	reg_err = strdup(buf);
}

static char *xstrndup(const char *s, size_t n) {
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static uint8_t type_of(const char *s, size_t n) {
	static const struct {
		const char *name;
		uint8_t t;
	} types[] = {{"string", A_STRING}, {"int", A_INT}, {"int64", A_INT}, {"float64", A_FLOAT}, {"double", A_FLOAT},
	             {"bool", A_BOOL}};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == n && memcmp(types[i].name, s, n) == 0)
			return types[i].t;
	return 0;
}

/* parse_params reads "a string, b int" into def's parameters. */
static bool parse_params(flowdef *d, const char *params) {
	bx_bytes rest = bx_trim(bx_str(params ? params : ""));
	while (rest.len) {
		bx_bytes one = rest, tail = {NULL, 0};
		if (bx_cut(rest, ',', &one, &tail))
			rest = bx_trim(tail);
		else
			rest.len = 0;
		one = bx_trim(one);
		bx_bytes name = one, type = {NULL, 0};
		const uint8_t *sp = NULL;
		for (size_t i = 0; i < one.len; i++)
			if (is_space(one.ptr[i])) {
				sp = one.ptr + i;
				break;
			}
		if (sp) {
			name = (bx_bytes){one.ptr, (size_t)(sp - one.ptr)};
			type = bx_trim((bx_bytes){sp, one.len - name.len});
		}
		uint8_t t = type_of((const char *)type.ptr, type.len);
		if (!name.len || !t) {
			reg_error("bx_register(\"%s\"): bad parameter \"%.*s\": write \"name type\", type one of string, int, "
			          "float64, bool",
			          d->name, (int)one.len, (const char *)one.ptr);
			return false;
		}
		for (size_t i = 0; i < d->nparams; i++)
			if (strlen(d->params[i].name) == name.len && memcmp(d->params[i].name, name.ptr, name.len) == 0) {
				reg_error("bx_register(\"%s\"): parameter name \"%.*s\" used twice", d->name, (int)name.len,
				          (const char *)name.ptr);
				return false;
			}
		d->params = xrealloc(d->params, (d->nparams + 1) * sizeof(param));
		d->params[d->nparams].name = xstrndup((const char *)name.ptr, name.len);
		d->params[d->nparams++].type = t;
	}
	return true;
}

static char *signature(const flowdef *d) {
	bx_writer w = {NULL, 0, 0, 1};
	bx_w_raw(&w, d->name, strlen(d->name));
	bx_w_u8(&w, '(');
	for (size_t i = 0; i < d->nparams; i++) {
		if (i)
			bx_w_raw(&w, ", ", 2);
		bx_w_raw(&w, d->params[i].name, strlen(d->params[i].name));
		bx_w_u8(&w, ' ');
		bx_w_raw(&w, arg_name(d->params[i].type), strlen(arg_name(d->params[i].type)));
	}
	bx_w_u8(&w, ')');
	bx_w_u8(&w, 0);
	return (char *)w.ptr;
}

void bx_register(const char *name, bx_factory factory, void *ctx, const char *params) {
	if (!name || !*name) {
		reg_error("bx_register: empty flow name");
		return;
	}
	if (!factory) {
		reg_error("bx_register(\"%s\"): NULL factory", name);
		return;
	}
	for (size_t i = 0; i < ndefs; i++)
		if (strcmp(defs[i].name, name) == 0) {
			reg_error("bx_register: flow \"%s\" registered twice", name);
			return;
		}
	flowdef d = {strdup(name), factory, ctx, NULL, 0, NULL};
	if (!parse_params(&d, params))
		return;
	d.sig = signature(&d);
	defs = xrealloc(defs, (ndefs + 1) * sizeof(flowdef));
	defs[ndefs++] = d;
}

static void setup(void) {
	if (setup_done)
		return;
	setup_done = true;
	if (bx_setup)
		bx_setup();
}

struct bx_args {
	size_t n;
	struct {
		uint8_t type;
		bx_bytes s;
		int64_t i;
		double f;
		bool b;
	} *v;
	const flowdef *def;
};

static char *refusal; /* set by bx_refuse during a build */

bx_flow *bx_refuse(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	refusal = (char *)vfmt(fmt, ap).ptr;
	va_end(ap);
	return NULL;
}

static void arg_check(const bx_args *a, size_t i, uint8_t t) {
	if (!a || i >= a->n)
		bx_fail("argument %zu of a factory that has %zu", i + 1, a ? a->n : 0);
	if (a->def->params[i].type != t)
		bx_fail("argument %zu (%s) is a %s, not a %s", i + 1, a->def->params[i].name,
		        arg_name(a->def->params[i].type), arg_name(t));
}

const char *bx_arg_str(const bx_args *a, size_t i) {
	arg_check(a, i, A_STRING);
	return bx_cstr_of(a->v[i].s);
}

int64_t bx_arg_int(const bx_args *a, size_t i) {
	arg_check(a, i, A_INT);
	return a->v[i].i;
}

double bx_arg_float(const bx_args *a, size_t i) {
	arg_check(a, i, A_FLOAT);
	return a->v[i].type == A_INT ? (double)a->v[i].i : a->v[i].f;
}

bool bx_arg_bool(const bx_args *a, size_t i) {
	arg_check(a, i, A_BOOL);
	return a->v[i].b;
}

/* ---- the dispatcher --------------------------------------------------- */

static bx_writer resp = {NULL, 0, 0, 1};
static const char *fail_msg; /* set by a failing handler */
static const step *fail_step;

/* errorf fails the current request with a StatusError. */
static bool errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool errorf(const char *fmt, ...) {
	if (fail_msg)
		return false;
	va_list ap;
	va_start(ap, fmt);
	fail_msg = (const char *)vfmt(fmt, ap).ptr;
	va_end(ap);
	return false;
}

/* done checks that a request decoded completely. */
static bool done(bx_reader *r, const char *what) {
	if (bx_r_end(r))
		return true;
	return errorf("bx: malformed request: %s: %s at byte %zu", what, r->err, r->err_off);
}

static void free_flow(bx_flow *f) {
	if (!f)
		return;
	for (uint32_t i = 0; i < f->nsteps; i++) {
		step *st = f->steps[i];
		if (st->srt)
			srt_free(st->srt);
		if (st->prt) {
			for (openpart *p = st->prt->open; p;) {
				openpart *next = p->next;
				free(p->name);
				free(p->part);
				free(p);
				p = next;
			}
		}
	}
	free(f->chains);
	arena_free(&f->mem);
	free(f);
}

static bool not_built(void) { return errorf("bx: no flow built yet"); }

static step *get_step(uint32_t i, uint8_t kind) {
	if (!built)
		return not_built(), NULL;
	if (i >= built->nsteps)
		return errorf("bx: bad step: step index %u, the flow has %u steps", i, built->nsteps), NULL;
	step *st = built->steps[i];
	if (kind && st->kind != kind)
		return errorf("bx: bad step: step %u (%s) is a %s step, not %s", i, st->id, kind_name(st->kind),
		              kind_name(kind)),
		       NULL;
	return st;
}

static bool op_list_flows(bx_reader *r) {
	if (!done(r, "list flows"))
		return false;
	if (reg_err)
		return errorf("%s", reg_err);
	bx_w_uvarint(&resp, ndefs);
	for (size_t i = 0; i < ndefs; i++) {
		w_str(&resp, defs[i].name);
		bx_w_uvarint(&resp, defs[i].nparams);
		for (size_t j = 0; j < defs[i].nparams; j++) {
			w_str(&resp, defs[i].params[j].name);
			bx_w_u8(&resp, defs[i].params[j].type);
		}
	}
	return true;
}

static void put_graph(const bx_flow *f) {
	w_str(&resp, f->id);
	bx_w_uvarint(&resp, f->streams);
	bx_w_uvarint(&resp, f->nsteps);
	for (uint32_t i = 0; i < f->nsteps; i++) {
		const step *st = f->steps[i];
		w_str(&resp, st->id);
		bx_w_u8(&resp, st->kind);
		bx_w_uvarint(&resp, st->nin);
		for (uint32_t j = 0; j < st->nin; j++)
			bx_w_uvarint(&resp, st->ins[j]);
		bx_w_uvarint(&resp, st->nout);
		for (uint32_t j = 0; j < st->nout; j++)
			bx_w_uvarint(&resp, st->outs[j]);
		bx_w_u8(&resp, st->conn);
		w_str(&resp, st->arg);
	}
}

static const flowdef *lookup(bx_bytes name) {
	for (size_t i = 0; i < ndefs; i++)
		if (bx_eq(name, defs[i].name))
			return &defs[i];
	if (!ndefs)
		return errorf("unknown flow \"%s\": this module registers no flows (call bx_register in bx_setup)",
		              bx_cstr_of(name)),
		       NULL;
	bx_writer w = {0};
	for (size_t i = 0; i < ndefs; i++) {
		if (i)
			bx_w_raw(&w, ", ", 2);
		bx_w_raw(&w, defs[i].sig, strlen(defs[i].sig));
	}
	errorf("unknown flow \"%s\"; this module has: %.*s", bx_cstr_of(name), (int)w.len, (const char *)w.ptr);
	return NULL;
}

static bool check_args(const flowdef *d, bx_args *a) {
	if (a->n != d->nparams)
		return errorf("bad arguments: %s takes %zu argument(s), got %zu", d->sig, d->nparams, a->n);
	for (size_t i = 0; i < a->n; i++) {
		uint8_t want = d->params[i].type, got = a->v[i].type;
		if (got != want && !(got == A_INT && want == A_FLOAT))
			return errorf("bad arguments: argument %zu (%s) of %s: want %s, got %s", i + 1, d->params[i].name, d->sig,
			              arg_name(want), arg_name(got));
	}
	a->def = d;
	return true;
}

static void drop_building(bx_flow *keep) {
	for (bx_flow *f = building; f;) {
		bx_flow *next = f->next_unused;
		if (f != keep)
			free_flow(f);
		f = next;
	}
	building = NULL;
}

static bool op_build(bx_reader *r) {
	bx_bytes name = bx_r_bytes(r);
	bx_args a = {0, NULL, NULL};
	a.n = r_count(r, 2);
	a.v = bx_alloc((a.n ? a.n : 1) * sizeof *a.v);
	for (size_t i = 0; i < a.n && !r->err; i++) {
		a.v[i].type = bx_r_u8(r);
		switch (a.v[i].type) {
		case A_STRING: a.v[i].s = bx_r_bytes(r); break;
		case A_INT: a.v[i].i = bx_r_varint(r); break;
		case A_FLOAT: a.v[i].f = bx_r_f64(r); break;
		case A_BOOL: a.v[i].b = bx_r_bool(r); break;
		default: r_fail(r, "abi: unknown argument type");
		}
	}
	if (!done(r, "build"))
		return false;
	free_flow(built);
	built = NULL;
	if (reg_err)
		return errorf("%s", reg_err);
	const flowdef *d = lookup(name);
	if (!d || !check_args(d, &a))
		return false;
	refusal = NULL;
	building = NULL;
	static char what[300];
	snprintf(what, sizeof what, "flow factory %s", d->name);
	enter(NULL, what);
	bx_flow *f = d->fn(d->ctx, &a);
	enter(NULL, NULL);
	drop_building(f);
	if (!f) {
		if (refusal)
			return errorf("flow factory failed: %s: %s", d->name, refusal);
		return errorf("flow factory failed: %s returned a NULL flow", d->name);
	}
	if (f->err) {
		const char *msg = bx_cstr_of(bx_str(f->err));
		free_flow(f);
		return errorf("%s", msg);
	}
	built = f;
	put_graph(f);
	return true;
}

static bool op_fuse(bx_reader *r) {
	uint32_t id = r_u32(r);
	size_t n = r_count(r, 1);
	uint32_t *idx = bx_alloc((n ? n : 1) * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		idx[i] = r_u32(r);
	if (!done(r, "fuse"))
		return false;
	if (!built)
		return not_built();
	if (!n)
		return errorf("bx: bad chain: chain %u has no steps", id);
	step **steps = bx_alloc(n * sizeof(step *));
	for (size_t i = 0; i < n; i++) {
		if (idx[i] >= built->nsteps)
			return errorf("bx: bad chain: chain %u: step index %u, the flow has %u steps", id, idx[i], built->nsteps);
		step *st = built->steps[idx[i]];
		if (!st->run)
			return errorf("bx: bad chain: chain %u: step %u (%s) is a %s step, which cannot be fused", id, idx[i],
			              st->id, kind_name(st->kind));
		if (i && (steps[i - 1]->nout != 1 || steps[i - 1]->outs[0] != st->ins[0]))
			return errorf("bx: bad chain: chain %u: step %s does not read the only output of step %s", id, st->id,
			              steps[i - 1]->id);
		steps[i] = st;
	}
	step **kept = xmalloc(n * sizeof(step *));
	memcpy(kept, steps, n * sizeof(step *));
	steps = kept;
	for (size_t i = 0; i < built->nchains; i++) {
		if (built->chains[i].id == id) {
			free(built->chains[i].steps);
			built->chains[i].steps = steps;
			built->chains[i].n = (uint32_t)n;
			return true;
		}
	}
	if (built->nchains == built->capchains) {
		built->capchains = built->capchains ? built->capchains * 2 : 8;
		built->chains = xrealloc(built->chains, built->capchains * sizeof(chain));
	}
	built->chains[built->nchains++] = (chain){id, (uint32_t)n, steps};
	return true;
}

static bool op_run_chain(bx_reader *r) {
	uint32_t id = r_u32(r);
	uint32_t worker = r_u32(r);
	uint64_t epoch = bx_r_uvarint(r);
	bx_items in;
	read_batch(r, &in);
	if (!done(r, "run chain"))
		return false;
	chain *ch = NULL;
	for (size_t i = 0; built && i < built->nchains; i++)
		if (built->chains[i].id == id)
			ch = &built->chains[i];
	if (!ch)
		return errorf("bx: bad chain: chain %u was not fused", id);
	rc_epoch = epoch;
	rc_worker = worker;
	bx_items cur = in, o0 = {0}, o1 = {0};
	for (uint32_t i = 0; i < ch->n; i++) {
		step *st = ch->steps[i];
		enter(st, st->what);
		o0 = (bx_items){0};
		o1 = (bx_items){0};
		if (st->run == run_init_count && i + 1 < ch->n && ch->steps[i + 1]->run == run_pre_count) {
			run_count_fused(st, cur.v, cur.len, &o0);
			i++;
		} else {
			st->run(st, cur.v, cur.len, &o0, &o1);
		}
		cur = o0;
	}
	step *last = ch->steps[ch->n - 1];
	enter(last, NULL);
	bx_w_uvarint(&resp, last->nout);
	put_batch(&resp, o0.v, o0.len);
	if (last->nout == 2)
		put_batch(&resp, o1.v, o1.len);
	return true;
}

static srt *stateful_step(uint32_t i) {
	step *st = get_step(i, K_STATEFUL_BATCH);
	return st ? st->srt : NULL;
}

static void put_updates(void) {
	bx_w_uvarint(&resp, emits_n);
	bx_w_bytes(&resp, bx_w_done(&emits_body));
	bx_w_uvarint(&resp, keys_n);
	bx_w_raw(&resp, key_updates.ptr, key_updates.len);
}

static bool op_stateful_batch(bx_reader *r) {
	uint32_t i = r_u32(r);
	bx_r_varint(r);
	bx_items in;
	read_batch(r, &in);
	if (!done(r, "stateful batch"))
		return false;
	srt *rt = stateful_step(i);
	if (!rt)
		return false;
	for (size_t j = 0; j < in.len; j++) {
		if (!in.v[j].has_key) {
			fail_step = rt->st;
			return errorf("decoding an item for step %s: bx: cannot decode value: item of a keyed stream has no key",
			              rt->st->id);
		}
	}
	updates_reset();
	srt_on_batch(rt, &in);
	put_updates();
	return true;
}

static bx_bytes *read_keys(bx_reader *r, size_t *n) {
	*n = r_count(r, 1);
	bx_bytes *keys = bx_alloc((*n ? *n : 1) * sizeof(bx_bytes));
	for (size_t i = 0; i < *n; i++)
		keys[i] = bx_r_bytes(r);
	return keys;
}

static bool op_notify(bx_reader *r) {
	uint32_t i = r_u32(r);
	bx_r_varint(r);
	size_t n;
	bx_bytes *keys = read_keys(r, &n);
	if (!done(r, "notify"))
		return false;
	srt *rt = stateful_step(i);
	if (!rt)
		return false;
	updates_reset();
	srt_on_notify(rt, keys, n);
	put_updates();
	return true;
}

static bool op_eof(bx_reader *r) {
	uint32_t i = r_u32(r);
	bx_r_varint(r);
	if (!done(r, "eof"))
		return false;
	srt *rt = stateful_step(i);
	if (!rt)
		return false;
	updates_reset();
	srt_on_eof(rt);
	put_updates();
	return true;
}

static bool op_snapshot(bx_reader *r) {
	uint32_t i = r_u32(r);
	bx_r_varint(r);
	size_t n;
	bx_bytes *keys = read_keys(r, &n);
	if (!done(r, "snapshot"))
		return false;
	srt *rt = stateful_step(i);
	if (!rt)
		return false;
	bx_w_uvarint(&resp, i);
	bx_w_uvarint(&resp, n);
	for (size_t j = 0; j < n; j++) {
		kent *e = srt_find(rt, keys[j], hash_bytes(keys[j].ptr, keys[j].len));
		bx_w_bytes(&resp, keys[j]);
		bx_w_bool(&resp, e != NULL);
		if (!e) {
			bx_w_uvarint(&resp, 0);
			continue;
		}
		bx_bytes s = bx_state_bytes(&e->st);
		if (rt->lg->snapshot) {
			enter_key(rt->st, "snapshot", kkey(e));
			s = rt->lg->snapshot(rt->ctx, kkey(e), &e->st);
		}
		bx_w_bytes(&resp, s);
	}
	return true;
}

static bool op_restore(bx_reader *r) {
	uint32_t i = r_u32(r);
	size_t n = r_count(r, 3);
	bx_bytes *keys = bx_alloc((n ? n : 1) * sizeof(bx_bytes));
	bx_bytes *states = bx_alloc((n ? n : 1) * sizeof(bx_bytes));
	bool *present = bx_alloc(n ? n : 1);
	for (size_t j = 0; j < n; j++) {
		keys[j] = bx_r_bytes(r);
		present[j] = bx_r_bool(r);
		states[j] = bx_r_bytes(r);
	}
	if (!done(r, "restore"))
		return false;
	srt *rt = stateful_step(i);
	if (!rt)
		return false;
	for (size_t j = 0; j < n; j++) {
		uint64_t h = hash_bytes(keys[j].ptr, keys[j].len);
		kent *e = srt_find(rt, keys[j], h);
		if (e)
			srt_remove(rt, e);
		if (!present[j])
			continue;
		e = srt_new(rt, keys[j], h);
		srt_build(rt, e, &states[j]);
	}
	return true;
}

/* parts_step returns the guest connector of an input or output step. */
static prt *parts_step(uint32_t i, uint8_t kind) {
	step *st = get_step(i, kind);
	if (!st)
		return NULL;
	if (st->kind != K_INPUT && st->kind != K_OUTPUT)
		return errorf("bx: bad step: step %u (%s) is a %s step, not input or output", i, st->id, kind_name(st->kind)),
		       NULL;
	if (!st->prt)
		return errorf("bx: the host runs this connector: step %s uses the host's %s connector", st->id,
		              conn_name(st->conn)),
		       NULL;
	return st->prt;
}

static openpart *find_part(prt *p, uint32_t handle) {
	for (openpart *o = p->open; o; o = o->next)
		if (o->handle == handle)
			return o;
	errorf("bx: bad partition handle: step %s has no partition with handle %u", p->st->id, handle);
	return NULL;
}

static bool op_list_parts(bx_reader *r) {
	uint32_t i = r_u32(r), worker = r_u32(r), workers = r_u32(r);
	if (!done(r, "list parts"))
		return false;
	prt *p = parts_step(i, 0);
	if (!p)
		return false;
	bx_items names = {0};
	void (*list)(void *, uint32_t, uint32_t, bx_items *) = p->src ? p->src->list_parts : p->sink->list_parts;
	if (list && p->st->conn == C_PARTITIONED) {
		enter(p->st, "list_parts");
		list(p->ctx, worker, workers, &names);
	}
	bx_w_uvarint(&resp, names.len);
	for (size_t j = 0; j < names.len; j++)
		bx_w_bytes(&resp, names.v[j].value);
	return true;
}

static bool op_build_part(bx_reader *r) {
	uint32_t i = r_u32(r), handle = r_u32(r);
	bx_bytes part = bx_r_bytes(r);
	uint32_t worker = r_u32(r), workers = r_u32(r);
	bool has_resume = bx_r_bool(r);
	bx_bytes resume = bx_r_bytes(r);
	if (!done(r, "build part"))
		return false;
	prt *p = parts_step(i, 0);
	if (!p)
		return false;
	for (openpart *o = p->open; o; o = o->next)
		if (o->handle == handle)
			return errorf("bx: bad partition handle: handle %u of step %s is already built", handle, p->st->id);
	size_t size = p->src ? p->src->part_size : p->sink->part_size;
	openpart *o = xmalloc(sizeof *o);
	o->handle = handle;
	o->name = xmalloc(part.len ? part.len : 1);
	if (part.len)
		memcpy(o->name, part.ptr, part.len);
	o->nlen = part.len;
	o->part = xmalloc(size ? size : 1);
	memset(o->part, 0, size ? size : 1);
	o->next = p->open;
	p->open = o;
	bool partitioned = p->st->conn == C_PARTITIONED;
	bx_part_info info = {p->st->id, {o->name, o->nlen}, worker, workers, has_resume && partitioned ? &resume : NULL};
	void (*build)(void *, const bx_part_info *, void *) = p->src ? p->src->build : p->sink->build;
	if (build) {
		enter_part(p->st, partitioned ? "build_part" : "build", info.part);
		build(p->ctx, &info, o->part);
	}
	return true;
}

static bool op_next_batch(bx_reader *r) {
	uint32_t i = r_u32(r), handle = r_u32(r);
	bx_r_varint(r);
	if (!done(r, "next batch"))
		return false;
	prt *p = parts_step(i, K_INPUT);
	openpart *o = p ? find_part(p, handle) : NULL;
	if (!o)
		return false;
	bx_bytes name = {o->name, o->nlen};
	bx_items out = {0};
	enter_part(p->st, "next_batch", name);
	bool eof = p->src->next_batch(p->ctx, o->part, &out);
	int64_t awake = 0;
	if (!eof && p->src->next_awake) {
		enter_part(p->st, "next_awake", name);
		awake = p->src->next_awake(p->ctx, o->part);
		if (awake < 0)
			awake = 1;
	}
	enter(p->st, NULL);
	bx_w_bool(&resp, eof);
	bx_w_varint(&resp, awake);
	put_batch(&resp, out.v, out.len);
	return true;
}

static bool op_write_batch(bx_reader *r) {
	uint32_t i = r_u32(r), handle = r_u32(r);
	bx_items in;
	read_batch(r, &in);
	if (!done(r, "write batch"))
		return false;
	prt *p = parts_step(i, K_OUTPUT);
	openpart *o = p ? find_part(p, handle) : NULL;
	if (!o)
		return false;
	enter_part(p->st, "write_batch", (bx_bytes){o->name, o->nlen});
	p->sink->write_batch(p->ctx, o->part, in.v, in.len);
	return true;
}

static bool op_part_snapshot(bx_reader *r) {
	uint32_t i = r_u32(r), handle = r_u32(r);
	bx_r_varint(r);
	if (!done(r, "part snapshot"))
		return false;
	prt *p = parts_step(i, 0);
	openpart *o = p ? find_part(p, handle) : NULL;
	if (!o)
		return false;
	bx_bytes (*snap)(void *, void *) = p->src ? p->src->snapshot : p->sink->snapshot;
	if (!snap || p->st->conn != C_PARTITIONED) {
		bx_w_bool(&resp, false);
		bx_w_uvarint(&resp, 0);
		return true;
	}
	enter_part(p->st, "snapshot", (bx_bytes){o->name, o->nlen});
	bx_bytes s = snap(p->ctx, o->part);
	bx_w_bool(&resp, true);
	bx_w_bytes(&resp, s);
	return true;
}

static bool op_close_part(bx_reader *r) {
	uint32_t i = r_u32(r), handle = r_u32(r);
	bx_r_varint(r);
	if (!done(r, "close part"))
		return false;
	prt *p = parts_step(i, 0);
	openpart *o = p ? find_part(p, handle) : NULL;
	if (!o)
		return false;
	for (openpart **pp = &p->open; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	void (*close)(void *, void *) = p->src ? p->src->close : p->sink->close;
	if (close) {
		enter_part(p->st, "close", (bx_bytes){o->name, o->nlen});
		close(p->ctx, o->part);
	}
	free(o->name);
	free(o->part);
	free(o);
	return true;
}

typedef bool (*handler)(bx_reader *r);

static const handler handlers[] = {
    NULL,          op_list_flows, op_build,      op_fuse,       op_run_chain,   op_stateful_batch,
    op_notify,     op_eof,        op_snapshot,   op_restore,    op_list_parts,  op_build_part,
    op_next_batch, op_write_batch, op_part_snapshot, op_close_part,
};

static void error_response(void) {
	resp.len = 0;
	bx_w_u8(&resp, 1);
	const step *st = fail_step ? fail_step : site.st;
	put_error_info(&resp, bx_str(fail_msg), st ? st->index + 1 : 0, false, (bx_bytes){NULL, 0});
}

/* dispatch runs one request and leaves the response in resp. */
static void dispatch(const uint8_t *req, size_t n) {
	arena_reset(&call_arena);
	resp.len = 0;
	fail_msg = NULL;
	fail_step = NULL;
	enter(NULL, NULL);
	setup();
	if (n == 0) {
		errorf("bx: malformed request: empty request");
	} else if (req[0] == 0 || req[0] >= sizeof handlers / sizeof handlers[0]) {
		errorf("bx: malformed request: unknown op %u", req[0]);
	} else {
		bx_w_u8(&resp, 0);
		bx_reader r = bx_reader_of((bx_bytes){req + 1, n - 1});
		handlers[req[0]](&r);
	}
	if (fail_msg)
		error_response();
}

/* ---- exports ------------------------------------------------------------- */

static uint8_t *req_buf;
static size_t req_cap;

#ifdef __wasm__
BX_EXPORT("bxwasm_abi_version") int32_t bxwasm_abi_version(void) { return 1; }

BX_EXPORT("bxwasm_buffer") int32_t bxwasm_buffer(int32_t size) {
	size_t want = (uint32_t)size;
	if (want > req_cap || !req_buf) {
		size_t cap = req_cap * 2 > 4096 ? req_cap * 2 : 4096;
		if (cap < want)
			cap = want;
		free(req_buf);
		req_buf = malloc(cap);
		if (!req_buf) {
			fprintf(stderr, "bxwasm guest: cannot allocate a request buffer of %zu bytes\n", cap);
			fflush(stderr);
			__builtin_trap();
		}
		req_cap = cap;
	}
	return (int32_t)(uintptr_t)req_buf;
}

BX_EXPORT("bxwasm_call") int64_t bxwasm_call(int32_t len) {
	last_error_word = 0;
	size_t n = (uint32_t)len;
	if (n > req_cap) {
		arena_reset(&call_arena);
		resp.len = 0;
		fail_msg = NULL;
		fail_step = NULL;
		enter(NULL, NULL);
		errorf("bx: malformed request: length %zu is outside the request buffer of %zu bytes", n, req_cap);
		error_response();
	} else {
		dispatch(req_buf, n);
	}
	return (int64_t)(((uint64_t)(uintptr_t)resp.ptr << 32) | resp.len);
}

BX_EXPORT("bxwasm_last_error") int64_t bxwasm_last_error(void) { return (int64_t)last_error_word; }
#else
bx_bytes bx_dispatch_native(const uint8_t *req, size_t n) {
	last_error_word = 0;
	last_error_len = 0;
	dispatch(req, n);
	return bx_w_done(&resp);
}

bx_bytes bx_error_info_native(bx_bytes msg, uint32_t step1, bool has_key, bx_bytes key) {
	bx_writer w = {0};
	put_error_info(&w, msg, step1, has_key, key);
	return bx_w_done(&w);
}

bx_bytes bx_last_error_native(void) {
	return (bx_bytes){last_error_buf, last_error_word ? last_error_len : 0};
}

void bx_reset_native(void) {
	free_flow(built);
	built = NULL;
	for (size_t i = 0; i < ndefs; i++) {
		free(defs[i].name);
		free(defs[i].sig);
		for (size_t j = 0; j < defs[i].nparams; j++)
			free(defs[i].params[j].name);
		free(defs[i].params);
	}
	free(defs);
	defs = NULL;
	ndefs = 0;
	free(reg_err);
	reg_err = NULL;
	setup_done = false;
	(void)req_buf;
	(void)req_cap;
}
#endif
