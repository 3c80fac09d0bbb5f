/* The event loop never waits for the broker. A mock cluster (librdkafka's, in this process)
 * answers every request 2 s late and has no retry topic; the real `segworker run` works through
 * a batch of jobs against the real simulator. The worker's lookups of the retry topic and of the
 * jobs topic's partitions (for its rate-limit share) then each take a 2 s round trip: were any
 * of them made on the loop thread, that turn would take 2 s. Asserts, by counts: every job gets
 * its final result, the worker looked the retry topic up (and logged it missing), the loop
 * turned many times, and not one turn took as long as a broker round trip
 * (segworker_loop_turn_seconds has no sample above 1 s).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "opskit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NJOBS      200
#define NPARTS     4
#define BROKER_RTT 2000 /* ms, on every broker response */

static struct kit_args args;

static void produce_jobs(rd_kafka_t *prod, const char *topic, const char *run)
{
    char job[512], key[16];
    int i, n;

    for (i = 0; i < NJOBS; i++) {
        struct sim_klaviyo_segment k;

        sim_klaviyo_segment(i % SIM_KLAVIYO_SEGMENTS, &k);
        n = snprintf(job, sizeof(job),
                     "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":"
                     "\"klaviyo\",\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"%s\"}}",
                     run, i, k.id);
        snprintf(key, sizeof(key), "k%d", i % 13);
        CHECK(kit_produce(prod, topic, key, job, (size_t)n) == 0);
    }
    CHECK(kit_flush(prod) == 0);
}

static void test_loop_never_waits_for_the_broker(void)
{
    char run[32], jobs[64], results[64], dlq[64], retry[64], group[64];
    char accounts[1024], worker_log[1024], bootstrap[512], err[256];
    char t_jobs[128], t_res[128], t_dlq[128], t_retry[128];
    char scrape[1 << 16];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *owner = NULL, *prod = NULL, *reader = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    struct kit_tally t;
    pid_t sim = -1, worker = -1;
    int port = 0, admin = -1;
    double turns = -1, within_1s = -1, longest = -1;
    FILE *f;

    snprintf(run, sizeof(run), "loop%d", (int)getpid());
    snprintf(jobs, sizeof(jobs), "%s-jobs", run);
    snprintf(results, sizeof(results), "%s-results", run);
    snprintf(dlq, sizeof(dlq), "%s-dlq", run);
    snprintf(retry, sizeof(retry), "%s-jobs.retry", run); /* never created */
    snprintf(group, sizeof(group), "%s-group", run);
    CHECK(kit_tally_init(&t, run, NJOBS) == 0);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    CHECK(owner != NULL);
    if (!owner) {
        rd_kafka_conf_destroy(conf);
        kit_tally_free(&t);
        return;
    }
    mc = rd_kafka_mock_cluster_new(owner, 1);
    CHECK(mc != NULL);
    if (!mc) {
        goto out;
    }
    snprintf(bootstrap, sizeof(bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(mc));
    CHECK_INT(rd_kafka_mock_topic_create(mc, jobs, NPARTS, 1), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, results, NPARTS, 1), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, dlq, 1, 1), 0);
    /* The test's own clients connect before the broker turns slow. */
    prod = kit_producer(bootstrap);
    reader = kit_reader(bootstrap, results);
    CHECK(prod != NULL && reader != NULL);
    if (!prod || !reader) {
        goto out;
    }
    produce_jobs(prod, jobs, run);
    CHECK_INT(rd_kafka_mock_broker_set_rtt(mc, 1, BROKER_RTT), 0);

    sim = kit_start_sim(args.sim, args.work, &port);
    CHECK(sim > 0);
    if (sim <= 0) {
        goto out;
    }
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", args.work);
    f = fopen(accounts, "w");
    CHECK(f != NULL);
    if (!f) {
        goto out;
    }
    fprintf(f,
            "{\"accounts\":{\"acme-klaviyo\":{\"provider\":\"klaviyo\",\"base_url\":"
            "\"http://127.0.0.1:%d\",\"credentials\":{\"api_key\":\"env:LOOP_KLAVIYO_KEY\"}}}}\n",
            port);
    fclose(f);
    snprintf(worker_log, sizeof(worker_log), "%s/worker.log", args.work);
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", dlq);
    snprintf(t_retry, sizeof(t_retry), "topics.retry=%s", retry);
    {
        char *wargv[] = {(char *)args.worker,
                         "run",
                         "--brokers",
                         bootstrap,
                         "--accounts",
                         accounts,
                         "--group",
                         group,
                         "--set",
                         t_jobs,
                         "--set",
                         t_res,
                         "--set",
                         t_dlq,
                         "--set",
                         t_retry,
                         "--set",
                         "http_addr=127.0.0.1:0",
                         "--set",
                         "ratelimit.mode=spec",
                         NULL};
        char *env[] = {"LOOP_KLAVIYO_KEY=sim-klaviyo-key", "SEGWORKER_LOG_LEVEL=info", NULL};

        worker = kit_spawn(wargv, env, NULL, worker_log);
    }
    CHECK(worker > 0);
    if (worker <= 0) {
        goto out;
    }
    admin = ops_admin_port(worker_log, kit_deadline_ms(20000));
    CHECK(admin > 0);

    /* Every job ends, though each broker answer takes 2 s. */
    CHECK(kit_tally_wait(&t, reader, kit_deadline_ms(180000), NULL, NULL) == 0);
    CHECK_INT(t.foreign, 0);
    /* The lookups happened meanwhile: the retry topic was found missing (a 2 s round trip). */
    CHECK(ops_wait_file_contains(worker_log, "does not exist", kit_deadline_ms(30000)) == 0);
    CHECK(ops_wait_file_contains(worker_log, "rate-limit share", kit_deadline_ms(30000)) == 0);
    if (admin > 0 && kit_http_get(admin, "/metrics", scrape, sizeof(scrape)) == 200) {
        turns = ops_metric(scrape, "segworker_loop_turn_seconds_count");
        within_1s = ops_metric(scrape, "segworker_loop_turn_seconds_bucket{le=\"1\"}");
        longest = ops_metric(scrape, "segworker_loop_turn_max_seconds");
    }
    printf("loop: %.0f turns, %.0f of them within 1 s, longest %.3f s; broker RTT %d ms\n", turns,
           within_1s, longest, BROKER_RTT);
    CHECK(turns >= NJOBS);     /* it kept turning: at least a turn per job */
    CHECK(within_1s == turns); /* and never waited out a broker round trip */
    kit_signal(worker, SIGTERM);
    CHECK_INT(kit_wait(worker, kit_deadline_ms(60000)), 0);
    worker = -1;
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
}

static const struct sw_test_case tests[] = {
    {"loop_never_waits_for_the_broker", test_loop_never_waits_for_the_broker},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (kit_parse_args(argc, argv, "it_loop", &args) != 0) {
        return 2;
    }
    return sw_test_run(tests, NULL);
}
