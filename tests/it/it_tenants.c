/* A rate-limited account holds no one else up: jobs queued behind its limit do not take the
 * running slots other accounts need, and SIGTERM does not wait for them (it lets provider calls
 * under way finish; the queued jobs stay uncommitted for the next owner). Real broker, real
 * simulator with Klaviyo's limits enforced. The jobs a restart runs again are counted and printed.
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

/* Job i: a get on the rate-limited Klaviyo account (kl) or on SendGrid, keyed per account. */
static int produce_job(rd_kafka_t *prod, const struct kit_names *n, int i, int kl)
{
    char job[512], key[32];
    struct sim_klaviyo_segment k;
    struct sim_sendgrid_segment s;
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
                        const char *name, const char *max_in_flight)
{
    if (kit_load_worker(w, &args, args.bootstrap, n, sim) != 0) {
        return -1;
    }
    kit_worker_set(w, "ratelimit.mode=spec"); /* over kit_load_worker's "off" */
    kit_worker_set(w, "shutdown.grace_ms=" GRACE);
    kit_worker_set(w, "worker.max_in_flight=%s", max_in_flight);
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
        CHECK(produce_job(prod, &n, i, i % 3 == 0) == 0);
    }
    CHECK(kit_flush(prod) == 0);
    CHECK(start_worker(&w, &n, &sim, "worker", "1000") == 0);
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
    CHECK(start_worker(&w, &n, &sim, "worker2", "1000") == 0);
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

/* Two accounts in one partition, Klaviyo's held to its read limit (750/min) with 1,000 jobs
 * queued, interleaved with 1,000 SendGrid jobs, and a small window: the SendGrid jobs finish
 * without waiting for the Klaviyo ones. */
static void test_limited_account_holds_no_one(void)
{
    char *sim_args[] = {"--enforce-limits", "1", NULL};
    struct kit_sim_opts so = {.args = sim_args};
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};
    struct kit_names n;
    struct kit_tally t;
    rd_kafka_t *prod = NULL, *reader = NULL;
    int i, sg_done = 0, kl_done = 0, each = NJOBS / 3;
    int64_t end;

    memset(&t, 0, sizeof(t));
    kit_names_init(&n, "tn", NULL);
    CHECK(kit_tally_init(&t, n.tag, 2 * each) == 0);
    CHECK(kit_topics_create(args.bootstrap, &n, 1, 1, 0) == 0);
    CHECK(kit_sim_start(&sim, &args, &so) == 0);
    prod = kit_producer(args.bootstrap);
    reader = kit_reader(args.bootstrap, n.results);
    CHECK(prod && reader);
    if (sim.pid <= 0 || !prod || !reader || !t.job) {
        goto out;
    }
    for (i = 0; i < 2 * each; i++) {
        CHECK(produce_job(prod, &n, i, i % 2 == 0) == 0);
    }
    CHECK(kit_flush(prod) == 0);
    CHECK(start_worker(&w, &n, &sim, "isolated", "50") == 0);
    end = kit_now_ms() + kit_deadline_ms(120000);
    while (sg_done < each && kit_now_ms() < end) {
        kit_tally_poll(&t, reader, 200);
        for (i = 0, sg_done = 0, kl_done = 0; i < 2 * each; i++) {
            sg_done += i % 2 == 1 && t.job[i].finals > 0;
            kl_done += i % 2 == 0 && t.job[i].finals > 0;
        }
    }
    printf("isolation: all %d SendGrid jobs finished (%d) while %d of %d Klaviyo jobs had\n", each,
           sg_done, kl_done, each);
    CHECK_INT(sg_done, each);
    /* Klaviyo's read limit lets at most 75 + 750/min through: with the SendGrid jobs waiting
     * for it, they would end only after nearly all the Klaviyo ones. */
    CHECK(kl_done <= each / 2);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(30000)), 0);
out:
    kit_reader_close(reader);
    kit_producer_free(prod);
    kit_worker_kill(&w);
    CHECK_INT(kit_sim_stop(&sim), 0);
    kit_tally_free(&t);
}

static const struct sw_test_case tests[] = {
    {"limited_account_holds_no_one", test_limited_account_holds_no_one},
    {"sigterm_under_rate_limit", test_sigterm_under_rate_limit},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_tenants", args, tests)
