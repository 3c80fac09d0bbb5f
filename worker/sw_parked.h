/* The headers a job carries back from the retry topic (when to run, how many tries it has had,
 * when it first arrived), read as untrusted input: anyone who can write to the topic can set
 * them.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_PARKED_H
#define SW_PARKED_H

#include "sw_err.h"

#include <stddef.h>
#include <stdint.h>

#define SW_PARKED_NOT_BEFORE "segworker.not_before"
#define SW_PARKED_ATTEMPTS   "segworker.attempts"
#define SW_PARKED_RECEIVED   "segworker.received"

/* The most tries a parked job may claim to have had. */
#define SW_PARKED_MAX_ATTEMPTS 1000
/* How far ahead of this worker's clock another worker's may be (received is its time). */
#define SW_PARKED_MAX_SKEW_MS 3600000

/* One header value as the message has it (not NUL-terminated; value NULL: absent). */
struct sw_parked_hdr {
    const void *value;
    size_t len;
};

struct sw_parked {
    int64_t not_before_wall_ms; /* 0: run now */
    int64_t received_wall_ms;   /* when the job first arrived */
    int attempts;               /* tries it already had */
    int clamped;                /* not_before was past now + max_park_ms and was brought in */
};

/* Validate the three headers (NULL value: absent; then now, 0 and 0). Each present one must be
 * a decimal count of milliseconds or tries without sign or spaces; attempts at most
 * SW_PARKED_MAX_ATTEMPTS; received not after now + SW_PARKED_MAX_SKEW_MS (clocks differ, but
 * not by hours). not_before is held to at most now + max_park_ms, so that no message holds a slot
 * longer than the worker would have parked it. SW_E_OK, or SW_E_INVALID_JOB naming the header
 * in st. */
sw_err_t sw_parked_parse(const struct sw_parked_hdr *not_before,
                         const struct sw_parked_hdr *attempts, const struct sw_parked_hdr *received,
                         int64_t now_wall_ms, int64_t max_park_ms, struct sw_parked *out,
                         struct sw_status *st);

#endif
