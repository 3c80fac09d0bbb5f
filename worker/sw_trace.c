/* W3C traceparent parsing and child spans (see sw_trace.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_trace.h"
#include "sw_retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* n lowercase hex digits, not all zero when nonzero is set. */
static int hex_field(const char *s, size_t n, int nonzero)
{
    size_t i;
    int any = 0;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -1;
        }
        any |= c != '0';
    }
    return nonzero && !any ? -1 : 0;
}

int sw_trace_parse(const char *s, size_t len, struct sw_trace *out)
{
    /* "vv-" + 32 + "-" + 16 + "-" + 2 = 55 */
    if (!s || len < 55 || hex_field(s, 2, 0) || !strncmp(s, "ff", 2) || s[2] != '-' ||
        hex_field(s + 3, 32, 1) || s[35] != '-' || hex_field(s + 36, 16, 1) || s[52] != '-' ||
        hex_field(s + 53, 2, 0)) {
        return -1;
    }
    /* Version 00 has exactly these fields; later versions may append "-..." (§3.2.4). */
    if ((!strncmp(s, "00", 2) && len != 55) || (len > 55 && s[55] != '-')) {
        return -1;
    }
    memcpy(out->trace_id, s + 3, 32);
    out->trace_id[32] = '\0';
    memcpy(out->parent_id, s + 36, 16);
    out->parent_id[16] = '\0';
    memcpy(out->flags, s + 53, 2);
    out->flags[2] = '\0';
    return 0;
}

int sw_trace_set_child(struct sw_http_headers *h, const char *parent, uint64_t *rng)
{
    struct sw_trace t;
    char value[64];
    uint64_t span;
    size_t i;

    if (!parent || sw_trace_parse(parent, strlen(parent), &t) != 0) {
        return 0;
    }
    do {
        span = sw_rand_next(rng);
    } while (span == 0); /* an all-zero span id is invalid */
    snprintf(value, sizeof(value), "00-%s-%016llx-%s", t.trace_id, (unsigned long long)span,
             t.flags);
    for (i = 0; i < h->n; i++) {
        if (!strcasecmp(h->v[i].name, "traceparent")) {
            char *v = strdup(value);

            if (!v) {
                return -1;
            }
            free(h->v[i].value);
            h->v[i].value = v;
            return 0;
        }
    }
    return sw_http_headers_add(h, "traceparent", value, 0);
}
