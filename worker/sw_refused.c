/* Messages refused for a reason of their own (see sw_worker_int.h): a result, part, dead letter
 * or parked job too large for the topic (or librdkafka's message.max.bytes), or an invalid
 * record. Such a refusal concerns one job, so it must never stop the worker — a restart would
 * meet the same job and stop again, for ever. Instead:
 *
 *   - a result (or a parked job) becomes a small failed result_too_large naming the sizes, and
 *     the job goes to the DLQ; a list still running ends there;
 *   - a dead letter is sent again, cut to a quarter (and said so in segworker.truncated_from),
 *     then empty.
 *
 * The broker refuses a whole batch, so the messages librdkafka batched with a too-large one are
 * refused with it. Refusals are therefore judged together after each poll of the producer: the
 * largest refused message, when it is larger than anything the broker has acknowledged, is the
 * culprit; the others are sent again as they were. A message librdkafka refused when it was
 * produced is always the culprit. A job whose messages are refused REFUSALS_MAX times is the
 * culprit too; and when even its small replacement is refused, the topic, not the message, is
 * what is wrong: that stops the worker without committing the job.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_worker_int.h"

#include <stdio.h>
#include <string.h>

#define REFUSALS_MAX 4
/* The largest correlation a replacement result still carries: the size the topic refused is
 * not known, and a larger one may be what made the result too large. */
#define CORRELATION_KEPT 512

int sw_refused_own(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE || err == RD_KAFKA_RESP_ERR_INVALID_MSG ||
           err == RD_KAFKA_RESP_ERR_INVALID_RECORD;
}

static void keep(struct sw_worker *w, struct sw_out *o)
{
    *w->refused_tail = o;
    w->refused_tail = &o->next;
}

int sw_refused_keep(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind,
                    const rd_kafka_message_t *rkm)
{
    rd_kafka_headers_t *h = NULL;
    struct sw_out *o;

    if (rd_kafka_message_headers(rkm, &h)) {
        h = NULL;
    }
    o = sw_out_new(m, kind, rd_kafka_topic_name(rkm->rkt), rkm->key, rkm->key_len, rkm->payload,
                   rkm->len, h ? rd_kafka_headers_copy(h) : NULL);
    if (!o) {
        return -1;
    }
    o->err = rkm->err;
    keep(w, o);
    return 0;
}

void sw_refused_now(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind, const char *topic,
                    const void *key, size_t key_len, const char *value, size_t len,
                    rd_kafka_headers_t *hdrs, rd_kafka_resp_err_t err)
{
    /* Repaired on the next turn, never from inside the emitter that produced it. */
    struct sw_out *o = sw_out_new(m, kind, topic, key, key_len, value, len, hdrs);

    if (!o) {
        sw_log_error(NULL, "produce to %s failed: %s (and no memory to repair it)", topic,
                     rd_kafka_err2str(err));
        m->delivery_failed = 1;
        return;
    }
    o->err = err;
    o->alone = 1;
    m->pending++; /* until it is repaired, like a message waiting for its delivery report */
    keep(w, o);
}

/* The job's answer, now a failure: the run ends if it was still going (a list between parts),
 * and a failed final result and a dead letter replace what could not be published. When the
 * job's final result was already accepted (only a part was refused), it goes to the DLQ only:
 * a job has one final result. */
static void answer(struct sw_worker *w, struct sw_out *o)
{
    struct sw_msg *m = o->m;
    struct sw_job *job = NULL;
    struct sw_status st;

    sw_status_set(&st, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                  "a message of %zu bytes to %s was refused: %s", o->len + o->key_len, o->topic,
                  rd_kafka_err2str(o->err));
    m->repaired = 1;
    if (o->kind == SW_OUT_PART && m->final_emitted) {
        if (sw_publish_dlq(w, m, st.code, NULL, st.msg) != 0) {
            m->delivery_failed = 1;
        }
        return;
    }
    if (m->started && !m->final_emitted) {
        sw_exec_abort(&w->loop.eng, m);
    }
    /* The job itself was handed to the engine: read its identity again from the message. */
    {
        struct sw_status ignored;

        sw_status_clear(&ignored);
        sw_job_parse(m->raw, m->raw_len, &w->job_lim, &job, &ignored);
    }
    if (job && job->correlation_bytes > CORRELATION_KEPT) {
        /* Copied into the replacement, it could make that too large again. */
        job->correlation = NULL;
        job->correlation_bytes = 0;
    }
    sw_exec_reject(&w->loop.eng, job, &st, m, m->received_wall_us);
}

/* A dead letter sent again, cut to a quarter (empty when already small), saying from what
 * size. An empty one refused leaves nothing to cut. */
static void dlq_again(struct sw_worker *w, struct sw_out *o)
{
    size_t len = o->len >= 4096 ? o->len / 4 : 0;
    char num[32];

    if (o->len == 0) {
        sw_log_error(NULL, "an empty dead letter to %s was refused: %s", o->topic,
                     rd_kafka_err2str(o->err));
        o->m->delivery_failed = 1;
        return;
    }
    snprintf(num, sizeof(num), "%zu", o->m->raw_len);
    if (!o->hdrs) {
        o->hdrs = rd_kafka_headers_new(1);
    }
    rd_kafka_header_remove(o->hdrs, "segworker.truncated_from");
    rd_kafka_header_add(o->hdrs, "segworker.truncated_from", -1, num, -1);
    sw_log_warn(NULL, "a dead letter of %zu bytes to %s was refused (%s); sending it cut to %zu",
                o->len, o->topic, rd_kafka_err2str(o->err), len);
    if (sw_publish_now(w, o->m, SW_OUT_DLQ, o->topic, o->key, o->key_len, o->value, len, o->hdrs) !=
        0) {
        o->m->delivery_failed = 1;
    }
    o->hdrs = NULL;
}

/* Repair one refused message (the culprit). */
static void repair(struct sw_worker *w, struct sw_out *o)
{
    struct sw_msg *m = o->m;

    if (o->kind == SW_OUT_DLQ) {
        dlq_again(w, o);
    } else if (o->kind == SW_OUT_REPLACEMENT) {
        /* A small failed result refused: the topic is what is wrong. */
        sw_log_error(NULL, "a result of %zu bytes to %s was refused: %s", o->len, o->topic,
                     rd_kafka_err2str(o->err));
        m->delivery_failed = 1;
    } else if (!m->repaired) {
        answer(w, o);
    }
    /* else: the job was already answered with its failure; this message was part of what it
     * replaced. */
}

/* Send an innocent message again, as it was (batched with a culprit). */
static void resend(struct sw_worker *w, struct sw_out *o)
{
    if (sw_publish_now(w, o->m, o->kind, o->topic, o->key, o->key_len, o->value, o->len, o->hdrs) !=
        0) {
        o->m->delivery_failed = 1;
    }
    o->hdrs = NULL;
}

void sw_refused_settle(struct sw_worker *w)
{
    struct sw_out *list = w->refused;
    struct sw_out *o;
    size_t largest = 0;

    w->refused = NULL;
    w->refused_tail = &w->refused;
    for (o = list; o; o = o->next) {
        if (o->len + o->key_len > largest) {
            largest = o->len + o->key_len;
        }
    }
    while ((o = list) != NULL) {
        struct sw_msg *m = o->m;
        size_t size = o->len + o->key_len;

        list = o->next;
        o->next = NULL;
        if (!m->orphan) {
            m->refusals++;
            if (o->alone || (size == largest && size > w->acked_max) ||
                m->refusals >= REFUSALS_MAX) {
                repair(w, o);
            } else {
                resend(w, o);
            }
        }
        sw_out_free(o);
        /* The refused message is settled; what replaced it counts on its own. */
        if (--m->pending == 0 && m->final_emitted) {
            sw_msg_complete(w, m);
        }
    }
}
