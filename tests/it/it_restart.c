/* Broker restart mid-run: a broker of the test's own (tests/kafka/kafka.sh, a state directory
 * apart from the shared fixture's), the real worker and the simulator. While jobs flow the broker
 * is stopped and started again on the same ports and data (`kafka.sh restart`). Asserts nothing
 * is lost: every job gets a final result, the group's committed offsets reach the end of the
 * jobs topic, the worker drains cleanly on SIGTERM. Duplicates and the time to recover are
 * measured and printed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NJOBS      2000
#define PRODUCE_MS 8000 /* jobs are produced evenly over this long */
#define RESTART_AT 2000 /* the restart starts this long after the first job */

static struct kit_args args;

/* A broker of the test's own: kafka.sh start|restart|stop DIR. */
struct broker {
    const char *sh;
    char dir[1024];
    char log[1024];
    char bootstrap[256];
};

static int broker_cmd(const struct broker *b, const char *cmd, int64_t timeout_ms)
{
    char *argv[] = {(char *)b->sh, (char *)cmd, (char *)b->dir, NULL};

    return kit_run(argv, b->log, timeout_ms);
}

/* The restart, in the background while jobs flow and results are read. */
struct restart {
    pid_t pid;
    int done;
    int64_t begin, end;
    int results_before, results_at_end;
};

/* Produce on schedule, start the restart at RESTART_AT, notice its end; returns when every job
 * is produced and the broker is back. */
static void run_plan(const struct broker *b, rd_kafka_t *prod, rd_kafka_t *reader,
                     const struct kit_names *n, struct kit_tally *t, struct restart *rs)
{
    char *argv[] = {(char *)b->sh, "restart", (char *)b->dir, NULL};
    int64_t start = kit_now_ms();
    int produced = 1;

    while (produced < NJOBS || !rs->done) {
        int64_t now = kit_now_ms();

        CHECK(kit_load_pace(prod, n->jobs, n->tag, &produced, NJOBS, start, PRODUCE_MS) >= 0);
        if (rs->pid < 0 && !rs->done && now - start >= RESTART_AT) {
            /* Jobs keep being produced (queued by the producer) and results read while the
             * broker is away. */
            printf("t=%5lld ms: broker restart begins (%d results so far)\n",
                   (long long)(now - start), t->complete);
            rs->results_before = t->complete;
            rs->begin = now;
            rs->pid = kit_spawn(argv, NULL, b->log, b->log);
            CHECK(rs->pid > 0);
            if (rs->pid <= 0) {
                break;
            }
        }
        if (rs->pid > 0) {
            int rc = kit_wait(rs->pid, 0);

            if (rc >= 0) {
                CHECK_INT(rc, 0);
                rs->end = kit_now_ms();
                rs->results_at_end = t->complete;
                rs->pid = -1;
                rs->done = 1;
                printf("t=%5lld ms: broker back after %lld ms (%d results so far)\n",
                       (long long)(rs->end - start), (long long)(rs->end - rs->begin), t->complete);
            } else if (now - rs->begin > kit_deadline_ms(120000)) {
                fprintf(stderr, "kafka.sh restart did not finish\n");
                sw_test_failures++;
                break;
            }
        }
        rd_kafka_poll(prod, 0);
        kit_tally_poll(t, reader, 20);
    }
    CHECK(kit_flush(prod) == 0);
    CHECK_INT(produced, NJOBS);
}

static void test_restart(void)
{
    struct broker b = {.sh = getenv("SW_TEST_KAFKA_SH")};
    rd_kafka_t *prod = NULL, *reader = NULL;
    struct kit_names n;
    struct kit_tally t;
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};
    struct restart rs = {.pid = -1};
    int i, extra_jobs = 0;
    int64_t first_after = -1;

    memset(&t, 0, sizeof(t));
    CHECK(b.sh != NULL);
    if (!b.sh) {
        fprintf(stderr, "SW_TEST_KAFKA_SH must name tests/kafka/kafka.sh (ctest sets it)\n");
        return;
    }
    kit_path(b.dir, sizeof(b.dir), args.work, "broker");
    kit_path(b.log, sizeof(b.log), args.work, "kafka-sh.log");
    CHECK_INT(broker_cmd(&b, "start", kit_deadline_ms(180000)), 0);
    CHECK(kit_read_bootstrap(b.dir, b.bootstrap, sizeof(b.bootstrap)) == 0);
    if (!b.bootstrap[0]) {
        goto out;
    }
    kit_names_init(&n, "rs", NULL);
    CHECK(kit_tally_init(&t, n.tag, NJOBS) == 0);
    CHECK(kit_topics_create(b.bootstrap, &n, 4, 4, 0) == 0);
    CHECK(kit_sim_start(&sim, &args, NULL) == 0);
    CHECK(kit_load_worker(&w, &args, b.bootstrap, &n, &sim) == 0);
    CHECK(sim.pid > 0 && kit_worker_start(&w, args.work, "worker") > 0);
    prod = kit_producer(b.bootstrap);
    reader = kit_reader(b.bootstrap, n.results);
    CHECK(prod != NULL && reader != NULL);
    if (sim.pid <= 0 || w.pid <= 0 || !prod || !reader) {
        goto out;
    }
    /* Job 0 first, so the worker has joined before the clock starts. */
    CHECK(kit_load_first(prod, reader, &n, &t, kit_deadline_ms(30000)) == 0);
    run_plan(&b, prod, reader, &n, &t, &rs);
    /* Nothing lost: every job in the topic, a final result per job, offsets at the end. */
    CHECK_INT(kit_load_verify(b.bootstrap, &n, &t, reader, kit_deadline_ms(90000), &extra_jobs), 0);
    CHECK_INT(kit_load_stop(&w, &t, reader), 0);
    for (i = 0; i < NJOBS; i++) {
        const struct kit_job *j = &t.job[i];

        if (j->finals && j->read_ms >= rs.end &&
            (first_after < 0 || j->read_ms - rs.end < first_after)) {
            first_after = j->read_ms - rs.end;
        }
    }
    printf("broker restart: %d jobs (%d stored twice), %d final results, %d duplicate final(s), "
           "restart took %lld ms, %d results arrived during it, first new result %lld ms after "
           "the broker was back, last result %lld ms after, longest pause between results "
           "%lld ms\n",
           NJOBS, extra_jobs, t.complete, t.duplicates, (long long)(rs.end - rs.begin),
           rs.results_at_end - rs.results_before, (long long)first_after,
           (long long)(t.last_ms - rs.end), (long long)t.max_gap_ms);
out:
    kit_reader_close(reader);
    kit_producer_free(prod);
    kit_worker_kill(&w);
    if (rs.pid > 0) {
        kit_wait(rs.pid, kit_deadline_ms(120000));
    }
    CHECK_INT(kit_sim_stop(&sim), 0);
    CHECK_INT(broker_cmd(&b, "stop", kit_deadline_ms(60000)), 0);
    kit_tally_free(&t);
}

static const struct sw_test_case tests[] = {
    {"broker_restart_mid_run", test_restart},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_restart", args, tests)
