/* W3C Trace Context: a job's `traceparent` header (from its Kafka message) is the parent of the
 * provider requests the job makes; each request carries a child with the same trace id and
 * flags and a fresh span id (https://www.w3.org/TR/trace-context/ §3.2).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_TRACE_H
#define SW_TRACE_H

#include "sw_http.h"

#include <stddef.h>
#include <stdint.h>

struct sw_trace {
    char trace_id[33];
    char parent_id[17];
    char flags[3];
};

/* Parse a traceparent value. 0 when it is valid (version 00 exactly; a higher version by its
 * first four fields, as the spec asks); -1 otherwise (then it must not be propagated). */
int sw_trace_parse(const char *s, size_t len, struct sw_trace *out);

/* Set (replace) the traceparent header of h to a child of parent with a new span id drawn from
 * rng. Nothing happens when parent is NULL or invalid. 0 on success or nothing to do, -1 on OOM. */
int sw_trace_set_child(struct sw_http_headers *h, const char *parent, uint64_t *rng);

#endif
