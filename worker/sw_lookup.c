/* Broker lookups the worker needs now and then, made on the helper thread (see sw_bg.h) so the
 * loop never waits for a metadata round trip: whether the retry topic exists (long waits are
 * parked there only then), how many partitions the jobs topic has (each worker applies the
 * share of the providers' rate limits that matches the share of partitions it owns), and the
 * committed offsets of a new assignment (for the per-partition metrics).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_time.h"
#include "sw_worker_int.h"

#include <stdio.h>
#include <string.h>

#define METADATA_TIMEOUT_MS  5000
#define RETRY_TOPIC_EVERY_MS 30000
#define RETRY_TOPIC_SOON_MS  1000 /* the first looks: a topic created just before start-up */
#define SHARE_RETRY_MS       1000

/* On the helper thread: a metadata request for one topic that does not auto-create it. */
static void lookup_run(struct sw_bg_task *task)
{
    struct sw_lookup *lk = (struct sw_lookup *)task;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(lk->rk, 0, lk->rkt, &md, METADATA_TIMEOUT_MS);

    lk->exists = 0;
    lk->partitions = 0;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
        if (!err && md->topics[0].partition_cnt > 0) {
            lk->exists = 1;
            lk->partitions = md->topics[0].partition_cnt;
        }
    }
    snprintf(lk->err, sizeof(lk->err), "%s", rd_kafka_err2str(err));
    if (md) {
        rd_kafka_metadata_destroy(md);
    }
}

static void retry_done(struct sw_bg_task *task)
{
    struct sw_lookup *lk = (struct sw_lookup *)task;
    struct sw_worker *w = lk->w;
    int64_t now = sw_now_mono_ms();

    if (lk->exists) {
        if (w->retry_warned) {
            sw_log_info(NULL, "retry topic %s now exists: long waits park there",
                        w->cfg->retry_topic);
        }
        w->retry_ok = 1;
        return;
    }
    sw_log_debug(NULL, "metadata of %s: %s", w->cfg->retry_topic, lk->err);
    if (!w->retry_warned) {
        sw_log_warn(NULL,
                    "retry topic %s does not exist: long retry waits stay in memory until it "
                    "does",
                    w->cfg->retry_topic);
        w->retry_warned = 1;
    }
    w->retry_next_ms = now + RETRY_TOPIC_EVERY_MS;
}

static void share_done(struct sw_bg_task *task)
{
    struct sw_lookup *lk = (struct sw_lookup *)task;
    struct sw_worker *w = lk->w;
    size_t i;
    int owned = 0;
    double share;

    if (!lk->exists) {
        w->share_dirty = 1; /* try again a little later */
        w->share_next_ms = sw_now_mono_ms() + SHARE_RETRY_MS;
        return;
    }
    for (i = 0; i < w->offsets.n; i++) {
        owned += !strcmp(w->offsets.v[i].topic, w->cfg->jobs_topic);
    }
    share = (double)(owned > 0 ? owned : 1) / (double)lk->partitions;
    sw_rl_set_share(&w->loop.rl, share > 1.0 ? 1.0 : share);
    sw_log_info(NULL, "rate-limit share %d/%d of %s's partitions", owned, lk->partitions,
                w->cfg->jobs_topic);
}

/* On the helper thread: the group's committed offsets of the assignment. */
static void committed_run(struct sw_bg_task *task)
{
    struct sw_committed_lookup *c = (struct sw_committed_lookup *)task;

    c->err = rd_kafka_committed(c->w->consumer, c->parts, METADATA_TIMEOUT_MS);
}

static void committed_done(struct sw_bg_task *task)
{
    struct sw_committed_lookup *c = (struct sw_committed_lookup *)task;

    if (c->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        sw_metrics_committed_seed(c->w->metrics, c->parts);
    } else {
        sw_log_debug(NULL, "committed offsets of the assignment: %s", rd_kafka_err2str(c->err));
    }
    rd_kafka_topic_partition_list_destroy(c->parts);
    c->parts = NULL;
}

static void committed_tick(struct sw_worker *w)
{
    rd_kafka_topic_partition_list_t *a = NULL;

    if (!w->metrics || !w->committed_dirty || w->committed.task.busy) {
        return;
    }
    w->committed_dirty = 0;
    if (rd_kafka_assignment(w->consumer, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || a->cnt == 0) {
        if (a) {
            rd_kafka_topic_partition_list_destroy(a);
        }
        return;
    }
    w->committed.w = w;
    w->committed.parts = a;
    w->committed.task.run = committed_run;
    w->committed.task.done = committed_done;
    if (sw_bg_submit(w->bg, &w->committed.task) != 0) {
        rd_kafka_topic_partition_list_destroy(a);
        w->committed.parts = NULL;
    }
}

static int lookup_init(struct sw_worker *w, struct sw_lookup *lk, const char *topic,
                       void (*done)(struct sw_bg_task *))
{
    lk->w = w;
    lk->rk = w->consumer;
    lk->task.run = lookup_run;
    lk->task.done = done;
    lk->rkt = rd_kafka_topic_new(w->consumer, topic, NULL);
    return lk->rkt ? 0 : -1;
}

int sw_lookup_init(struct sw_worker *w)
{
    if (lookup_init(w, &w->share, w->cfg->jobs_topic, share_done) != 0) {
        return -1;
    }
    if (w->cfg->retry_topic[0] && strcmp(w->cfg->retry_topic, w->cfg->jobs_topic)) {
        if (lookup_init(w, &w->retry, w->cfg->retry_topic, retry_done) != 0) {
            return -1;
        }
        w->retry_next_ms = sw_now_mono_ms(); /* look at once */
    }
    return 0;
}

void sw_lookup_free(struct sw_worker *w)
{
    /* The helper thread is stopped by now: no task is in flight. */
    if (w->share.rkt) {
        rd_kafka_topic_destroy(w->share.rkt);
        w->share.rkt = NULL;
    }
    if (w->retry.rkt) {
        rd_kafka_topic_destroy(w->retry.rkt);
        w->retry.rkt = NULL;
    }
    if (w->committed.parts) {
        rd_kafka_topic_partition_list_destroy(w->committed.parts);
        w->committed.parts = NULL;
    }
}

void sw_lookup_tick(struct sw_worker *w, int64_t now_ms)
{
    if (w->retry.rkt && !w->retry_ok && !w->retry.task.busy && now_ms >= w->retry_next_ms) {
        /* Until the first answer, look again soon: the topic may just have been created. */
        w->retry_next_ms = now_ms + RETRY_TOPIC_SOON_MS;
        sw_bg_submit(w->bg, &w->retry.task);
    }
    if (w->share_dirty) {
        w->committed_dirty = 1; /* the same trigger: the assignment changed */
    }
    committed_tick(w);
    if (w->share_dirty && !w->share.task.busy && now_ms >= w->share_next_ms) {
        w->share_dirty = 0;
        sw_bg_submit(w->bg, &w->share.task);
    }
}
