/* Publishing that one job cannot poison: a result the broker (or librdkafka) refuses for its
 * own sake — here, larger than the results topic's max.message.bytes or the producer's
 * message.max.bytes — becomes a small failed result_too_large and a dead letter, and the worker
 * goes on: the partition's other jobs finish, each job has exactly one final result, and the
 * group's offsets reach the end (so a restart repeats nothing). Real broker, real simulator.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NJOBS  30
#define POISON 7 /* the job whose result is too large */
/* The results topic's (or the producer's) largest message. Batches of ordinary results stay
 * under it (batch.size below): the broker judges a batch as a whole. */
#define TOPIC_MAX  "65536"
#define BATCH_SIZE "32768"
#define CORR_BYTES 100000 /* under limits.max_correlation_bytes as set below, over TOPIC_MAX */

static struct kit_args args;

/* Job i: a Klaviyo segments.get; the poison job carries a large correlation, which every
 * result message of the job copies. */
static int produce_job(rd_kafka_t *prod, const char *topic, const char *tag, int i)
{
    struct sim_klaviyo_segment k;
    size_t cap = CORR_BYTES + 512;
    char *job = malloc(cap);
    int n, rc;

    if (!job) {
        return -1;
    }
    sim_klaviyo_segment(i % SIM_KLAVIYO_SEGMENTS, &k);
    n = snprintf(job, cap,
                 "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                 "\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"%s\"}",
                 tag, i, k.id);
    if (i == POISON) {
        n += snprintf(job + n, cap - (size_t)n, ",\"correlation\":{\"pad\":\"");
        memset(job + n, 'x', CORR_BYTES);
        n += CORR_BYTES;
        n += snprintf(job + n, cap - (size_t)n, "\"}");
    }
    n += snprintf(job + n, cap - (size_t)n, "}");
    /* One key: the poison job sits in the middle of an ordered run. */
    rc = kit_produce(prod, topic, "one-key", job, (size_t)n);
    free(job);
    return rc;
}

static int on_dead_letter(void *arg, const rd_kafka_message_t *m)
{
    int *too_large = arg;
    char v[64];

    if (kit_header(m, "segworker.reason", v, sizeof(v)) == 0 && !strcmp(v, "result_too_large")) {
        (*too_large)++;
    }
    return 0;
}

/* where: "topic" (the broker refuses the batch) or "producer" (librdkafka refuses it when it
 * is produced). */
static void run(const char *where)
{
    const char *bootstrap = args.bootstrap;
    struct kit_names n;
    struct kit_tally t;
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};
    rd_kafka_t *prod = NULL, *reader = NULL;
    int i, too_large = 0, producer = !strcmp(where, "producer");

    memset(&t, 0, sizeof(t));
    CHECK(bootstrap[0] != '\0');
    if (!bootstrap[0]) {
        return;
    }
    kit_names_init(&n, "po", where);
    CHECK(kit_tally_init(&t, n.tag, NJOBS) == 0);
    CHECK(kit_create_topic(bootstrap, n.jobs, 1) == 0);
    CHECK(kit_create_topic_with(bootstrap, n.results, 1, producer ? NULL : "max.message.bytes",
                                producer ? NULL : TOPIC_MAX) == 0);
    CHECK(kit_create_topic(bootstrap, n.dlq, 1) == 0);
    CHECK(kit_sim_start(&sim, &args, NULL) == 0);
    CHECK(kit_load_worker(&w, &args, bootstrap, &n, &sim) == 0);
    kit_worker_set(&w, "limits.max_correlation_bytes=200000");
    kit_worker_set(&w, "kafka.producer.batch.size=" BATCH_SIZE);
    if (producer) {
        kit_worker_set(&w, "kafka.producer.message.max.bytes=" TOPIC_MAX);
    }
    CHECK(sim.pid > 0 && kit_worker_start(&w, args.work, where) > 0);
    prod = kit_producer(bootstrap);
    reader = kit_reader(bootstrap, n.results);
    CHECK(prod && reader);
    if (sim.pid <= 0 || w.pid <= 0 || !prod || !reader || !t.job) {
        goto out;
    }
    for (i = 0; i < NJOBS; i++) {
        CHECK(produce_job(prod, n.jobs, n.tag, i) == 0);
    }
    CHECK(kit_flush(prod) == 0);
    /* Every job ends, once; the poison one with result_too_large, the others succeed. */
    CHECK(kit_tally_wait(&t, reader, kit_deadline_ms(90000)) == 0);
    kit_tally_poll(&t, reader, 500); /* a late duplicate would show here */
    CHECK_INT(t.duplicates, 0);
    CHECK_INT(t.foreign, 0);
    CHECK_STR(t.job[POISON].code, "result_too_large");
    for (i = 0; i < NJOBS; i++) {
        if (i != POISON && !t.job[i].succeeded) {
            fprintf(stderr, "job %d: %s %s\n", i, t.job[i].status, t.job[i].code);
            sw_test_failures++;
        }
    }
    /* The poison job's dead letter arrived (cut to fit when the producer refused it whole). */
    CHECK(kit_read_topic(bootstrap, n.dlq, 1, kit_deadline_ms(30000), on_dead_letter, &too_large) >=
          1);
    CHECK_INT(too_large, 1);
    /* The worker went on, and a restart would repeat nothing: offsets at the end. */
    CHECK(kit_wait_committed_at_end(bootstrap, n.group, n.jobs, kit_deadline_ms(60000)) == 0);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    CHECK(kit_file_contains(w.log, "was refused"));
out:
    kit_reader_close(reader);
    kit_producer_free(prod);
    kit_worker_kill(&w);
    CHECK_INT(kit_sim_stop(&sim), 0);
    kit_tally_free(&t);
}

static void test_topic_refuses(void)
{
    run("topic");
}

static void test_producer_refuses(void)
{
    run("producer");
}

static const struct sw_test_case tests[] = {
    {"result_over_topic_max_message_bytes", test_topic_refuses},
    {"result_over_producer_message_max_bytes", test_producer_refuses},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_poison", args, tests)
