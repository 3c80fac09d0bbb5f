/* The worker's librdkafka clients (see sw_worker_int.h): their configuration (ours, then the
 * operator's kafka.* properties), the callbacks that report errors, logs and commits, and the
 * subscription. Both clients wake the event loop through one pipe when their queues fill.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_worker_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* May run on the helper thread (inside a transaction call): atomics only. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sw_worker *w = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];

        rd_kafka_fatal_error(rk, buf, sizeof(buf));
        sw_log_error(NULL, "fatal Kafka error: %s", buf);
        atomic_store(&w->fatal, 1);
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

    (void)rk;
    (void)err;
    sw_metrics_committed(w->metrics, offsets); /* per-partition errors are skipped there */
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        sw_log_error(NULL, "kafka property %s: %s", k, err);
        return -1;
    }
    return 0;
}

/* Our settings for one client; the operator's kafka.* properties follow and win. */
static int own_settings(struct sw_worker *w, rd_kafka_conf_t *conf, int consumer)
{
    if (consumer) {
        /* Transactions carry the offsets themselves; otherwise stored offsets (only ever past
         * delivered results) are auto-committed. */
        return conf_set(conf, "group.id", w->cfg->group) ||
               conf_set(conf, "enable.auto.offset.store", "false") ||
               conf_set(conf, "enable.auto.commit", w->transactional ? "false" : "true") ||
               conf_set(conf, "isolation.level", "read_committed") ||
               conf_set(conf, "auto.commit.interval.ms", "1000") ||
               conf_set(conf, "auto.offset.reset", "earliest") ||
               conf_set(conf, "partition.assignment.strategy", "cooperative-sticky") ||
               conf_set(conf, "queued.max.messages.kbytes", "16384");
    }
    /* 64 MiB of unacknowledged results at most: past it results wait in the worker's backlog,
     * which stops intake (sw_window_open). */
    return conf_set(conf, "enable.idempotence", "true") || conf_set(conf, "linger.ms", "5") ||
           conf_set(conf, "queue.buffering.max.kbytes", "65536") ||
           (w->transactional && conf_set(conf, "transactional.id", w->txn_id));
}

rd_kafka_conf_t *sw_kafka_conf(struct sw_worker *w, int consumer)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int scope = consumer ? 1 : 2;
    size_t i;

    if (conf_set(conf, "bootstrap.servers", w->cfg->brokers) ||
        conf_set(conf, "client.id", "segworker") || own_settings(w, conf, consumer)) {
        goto fail;
    }
    for (i = 0; i < w->cfg->nkafka; i++) {
        if (w->cfg->kafka[i].scope && w->cfg->kafka[i].scope != scope) {
            continue;
        }
        if (conf_set(conf, w->cfg->kafka[i].key, w->cfg->kafka[i].value)) {
            goto fail;
        }
    }
    if (consumer) {
        rd_kafka_conf_set_rebalance_cb(conf, sw_rebalance_cb);
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    } else {
        rd_kafka_conf_set_dr_msg_cb(conf, sw_publish_on_delivery);
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, sw_log_kafka);
    rd_kafka_conf_set_opaque(conf, w);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static rd_kafka_t *client(struct sw_worker *w, int consumer)
{
    rd_kafka_conf_t *conf = sw_kafka_conf(w, consumer);
    char err[512];
    rd_kafka_t *rk;

    if (!conf) {
        return NULL;
    }
    rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new takes it only on success */
        sw_log_error(NULL, "%s: %s", consumer ? "consumer" : "producer", err);
    }
    return rk;
}

int sw_kafka_setup(struct sw_worker *w)
{
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_resp_err_t e;

    if (pipe(w->pipefd) != 0) {
        return -1;
    }
    fcntl(w->pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(w->pipefd[1], F_SETFL, O_NONBLOCK);
    w->producer = client(w, 0);
    w->consumer = w->producer ? client(w, 1) : NULL;
    if (!w->consumer) {
        return -1;
    }
    rd_kafka_poll_set_consumer(w->consumer);
    w->cq = rd_kafka_queue_get_consumer(w->consumer);
    w->pq = rd_kafka_queue_get_main(w->producer);
    rd_kafka_queue_io_event_enable(w->cq, w->pipefd[1], "1", 1);
    rd_kafka_queue_io_event_enable(w->pq, w->pipefd[1], "1", 1);
    topics = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(topics, w->cfg->jobs_topic, RD_KAFKA_PARTITION_UA);
    if (w->cfg->retry_topic[0] && strcmp(w->cfg->retry_topic, w->cfg->jobs_topic)) {
        /* Subscribed even when missing (it is picked up once created); jobs are only parked
         * once it is known to exist (sw_lookup.c). */
        rd_kafka_topic_partition_list_add(topics, w->cfg->retry_topic, RD_KAFKA_PARTITION_UA);
    }
    e = rd_kafka_subscribe(w->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        sw_log_error(NULL, "subscribe to %s: %s", w->cfg->jobs_topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

void sw_kafka_free(struct sw_worker *w)
{
    if (w->cq) {
        rd_kafka_queue_io_event_enable(w->cq, -1, NULL, 0);
        rd_kafka_queue_destroy(w->cq);
        w->cq = NULL;
    }
    if (w->pq) {
        rd_kafka_queue_io_event_enable(w->pq, -1, NULL, 0);
        rd_kafka_queue_destroy(w->pq);
        w->pq = NULL;
    }
    if (w->consumer) {
        rd_kafka_consumer_close(w->consumer);
        rd_kafka_destroy(w->consumer);
        w->consumer = NULL;
    }
    if (w->producer) {
        rd_kafka_destroy(w->producer);
        w->producer = NULL;
    }
    if (w->pipefd[0] >= 0) {
        close(w->pipefd[0]);
        close(w->pipefd[1]);
        w->pipefd[0] = w->pipefd[1] = -1;
    }
}

int sw_worker_check_config(const struct sw_config *cfg)
{
    struct sw_worker w;
    rd_kafka_conf_t *c;
    rd_kafka_conf_t *p;
    int rc;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    c = sw_kafka_conf(&w, 1);
    p = c ? sw_kafka_conf(&w, 0) : NULL; /* one report of a bad property is enough */
    rc = c && p ? 0 : -1;
    if (c) {
        rd_kafka_conf_destroy(c);
    }
    if (p) {
        rd_kafka_conf_destroy(p);
    }
    return rc;
}
