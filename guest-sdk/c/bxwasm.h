/*
 * bxwasm.h - the C guest SDK of bxwasm (guest ABI v1, docs/abi.md).
 *
 * A flow module is C code that registers flow factories in bx_setup() and
 * builds flows from the operators below. Build it with build.sh (clang
 * --target=wasm32-wasi -mexec-model=reactor) and run it with
 * `bxwasm run flow.wasm:"get_flow('in.txt')"`.
 *
 * Memory: everything the SDK hands to your callbacks, and everything you
 * return or push from them, lives in a per-call arena that is reset at the
 * start of every call from the host. Allocate with bx_alloc() and friends
 * and never free. What must outlive a call is copied by the SDK: the state
 * of a stateful key (bx_state), the memory of a built partition (part_size
 * bytes), and what the flow factory keeps with bx_flow_alloc().
 *
 * Errors: call bx_fail(fmt, ...) from a callback. It reports the error to
 * the host in the Go SDK's words, naming the function, the step and the key,
 * and stops the instance (a trap); the run fails.
 */
#ifndef BXWASM_H
#define BXWASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values ---------------------------------------------------------- */

/* bx_bytes is a byte slice; strings are raw UTF-8 without a NUL. */
typedef struct bx_bytes {
	const uint8_t *ptr;
	size_t len;
} bx_bytes;

/* bx_item is an item of a stream: a value, with a key on keyed streams. */
typedef struct bx_item {
	bx_bytes key;
	bx_bytes value;
	bool has_key;
} bx_item;

/* bx_items is a growable list of items in the call's arena. */
typedef struct bx_items {
	bx_item *v;
	size_t len, cap;
} bx_items;

/* Push an item, an unkeyed value, or a keyed value onto a list. */
void bx_push(bx_items *out, bx_item it);
void bx_push_value(bx_items *out, bx_bytes value);
void bx_push_kv(bx_items *out, bx_bytes key, bx_bytes value);

/* Arena memory, valid until the current call from the host returns. */
void *bx_alloc(size_t n);
bx_bytes bx_copy(bx_bytes b);
bx_bytes bx_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A NUL-terminated copy of b in the arena. */
const char *bx_cstr_of(bx_bytes b);

/* Byte-slice helpers. */
bx_bytes bx_str(const char *s); /* s itself, without its NUL */
bool bx_eq(bx_bytes a, const char *s);
bool bx_equal(bx_bytes a, bx_bytes b);
bx_bytes bx_slice(bx_bytes b, size_t from, size_t to);
bx_bytes bx_trim(bx_bytes b);  /* ASCII whitespace at both ends */
bx_bytes bx_lower(bx_bytes b); /* ASCII lower case, in the arena */
/* Split at the first sep: false (and nothing set) when there is none. */
bool bx_cut(bx_bytes b, uint8_t sep, bx_bytes *left, bx_bytes *right);
/* Push the words of b (runs of non-whitespace) as unkeyed values. */
void bx_push_fields(bx_items *out, bx_bytes b);
/* Parse an optional sign and decimal digits, within int64, nothing else. */
bool bx_parse_i64(bx_bytes b, int64_t *out);
/* Wall clock, Unix nanoseconds. */
int64_t bx_now(void);

/* ---- codec: encode values and states --------------------------------- */

/* bx_writer appends encoded values; a zero writer grows in the arena. */
typedef struct bx_writer {
	uint8_t *ptr;
	size_t len, cap;
	int heap; /* internal: grows with malloc instead of the arena */
} bx_writer;

void bx_w_u8(bx_writer *w, uint8_t b);
void bx_w_bool(bx_writer *w, bool b);
void bx_w_uvarint(bx_writer *w, uint64_t v);
void bx_w_varint(bx_writer *w, int64_t v); /* zig-zag */
void bx_w_f64(bx_writer *w, double v);      /* 8 bytes little-endian */
void bx_w_raw(bx_writer *w, const void *p, size_t n);
void bx_w_bytes(bx_writer *w, bx_bytes b); /* uvarint length, then bytes */
bx_bytes bx_w_done(const bx_writer *w);

/* bx_reader decodes strictly; after the first error every read returns 0
 * and err says what went wrong. */
typedef struct bx_reader {
	const uint8_t *ptr;
	size_t len, off;
	const char *err;
	size_t err_off;
} bx_reader;

bx_reader bx_reader_of(bx_bytes b);
uint8_t bx_r_u8(bx_reader *r);
bool bx_r_bool(bx_reader *r);
uint64_t bx_r_uvarint(bx_reader *r);
int64_t bx_r_varint(bx_reader *r);
double bx_r_f64(bx_reader *r);
bx_bytes bx_r_raw(bx_reader *r, size_t n);
bx_bytes bx_r_bytes(bx_reader *r);
/* true when no error happened and every byte was read. */
bool bx_r_end(bx_reader *r);

/* An int64 as a zig-zag varint, and back (strict: the whole slice). */
bx_bytes bx_i64(int64_t v);
bool bx_get_i64(bx_bytes b, int64_t *out);
/* An int64 in decimal text. */
bx_bytes bx_itoa(int64_t v);

/* ---- errors ----------------------------------------------------------- */

/* Report an error of user code and stop: the host fails the run with
 * "error calling <function> in step <step>[ for key "<key>"]: <message>".
 * Never returns. */
void bx_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---- flows ------------------------------------------------------------ */

typedef struct bx_flow bx_flow;

/* A stream of a flow under construction. */
typedef struct bx_stream {
	bx_flow *flow;
	uint32_t id;
	const char *scope;
} bx_stream;

/* Factory arguments, checked against the registered parameters. */
typedef struct bx_args bx_args;
const char *bx_arg_str(const bx_args *a, size_t i); /* NUL-terminated, arena */
int64_t bx_arg_int(const bx_args *a, size_t i);
double bx_arg_float(const bx_args *a, size_t i);
bool bx_arg_bool(const bx_args *a, size_t i);

typedef bx_flow *(*bx_factory)(void *ctx, const bx_args *args);

/* Define this in your module: it registers the flows (called once, before
 * the host's first request). */
void bx_setup(void);

/* Register a flow factory. params is its signature, e.g.
 * "path string, n int, f float64, b bool" ("" for none). */
void bx_register(const char *name, bx_factory factory, void *ctx, const char *params);

/* A factory refusing its arguments: records the message and returns NULL;
 * the host reports "flow factory failed: NAME: MESSAGE". */
bx_flow *bx_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Start a flow. Its id is the first component of every step id. */
bx_flow *bx_dataflow(const char *id);
/* Memory that lives as long as the flow (zeroed), e.g. for callback ctx. */
void *bx_flow_alloc(bx_flow *f, size_t n);
const char *bx_flow_strdup(bx_flow *f, const char *s);

/* ---- sources and sinks -------------------------------------------------- */

/* What a partition is built with. resume is NULL for a fresh partition. */
typedef struct bx_part_info {
	const char *step_id;
	bx_bytes part; /* the partition's name; empty for dynamic connectors */
	uint32_t worker, workers;
	const bx_bytes *resume;
} bx_part_info;

/* A source written in C. Partitioned sources list named partitions, each
 * read by one worker and resumed from its snapshot; dynamic ones get one
 * instance per worker. The SDK allocates part_size zeroed bytes per built
 * partition (your state) and frees them after close. */
typedef struct bx_source_vt {
	size_t part_size;
	/* partitioned: push the names of the partitions this worker can reach */
	void (*list_parts)(void *ctx, uint32_t worker, uint32_t workers, bx_items *names);
	void (*build)(void *ctx, const bx_part_info *info, void *part);
	/* push the next items; return true when the partition is done */
	bool (*next_batch)(void *ctx, void *part, bx_items *out);
	/* optional: Unix ns before which not to poll again, 0 for none */
	int64_t (*next_awake)(void *ctx, void *part);
	/* partitioned: the state to resume from */
	bx_bytes (*snapshot)(void *ctx, void *part);
	void (*close)(void *ctx, void *part); /* optional */
} bx_source_vt;

/* A sink written in C (see bx_source_vt). Partitioned sinks receive the
 * items routed to them by key. */
typedef struct bx_sink_vt {
	size_t part_size;
	void (*list_parts)(void *ctx, uint32_t worker, uint32_t workers, bx_items *names);
	void (*build)(void *ctx, const bx_part_info *info, void *part);
	void (*write_batch)(void *ctx, void *part, const bx_item *items, size_t n);
	bx_bytes (*snapshot)(void *ctx, void *part);
	void (*close)(void *ctx, void *part);
} bx_sink_vt;

typedef struct bx_source {
	uint8_t conn;
	const char *arg;
	const bx_source_vt *vt;
	void *ctx;
} bx_source;

typedef struct bx_sink {
	uint8_t conn;
	const char *arg;
	const bx_sink_vt *vt;
	void *ctx;
} bx_sink;

/* Host connectors: the host reads and writes lines (values without '\n'). */
bx_source bx_file_source(const char *path);
bx_source bx_dir_source(const char *glob);
bx_source bx_stdin_source(void);
bx_sink bx_file_sink(const char *path);
bx_sink bx_stdout_sink(void);
/* Connectors written in C. vt and ctx must outlive the flow. */
bx_source bx_partitioned_source(const bx_source_vt *vt, void *ctx);
bx_source bx_dynamic_source(const bx_source_vt *vt, void *ctx);
bx_sink bx_partitioned_sink(const bx_sink_vt *vt, void *ctx);
bx_sink bx_dynamic_sink(const bx_sink_vt *vt, void *ctx);
/* Bytewax's TestingSource: the values (copied), batch_size per batch, one
 * partition "iterable", resumable. */
bx_source bx_testing_source(bx_flow *f, const bx_bytes *values, size_t n, size_t batch_size);

/* ---- stream connectors: NATS JetStream, core NATS, Kafka ---------------- */

/* The host implements these. The module names a connection (conn); the
 * operator binds it to a server with --connection NAME=URL. The step's
 * argument is a JSON object (the Go SDK's abi.StreamConn) the constructors
 * write into the call's arena (bx_input/bx_output copy it).
 *
 * Sources emit unkeyed items: an encoded bx_message each (bx_message_decode
 * reads it), or the message's data for bx_jetstream_payloads. Each
 * partition (a subject filter, a topic partition, a core NATS subject) is
 * read by one worker. JetStream and Kafka sources snapshot their position
 * every epoch: exactly once into the dataflow. Core NATS is at most once.
 *
 * Sinks take keyed items: the key routes an item to a sink partition and
 * is a Kafka record's key; the value is published as it is, or is an
 * encoded bx_message for the message sinks (bx_message_encode).
 * JetStream and Kafka sinks publish an epoch's items once it is committed,
 * under ids a resumed run reuses: exactly once end to end. The core NATS
 * sink publishes right away: at least once. */

/* One header of a message; a name may repeat. */
typedef struct bx_header {
	bx_bytes name;
	bx_bytes value;
} bx_header;

/* A stream message. subject is the NATS subject or Kafka topic, key a
 * Kafka record's key, value the payload; partition and seq say where a
 * source read it (subject filter or "topic/partition"; stream sequence or
 * offset, 0 for core NATS); time is when the server stored it (Unix ns, 0
 * for none). A sink ignores partition, seq and time; an empty subject (an
 * empty Kafka key) means the step's subject (the item's key). */
typedef struct bx_message {
	bx_bytes subject;
	bx_bytes key;
	bx_bytes value;
	const bx_header *headers;
	size_t nheaders;
	bx_bytes partition;
	uint64_t seq;
	int64_t time;
} bx_message;

/* Decode a whole message. Its byte fields point into b, the headers array
 * is in the arena. A malformed message returns false, *m zeroed and, when
 * err is not NULL, *err saying what is wrong. */
bool bx_message_decode(bx_bytes b, bx_message *m, const char **err);
/* The message's encoding, in the arena. */
bx_bytes bx_message_encode(const bx_message *m);
void bx_w_message(bx_writer *w, const bx_message *m);
/* The first value of header name: false when there is none. */
bool bx_message_header(const bx_message *m, const char *name, bx_bytes *value);

/* Where a source without resume state begins. */
typedef enum bx_start { BX_START_FIRST = 0, BX_START_NEW, BX_START_TIME } bx_start;

/* Options of the JetStream and Kafka sources; zero means the default. */
typedef struct bx_stream_opts {
	/* JetStream: the partitions, one subject filter each (default: the
	 * stream's subjects) */
	const char *const *subjects;
	size_t nsubjects;
	/* JetStream: the partitions are the stream's subjects matching this
	 * pattern when the run starts */
	const char *partition_by;
	bx_start start;     /* default BX_START_FIRST */
	int64_t start_time; /* Unix ns, for BX_START_TIME */
	/* keep waiting for new messages; without it the source ends at the
	 * last message there when the run started */
	bool tail;
	int batch; /* most messages fetched at once (default 1000) */
} bx_stream_opts;

/* Options of the JetStream and core NATS sinks. */
typedef struct bx_sink_opts {
	int partitions; /* default 1; items go to one by key, each in order */
} bx_sink_opts;

bx_source bx_jetstream_source(const char *conn, const char *stream, bx_stream_opts o);
bx_source bx_jetstream_payloads(const char *conn, const char *stream, bx_stream_opts o);
bx_sink bx_jetstream_sink(const char *conn, const char *subject, bx_sink_opts o);
bx_sink bx_jetstream_message_sink(const char *conn, const char *subject, bx_sink_opts o);
bx_source bx_nats_source(const char *conn, const char *const *subjects, size_t n);
bx_sink bx_nats_sink(const char *conn, const char *subject, bx_sink_opts o);
bx_source bx_kafka_source(const char *conn, const char *const *topics, size_t n, bx_stream_opts o);
bx_sink bx_kafka_sink(const char *conn, const char *topic);
bx_sink bx_kafka_message_sink(const char *conn, const char *topic);

/* ---- stateful logic --------------------------------------------------- */

/* The state of one key: SDK-owned bytes that survive calls. Change it only
 * with the bx_state_* functions; a pointer into it (ptr, or what
 * bx_state_resize returns) is valid until the next change. */
typedef struct bx_state {
	uint8_t *ptr;
	size_t len, cap;
	bool set; /* false for a key with no state yet (or cleared) */
	uint8_t inl[16];
} bx_state;

bx_bytes bx_state_bytes(const bx_state *s);
void bx_state_set(bx_state *s, bx_bytes b);
void bx_state_append(bx_state *s, bx_bytes b);
void *bx_state_resize(bx_state *s, size_t n); /* new bytes are zero */
int64_t bx_state_i64(const bx_state *s);      /* 0 unless set by set_i64 */
void bx_state_set_i64(bx_state *s, int64_t v);
void bx_state_clear(bx_state *s); /* empty and not set */

/* The logic of a stateful_batch step, one per key (Bytewax's
 * StatefulBatchLogic). Every callback gets the key and its state; the
 * items pushed on emit are keyed with the logic's key. Returning true
 * discards the key (its state is dropped; a later value starts afresh). */
typedef struct bx_logic {
	/* optional: set up a new key (resume NULL) or a resumed one; without
	 * it a resumed key's state is the snapshot bytes */
	void (*build)(void *ctx, bx_bytes key, const bx_bytes *resume, bx_state *st);
	bool (*on_batch)(void *ctx, bx_bytes key, bx_state *st, const bx_bytes *values, size_t n, bx_items *emit);
	bool (*on_notify)(void *ctx, bx_bytes key, bx_state *st, bx_items *emit); /* optional */
	bool (*on_eof)(void *ctx, bx_bytes key, bx_state *st, bx_items *emit);    /* optional */
	/* optional: Unix ns of the next on_notify, 0 for none */
	int64_t (*notify_at)(void *ctx, bx_bytes key, const bx_state *st);
	/* optional: the snapshot; without it the state bytes */
	bx_bytes (*snapshot)(void *ctx, bx_bytes key, const bx_state *st);
} bx_logic;

/* ---- core operators --------------------------------------------------- */

typedef void (*bx_batch_fn)(void *ctx, const bx_item *items, size_t n, bx_items *out);
typedef bool (*bx_pred_fn)(void *ctx, bx_item it);
typedef void (*bx_inspect_fn)(void *ctx, const char *step_id, bx_item it, uint64_t epoch, uint32_t worker);

bx_stream bx_input(bx_flow *f, const char *id, bx_source src);
void bx_output(const char *id, bx_stream up, bx_sink sink);
bx_stream bx_flat_map_batch(const char *id, bx_stream up, bx_batch_fn mapper, void *ctx);
void bx_branch(const char *id, bx_stream up, bx_pred_fn predicate, void *ctx, bx_stream *trues, bx_stream *falses);
bx_stream bx_merge(const char *id, const bx_stream *ups, size_t n);
bx_stream bx_redistribute(const char *id, bx_stream up);
bx_stream bx_inspect_debug(const char *id, bx_stream up, bx_inspect_fn inspector, void *ctx);
/* logic and ctx must outlive the flow (static, or bx_flow_alloc). */
bx_stream bx_stateful_batch(const char *id, bx_stream up, const bx_logic *logic, void *ctx);

/* ---- library operators ------------------------------------------------ */

typedef bx_item (*bx_map_fn)(void *ctx, bx_item it);
typedef bool (*bx_filter_map_fn)(void *ctx, bx_item in, bx_item *out);
typedef void (*bx_flat_map_fn)(void *ctx, bx_item it, bx_items *out);
typedef bx_bytes (*bx_key_fn)(void *ctx, bx_item it);
/* stateful_map: st is unset for a new key; set it (bx_state_set*) to keep
 * it, clear it to discard the key after this value. Returns the value to
 * emit. */
typedef bx_bytes (*bx_state_map_fn)(void *ctx, bx_bytes key, bx_state *st, bx_bytes value);
typedef bx_bytes (*bx_init_fn)(void *ctx);
typedef bx_bytes (*bx_fold_fn)(void *ctx, bx_bytes acc, bx_bytes value);

bx_stream bx_map(const char *id, bx_stream up, bx_map_fn mapper, void *ctx);
bx_stream bx_filter(const char *id, bx_stream up, bx_pred_fn predicate, void *ctx);
bx_stream bx_filter_map(const char *id, bx_stream up, bx_filter_map_fn mapper, void *ctx);
bx_stream bx_flat_map(const char *id, bx_stream up, bx_flat_map_fn mapper, void *ctx);
bx_stream bx_key_on(const char *id, bx_stream up, bx_key_fn key, void *ctx);
bx_stream bx_inspect(const char *id, bx_stream up, bx_inspect_fn inspector, void *ctx);
bx_stream bx_stateful_map(const char *id, bx_stream up, bx_state_map_fn mapper, void *ctx);
bx_stream bx_fold_final(const char *id, bx_stream up, bx_init_fn builder, bx_fold_fn folder, void *ctx);
bx_stream bx_reduce_final(const char *id, bx_stream up, bx_fold_fn reducer, void *ctx);
/* Counts per key(item) (key NULL: the item's value is its key); emits
 * (key, bx_i64(count)) when the input ends. */
bx_stream bx_count_final(const char *id, bx_stream up, bx_key_fn key, void *ctx);

/* Your own operators (Bytewax's @operator): bx_scope opens scope id inside
 * up's scope, so the steps added to the stream it returns are named
 * "<scope>.<id>.<step>" (a duplicate id fails the build); set the .scope
 * of the streams you return back to up.scope. bx_flow_error fails the
 * flow's build with a message (the first error is the one reported). */
bx_stream bx_scope(const char *id, bx_stream up);
void bx_flow_error(bx_flow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- windowing (Bytewax 0.21's bytewax.windowing) -------------------------
 *
 * Times are Unix nanoseconds (int64), durations nanoseconds. A clock gives
 * each value a timestamp and each key a watermark; a windower puts
 * timestamps into windows; a window closes once the watermark reaches its
 * close time, at the latest when the input ends (EOF closes every window).
 * Built in bxwasm_window.c (build.sh compiles it with the SDK). */

/* The event time of a value, Unix ns. */
typedef int64_t (*bx_ts_fn)(void *ctx, bx_bytes value);
/* The system time, Unix ns. */
typedef int64_t (*bx_now_fn)(void *ctx);

/* A clock. ts NULL is Bytewax's SystemClock: a value's timestamp and the
 * watermark are the system time. Otherwise it is an EventClock: a value's
 * timestamp is ts(value); a key's watermark is the latest timestamp seen
 * minus wait (wait_for_system_duration), plus the system time passed since
 * that timestamp was seen, and never goes back. now (optional) reads the
 * system time: bx_now by default; tests give a fixed clock. */
typedef struct bx_clock {
	bx_ts_fn ts;
	int64_t wait;
	bx_now_fn now;
	void *now_ctx;
} bx_clock;

bx_clock bx_system_clock(void);
bx_clock bx_event_clock(bx_ts_fn ts, int64_t wait);

/* Tumbling windows of length ns, one of them starting at align_to: window
 * id floor((t - align_to) / length) holds [open, open + length). */
typedef struct bx_windower {
	int64_t length, align_to;
} bx_windower;

bx_windower bx_tumbling_windower(int64_t length, int64_t align_to);
/* The id of the window holding time t (any int64 t and align_to). */
int64_t bx_window_id(bx_windower w, int64_t t);

/* The streams of a windowing operator, all keyed with the input's keys:
 * down carries (window id, value) when a window closes, late the values
 * that came after the watermark had passed their time (window id, value),
 * meta (window id, open time, close time) of each window as it closes.
 * Read them with bx_window_value and bx_window_meta. */
typedef struct bx_window_out {
	bx_stream down, late, meta;
} bx_window_out;

/* Decode a down or late value: false if it is not one. */
bool bx_window_value(bx_bytes v, int64_t *window_id, bx_bytes *value);
/* Decode a meta value: false if it is not one. */
bool bx_window_meta(bx_bytes v, int64_t *window_id, int64_t *open, int64_t *close);

/* fold_window: each window of each key starts with builder() and folds its
 * values in with folder; down gets the accumulator when the window
 * closes. ordered (Bytewax's default) folds values in timestamp order, at
 * the cost of holding each until the watermark reaches it; otherwise in
 * arrival order. clock.ts, builder and folder get ctx. Steps
 * "<id>.window.stateful_batch" and "<id>.window.unwrap_{down,late,meta}...". */
bx_window_out bx_fold_window(const char *id, bx_stream up, bx_clock clock, bx_windower windower, bx_init_fn builder,
                             bx_fold_fn folder, bool ordered, void *ctx);
/* count_window: counts the items of up per key(item) (key NULL: the value)
 * and window; down gets bx_i64 counts. clock.ts gets the item's value.
 * Steps "<id>.keyed.map.flat_map_batch", "<id>.sum.window...". */
bx_window_out bx_count_window(const char *id, bx_stream up, bx_clock clock, bx_windower windower, bx_key_fn key,
                              void *ctx);

/* ---- exports (wasm) and the native test entry ---------------------------- */

#ifndef __wasm__
/* Native builds (tests): run one request and return the response, which
 * stays valid until the next call. */
bx_bytes bx_dispatch_native(const uint8_t *req, size_t n);
/* An ErrorInfo body, in the arena. */
bx_bytes bx_error_info_native(bx_bytes msg, uint32_t step1, bool has_key, bx_bytes key);
/* The ErrorInfo body bxwasm_last_error would point at (empty if none). */
bx_bytes bx_last_error_native(void);
/* Called instead of trapping (tests longjmp out of it). */
extern void (*bx_trap_hook)(void);
/* Forget every registered flow, the built flow, and bx_setup having run. */
void bx_reset_native(void);
#endif

#ifdef __cplusplus
}
#endif
#endif
