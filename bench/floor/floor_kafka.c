/* Benchmark floor, Kafka half: consume a job, produce a canned result of the same size as
 * segworker's, store the job's offset once the broker acknowledged the result. No JSON, no HTTP:
 * what librdkafka itself costs for one job, configured as segworker configures it.
 *
 *   floor_kafka BROKERS GROUP JOBS_TOPIC RESULTS_TOPIC RESULT_BYTES
 *
 * Runs until SIGTERM/SIGINT, then flushes, commits and exits 0.
 * SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

struct floor_ctx {
    rd_kafka_t *consumer;
    unsigned long long acked;
};

/* The opaque is the job's (partition, offset) packed into a malloc'd pair. */
struct job_pos {
    int32_t partition;
    int64_t offset;
    char topic[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct floor_ctx *ctx = opaque;
    struct job_pos *pos = rkm->_private;
    rd_kafka_topic_partition_list_t *off;

    (void)rk;
    if (!pos) {
        return;
    }
    if (!rkm->err) {
        off = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(off, pos->topic, pos->partition)->offset =
            pos->offset + 1;
        rd_kafka_offsets_store(ctx->consumer, off);
        rd_kafka_topic_partition_list_destroy(off);
        ctx->acked++;
    } else {
        fprintf(stderr, "floor_kafka: delivery failed: %s\n", rd_kafka_err2str(rkm->err));
    }
    free(pos);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "floor_kafka: %s=%s: %s\n", k, v, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct floor_ctx ctx;
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    rd_kafka_t *producer = NULL;
    rd_kafka_topic_partition_list_t *topics;
    char err[512];
    char *payload = NULL;
    size_t plen;
    int rc = 1;

    memset(&ctx, 0, sizeof(ctx));
    if (argc != 6) {
        fprintf(stderr, "usage: floor_kafka BROKERS GROUP JOBS_TOPIC RESULTS_TOPIC RESULT_BYTES\n");
        goto out;
    }
    plen = strtoul(argv[5], NULL, 10);
    if (plen < 2 || plen > 1000000) {
        fprintf(stderr, "floor_kafka: RESULT_BYTES must be 2..1000000\n");
        goto out;
    }
    /* A JSON string of the requested length: consumers of the result topic can still parse it. */
    payload = malloc(plen);
    if (!payload) {
        goto out;
    }
    memset(payload, 'x', plen);
    payload[0] = '"';
    payload[plen - 1] = '"';
    /* The same settings segworker uses (worker/sw_worker.c base_conf). */
    if (set(cc, "bootstrap.servers", argv[1]) || set(cc, "group.id", argv[2]) ||
        set(cc, "enable.auto.offset.store", "false") || set(cc, "enable.auto.commit", "true") ||
        set(cc, "auto.commit.interval.ms", "1000") || set(cc, "auto.offset.reset", "earliest") ||
        set(cc, "partition.assignment.strategy", "cooperative-sticky") ||
        set(cc, "queued.max.messages.kbytes", "16384") || set(pc, "bootstrap.servers", argv[1]) ||
        set(pc, "enable.idempotence", "true") || set(pc, "linger.ms", "1") ||
        set(pc, "queue.buffering.max.kbytes", "65536")) {
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
    rd_kafka_conf_set_opaque(pc, &ctx);
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    pc = NULL;
    ctx.consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    cc = NULL;
    if (!producer || !ctx.consumer) {
        fprintf(stderr, "floor_kafka: %s\n", err);
        goto out;
    }
    rd_kafka_poll_set_consumer(ctx.consumer);
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, argv[3], RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(ctx.consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop_flag) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ctx.consumer, 100);

        if (m && !m->err) {
            struct job_pos *pos = malloc(sizeof(*pos));

            if (pos) {
                pos->partition = m->partition;
                pos->offset = m->offset;
                snprintf(pos->topic, sizeof(pos->topic), "%s", rd_kafka_topic_name(m->rkt));
                if (rd_kafka_producev(
                        producer, RD_KAFKA_V_TOPIC(argv[4]), RD_KAFKA_V_KEY(m->key, m->key_len),
                        RD_KAFKA_V_VALUE(payload, plen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_OPAQUE(pos), RD_KAFKA_V_END) != 0) {
                    free(pos);
                }
            }
        }
        if (m) {
            rd_kafka_message_destroy(m);
        }
        rd_kafka_poll(producer, 0);
    }
    rd_kafka_flush(producer, 10000);
    rd_kafka_commit(ctx.consumer, NULL, 0);
    fprintf(stderr, "floor_kafka: %llu results acknowledged\n", ctx.acked);
    rc = 0;
out:
    if (ctx.consumer) {
        rd_kafka_consumer_close(ctx.consumer);
        rd_kafka_destroy(ctx.consumer);
    }
    if (producer) {
        rd_kafka_destroy(producer);
    }
    if (cc) {
        rd_kafka_conf_destroy(cc);
    }
    if (pc) {
        rd_kafka_conf_destroy(pc);
    }
    free(payload);
    return rc;
}
