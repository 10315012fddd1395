/*
 * Native unit tests of the C guest SDK: the codec against the golden
 * bytes of docs/abi.md, the dispatcher's strictness, and the stateful
 * rules of docs/abi.md section 11. Run by test.sh.
 */
#define _GNU_SOURCE
#include "bxwasm.h"
#include "check.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int failures;

void bx_setup(void) {}

bx_bytes call(bx_bytes req) {
	uint8_t *copy = malloc(req.len + 1);
	memcpy(copy, req.ptr, req.len);
	bx_bytes r = bx_dispatch_native(copy, req.len);
	free(copy);
	return bx_copy(r);
}

/* hex parses "02 0c 03" into bytes (arena). */
static bx_bytes hex(const char *s) {
	uint8_t *p = bx_alloc(strlen(s) / 2 + 1);
	size_t n = 0;
	while (*s) {
		if (*s == ' ') {
			s++;
			continue;
		}
		unsigned v;
		sscanf(s, "%2x", &v);
		p[n++] = (uint8_t)v;
		s += 2;
	}
	return (bx_bytes){p, n};
}

static void show(const char *what, bx_bytes b) {
	fprintf(stderr, "  %s:", what);
	for (size_t i = 0; i < b.len; i++)
		fprintf(stderr, " %02x", b.ptr[i]);
	fprintf(stderr, "\n");
}

#define CHECK_BYTES(got, want_hex)                                       \
	do {                                                                 \
		bx_bytes g_ = (got), w_ = hex(want_hex);                         \
		if (!bx_equal(g_, w_)) {                                         \
			fprintf(stderr, "%s:%d: bytes differ\n", __FILE__, __LINE__); \
			show("got ", g_);                                            \
			show("want", w_);                                            \
			failures++;                                                  \
		}                                                                \
	} while (0)

/* call sends a request (hex) and returns a copy of the response. */
static bx_bytes call_hex(const char *req_hex) {
	bx_bytes req = hex(req_hex);
	uint8_t *copy = malloc(req.len + 1);
	memcpy(copy, req.ptr, req.len);
	bx_bytes r = bx_dispatch_native(copy, req.len);
	free(copy);
	return bx_copy(r);
}


/* error_message decodes a StatusError response strictly and returns its
 * message, or "" if the response is not one. */
static const char *error_message(bx_bytes resp) {
	bx_reader r = bx_reader_of(resp);
	if (bx_r_u8(&r) != 1)
		return "";
	bx_bytes msg = bx_r_bytes(&r);
	bx_r_bytes(&r);
	bx_r_uvarint(&r);
	bx_r_bool(&r);
	bx_r_bytes(&r);
	if (!bx_r_end(&r))
		return "";
	return bx_cstr_of(msg);
}

static bool is_error(bx_bytes resp, const char *substr) {
	const char *m = error_message(resp);
	if (!*m || !strstr(m, substr)) {
		fprintf(stderr, "  want an error with \"%s\", got \"%s\"\n", substr, m);
		return false;
	}
	return true;
}

/* ---- codec ---------------------------------------------------------------- */

static bx_bytes uv(uint64_t v) {
	bx_writer w = {0};
	bx_w_uvarint(&w, v);
	return bx_w_done(&w);
}

static bx_bytes sv(int64_t v) {
	bx_writer w = {0};
	bx_w_varint(&w, v);
	return bx_w_done(&w);
}

static void test_codec(void) {
	static const struct {
		uint64_t v;
		const char *hex;
	} uvs[] = {{0, "00"}, {1, "01"}, {127, "7f"}, {128, "80 01"}, {300, "ac 02"}, {16384, "80 80 01"}};
	for (size_t i = 0; i < sizeof uvs / sizeof uvs[0]; i++) {
		CHECK_BYTES(uv(uvs[i].v), uvs[i].hex);
		bx_reader r = bx_reader_of(hex(uvs[i].hex));
		CHECK(bx_r_uvarint(&r) == uvs[i].v && bx_r_end(&r));
	}
	static const struct {
		int64_t v;
		const char *hex;
	} svs[] = {{0, "00"}, {-1, "01"}, {1, "02"}, {-2, "03"}, {63, "7e"}, {-64, "7f"}, {64, "80 01"},
	           {1700000000000000000LL, "80 80 d0 e2 c6 bf ce 97 2f"}};
	for (size_t i = 0; i < sizeof svs / sizeof svs[0]; i++) {
		CHECK_BYTES(sv(svs[i].v), svs[i].hex);
		bx_reader r = bx_reader_of(hex(svs[i].hex));
		CHECK(bx_r_varint(&r) == svs[i].v && bx_r_end(&r));
	}
	bx_writer w = {0};
	bx_w_f64(&w, 1.5);
	CHECK_BYTES(bx_w_done(&w), "00 00 00 00 00 00 f8 3f");
	bx_writer s = {0};
	bx_w_bytes(&s, bx_str("hi"));
	CHECK_BYTES(bx_w_done(&s), "02 68 69");

	/* strict reads: past the end, 11-byte varints, trailing bytes */
	bx_reader r = bx_reader_of(hex("80"));
	bx_r_uvarint(&r);
	CHECK(r.err != NULL);
	r = bx_reader_of(hex("ff ff ff ff ff ff ff ff ff 02"));
	bx_r_uvarint(&r);
	CHECK(r.err != NULL);
	r = bx_reader_of(hex("05 61"));
	bx_r_bytes(&r);
	CHECK(r.err != NULL);
	r = bx_reader_of(hex("01 00"));
	bx_r_uvarint(&r);
	CHECK(!bx_r_end(&r));

	int64_t v;
	CHECK(bx_parse_i64(bx_str("-9223372036854775808"), &v) && v == INT64_MIN);
	CHECK(!bx_parse_i64(bx_str("9223372036854775808"), &v));
	CHECK(bx_parse_i64(bx_str("+12"), &v) && v == 12);
	CHECK(!bx_parse_i64(bx_str("1 "), &v) && !bx_parse_i64(bx_str("-"), &v) && !bx_parse_i64(bx_str(""), &v));
	CHECK(bx_eq(bx_trim(bx_str(" \t x y\r\n")), "x y"));
	CHECK(bx_eq(bx_itoa(-1234), "-1234") && bx_eq(bx_itoa(0), "0"));
	bx_items words = {0};
	bx_push_fields(&words, bx_str(" a\tbb\n\vc\f\rd  e\x85"));
	CHECK(words.len == 5 && bx_eq(words.v[0].value, "a") && bx_eq(words.v[1].value, "bb") &&
	      bx_eq(words.v[3].value, "d") && bx_eq(words.v[4].value, "e\x85") && !words.v[4].has_key);
	/* bx_push_fields (eight bytes at a time) against a byte-by-byte split
	 * of random text of spaces, controls, letters and high bytes */
	static const uint8_t alphabet[] = {' ', '\t', '\n', '\v', '\f', '\r', 'a', 'Z', 0x00, 0x08, 0x0e, 0x1f, 0x21, 0x85, 0xa0, 0xff};
	srand(1);
	for (int round = 0; round < 2000; round++) {
		uint8_t text[40];
		size_t n = (size_t)(rand() % 40);
		for (size_t i = 0; i < n; i++)
			text[i] = alphabet[rand() % (int)sizeof alphabet];
		bx_items got = {0};
		bx_push_fields(&got, (bx_bytes){text, n});
		size_t w = 0, i = 0;
		bool ok = true;
		while (i < n) {
			while (i < n && (text[i] == ' ' || (text[i] >= 9 && text[i] <= 13)))
				i++;
			size_t s0 = i;
			while (i < n && !(text[i] == ' ' || (text[i] >= 9 && text[i] <= 13)))
				i++;
			if (i > s0)
				ok = ok && w < got.len && got.v[w].value.ptr == text + s0 && got.v[w].value.len == i - s0, w++;
		}
		if (!ok || w != got.len) {
			failures++;
			show("bx_push_fields splits wrongly", (bx_bytes){text, n});
			break;
		}
	}
	/* bx_lower (eight bytes at a time): every byte value, at every offset */
	for (size_t off = 0; off < 9; off++) {
		uint8_t in[256 + 9];
		for (int c = 0; c < 256; c++)
			in[off + (size_t)c] = (uint8_t)c;
		bx_bytes low = bx_lower((bx_bytes){in + off, 256});
		for (int c = 0; c < 256; c++)
			if (low.ptr[c] != ((c >= 'A' && c <= 'Z') ? c + 32 : c))
				fprintf(stderr, "  bx_lower(%d) = %d at offset %zu\n", c, low.ptr[c], off), failures++;
	}

	/* bx_equal (word loads, overlapping at the end): every length, a
	 * difference at every position */
	uint8_t a[20], b[20];
	for (size_t n = 0; n <= 20; n++) {
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (uint8_t)('a' + i);
		CHECK(bx_equal((bx_bytes){a, n}, (bx_bytes){b, n}));
		for (size_t i = 0; i < n; i++) {
			b[i] ^= 0x20;
			if (bx_equal((bx_bytes){a, n}, (bx_bytes){b, n}))
				fprintf(stderr, "  bx_equal misses a difference at %zu of %zu\n", i, n), failures++;
			b[i] ^= 0x20;
		}
	}
}

static void test_error_info(void) {
	/* docs/abi.md section 7: "boom", no stack, step index 2, key "k" */
	CHECK_BYTES(bx_error_info_native(bx_str("boom"), 3, true, bx_str("k")), "04 62 6f 6f 6d 00 03 01 01 6b");
}

/* ---- the registry and build ----------------------------------------------- */

static bx_flow *noop_flow(void *ctx, const bx_args *a) { return bx_dataflow("f"); }

static void test_list_flows(void) {
	bx_reset_native();
	bx_register("flow", noop_flow, NULL, "");
	bx_register("get_flow", noop_flow, NULL, "path string");
	CHECK_BYTES(call_hex("01"), "00 02 04 66 6c 6f 77 00 08 67 65 74 5f 66 6c 6f 77 01 04 70 61 74 68 01");
	CHECK(is_error(call_hex("01 00"), "bx: malformed request: list flows: abi: trailing bytes"));
	CHECK(is_error(call_hex("08 00 00 00"), "bx: no flow built yet"));
	CHECK(is_error(call_hex("63"), "bx: malformed request: unknown op 99"));
	CHECK(is_error(call_hex("00"), "unknown op 0"));
	CHECK(is_error(bx_copy(bx_dispatch_native(NULL, 0)), "empty request"));
}

static void split_words(void *ctx, const bx_item *items, size_t n, bx_items *out) {
	for (size_t i = 0; i < n; i++)
		bx_push_fields(out, items[i].value);
}

static bool first_half(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *v, size_t n, bx_items *emit) {
	return false;
}

static const bx_logic nothing_logic = {NULL, first_half, NULL, NULL, NULL, NULL};

static bx_flow *wc_flow(void *ctx, const bx_args *a) {
	CHECK(strcmp(bx_arg_str(a, 0), "in.txt") == 0);
	CHECK(bx_arg_int(a, 1) == -3);
	bx_flow *f = bx_dataflow("wc");
	bx_stream s = bx_input(f, "inp", bx_file_source(bx_arg_str(a, 0)));
	s = bx_flat_map_batch("split", s, split_words, NULL);
	s = bx_stateful_batch("count", s, &nothing_logic, NULL);
	bx_output("out", s, bx_stdout_sink());
	return f;
}

static bx_flow *refusing(void *ctx, const bx_args *a) { return bx_refuse("need n >= 1, got %lld", (long long)bx_arg_int(a, 0)); }

static bx_flow *duplicate(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("d");
	bx_stream s = bx_input(f, "inp", bx_stdin_source());
	s = bx_redistribute("x", s);
	s = bx_redistribute("x", s);
	bx_output("out", s, bx_stdout_sink());
	return f;
}

static void test_build(void) {
	bx_reset_native();
	bx_register("get_flow", wc_flow, NULL, "path string, n int");
	bx_register("refusing", refusing, NULL, "n int");
	bx_register("dup", duplicate, NULL, "");
	/* docs/abi.md section 10: get_flow('in.txt', -3); the graph of section 9 */
	CHECK_BYTES(call_hex("02 08 67 65 74 5f 66 6c 6f 77 02 01 06 69 6e 2e 74 78 74 02 05"),
	            "00 02 77 63 03 04"
	            " 06 77 63 2e 69 6e 70 01 00 01 00 03 06 69 6e 2e 74 78 74"
	            " 08 77 63 2e 73 70 6c 69 74 03 01 00 01 01 00 00"
	            " 08 77 63 2e 63 6f 75 6e 74 08 01 01 01 02 00 00"
	            " 06 77 63 2e 6f 75 74 02 01 02 00 06 00");
	CHECK_BYTES(call_hex("03 01 01 01"), "00");
	CHECK(is_error(call_hex("03 02 01 02"), "bx: bad chain: chain 2: step 2 (wc.count) is a stateful_batch step, which cannot be fused"));
	CHECK(is_error(call_hex("03 02 01 09"), "step index 9, the flow has 4 steps"));
	CHECK(is_error(call_hex("04 07 00 01 00 00"), "bx: bad chain: chain 7 was not fused"));
	CHECK(is_error(call_hex("05 09 00 00 00"), "bx: bad step: step index 9, the flow has 4 steps"));
	CHECK(is_error(call_hex("05 01 00 00 00"), "step 1 (wc.split) is a flat_map_batch step, not stateful_batch"));
	CHECK(is_error(call_hex("0c 00 01 00"), "the host runs this connector: step wc.inp uses the host's file connector"));
	/* run_chain: the batch count must match its items, and nothing may trail */
	CHECK(is_error(call_hex("04 01 00 01 02 04 00 02 68 69"), "batch count does not match its items"));
	CHECK(is_error(call_hex("04 01 00 01 01 04 00 02 68 69 00"), "trailing bytes"));
	CHECK_BYTES(call_hex("04 01 00 01 01 06 00 04 61 20 62 63"), "00 01 02 07 00 01 61 00 02 62 63");
	/* argument errors, in the Go SDK's words */
	CHECK(is_error(call_hex("02 08 67 65 74 5f 66 6c 6f 77 01 01 01 78"),
	               "bad arguments: get_flow(path string, n int) takes 2 argument(s), got 1"));
	CHECK(is_error(call_hex("02 08 67 65 74 5f 66 6c 6f 77 02 01 01 78 01 01 79"),
	               "bad arguments: argument 2 (n) of get_flow(path string, n int): want int, got string"));
	CHECK(is_error(call_hex("02 08 67 65 74 5f 66 6c 6f 77 02 01 01 78 09 01"), "unknown argument type"));
	CHECK(is_error(call_hex("02 04 6e 6f 70 65 00"),
	               "unknown flow \"nope\"; this module has: get_flow(path string, n int), refusing(n int), dup()"));
	CHECK(is_error(call_hex("02 08 72 65 66 75 73 69 6e 67 01 02 00"), "flow factory failed: refusing: need n >= 1, got 0"));
	CHECK(is_error(call_hex("02 03 64 75 70 00"), "duplicate step id \"d.x\""));
	/* a failed build forgets the flow */
	CHECK(is_error(call_hex("03 01 01 01"), "bx: no flow built yet"));
}

/* ---- the stateful rules (docs/abi.md section 11) ------------------------------ */

static int builds;

/* The test logic: the state is the values seen, joined by '+'. A value
 * "x" discards the key; "t=N" sets the notify time to N; on_notify emits
 * "notified" and keeps the key; on_eof emits "eof:<state>". */
static void t_build(void *ctx, bx_bytes key, const bx_bytes *resume, bx_state *st) {
	builds++;
	if (resume)
		bx_state_set(st, *resume);
}

static bool t_batch(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit) {
	bx_writer w = {0};
	bx_w_raw(&w, key.ptr, key.len);
	bx_w_u8(&w, ':');
	for (size_t i = 0; i < n; i++) {
		if (bx_eq(values[i], "x"))
			return true;
		if (bx_eq(values[i], "boom"))
			bx_fail("boom");
		if (i)
			bx_w_u8(&w, ',');
		bx_w_raw(&w, values[i].ptr, values[i].len);
		bx_state_append(st, values[i]);
	}
	bx_push_value(emit, bx_w_done(&w));
	return false;
}

static bool t_notify(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	bx_push_value(emit, bx_str("notified"));
	return false;
}

static bool t_eof(void *ctx, bx_bytes key, bx_state *st, bx_items *emit) {
	bx_push_value(emit, bx_fmt("eof:%.*s", (int)st->len, (const char *)st->ptr));
	return true;
}

static int64_t t_notify_at(void *ctx, bx_bytes key, const bx_state *st) {
	/* the notify time is the last digit seen after "t", or none */
	int64_t at = 0;
	for (size_t i = 0; i + 1 < st->len; i++)
		if (st->ptr[i] == 't')
			at = st->ptr[i + 1] == '-' ? -5 : st->ptr[i + 1] - '0';
	return at;
}

static const bx_logic t_logic = {t_build, t_batch, t_notify, t_eof, t_notify_at, NULL};

static bx_flow *stateful_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("t");
	bx_stream s = bx_input(f, "inp", bx_stdin_source());
	s = bx_stateful_batch("s", s, &t_logic, NULL);
	bx_output("out", s, bx_stdout_sink());
	return f;
}

static bx_bytes kv_batch_req(uint32_t step, const char *const *kvs, size_t n) {
	bx_writer body = {0};
	for (size_t i = 0; i < n; i++) {
		bx_w_uvarint(&body, strlen(kvs[2 * i]) + 1);
		bx_w_raw(&body, kvs[2 * i], strlen(kvs[2 * i]));
		bx_w_bytes(&body, bx_str(kvs[2 * i + 1]));
	}
	bx_writer w = {0};
	bx_w_u8(&w, 5);
	bx_w_uvarint(&w, step);
	bx_w_varint(&w, 0);  /* now */
	bx_w_uvarint(&w, n);
	bx_w_bytes(&w, bx_w_done(&body));
	return bx_w_done(&w);
}

/* plain_item renders an emitted item as "k=v;" ("<nokey>v;" unkeyed). */
static void plain_item(bx_writer *out, bx_bytes key, bool has_key, bx_bytes val) {
	if (!has_key)
		bx_w_raw(out, "<nokey>", 7);
	bx_w_raw(out, key.ptr, key.len);
	bx_w_u8(out, '=');
	bx_w_raw(out, val.ptr, val.len);
	bx_w_u8(out, ';');
}

const char *render_updates(bx_bytes resp, item_fn item) {
	bx_reader r = bx_reader_of(resp);
	if (bx_r_u8(&r) != 0)
		return bx_cstr_of(bx_fmt("error: %s", error_message(resp)));
	bx_writer out = {0};
	uint64_t n = bx_r_uvarint(&r);
	bx_reader body = bx_reader_of(bx_r_bytes(&r));
	for (uint64_t i = 0; i < n && !body.err; i++) {
		uint64_t tag = bx_r_uvarint(&body);
		bx_bytes key = bx_r_raw(&body, tag ? tag - 1 : 0);
		item(&out, key, tag != 0, bx_r_bytes(&body));
	}
	bx_w_u8(&out, '|');
	uint64_t nk = bx_r_uvarint(&r);
	for (uint64_t i = 0; i < nk && !r.err; i++) {
		bx_bytes key = bx_r_bytes(&r);
		bool discard = bx_r_bool(&r);
		int64_t at = bx_r_varint(&r);
		bx_bytes line = bx_fmt("%.*s:%d:%lld;", (int)key.len, (const char *)key.ptr, discard, (long long)at);
		bx_w_raw(&out, line.ptr, line.len);
	}
	if (!bx_r_end(&r) || !bx_r_end(&body))
		return "malformed response";
	bx_w_u8(&out, 0);
	return (const char *)out.ptr;
}

/* updates renders a KeyedUpdates response as text:
 * "k=v;k=v|key:discard:at;..." */
static const char *updates(bx_bytes resp) { return render_updates(resp, plain_item); }

#define BATCH_AT(step, ...) kv_batch_req(step, (const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *) / 2)
#define BATCH(...) BATCH_AT(1, __VA_ARGS__)

static jmp_buf trapped;
static void on_trap(void) { longjmp(trapped, 1); }

static void test_stateful(void) {
	bx_reset_native();
	bx_register("t", stateful_flow, NULL, "");
	CHECK(call_hex("02 01 74 00").ptr[0] == 0);
	builds = 0;
	/* grouping: keys in first-seen order, values in arrival order */
	CHECK_STR(updates(call(BATCH("a", "1", "b", "2", "a", "3"))), "a=a:1,3;b=b:2;|");
	CHECK(builds == 2);
	/* notify_at: reported when it changes, not when it stays */
	CHECK_STR(updates(call(BATCH("a", "t7", "b", "4"))), "a=a:t7;b=b:4;|a:0:7;");
	CHECK_STR(updates(call(BATCH("a", "5"))), "a=a:5;|");
	/* a time at or before the epoch is sent as 1 */
	CHECK_STR(updates(call(BATCH("b", "t-"))), "b=b:t-;|b:0:1;");
	/* notify: the fired timer counts as 0, so the same time is reported
	 * again; a key without a logic is reported discarded */
	CHECK_STR(updates(call_hex("06 01 00 02 01 61 01 7a")), "a=notified;|a:0:7;z:1:0;");
	/* discard: reported, and a later value rebuilds the key */
	CHECK_STR(updates(call(BATCH("b", "x"))), "|b:1:0;");
	builds = 0;
	CHECK_STR(updates(call(BATCH("b", "6"))), "b=b:6;|");
	CHECK(builds == 1);
	/* snapshot: the state, and a tombstone for a key without one */
	CHECK_BYTES(call_hex("08 01 00 02 01 62 01 7a"), "00 01 02 01 62 01 01 36 01 7a 00 00");
	/* restore replaces a key and drops a tombstoned one */
	CHECK_BYTES(call_hex("09 01 02 01 62 01 02 39 39 01 61 00 00"), "00");
	CHECK_BYTES(call_hex("08 01 00 02 01 62 01 61"), "00 01 02 01 62 01 02 39 39 01 61 00 00");
	/* an unkeyed item in front of a stateful step is refused */
	CHECK(is_error(call_hex("05 01 00 01 03 00 01 31"), "item of a keyed stream has no key"));
	/* eof: every live key in the order built (b was rebuilt by restore) */
	CHECK_STR(updates(call(BATCH("c", "1"))), "c=c:1;|");
	CHECK_STR(updates(call_hex("07 01 00")), "b=eof:99;c=eof:1;|b:1:0;c:1:0;");
	CHECK_BYTES(call_hex("07 01 00"), "00 00 00 00");
	/* eof follows building order, not the table's: 60 keys built in
	 * descending order, the 30th discarded and built again last */
	const char *kv[120];
	for (int i = 0; i < 60; i++) {
		kv[2 * i] = bx_cstr_of(bx_fmt("q%02d", 59 - i));
		kv[2 * i + 1] = "1";
	}
	call(kv_batch_req(1, kv, 60));
	call(BATCH("q30", "x"));
	call(BATCH("q30", "2"));
	const char *got = updates(call_hex("07 01 00")); /* resets the arena: build what to want after it */
	bx_writer order = {0};
	for (int i = 59; i >= 0; i--) {
		if (i == 30)
			continue;
		bx_bytes one = bx_fmt("q%02d=eof:1;", i);
		bx_w_raw(&order, one.ptr, one.len);
	}
	bx_w_raw(&order, "q30=eof:2;|", 11);
	CHECK(strncmp(got, (const char *)order.ptr, order.len) == 0);
	if (strncmp(got, (const char *)order.ptr, order.len) != 0)
		fprintf(stderr, "  got  %.200s\n  want %.200s\n", got, (const char *)order.ptr);
	/* bx_fail: the error info names the function, step and key (it also
	 * prints the message on stderr, as in a real run) */
	bx_trap_hook = on_trap;
	if (!setjmp(trapped)) {
		call(BATCH("k", "boom"));
		CHECK(!"bx_fail returned");
	}
	bx_trap_hook = NULL;
	const char *msg = "error calling on_batch in step t.s for key \"k\": boom";
	bx_writer want = {0};
	bx_w_bytes(&want, bx_str(msg));
	bx_w_raw(&want, "\x00\x02\x01\x01k", 5);
	CHECK(bx_equal(bx_last_error_native(), bx_w_done(&want)));
	if (!bx_equal(bx_last_error_native(), bx_w_done(&want)))
		show("last error", bx_last_error_native());
}

/* ---- chains: the worked example of docs/abi.md section 8 ------------------------ */

static bool key_is_ab(void *ctx, bx_item it) { return bx_eq(it.key, "ab"); }

static bx_flow *branch_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("b");
	bx_stream s = bx_input(f, "inp", bx_stdin_source());
	bx_stream t, e;
	bx_branch("br", s, key_is_ab, NULL, &t, &e);
	bx_output("t", t, bx_stdout_sink());
	bx_output("e", e, bx_stdout_sink());
	return f;
}

static void test_chain_example(void) {
	bx_reset_native();
	bx_register("b", branch_flow, NULL, "");
	CHECK(call_hex("02 01 62 00").ptr[0] == 0);
	CHECK_BYTES(call_hex("03 03 01 01"), "00");
	CHECK_BYTES(call_hex("04 03 01 02 02 0c 03 61 62 02 68 69 02 63 03 78 79 7a"),
	            "00 02 01 06 03 61 62 02 68 69 01 06 02 63 03 78 79 7a");
}

/* ---- sources: the testing source and partitions --------------------------------- */

static bx_flow *testing_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("ts");
	bx_bytes vals[3] = {bx_str("a"), bx_str("b"), bx_str("c")};
	bx_stream s = bx_input(f, "inp", bx_testing_source(f, vals, 3, 2));
	bx_output("out", s, bx_stdout_sink());
	return f;
}

static void test_parts(void) {
	bx_reset_native();
	bx_register("ts", testing_flow, NULL, "");
	CHECK(call_hex("02 02 74 73 00").ptr[0] == 0);
	CHECK_BYTES(call_hex("0a 00 00 01"), "00 01 08 69 74 65 72 61 62 6c 65");
	/* build "iterable" under handle 1, resumed at item 1 */
	CHECK_BYTES(call_hex("0b 00 01 08 69 74 65 72 61 62 6c 65 00 01 01 01 02"), "00");
	CHECK(is_error(call_hex("0b 00 01 08 69 74 65 72 61 62 6c 65 00 01 00 00"), "handle 1 of step ts.inp is already built"));
	CHECK_BYTES(call_hex("0c 00 01 00"), "00 01 00 02 06 00 01 62 00 01 63");
	CHECK_BYTES(call_hex("0e 00 01 00"), "00 01 01 06");
	CHECK_BYTES(call_hex("0f 00 01 00"), "00");
	CHECK(is_error(call_hex("0c 00 01 00"), "step ts.inp has no partition with handle 1"));
	CHECK(is_error(call_hex("0d 01 01 00 00"), "the host runs this connector"));
}

static bx_bytes chain_req(uint32_t chain, const char *const *vals, size_t n);
static const char *outputs(bx_bytes resp);

/* ---- count_final: fused in one chain, or one step per chain --------------------- */

static bx_bytes value_key(void *ctx, bx_item it) { return it.value; }

static bx_flow *count_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("c");
	bx_stream s = bx_input(f, "inp", bx_stdin_source());
	s = bx_count_final("count", s, value_key, NULL);
	bx_output("out", s, bx_stdout_sink());
	return f;
}

static void test_count_final(void) {
	bx_reset_native();
	bx_register("c", count_flow, NULL, "");
	bx_bytes graph = call_hex("02 01 63 00");
	CHECK(graph.ptr[0] == 0);
	CHECK(memmem(graph.ptr, graph.len, "c.count.init_count.flat_map_batch", 33) != NULL);
	CHECK(memmem(graph.ptr, graph.len, "c.count.sum.fold_final.stateful.stateful_batch", 46) != NULL);
	CHECK_BYTES(call_hex("03 01 02 01 02"), "00");
	CHECK_BYTES(call_hex("03 02 01 01"), "00");
	CHECK_BYTES(call_hex("03 03 01 02"), "00");
	/* a, b, a counted in one chain */
	CHECK_BYTES(call_hex("04 01 00 01 03 09 00 01 61 00 01 62 00 01 61"), "00 01 02 08 02 61 01 04 02 62 01 02");
	/* the same through init_count and pre_reduce as separate chains */
	CHECK_BYTES(call_hex("04 02 00 01 03 09 00 01 61 00 01 62 00 01 61"),
	            "00 01 03 0c 02 61 01 02 02 62 01 02 02 61 01 02");
	CHECK_BYTES(call_hex("04 03 00 01 03 0c 02 61 01 02 02 62 01 02 02 61 01 02"),
	            "00 01 02 08 02 61 01 04 02 62 01 02");
	/* many distinct keys in one batch (the table grows): first-seen order */
	const char *vals[600];
	for (int i = 0; i < 600; i++)
		vals[i] = bx_cstr_of(bx_fmt("v%d", i % 300));
	const char *got = outputs(call(chain_req(1, vals, 600)));
	bx_writer want = {0};
	for (int i = 0; i < 300; i++) {
		bx_bytes one = bx_fmt("v%d=\x04;", i);
		bx_w_raw(&want, one.ptr, one.len);
	}
	bx_w_raw(&want, "|", 2);
	CHECK_STR(got, (const char *)want.ptr);
	/* the stateful sum adds the partial counts and emits them at eof */
	CHECK_STR(updates(call_hex("05 03 00 02 08 02 61 01 04 02 61 01 02")), "|");
	CHECK_STR(updates(call_hex("07 03 00")), "a=\x06;|a:1:0;");
}

/* ---- a dynamic source and a partitioned sink ------------------------------------ */

typedef struct counter_part {
	uint32_t worker, left;
} counter_part;

static void counter_build(void *ctx, const bx_part_info *info, void *part) {
	counter_part *p = part;
	CHECK(info->part.len == 0 && info->resume == NULL && info->workers == 2);
	p->worker = info->worker;
	p->left = 2;
}

static bool counter_next(void *ctx, void *part, bx_items *out) {
	counter_part *p = part;
	bx_push_value(out, bx_fmt("w%u-%u", p->worker, p->left));
	return --p->left == 0;
}

static int64_t counter_awake(void *ctx, void *part) { return -7; }

static int closed;
static void counter_close(void *ctx, void *part) { closed++; }

static const bx_source_vt counter_vt = {sizeof(counter_part), NULL, counter_build, counter_next, counter_awake,
                                        NULL, counter_close};

typedef struct store_part {
	int64_t written;
} store_part;

static void store_list(void *ctx, uint32_t worker, uint32_t workers, bx_items *names) {
	bx_push_value(names, bx_str("p0"));
	bx_push_value(names, bx_str("p1"));
}

static void store_build(void *ctx, const bx_part_info *info, void *part) {
	store_part *p = part;
	if (info->resume)
		CHECK(bx_get_i64(*info->resume, &p->written));
}

static void store_write(void *ctx, void *part, const bx_item *items, size_t n) {
	store_part *p = part;
	for (size_t i = 0; i < n; i++)
		CHECK(items[i].has_key);
	p->written += (int64_t)n;
}

static bx_bytes store_snapshot(void *ctx, void *part) { return bx_i64(((store_part *)part)->written); }

static const bx_sink_vt store_vt = {sizeof(store_part), store_list, store_build, store_write, store_snapshot, NULL};

static bx_flow *conn_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("io");
	bx_stream s = bx_input(f, "inp", bx_dynamic_source(&counter_vt, NULL));
	bx_output("out", s, bx_partitioned_sink(&store_vt, NULL));
	return f;
}

static void test_connectors(void) {
	bx_reset_native();
	bx_register("io", conn_flow, NULL, "");
	CHECK(call_hex("02 02 69 6f 00").ptr[0] == 0);
	/* a dynamic source lists no partitions and is built on every worker */
	CHECK_BYTES(call_hex("0a 00 01 02"), "00 00");
	CHECK_BYTES(call_hex("0b 00 05 00 01 02 00 00"), "00");
	/* "w1-2", not done, awake at a negative time: sent as 1 */
	CHECK_BYTES(call_hex("0c 00 05 00"), "00 00 02 01 06 00 04 77 31 2d 32");
	CHECK_BYTES(call_hex("0c 00 05 00"), "00 01 00 01 06 00 04 77 31 2d 31");
	/* dynamic partitions have no state */
	CHECK_BYTES(call_hex("0e 00 05 00"), "00 00 00");
	closed = 0;
	CHECK_BYTES(call_hex("0f 00 05 00"), "00");
	CHECK(closed == 1);
	/* the partitioned sink: parts, resume, writes, snapshot */
	CHECK_BYTES(call_hex("0a 01 00 02"), "00 02 02 70 30 02 70 31");
	CHECK_BYTES(call_hex("0b 01 06 02 70 31 00 02 01 01 08"), "00");
	CHECK_BYTES(call_hex("0d 01 06 02 08 02 6b 01 61 02 6b 01 62"), "00");
	CHECK_BYTES(call_hex("0e 01 06 00"), "00 01 01 0c");
	CHECK(is_error(call_hex("0c 01 06 00"), "step 1 (io.out) is a output step, not input"));
	CHECK_BYTES(call_hex("0f 01 06 00"), "00");
}

/* ---- library operators ------------------------------------------------------- */

/* chain_req encodes a run_chain request of unkeyed values ("k=v" for a
 * keyed one). */
static bx_bytes chain_req(uint32_t chain, const char *const *vals, size_t n) {
	bx_writer body = {0};
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(vals[i], '=');
		if (eq) {
			bx_w_uvarint(&body, (size_t)(eq - vals[i]) + 1);
			bx_w_raw(&body, vals[i], (size_t)(eq - vals[i]));
			bx_w_bytes(&body, bx_str(eq + 1));
		} else {
			bx_w_u8(&body, 0);
			bx_w_bytes(&body, bx_str(vals[i]));
		}
	}
	bx_writer w = {0};
	bx_w_u8(&w, 4);
	bx_w_uvarint(&w, chain);
	bx_w_uvarint(&w, 0);
	bx_w_uvarint(&w, 1);
	bx_w_uvarint(&w, n);
	bx_w_bytes(&w, bx_w_done(&body));
	return bx_w_done(&w);
}

#define CHAIN(c, ...) chain_req(c, (const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

/* outputs renders a ChainResponse as "k=v;v;|..." (one part per output). */
static const char *outputs(bx_bytes resp) {
	bx_reader r = bx_reader_of(resp);
	if (bx_r_u8(&r) != 0)
		return bx_cstr_of(bx_fmt("error: %s", error_message(resp)));
	bx_writer out = {0};
	uint64_t nout = bx_r_uvarint(&r);
	for (uint64_t o = 0; o < nout; o++) {
		uint64_t n = bx_r_uvarint(&r);
		bx_reader body = bx_reader_of(bx_r_bytes(&r));
		for (uint64_t i = 0; i < n; i++) {
			uint64_t tag = bx_r_uvarint(&body);
			bx_bytes key = bx_r_raw(&body, tag ? tag - 1 : 0);
			bx_bytes val = bx_r_bytes(&body);
			if (tag) {
				bx_w_raw(&out, key.ptr, key.len);
				bx_w_u8(&out, '=');
			}
			bx_w_raw(&out, val.ptr, val.len);
			bx_w_u8(&out, ';');
		}
		if (!bx_r_end(&body))
			return "malformed batch";
		bx_w_u8(&out, '|');
	}
	if (!bx_r_end(&r))
		return "malformed response";
	bx_w_u8(&out, 0);
	return (const char *)out.ptr;
}

static bx_bytes first_char(void *ctx, bx_item it) { return bx_slice(it.value, 0, 1); }
static bool not_drop(void *ctx, bx_item it) { return !bx_eq(it.value, "drop"); }
static bx_bytes longer(void *ctx, bx_bytes acc, bx_bytes v) { return v.len > acc.len ? v : acc; }

static bx_bytes counting(void *ctx, bx_bytes key, bx_state *st, bx_bytes v) {
	if (bx_eq(v, "reset")) {
		bx_state_clear(st);
		return bx_str("0");
	}
	bx_state_set_i64(st, bx_state_i64(st) + 1);
	return bx_itoa(bx_state_i64(st));
}

static bx_bytes empty(void *ctx) { return bx_str(""); }
static bx_bytes append_comma(void *ctx, bx_bytes acc, bx_bytes v) { return bx_fmt("%.*s%.*s,", (int)acc.len, (const char *)acc.ptr, (int)v.len, (const char *)v.ptr); }

static void explode(void *ctx, bx_item it, bx_items *out) {
	if (bx_eq(it.value, "bad"))
		bx_fail("bad %s", "x");
	bx_push_value(out, it.value);
	bx_push_value(out, it.value);
}

static bx_flow *lib_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("lib");
	bx_stream s = bx_input(f, "inp", bx_stdin_source());
	s = bx_flat_map("twice", s, explode, NULL);
	s = bx_key_on("key", s, first_char, NULL);
	s = bx_filter("keep", s, not_drop, NULL);
	s = bx_reduce_final("longest", s, longer, NULL);
	s = bx_stateful_map("sm", s, counting, NULL);
	s = bx_fold_final("fold", s, empty, append_comma, NULL);
	bx_output("out", s, bx_stdout_sink());
	return f;
}

static void test_library(void) {
	bx_reset_native();
	bx_register("lib", lib_flow, NULL, "");
	bx_bytes graph = call_hex("02 03 6c 69 62 00");
	CHECK(graph.ptr[0] == 0);
	static const char *const ids[] = {"lib.twice.flat_map_batch", "lib.key.map.flat_map_batch",
	                                  "lib.keep.flat_map.flat_map_batch", "lib.longest.pre_reduce",
	                                  "lib.longest.fold_final.stateful.stateful_batch",
	                                  "lib.sm.stateful_flat_map.stateful.stateful_batch", "lib.fold.stateful.stateful_batch"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (!memmem(graph.ptr, graph.len, ids[i], strlen(ids[i])))
			fprintf(stderr, "  no step %s in the graph\n", ids[i]), failures++;
	/* steps: 0 inp, 1 twice, 2 key, 3 keep, 4 pre_reduce, 5 longest, 6 sm, 7 fold, 8 out */
	CHECK_BYTES(call_hex("03 01 04 01 02 03 04"), "00");
	CHECK_STR(outputs(call(CHAIN(1, "apple", "drop", "banana", "ax"))), "a=apple;b=banana;|");
	/* reduce_final keeps the first value, then reduces */
	CHECK_STR(updates(call_hex("05 05 00 02 0c 02 61 03 61 62 63 02 61 03 78 79 7a")), "|");
	CHECK_STR(updates(call_hex("07 05 00")), "a=abc;|a:1:0;");
	/* stateful_map: a cleared state starts again with the next value, and
	 * a key left without state is discarded */
	CHECK_STR(updates(call(BATCH_AT(6, "k", "a", "k", "reset", "k", "b"))), "k=1;k=0;k=1;|");
	CHECK_STR(updates(call(BATCH_AT(6, "k", "reset"))), "k=0;|k:1:0;");
	/* fold_final: the accumulator from init, emitted at eof */
	CHECK_STR(updates(call_hex("05 07 00 02 08 02 6b 01 78 02 6b 01 79")), "|");
	CHECK_STR(updates(call_hex("07 07 00")), "k=x,y,;|k:1:0;");
	/* bx_fail in a chain step names the mapper and the step, no key */
	bx_trap_hook = on_trap;
	if (!setjmp(trapped)) {
		call(CHAIN(1, "ok", "bad"));
		CHECK(!"bx_fail returned");
	}
	bx_trap_hook = NULL;
	CHECK(bx_equal(bx_last_error_native(),
	               bx_error_info_native(bx_str("error calling mapper in step lib.twice.flat_map_batch: bad x"), 2, false,
	                                    bx_str(""))));
}

/* ---- random requests never crash the dispatcher ---------------------------------- */

/* well_formed reports whether a response is status 0, or status 1 with an
 * ErrorInfo that decodes exactly. */
static bool well_formed(bx_bytes resp) {
	if (resp.len == 0)
		return false;
	return resp.ptr[0] == 0 || (resp.ptr[0] == 1 && *error_message(resp));
}

static void test_random_requests(void) {
	bx_reset_native();
	bx_register("lib", lib_flow, NULL, "");
	bx_register("ts", testing_flow, NULL, "");
	bx_register("t", stateful_flow, NULL, "");
	srand(2);
	static const char *const builds[] = {"02 03 6c 69 62 00", "02 02 74 73 00", "02 01 74 00"};
	for (int round = 0; round < 30000; round++) {
		if (round % 1000 == 0) {
			CHECK(call_hex(builds[(round / 1000) % 3]).ptr[0] == 0);
			call_hex("03 01 04 01 02 03 04");
		}
		uint8_t req[48];
		size_t n = 1 + (size_t)(rand() % 47);
		req[0] = (uint8_t)(rand() % 17);
		for (size_t i = 1; i < n; i++) {
			int r = rand() % 8;
			req[i] = r < 5 ? (uint8_t)(rand() % 4) : r < 7 ? (uint8_t)(rand() % 0x80) : (uint8_t)rand();
		}
		bx_bytes resp = bx_dispatch_native(req, n);
		if (!well_formed(resp)) {
			failures++;
			show("request with a bad response", (bx_bytes){req, n});
			break;
		}
	}
}

/* ---- stream connectors ------------------------------------------------------- */

/* The arguments are the bytes the Go SDK's abi.StreamConn.Encode writes for
 * the same options, written out by hand in that struct's field order. */
static void test_stream_args(void) {
	const char *subjects[] = {"orders.eu", "orders.us"};
	const char *two[] = {"a.b", "c"};
	const char *topics[] = {"t1", "t2"};
	bx_source s = bx_jetstream_source("events", "ORDERS", (bx_stream_opts){0});
	CHECK(s.conn == 7 && s.vt == NULL);
	CHECK_STR(s.arg, "{\"conn\":\"events\",\"stream\":\"ORDERS\"}");
	s = bx_jetstream_source("events", "ORDERS",
	                        (bx_stream_opts){.subjects = subjects, .nsubjects = 2, .start = BX_START_NEW, .tail = true, .batch = 100});
	CHECK_STR(s.arg, "{\"conn\":\"events\",\"stream\":\"ORDERS\",\"subjects\":[\"orders.eu\",\"orders.us\"],"
	                 "\"start\":\"new\",\"tail\":true,\"batch\":100}");
	s = bx_jetstream_payloads("events", "ORDERS",
	                          (bx_stream_opts){.partition_by = "orders.>", .start = BX_START_TIME, .start_time = 1704164645500000000});
	CHECK(s.conn == 7);
	CHECK_STR(s.arg, "{\"conn\":\"events\",\"stream\":\"ORDERS\",\"partition_by\":\"orders.\\u003e\",\"start\":\"time\","
	                 "\"start_time\":\"2024-01-02T03:04:05.5Z\",\"format\":\"payload\"}");
	s = bx_nats_source("bus", two, 2);
	CHECK(s.conn == 8);
	CHECK_STR(s.arg, "{\"conn\":\"bus\",\"subjects\":[\"a.b\",\"c\"]}");
	s = bx_kafka_source("k", topics, 2, (bx_stream_opts){.start = BX_START_NEW, .batch = 10});
	CHECK(s.conn == 9);
	CHECK_STR(s.arg, "{\"conn\":\"k\",\"topics\":[\"t1\",\"t2\"],\"start\":\"new\",\"batch\":10}");
	s = bx_kafka_source("k", topics, 1, (bx_stream_opts){.start = BX_START_TIME, .start_time = 1704164645000000000, .tail = true});
	CHECK_STR(s.arg, "{\"conn\":\"k\",\"topics\":[\"t1\"],\"start\":\"time\",\"start_time\":\"2024-01-02T03:04:05Z\",\"tail\":true}");

	bx_sink k = bx_jetstream_sink("out", "counts", (bx_sink_opts){.partitions = 3});
	CHECK(k.conn == 7 && k.vt == NULL);
	CHECK_STR(k.arg, "{\"conn\":\"out\",\"subject\":\"counts\",\"partitions\":3}");
	k = bx_jetstream_message_sink("out", "", (bx_sink_opts){0});
	CHECK_STR(k.arg, "{\"conn\":\"out\",\"format\":\"message\"}");
	k = bx_jetstream_message_sink("out", NULL, (bx_sink_opts){0});
	CHECK_STR(k.arg, "{\"conn\":\"out\",\"format\":\"message\"}");
	k = bx_nats_sink("bus", "replies", (bx_sink_opts){0});
	CHECK(k.conn == 8);
	CHECK_STR(k.arg, "{\"conn\":\"bus\",\"subject\":\"replies\"}");
	k = bx_kafka_sink("k", "out");
	CHECK(k.conn == 9);
	CHECK_STR(k.arg, "{\"conn\":\"k\",\"topic\":\"out\"}");
	k = bx_kafka_message_sink("k", "out");
	CHECK_STR(k.arg, "{\"conn\":\"k\",\"topic\":\"out\",\"format\":\"message\"}");
}

static void test_stream_escaping(void) {
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain", "\"plain\""},
	    {"", "\"\""},
	    {"q\"b\\s/", "\"q\\\"b\\\\s/\""},
	    {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""},
	    {"\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\""},
	    {"<a>&b", "\"\\u003ca\\u003e\\u0026b\""},
	    {"\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\\u2028\\u2029\xe2\x82\xac\xf0\x9f\x98\x80\""},
	    /* not UTF-8: a lone continuation, a cut sequence, an overlong, a surrogate, past U+10FFFF */
	    {"a\x80z", "\"a\\ufffdz\""},
	    {"\xe2\x82", "\"\\ufffd\\ufffd\""},
	    {"\xc0\xaf", "\"\\ufffd\\ufffd\""},
	    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
	    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bx_sink k = bx_kafka_sink(cases[i].in, "t");
		const char *want = bx_cstr_of(bx_fmt("{\"conn\":%s,\"topic\":\"t\"}", cases[i].want));
		CHECK_STR(k.arg, want);
	}
}

static void test_stream_start_times(void) {
	static const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {-1, "1969-12-31T23:59:59.999999999Z"},
	    {1704164645500000000, "2024-01-02T03:04:05.5Z"},
	    {951782400123456789, "2000-02-29T00:00:00.123456789Z"},
	    {-315619200000000000, "1960-01-01T00:00:00Z"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bx_source s = bx_kafka_source("k", NULL, 0, (bx_stream_opts){.start = BX_START_TIME, .start_time = cases[i].t});
		CHECK_STR(s.arg, bx_cstr_of(bx_fmt("{\"conn\":\"k\",\"start\":\"time\",\"start_time\":\"%s\"}", cases[i].want)));
	}
}

#define SAMPLE_MESSAGE "09 6f 72 64 65 72 73 2e 65 75  01 6b  02 68 69  02 01 61 01 31 01 62 00  08 6f 72 64 65 72 73 2e 3e  ac 02  03"

static void test_stream_messages(void) {
	bx_bytes b = hex(SAMPLE_MESSAGE);
	bx_message m;
	const char *err = NULL;
	CHECK(bx_message_decode(b, &m, &err));
	CHECK(bx_eq(m.subject, "orders.eu") && bx_eq(m.key, "k") && bx_eq(m.value, "hi"));
	CHECK(m.nheaders == 2 && bx_eq(m.headers[0].name, "a") && bx_eq(m.headers[0].value, "1"));
	CHECK(bx_eq(m.headers[1].name, "b") && m.headers[1].value.len == 0);
	CHECK(bx_eq(m.partition, "orders.>") && m.seq == 300 && m.time == -2);
	bx_bytes v;
	CHECK(bx_message_header(&m, "a", &v) && bx_eq(v, "1"));
	CHECK(!bx_message_header(&m, "c", &v));
	CHECK_BYTES(bx_message_encode(&m), SAMPLE_MESSAGE);

	/* round trips */
	bx_header hs[] = {{bx_str("x"), bx_str("1")}, {bx_str("x"), {(const uint8_t *)"\0\xff", 2}}};
	uint8_t big[300];
	memset(big, 7, sizeof big);
	bx_message cases[] = {
	    {.seq = 0},
	    {bx_str("t"), {(const uint8_t *)"\0\xff", 2}, {big, sizeof big}, hs, 2, bx_str("t/3"), UINT64_MAX, INT64_MIN},
	    {.value = bx_str("v"), .seq = 1, .time = 1700000000123456789},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bx_bytes enc = bx_message_encode(&cases[i]);
		bx_message got;
		CHECK(bx_message_decode(enc, &got, NULL));
		CHECK(bx_equal(got.subject, cases[i].subject) && bx_equal(got.key, cases[i].key) &&
		      bx_equal(got.value, cases[i].value) && bx_equal(got.partition, cases[i].partition));
		CHECK(got.nheaders == cases[i].nheaders && got.seq == cases[i].seq && got.time == cases[i].time);
		for (size_t h = 0; h < got.nheaders && h < cases[i].nheaders; h++)
			CHECK(bx_equal(got.headers[h].name, cases[i].headers[h].name) &&
			      bx_equal(got.headers[h].value, cases[i].headers[h].value));
	}
	CHECK_BYTES(bx_message_encode(&cases[0]), "00 00 00 00 00 00 00");

	/* every truncation, trailing bytes and malformed fields are refused */
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *cut = malloc(n ? n : 1); /* exactly n bytes, so ASan sees a read past them */
		memcpy(cut, b.ptr, n);
		err = NULL;
		CHECK(!bx_message_decode((bx_bytes){cut, n}, &m, &err));
		CHECK(err && strncmp(err, "bx: cannot decode a message: ", 29) == 0);
		CHECK(m.subject.len == 0 && m.nheaders == 0 && m.headers == NULL);
		free(cut);
	}
	err = NULL;
	CHECK(!bx_message_decode(hex(SAMPLE_MESSAGE " 00"), &m, &err));
	CHECK(err && strstr(err, "trailing bytes"));
	CHECK(!bx_message_decode(hex("05 61"), &m, NULL));
	CHECK(!bx_message_decode(hex("00 00 00 ff ff ff ff 0f"), &m, NULL));
	CHECK(!bx_message_decode(hex("00 00 00 00 00 ff ff ff ff ff ff ff ff ff ff 01 00"), &m, NULL));
}

/* stream_flow: JetStream in, keyed by subject, into each kind of sink. */
static bx_item by_subject(void *ctx, bx_item it) {
	bx_message m;
	if (!bx_message_decode(it.value, &m, NULL))
		bx_fail("not a message");
	return (bx_item){m.subject, it.value, true};
}

static bx_flow *stream_flow(void *ctx, const bx_args *a) {
	bx_flow *f = bx_dataflow("s");
	bx_stream in = bx_input(f, "in", bx_jetstream_source("events", "ORDERS", (bx_stream_opts){.tail = true}));
	bx_stream keyed = bx_map("key", in, by_subject, NULL);
	bx_output("js", keyed, bx_jetstream_message_sink("out", "counts", (bx_sink_opts){0}));
	bx_output("nats", keyed, bx_nats_sink("bus", "replies", (bx_sink_opts){.partitions = 2}));
	bx_output("kafka", keyed, bx_kafka_sink("k", "out"));
	return f;
}

static void test_stream_flow(void) {
	bx_reset_native();
	bx_register("streams", stream_flow, NULL, "");
	bx_bytes r = call_hex("02 07 73 74 72 65 61 6d 73 00");
	CHECK(r.len > 0 && r.ptr[0] == 0);
	/* the host runs them: no guest partitions */
	CHECK(is_error(call_hex("0a 00 00 01"), "uses the host's jetstream connector"));
}

int main(void) {
	test_codec();
	test_error_info();
	test_list_flows();
	test_build();
	test_stateful();
	test_chain_example();
	test_parts();
	test_count_final();
	test_connectors();
	test_stream_args();
	test_stream_escaping();
	test_stream_start_times();
	test_stream_messages();
	test_stream_flow();
	test_library();
	test_random_requests();
	test_windows();
	if (failures) {
		fprintf(stderr, "FAIL: %d check(s) failed\n", failures);
		return 1;
	}
	printf("ok: C guest SDK unit tests\n");
	return 0;
}
