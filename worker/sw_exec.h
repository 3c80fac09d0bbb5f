/* The job engine: runs one job's HTTP exchanges (pages, retries with back-off, deadlines) on
 * the event loop and emits its result parts. Knows nothing of Kafka: `run` and `exec` both use
 * it and differ only in what they do with emitted parts.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_EXEC_H
#define SW_EXEC_H

#include "sw_accounts.h"
#include "sw_err.h"
#include "sw_http.h"
#include "sw_job.h"
#include "sw_metrics.h"
#include "sw_ratelimit.h"
#include "sw_timer.h"

#include <stdint.h>

struct sw_specs;
struct sw_session;

struct sw_exec_limits {
    int max_depth;
    long long max_pages;
    long long max_list_items;
    long long part_items;
    size_t max_result_bytes;
    int max_attempts;
    int64_t retry_base_ms;
    int64_t retry_max_wait_ms;
    int64_t retry_max_inline_ms; /* longer waits are offered to park() */
    int64_t retry_max_park_ms;
    long timeout_ms;
};

/* One emitted message. payload is valid only during the call. */
struct sw_emit {
    void *user; /* what sw_exec_start was given */
    const char *job_id;
    const char *payload;
    size_t len;
    int last;            /* the job's final message */
    int succeeded;       /* status of this message */
    sw_err_t code;       /* error code of a failed message */
    int http_status;     /* of a failed message; 0 when the error is ours */
    const char *message; /* of a failed message */
};

/* Returns 0 when the message was accepted. A non-zero return on a non-last part aborts the job
 * with internal_error (still emitted as the last part). */
typedef int (*sw_emit_fn)(void *arg, const struct sw_emit *em);

/* Offered a job whose next try is further away than retry_max_inline_ms and that has published
 * nothing yet: returns 0 when it took the job over (to retry it at not_before_wall_ms after
 * `attempts` tries) — the run then ends without a result — or -1 to keep waiting in memory. */
typedef int (*sw_park_fn)(void *arg, void *user, int64_t not_before_wall_ms, int attempts);

struct sw_engine {
    struct sw_http *http;
    struct sw_timers *timers;
    const struct sw_specs *specs;
    const struct sw_accounts *accounts; /* each run holds a reference (SIGHUP reloads) */
    struct sw_ratelimit *rl;            /* NULL: no rate limiting */
    struct sw_metrics *metrics;         /* NULL: none (exec) */
    struct sw_exec_limits lim;
    sw_emit_fn emit;
    void *emit_arg;
    sw_park_fn park; /* NULL: never park; gets emit_arg */
    uint64_t rng;
    int running;
    struct sw_run *runs;         /* every live run, for shutdown */
    struct sw_session *sessions; /* cookie sessions per account (Digital Audience), see sw_exec.c */
};

/* Start a parsed job (ownership of job moves to the engine). When the job cannot start (unknown
 * provider/account/operation, bad params) its failed result is emitted before this returns.
 * redelivered: the message may have been processed before (a restart or rebalance). */
void sw_exec_start(struct sw_engine *eng, struct sw_job *job, void *user, int64_t received_wall_ms,
                   int redelivered);

/* Emit a failed final result for a message that did not parse into a runnable job; job may be
 * NULL-fielded except job_id. Ownership of job (may be NULL) moves here. */
void sw_exec_reject(struct sw_engine *eng, struct sw_job *job, const struct sw_status *st,
                    void *user, int64_t received_wall_ms);

/* Drop the running job started with this user pointer, without emitting (its partition was
 * handed over). Returns 1 when there was one. */
int sw_exec_abort(struct sw_engine *eng, void *user);

/* Drop every running job without emitting (shutdown past the grace period), and the cookie
 * sessions. */
void sw_exec_abort_all(struct sw_engine *eng);

#endif
