/* Partitions arriving and leaving (see sw_worker_int.h). Leaving partitions' jobs — running or
 * waiting behind a key — get rebalance.drain_ms to finish, with the loop turning meanwhile, so
 * that the commit covers them all: dropping a waiting job would hold the committed offset below
 * later jobs that did finish, and the next owner would redo those. Whatever is left at the
 * deadline is abandoned to the next owner. So a partition's jobs never run on two workers at
 * once unless one outlives the drain, and nothing is committed past unfinished work.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_time.h"
#include "sw_worker_int.h"

#include <string.h>

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

/* Drop the leaving partitions' jobs that did not finish: no result, no offset. */
static void orphan_jobs(struct sw_worker *w, const rd_kafka_topic_partition_list_t *parts)
{
    struct sw_msg *m, *next;
    struct sw_msg **pp;

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
            sw_msg_free(m);
        }
    }
}

/* Commit what is done before the partitions go, turning the loop while the broker answers. */
static void commit_before_leaving(struct sw_worker *w, int64_t deadline)
{
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_resp_err_t err;

    if (w->closing) {
        /* Past the main loop (consumer close): the last transaction is already committed;
         * stored offsets are committed here, and waiting for it is what closing is. */
        err = w->transactional ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_commit(w->consumer, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
            sw_log_warn(NULL, "commit on revoke: %s", rd_kafka_err2str(err));
        }
        return;
    }
    if (w->transactional) {
        sw_txn_settle(w, deadline);
        sw_txn_tick(w, 1);
        sw_txn_settle(w, deadline + 30000);
        return;
    }
    q = rd_kafka_queue_new(w->consumer);
    err = rd_kafka_commit_queue(w->consumer, NULL, q, NULL, NULL);
    while (!err && !ev && sw_now_mono_ms() < deadline + 30000) {
        ev = rd_kafka_queue_poll(q, 0);
        if (!ev) {
            sw_worker_turn(w, 10);
        }
    }
    if (ev) {
        err = rd_kafka_event_error(ev);
        rd_kafka_event_destroy(ev);
    }
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        sw_log_warn(NULL, "commit on revoke: %s", rd_kafka_err2str(err));
    }
    rd_kafka_queue_destroy(q);
}

static void revoke_partitions(struct sw_worker *w, const rd_kafka_topic_partition_list_t *parts,
                              int lost)
{
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
        sw_log_error(NULL, "partitions lost during a transaction; aborting it, stopping");
        sw_txn_settle(w, deadline);
        sw_txn_abort(w);
        atomic_store(&w->fatal, 1);
    }
    /* No new messages arrive meanwhile: this runs inside the rebalance callback. */
    while (!lost && !w->closing && !atomic_load(&w->fatal) && any_running(w, parts) &&
           sw_now_mono_ms() < deadline) {
        sw_worker_turn(w, 50);
    }
    orphan_jobs(w, parts);
    if (!lost && !atomic_load(&w->fatal)) {
        commit_before_leaving(w, deadline);
    }
    for (i = 0; i < parts->cnt; i++) {
        sw_offsets_drop(&w->offsets, parts->elems[i].topic, parts->elems[i].partition);
    }
    w->share_dirty = 1;
}

static void assign_partitions(struct sw_worker *w, rd_kafka_t *rk,
                              rd_kafka_topic_partition_list_t *parts, int coop)
{
    int i;

    for (i = 0; i < parts->cnt; i++) {
        struct sw_partition_ledger *l =
            sw_offsets_get(&w->offsets, parts->elems[i].topic, parts->elems[i].partition, 1);

        if (l) {
            l->eff_paused = w->paused || w->draining;
        }
    }
    sw_log_info(NULL, "assigned %d partition(s): consuming", parts->cnt);
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
}

void sw_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                     rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct sw_worker *w = opaque;
    int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    int lost = rd_kafka_assignment_lost(rk);

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        assign_partitions(w, rk, parts, coop);
        return;
    }
    sw_log_info(NULL, "%s %d partition(s)", lost ? "lost" : "revoking", parts->cnt);
    if (lost) {
        sw_metrics_set_joined(w->metrics, 0); /* out of the group until the next assignment */
    }
    revoke_partitions(w, parts, lost);
    if (coop) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);

        if (e) {
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(rk, NULL);
    }
}
