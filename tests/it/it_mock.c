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
#include "sim_data.h"
#include "sw_test.h"

#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void inject(rd_kafka_mock_cluster_t *mc, int i, const char *group, const char *jobs,
                   const char *results, int codes)
{
    int p, b;

    switch (i) {
    case 0:
        rd_kafka_mock_coordinator_set(mc, "group", group, 2);
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
            rd_kafka_mock_partition_set_leader(mc, jobs, p, (p + 1) % NBROKERS + 1);
            rd_kafka_mock_partition_set_leader(mc, results, p, (p + 2) % NBROKERS + 1);
        }
        break;
    case 5:
        rd_kafka_mock_coordinator_set(mc, "group", group, 3);
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

static void produce_job(rd_kafka_t *prod, const char *topic, const char *run, int i)
{
    char job[512], key[16];
    struct sim_klaviyo_segment k;
    struct sim_sendgrid_segment s;
    int n;

    sim_klaviyo_segment(i % SIM_KLAVIYO_SEGMENTS, &k);
    sim_sendgrid_segment(i % SIM_SENDGRID_SEGMENTS, &s);
    n = snprintf(job, sizeof(job),
                 "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"%s\","
                 "\"account\":\"acme-%s\",\"params\":{\"id\":\"%s\"}}",
                 run, i, i % 3 ? "klaviyo" : "sendgrid", i % 3 ? "klaviyo" : "sendgrid",
                 i % 3 ? k.id : s.id);
    snprintf(key, sizeof(key), "k%d", i % 17);
    CHECK(kit_produce(prod, topic, key, job, (size_t)n) == 0);
}

static void test_mock_faults(void)
{
    char run[32], jobs[64], results[64], dlq[64], group[64];
    char accounts[1024], worker_log[1024], base_url[64], bootstrap[512];
    char t_jobs[128], t_res[128], t_dlq[128];
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *owner = NULL, *prod = NULL, *reader = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    struct kit_tally t;
    pid_t sim = -1, worker = -1;
    int port = 0, produced = 0, next_fault = 0, i, failed = 0, extra_jobs = 0;
    int *job_copies = NULL;
    int64_t in_topic = 0;
    const char *pe = getenv("IT_MOCK_PRODUCE_ERRORS");
    int codes = pe && !strcmp(pe, "codes");
    int64_t t0 = kit_now_ms(), start, now, last_fault_ms = 0, recover_ms = -1;
    long long w_consumed = -1, w_results = -1;
    FILE *f;

    snprintf(run, sizeof(run), "mock%d", (int)getpid());
    snprintf(jobs, sizeof(jobs), "%s-jobs", run);
    snprintf(results, sizeof(results), "%s-results", run);
    snprintf(dlq, sizeof(dlq), "%s-dlq", run);
    snprintf(group, sizeof(group), "%s-group", run);
    CHECK(kit_tally_init(&t, run, NJOBS) == 0);

    /* The cluster lives in this process; the rd_kafka_t only hosts it. */
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    CHECK(owner != NULL);
    if (!owner) {
        rd_kafka_conf_destroy(conf);
        kit_tally_free(&t);
        return;
    }
    mc = rd_kafka_mock_cluster_new(owner, NBROKERS);
    CHECK(mc != NULL);
    if (!mc) {
        goto out;
    }
    snprintf(bootstrap, sizeof(bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(mc));
    CHECK_INT(rd_kafka_mock_topic_create(mc, jobs, NPARTS, NBROKERS), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, results, NPARTS, NBROKERS), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, dlq, 1, NBROKERS), 0);
    printf("mock cluster: %s\n", bootstrap);

    sim = kit_start_sim(args.sim, args.work, &port);
    CHECK(sim > 0);
    if (sim <= 0) {
        goto out;
    }
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", port);
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", args.work);
    f = fopen(accounts, "w");
    fprintf(f,
            "{\"accounts\":{"
            "\"acme-klaviyo\":{\"provider\":\"klaviyo\",\"base_url\":\"%s\",\"credentials\":"
            "{\"api_key\":\"env:MOCK_KLAVIYO_KEY\"}},"
            "\"acme-sendgrid\":{\"provider\":\"sendgrid\",\"base_url\":\"%s\",\"credentials\":"
            "{\"api_key\":\"env:MOCK_SENDGRID_KEY\"}}}}\n",
            base_url, base_url);
    fclose(f);
    snprintf(worker_log, sizeof(worker_log), "%s/worker.log", args.work);
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", dlq);
    {
        /* IT_MOCK_DEBUG=1: librdkafka's fetch, group and topic debug lines in worker.log. */
        int dbg = getenv("IT_MOCK_DEBUG") != NULL;
        char *wargv[] = {(char *)args.worker, "run", "--brokers", bootstrap, "--accounts", accounts,
                         "--group", group, "--set", t_jobs, "--set", t_res, "--set", t_dlq,
                         /* Broker faults are the subject: Klaviyo's 750/min read limit would
                          * stretch 2,000 Klaviyo jobs over minutes (it_reliability tests it). */
                         "--set", "ratelimit.mode=off", NULL, NULL, NULL};
        char *env[] = {"MOCK_KLAVIYO_KEY=sim-klaviyo-key", "MOCK_SENDGRID_KEY=sim-sendgrid-key",
                       dbg ? "SEGWORKER_LOG_LEVEL=debug" : "SEGWORKER_LOG_LEVEL=info", NULL};

        if (dbg) {
            wargv[16] = "--set";
            wargv[17] = "kafka.debug=fetch,cgrp,topic,broker";
        }
        worker = kit_spawn(wargv, env, NULL, worker_log);
    }
    CHECK(worker > 0);
    /* With error codes the test's own jobs must not fall to the mock's idempotence loss. */
    prod = codes ? kit_producer_plain(bootstrap) : kit_producer(bootstrap);
    reader = kit_reader(bootstrap, results);
    CHECK(prod != NULL && reader != NULL);
    if (worker <= 0 || !prod || !reader) {
        goto out;
    }

    /* Job 0 first: once its result is back the worker has joined the group and every fault
     * below lands on a running pipeline. Then jobs at a steady rate, faults on their schedule,
     * results read all along. */
    produce_job(prod, jobs, run, produced++);
    CHECK(kit_flush(prod) == 0);
    while (!t.complete && kit_now_ms() - t0 < kit_deadline_ms(30000)) {
        kit_tally_poll(&t, reader, 100, NULL, NULL);
    }
    CHECK_INT(t.complete, 1);
    printf("worker joined and answered job 0 after %lld ms\n", (long long)(kit_now_ms() - t0));
    start = kit_now_ms();
    while (produced < NJOBS || next_fault < NFAULTS) {
        int64_t due;

        now = kit_now_ms();
        due = (now - start) * NJOBS / PRODUCE_MS + 1;
        while (produced < NJOBS && produced < due) {
            produce_job(prod, jobs, run, produced++);
        }
        if (next_fault < NFAULTS && now - start >= plan[next_fault].at_ms) {
            printf("t=%5lld ms: %s (%d results so far)\n", (long long)(now - start),
                   plan[next_fault].what, t.complete);
            if (next_fault == 1 && codes) {
                /* The error codes are meant for the worker's results: a burst of jobs first,
                 * delivered, then no jobs until the errors are used up (at most 5 s). */
                int burst = produced + 300 < NJOBS ? produced + 300 : NJOBS;
                int64_t hold;

                while (produced < burst) {
                    produce_job(prod, jobs, run, produced++);
                }
                CHECK(kit_flush(prod) == 0);
                inject(mc, next_fault, group, jobs, results, codes);
                hold = kit_now_ms();
                while (produce_errors_pending(mc) && kit_now_ms() - hold < 5000) {
                    kit_tally_poll(&t, reader, 20, NULL, NULL);
                }
                printf("         %zu Produce error(s) left unused after %lld ms\n",
                       produce_errors_pending(mc), (long long)(kit_now_ms() - hold));
            } else {
                inject(mc, next_fault, group, jobs, results, codes);
            }
            next_fault++;
            last_fault_ms = now;
        }
        rd_kafka_poll(prod, 0);
        kit_tally_poll(&t, reader, 20, NULL, NULL);
        if (kit_now_ms() - start > kit_deadline_ms(PRODUCE_MS * 4)) {
            fprintf(stderr, "could not produce the jobs in time\n");
            sw_test_failures++;
            break;
        }
    }
    CHECK(kit_flush(prod) == 0);
    CHECK_INT(produced, NJOBS);
    /* Every job reached the topic, so a missing result is the worker's, not the producer's.
     * The mock's idempotent producer can store a job twice under disconnects: such copies are
     * counted, and their second results are not the worker's duplicates. */
    in_topic = kit_topic_messages(bootstrap, jobs);
    CHECK(in_topic >= NJOBS);
    job_copies = calloc(NJOBS, sizeof(*job_copies));
    CHECK(job_copies != NULL);
    if (job_copies) {
        int64_t read = kit_count_jobs(bootstrap, jobs, run, NJOBS, job_copies, in_topic,
                                      kit_deadline_ms(30000));

        CHECK_INT(read, in_topic);
        for (i = 0; i < NJOBS; i++) {
            if (!job_copies[i]) {
                fprintf(stderr, "job %d is not in the jobs topic\n", i);
                sw_test_failures++;
            }
            extra_jobs += job_copies[i] > 1 ? job_copies[i] - 1 : 0;
        }
    }

    /* Nothing lost: a final result per job, and the committed offsets reach the end. */
    CHECK(kit_tally_wait(&t, reader, kit_deadline_ms(60000), NULL, NULL) == 0);
    recover_ms = t.last_ms - last_fault_ms;
    CHECK(kit_wait_committed_at_end(bootstrap, group, jobs, kit_deadline_ms(30000)) == 0);
    CHECK_INT(t.foreign, 0);
    for (i = 0; i < NJOBS; i++) {
        if (t.finals[i] && t.code[i][0]) {
            if (failed++ < 5) {
                fprintf(stderr, "job %d failed: %s\n", i, t.code[i]);
            }
        }
    }
    /* The simulator answers every job here; a failure would mean the faults leaked into jobs. */
    CHECK_INT(failed, 0);
    kit_signal(worker, SIGTERM);
    CHECK_INT(kit_wait(worker, kit_deadline_ms(30000)), 0);
    worker = -1;
    /* Duplicates can only come from redelivery; read a little longer so late ones count too. */
    kit_tally_poll(&t, reader, 1000, NULL, NULL);
    if (kit_worker_counts(worker_log, &w_consumed, &w_results) == 0) {
        /* More result messages than the worker produced: copies made below it (the producer's
         * retries), not jobs it ran twice; more consumed than jobs stored: redelivery. */
        printf("worker: consumed %lld job messages, produced %lld results; the reader saw %d "
               "result messages\n",
               w_consumed, w_results, t.messages);
    }
    printf("mock faults: %d jobs (%d stored twice by the test's producer), %d final results, %d "
           "duplicate final(s) of which at most %d from those copies, %d result messages, "
           "longest pause between results %lld ms, last result %lld ms after the last fault\n",
           NJOBS, extra_jobs, t.complete, t.duplicates, extra_jobs, t.messages,
           (long long)t.max_gap_ms, (long long)recover_ms);
out:
    if (reader) {
        rd_kafka_consumer_close(reader);
        rd_kafka_destroy(reader);
    }
    if (prod) {
        rd_kafka_destroy(prod);
    }
    kit_kill(worker);
    if (sim > 0) {
        kit_signal(sim, SIGTERM);
        CHECK_INT(kit_wait(sim, kit_deadline_ms(10000)), 0);
    }
    if (mc) {
        rd_kafka_mock_cluster_destroy(mc);
    }
    rd_kafka_destroy(owner);
    kit_tally_free(&t);
    free(job_copies);
}

static const struct sw_test_case tests[] = {
    {"mock_cluster_broker_faults", test_mock_faults},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (kit_parse_args(argc, argv, "it_mock", &args) != 0) {
        return 2;
    }
    return sw_test_run(tests, NULL);
}
