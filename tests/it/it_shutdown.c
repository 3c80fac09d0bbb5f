/* Stopping: SIGTERM stops taking jobs and lets provider calls under way finish, but does not
 * wait for jobs only queued behind a rate limiter (they stay uncommitted for the next owner).
 * Real broker, real simulator with
 * Klaviyo's limits enforced. The jobs a restart runs again are counted and printed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NJOBS 3000
#define NPART 6
#define GRACE "120000" /* far longer than the stop may take */

static struct kit_args args;

/* Job i: a get, one in three on the rate-limited Klaviyo account, keyed per account. */
static int produce_job(rd_kafka_t *prod, const struct kit_names *n, int i)
{
    char job[512], key[32];
    struct sim_klaviyo_segment k;
    struct sim_sendgrid_segment s;
    int kl = i % 3 == 0;
    int len;

    sim_klaviyo_segment(i % SIM_KLAVIYO_SEGMENTS, &k);
    sim_sendgrid_segment(i % SIM_SENDGRID_SEGMENTS, &s);
    len = snprintf(job, sizeof(job),
                   "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"%s\","
                   "\"account\":\"acme-%s\",\"params\":{\"id\":\"%s\"}}",
                   n->tag, i, kl ? "klaviyo" : "sendgrid", kl ? "klaviyo" : "sendgrid",
                   kl ? k.id : s.id);
    snprintf(key, sizeof(key), "%s-%d", kl ? "kl" : "sg", i % 17);
    return kit_produce(prod, n->jobs, key, job, (size_t)len);
}

static int start_worker(struct kit_worker *w, const struct kit_names *n, const struct kit_sim *sim,
                        const char *name)
{
    if (kit_load_worker(w, &args, args.bootstrap, n, sim) != 0) {
        return -1;
    }
    kit_worker_set(w, "ratelimit.mode=spec"); /* over kit_load_worker's "off" */
    kit_worker_set(w, "shutdown.grace_ms=" GRACE);
    return kit_worker_start(w, args.work, name) > 0 ? 0 : -1;
}

/* The scenario of a rate-limited tenant: SIGTERM while a third of the jobs queue behind
 * Klaviyo's limits. */
static void test_sigterm_under_rate_limit(void)
{
    char *sim_args[] = {"--enforce-limits", "1", NULL};
    struct kit_sim_opts so = {.args = sim_args};
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};
    struct kit_names n;
    struct kit_tally t;
    rd_kafka_t *prod = NULL, *reader = NULL;
    int i, before = 0;
    long long consumed = 0, results = 0;

    memset(&t, 0, sizeof(t));
    kit_names_init(&n, "sd", NULL);
    CHECK(kit_tally_init(&t, n.tag, NJOBS) == 0);
    CHECK(kit_topics_create(args.bootstrap, &n, NPART, NPART, NPART) == 0);
    CHECK(kit_sim_start(&sim, &args, &so) == 0);
    prod = kit_producer(args.bootstrap);
    reader = kit_reader(args.bootstrap, n.results);
    CHECK(prod && reader);
    if (sim.pid <= 0 || !prod || !reader || !t.job) {
        goto out;
    }
    for (i = 0; i < NJOBS; i++) {
        CHECK(produce_job(prod, &n, i) == 0);
    }
    CHECK(kit_flush(prod) == 0);
    CHECK(start_worker(&w, &n, &sim, "worker") == 0);
    /* Most SendGrid jobs are done by then; most Klaviyo jobs queue behind its limits. */
    CHECK(kit_tally_wait_for(&t, reader, NJOBS / 2, kit_deadline_ms(90000)) == 0);
    /* It exits long before the queued jobs could have run (over a minute at Klaviyo's read
     * limit) or the grace period could have ended, and with 0: no call was cut. */
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(30000)), 0);
    CHECK(kit_file_contains(w.log, "left uncommitted for the next owner"));
    kit_tally_read_to_end(&t, reader, n.results, NPART, kit_deadline_ms(30000));
    before = t.complete;
    CHECK(before < NJOBS);
    /* The next worker finishes the rest (its limiter starts afresh, so Klaviyo answers some
     * calls with a long Retry-After: those park in the retry topic); offsets reach the end. */
    CHECK(start_worker(&w, &n, &sim, "worker2") == 0);
    CHECK(kit_tally_wait(&t, reader, kit_deadline_ms(240000)) == 0);
    CHECK(kit_wait_committed_at_end(args.bootstrap, n.group, n.jobs, kit_deadline_ms(60000)) == 0);
    CHECK(kit_wait_committed_at_end(args.bootstrap, n.group, n.retry, kit_deadline_ms(60000)) == 0);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(30000)), 0);
    CHECK(kit_worker_counts(&w, &consumed, &results) == 0);
    printf("sigterm under a rate limit: %d of %d jobs had a final result at the stop; the restart "
           "consumed %lld jobs and ran %d finished ones again (duplicate finals)\n",
           before, NJOBS, consumed, t.duplicates);
    for (i = 0; i < NJOBS; i++) {
        if (t.job[i].finals && !t.job[i].succeeded) {
            fprintf(stderr, "job %d: %s %s\n", i, t.job[i].status, t.job[i].code);
            sw_test_failures++;
            break;
        }
    }
out:
    kit_reader_close(reader);
    kit_producer_free(prod);
    kit_worker_kill(&w);
    CHECK_INT(kit_sim_stop(&sim), 0);
    kit_tally_free(&t);
}

static const struct sw_test_case tests[] = {
    {"sigterm_under_rate_limit", test_sigterm_under_rate_limit},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_shutdown", args, tests)
