/* The event loop never waits for the broker. A mock cluster (librdkafka's, in this process)
 * answers every request 2 s late and has no retry topic; the real `segworker run`, its producer
 * queue cut to 5 messages, works through a batch of jobs against the real simulator. The
 * worker's lookups of the retry topic, of the jobs topic (whether a broker answers and it
 * exists) and of its partitions (for the rate-limit share) then each take a 2 s round trip:
 * were any of them made on the loop thread, that turn
 * would take 2 s; and results wait in the worker's backlog, not in a loop waiting for queue
 * room. Asserts, by counts: every job gets exactly one final result, the worker looked the jobs
 * topic up (and logged it found), the loop turned many times, and not one turn took as long
 * as a broker round trip (segworker_loop_turn_seconds has no sample above 1 s).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_test.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NJOBS      200
#define NPARTS     4
#define BROKER_RTT 2000 /* ms, on every broker response */

static struct kit_args args;

static void test_loop_never_waits_for_the_broker(void)
{
    char bootstrap[512];
    rd_kafka_t *owner = kit_mock_owner(), *prod = NULL, *reader = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    struct kit_names n;
    struct kit_tally t;
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};
    char *scrape = NULL;
    char scrape_path[1100];
    double turns = -1, within_1s = -1, longest = -1;
    int admin, i;

    kit_names_init(&n, "loop", NULL);
    CHECK(kit_tally_init(&t, n.tag, NJOBS) == 0);
    mc = owner ? rd_kafka_mock_cluster_new(owner, 1) : NULL;
    CHECK(mc != NULL);
    if (!mc) {
        goto out;
    }
    snprintf(bootstrap, sizeof(bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(mc));
    /* No retry topic: the worker is pointed at n.retry, which is never created. */
    CHECK_INT(rd_kafka_mock_topic_create(mc, n.jobs, NPARTS, 1), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, n.results, NPARTS, 1), 0);
    CHECK_INT(rd_kafka_mock_topic_create(mc, n.dlq, 1, 1), 0);
    /* The test's own clients connect, and the jobs are in, before the broker turns slow. */
    prod = kit_producer(bootstrap);
    reader = kit_reader(bootstrap, n.results);
    CHECK(prod != NULL && reader != NULL);
    if (!prod || !reader) {
        goto out;
    }
    for (i = 0; i < NJOBS; i++) {
        CHECK(kit_load_produce(prod, n.jobs, n.tag, i) == 0);
    }
    CHECK(kit_flush(prod) == 0);
    CHECK_INT(rd_kafka_mock_broker_set_rtt(mc, 1, BROKER_RTT), 0);

    CHECK(kit_sim_start(&sim, &args, NULL) == 0);
    CHECK(kit_load_worker(&w, &args, bootstrap, &n, &sim) == 0);
    /* The rate-limit share is recomputed from the jobs topic's partition count: a lookup. */
    kit_worker_set(&w, "ratelimit.mode=spec");
    kit_worker_set(&w, "http_addr=127.0.0.1:0");
    /* A producer queue of 5 messages against a 2 s broker: results wait in the worker's own
     * backlog (in order) instead of the loop waiting for room. */
    kit_worker_set(&w, "kafka.producer.queue.buffering.max.messages=5");
    CHECK(sim.pid > 0 && kit_worker_start(&w, args.work, "worker") > 0);
    if (sim.pid <= 0 || w.pid <= 0) {
        goto out;
    }
    admin = kit_worker_admin_port(&w, kit_deadline_ms(20000));
    CHECK(admin > 0);

    /* Every job ends, though each broker answer takes 2 s. */
    CHECK(kit_tally_wait(&t, reader, kit_deadline_ms(180000)) == 0);
    CHECK_INT(t.foreign, 0);
    CHECK_INT(t.duplicates, 0);
    CHECK_INT(kit_tally_failed(&t), 0);
    /* The lookups happened meanwhile, each a 2 s round trip. */
    CHECK(kit_wait_file_contains(w.log, "the jobs topic", kit_deadline_ms(30000)) == 0);
    CHECK(kit_wait_file_contains(w.log, "rate-limit share", kit_deadline_ms(30000)) == 0);
    kit_path(scrape_path, sizeof(scrape_path), args.work, "metrics.txt");
    scrape = admin > 0 ? kit_scrape(admin, scrape_path) : NULL;
    CHECK(scrape != NULL);
    if (scrape) {
        turns = kit_metric(scrape, "segworker_loop_turn_seconds_count");
        within_1s = kit_metric(scrape, "segworker_loop_turn_seconds_bucket{le=\"1\"}");
        longest = kit_metric(scrape, "segworker_loop_turn_max_seconds");
    }
    printf("loop: %.0f turns, %.0f of them within 1 s, longest %.3f s; broker RTT %d ms\n", turns,
           within_1s, longest, BROKER_RTT);
    CHECK(turns >= NJOBS);     /* it kept turning: at least a turn per job */
    CHECK(within_1s == turns); /* and never waited out a broker round trip */
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
out:
    free(scrape);
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
    {"loop_never_waits_for_the_broker", test_loop_never_waits_for_the_broker},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_loop", args, tests)
