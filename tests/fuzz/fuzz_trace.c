/* libFuzzer target: the W3C traceparent parser (the value comes from a job's Kafka headers, so
 * anyone who can produce a job controls it) and the child header built from it.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_http.h"
#include "sw_trace.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct sw_trace t;
    struct sw_http_headers h;
    uint64_t rng = size;
    const char *v;

    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    memset(&h, 0, sizeof(h));
    if (sw_trace_parse(s, strlen(s), &t) == 0) {
        /* Whatever was accepted, the child we send is a well-formed version-00 header with the
         * same trace id and a different, non-zero span id. */
        struct sw_trace c;

        if (strlen(t.trace_id) != 32 || strlen(t.parent_id) != 16 || strlen(t.flags) != 2) {
            abort();
        }
        sw_trace_set_child(&h, s, &rng);
        v = sw_http_headers_get(&h, "traceparent");
        if (!v || strlen(v) != 55 || strncmp(v, "00-", 3) ||
            sw_trace_parse(v, strlen(v), &c) != 0 || strcmp(c.trace_id, t.trace_id) ||
            !strcmp(c.parent_id, "0000000000000000")) {
            abort();
        }
    } else {
        sw_trace_set_child(&h, s, &rng);
        if (h.n != 0) {
            abort(); /* an invalid parent is never propagated */
        }
    }
    sw_http_headers_free(&h);
    free(s);
    return 0;
}
