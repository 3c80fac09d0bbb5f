/* Transactional delivery (delivery: transactional; see sw_worker_int.h). Results, dead letters,
 * parked jobs and consumed offsets are committed in one transaction every
 * transaction.commit_ms. A job's outputs are held until its offset becomes committable: a
 * transaction must never carry a result whose offset it does not also commit, or a crash would
 * redo the job and publish it twice.
 *
 * The transaction calls block for a broker round trip or more, so they run on the helper thread
 * (sw_bg.h). While one is in flight nothing is produced: jobs that finish meanwhile keep their
 * outputs held and are released once the next transaction is open.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_time.h"
#include "sw_worker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TXN_TIMEOUT_MS 30000

int sw_txn_hold(struct sw_worker *w, struct sw_msg *m, const char *topic, const void *key,
                size_t key_len, const char *value, size_t len, rd_kafka_headers_t *hdrs)
{
    /* No job pointer in the copy: it is published after the job is gone (sw_txn_release). */
    struct sw_out *o = sw_out_new(NULL, SW_OUT_PART, topic, key, key_len, value, len, hdrs);

    if (!o) {
        sw_log_error(NULL, "out of memory holding a result for its transaction");
        return -1;
    }
    if (!m->out_tail) {
        m->out_tail = &m->out;
    }
    *m->out_tail = o;
    m->out_tail = &o->next;
    m->out_bytes += len + key_len;
    w->txn_buffered += len + key_len;
    return 0;
}

static int txn_ready(const struct sw_worker *w)
{
    return w->txn_open && !w->txn.task.busy;
}

void sw_txn_release(struct sw_worker *w, struct sw_partition_ledger *l)
{
    struct sw_msg *m, *next;

    if (!txn_ready(w)) {
        w->txn_release_later = 1; /* the commit or init in flight decides first */
        return;
    }
    for (m = w->msgs; m; m = next) {
        next = m->next;
        if (!m->done || m->orphan || m->offset >= l->committable || m->partition != l->partition ||
            strcmp(m->topic, l->topic)) {
            continue;
        }
        while (m->out) {
            struct sw_out *o = m->out;

            m->out = o->next;
            /* No job pointer: in a transaction the commit settles it, and m goes right away. */
            sw_publish_now(w, NULL, o->kind, o->topic, o->key, o->key_len, o->value, o->len,
                           o->hdrs);
            o->hdrs = NULL; /* consumed (or destroyed) by sw_publish_now */
            o->next = NULL;
            sw_out_free(o);
        }
        m->out_tail = NULL;
        w->in_flight--;
        sw_msg_free(m);
    }
    w->txn_dirty = 1;
}

static void release_all(struct sw_worker *w)
{
    size_t i;

    w->txn_release_later = 0;
    for (i = 0; i < w->offsets.n; i++) {
        sw_txn_release(w, &w->offsets.v[i]);
    }
}

/* ---- on the helper thread ---- */

/* Record e (consumed) in t; abort the transaction when e requires it. 0 when there was none. */
static int txn_failed(struct sw_txn_task *t, const char *what, rd_kafka_error_t *e)
{
    if (!e) {
        return 0;
    }
    snprintf(t->err, sizeof(t->err), "transaction %s: %s", what, rd_kafka_error_string(e));
    if (rd_kafka_error_txn_requires_abort(e)) {
        rd_kafka_error_t *a = rd_kafka_abort_transaction(t->w->producer, TXN_TIMEOUT_MS);

        if (a) {
            rd_kafka_error_destroy(a);
        }
        t->open = 0;
    }
    rd_kafka_error_destroy(e);
    return -1;
}

static void txn_run(struct sw_bg_task *task)
{
    struct sw_txn_task *t = (struct sw_txn_task *)task;
    rd_kafka_t *p = t->w->producer;

    t->ok = 0;
    t->err[0] = '\0';
    if (t->init) {
        /* init also fences a previous instance with the same transactional.id and aborts what
         * it left open, so read_committed readers are not held up by a crashed worker. */
        t->open = 0;
        if (txn_failed(t, "init", rd_kafka_init_transactions(p, 2 * TXN_TIMEOUT_MS)) ||
            txn_failed(t, "begin", rd_kafka_begin_transaction(p))) {
            return;
        }
        t->open = 1;
        t->ok = 1;
        return;
    }
    if (t->offsets &&
        txn_failed(t, "send offsets",
                   rd_kafka_send_offsets_to_transaction(p, t->offsets, t->gm, TXN_TIMEOUT_MS))) {
        return;
    }
    if (txn_failed(t, "commit", rd_kafka_commit_transaction(p, TXN_TIMEOUT_MS))) {
        return;
    }
    t->open = 0;
    if (txn_failed(t, "begin", rd_kafka_begin_transaction(p))) {
        return;
    }
    t->open = 1;
    t->ok = 1;
}

/* ---- back on the loop thread ---- */

static void txn_done(struct sw_bg_task *task)
{
    struct sw_txn_task *t = (struct sw_txn_task *)task;
    struct sw_worker *w = t->w;

    if (t->offsets) {
        rd_kafka_topic_partition_list_destroy(t->offsets);
        t->offsets = NULL;
    }
    if (t->gm) {
        rd_kafka_consumer_group_metadata_destroy(t->gm);
        t->gm = NULL;
    }
    w->txn_open = t->open;
    if (!t->ok) {
        /* Whatever the transaction held is invisible to read_committed readers and its offsets
         * were not committed: a restart redoes exactly those jobs. Stop rather than guess. */
        sw_log_error(NULL, "%s (transactional.id %s)", t->err, w->txn_id);
        atomic_store(&w->fatal, 1);
        return;
    }
    if (w->txn_release_later) {
        release_all(w);
    }
}

int sw_txn_init(struct sw_worker *w)
{
    if (!w->transactional) {
        return 0;
    }
    w->txn.w = w;
    w->txn.init = 1;
    w->txn.task.run = txn_run;
    w->txn.task.done = txn_done;
    return sw_bg_submit(w->bg, &w->txn.task);
}

int sw_txn_tick(struct sw_worker *w, int force)
{
    rd_kafka_topic_partition_list_t *off;
    int64_t now = sw_now_mono_ms();
    size_t i;

    if (!w->transactional || w->txn.task.busy) {
        return w->transactional && w->txn.task.busy;
    }
    /* Outputs still waiting for room in the producer's queue are not in the transaction yet:
     * committing their offsets now could lose them. */
    if (!w->txn_open || atomic_load(&w->fatal) || !w->txn_dirty || w->backlog ||
        (!force && now < w->txn_next_ms)) {
        return 0;
    }
    w->txn_next_ms = now + w->cfg->transaction_commit_ms;
    off = rd_kafka_topic_partition_list_new((int)w->offsets.n + 1);
    for (i = 0; i < w->offsets.n; i++) {
        const struct sw_partition_ledger *l = &w->offsets.v[i];

        if (l->committable >= 0) {
            rd_kafka_topic_partition_list_add(off, l->topic, l->partition)->offset = l->committable;
        }
    }
    w->txn.init = 0;
    w->txn.offsets = off->cnt ? off : NULL;
    w->txn.gm = off->cnt ? rd_kafka_consumer_group_metadata(w->consumer) : NULL;
    if (!off->cnt) {
        rd_kafka_topic_partition_list_destroy(off);
    }
    w->txn_dirty = 0;
    if (sw_bg_submit(w->bg, &w->txn.task) != 0) {
        sw_log_error(NULL, "could not hand the transaction commit to the helper thread");
        atomic_store(&w->fatal, 1);
        return 0;
    }
    return 1;
}

void sw_txn_settle(struct sw_worker *w, int64_t deadline_ms)
{
    while (w->transactional && w->txn.task.busy && sw_now_mono_ms() < deadline_ms) {
        sw_worker_turn(w, 50);
    }
}

void sw_txn_abort(struct sw_worker *w)
{
    rd_kafka_error_t *e;

    if (!w->transactional || !w->txn_open || w->txn.task.busy) {
        return;
    }
    e = rd_kafka_abort_transaction(w->producer, TXN_TIMEOUT_MS);
    if (e) {
        rd_kafka_error_destroy(e);
    }
    w->txn_open = 0;
}
