/* The job envelope: parse and validate a job message into struct sw_job, with limits.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_JOB_H
#define SW_JOB_H

#include "sw_err.h"
#include "sw_jdoc.h"
#include "sw_ops.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

enum sw_format { SW_FMT_UNIFIED = 0, SW_FMT_RAW, SW_FMT_NORMALIZED, SW_FMT_STREAM, SW_FMT_DEBUG };

struct sw_job_limits {
    size_t max_bytes;
    int max_depth;
    size_t max_correlation_bytes; /* 0: no bound of its own */
};

struct sw_job {
    struct sw_jdoc doc; /* owns the parsed document and this struct itself; the pointers below
                           borrow from it */
    const char *job_id;
    const char *operation;
    enum sw_op_id op; /* SW_OP__COUNT when the name is not an operation segworker knows */
    const char *provider;
    const char *account;
    const char *reply_to;
    const cJSON *params;      /* object, never NULL after a successful parse */
    const cJSON *options;     /* object or NULL */
    const cJSON *correlation; /* echoed verbatim; NULL when absent */
    size_t correlation_bytes; /* its size as printed into every result message */
    enum sw_format format;
    const cJSON *exclude_fields; /* array of strings or NULL */
    int ignore_remote_data;
    const cJSON *remote_query; /* object or NULL */
    long long max_items;       /* 0: no job limit */
    int max_attempts;          /* 0: the worker default */
    long timeout_ms;           /* 0: the worker default */
    int64_t deadline_ms;       /* wall-clock epoch ms; 0: none */
    int allow_ambiguous_retry;
    int prior_attempts; /* not from the message: tries made before the job was parked */
    char *traceparent;  /* W3C trace context from the message headers; owned, may be NULL */
};

/* Parse a job. Returns SW_E_OK with *out set, or an error with st filled; on error *out is still
 * set when a job_id could be read (so an error result can be published), with every other field
 * of the result's identity that could be read (operation, provider, account, correlation) — also
 * from a message too large or too deeply nested to parse whole. The caller frees *out with
 * sw_job_destroy. */
sw_err_t sw_job_parse(const char *buf, size_t len, const struct sw_job_limits *lim,
                      struct sw_job **out, struct sw_status *st);
void sw_job_destroy(struct sw_job *job);

const char *sw_format_name(enum sw_format f);

/* Whether options.name is one the engine reads itself (the others are a provider's, declared per
 * operation: sw_params.h). */
int sw_job_engine_option(const char *name);

/* A parameter as a string: strings as they are, integers in decimal. NULL when absent or of
 * another type. buf holds the converted number. */
const char *sw_job_param_str(const struct sw_job *job, const char *name, char *buf, size_t n);

#endif
