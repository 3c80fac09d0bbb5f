/* Broker faults from librdkafka's mock cluster (rdkafka_mock.h, librdkafka 2.0.2). The test owns
 * a 3-broker mock cluster (its brokers listen on loopback sockets inside this process), creates
 * the topics on it, and runs the real `segworker run` against it and the real simulator. While
 * jobs flow it moves the group coordinator, makes Produce requests fail (NOT_LEADER,
 * REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS, disconnects), takes a broker down and up again, and
 * moves partition leaders. Asserts nothing is lost: every job gets a final result, the group's
 * committed offsets reach the end of the jobs topic, the worker drains cleanly on SIGTERM.
 * Duplicates are counted and reported (at-least-once allows them).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_test.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NJOBS      3000
#define PRODUCE_MS 10000 /* jobs are produced evenly over this long, faults land in between */
#define NBROKERS   3
#define NPARTS     4

static struct kit_args args;

struct fault {
    int64_t at_ms; /* after the first job */
    const char *what;
};

static const struct fault plan[] = {
    {1000, "coordinator moves to broker 2"},
    {2500, "Produce on each broker: disconnect, 3 s response delay, disconnect (or, with "
           "IT_MOCK_PRODUCE_ERRORS=codes: NOT_LEADER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS)"},
    {4000, "broker 1 down"},
    {6500, "broker 1 up"},
    {7500, "partition leaders rotate on the jobs and results topics"},
    {8500, "coordinator moves to broker 3, then broker 3 down"},
    {9500, "broker 3 up"},
};
#define NFAULTS ((int)(sizeof(plan) / sizeof(plan[0])))

static void inject(rd_kafka_mock_cluster_t *mc, int i, const struct kit_names *n, int codes)
{
    int p, b;

    switch (i) {
    case 0:
        rd_kafka_mock_coordinator_set(mc, "group", n->group, 2);
        break;
    case 1:
        /* On every broker, so the requests carrying results hit them whichever leads. By
         * default two dropped connections and a 3 s stall. Error codes (NOT_LEADER,
         * REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS) only with IT_MOCK_PRODUCE_ERRORS=codes: under
         * them the 2.0.2 mock loses an idempotent producer's acknowledged message by itself
         * (docs/RELIABILITY.md, "Broker faults"), so a lost result would be the mock's, not the
         * worker's. */
        for (b = 1; b <= NBROKERS; b++) {
            if (codes) {
                rd_kafka_mock_broker_push_request_error_rtts(
                    mc, b, 0 /* ApiKey Produce */, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, 0, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                    0);
            } else {
                rd_kafka_mock_broker_push_request_error_rtts(
                    mc, b, 0 /* ApiKey Produce */, 3, RD_KAFKA_RESP_ERR__TRANSPORT, 0,
                    RD_KAFKA_RESP_ERR_NO_ERROR, 3000, RD_KAFKA_RESP_ERR__TRANSPORT, 0);
            }
        }
        break;
    case 2:
        rd_kafka_mock_broker_set_down(mc, 1);
        break;
    case 3:
        rd_kafka_mock_broker_set_up(mc, 1);
        break;
    case 4:
        for (p = 0; p < NPARTS; p++) {
            rd_kafka_mock_partition_set_leader(mc, n->jobs, p, (p + 1) % NBROKERS + 1);
            rd_kafka_mock_partition_set_leader(mc, n->results, p, (p + 2) % NBROKERS + 1);
        }
        break;
    case 5:
        rd_kafka_mock_coordinator_set(mc, "group", n->group, 3);
        rd_kafka_mock_broker_set_down(mc, 3);
        break;
    case 6:
        rd_kafka_mock_broker_set_up(mc, 3);
        break;
    default:
        break;
    }
}

/* Produce requests still to fail, summed over the brokers. */
static size_t produce_errors_pending(rd_kafka_mock_cluster_t *mc)
{
    size_t sum = 0;
    int b;

    for (b = 1; b <= NBROKERS; b++) {
        size_t cnt = 0;

        rd_kafka_mock_broker_error_stack_cnt(mc, b, 0 /* ApiKey Produce */, &cnt);
        sum += cnt;
    }
    return sum;
}

/* The faults are timed from the first job on: jobs at a steady rate, faults on their schedule,
 * results read all along. Returns when every job is produced and every fault injected. */
static void run_plan(rd_kafka_mock_cluster_t *mc, rd_kafka_t *prod, rd_kafka_t *reader,
                     const struct kit_names *n, struct kit_tally *t, int codes, int64_t *last_fault)
{
    int64_t start = kit_now_ms();
    int produced = 1, next_fault = 0;

    while (produced < NJOBS || next_fault < NFAULTS) {
        int64_t now = kit_now_ms();

        CHECK(kit_load_pace(prod, n->jobs, n->tag, &produced, NJOBS, start, PRODUCE_MS) >= 0);
        if (next_fault < NFAULTS && now - start >= plan[next_fault].at_ms) {
            printf("t=%5lld ms: %s (%d results so far)\n", (long long)(now - start),
                   plan[next_fault].what, t->complete);
            if (next_fault == 1 && codes) {
                /* The error codes are meant for the worker's results: a burst of jobs first,
                 * delivered, then no jobs until the errors are used up (at most 5 s). */
                int burst = produced + 300 < NJOBS ? produced + 300 : NJOBS;
                int64_t hold;

                while (produced < burst) {
                    CHECK(kit_load_produce(prod, n->jobs, n->tag, produced++) == 0);
                }
                CHECK(kit_flush(prod) == 0);
                inject(mc, next_fault, n, codes);
                hold = kit_now_ms();
                while (produce_errors_pending(mc) && kit_now_ms() - hold < 5000) {
                    kit_tally_poll(t, reader, 20);
                }
                printf("         %zu Produce error(s) left unused after %lld ms\n",
                       produce_errors_pending(mc), (long long)(kit_now_ms() - hold));
            } else {
                inject(mc, next_fault, n, codes);
            }
            next_fault++;
            *last_fault = now;
        }
        rd_kafka_poll(prod, 0);
        kit_tally_poll(t, reader, 20);
        if (kit_now_ms() - start > kit_deadline_ms(PRODUCE_MS * 4)) {
            fprintf(stderr, "could not produce the jobs in time\n");
            sw_test_failures++;
            break;
        }
    }
    CHECK(kit_flush(prod) == 0);
    CHECK_INT(produced, NJOBS);
}

static void test_mock_faults(void)
{
    char bootstrap[512];
    rd_kafka_t *owner = kit_mock_owner(), *prod = NULL, *reader = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    struct kit_names n;
    struct kit_tally t;
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};
    int extra_jobs = 0;
    const char *pe = getenv("IT_MOCK_PRODUCE_ERRORS");
    int codes = pe && !strcmp(pe, "codes");
    int64_t last_fault_ms = 0;

    kit_names_init(&n, "mock", NULL);
    CHECK(kit_tally_init(&t, n.tag, NJOBS) == 0);
    CHECK(owner != NULL);
    mc = owner ? rd_kafka_mock_cluster_new(owner, NBROKERS) : NULL;
    CHECK(mc != NULL);
    if (!mc) {
        goto out;
    }
    snprintf(bootstrap, sizeof(bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(mc));
    CHECK_INT(rd_kafka_mock_topic_create(mc, n.jobs, NPARTS, NBROKERS), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, n.results, NPARTS, NBROKERS), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, n.dlq, 1, NBROKERS), 0);
    printf("mock cluster: %s\n", bootstrap);

    CHECK(kit_sim_start(&sim, &args, NULL) == 0);
    CHECK(kit_load_worker(&w, &args, bootstrap, &n, &sim) == 0);
    if (getenv("IT_MOCK_DEBUG")) {
        /* librdkafka's fetch, group and topic debug lines in worker.log. */
        kit_worker_set(&w, "kafka.debug=fetch,cgrp,topic,broker");
        kit_worker_env(&w, "SEGWORKER_LOG_LEVEL=debug");
    }
    CHECK(sim.pid > 0 && kit_worker_start(&w, args.work, "worker") > 0);
    /* With error codes the test's own jobs must not fall to the mock's idempotence loss. */
    prod = codes ? kit_producer_plain(bootstrap) : kit_producer(bootstrap);
    reader = kit_reader(bootstrap, n.results);
    CHECK(prod != NULL && reader != NULL);
    if (sim.pid <= 0 || w.pid <= 0 || !prod || !reader) {
        goto out;
    }
    CHECK(kit_load_first(prod, reader, &n, &t, kit_deadline_ms(30000)) == 0);
    run_plan(mc, prod, reader, &n, &t, codes, &last_fault_ms);
    /* Nothing lost: a final result per job, and the committed offsets reach the end. */
    CHECK_INT(kit_load_verify(bootstrap, &n, &t, reader, kit_deadline_ms(60000), &extra_jobs), 0);
    CHECK_INT(kit_load_stop(&w, &t, reader), 0);
    printf("mock faults: %d jobs (%d stored twice by the test's producer), %d final results, %d "
           "duplicate final(s) of which at most %d from those copies, %d result messages, "
           "longest pause between results %lld ms, last result %lld ms after the last fault\n",
           NJOBS, extra_jobs, t.complete, t.duplicates, extra_jobs, t.messages,
           (long long)t.max_gap_ms, (long long)(t.last_ms - last_fault_ms));
out:
    kit_reader_close(reader);
    kit_producer_free(prod);
    kit_worker_kill(&w);
    CHECK_INT(kit_sim_stop(&sim), 0);
    if (mc) {
        rd_kafka_mock_cluster_destroy(mc);
    }
    if (owner) {
        rd_kafka_destroy(owner);
    }
    kit_tally_free(&t);
}

static const struct sw_test_case tests[] = {
    {"mock_cluster_broker_faults", test_mock_faults},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_mock", args, tests)
