/* Kafka worker (see sw_worker.h).
 *
 * Threads: librdkafka runs its own broker threads; everything here runs on one loop thread. The
 * loop sleeps in curl_multi_poll, with a pipe that librdkafka writes to when the consumer queue
 * or the producer's event queue becomes non-empty, so Kafka events, HTTP sockets and timers all
 * wake the same wait.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_worker.h"
#include "sw_admin.h"
#include "sw_exec.h"
#include "sw_job.h"
#include "sw_log.h"
#include "sw_loop.h"
#include "sw_metrics.h"
#include "sw_offsets.h"
#include "sw_time.h"
#include "sw_version.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE_FULL_TRIES 600 /* x 100 ms: how long a produce may wait for queue space */
/* Transactional: results held for their offsets past which consumption pauses. */
#define TXN_BUFFER_MAX (64u * 1024 * 1024)

enum ordering { ORDER_KEY, ORDER_PARTITION, ORDER_NONE };

/* A message to publish, held back in transactional mode until its job's offset can be committed
 * with it (see txn_release). */
struct sw_out {
    struct sw_out *next;
    char *topic;
    void *key;
    size_t key_len;
    char *value;
    size_t len;
    rd_kafka_headers_t *hdrs;
};

/* One consumed message, from poll until its last result (and DLQ entry) is acknowledged. */
struct sw_msg {
    struct sw_worker *w;
    struct sw_msg *prev, *next; /* every live message, so shutdown frees abandoned ones */
    char *topic;
    int32_t partition;
    int64_t offset;
    void *key;
    size_t key_len;
    char *raw; /* the original value, kept for a dead letter or the retry topic */
    size_t raw_len;
    char *traceparent;
    const char *reply_topic; /* borrowed from the config or job-validated */
    char reply_buf[256];
    struct sw_job *job;         /* parsed, not started yet (waiting for its key or its time) */
    struct sw_order_link olink; /* in its partition's gate while waiting behind its key */
    struct sw_msg *ready_next;  /* released by the gate, to start on this loop turn */
    struct sw_timer hold;       /* a parked job waiting for its not-before time */
    int64_t received_wall_ms;
    int64_t not_before_wall_ms;
    int gated;         /* holds its key in the gate */
    int started;       /* handed to the engine */
    int orphan;        /* its partition was handed over: complete without touching offsets */
    int pending;       /* produced, not yet acknowledged */
    int final_emitted; /* the job's last result (or DLQ entry, or park) was produced */
    int delivery_failed;
    int done;                       /* transactional: finished, outputs held in out */
    struct sw_out *out, **out_tail; /* transactional: held outputs, in emit order */
    size_t out_bytes;
};

struct sw_worker {
    const struct sw_config *cfg;
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_queue_t *cq;
    rd_kafka_queue_t *pq;
    int pipefd[2];
    struct curl_waitfd wfd;
    struct sw_loop loop;
    struct sw_job_limits job_lim;
    struct sw_offsets offsets;
    struct sw_msg *msgs;
    struct sw_msg *ready, *ready_tail;
    enum ordering ordering;
    int transactional;
    int txn_open;
    int txn_dirty;       /* offsets moved or messages produced since the last commit */
    int64_t txn_next_ms; /* monotonic time of the next commit */
    size_t txn_buffered; /* bytes of outputs held back for their offsets */
    long in_flight;
    int paused;
    int64_t full_since; /* when the window filled up (monotonic ms); 0 while it is not full */
    int draining;
    int closing; /* past the main loop: revokes only commit */
    int fatal;
    int share_dirty;            /* the assignment changed: recompute the rate-limit share */
    rd_kafka_topic_t *jobs_rkt; /* for the partition count of the jobs topic */
    int retry_ok;               /* topics.retry exists: long waits may be parked there */
    int64_t retry_next_check_ms;
    char txn_id[256];
    unsigned long long consumed, results, dead_letters, parked, rewound;
    struct sw_metrics *metrics;
    struct sw_admin *admin;
};

static void out_free(struct sw_out *o)
{
    while (o) {
        struct sw_out *next = o->next;

        free(o->topic);
        free(o->key);
        free(o->value);
        if (o->hdrs) {
            rd_kafka_headers_destroy(o->hdrs);
        }
        free(o);
        o = next;
    }
}

static void msg_free(struct sw_msg *m)
{
    if (!m) {
        return;
    }
    out_free(m->out);
    if (m->w) {
        m->w->txn_buffered -= m->out_bytes;
    }
    if (m->prev) {
        m->prev->next = m->next;
    } else if (m->w && m->w->msgs == m) {
        m->w->msgs = m->next;
    }
    if (m->next) {
        m->next->prev = m->prev;
    }
    if (m->w) {
        sw_timers_cancel(&m->w->loop.timers, &m->hold);
    }
    sw_job_destroy(m->job);
    free(m->topic);
    free(m->key);
    free(m->raw);
    free(m->traceparent);
    free(m);
}

static struct sw_partition_ledger *msg_ledger(struct sw_worker *w, const struct sw_msg *m)
{
    return m->orphan ? NULL : sw_offsets_get(&w->offsets, m->topic, m->partition, 0);
}

/* ---- pause / resume ---- */

/* Tell librdkafka the partition's effective state when it changed. Invariant: a partition is
 * only resumed when it was paused — librdkafka 2.0.2 can rewind the fetch position when a
 * partition that is not paused is resumed. */
static void apply_pause(struct sw_worker *w, struct sw_partition_ledger *l)
{
    int want = w->paused || w->draining || l->paused;
    rd_kafka_topic_partition_list_t *p;

    if (want == l->eff_paused || l->revoking) {
        return;
    }
    p = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(p, l->topic, l->partition);
    if (want) {
        rd_kafka_pause_partitions(w->consumer, p);
    } else {
        rd_kafka_resume_partitions(w->consumer, p);
    }
    rd_kafka_topic_partition_list_destroy(p);
    l->eff_paused = want;
}

static void apply_pause_all(struct sw_worker *w)
{
    size_t i;

    for (i = 0; i < w->offsets.n; i++) {
        apply_pause(w, &w->offsets.v[i]);
    }
}

/* Global and per-partition windows, with hysteresis so a full window does not flap.
 *
 * A full global window first only stops taking messages (poll_kafka leaves them in librdkafka's
 * bounded queue); the partitions are paused when it stays full for a second. A pause/resume
 * cycle costs 0.5-1 s in librdkafka 2.0.2 (the resumed partition waits for the broker thread's
 * next fetch round), which held a window of 10 jobs against a 50 ms provider to 20 jobs/s
 * (bench/). Pausing after a second keeps polling, and so rebalances, going while slow jobs hold
 * the window. A partition's own window pauses it at once: its messages cannot be left in the
 * shared queue without holding up the others. */
static void check_window(struct sw_worker *w, struct sw_partition_ledger *l)
{
    long max = (long)w->cfg->max_in_flight;
    long pmax = (long)w->cfg->max_in_flight_partition;
    int full = w->in_flight >= max || w->txn_buffered > TXN_BUFFER_MAX;

    if (l) {
        long n = (long)sw_ledger_in_flight(l);

        if (!l->paused && n >= pmax) {
            l->paused = 1;
        } else if (l->paused && n <= pmax - pmax / 4 - 1) {
            l->paused = 0;
        }
        apply_pause(w, l);
    }
    if (!w->paused && full) {
        int64_t now = sw_now_mono_ms();

        if (!w->full_since) {
            w->full_since = now;
        }
        if (now - w->full_since >= 1000) {
            w->paused = 1;
            apply_pause_all(w);
        }
    } else if (!w->paused) {
        w->full_since = 0;
    } else if (w->in_flight <= max - max / 4 - 1 && w->txn_buffered <= TXN_BUFFER_MAX / 2) {
        w->paused = 0;
        w->full_since = 0;
        apply_pause_all(w);
    }
}

/* ---- completion ---- */

static void txn_release(struct sw_worker *w, struct sw_partition_ledger *l);

static void store_offset(struct sw_worker *w, struct sw_partition_ledger *l)
{
    rd_kafka_topic_partition_list_t *off;

    if (w->transactional) {
        w->txn_dirty = 1; /* the next transaction commit carries it */
        return;
    }
    off = rd_kafka_topic_partition_list_new(1);
    /* l->committable is already "last done + 1", the position the group resumes from. */
    rd_kafka_topic_partition_list_add(off, l->topic, l->partition)->offset = l->committable;
    if (rd_kafka_offsets_store(w->consumer, off) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        sw_log_debug(NULL, "offset store for %s [%d] refused (partition revoked)", l->topic,
                     (int)l->partition);
    }
    rd_kafka_topic_partition_list_destroy(off);
}

static void msg_complete(struct sw_worker *w, struct sw_msg *m)
{
    struct sw_partition_ledger *l = msg_ledger(w, m);

    if (m->delivery_failed) {
        /* A result the broker never acknowledged: committing past it would lose the job. Stop;
         * a restart redelivers it. */
        sw_log_error(NULL,
                     "a result for %s [%d] offset %lld was not delivered; stopping without "
                     "committing it",
                     m->topic, (int)m->partition, (long long)m->offset);
        w->fatal = 1;
    } else if (w->transactional) {
        /* Held until the offset is committable: txn_release publishes and frees it. */
        m->done = 1;
        if (l && sw_ledger_done(l, m->offset) == 1) {
            txn_release(w, l);
            check_window(w, l);
        } else if (!l) {
            w->in_flight--;
            msg_free(m);
        }
        return;
    } else if (l && sw_ledger_done(l, m->offset) == 1) {
        store_offset(w, l);
    }
    w->in_flight--;
    msg_free(m);
    check_window(w, l);
}

/* The job is over as far as its key is concerned: let the next one of the key start. */
static void release_key(struct sw_worker *w, struct sw_msg *m)
{
    struct sw_partition_ledger *l;
    struct sw_order_link *next;

    if (!m->gated) {
        return;
    }
    m->gated = 0;
    l = msg_ledger(w, m);
    if (!l) {
        return;
    }
    next = sw_order_release(&l->order, w->ordering == ORDER_KEY ? m->key : NULL,
                            w->ordering == ORDER_KEY ? m->key_len : 0);
    if (next) {
        struct sw_msg *n = (struct sw_msg *)((char *)next - offsetof(struct sw_msg, olink));

        n->gated = 1;
        n->ready_next = NULL;
        if (w->ready_tail) {
            w->ready_tail->ready_next = n;
        } else {
            w->ready = n;
        }
        w->ready_tail = n;
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct sw_worker *w = opaque;
    struct sw_msg *m = rkm->_private;

    (void)rk;
    if (!m) {
        return;
    }
    if (rkm->err) {
        sw_log_error(NULL, "delivery to %s failed: %s", rd_kafka_topic_name(rkm->rkt),
                     rd_kafka_err2str(rkm->err));
        m->delivery_failed = 1;
        sw_metrics_set_producer_ok(w->metrics, 0);
    }
    m->pending--;
    if (m->final_emitted && m->pending == 0 && !w->transactional) {
        msg_complete(w, m);
    }
}

/* ---- producing ---- */

static int produce_now(struct sw_worker *w, struct sw_msg *m, const char *topic, const void *key,
                       size_t key_len, const char *value, size_t len, rd_kafka_headers_t *hdrs)
{
    rd_kafka_resp_err_t err;
    int tries = 0;

    for (;;) {
        /* F_COPY: the payload buffer belongs to the engine and is freed right after emit. The
         * headers are consumed by producev only on success. */
        err = rd_kafka_producev(w->producer, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_KEY((void *)key, key_len),
                                RD_KAFKA_V_VALUE((void *)value, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
                                RD_KAFKA_V_OPAQUE((w->transactional ? NULL : m)), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || ++tries > QUEUE_FULL_TRIES) {
            break;
        }
        /* Backpressure from the broker: serve delivery reports until there is room. */
        rd_kafka_poll(w->producer, 100);
    }
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        sw_log_error(NULL, "produce to %s failed: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    if (!w->transactional) {
        m->pending++; /* in a transaction the commit, not the acknowledgement, settles it */
    }
    w->txn_dirty = 1;
    return 0;
}

/* Publish (at-least-once), or hold until the job's offset is committable (transactional): a
 * transaction must never carry a result whose offset it does not also commit, or a crash would
 * redo the job and publish it twice. */
static int produce(struct sw_worker *w, struct sw_msg *m, const char *topic, const void *key,
                   size_t key_len, const char *value, size_t len, rd_kafka_headers_t *hdrs)
{
    struct sw_out *o;

    if (!w->transactional) {
        return produce_now(w, m, topic, key, key_len, value, len, hdrs);
    }
    o = calloc(1, sizeof(*o));
    if (o) {
        o->topic = strdup(topic);
        o->key = key_len ? malloc(key_len) : NULL;
        o->value = malloc(len ? len : 1);
    }
    if (!o || !o->topic || (key_len && !o->key) || !o->value) {
        out_free(o);
        rd_kafka_headers_destroy(hdrs);
        sw_log_error(NULL, "out of memory holding a result for its transaction");
        return -1;
    }
    if (key_len) {
        memcpy(o->key, key, key_len);
    }
    memcpy(o->value, value, len);
    o->key_len = key_len;
    o->len = len;
    o->hdrs = hdrs;
    if (!m->out_tail) {
        m->out_tail = &m->out;
    }
    *m->out_tail = o;
    m->out_tail = &o->next;
    m->out_bytes += len + key_len;
    w->txn_buffered += len + key_len;
    return 0;
}

/* Transactional: publish the held outputs of every finished job of l below its committable
 * offset, into the open transaction, and let those jobs go. */
static void txn_release(struct sw_worker *w, struct sw_partition_ledger *l)
{
    struct sw_msg *m, *next;

    for (m = w->msgs; m; m = next) {
        next = m->next;
        if (!m->done || m->orphan || m->offset >= l->committable || m->partition != l->partition ||
            strcmp(m->topic, l->topic)) {
            continue;
        }
        while (m->out) {
            struct sw_out *o = m->out;

            m->out = o->next;
            if (produce_now(w, m, o->topic, o->key, o->key_len, o->value, o->len, o->hdrs) != 0) {
                w->fatal = 1; /* the transaction must not commit this job's offset */
            }
            o->hdrs = NULL; /* consumed (or destroyed) by produce_now */
            o->next = NULL;
            out_free(o);
        }
        m->out_tail = NULL;
        w->in_flight--;
        msg_free(m);
    }
    w->txn_dirty = 1;
}

static int produce_dlq(struct sw_worker *w, struct sw_msg *m, const struct sw_emit *em,
                       const char *reason_msg)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    char num[32];
    size_t len = m->raw_len;
    size_t cap = (size_t)w->cfg->max_result_bytes;

    rd_kafka_header_add(h, "segworker.reason", -1, sw_err_name(em->code), -1);
    if (reason_msg) {
        rd_kafka_header_add(h, "segworker.error", -1, reason_msg, -1);
    }
    rd_kafka_header_add(h, "segworker.source.topic", -1, m->topic, -1);
    snprintf(num, sizeof(num), "%d", (int)m->partition);
    rd_kafka_header_add(h, "segworker.source.partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)m->offset);
    rd_kafka_header_add(h, "segworker.source.offset", -1, num, -1);
    rd_kafka_header_add(h, "segworker.version", -1, SW_VERSION, -1);
    if (em->job_id) {
        rd_kafka_header_add(h, "job_id", -1, em->job_id, -1);
    }
    if (len > cap) {
        /* An oversized job cannot be re-published whole; say so rather than cut silently. */
        snprintf(num, sizeof(num), "%zu", len);
        rd_kafka_header_add(h, "segworker.truncated_from", -1, num, -1);
        len = cap;
    }
    w->dead_letters++;
    sw_metrics_dead_letter(w->metrics, em->code);
    return produce(w, m, w->cfg->dlq_topic, m->key, m->key_len, m->raw, len, h);
}

static void msg_final(struct sw_worker *w, struct sw_msg *m)
{
    m->final_emitted = 1;
    release_key(w, m);
    if (m->pending == 0) {
        msg_complete(w, m);
    }
}

static int on_emit(void *arg, const struct sw_emit *em)
{
    struct sw_worker *w = arg;
    struct sw_msg *m = em->user;
    int rc = 0;

    if (em->payload) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);

        rd_kafka_header_add(h, "job_id", -1, em->job_id, -1);
        rd_kafka_header_add(h, "status", -1, em->succeeded ? "succeeded" : "failed", -1);
        if (m->traceparent) {
            rd_kafka_header_add(h, "traceparent", -1, m->traceparent, -1);
        }
        rc = produce(w, m, m->reply_topic, em->job_id, strlen(em->job_id), em->payload, em->len, h);
        if (rc == 0) {
            w->results++;
        } else {
            m->delivery_failed = 1;
        }
    }
    if (!em->last) {
        return rc;
    }
    if (!em->succeeded && em->dead_letter) {
        if (produce_dlq(w, m, em, em->message) != 0) {
            m->delivery_failed = 1;
        }
    }
    if (m->delivery_failed && w->transactional) {
        w->fatal = 1; /* the open transaction must not commit past it */
    }
    msg_final(w, m);
    return rc;
}

/* Hand a job whose next try is far away to the retry topic (sw_park_fn). Parking would let
 * later jobs of the same key overtake it, so jobs holding a key (ordering key/partition) stay. */
static int on_park(void *arg, void *user, int64_t not_before_wall_ms, int attempts)
{
    struct sw_worker *w = arg;
    struct sw_msg *m = user;
    rd_kafka_headers_t *h;
    char num[32];

    if (!w->retry_ok || m->gated || w->draining) {
        return -1;
    }
    h = rd_kafka_headers_new(8);
    snprintf(num, sizeof(num), "%lld", (long long)not_before_wall_ms);
    rd_kafka_header_add(h, "segworker.not_before", -1, num, -1);
    snprintf(num, sizeof(num), "%d", attempts);
    rd_kafka_header_add(h, "segworker.attempts", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)m->received_wall_ms);
    rd_kafka_header_add(h, "segworker.received", -1, num, -1);
    rd_kafka_header_add(h, "segworker.source.topic", -1, m->topic, -1);
    snprintf(num, sizeof(num), "%d", (int)m->partition);
    rd_kafka_header_add(h, "segworker.source.partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)m->offset);
    rd_kafka_header_add(h, "segworker.source.offset", -1, num, -1);
    if (m->traceparent) {
        rd_kafka_header_add(h, "traceparent", -1, m->traceparent, -1);
    }
    if (produce(w, m, w->cfg->retry_topic, m->key, m->key_len, m->raw, m->raw_len, h) != 0) {
        return -1;
    }
    w->parked++;
    /* The engine frees the run right after; the message completes when the park is
     * acknowledged, like a result. */
    msg_final(w, m);
    return 0;
}

/* ---- consuming ---- */

static int reply_allowed(const struct sw_config *cfg, const char *topic)
{
    const char *p = cfg->reply_to_allowed;
    size_t n = strlen(topic);

    if (!strcmp(topic, cfg->results_topic)) {
        return 1;
    }
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);

        if (l == n && !strncmp(p, topic, n)) {
            return 1;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* Start a job that holds its key (or needs none), once its not-before time has come. */
static void start_msg(void *arg)
{
    struct sw_msg *m = arg;
    struct sw_worker *w = m->w;
    struct sw_job *job = m->job;
    int64_t now = sw_now_wall_ms();

    if (m->not_before_wall_ms > now) {
        /* Back from the retry topic early: wait here (this holds only a retry partition). */
        if (sw_timers_add(&w->loop.timers, &m->hold,
                          sw_now_mono_ms() + (m->not_before_wall_ms - now), start_msg, m) == 0) {
            return;
        }
    }
    m->job = NULL;
    m->started = 1;
    sw_exec_start(&w->loop.eng, job, m, m->received_wall_ms, 0);
}

static void start_ready(struct sw_worker *w)
{
    while (w->ready) {
        struct sw_msg *m = w->ready;

        w->ready = m->ready_next;
        if (!w->ready) {
            w->ready_tail = NULL;
        }
        m->ready_next = NULL;
        start_msg(m);
    }
}

static int64_t header_ll(rd_kafka_headers_t *hdrs, const char *name, int64_t def)
{
    const void *v = NULL;
    size_t len = 0;
    char buf[32];

    if (!hdrs || rd_kafka_header_get_last(hdrs, name, &v, &len) || !v || len == 0 ||
        len >= sizeof(buf)) {
        return def;
    }
    memcpy(buf, v, len);
    buf[len] = '\0';
    return strtoll(buf, NULL, 10);
}

static void handle_message(struct sw_worker *w, rd_kafka_message_t *rkm)
{
    struct sw_msg *m;
    struct sw_job *job = NULL;
    struct sw_status st;
    struct sw_partition_ledger *l;
    rd_kafka_headers_t *hdrs = NULL;
    const void *tp = NULL;
    size_t tplen = 0;
    int from_retry;
    int rc;

    if (w->draining) {
        return; /* not tracked, so never committed: the next owner gets it */
    }
    l = sw_offsets_get(&w->offsets, rd_kafka_topic_name(rkm->rkt), rkm->partition, 1);
    if (l && rkm->offset < l->next_offset) {
        /* librdkafka < 2.4 can rewind a partition's fetch position (cooperative assignor,
         * pause/resume, offset validation): a message we already have is not a new job. */
        w->rewound++;
        sw_log_debug(NULL, "skipping %s [%d] offset %lld: already consumed (fetch rewound)",
                     l->topic, (int)l->partition, (long long)rkm->offset);
        return;
    }
    if (l) {
        l->next_offset = rkm->offset + 1;
    }
    m = calloc(1, sizeof(*m));
    if (!m || !l) {
        sw_log_error(NULL, "out of memory; stopping");
        w->fatal = 1;
        free(m);
        return;
    }
    m->w = w;
    sw_timer_init(&m->hold);
    m->next = w->msgs;
    if (w->msgs) {
        w->msgs->prev = m;
    }
    w->msgs = m;
    m->topic = strdup(rd_kafka_topic_name(rkm->rkt));
    m->partition = rkm->partition;
    m->offset = rkm->offset;
    m->reply_topic = w->cfg->results_topic;
    m->received_wall_ms = sw_now_wall_ms();
    if (rkm->key_len) {
        m->key = malloc(rkm->key_len);
        if (m->key) {
            memcpy(m->key, rkm->key, rkm->key_len);
            m->key_len = rkm->key_len;
        }
    }
    m->raw = malloc(rkm->len + 1);
    if (!m->topic || !m->raw || (rkm->key_len && !m->key) || sw_ledger_track(l, m->offset)) {
        sw_log_error(NULL, "out of memory; stopping");
        w->fatal = 1;
        msg_free(m);
        return;
    }
    if (rkm->len) {
        memcpy(m->raw, rkm->payload, rkm->len);
    }
    m->raw[rkm->len] = '\0';
    m->raw_len = rkm->len;
    if (rd_kafka_message_headers(rkm, &hdrs)) {
        hdrs = NULL;
    }
    if (hdrs && !rd_kafka_header_get_last(hdrs, "traceparent", &tp, &tplen) && tp && tplen < 256) {
        m->traceparent = strndup(tp, tplen);
    }
    from_retry = w->cfg->retry_topic[0] && !strcmp(m->topic, w->cfg->retry_topic);
    if (from_retry) {
        m->not_before_wall_ms = header_ll(hdrs, "segworker.not_before", 0);
        m->received_wall_ms = header_ll(hdrs, "segworker.received", m->received_wall_ms);
    }
    w->in_flight++;
    w->consumed++;
    check_window(w, l);

    sw_status_clear(&st);
    if (sw_job_parse(m->raw, m->raw_len, &w->job_lim, &job, &st) != SW_E_OK) {
        m->started = 1;
        sw_exec_reject(&w->loop.eng, job, &st, m, m->received_wall_ms);
        return;
    }
    job->traceparent = m->traceparent ? strdup(m->traceparent) : NULL; /* for its requests */
    if (job->reply_to) {
        if (!reply_allowed(w->cfg, job->reply_to)) {
            sw_status_set(&st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                          "reply_to \"%s\" is not an allowed topic (topics.reply_allowed)",
                          job->reply_to);
            m->started = 1;
            sw_exec_reject(&w->loop.eng, job, &st, m, m->received_wall_ms);
            return;
        }
        snprintf(m->reply_buf, sizeof(m->reply_buf), "%s", job->reply_to);
        m->reply_topic = m->reply_buf;
    }
    if (from_retry) {
        int64_t a = header_ll(hdrs, "segworker.attempts", 0);

        job->prior_attempts = a > 0 && a < 1000 ? (int)a : 0;
    }
    m->job = job;
    rc = 1;
    if (w->ordering == ORDER_PARTITION) {
        rc = sw_order_admit(&l->order, NULL, 0, &m->olink);
    } else if (w->ordering == ORDER_KEY && m->key_len) {
        rc = sw_order_admit(&l->order, m->key, m->key_len, &m->olink);
    } else {
        start_msg(m); /* unordered */
        return;
    }
    if (rc < 0) {
        sw_log_error(NULL, "out of memory; stopping");
        w->fatal = 1;
        return;
    }
    if (rc == 1) {
        m->gated = 1;
        start_msg(m);
    }
    /* rc 0: it waits behind its key; release_key starts it. */
}

/* ---- transactions ---- */

static int txn_error(struct sw_worker *w, const char *what, rd_kafka_error_t *e)
{
    if (!e) {
        return 0;
    }
    sw_log_error(NULL, "transaction %s: %s", what, rd_kafka_error_string(e));
    if (rd_kafka_error_txn_requires_abort(e)) {
        rd_kafka_error_t *a = rd_kafka_abort_transaction(w->producer, 30000);

        if (a) {
            rd_kafka_error_destroy(a);
        }
        w->txn_open = 0;
    }
    /* Whatever the transaction held is invisible to read_committed readers and its offsets
     * were not committed: a restart redoes exactly those jobs. Stop rather than guess. */
    w->fatal = 1;
    rd_kafka_error_destroy(e);
    return -1;
}

/* Commit the open transaction with the consumed offsets of every finished job (whose held
 * results txn_release put into it), then open the next one. */
static void txn_commit(struct sw_worker *w)
{
    rd_kafka_topic_partition_list_t *off;
    rd_kafka_error_t *e;
    size_t i;

    if (!w->transactional || !w->txn_open || w->fatal || !w->txn_dirty) {
        return;
    }
    off = rd_kafka_topic_partition_list_new((int)w->offsets.n + 1);
    for (i = 0; i < w->offsets.n; i++) {
        const struct sw_partition_ledger *l = &w->offsets.v[i];

        if (l->committable >= 0) {
            rd_kafka_topic_partition_list_add(off, l->topic, l->partition)->offset = l->committable;
        }
    }
    if (off->cnt) {
        rd_kafka_consumer_group_metadata_t *gm = rd_kafka_consumer_group_metadata(w->consumer);

        e = rd_kafka_send_offsets_to_transaction(w->producer, off, gm, 30000);
        rd_kafka_consumer_group_metadata_destroy(gm);
        if (txn_error(w, "send offsets", e)) {
            rd_kafka_topic_partition_list_destroy(off);
            return;
        }
    }
    rd_kafka_topic_partition_list_destroy(off);
    if (txn_error(w, "commit", rd_kafka_commit_transaction(w->producer, 30000))) {
        return;
    }
    w->txn_open = 0;
    w->txn_dirty = 0;
    if (txn_error(w, "begin", rd_kafka_begin_transaction(w->producer)) == 0) {
        w->txn_open = 1;
    }
}

/* ---- rebalance ---- */

static int in_list(const rd_kafka_topic_partition_list_t *parts, const struct sw_msg *m)
{
    int i;

    for (i = 0; i < parts->cnt; i++) {
        if (parts->elems[i].partition == m->partition && !strcmp(parts->elems[i].topic, m->topic)) {
            return 1;
        }
    }
    return 0;
}

static int any_running(const struct sw_worker *w, const rd_kafka_topic_partition_list_t *parts)
{
    const struct sw_msg *m;

    for (m = w->msgs; m; m = m->next) {
        if (!m->orphan && in_list(parts, m)) {
            return 1;
        }
    }
    return 0;
}

static void drain_pipe(int fd);

/* Partitions are leaving. Their jobs — running or waiting behind a key — get
 * rebalance.drain_ms to finish, so the commit covers them all: dropping a waiting job would hold
 * the committed offset below later jobs that did finish, and the next owner would redo those.
 * No new messages arrive meanwhile (this runs inside the rebalance callback). Whatever is left at
 * the deadline is abandoned to the next owner. So a partition's jobs never run on two workers at
 * once unless one outlives the drain, and nothing is committed past unfinished work. */
static void revoke_partitions(struct sw_worker *w, const rd_kafka_topic_partition_list_t *parts,
                              int lost)
{
    struct sw_msg *m, *next;
    struct sw_msg **pp;
    int64_t deadline = sw_now_mono_ms() + w->cfg->rebalance_drain_ms;
    int i;

    for (i = 0; i < parts->cnt; i++) {
        struct sw_partition_ledger *l =
            sw_offsets_get(&w->offsets, parts->elems[i].topic, parts->elems[i].partition, 0);

        if (l) {
            l->revoking = 1;
        }
    }
    if (lost && w->transactional) {
        /* The open transaction may hold results of the lost partitions without their offsets,
         * and this member is fenced anyway: abort and restart clean. */
        rd_kafka_error_t *e = w->txn_open ? rd_kafka_abort_transaction(w->producer, 30000) : NULL;

        sw_log_error(NULL, "partitions lost during a transaction; aborted it, stopping");
        if (e) {
            rd_kafka_error_destroy(e);
        }
        w->txn_open = 0;
        w->fatal = 1;
    }
    while (!lost && !w->closing && !w->fatal && any_running(w, parts) &&
           sw_now_mono_ms() < deadline) {
        sw_loop_turn(&w->loop, &w->wfd, 1, 50);
        drain_pipe(w->pipefd[0]);
        rd_kafka_poll(w->producer, 0);
        start_ready(w);
    }
    for (pp = &w->ready; *pp;) {
        if (in_list(parts, *pp)) {
            *pp = (*pp)->ready_next;
        } else {
            w->ready_tail = *pp;
            pp = &(*pp)->ready_next;
        }
    }
    if (!w->ready) {
        w->ready_tail = NULL;
    }
    for (m = w->msgs; m; m = next) {
        next = m->next;
        if (!in_list(parts, m) || m->orphan) {
            continue;
        }
        if (m->started) {
            sw_exec_abort(&w->loop.eng, m);
        }
        m->orphan = 1;
        m->final_emitted = 1;
        if (m->pending == 0) {
            w->in_flight--;
            msg_free(m);
        }
    }
    if (!lost && !w->fatal) {
        if (w->transactional) {
            txn_commit(w);
        } else {
            rd_kafka_resp_err_t ce = rd_kafka_commit(w->consumer, NULL, 0);

            if (ce && ce != RD_KAFKA_RESP_ERR__NO_OFFSET) {
                sw_log_warn(NULL, "commit on revoke: %s", rd_kafka_err2str(ce));
            }
        }
    }
    for (i = 0; i < parts->cnt; i++) {
        sw_offsets_drop(&w->offsets, parts->elems[i].topic, parts->elems[i].partition);
    }
    w->share_dirty = 1;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct sw_worker *w = opaque;
    int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    int i;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (i = 0; i < parts->cnt; i++) {
            struct sw_partition_ledger *l =
                sw_offsets_get(&w->offsets, parts->elems[i].topic, parts->elems[i].partition, 1);

            if (l) {
                l->eff_paused = w->paused || w->draining;
            }
        }
        sw_log_info(NULL, "assigned %d partition(s)", parts->cnt);
        sw_metrics_set_joined(w->metrics, 1);
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);

            if (e) {
                sw_log_error(NULL, "incremental assign: %s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        } else {
            rd_kafka_assign(rk, parts);
        }
        if (w->paused || w->draining) {
            rd_kafka_pause_partitions(rk, parts);
        }
        w->share_dirty = 1;
        return;
    }
    sw_log_info(NULL, "%s %d partition(s)", rd_kafka_assignment_lost(rk) ? "lost" : "revoking",
                parts->cnt);
    if (rd_kafka_assignment_lost(rk)) {
        sw_metrics_set_joined(w->metrics, 0); /* out of the group until the next assignment */
    }
    revoke_partitions(w, parts, rd_kafka_assignment_lost(rk));
    if (coop) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);

        if (e) {
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug. */
    enum sw_log_level lvl = level <= 3   ? SW_LOG_ERROR
                            : level == 4 ? SW_LOG_WARN
                            : level <= 6 ? SW_LOG_INFO
                                         : SW_LOG_DEBUG;

    if (sw_log_enabled(lvl)) {
        sw_log_write(lvl, NULL, "kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sw_worker *w = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];

        rd_kafka_fatal_error(rk, buf, sizeof(buf));
        sw_log_error(NULL, "fatal Kafka error: %s", buf);
        w->fatal = 1;
        sw_metrics_set_producer_ok(w->metrics, 0);
        return;
    }
    /* Everything else (broker down, transport errors) librdkafka retries by itself. */
    sw_log_warn(NULL, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    struct sw_worker *w = opaque;

    sw_metrics_committed(w->metrics, offsets); /* per-partition errors are skipped there */
}

/* ---- setup ---- */

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        sw_log_error(NULL, "kafka property %s: %s", k, err);
        return -1;
    }
    return 0;
}

static rd_kafka_conf_t *base_conf(struct sw_worker *w, int scope)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    size_t i;

    if (conf_set(conf, "bootstrap.servers", w->cfg->brokers) ||
        conf_set(conf, "client.id", "segworker")) {
        goto fail;
    }
    if (scope == 1) {
        /* Transactions carry the offsets themselves; otherwise stored offsets (only ever past
         * delivered results) are auto-committed. */
        if (conf_set(conf, "group.id", w->cfg->group) ||
            conf_set(conf, "enable.auto.offset.store", "false") ||
            conf_set(conf, "enable.auto.commit", w->transactional ? "false" : "true") ||
            conf_set(conf, "isolation.level", "read_committed") ||
            conf_set(conf, "auto.commit.interval.ms", "1000") ||
            conf_set(conf, "auto.offset.reset", "earliest") ||
            conf_set(conf, "partition.assignment.strategy", "cooperative-sticky") ||
            conf_set(conf, "queued.max.messages.kbytes", "16384")) {
            goto fail;
        }
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    } else {
        /* 64 MiB of unacknowledged results at most: past it produce() waits (backpressure). */
        if (conf_set(conf, "enable.idempotence", "true") || conf_set(conf, "linger.ms", "5") ||
            conf_set(conf, "queue.buffering.max.kbytes", "65536")) {
            goto fail;
        }
        if (w->transactional && conf_set(conf, "transactional.id", w->txn_id)) {
            goto fail;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    }
    for (i = 0; i < w->cfg->nkafka; i++) {
        if (w->cfg->kafka[i].scope && w->cfg->kafka[i].scope != scope) {
            continue;
        }
        if (conf_set(conf, w->cfg->kafka[i].key, w->cfg->kafka[i].value)) {
            goto fail;
        }
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, w);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Whether a topic exists, by a metadata request that does not auto-create it. */
static int topic_exists(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err =
        rkt ? rd_kafka_metadata(rk, 0, rkt, &md, 5000) : RD_KAFKA_RESP_ERR__NOENT;
    int ok = 0;

    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ok = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
             md->topics[0].partition_cnt > 0;
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    }
    if (!ok) {
        sw_log_debug(NULL, "metadata of %s: %s", topic, rd_kafka_err2str(err));
    }
    if (md) {
        rd_kafka_metadata_destroy(md);
    }
    if (rkt) {
        rd_kafka_topic_destroy(rkt);
    }
    return ok;
}

/* A topic created just before the worker started may not be in the broker's metadata yet:
 * look again a few times, then every 30 s from the main loop. */
static void check_retry_topic(struct sw_worker *w)
{
    int tries = w->retry_next_check_ms ? 1 : 5;

    while (!w->retry_ok && tries-- > 0) {
        w->retry_ok = topic_exists(w->consumer, w->cfg->retry_topic);
        if (!w->retry_ok && tries > 0) {
            usleep(200 * 1000); /* startup only: nothing runs yet */
        }
    }
    if (!w->retry_ok && !w->retry_next_check_ms) {
        sw_log_warn(NULL,
                    "retry topic %s does not exist: long retry waits stay in memory until it "
                    "does",
                    w->cfg->retry_topic);
    } else if (w->retry_ok && w->retry_next_check_ms) {
        sw_log_info(NULL, "retry topic %s now exists: long waits park there", w->cfg->retry_topic);
    }
    w->retry_next_check_ms = sw_now_mono_ms() + 30000;
}

static int setup(struct sw_worker *w)
{
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *topics;
    char err[512];
    rd_kafka_resp_err_t e;

    if (pipe(w->pipefd) != 0) {
        return -1;
    }
    fcntl(w->pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(w->pipefd[1], F_SETFL, O_NONBLOCK);
    conf = base_conf(w, 2);
    if (!conf) {
        return -1;
    }
    w->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!w->producer) {
        rd_kafka_conf_destroy(conf);
        sw_log_error(NULL, "producer: %s", err);
        return -1;
    }
    conf = base_conf(w, 1);
    if (!conf) {
        return -1;
    }
    w->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!w->consumer) {
        rd_kafka_conf_destroy(conf);
        sw_log_error(NULL, "consumer: %s", err);
        return -1;
    }
    rd_kafka_poll_set_consumer(w->consumer);
    w->cq = rd_kafka_queue_get_consumer(w->consumer);
    w->pq = rd_kafka_queue_get_main(w->producer);
    rd_kafka_queue_io_event_enable(w->cq, w->pipefd[1], "1", 1);
    rd_kafka_queue_io_event_enable(w->pq, w->pipefd[1], "1", 1);
    if (w->transactional) {
        rd_kafka_error_t *te = rd_kafka_init_transactions(w->producer, 60000);

        /* init also fences a previous instance with the same transactional.id and aborts
         * what it left open, so read_committed readers are not held up by a crashed worker. */
        if (!te) {
            te = rd_kafka_begin_transaction(w->producer);
        }
        if (te) {
            sw_log_error(NULL, "transactions (transactional.id %s): %s", w->txn_id,
                         rd_kafka_error_string(te));
            rd_kafka_error_destroy(te);
            return -1;
        }
        w->txn_open = 1;
    }
    w->jobs_rkt = rd_kafka_topic_new(w->consumer, w->cfg->jobs_topic, NULL);
    topics = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(topics, w->cfg->jobs_topic, RD_KAFKA_PARTITION_UA);
    if (w->cfg->retry_topic[0] && strcmp(w->cfg->retry_topic, w->cfg->jobs_topic)) {
        /* Subscribed even when missing (it is picked up once created); jobs are only parked
         * once it is known to exist. */
        rd_kafka_topic_partition_list_add(topics, w->cfg->retry_topic, RD_KAFKA_PARTITION_UA);
        check_retry_topic(w);
    }
    e = rd_kafka_subscribe(w->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        sw_log_error(NULL, "subscribe to %s: %s", w->cfg->jobs_topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int sw_worker_check_config(const struct sw_config *cfg)
{
    struct sw_worker w;
    rd_kafka_conf_t *c;
    rd_kafka_conf_t *p;
    int rc;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    c = base_conf(&w, 1);
    p = c ? base_conf(&w, 2) : NULL; /* one report of a bad property is enough */
    rc = c && p ? 0 : -1;
    if (c) {
        rd_kafka_conf_destroy(c);
    }
    if (p) {
        rd_kafka_conf_destroy(p);
    }
    return rc;
}

static void drain_pipe(int fd)
{
    char buf[256];

    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

static void poll_kafka(struct sw_worker *w)
{
    rd_kafka_message_t *rkm;
    int n = 0;

    start_ready(w);
    /* Acknowledgements first: they free window slots for the messages polled below. */
    rd_kafka_poll(w->producer, 0);
    /* Bounded per turn so HTTP completions keep flowing under a flood of jobs; while the window
     * is full (and not yet paused) messages stay in librdkafka's queue. */
    while (n++ < 1000 && !w->fatal &&
           (w->paused ||
            (w->in_flight < (long)w->cfg->max_in_flight && w->txn_buffered <= TXN_BUFFER_MAX)) &&
           (rkm = rd_kafka_consumer_poll(w->consumer, 0)) != NULL) {
        if (rkm->err) {
            /* Informational (end of partition, transient broker trouble) unless fatal, which
             * the error callback handles. */
            if (rkm->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && !w->retry_ok) {
                sw_log_debug(NULL, "consumer: %s", rd_kafka_message_errstr(rkm)); /* warned */
            } else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                sw_log_warn(NULL, "consumer: %s", rd_kafka_message_errstr(rkm));
            }
        } else {
            handle_message(w, rkm);
        }
        rd_kafka_message_destroy(rkm);
    }
    start_ready(w);
    rd_kafka_poll(w->producer, 0);
}

/* Each worker applies the share of every rate limit that matches the share of the jobs topic's
 * partitions it owns (at least one partition's worth). */
static void update_share(struct sw_worker *w)
{
    const struct rd_kafka_metadata *md = NULL;
    size_t i;
    int owned = 0;

    w->share_dirty = 0;
    for (i = 0; i < w->offsets.n; i++) {
        owned += !strcmp(w->offsets.v[i].topic, w->cfg->jobs_topic);
    }
    if (rd_kafka_metadata(w->consumer, 0, w->jobs_rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && md->topics[0].partition_cnt > 0) {
        int total = md->topics[0].partition_cnt;
        double share = (double)(owned > 0 ? owned : 1) / (double)total;

        sw_rl_set_share(&w->loop.rl, share > 1.0 ? 1.0 : share);
        sw_log_info(NULL, "rate-limit share %d/%d of %s's partitions", owned, total,
                    w->cfg->jobs_topic);
    } else {
        w->share_dirty = 1; /* try again on a later turn */
    }
    if (md) {
        rd_kafka_metadata_destroy(md);
    }
}

static void txn_id_default(struct sw_worker *w)
{
    char host[128] = "host";

    if (w->cfg->transactional_id && w->cfg->transactional_id[0]) {
        snprintf(w->txn_id, sizeof(w->txn_id), "%s", w->cfg->transactional_id);
        return;
    }
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(w->txn_id, sizeof(w->txn_id), "%s-%s", w->cfg->group, host);
}

/* Assigned partitions paused right now (own window, global window or drain), for the metrics. */
static int paused_partitions(const struct sw_worker *w)
{
    size_t i;
    int n = 0;

    for (i = 0; i < w->offsets.n; i++) {
        n += w->offsets.v[i].eff_paused != 0;
    }
    return n;
}

/* SIGHUP: swap the account store between turns; a bad file keeps the current one. */
static void reload_accounts(struct sw_worker *w)
{
    struct sw_status st;

    sw_status_clear(&st);
    if (sw_loop_reload_accounts(&w->loop, w->cfg->accounts, &st) != 0) {
        sw_log_error(NULL, "account store reload failed, keeping the current store: %s", st.msg);
        sw_metrics_accounts_reload(w->metrics, 0);
        return;
    }
    sw_log_info(NULL, "account store reloaded from %s (%zu account(s))", w->cfg->accounts,
                w->loop.eng.accounts->n);
    sw_metrics_accounts_reload(w->metrics, 1);
}

/* Metrics, health, and the admin listener (http_addr). 0 when none is configured. */
static int admin_start(struct sw_worker *w, const struct sw_registry *reg)
{
    struct sw_status st;

    w->metrics = sw_metrics_create(reg);
    w->loop.eng.metrics = w->metrics;
    if (!w->metrics) {
        return -1;
    }
    if (!w->cfg->http_addr[0]) {
        return 0;
    }
    sw_status_clear(&st);
    w->admin = sw_admin_start(w->cfg->http_addr, w->metrics, w->cfg->health_max_stall_ms, &st);
    if (!w->admin) {
        sw_log_error(NULL, "%s", st.msg);
        return -1;
    }
    sw_log_info(NULL, "admin endpoints /metrics /healthz /readyz on %s, port %d", w->cfg->http_addr,
                sw_admin_port(w->admin));
    return 0;
}

int sw_worker_run(const struct sw_config *cfg, const struct sw_registry *reg,
                  const struct sw_accounts *accounts, volatile sig_atomic_t *stop,
                  volatile sig_atomic_t *reload)
{
    struct sw_worker w;
    int64_t drain_deadline = 0;
    int64_t next_share_try = 0;
    int rc = 1;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    w.pipefd[0] = w.pipefd[1] = -1;
    w.transactional = !strcmp(cfg->delivery, "transactional");
    w.ordering = !strcmp(cfg->ordering, "none")        ? ORDER_NONE
                 : !strcmp(cfg->ordering, "partition") ? ORDER_PARTITION
                                                       : ORDER_KEY;
    txn_id_default(&w);
    sw_offsets_init(&w.offsets);
    sw_job_limits_from(cfg, &w.job_lim);
    if (sw_loop_init(&w.loop, cfg, reg, accounts, on_emit, &w) != 0 || admin_start(&w, reg) != 0 ||
        setup(&w) != 0) {
        goto out;
    }
    w.loop.eng.park = on_park;
    sw_log_info(NULL, "segworker %s consuming %s as group %s, results to %s (%s, ordering %s)",
                SW_VERSION, cfg->jobs_topic, cfg->group, cfg->results_topic, cfg->delivery,
                cfg->ordering);
    w.wfd.fd = w.pipefd[0];
    w.wfd.events = CURL_WAIT_POLLIN;
    w.wfd.revents = 0;
    w.txn_next_ms = sw_now_mono_ms() + cfg->transaction_commit_ms;
    for (;;) {
        int64_t now;

        if (*stop && !w.draining) {
            w.draining = 1;
            apply_pause_all(&w);
            drain_deadline = sw_now_mono_ms() + cfg->shutdown_grace_ms;
            sw_log_info(NULL, "draining: %ld job(s) in flight, grace %lld ms", w.in_flight,
                        cfg->shutdown_grace_ms);
            sw_metrics_set_draining(w.metrics, 1);
        }
        if (reload && *reload) {
            *reload = 0;
            reload_accounts(&w);
        }
        if (w.fatal) {
            break;
        }
        if (w.draining && (w.in_flight == 0 || sw_now_mono_ms() >= drain_deadline)) {
            break;
        }
        /* 100 ms bounds the latency of any wakeup the io-event pipe might miss. */
        sw_loop_turn(&w.loop, &w.wfd, 1, w.transactional ? 20 : 100);
        drain_pipe(w.pipefd[0]);
        check_window(&w, NULL); /* the one-second pause deadline */
        poll_kafka(&w);
        now = sw_now_mono_ms();
        if (w.transactional && now >= w.txn_next_ms) {
            txn_commit(&w);
            w.txn_next_ms = now + cfg->transaction_commit_ms;
        }
        if (!w.retry_ok && w.cfg->retry_topic[0] && now >= w.retry_next_check_ms) {
            check_retry_topic(&w);
        }
        if (w.share_dirty && now >= next_share_try) {
            update_share(&w);
            next_share_try = now + 1000;
        }
        sw_metrics_loop_turned(w.metrics, sw_now_mono_ms());
        sw_metrics_kafka_tick(w.metrics, w.consumer, w.in_flight, paused_partitions(&w),
                              sw_now_mono_ms());
    }
    if (w.in_flight && !w.fatal) {
        sw_log_warn(NULL,
                    "grace period over: %ld job(s) abandoned uncommitted (they will be "
                    "redelivered)",
                    w.in_flight);
    }
    /* Results already produced still count: wait for their acknowledgements, which store the
     * offsets, then commit synchronously. */
    sw_exec_abort_all(&w.loop.eng);
    w.closing = 1;
    if (w.transactional) {
        txn_commit(&w);
        if (w.txn_open && !w.fatal) {
            rd_kafka_error_t *e = rd_kafka_abort_transaction(w.producer, 30000);

            if (e) {
                rd_kafka_error_destroy(e);
            }
        }
    } else {
        rd_kafka_flush(w.producer, 10000);
        rd_kafka_poll(w.producer, 0);
        if (!w.fatal) {
            rd_kafka_commit(w.consumer, NULL, 0);
        }
    }
    rc = w.fatal ? 1 : 0;
    sw_log_info(NULL,
                "stopped: consumed %llu, results %llu, dead letters %llu, parked %llu, "
                "re-fetched and skipped %llu",
                w.consumed, w.results, w.dead_letters, w.parked, w.rewound);
out:
    if (w.cq) {
        rd_kafka_queue_io_event_enable(w.cq, -1, NULL, 0);
        rd_kafka_queue_destroy(w.cq);
    }
    if (w.pq) {
        rd_kafka_queue_io_event_enable(w.pq, -1, NULL, 0);
        rd_kafka_queue_destroy(w.pq);
    }
    if (w.jobs_rkt) {
        rd_kafka_topic_destroy(w.jobs_rkt);
    }
    if (w.consumer) {
        rd_kafka_consumer_close(w.consumer);
        rd_kafka_destroy(w.consumer);
    }
    if (w.producer) {
        rd_kafka_destroy(w.producer);
    }
    sw_admin_stop(w.admin); /* before the registry it reads */
    sw_exec_abort_all(&w.loop.eng);
    while (w.msgs) {
        msg_free(w.msgs); /* before the timer heap goes: held jobs are on it */
    }
    sw_loop_free(&w.loop);
    sw_metrics_destroy(w.metrics);
    sw_offsets_free(&w.offsets);
    if (w.pipefd[0] >= 0) {
        close(w.pipefd[0]);
        close(w.pipefd[1]);
    }
    return rc;
}
