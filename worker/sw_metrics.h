/* Metrics registry and its Prometheus text rendering, plus the health/readiness facts the admin
 * endpoints report.
 *
 * Threads: the loop thread updates, the admin (libmicrohttpd) thread renders. Counters, gauges and
 * histograms are C11 atomics (relaxed: each value is independent, a scrape is a snapshot of
 * values, not a transaction); the per-partition table is guarded by a mutex. Every update
 * function accepts m == NULL and does nothing, so `segworker exec` runs without a registry.
 *
 * Label sets are bounded: providers are the registered ones (anything else is "other"),
 * operations the sw_ops list (else "other"), codes the sw_err list; partitions at most
 * SW_METRICS_MAX_PARTITIONS. Nothing is labelled by job id, account or anything a job chooses.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_METRICS_H
#define SW_METRICS_H

#include "sw_err.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#define SW_METRICS_MAX_PROVIDERS  32
#define SW_METRICS_MAX_PARTITIONS 256

struct sw_registry;
struct sw_metrics;

/* Providers are labelled by the registry's names (reg may be NULL: every one is "other"). NULL on
 * allocation failure. */
struct sw_metrics *sw_metrics_create(const struct sw_registry *reg);
void sw_metrics_destroy(struct sw_metrics *m);

/* ---- updates (loop thread) ---- */

/* A job's final outcome (code SW_E_OK when it succeeded). provider/operation may be NULL. */
void sw_metrics_job_done(struct sw_metrics *m, const char *provider, const char *operation,
                         sw_err_t code);
/* A job's time from its receipt to its final result (ms), in segworker_job_duration_seconds. */
void sw_metrics_job_time(struct sw_metrics *m, const char *provider, const char *operation,
                         int succeeded, long ms);
/* One finished HTTP exchange: status 0 when no HTTP answer arrived (transport error). */
void sw_metrics_http(struct sw_metrics *m, const char *provider, long status, long ms);
/* A retry was scheduled after an outcome classified as code. */
void sw_metrics_retry(struct sw_metrics *m, const char *provider, sw_err_t code);
/* A request waited ms for the provider's rate limiter (called by the rate limiter). */
void sw_metrics_ratelimit_wait(struct sw_metrics *m, const char *provider, long ms);
/* A dead letter was produced for reason. */
void sw_metrics_dead_letter(struct sw_metrics *m, sw_err_t reason);
/* The account store was reloaded (ok) or a reload was refused (!ok). */
void sw_metrics_accounts_reload(struct sw_metrics *m, int ok);

/* One loop turn's busy time: from the end of one wait for events to the start of the next, so
 * anything that holds the loop (a blocking call, a long mapping) shows up here. */
void sw_metrics_loop_turn(struct sw_metrics *m, int64_t busy_us);

/* Health and readiness facts. */
void sw_metrics_loop_turned(struct sw_metrics *m, int64_t now_mono_ms);
void sw_metrics_set_joined(struct sw_metrics *m, int joined);
void sw_metrics_set_producer_ok(struct sw_metrics *m, int ok);
void sw_metrics_set_draining(struct sw_metrics *m, int draining);

/* Once a second at most (cheap otherwise): in-flight jobs, assigned partitions and how many of
 * them are paused (the caller knows why), and per partition the consume position and the high
 * watermark. Uses only librdkafka's local state (rd_kafka_assignment, rd_kafka_position, cached
 * watermarks): no broker round trip. */
void sw_metrics_kafka_tick(struct sw_metrics *m, rd_kafka_t *consumer, long in_flight,
                           int paused_partitions, int64_t now_mono_ms);
/* Offsets the group just committed (from the offset-commit callback). */
void sw_metrics_committed(struct sw_metrics *m, const rd_kafka_topic_partition_list_t *offsets);
/* The group's committed offsets read at an assignment: they fill in partitions that have none
 * yet (a commit made meanwhile is newer and stays). */
void sw_metrics_committed_seed(struct sw_metrics *m,
                               const rd_kafka_topic_partition_list_t *offsets);

/* ---- reading (any thread) ---- */

/* The Prometheus text exposition (version 0.0.4). Caller frees. NULL on allocation failure. */
char *sw_metrics_render(struct sw_metrics *m, size_t *len);

/* /healthz: 1 when the loop turned within max_stall_ms (creating the registry counts as a turn,
 * so a slow start-up is not reported dead before that bound). /readyz: 1 when healthy, the group
 * was joined (an assignment arrived), the producer is healthy and the worker is not draining; why
 * names the first unmet condition. */
int sw_metrics_healthy(struct sw_metrics *m, int64_t now_mono_ms, int64_t max_stall_ms);
int sw_metrics_ready(struct sw_metrics *m, int64_t now_mono_ms, int64_t max_stall_ms,
                     const char **why);

#endif
