/* Consumed messages (see sw_worker_int.h): each is tracked in its partition's ledger from the
 * moment it is polled, parsed into a job (or answered as a rejected one), admitted through the
 * per-key gate, started on the engine, and completed once its last output is acknowledged, which
 * is what lets its offset be committed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_parked.h"
#include "sw_time.h"
#include "sw_worker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_msg_free(struct sw_msg *m)
{
    if (!m) {
        return;
    }
    sw_out_free(m->out);
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

struct sw_partition_ledger *sw_msg_ledger(struct sw_worker *w, const struct sw_msg *m)
{
    return m->orphan ? NULL : sw_offsets_get(&w->offsets, m->topic, m->partition, 0);
}

static void store_offset(struct sw_worker *w, struct sw_partition_ledger *l)
{
    rd_kafka_topic_partition_list_t *off = rd_kafka_topic_partition_list_new(1);

    /* l->committable is already "last done + 1", the position the group resumes from. */
    rd_kafka_topic_partition_list_add(off, l->topic, l->partition)->offset = l->committable;
    if (rd_kafka_offsets_store(w->consumer, off) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        sw_log_debug(NULL, "offset store for %s [%d] refused (partition revoked)", l->topic,
                     (int)l->partition);
    }
    rd_kafka_topic_partition_list_destroy(off);
}

void sw_msg_complete(struct sw_worker *w, struct sw_msg *m)
{
    struct sw_partition_ledger *l = sw_msg_ledger(w, m);

    if (m->delivery_failed) {
        /* A result the broker never acknowledged: committing past it would lose the job. Stop;
         * a restart redelivers it. */
        sw_log_error(NULL,
                     "a result for %s [%d] offset %lld was not delivered; stopping without "
                     "committing it",
                     m->topic, (int)m->partition, (long long)m->offset);
        atomic_store(&w->fatal, 1);
    } else if (w->transactional) {
        /* Held until the offset is committable: sw_txn_release publishes and frees it. */
        m->done = 1;
        if (l && sw_ledger_done(l, m->offset) == 1) {
            w->txn_dirty = 1;
            sw_txn_release(w, l);
            sw_window_check(w, l);
        } else if (!l) {
            w->in_flight--;
            sw_msg_free(m);
        }
        return;
    } else if (l && sw_ledger_done(l, m->offset) == 1) {
        store_offset(w, l);
    }
    w->in_flight--;
    sw_msg_free(m);
    sw_window_check(w, l);
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
    l = sw_msg_ledger(w, m);
    if (!l) {
        return;
    }
    next = sw_order_release(&l->order, w->ordering == SW_ORDER_KEY ? m->key : NULL,
                            w->ordering == SW_ORDER_KEY ? m->key_len : 0);
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

void sw_msg_final(struct sw_worker *w, struct sw_msg *m)
{
    m->final_emitted = 1;
    release_key(w, m);
    if (m->pending == 0) {
        sw_msg_complete(w, m);
    }
}

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
    sw_exec_start(&w->loop.eng, job, m, m->received_wall_us, 0);
}

void sw_intake_start_ready(struct sw_worker *w)
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

/* A header's last value (value NULL when absent). */
static struct sw_parked_hdr header(rd_kafka_headers_t *hdrs, const char *name)
{
    struct sw_parked_hdr h = {NULL, 0};

    if (hdrs && rd_kafka_header_get_last(hdrs, name, &h.value, &h.len)) {
        h.value = NULL;
    }
    return h;
}

/* A message back from the retry topic: its headers, validated. SW_E_OK and *pk, or why not. */
static sw_err_t parked_headers(struct sw_worker *w, struct sw_msg *m, rd_kafka_headers_t *hdrs,
                               struct sw_parked *pk, struct sw_status *st)
{
    struct sw_parked_hdr nb = header(hdrs, SW_PARKED_NOT_BEFORE);
    struct sw_parked_hdr at = header(hdrs, SW_PARKED_ATTEMPTS);
    struct sw_parked_hdr rc = header(hdrs, SW_PARKED_RECEIVED);
    sw_err_t err =
        sw_parked_parse(&nb, &at, &rc, sw_now_wall_ms(), w->cfg->retry_max_park_ms, pk, st);

    if (err == SW_E_OK && pk->clamped) {
        sw_log_warn(NULL,
                    "%s [%d] offset %lld: %s is further ahead than retry.max_park_ms; "
                    "held to it",
                    m->topic, (int)m->partition, (long long)m->offset, SW_PARKED_NOT_BEFORE);
    }
    return err;
}

/* A tracked copy of the message; NULL when memory ran out (then the worker stops). */
static struct sw_msg *track(struct sw_worker *w, struct sw_partition_ledger *l,
                            const rd_kafka_message_t *rkm)
{
    struct sw_msg *m = calloc(1, sizeof(*m));

    if (!m) {
        return NULL;
    }
    m->w = w;
    for (int k = 0; k < SW_OUT__COUNT; k++) {
        m->tag[k] = (unsigned char)k;
    }
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
    m->received_wall_us = sw_now_wall_us();
    m->received_wall_ms = m->received_wall_us / 1000;
    if (rkm->key_len) {
        m->key = malloc(rkm->key_len);
        if (m->key) {
            memcpy(m->key, rkm->key, rkm->key_len);
            m->key_len = rkm->key_len;
        }
    }
    m->raw = malloc(rkm->len + 1);
    if (!m->topic || !m->raw || (rkm->key_len && !m->key) || sw_ledger_track(l, m->offset)) {
        sw_msg_free(m);
        return NULL;
    }
    if (rkm->len) {
        memcpy(m->raw, rkm->payload, rkm->len);
    }
    m->raw[rkm->len] = '\0';
    m->raw_len = rkm->len;
    return m;
}

/* The job, or a rejection answered right away. Returns the job to admit, or NULL. */
static struct sw_job *parse(struct sw_worker *w, struct sw_msg *m, const struct sw_parked *pk,
                            const struct sw_status *pk_err)
{
    struct sw_job *job = NULL;
    struct sw_status st;

    sw_status_clear(&st);
    if (sw_job_parse(m->raw, m->raw_len, &w->job_lim, &job, &st) != SW_E_OK || pk_err) {
        if (job && pk_err) {
            st = *pk_err; /* a job, but headers that cannot be trusted: not run, dead-lettered */
        }
        m->started = 1;
        sw_exec_reject(&w->loop.eng, job, &st, m, m->received_wall_us);
        return NULL;
    }
    job->traceparent = m->traceparent ? strdup(m->traceparent) : NULL; /* for its requests */
    if (job->reply_to) {
        if (!reply_allowed(w->cfg, job->reply_to)) {
            sw_status_set(&st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                          "reply_to \"%s\" is not an allowed topic (topics.reply_allowed)",
                          job->reply_to);
            m->started = 1;
            sw_exec_reject(&w->loop.eng, job, &st, m, m->received_wall_us);
            return NULL;
        }
        snprintf(m->reply_buf, sizeof(m->reply_buf), "%s", job->reply_to);
        m->reply_topic = m->reply_buf;
    }
    if (pk) {
        job->prior_attempts = pk->attempts;
    }
    return job;
}

/* Through the per-key gate: start now, or wait behind the key's running job. */
static void admit(struct sw_worker *w, struct sw_partition_ledger *l, struct sw_msg *m)
{
    int rc;

    if (w->ordering == SW_ORDER_PARTITION) {
        rc = sw_order_admit(&l->order, NULL, 0, &m->olink);
    } else if (w->ordering == SW_ORDER_KEY && m->key_len) {
        rc = sw_order_admit(&l->order, m->key, m->key_len, &m->olink);
    } else {
        start_msg(m); /* unordered */
        return;
    }
    if (rc < 0) {
        sw_log_error(NULL, "out of memory; stopping");
        atomic_store(&w->fatal, 1);
        return;
    }
    if (rc == 1) {
        m->gated = 1;
        start_msg(m);
    }
    /* rc 0: it waits behind its key; release_key starts it. */
}

static void handle_message(struct sw_worker *w, rd_kafka_message_t *rkm)
{
    struct sw_partition_ledger *l;
    struct sw_msg *m;
    rd_kafka_headers_t *hdrs = NULL;
    const void *tp = NULL;
    size_t tplen = 0;
    int from_retry, pk_bad = 0;
    struct sw_parked pk;
    struct sw_status pk_st;

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
    m = l ? track(w, l, rkm) : NULL;
    if (!m) {
        sw_log_error(NULL, "out of memory; stopping");
        atomic_store(&w->fatal, 1);
        return;
    }
    l->next_offset = rkm->offset + 1;
    if (rd_kafka_message_headers(rkm, &hdrs)) {
        hdrs = NULL;
    }
    if (hdrs && !rd_kafka_header_get_last(hdrs, "traceparent", &tp, &tplen) && tp && tplen < 256) {
        m->traceparent = strndup(tp, tplen);
    }
    from_retry = w->cfg->retry_topic[0] && !strcmp(m->topic, w->cfg->retry_topic);
    sw_status_clear(&pk_st);
    if (from_retry) {
        pk_bad = parked_headers(w, m, hdrs, &pk, &pk_st) != SW_E_OK;
        if (!pk_bad) {
            m->not_before_wall_ms = pk.not_before_wall_ms;
            m->received_wall_ms = pk.received_wall_ms;
            if (m->received_wall_ms != m->received_wall_us / 1000) {
                m->received_wall_us = m->received_wall_ms * 1000; /* the first reading's time */
            }
        }
    }
    w->in_flight++;
    w->consumed++;
    sw_window_check(w, l);
    m->job = parse(w, m, from_retry && !pk_bad ? &pk : NULL, pk_bad ? &pk_st : NULL);
    if (m->job) {
        admit(w, l, m);
    }
}

void sw_intake_poll(struct sw_worker *w)
{
    rd_kafka_message_t *rkm;
    int n = 0;

    /* Bounded per turn so HTTP completions keep flowing under a flood of jobs; while the window
     * is full (and not yet paused) messages stay in librdkafka's queue. */
    while (n++ < 1000 && sw_window_open(w) &&
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
}
