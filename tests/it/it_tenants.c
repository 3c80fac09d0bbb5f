/* A rate-limited account holds no one else up: jobs queued behind its limit do not take the
 * running slots other accounts need, and SIGTERM does not wait for them (it lets provider calls
 * under way finish; the queued jobs stay uncommitted for the next owner). Real broker, real
 * simulator with Klaviyo's limits enforced. The jobs a restart runs again are counted and printed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NJOBS 3000
#define NPART 6
#define GRACE "120000" /* far longer than the stop may take */

static struct kit_args args;

/* One scenario: its topics, a simulator enforcing the providers' limits, its jobs produced
 * (a get on the rate-limited Klaviyo account or on SendGrid, keyed per account), a reader. */
struct scene {
    struct kit_names n;
    struct kit_tally t;
    struct kit_sim sim;
    struct kit_worker w;
    rd_kafka_t *prod, *reader;
};

typedef int (*on_klaviyo_fn)(int i);

/* 0 when everything is up and every job was produced. */
static int scene_init(struct scene *sc, const char *base, int njobs, int nparts, int retry,
                      on_klaviyo_fn on_klaviyo)
{
    char *sim_args[] = {"--enforce-limits", "1", NULL};
    struct kit_sim_opts so = {.args = sim_args};
    char key[32];
    int i;

    memset(sc, 0, sizeof(*sc));
    sc->sim.pid = sc->w.pid = -1;
    kit_names_init(&sc->n, base, NULL);
    CHECK(kit_tally_init(&sc->t, sc->n.tag, njobs) == 0);
    CHECK(kit_topics_create(args.bootstrap, &sc->n, nparts, nparts, retry ? nparts : 0) == 0);
    CHECK(kit_sim_start(&sc->sim, &args, &so) == 0);
    sc->prod = kit_producer(args.bootstrap);
    sc->reader = kit_reader(args.bootstrap, sc->n.results);
    CHECK(sc->prod && sc->reader);
    if (sc->sim.pid <= 0 || !sc->prod || !sc->reader || !sc->t.job) {
        return -1;
    }
    for (i = 0; i < njobs; i++) {
        int kl = on_klaviyo(i);

        snprintf(key, sizeof(key), "%s-%d", kl ? "kl" : "sg", i % 17);
        CHECK(kit_load_produce_on(sc->prod, sc->n.jobs, sc->n.tag, i, kl, key) == 0);
    }
    CHECK(kit_flush(sc->prod) == 0);
    return 0;
}

static void scene_free(struct scene *sc)
{
    kit_reader_close(sc->reader);
    kit_producer_free(sc->prod);
    kit_worker_kill(&sc->w);
    CHECK_INT(kit_sim_stop(&sc->sim), 0);
    kit_tally_free(&sc->t);
}

static int one_in_three(int i)
{
    return i % 3 == 0;
}

static int one_in_two(int i)
{
    return i % 2 == 0;
}

static int start_worker(struct kit_worker *w, const struct kit_names *n, const struct kit_sim *sim,
                        const char *name, const char *max_in_flight)
{
    if (kit_load_worker(w, &args, args.bootstrap, n, sim) != 0) {
        return -1;
    }
    kit_worker_set(w, "ratelimit.mode=spec"); /* over kit_load_worker's "off" */
    kit_worker_set(w, "shutdown.grace_ms=" GRACE);
    /* A restarted worker's limiter starts afresh: Klaviyo may then ask for a wait of up to its
     * minute window, which keyed jobs (never parked) wait out rather than fail. */
    kit_worker_set(w, "retry.max_backoff_ms=120000");
    kit_worker_set(w, "worker.max_in_flight=%s", max_in_flight);
    return kit_worker_start(w, args.work, name) > 0 ? 0 : -1;
}

/* The scenario of a rate-limited tenant: SIGTERM while a third of the jobs queue behind
 * Klaviyo's limits. */
static void test_sigterm_under_rate_limit(void)
{
    struct scene sc;
    struct kit_tally *t = &sc.t;
    int before = 0;
    long long consumed = 0, results = 0;

    if (scene_init(&sc, "sd", NJOBS, NPART, 1, one_in_three) != 0) {
        goto out;
    }
    CHECK(start_worker(&sc.w, &sc.n, &sc.sim, "worker", "1000") == 0);
    /* Most SendGrid jobs are done by then; most Klaviyo jobs queue behind its limits. */
    CHECK(kit_tally_wait_for(t, sc.reader, NJOBS / 2, kit_deadline_ms(90000)) == 0);
    /* It exits long before the queued jobs could have run (over a minute at Klaviyo's read
     * limit) or the grace period could have ended, and with 0: no call was cut. */
    CHECK_INT(kit_worker_stop(&sc.w, kit_deadline_ms(30000)), 0);
    CHECK(kit_file_contains(sc.w.log, "left uncommitted for the next owner"));
    kit_tally_read_to_end(t, sc.reader, sc.n.results, NPART, kit_deadline_ms(30000));
    before = t->complete;
    CHECK(before < NJOBS);
    /* The next worker finishes the rest (its limiter starts afresh, so Klaviyo answers some
     * calls with a long Retry-After: those park in the retry topic); offsets reach the end. */
    CHECK(start_worker(&sc.w, &sc.n, &sc.sim, "worker2", "1000") == 0);
    CHECK(kit_tally_wait(t, sc.reader, kit_deadline_ms(240000)) == 0);
    CHECK(kit_wait_committed_at_end(args.bootstrap, sc.n.group, sc.n.jobs,
                                    kit_deadline_ms(60000)) == 0);
    CHECK(kit_wait_committed_at_end(args.bootstrap, sc.n.group, sc.n.retry,
                                    kit_deadline_ms(60000)) == 0);
    CHECK_INT(kit_worker_stop(&sc.w, kit_deadline_ms(30000)), 0);
    CHECK(kit_worker_counts(&sc.w, &consumed, &results) == 0);
    printf("sigterm under a rate limit: %d of %d jobs had a final result at the stop; the restart "
           "consumed %lld jobs and ran %d finished ones again (duplicate finals)\n",
           before, NJOBS, consumed, t->duplicates);
    CHECK_INT(kit_tally_failed(t), 0);
out:
    scene_free(&sc);
}

/* Two accounts in one partition, Klaviyo's held to its read limit (750/min) with 1,000 jobs
 * queued, interleaved with 1,000 SendGrid jobs, and a small window: the SendGrid jobs finish
 * without waiting for the Klaviyo ones. */
static void test_limited_account_holds_no_one(void)
{
    struct scene sc;
    int i, sg_done = 0, kl_done = 0, each = NJOBS / 3;
    int64_t end;

    if (scene_init(&sc, "tn", 2 * each, 1, 0, one_in_two) != 0) {
        goto out;
    }
    CHECK(start_worker(&sc.w, &sc.n, &sc.sim, "isolated", "50") == 0);
    end = kit_now_ms() + kit_deadline_ms(120000);
    while (sg_done < each && kit_now_ms() < end) {
        kit_tally_poll(&sc.t, sc.reader, 200);
        for (i = 0, sg_done = 0, kl_done = 0; i < 2 * each; i++) {
            sg_done += !one_in_two(i) && sc.t.job[i].finals > 0;
            kl_done += one_in_two(i) && sc.t.job[i].finals > 0;
        }
    }
    printf("isolation: all %d SendGrid jobs finished (%d) while %d of %d Klaviyo jobs had\n", each,
           sg_done, kl_done, each);
    CHECK_INT(sg_done, each);
    /* Klaviyo's read limit lets at most 75 + 750/min through: with the SendGrid jobs waiting
     * for it, they would end only after nearly all the Klaviyo ones. */
    CHECK(kl_done <= each / 2);
    CHECK_INT(kit_worker_stop(&sc.w, kit_deadline_ms(30000)), 0);
out:
    scene_free(&sc);
}

static const struct sw_test_case tests[] = {
    {"limited_account_holds_no_one", test_limited_account_holds_no_one},
    {"sigterm_under_rate_limit", test_sigterm_under_rate_limit},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_tenants", args, tests)
