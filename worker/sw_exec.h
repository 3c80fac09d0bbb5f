/* The job engine: runs each job's HTTP exchanges (session login, rate-limit waits, pages,
 * retries with back-off, deadlines) on the event loop and emits its result messages. Knows
 * nothing of Kafka: `run` and `exec` both use it and differ only in what they do with emitted
 * messages. Providers are reached only through the adapter contract (sw_adapter.h).
 *
 * Every job the engine accepts ends exactly once: with a final message (last = 1), with a park
 * (handed to the retry topic), or with an abort by its owner. sw_run.c holds the one function
 * that ends a run.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_EXEC_H
#define SW_EXEC_H

#include "sw_accounts.h"
#include "sw_adapter.h"
#include "sw_err.h"
#include "sw_http.h"
#include "sw_job.h"
#include "sw_metrics.h"
#include "sw_ratelimit.h"
#include "sw_timer.h"

#include <stdint.h>

struct sw_session;
struct sw_run;

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
    int dead_letter;     /* a failed final message whose job also belongs in the DLQ */
    const char *message; /* of a failed message */
};

/* Returns 0 when the message was accepted. A non-zero return on a non-last part aborts the job
 * with internal_error (still emitted as the last part). The last message is always offered,
 * whatever happened before, and its return value is not consulted. */
typedef int (*sw_emit_fn)(void *arg, const struct sw_emit *em);

/* Offered a job whose next try is further away than retry_max_inline_ms and that has published
 * nothing yet: returns 0 when it took the job over (to retry it at not_before_wall_ms after
 * `attempts` tries) — the run then ends without a result — or -1 to keep waiting in memory. */
typedef int (*sw_park_fn)(void *arg, void *user, int64_t not_before_wall_ms, int attempts);

/* Whether the publisher can take more messages now. A list asks before it fetches its next
 * page; while this says no it waits, and sw_exec_output_ready() wakes it. */
typedef int (*sw_output_busy_fn)(void *arg);

struct sw_engine {
    struct sw_http *http;
    struct sw_timers *timers;
    const struct sw_registry *reg;
    const struct sw_accounts *accounts; /* each run holds a reference (SIGHUP reloads) */
    struct sw_ratelimit *rl;            /* NULL: no rate limiting */
    struct sw_metrics *metrics;         /* NULL: none (exec) */
    struct sw_exec_limits lim;
    sw_emit_fn emit;
    void *emit_arg;
    sw_park_fn park;               /* NULL: never park; gets emit_arg */
    sw_output_busy_fn output_busy; /* NULL: never busy; gets emit_arg */
    uint64_t rng;
    int running;
    struct sw_run *runs;         /* every live run, for shutdown */
    struct sw_session *sessions; /* session tokens per account (sw_session.c) */
};

/* Start a parsed job (ownership of job moves to the engine). When the job cannot start (unknown
 * provider/account/operation, bad params) its failed result is emitted before this returns.
 * received_wall_us: when the job was read (microseconds since the epoch). redelivered: the
 * message may have been processed before (a restart or rebalance). */
void sw_exec_start(struct sw_engine *eng, struct sw_job *job, void *user, int64_t received_wall_us,
                   int redelivered);

/* Emit a failed final result for a message that did not parse into a runnable job. job may be
 * NULL or hold only what could be read (at least job_id); ownership moves here. A NULL job gets
 * a final message without a payload (there is no job_id to answer under). */
void sw_exec_reject(struct sw_engine *eng, struct sw_job *job, const struct sw_status *st,
                    void *user, int64_t received_wall_us);

/* Drop the running job started with this user pointer, without emitting (its partition was
 * handed over). Returns 1 when there was one. */
int sw_exec_abort(struct sw_engine *eng, void *user);

/* Drop the jobs that are only waiting without emitting (a stop does not wait for them: they come
 * back to the next owner): every job queued for a rate-limit grant, and a job in a back-off or
 * waiting to retry a login when its wait ends after until_mono_ms. A short back-off is waited
 * for, since a dropped job holds the partition's commit below every later finished job, which
 * the next owner would then run again. Returns how many were dropped. */
int sw_exec_drop_waiting(struct sw_engine *eng, int64_t until_mono_ms);

/* Drop every running job without emitting (shutdown past the grace period), and the sessions. */
void sw_exec_abort_all(struct sw_engine *eng);

/* The publisher can take messages again: lists waiting for it go on. */
void sw_exec_output_ready(struct sw_engine *eng);

/* A request as `response_format: debug` shows it, for `segworker plan`: {method, url, headers,
 * body}, with secret headers and every trace of the account's secrets redacted. Caller owns it;
 * NULL when out of memory. (sw_debug.c) */
cJSON *sw_debug_request(const struct sw_http_req *req, const struct sw_account *acct);

#endif
