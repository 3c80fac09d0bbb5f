/* Retry-topic headers, validated (see sw_parked.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_parked.h"

#include <string.h>

/* A decimal number of at most 15 digits (past year 30000 in ms): 0 and *out, or -1. */
static int decimal(const struct sw_parked_hdr *h, int64_t *out)
{
    const unsigned char *p = h->value;
    int64_t v = 0;
    size_t i;

    if (h->len == 0 || h->len > 15) {
        return -1;
    }
    for (i = 0; i < h->len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

static sw_err_t bad(struct sw_status *st, const char *name, const char *why)
{
    return sw_status_set(st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                         "retry-topic header %s %s; the message was not written by segworker "
                         "or was altered",
                         name, why);
}

sw_err_t sw_parked_parse(const struct sw_parked_hdr *not_before,
                         const struct sw_parked_hdr *attempts, const struct sw_parked_hdr *received,
                         int64_t now_wall_ms, int64_t max_park_ms, struct sw_parked *out,
                         struct sw_status *st)
{
    int64_t v;

    memset(out, 0, sizeof(*out));
    out->received_wall_ms = now_wall_ms;
    if (not_before && not_before->value) {
        if (decimal(not_before, &v)) {
            return bad(st, SW_PARKED_NOT_BEFORE, "is not a time in epoch milliseconds");
        }
        out->clamped = v > now_wall_ms + max_park_ms;
        out->not_before_wall_ms = out->clamped ? now_wall_ms + max_park_ms : v;
    }
    if (attempts && attempts->value) {
        if (decimal(attempts, &v) || v > SW_PARKED_MAX_ATTEMPTS) {
            return bad(st, SW_PARKED_ATTEMPTS, "is not a count of tries from 0 to 1000");
        }
        out->attempts = (int)v;
    }
    if (received && received->value) {
        if (decimal(received, &v) || v > now_wall_ms + SW_PARKED_MAX_SKEW_MS) {
            return bad(st, SW_PARKED_RECEIVED, "is not a past time in epoch milliseconds");
        }
        out->received_wall_ms = v;
    }
    return SW_E_OK;
}
