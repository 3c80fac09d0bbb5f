/* Publishing (see sw_worker_int.h): result messages, dead letters and parked jobs go to Kafka
 * without the loop ever waiting. When librdkafka's queue is full the message waits in the
 * worker's backlog, in order, and is handed over as delivery reports make room; meanwhile intake
 * stops (sw_window.c) and lists wait before their next page (the engine's output_busy), so the
 * backlog stays bounded by the work already in flight.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_version.h"
#include "sw_worker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_out_free(struct sw_out *o)
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

struct sw_out *sw_out_new(struct sw_msg *m, enum sw_out_kind kind, const char *topic,
                          const void *key, size_t key_len, const char *value, size_t len,
                          rd_kafka_headers_t *hdrs)
{
    struct sw_out *o = calloc(1, sizeof(*o));

    if (o) {
        o->topic = strdup(topic);
        o->key = key_len ? malloc(key_len) : NULL;
        o->value = malloc(len ? len : 1);
    }
    if (!o || !o->topic || (key_len && !o->key) || !o->value) {
        sw_out_free(o);
        rd_kafka_headers_destroy(hdrs);
        return NULL;
    }
    if (key_len) {
        memcpy(o->key, key, key_len);
    }
    memcpy(o->value, value, len);
    o->m = m;
    o->kind = kind;
    o->key_len = key_len;
    o->len = len;
    o->hdrs = hdrs;
    return o;
}

/* Hand one message to librdkafka. The headers are consumed only on success. */
static rd_kafka_resp_err_t produce(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind,
                                   const char *topic, const void *key, size_t key_len,
                                   const char *value, size_t len, rd_kafka_headers_t *hdrs)
{
    /* F_COPY: the payload buffer belongs to the engine (or the backlog) and is freed right
     * after. In transactional mode the commit, not the acknowledgement, settles a message, so
     * it carries no job. */
    void *opaque = w->transactional || !m ? NULL : &m->tag[kind];

    return rd_kafka_producev(
        w->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, key_len),
        RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

/* A message librdkafka refused outright (not for lack of room, nor for its own sake). */
static void refused(struct sw_worker *w, struct sw_msg *m, const char *topic,
                    rd_kafka_resp_err_t err)
{
    sw_log_error(NULL, "produce to %s failed: %s", topic, rd_kafka_err2str(err));
    if (w->transactional) {
        atomic_store(&w->fatal, 1); /* the transaction must not commit this job's offset */
    } else if (m) {
        m->delivery_failed = 1;
    }
}

int sw_publish_now(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind, const char *topic,
                   const void *key, size_t key_len, const char *value, size_t len,
                   rd_kafka_headers_t *hdrs)
{
    struct sw_out *o;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__QUEUE_FULL;

    if (!w->backlog) {
        err = produce(w, m, kind, topic, key, key_len, value, len, hdrs);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (err && m && !w->transactional && sw_refused_own(err)) {
                sw_refused_now(w, m, kind, topic, key, key_len, value, len, hdrs, err);
                return 0;
            }
            if (err) {
                rd_kafka_headers_destroy(hdrs);
                refused(w, m, topic, err);
                return -1;
            }
            if (m && !w->transactional) {
                m->pending++;
            }
            w->txn_dirty = 1;
            return 0;
        }
    }
    /* No room: wait in the backlog, behind whatever already waits there (order per job). */
    o = sw_out_new(m, kind, topic, key, key_len, value, len, hdrs);
    if (!o) {
        sw_log_error(NULL, "out of memory keeping a result for the producer");
        refused(w, m, topic, RD_KAFKA_RESP_ERR__NOENT);
        return -1;
    }
    if (m && !w->transactional) {
        m->pending++; /* settled by its delivery report, like a produced one */
    }
    *w->backlog_tail = o;
    w->backlog_tail = &o->next;
    w->backlog_bytes += len + key_len;
    return 0;
}

void sw_publish_flush_backlog(struct sw_worker *w)
{
    if (!w->backlog) {
        return;
    }
    while (w->backlog) {
        struct sw_out *o = w->backlog;
        rd_kafka_resp_err_t err =
            produce(w, o->m, o->kind, o->topic, o->key, o->key_len, o->value, o->len, o->hdrs);

        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            return; /* the next delivery reports make room */
        }
        w->backlog = o->next;
        if (!w->backlog) {
            w->backlog_tail = &w->backlog;
        }
        w->backlog_bytes -= o->len + o->key_len;
        if (err) {
            if (o->m && !w->transactional && sw_refused_own(err)) {
                sw_refused_now(w, o->m, o->kind, o->topic, o->key, o->key_len, o->value, o->len,
                               o->hdrs, err);
                o->hdrs = NULL;
            } else {
                refused(w, o->m, o->topic, err);
            }
            if (o->m && !w->transactional && --o->m->pending == 0 && o->m->final_emitted) {
                sw_msg_complete(w, o->m);
            }
        } else {
            o->hdrs = NULL; /* consumed by librdkafka */
            w->txn_dirty = 1;
        }
        o->next = NULL;
        sw_out_free(o);
    }
    /* The backlog is empty now: lists waiting for the publisher go on. */
    sw_exec_output_ready(&w->loop.eng);
}

int sw_publish_busy(void *arg)
{
    const struct sw_worker *w = arg;

    return w->backlog != NULL;
}

void sw_publish_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct sw_worker *w = opaque;
    const unsigned char *tag = rkm->_private;
    struct sw_msg *m;

    (void)rk;
    if (!tag) {
        return; /* transactional: the commit settles it */
    }
    /* tag points at m->tag[kind], whose value is kind. */
    m = (struct sw_msg *)(void *)(tag - *tag - offsetof(struct sw_msg, tag));
    if (!rkm->err && rkm->len + rkm->key_len > w->acked_max) {
        w->acked_max = rkm->len + rkm->key_len;
    }
    if (rkm->err && sw_refused_own(rkm->err) &&
        sw_refused_keep(w, m, (enum sw_out_kind) * tag, rkm) == 0) {
        return; /* repaired after this poll (sw_refused_settle), still pending until then */
    }
    if (rkm->err) {
        sw_log_error(NULL, "delivery to %s failed: %s", rd_kafka_topic_name(rkm->rkt),
                     rd_kafka_err2str(rkm->err));
        m->delivery_failed = 1;
        sw_metrics_set_producer_ok(w->metrics, 0);
    }
    m->pending--;
    if (m->final_emitted && m->pending == 0) {
        sw_msg_complete(w, m);
    }
}

/* Publish (at-least-once), or hold until the job's offset is committable (transactional). */
static int publish(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind, const char *topic,
                   const void *key, size_t key_len, const char *value, size_t len,
                   rd_kafka_headers_t *hdrs)
{
    if (w->transactional) {
        return sw_txn_hold(w, m, topic, key, key_len, value, len, hdrs);
    }
    return sw_publish_now(w, m, kind, topic, key, key_len, value, len, hdrs);
}

static void add_num_header(rd_kafka_headers_t *h, const char *name, long long v)
{
    char num[32];

    snprintf(num, sizeof(num), "%lld", v);
    rd_kafka_header_add(h, name, -1, num, -1);
}

/* Where a message came from: what a dead letter and a parked job both carry. */
static void add_source_headers(rd_kafka_headers_t *h, const struct sw_msg *m)
{
    rd_kafka_header_add(h, "segworker.source.topic", -1, m->topic, -1);
    add_num_header(h, "segworker.source.partition", m->partition);
    add_num_header(h, "segworker.source.offset", m->offset);
}

/* Room kept in a dead letter for its headers and key, so the whole message stays under
 * limits.max_result_bytes. */
#define DLQ_RESERVE 4096

int sw_publish_dlq(struct sw_worker *w, struct sw_msg *m, sw_err_t code, const char *job_id,
                   const char *message)
{
    struct sw_log_ctx lc = {job_id, NULL, NULL, 0};
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    size_t len = m->raw_len;
    size_t max = (size_t)w->cfg->max_result_bytes;
    size_t cap = max > 2 * DLQ_RESERVE ? max - DLQ_RESERVE : max / 2;

    rd_kafka_header_add(h, "segworker.reason", -1, sw_err_name(code), -1);
    if (message) {
        rd_kafka_header_add(h, "segworker.error", -1, message, -1);
    }
    add_source_headers(h, m);
    rd_kafka_header_add(h, "segworker.version", -1, SW_VERSION, -1);
    if (job_id) {
        rd_kafka_header_add(h, "job_id", -1, job_id, -1);
    }
    if (len > cap) {
        /* An oversized job cannot be re-published whole; say so rather than cut silently. */
        add_num_header(h, "segworker.truncated_from", (long long)len);
        len = cap;
    }
    /* Once per dead letter: an operator looks here first. */
    sw_log_warn(&lc, "dead letter: %s: %s (from %s [%d] offset %lld)", sw_err_name(code),
                message ? message : sw_err_str(code), m->topic, (int)m->partition,
                (long long)m->offset);
    w->dead_letters++;
    sw_metrics_dead_letter(w->metrics, code);
    return publish(w, m, SW_OUT_DLQ, w->cfg->dlq_topic, m->key, m->key_len, m->raw, len, h);
}

int sw_publish_emit(void *arg, const struct sw_emit *em)
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
        enum sw_out_kind kind = m->repaired ? SW_OUT_REPLACEMENT
                                : em->last  ? SW_OUT_FINAL
                                            : SW_OUT_PART;

        rc = publish(w, m, kind, m->reply_topic, em->job_id, strlen(em->job_id), em->payload,
                     em->len, h);
        if (rc == 0) {
            w->results++;
        } else {
            m->delivery_failed = 1;
        }
    }
    if (!em->last) {
        return rc;
    }
    if (!em->succeeded && em->dead_letter &&
        sw_publish_dlq(w, m, em->code, em->job_id, em->message) != 0) {
        m->delivery_failed = 1;
    }
    if (m->delivery_failed && w->transactional) {
        atomic_store(&w->fatal, 1); /* the open transaction must not commit past it */
    }
    sw_msg_final(w, m);
    return rc;
}

/* Hand a job whose next try is far away to the retry topic (sw_park_fn). Parking would let
 * later jobs of the same key overtake it, so jobs holding a key (ordering key/partition) stay. */
int sw_publish_park(void *arg, void *user, int64_t not_before_wall_ms, int attempts)
{
    struct sw_worker *w = arg;
    struct sw_msg *m = user;
    rd_kafka_headers_t *h;

    if (!w->retry_ok || m->gated || w->draining) {
        return -1;
    }
    h = rd_kafka_headers_new(8);
    add_num_header(h, "segworker.not_before", (long long)not_before_wall_ms);
    add_num_header(h, "segworker.attempts", attempts);
    add_num_header(h, "segworker.received", (long long)m->received_wall_ms);
    add_source_headers(h, m);
    if (m->traceparent) {
        rd_kafka_header_add(h, "traceparent", -1, m->traceparent, -1);
    }
    if (publish(w, m, SW_OUT_PARK, w->cfg->retry_topic, m->key, m->key_len, m->raw, m->raw_len,
                h) != 0) {
        return -1;
    }
    w->parked++;
    /* The engine ends the run right after; the message completes when the park is
     * acknowledged, like a result. */
    sw_msg_final(w, m);
    return 0;
}
