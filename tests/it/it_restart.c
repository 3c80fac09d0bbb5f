/* Broker restart mid-run: a broker of the test's own (tests/kafka/kafka.sh, a state directory
 * apart from the shared fixture's), the real worker and the simulator. While jobs flow the broker
 * is stopped and started again on the same ports and data (`kafka.sh restart`). Asserts nothing
 * is lost: every job gets a final result, the group's committed offsets reach the end of the
 * jobs topic, the worker drains cleanly on SIGTERM. Duplicates and the time to recover are
 * measured and printed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NJOBS      2000
#define PRODUCE_MS 8000 /* jobs are produced evenly over this long */
#define RESTART_AT 2000 /* the restart starts this long after the first job */

static struct kit_args args;

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

static void test_restart(void)
{
    const char *kafka_sh = getenv("SW_TEST_KAFKA_SH");
    char dir[1024], kafka_log[1024], bfile[1100], bootstrap[256] = "";
    char run[32], jobs[64], results[64], dlq[64], group[64];
    char accounts[1024], worker_log[1024], base_url[64], t_jobs[128], t_res[128], t_dlq[128];
    rd_kafka_t *prod = NULL, *reader = NULL;
    struct kit_tally t;
    pid_t sim = -1, worker = -1, restarter = -1;
    int port = 0, produced = 0, restarted = 0, i, failed = 0, extra_jobs = 0;
    int *copies = NULL;
    int64_t start = 0, r_begin = 0, r_end = 0, now, in_topic;
    int before_restart = 0, at_restart_end = 0;
    int64_t first_after = -1;
    long long w_consumed = -1, w_results = -1;
    FILE *f;

    memset(&t, 0, sizeof(t));
    CHECK(kafka_sh != NULL);
    if (!kafka_sh) {
        fprintf(stderr, "SW_TEST_KAFKA_SH must name tests/kafka/kafka.sh (ctest sets it)\n");
        return;
    }
    snprintf(dir, sizeof(dir), "%s/broker", args.work);
    snprintf(kafka_log, sizeof(kafka_log), "%s/kafka-sh.log", args.work);
    {
        char *argv[] = {(char *)kafka_sh, "start", dir, NULL};

        CHECK_INT(kit_run(argv, kafka_log, kit_deadline_ms(180000)), 0);
    }
    snprintf(bfile, sizeof(bfile), "%s/bootstrap", dir);
    f = fopen(bfile, "r");
    if (f) {
        if (!fgets(bootstrap, sizeof(bootstrap), f)) {
            bootstrap[0] = '\0';
        }
        fclose(f);
        bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
    }
    CHECK(bootstrap[0] != '\0');
    if (!bootstrap[0]) {
        goto out;
    }
    snprintf(run, sizeof(run), "rs%d", (int)getpid());
    snprintf(jobs, sizeof(jobs), "%s-jobs", run);
    snprintf(results, sizeof(results), "%s-results", run);
    snprintf(dlq, sizeof(dlq), "%s-dlq", run);
    snprintf(group, sizeof(group), "%s-group", run);
    CHECK(kit_tally_init(&t, run, NJOBS) == 0);
    CHECK(kit_create_topic(bootstrap, jobs, 4) == 0);
    CHECK(kit_create_topic(bootstrap, results, 4) == 0);
    CHECK(kit_create_topic(bootstrap, dlq, 1) == 0);

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
            "{\"api_key\":\"env:RS_KLAVIYO_KEY\"}},"
            "\"acme-sendgrid\":{\"provider\":\"sendgrid\",\"base_url\":\"%s\",\"credentials\":"
            "{\"api_key\":\"env:RS_SENDGRID_KEY\"}}}}\n",
            base_url, base_url);
    fclose(f);
    snprintf(worker_log, sizeof(worker_log), "%s/worker.log", args.work);
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", dlq);
    {
        char *wargv[] = {(char *)args.worker, "run", "--brokers", bootstrap, "--accounts", accounts,
                         "--group", group, "--set", t_jobs, "--set", t_res, "--set", t_dlq,
                         /* The broker restart is the subject, not Klaviyo's 750/min read limit. */
                         "--set", "ratelimit.mode=off", NULL};
        char *env[] = {"RS_KLAVIYO_KEY=sim-klaviyo-key", "RS_SENDGRID_KEY=sim-sendgrid-key",
                       "SEGWORKER_LOG_LEVEL=info", NULL};

        worker = kit_spawn(wargv, env, NULL, worker_log);
    }
    CHECK(worker > 0);
    prod = kit_producer(bootstrap);
    reader = kit_reader(bootstrap, results);
    CHECK(prod != NULL && reader != NULL);
    if (worker <= 0 || !prod || !reader) {
        goto out;
    }

    /* Job 0 first, so the worker has joined before the clock starts. */
    produce_job(prod, jobs, run, produced++);
    CHECK(kit_flush(prod) == 0);
    start = kit_now_ms();
    while (!t.complete && kit_now_ms() - start < kit_deadline_ms(30000)) {
        kit_tally_poll(&t, reader, 100, NULL, NULL);
    }
    CHECK_INT(t.complete, 1);
    printf("worker joined and answered job 0 after %lld ms\n", (long long)(kit_now_ms() - start));

    start = kit_now_ms();
    while (produced < NJOBS || !restarted) {
        int64_t due;

        now = kit_now_ms();
        due = (now - start) * NJOBS / PRODUCE_MS + 1;
        while (produced < NJOBS && produced < due) {
            produce_job(prod, jobs, run, produced++);
        }
        if (restarter < 0 && !restarted && now - start >= RESTART_AT) {
            /* In the background: jobs keep being produced (queued by the producer) and results
             * read while the broker is away. */
            char *argv[] = {(char *)kafka_sh, "restart", dir, NULL};

            printf("t=%5lld ms: broker restart begins (%d results so far)\n",
                   (long long)(now - start), t.complete);
            before_restart = t.complete;
            r_begin = now;
            restarter = kit_spawn(argv, NULL, kafka_log, kafka_log);
            CHECK(restarter > 0);
            if (restarter <= 0) {
                break;
            }
        }
        if (restarter > 0) {
            int rc = kit_wait(restarter, 0);

            if (rc >= 0) {
                CHECK_INT(rc, 0);
                r_end = kit_now_ms();
                at_restart_end = t.complete;
                restarter = -1;
                restarted = 1;
                printf("t=%5lld ms: broker back after %lld ms (%d results so far)\n",
                       (long long)(r_end - start), (long long)(r_end - r_begin), t.complete);
            } else if (now - r_begin > kit_deadline_ms(120000)) {
                fprintf(stderr, "kafka.sh restart did not finish\n");
                sw_test_failures++;
                break;
            }
        }
        rd_kafka_poll(prod, 0);
        kit_tally_poll(&t, reader, 20, NULL, NULL);
    }
    CHECK(kit_flush(prod) == 0);
    CHECK_INT(produced, NJOBS);

    /* Nothing lost: every job in the topic, a final result per job, offsets at the end. */
    in_topic = kit_topic_messages(bootstrap, jobs);
    CHECK(in_topic >= NJOBS);
    copies = calloc(NJOBS, sizeof(*copies));
    if (copies) {
        CHECK_INT(
            kit_count_jobs(bootstrap, jobs, run, NJOBS, copies, in_topic, kit_deadline_ms(30000)),
            in_topic);
        for (i = 0; i < NJOBS; i++) {
            if (!copies[i]) {
                fprintf(stderr, "job %d is not in the jobs topic\n", i);
                sw_test_failures++;
            }
            extra_jobs += copies[i] > 1 ? copies[i] - 1 : 0;
        }
    }
    CHECK(kit_tally_wait(&t, reader, kit_deadline_ms(90000), NULL, NULL) == 0);
    CHECK(kit_wait_committed_at_end(bootstrap, group, jobs, kit_deadline_ms(30000)) == 0);
    CHECK_INT(t.foreign, 0);
    for (i = 0; i < NJOBS; i++) {
        if (t.finals[i] && t.code[i][0] && failed++ < 5) {
            fprintf(stderr, "job %d failed: %s\n", i, t.code[i]);
        }
    }
    CHECK_INT(failed, 0);
    kit_signal(worker, SIGTERM);
    CHECK_INT(kit_wait(worker, kit_deadline_ms(30000)), 0);
    worker = -1;
    kit_tally_poll(&t, reader, 1000, NULL, NULL);
    if (kit_worker_counts(worker_log, &w_consumed, &w_results) == 0) {
        /* More result messages than the worker produced: copies made below it (the producer's
         * retries), not jobs it ran twice; more consumed than jobs stored: redelivery. */
        printf("worker: consumed %lld job messages, produced %lld results; the reader saw %d "
               "result messages\n",
               w_consumed, w_results, t.messages);
    }
    for (i = 0; i < NJOBS; i++) {
        if (t.finals[i] && t.final_ms[i] >= r_end &&
            (first_after < 0 || t.final_ms[i] - r_end < first_after)) {
            first_after = t.final_ms[i] - r_end;
        }
    }
    printf("broker restart: %d jobs (%d stored twice), %d final results, %d duplicate final(s), "
           "restart took %lld ms, %d results arrived during it, first new result %lld ms after "
           "the broker was back, last result %lld ms after, longest pause between results "
           "%lld ms\n",
           NJOBS, extra_jobs, t.complete, t.duplicates, (long long)(r_end - r_begin),
           at_restart_end - before_restart, (long long)first_after, (long long)(t.last_ms - r_end),
           (long long)t.max_gap_ms);
out:
    if (reader) {
        rd_kafka_consumer_close(reader);
        rd_kafka_destroy(reader);
    }
    if (prod) {
        rd_kafka_destroy(prod);
    }
    kit_kill(worker);
    if (restarter > 0) {
        kit_wait(restarter, kit_deadline_ms(120000));
    }
    if (sim > 0) {
        kit_signal(sim, SIGTERM);
        CHECK_INT(kit_wait(sim, kit_deadline_ms(10000)), 0);
    }
    {
        char *argv[] = {(char *)kafka_sh, "stop", dir, NULL};

        CHECK_INT(kit_run(argv, kafka_log, kit_deadline_ms(60000)), 0);
    }
    kit_tally_free(&t);
    free(copies);
}

static const struct sw_test_case tests[] = {
    {"broker_restart_mid_run", test_restart},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (kit_parse_args(argc, argv, "it_restart", &args) != 0) {
        return 2;
    }
    return sw_test_run(tests, NULL);
}
