/*
 * check.h - what the C SDK's native tests share: the failure count, CHECK
 * and CHECK_STR, and call (one request through the dispatcher).
 */
#ifndef BX_CHECK_H
#define BX_CHECK_H

#include "bxwasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int failures;

#define CHECK(cond)                                                      \
	do {                                                                 \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                  \
		}                                                                \
	} while (0)

#define CHECK_STR(got, want)                                                        \
	do {                                                                            \
		const char *g_ = (got), *w_ = (want);                                       \
		if (strcmp(g_, w_) != 0) {                                                  \
			fprintf(stderr, "%s:%d: got  %s\n%*swant %s\n", __FILE__, __LINE__, g_, \
			        (int)strlen(__FILE__) + 8, "", w_);                             \
			failures++;                                                             \
		}                                                                           \
	} while (0)

/* call sends a request built in the arena: copied out first, since the
 * call resets the arena (the host's requests live in bxwasm_buffer's
 * buffer, not in the arena). It returns a copy of the response. */
bx_bytes call(bx_bytes req);

/* render_updates renders a KeyedUpdates response as text: each emitted
 * item by item(), then "|", then "key:discard:at;" per key update; an
 * error response as "error: MESSAGE". */
typedef void (*item_fn)(bx_writer *out, bx_bytes key, bool has_key, bx_bytes value);
const char *render_updates(bx_bytes resp, item_fn item);

/* test_windows runs the windowing tests (window_test.c). */
void test_windows(void);

#endif
