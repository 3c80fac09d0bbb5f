/* Metrics registry and Prometheus rendering (see sw_metrics.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_metrics.h"
#include "sw_buf.h"
#include "sw_time.h"
#include "sw_version.h"

#include "sw_adapter.h"
#include "sw_ops.h"
#include "sw_procstat.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOPS        (SW_OP__COUNT + 1) /* every operation + "other" */
#define NCLASSES    5                  /* 2xx 3xx 4xx 5xx error */
#define NBUCKETS    13
#define RENDER_MAX  (8u * 1024u * 1024u) /* far above any real exposition; a bound, not a target */
#define TOPIC_MAX   250                  /* Kafka topic names are at most 249 bytes */
#define TICK_MS     1000
#define OTHER_LABEL "other"

static const char *const op_names[NOPS] = {
#define SW_OP_LABEL(id, name, what) name,
    SW_OP_MAP(SW_OP_LABEL)
#undef SW_OP_LABEL
        OTHER_LABEL};
static const char *const class_names[NCLASSES] = {"2xx", "3xx", "4xx", "5xx", "error"};
/* Upper bounds in milliseconds; rendered in seconds. */
static const long bucket_ms[NBUCKETS] = {5,    10,   25,   50,    100,   250,  500,
                                         1000, 2500, 5000, 10000, 30000, 60000};

/* Loop turns are short: microsecond buckets, rendered in seconds. */
#define NTURN 16
static const long turn_bucket_us[NTURN] = {50,     100,     250,     500,    1000,   2500,
                                           5000,   10000,   25000,   50000,  100000, 250000,
                                           500000, 1000000, 2500000, 5000000};

struct hist {
    atomic_ullong bucket[NBUCKETS + 1]; /* the last one is +Inf only */
    atomic_ullong sum_ms;
};

struct part {
    char topic[TOPIC_MAX];
    int32_t partition;
    int64_t position; /* -1: unknown */
    int64_t high;
    int64_t committed;
};

struct sw_metrics {
    char *providers[SW_METRICS_MAX_PROVIDERS];
    size_t nproviders; /* index nproviders is "other" */

    atomic_ullong jobs[SW_METRICS_MAX_PROVIDERS + 1][NOPS][SW_E__COUNT];
    struct hist job_time[SW_METRICS_MAX_PROVIDERS + 1][NOPS][2]; /* [..][failed, succeeded] */
    struct hist http[SW_METRICS_MAX_PROVIDERS + 1][NCLASSES];
    atomic_ullong retries[SW_METRICS_MAX_PROVIDERS + 1][SW_E__COUNT];
    struct hist rl_wait[SW_METRICS_MAX_PROVIDERS + 1];
    atomic_ullong dead_letters[SW_E__COUNT];
    atomic_ullong turn[NTURN + 1]; /* the last one is +Inf only */
    atomic_ullong turn_sum_us;
    atomic_llong turn_max_us;
    atomic_ullong reloads[2]; /* failed, ok */

    atomic_llong in_flight;
    atomic_llong parts_assigned;
    atomic_llong parts_paused;
    atomic_llong loop_mono_ms;
    atomic_int joined;
    atomic_int producer_ok;
    atomic_int draining;
    /* Kafka facts for the probes (sw_metrics_set_kafka): names kept as given. */
    const char *brokers, *jobs_topic, *retry_topic;
    int64_t max_broker_down_ms;
    atomic_llong broker_down_since_ms; /* 0: a broker answered */
    atomic_int topic_missing[2];       /* enum sw_topic_role */

    int64_t last_tick_ms; /* loop thread only */

    pthread_mutex_t lock; /* guards parts and nparts */
    struct part parts[SW_METRICS_MAX_PARTITIONS];
    size_t nparts;
    atomic_ullong parts_dropped; /* assigned partitions beyond the table */
};

struct sw_metrics *sw_metrics_create(const struct sw_registry *reg)
{
    struct sw_metrics *m = calloc(1, sizeof(*m));
    size_t i;

    if (!m) {
        return NULL;
    }
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return NULL;
    }
    for (i = 0; reg && i < reg->n && m->nproviders < SW_METRICS_MAX_PROVIDERS; i++) {
        m->providers[m->nproviders] = strdup(reg->v[i]->name);
        if (!m->providers[m->nproviders]) {
            sw_metrics_destroy(m);
            return NULL;
        }
        m->nproviders++;
    }
    atomic_store(&m->producer_ok, 1);
    /* Start-up counts as a turn: connecting and setting up may take a while (a broker that is
     * down, a retry-topic lookup), and /healthz should not call that dead until it has taken
     * longer than the stall bound. */
    atomic_store(&m->loop_mono_ms, sw_now_mono_ms());
    return m;
}

void sw_metrics_destroy(struct sw_metrics *m)
{
    size_t i;

    if (!m) {
        return;
    }
    for (i = 0; i < m->nproviders; i++) {
        free(m->providers[i]);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- label indexes ---- */

static size_t provider_ix(const struct sw_metrics *m, const char *name)
{
    size_t i;

    for (i = 0; name && i < m->nproviders; i++) {
        if (!strcmp(m->providers[i], name)) {
            return i;
        }
    }
    return m->nproviders;
}

static const char *provider_name(const struct sw_metrics *m, size_t ix)
{
    return ix < m->nproviders ? m->providers[ix] : OTHER_LABEL;
}

static size_t op_ix(const char *name)
{
    size_t i;

    for (i = 0; name && i < NOPS - 1; i++) {
        if (!strcmp(op_names[i], name)) {
            return i;
        }
    }
    return NOPS - 1;
}

static sw_err_t code_ix(sw_err_t code)
{
    return code >= 0 && code < SW_E__COUNT ? code : SW_E_INTERNAL_ERROR;
}

static void inc(atomic_ullong *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static unsigned long long get(atomic_ullong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void hist_observe(struct hist *h, long ms)
{
    int i = 0;

    if (ms < 0) {
        ms = 0;
    }
    while (i < NBUCKETS && ms > bucket_ms[i]) {
        i++;
    }
    inc(&h->bucket[i]);
    atomic_fetch_add_explicit(&h->sum_ms, (unsigned long long)ms, memory_order_relaxed);
}

/* ---- updates ---- */

void sw_metrics_job_done(struct sw_metrics *m, const char *provider, const char *operation,
                         sw_err_t code)
{
    if (m) {
        inc(&m->jobs[provider_ix(m, provider)][op_ix(operation)][code_ix(code)]);
    }
}

void sw_metrics_job_time(struct sw_metrics *m, const char *provider, const char *operation,
                         int succeeded, long ms)
{
    if (m) {
        hist_observe(&m->job_time[provider_ix(m, provider)][op_ix(operation)][succeeded != 0], ms);
    }
}

void sw_metrics_http(struct sw_metrics *m, const char *provider, long status, long ms)
{
    int cls = status >= 200 && status < 600 ? (int)(status / 100) - 2 : NCLASSES - 1;

    if (m) {
        hist_observe(&m->http[provider_ix(m, provider)][cls], ms);
    }
}

void sw_metrics_retry(struct sw_metrics *m, const char *provider, sw_err_t code)
{
    if (m) {
        inc(&m->retries[provider_ix(m, provider)][code_ix(code)]);
    }
}

void sw_metrics_ratelimit_wait(struct sw_metrics *m, const char *provider, long ms)
{
    if (m) {
        hist_observe(&m->rl_wait[provider_ix(m, provider)], ms);
    }
}

void sw_metrics_dead_letter(struct sw_metrics *m, sw_err_t reason)
{
    if (m) {
        inc(&m->dead_letters[code_ix(reason)]);
    }
}

void sw_metrics_accounts_reload(struct sw_metrics *m, int ok)
{
    if (m) {
        inc(&m->reloads[ok ? 1 : 0]);
    }
}

void sw_metrics_loop_turn(struct sw_metrics *m, int64_t busy_us)
{
    int i = 0;

    if (!m) {
        return;
    }
    if (busy_us < 0) {
        busy_us = 0;
    }
    while (i < NTURN && busy_us > turn_bucket_us[i]) {
        i++;
    }
    inc(&m->turn[i]);
    atomic_fetch_add_explicit(&m->turn_sum_us, (unsigned long long)busy_us, memory_order_relaxed);
    /* Only the loop thread writes the maximum. */
    if (busy_us > atomic_load_explicit(&m->turn_max_us, memory_order_relaxed)) {
        atomic_store_explicit(&m->turn_max_us, busy_us, memory_order_relaxed);
    }
}

void sw_metrics_loop_turned(struct sw_metrics *m, int64_t now_mono_ms)
{
    if (m) {
        atomic_store_explicit(&m->loop_mono_ms, now_mono_ms, memory_order_relaxed);
    }
}

void sw_metrics_set_joined(struct sw_metrics *m, int joined)
{
    if (m) {
        atomic_store(&m->joined, joined);
        if (joined) {
            atomic_store(&m->broker_down_since_ms, 0); /* the coordinator answered */
        }
    }
}

void sw_metrics_set_kafka(struct sw_metrics *m, const char *brokers, const char *jobs_topic,
                          const char *retry_topic, int64_t max_broker_down_ms, int64_t now_mono_ms)
{
    if (m) {
        m->brokers = brokers;
        m->jobs_topic = jobs_topic;
        m->retry_topic = retry_topic;
        m->max_broker_down_ms = max_broker_down_ms;
        atomic_store(&m->broker_down_since_ms, now_mono_ms > 0 ? now_mono_ms : 1);
    }
}

void sw_metrics_broker_reached(struct sw_metrics *m)
{
    if (m) {
        atomic_store(&m->broker_down_since_ms, 0);
    }
}

int sw_metrics_broker_up(struct sw_metrics *m)
{
    return m && atomic_load(&m->broker_down_since_ms) == 0;
}

void sw_metrics_broker_down(struct sw_metrics *m, int64_t now_mono_ms)
{
    long long zero = 0;

    if (m && m->brokers) {
        atomic_compare_exchange_strong(&m->broker_down_since_ms, &zero,
                                       now_mono_ms > 0 ? now_mono_ms : 1);
    }
}

void sw_metrics_topic_missing(struct sw_metrics *m, enum sw_topic_role role, int missing)
{
    if (m) {
        atomic_store(&m->topic_missing[role], missing);
    }
}

void sw_metrics_set_producer_ok(struct sw_metrics *m, int ok)
{
    if (m) {
        atomic_store(&m->producer_ok, ok);
    }
}

void sw_metrics_set_draining(struct sw_metrics *m, int draining)
{
    if (m) {
        atomic_store(&m->draining, draining);
    }
}

static struct part *part_find(struct part *v, size_t n, const char *topic, int32_t partition)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (v[i].partition == partition && !strcmp(v[i].topic, topic)) {
            return &v[i];
        }
    }
    return NULL;
}

void sw_metrics_kafka_tick(struct sw_metrics *m, rd_kafka_t *consumer, long in_flight,
                           int paused_partitions, int64_t now_mono_ms)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    struct part *fresh = NULL;
    size_t n = 0;
    int i;

    if (!m) {
        return;
    }
    atomic_store_explicit(&m->in_flight, in_flight, memory_order_relaxed);
    if (now_mono_ms - m->last_tick_ms < TICK_MS) {
        return;
    }
    m->last_tick_ms = now_mono_ms;
    if (!consumer || rd_kafka_assignment(consumer, &a) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    atomic_store_explicit(&m->parts_assigned, a->cnt, memory_order_relaxed);
    atomic_store_explicit(&m->parts_paused, paused_partitions < a->cnt ? paused_partitions : a->cnt,
                          memory_order_relaxed);
    /* Local state only: the position of each partition and the watermark cached from fetches. */
    rd_kafka_position(consumer, a);
    fresh = calloc(SW_METRICS_MAX_PARTITIONS, sizeof(*fresh));
    if (!fresh) {
        goto out;
    }
    for (i = 0; i < a->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &a->elems[i];
        int64_t lo = -1, hi = -1;

        if (n == SW_METRICS_MAX_PARTITIONS || strlen(tp->topic) >= TOPIC_MAX) {
            inc(&m->parts_dropped);
            continue;
        }
        if (rd_kafka_get_watermark_offsets(consumer, tp->topic, tp->partition, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
            hi = -1;
        }
        snprintf(fresh[n].topic, sizeof(fresh[n].topic), "%s", tp->topic);
        fresh[n].partition = tp->partition;
        fresh[n].position = tp->offset >= 0 ? tp->offset : -1;
        fresh[n].high = hi >= 0 ? hi : -1;
        fresh[n].committed = -1;
        n++;
    }
    pthread_mutex_lock(&m->lock);
    for (i = 0; (size_t)i < n; i++) {
        const struct part *old = part_find(m->parts, m->nparts, fresh[i].topic, fresh[i].partition);

        if (old) {
            fresh[i].committed = old->committed;
        }
        /* Nothing consumed since the assignment: the next fetch starts at the committed offset. */
        if (fresh[i].position < 0) {
            fresh[i].position = fresh[i].committed;
        }
    }
    memcpy(m->parts, fresh, n * sizeof(*fresh));
    m->nparts = n;
    pthread_mutex_unlock(&m->lock);
out:
    free(fresh);
    rd_kafka_topic_partition_list_destroy(a);
}

/* Record offsets; with seed, only into partitions that have no committed offset yet. */
static void committed(struct sw_metrics *m, const rd_kafka_topic_partition_list_t *offsets,
                      int seed)
{
    int i;

    if (!m || !offsets) {
        return;
    }
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
        struct part *p;

        if (tp->err || tp->offset < 0) {
            continue;
        }
        p = part_find(m->parts, m->nparts, tp->topic, tp->partition);
        if (!p && m->nparts < SW_METRICS_MAX_PARTITIONS && strlen(tp->topic) < TOPIC_MAX) {
            /* Committed before the first tick saw the partition. */
            p = &m->parts[m->nparts++];
            snprintf(p->topic, sizeof(p->topic), "%s", tp->topic);
            p->partition = tp->partition;
            p->position = -1;
            p->high = -1;
            p->committed = -1;
        }
        if (p && (!seed || p->committed < 0)) {
            p->committed = tp->offset;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

void sw_metrics_committed(struct sw_metrics *m, const rd_kafka_topic_partition_list_t *offsets)
{
    committed(m, offsets, 0);
}

void sw_metrics_committed_seed(struct sw_metrics *m, const rd_kafka_topic_partition_list_t *offsets)
{
    committed(m, offsets, 1);
}

/* ---- reading ---- */

/* How long no broker has answered (0: one has), when /healthz should mind. */
static int64_t broker_down_ms(struct sw_metrics *m, int64_t now_mono_ms)
{
    int64_t since = atomic_load(&m->broker_down_since_ms);

    return since && now_mono_ms > since ? now_mono_ms - since : 0;
}

int sw_metrics_healthy(struct sw_metrics *m, int64_t now_mono_ms, int64_t max_stall_ms, char *why,
                       size_t n)
{
    int64_t last = atomic_load_explicit(&m->loop_mono_ms, memory_order_relaxed);
    int64_t down = broker_down_ms(m, now_mono_ms);

    if (last <= 0 || now_mono_ms - last > max_stall_ms) {
        snprintf(why, n, "event loop stalled");
        return 0;
    }
    if (m->max_broker_down_ms > 0 && down > m->max_broker_down_ms) {
        snprintf(why, n,
                 "no Kafka broker (%s) has answered for %lld s, more than "
                 "health.max_broker_down_ms",
                 m->brokers, (long long)(down / 1000));
        return 0;
    }
    snprintf(why, n, "ok");
    return 1;
}

int sw_metrics_ready(struct sw_metrics *m, int64_t now_mono_ms, int64_t max_stall_ms, char *why,
                     size_t n)
{
    int64_t down = atomic_load(&m->broker_down_since_ms) ? broker_down_ms(m, now_mono_ms) : -1;

    if (!sw_metrics_healthy(m, now_mono_ms, max_stall_ms, why, n)) {
        if (!strcmp(why, "event loop stalled")) {
            snprintf(why, n, "the event loop is not turning");
        }
        return 0;
    }
    if (atomic_load(&m->draining)) {
        snprintf(why, n, "draining");
    } else if (down >= 0) {
        snprintf(why, n, "no Kafka broker (%s) has answered for %lld s", m->brokers,
                 (long long)(down / 1000));
    } else if (atomic_load(&m->topic_missing[SW_TOPIC_JOBS])) {
        snprintf(why, n, "the jobs topic %s does not exist", m->jobs_topic);
    } else if (!atomic_load(&m->joined)) {
        snprintf(why, n, "the consumer group has not assigned partitions yet");
    } else if (!atomic_load(&m->producer_ok)) {
        snprintf(why, n, "the producer is not healthy");
    } else {
        if (atomic_load(&m->topic_missing[SW_TOPIC_RETRY])) {
            snprintf(why, n,
                     "ready (the retry topic %s does not exist: long retry waits stay in "
                     "memory)",
                     m->retry_topic);
        } else {
            snprintf(why, n, "ready");
        }
        return 1;
    }
    return 0;
}

/* Label values here come from specs, Kafka topic names and fixed tables; escape anyway so the
 * exposition stays valid whatever a spec is called. */
static int label(struct sw_buf *b, const char *s)
{
    int rc = 0;

    for (; *s && rc == 0; s++) {
        if (*s == '\\' || *s == '"') {
            rc = sw_buf_printf(b, "\\%c", *s);
        } else if (*s == '\n') {
            rc = sw_buf_appends(b, "\\n");
        } else {
            rc = sw_buf_append(b, s, 1);
        }
    }
    return rc;
}

static int family(struct sw_buf *b, const char *name, const char *type, const char *help)
{
    return sw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram series; lbl is the label text without braces (already escaped). */
static int hist_render(struct sw_buf *b, const char *name, const char *lbl, struct hist *h)
{
    unsigned long long cum = 0;
    int i;
    int rc = 0;

    for (i = 0; i <= NBUCKETS && rc == 0; i++) {
        cum += get(&h->bucket[i]);
        if (i < NBUCKETS) {
            rc = sw_buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, lbl,
                               (double)bucket_ms[i] / 1000.0, cum);
        } else {
            rc = sw_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, lbl, cum);
        }
    }
    /* _count is the +Inf bucket so the two always agree, even mid-update. */
    return rc || sw_buf_printf(b, "%s_sum{%s} %.3f\n%s_count{%s} %llu\n", name, lbl,
                               (double)get(&h->sum_ms) / 1000.0, name, lbl, cum);
}

static int hist_empty(struct hist *h)
{
    int i;

    for (i = 0; i <= NBUCKETS; i++) {
        if (get(&h->bucket[i])) {
            return 0;
        }
    }
    return 1;
}

static int render_turns(struct sw_metrics *m, struct sw_buf *b)
{
    unsigned long long cum = 0;
    int i;
    int rc = family(b, "segworker_loop_turn_seconds", "histogram",
                    "Busy time of each event-loop turn (from one wait for events to the next): "
                    "what the loop spends away from sockets, timers and Kafka.");

    for (i = 0; i <= NTURN && rc == 0; i++) {
        cum += get(&m->turn[i]);
        if (i < NTURN) {
            rc = sw_buf_printf(b, "segworker_loop_turn_seconds_bucket{le=\"%g\"} %llu\n",
                               (double)turn_bucket_us[i] / 1e6, cum);
        } else {
            rc = sw_buf_printf(b, "segworker_loop_turn_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
        }
    }
    return rc ||
           sw_buf_printf(
               b, "segworker_loop_turn_seconds_sum %.6f\nsegworker_loop_turn_seconds_count %llu\n",
               (double)get(&m->turn_sum_us) / 1e6, cum) ||
           family(b, "segworker_loop_turn_max_seconds", "gauge",
                  "Longest event-loop turn since the worker started.") ||
           sw_buf_printf(b, "segworker_loop_turn_max_seconds %.6f\n",
                         (double)atomic_load(&m->turn_max_us) / 1e6);
}

static int render_jobs(struct sw_metrics *m, struct sw_buf *b)
{
    size_t p, o;
    int c;
    int rc = family(b, "segworker_jobs_total", "counter",
                    "Jobs finished, by provider, operation, status and error code.");

    for (p = 0; p <= m->nproviders && rc == 0; p++) {
        for (o = 0; o < NOPS && rc == 0; o++) {
            for (c = 0; c < SW_E__COUNT && rc == 0; c++) {
                unsigned long long v = get(&m->jobs[p][o][c]);

                if (!v) {
                    continue;
                }
                rc = sw_buf_appends(b, "segworker_jobs_total{provider=\"") ||
                     label(b, provider_name(m, p)) ||
                     sw_buf_printf(b, "\",operation=\"%s\",status=\"%s\",code=\"%s\"} %llu\n",
                                   op_names[o], c == SW_E_OK ? "succeeded" : "failed",
                                   sw_err_name((sw_err_t)c), v);
            }
        }
    }
    return rc;
}

static int render_job_time(struct sw_metrics *m, struct sw_buf *b)
{
    size_t p, o;
    int ok;
    int rc = family(b, "segworker_job_duration_seconds", "histogram",
                    "Jobs from their receipt to their final result handed to the producer, by "
                    "provider, operation and status.");

    for (p = 0; p <= m->nproviders && rc == 0; p++) {
        for (o = 0; o < NOPS && rc == 0; o++) {
            for (ok = 0; ok < 2 && rc == 0; ok++) {
                struct sw_buf lbl;

                if (hist_empty(&m->job_time[p][o][ok])) {
                    continue;
                }
                sw_buf_init(&lbl, 1024);
                rc = sw_buf_appends(&lbl, "provider=\"") || label(&lbl, provider_name(m, p)) ||
                     sw_buf_printf(&lbl, "\",operation=\"%s\",status=\"%s\"", op_names[o],
                                   ok ? "succeeded" : "failed") ||
                     hist_render(b, "segworker_job_duration_seconds", lbl.data,
                                 &m->job_time[p][o][ok]);
                sw_buf_free(&lbl);
            }
        }
    }
    return rc;
}

static int render_http(struct sw_metrics *m, struct sw_buf *b)
{
    size_t p;
    int c;
    int rc = family(b, "segworker_http_request_duration_seconds", "histogram",
                    "Provider HTTP exchanges (each attempt), by provider and status class.");

    for (p = 0; p <= m->nproviders && rc == 0; p++) {
        for (c = 0; c < NCLASSES && rc == 0; c++) {
            struct sw_buf lbl;

            if (hist_empty(&m->http[p][c])) {
                continue;
            }
            sw_buf_init(&lbl, 1024);
            rc =
                sw_buf_appends(&lbl, "provider=\"") || label(&lbl, provider_name(m, p)) ||
                sw_buf_printf(&lbl, "\",class=\"%s\"", class_names[c]) ||
                hist_render(b, "segworker_http_request_duration_seconds", lbl.data, &m->http[p][c]);
            sw_buf_free(&lbl);
        }
    }
    return rc;
}

static int render_retries(struct sw_metrics *m, struct sw_buf *b)
{
    size_t p;
    int c;
    int rc = family(b, "segworker_retries_total", "counter",
                    "Retries scheduled, by provider and the error code that caused them.");

    for (p = 0; p <= m->nproviders && rc == 0; p++) {
        for (c = 0; c < SW_E__COUNT && rc == 0; c++) {
            unsigned long long v = get(&m->retries[p][c]);

            if (v) {
                rc = sw_buf_appends(b, "segworker_retries_total{provider=\"") ||
                     label(b, provider_name(m, p)) ||
                     sw_buf_printf(b, "\",code=\"%s\"} %llu\n", sw_err_name((sw_err_t)c), v);
            }
        }
    }
    rc = rc || family(b, "segworker_ratelimit_wait_seconds", "histogram",
                      "Time requests waited for a provider rate limiter, by provider.");
    for (p = 0; p <= m->nproviders && rc == 0; p++) {
        struct sw_buf lbl;

        if (hist_empty(&m->rl_wait[p])) {
            continue;
        }
        sw_buf_init(&lbl, 1024);
        rc = sw_buf_appends(&lbl, "provider=\"") || label(&lbl, provider_name(m, p)) ||
             sw_buf_appends(&lbl, "\"") ||
             hist_render(b, "segworker_ratelimit_wait_seconds", lbl.data, &m->rl_wait[p]);
        sw_buf_free(&lbl);
    }
    return rc;
}

static int render_kafka(struct sw_metrics *m, struct sw_buf *b)
{
    struct part *snap = malloc(SW_METRICS_MAX_PARTITIONS * sizeof(*snap));
    size_t n, i;
    int rc;

    if (!snap) {
        return -1;
    }
    pthread_mutex_lock(&m->lock);
    n = m->nparts;
    memcpy(snap, m->parts, n * sizeof(*snap));
    pthread_mutex_unlock(&m->lock);
    rc = family(b, "segworker_partitions_assigned", "gauge",
                "Partitions of the jobs topic assigned to this worker.") ||
         sw_buf_printf(b, "segworker_partitions_assigned %lld\n",
                       (long long)atomic_load(&m->parts_assigned)) ||
         family(b, "segworker_partitions_paused", "gauge",
                "Assigned partitions paused by backpressure or draining.") ||
         sw_buf_printf(b, "segworker_partitions_paused %lld\n",
                       (long long)atomic_load(&m->parts_paused)) ||
         family(b, "segworker_partitions_untracked_total", "counter",
                "Assigned partitions left out of the per-partition metrics (table full).") ||
         sw_buf_printf(b, "segworker_partitions_untracked_total %llu\n", get(&m->parts_dropped));
    rc = rc || family(b, "segworker_consumer_position", "gauge",
                      "Next offset this worker will fetch, per partition.");
    for (i = 0; i < n && rc == 0; i++) {
        if (snap[i].position >= 0) {
            rc = sw_buf_appends(b, "segworker_consumer_position{topic=\"") ||
                 label(b, snap[i].topic) ||
                 sw_buf_printf(b, "\",partition=\"%d\"} %lld\n", (int)snap[i].partition,
                               (long long)snap[i].position);
        }
    }
    rc = rc || family(b, "segworker_consumer_committed_offset", "gauge",
                      "Last offset this worker committed for the group, per partition.");
    for (i = 0; i < n && rc == 0; i++) {
        if (snap[i].committed >= 0) {
            rc = sw_buf_appends(b, "segworker_consumer_committed_offset{topic=\"") ||
                 label(b, snap[i].topic) ||
                 sw_buf_printf(b, "\",partition=\"%d\"} %lld\n", (int)snap[i].partition,
                               (long long)snap[i].committed);
        }
    }
    rc = rc || family(b, "segworker_consumer_lag", "gauge",
                      "High watermark minus the committed offset (or the position before the "
                      "first commit), per partition.");
    for (i = 0; i < n && rc == 0; i++) {
        int64_t base = snap[i].committed >= 0 ? snap[i].committed : snap[i].position;

        if (snap[i].high >= 0 && base >= 0) {
            rc = sw_buf_appends(b, "segworker_consumer_lag{topic=\"") || label(b, snap[i].topic) ||
                 sw_buf_printf(b, "\",partition=\"%d\"} %lld\n", (int)snap[i].partition,
                               (long long)(snap[i].high > base ? snap[i].high - base : 0));
        }
    }
    free(snap);
    return rc;
}

/* The facts behind /healthz and /readyz, as gauges, so alerts need no HTTP probe. */
static int render_state(struct sw_metrics *m, struct sw_buf *b)
{
    int64_t last = atomic_load_explicit(&m->loop_mono_ms, memory_order_relaxed);
    int64_t age = sw_now_mono_ms() - last;

    return family(b, "segworker_loop_last_turn_age_seconds", "gauge",
                  "Time since the event loop last turned (it turns at least once a second).") ||
           sw_buf_printf(b, "segworker_loop_last_turn_age_seconds %.3f\n",
                         (double)(age > 0 ? age : 0) / 1000.0) ||
           family(b, "segworker_group_joined", "gauge",
                  "1 once the consumer group assigned this worker its partitions.") ||
           sw_buf_printf(b, "segworker_group_joined %d\n", atomic_load(&m->joined) != 0) ||
           family(b, "segworker_producer_healthy", "gauge",
                  "1 while the producer can deliver results.") ||
           sw_buf_printf(b, "segworker_producer_healthy %d\n", atomic_load(&m->producer_ok) != 0) ||
           family(b, "segworker_draining", "gauge", "1 while the worker drains to stop.") ||
           sw_buf_printf(b, "segworker_draining %d\n", atomic_load(&m->draining) != 0);
}

char *sw_metrics_render(struct sw_metrics *m, size_t *len)
{
    struct sw_buf b;
    int c;
    int rc;

    sw_buf_init(&b, RENDER_MAX);
    rc = family(&b, "segworker_build_info", "gauge", "Build identity; the value is always 1.") ||
         sw_buf_printf(&b, "segworker_build_info{version=\"%s\",librdkafka=\"%s\",curl=\"%s\"} 1\n",
                       SW_VERSION, rd_kafka_version_str(),
                       curl_version_info(CURLVERSION_NOW)->version) ||
         family(&b, "segworker_jobs_in_flight", "gauge", "Jobs received and not yet finished.") ||
         sw_buf_printf(&b, "segworker_jobs_in_flight %lld\n",
                       (long long)atomic_load(&m->in_flight)) ||
         render_jobs(m, &b) || render_job_time(m, &b) || render_http(m, &b) ||
         render_retries(m, &b) || render_turns(m, &b);
    rc = rc || family(&b, "segworker_dead_letters_total", "counter",
                      "Messages sent to the dead-letter topic, by reason.");
    for (c = 0; c < SW_E__COUNT && rc == 0; c++) {
        unsigned long long v = get(&m->dead_letters[c]);

        if (v) {
            rc = sw_buf_printf(&b, "segworker_dead_letters_total{reason=\"%s\"} %llu\n",
                               sw_err_name((sw_err_t)c), v);
        }
    }
    rc = rc ||
         family(&b, "segworker_account_reloads_total", "counter",
                "Account store reloads (SIGHUP), by result.") ||
         sw_buf_printf(&b,
                       "segworker_account_reloads_total{result=\"ok\"} %llu\n"
                       "segworker_account_reloads_total{result=\"failed\"} %llu\n",
                       get(&m->reloads[1]), get(&m->reloads[0])) ||
         render_kafka(m, &b) || render_state(m, &b) || sw_procstat_render(&b);
    if (rc) {
        sw_buf_free(&b);
        return NULL;
    }
    return sw_buf_steal(&b, len);
}
