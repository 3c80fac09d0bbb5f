/* Reliability against a real Kafka broker and the simulator over sockets:
 *  - crash: 20,000 jobs, 5% 503 and 2% 429 with Retry-After, the worker SIGKILLed 10 times at
 *    random moments: every job ends with a final result, a committed offset never passes a job
 *    without one, duplicates are counted; the same in transactional mode, where a read_committed
 *    reader sees exactly one final result per job;
 *  - rebalance: two workers, a third joining and one leaving mid-run: nothing lost, and the
 *    simulator saw every key's requests in job order;
 *  - Retry-After: no request of the account arrives before the time the provider stated, and
 *    back-off retries are spread by jitter;
 *  - rate limits: 3x Klaviyo's read limit offered against a simulator enforcing it: no 429 with
 *    the spec's limits; with limits unknown the 429s stop after the first ones;
 *  - retry topic: a wait longer than retry.max_inline_ms parks the job and it comes back;
 *  - SIGTERM under load: exit 0 within the grace period, offsets committed for every result.
 * Jobs are keyed by account (64 SendGrid accounts), as docs/RELIABILITY.md advises for exact rate
 * limits. SW_TEST_SCALE_DIV (e.g. 10 under sanitizers) divides the crash test's job count.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPART   6
#define SG_KEY  "rel-sendgrid-key"
#define KL_KEY  "rel-klaviyo-key"
#define NACCTS  64
#define MAXARGS 32

static struct kit_args A;

/* One scenario's run: its own topics, group, simulator, account store and results. */
struct run {
    struct kit_names n;
    char dir[1024], accounts[1100];
    struct kit_delivery *at; /* where each job landed */
    struct kit_tally t;      /* its results, read by a read_committed reader */
    rd_kafka_t *reader;
    struct kit_sim sim;
};

typedef void (*make_fn)(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn);

/* ---- setup ---- */

/* The simulator expects the test's keys; one Klaviyo account, NACCTS SendGrid accounts. */
static int write_accounts(struct run *r)
{
    struct kit_accounts acc;
    char url[128], name[16];
    int a;

    kit_accounts_init(&acc);
    kit_sim_url(&r->sim, "klaviyo", url, sizeof(url));
    kit_account_set(&acc, kit_account(&acc, "kl", "klaviyo", url), "credentials", "api_key",
                    "env:REL_KL_KEY");
    for (a = 0; a < NACCTS; a++) {
        snprintf(name, sizeof(name), "sg%d", a);
        kit_account_set(&acc, kit_account(&acc, name, "sendgrid", url), "credentials", "api_key",
                        "env:REL_SG_KEY");
    }
    return kit_accounts_write(&acc, r->accounts);
}

static void run_free(struct run *r);

/* Set a run up; on failure it is a failed check, and the run is freed. */
static int run_init(struct run *r, const char *name, int n, int jobs_parts, char *const sim_args[])
{
    char *args[MAXARGS] = {"--key", "klaviyo=" KL_KEY, "--key", "sendgrid=" SG_KEY, NULL};
    struct kit_sim_opts so = {.args = args};
    int na = 4;

    while (sim_args && *sim_args && na < MAXARGS - 1) {
        args[na++] = *sim_args++;
    }
    args[na] = NULL;
    memset(r, 0, sizeof(*r));
    r->sim.pid = -1;
    kit_names_init(&r->n, "rel", name);
    kit_path(r->dir, sizeof(r->dir), A.work, name);
    kit_path(r->accounts, sizeof(r->accounts), r->dir, "accounts.json");
    so.dir = r->dir;
    mkdir(r->dir, 0755);
    r->at = calloc((size_t)n, sizeof(*r->at));
    if (!r->at || kit_tally_init(&r->t, r->n.tag, n) ||
        kit_topics_create(A.bootstrap, &r->n, jobs_parts, NPART, NPART) ||
        kit_sim_start(&r->sim, &A, &so) || write_accounts(r) ||
        !(r->reader = kit_reader_committed(A.bootstrap, r->n.results, NPART))) {
        CHECK(!"setup");
        run_free(r);
        return -1;
    }
    return 0;
}

static void run_free(struct run *r)
{
    kit_reader_close(r->reader);
    kit_sim_kill(&r->sim);
    kit_tally_free(&r->t);
    free(r->at);
}

/* ---- jobs ---- */

/* Produce jobs [from, to), paced at per_s per second when per_s > 0 (load shaping, not a wait),
 * remembering where each landed. */
static int produce_jobs(struct run *r, make_fn make, int from, int to, int per_s)
{
    rd_kafka_t *rk = kit_producer(A.bootstrap);
    char job[2048], key[64];
    int64_t t0 = kit_now_ms();
    int i, missing = 0;

    if (!rk) {
        return -1;
    }
    kit_producer_track(rk, r->at, r->t.n);
    for (i = from; i < to; i++) {
        make(r, i, job, sizeof(job), key, sizeof(key));
        if (per_s > 0) {
            int64_t due = t0 + (int64_t)(i - from) * 1000 / per_s;
            int64_t now = kit_now_ms();

            if (due > now) {
                kit_nap_ms((long)(due - now));
            }
        }
        missing += kit_produce_tracked(rk, r->n.jobs, key, job, strlen(job), i) != 0;
        rd_kafka_poll(rk, 0);
    }
    missing += kit_flush(rk) != 0;
    kit_producer_free(rk);
    for (i = from; i < to; i++) {
        missing += !r->at[i].acked;
    }
    return missing ? -1 : 0;
}

/* SendGrid gets, keyed k0..k63, each key on one of the accounts. */
static void make_sg_get(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    struct sim_sendgrid_segment s;
    int k = i % 64;

    sim_sendgrid_segment(i % 12, &s);
    snprintf(key, kn, "k%d", k);
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg%d\",\"params\":{\"id\":\"%s\"}}",
             r->n.tag, i, k % NACCTS, s.id);
}

/* ---- results ---- */

static int wait_finals(struct run *r, int want, int64_t timeout_ms)
{
    return kit_tally_wait_for(&r->t, r->reader, want, timeout_ms);
}

/* Everything the results topic holds right now (the workers are stopped). */
static int read_to_end(struct run *r, int64_t timeout_ms)
{
    return kit_tally_read_to_end(&r->t, r->reader, r->n.results, NPART, timeout_ms);
}

/* Jobs before a committed offset without a final result: the one thing that must never be. */
static int committed_ahead(struct run *r)
{
    int64_t c[NPART];
    int i, bad = 0;

    if (kit_committed(A.bootstrap, r->n.group, r->n.jobs, c, NPART) != 0) {
        return -1;
    }
    for (i = 0; i < r->t.n; i++) {
        if (r->at[i].offset < c[r->at[i].partition] && r->t.job[i].finals == 0) {
            if (bad++ < 5) {
                fprintf(stderr, "job %d (partition %d offset %lld) committed without a result\n", i,
                        (int)r->at[i].partition, (long long)r->at[i].offset);
            }
        }
    }
    return bad;
}

/* ---- worker ---- */

/* A worker on the run's topics and group, logging to dir/<name>.log, with a short session so a
 * killed one's partitions move on quickly. */
static pid_t spawn_worker(struct kit_worker *w, const struct run *r, const char *name,
                          char *const extra[])
{
    kit_worker_init_run(w, &A, A.bootstrap, r->accounts, &r->n);
    kit_worker_set(w, "retry.base_ms=50");
    kit_worker_set(w, "kafka.consumer.session.timeout.ms=6000");
    kit_worker_set(w, "kafka.consumer.heartbeat.interval.ms=500");
    kit_worker_args(w, extra);
    kit_worker_env(w, "REL_SG_KEY=" SG_KEY);
    kit_worker_env(w, "REL_KL_KEY=" KL_KEY);
    return kit_worker_start(w, r->dir, name);
}

static double json_num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    if (b) {
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    }
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Wait until the worker's log says it consumes (its signal handlers are set long before). */
static int wait_started(const struct kit_worker *w, int64_t timeout_ms)
{
    return kit_wait_file_contains(w->log, "assigned", timeout_ms);
}

/* ---- crash ---- */

static void crash_run(int transactional)
{
    char *sim_args[] = {"--fault", "sendgrid:rate_503=0.05",   "--fault", "sendgrid:rate_429=0.02",
                        "--fault", "sendgrid:retry_after_s=1", "--fault", "sendgrid:seed=7",
                        NULL};
    char inst[128], txn[128];
    char *extra[] = {"--set", inst,
                     "--set", txn,
                     "--set", transactional ? "delivery=transactional" : "delivery=at-least-once",
                     NULL};
    struct run r;
    struct kit_worker w;
    int n = 20000 / kit_scale_div();
    int kills = kit_scale_div() > 1 ? 3 : 10;
    int k, ahead = 0, last = 0;
    int64_t t0 = kit_now_ms();

    if (run_init(&r, transactional ? "crash-txn" : "crash", n, NPART, sim_args) != 0) {
        return;
    }
    snprintf(inst, sizeof(inst), "kafka.consumer.group.instance.id=%s-w", r.n.tag);
    snprintf(txn, sizeof(txn), "transaction.id=%s-txn", r.n.tag);
    CHECK(produce_jobs(&r, make_sg_get, 0, n, 0) == 0);
    srand((unsigned)getpid());
    for (k = 0; k < kills; k++) {
        char name[32];
        int step = n / (kills * 2) > 0 ? n / (kills * 2) : 1;

        snprintf(name, sizeof(name), "worker-%d", k);
        CHECK(spawn_worker(&w, &r, name, extra) > 0);
        /* Kill at a random moment once it has made some progress (or, when every job already
         * has its result, once it is up: the redelivered work is then what it is doing). */
        if (last < n) {
            int want = last + 1 + rand() % step;

            if (wait_finals(&r, want < n ? want : n, kit_deadline_ms(120000)) != 0) {
                fprintf(stderr, "no progress before kill %d\n", k);
                CHECK(0);
            }
        } else {
            CHECK(wait_started(&w, kit_deadline_ms(60000)) == 0);
        }
        kit_nap_ms(rand() % 300); /* the random moment */
        kit_worker_kill(&w);
        if (!transactional) {
            /* At-least-once: everything already published is readable now; no committed offset
             * may pass a job whose result is not among it. */
            CHECK(read_to_end(&r, kit_deadline_ms(30000)) == 0);
            ahead += committed_ahead(&r);
        }
        last = r.t.complete;
    }
    CHECK(spawn_worker(&w, &r, "worker-final", extra) > 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(300000)) == 0);
    /* Up and consuming before it is asked to stop (the jobs may all be done already). */
    CHECK(wait_started(&w, kit_deadline_ms(60000)) == 0);
    CHECK(kit_wait_committed_at_end(A.bootstrap, r.n.group, r.n.jobs, kit_deadline_ms(60000)) == 0);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    CHECK(read_to_end(&r, kit_deadline_ms(30000)) == 0);
    CHECK_INT(ahead, 0);
    CHECK_INT(r.t.complete, n);
    if (transactional) {
        CHECK_INT(r.t.duplicates, 0); /* exactly one per job for a read_committed reader */
    }
    printf("crash%s: %d jobs, %d SIGKILLs, %d jobs committed ahead of their result, "
           "%d duplicate final results, %lld ms\n",
           transactional ? " (transactional)" : "", n, kills, ahead, r.t.duplicates,
           (long long)(kit_now_ms() - t0));
    run_free(&r);
}

static void test_crash_at_least_once(void)
{
    crash_run(0);
}

static void test_crash_transactional(void)
{
    crash_run(1);
}

/* ---- rebalance with ordering ---- */

/* sim-seq ids: the simulator checks that each key's n arrives in order. */
static void make_seq(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    int k = i % 30;

    snprintf(key, kn, "q%d", k);
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg%d\",\"params\":{\"id\":\"sim-seq-q%d-%d\"}}",
             r->n.tag, i, k % NACCTS, k, i / 30);
}

static void test_rebalance_keeps_key_order(void)
{
    char *sim_args[] = {"--fault", "sendgrid:delay_ms=50", "--fault", "sendgrid:rate_503=0.03",
                        NULL};
    struct run r;
    int n = 3000;
    struct kit_worker w1, w2, w3;
    cJSON *watch;

    if (run_init(&r, "rebalance", n, NPART, sim_args) != 0) {
        return;
    }
    CHECK(spawn_worker(&w1, &r, "w1", NULL) > 0);
    CHECK(spawn_worker(&w2, &r, "w2", NULL) > 0);
    CHECK(produce_jobs(&r, make_seq, 0, 1000, 500) == 0);
    CHECK(spawn_worker(&w3, &r, "w3", NULL) > 0); /* joins mid-run */
    CHECK(produce_jobs(&r, make_seq, 1000, 2000, 500) == 0);
    kit_signal(w1.pid, SIGTERM); /* leaves mid-run */
    CHECK(produce_jobs(&r, make_seq, 2000, n, 500) == 0);
    CHECK_INT(kit_worker_wait(&w1, kit_deadline_ms(60000)), 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(120000)) == 0);
    CHECK(kit_wait_committed_at_end(A.bootstrap, r.n.group, r.n.jobs, kit_deadline_ms(60000)) == 0);
    watch = kit_sim_json(&r.sim, "/_sim/watch");
    CHECK(watch != NULL);
    CHECK(json_num(watch, "sequence", "checked") >= n);
    CHECK(json_num(watch, "sequence", "violations") == 0);
    if (json_num(watch, "sequence", "violations") != 0) {
        fprintf(stderr, "order: %s\n",
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(watch, "sequence"), "first_violation")));
    }
    printf("rebalance: %d jobs, 3 workers (one joined, one left), %d duplicate finals, %.0f "
           "requests order-checked, %.0f out of order\n",
           n, r.t.duplicates, json_num(watch, "sequence", "checked"),
           json_num(watch, "sequence", "violations"));
    cJSON_Delete(watch);
    kit_signal(w2.pid, SIGTERM);
    kit_signal(w3.pid, SIGTERM);
    CHECK_INT(kit_worker_wait(&w2, kit_deadline_ms(60000)), 0);
    CHECK_INT(kit_worker_wait(&w3, kit_deadline_ms(60000)), 0);
    run_free(&r);
}

/* ---- a stuck key holds only itself ---- */

/* Job 0 and job n-1 share key "slow" and the first takes 3 s at the provider; the others, on 20
 * other keys, share its one partition. */
static void make_stuck(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    struct sim_sendgrid_segment s;
    char id[128];

    sim_sendgrid_segment(i % 12, &s);
    if (i == 0) {
        snprintf(id, sizeof(id), "sim-slow-3000-%s", r->n.tag);
    } else {
        snprintf(id, sizeof(id), "%s", s.id);
    }
    if (i == 0 || i == r->t.n - 1) {
        snprintf(key, kn, "slow");
    } else {
        snprintf(key, kn, "o%d", i % 20);
    }
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg%d\",\"params\":{\"id\":\"%s\"}}",
             r->n.tag, i, i % NACCTS, id);
}

static void test_stuck_key_holds_only_itself(void)
{
    struct run r;
    int n = 202, i, before = 0;
    struct kit_worker w;

    if (run_init(&r, "stuck", n, 1, NULL) != 0) {
        return;
    }
    CHECK(produce_jobs(&r, make_stuck, 0, n, 0) == 0);
    CHECK(spawn_worker(&w, &r, "worker", NULL) > 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(60000)) == 0);
    for (i = 1; i < n - 1; i++) {
        before += r.t.job[i].succeeded && r.t.job[i].finished_ms < r.t.job[0].finished_ms;
    }
    /* Everything behind the slow job on other keys went ahead of it (the window is 250); the
     * slow key's next job waited for it. */
    CHECK_INT(before, n - 2);
    CHECK(r.t.job[0].succeeded && r.t.job[n - 1].succeeded);
    CHECK(r.t.job[n - 1].finished_ms >= r.t.job[0].finished_ms);
    printf("stuck key: %d of %d jobs of other keys in its partition finished before the 3 s "
           "job; its own next job after it\n",
           before, n - 2);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    run_free(&r);
}

/* ---- Retry-After and jitter ---- */

static void make_429(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    struct sim_klaviyo_segment s;

    snprintf(key, kn, "r%d", i);
    if (i % 2) {
        sim_klaviyo_segment(i % 25, &s);
        snprintf(job, jn,
                 "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\",\"params\":{\"id\":\"%s\"}}",
                 r->n.tag, i, s.id);
    } else {
        snprintf(job, jn,
                 "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\",\"params\":{\"id\":\"sim-429-1-2-%s%d\"}}",
                 r->n.tag, i, r->n.tag, i);
    }
}

static void make_flaky(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    snprintf(key, kn, "f%d", i);
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg%d\",\"params\":{\"id\":\"sim-flaky-2-%s%d\"}}",
             r->n.tag, i, i % NACCTS, r->n.tag, i);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static void test_retry_after_and_jitter(void)
{
    struct run r;
    int n = 120, i, ok = 0, two = 0;
    struct kit_worker w;
    cJSON *stats;
    char *extra[] = {"--set", "retry.base_ms=200", NULL};

    /* Requests already on the wire when the 429 left may land a little after it; a retry sent
     * early would be ~2 s early. The grace grows with the sanitizer slow-down. */
    char grace[32];
    char *sim_args[] = {"--early-grace-ms", grace, NULL};

    snprintf(grace, sizeof(grace), "%lld", (long long)kit_deadline_ms(50));
    if (run_init(&r, "retry-after", n, NPART, sim_args) != 0) {
        return;
    }
    CHECK(spawn_worker(&w, &r, "worker", extra) > 0);
    /* Half the jobs get one 429 with Retry-After: 2; the other half share the account. */
    CHECK(produce_jobs(&r, make_429, 0, n, 0) == 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(60000)) == 0);
    for (i = 0; i < n; i++) {
        ok += r.t.job[i].succeeded;
        two += i % 2 == 0 && r.t.job[i].attempts == 2;
    }
    CHECK_INT(ok, n);
    CHECK_INT(two, n / 2);
    stats = kit_sim_json(&r.sim, "/_sim/stats");
    CHECK(stats != NULL);
    /* Nobody of that account asked again before the stated time: not the throttled jobs, not
     * the others. */
    CHECK(json_num(stats, "early_retries", NULL) == 0);
    CHECK(json_num(stats, "early_retries_same_path", NULL) == 0);
    printf("retry-after: %d jobs, %d throttled once, early requests %.0f\n", n, two,
           json_num(stats, "early_retries", NULL));
    cJSON_Delete(stats);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    run_free(&r);

    /* Jitter: 200 jobs fail twice with 503 at the same moment; full-jitter back-off spreads
     * their retries (without it they would all finish within a few ms of each other). */
    {
        int64_t t[200];
        int m = 200;

        if (run_init(&r, "jitter", m, NPART, NULL) != 0) {
            return;
        }
        CHECK(produce_jobs(&r, make_flaky, 0, m, 0) == 0);
        CHECK(spawn_worker(&w, &r, "worker", extra) > 0);
        CHECK(wait_finals(&r, m, kit_deadline_ms(60000)) == 0);
        for (i = 0; i < m; i++) {
            t[i] = r.t.job[i].finished_ms;
            CHECK(r.t.job[i].succeeded && r.t.job[i].attempts == 3);
        }
        qsort(t, (size_t)m, sizeof(t[0]), cmp64);
        printf("jitter: finish times of %d jobs retried twice spread %lld ms (p10..p90)\n", m,
               (long long)(t[m * 9 / 10] - t[m / 10]));
        CHECK(t[m * 9 / 10] - t[m / 10] >= 60);
        CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
        run_free(&r);
    }
}

/* ---- rate limits ---- */

static void make_kl_read(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    struct sim_klaviyo_segment s;

    sim_klaviyo_segment(i % 25, &s);
    snprintf(key, kn, "l%d", i);
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"%s\"}}",
             r->n.tag, i, s.id);
}

static void rate_run(const char *mode)
{
    char *sim_args[] = {"--enforce-limits", "1", NULL};
    char setm[64];
    char *extra[] = {"--set", setm, NULL};
    struct run r;
    int n = 600, i, ok = 0;
    double first, total;
    struct kit_worker w;
    cJSON *watch;

    snprintf(setm, sizeof(setm), "ratelimit.mode=%s", mode);
    if (run_init(&r, mode, n, NPART, sim_args) != 0) {
        return;
    }
    CHECK(spawn_worker(&w, &r, "worker", extra) > 0);
    /* 225 jobs/s offered: three times Klaviyo's 75/s read limit (600 stays under 750/min). */
    CHECK(produce_jobs(&r, make_kl_read, 0, n / 2, 225) == 0);
    watch = kit_sim_json(&r.sim, "/_sim/watch");
    first = json_num(watch, "limits", "throttled");
    cJSON_Delete(watch);
    CHECK(produce_jobs(&r, make_kl_read, n / 2, n, 225) == 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(120000)) == 0);
    for (i = 0; i < n; i++) {
        ok += r.t.job[i].succeeded;
    }
    CHECK_INT(ok, n);
    watch = kit_sim_json(&r.sim, "/_sim/watch");
    total = json_num(watch, "limits", "throttled");
    CHECK(json_num(watch, "limits", "allowed") >= n);
    printf("rate limits (%s): %d reads offered at 225/s, 429s: %.0f in the first half, %.0f in "
           "the second\n",
           mode, n, first, total - first);
    if (!strcmp(mode, "spec")) {
        CHECK(total == 0);
    } else {
        /* Learned from the first answers: whatever 429s there are come early. */
        CHECK(total - first == 0);
    }
    cJSON_Delete(watch);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    run_free(&r);
}

static void test_rate_limit_spec(void)
{
    rate_run("spec");
}

static void test_rate_limit_adaptive(void)
{
    rate_run("adaptive");
}

/* ---- retry topic ---- */

static void make_park(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    (void)kn;
    key[0] = '\0'; /* keyless: parking cannot break an order */
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"sim-429-1-3-%s%d\"}}",
             r->n.tag, i, r->n.tag, i);
}

/* A parked job carries its not-before time. */
static int on_parked(void *arg, const rd_kafka_message_t *m)
{
    char v[64];

    (void)arg;
    CHECK(kit_header(m, "segworker.not_before", v, sizeof(v)) == 0);
    return 0;
}

static void test_long_wait_parks_in_retry_topic(void)
{
    char *extra[] = {"--set", "retry.max_inline_ms=1000", NULL};
    struct run r;
    int n = 40, i, ok = 0, parked = 0;
    struct kit_worker w;
    cJSON *stats;

    if (run_init(&r, "park", n, NPART, NULL) != 0) {
        return;
    }
    CHECK(spawn_worker(&w, &r, "worker", extra) > 0);
    CHECK(produce_jobs(&r, make_park, 0, n, 0) == 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(60000)) == 0);
    for (i = 0; i < n; i++) {
        ok += r.t.job[i].succeeded && r.t.job[i].attempts == 2;
    }
    CHECK_INT(ok, n);
    /* Each job went through the retry topic once, carrying its not-before time. */
    parked =
        (int)kit_read_topic(A.bootstrap, r.n.retry, n, kit_deadline_ms(30000), on_parked, NULL);
    CHECK_INT(parked, n);
    stats = kit_sim_json(&r.sim, "/_sim/stats");
    CHECK(json_num(stats, "early_retries_same_path", NULL) == 0);
    printf("retry topic: %d jobs parked for a 3 s Retry-After and finished, early retries %.0f\n",
           parked, json_num(stats, "early_retries_same_path", NULL));
    cJSON_Delete(stats);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    CHECK(kit_wait_committed_at_end(A.bootstrap, r.n.group, r.n.jobs, kit_deadline_ms(30000)) == 0);
    CHECK(kit_wait_committed_at_end(A.bootstrap, r.n.group, r.n.retry, kit_deadline_ms(30000)) ==
          0);
    run_free(&r);
}

/* A dead letter for a retry-topic message whose headers cannot be trusted names why. */
static int on_bad_header_letter(void *arg, const rd_kafka_message_t *m)
{
    char v[256];

    CHECK(kit_header(m, "segworker.reason", v, sizeof(v)) == 0);
    CHECK_STR(v, "invalid_job");
    CHECK(kit_header(m, "segworker.error", v, sizeof(v)) == 0);
    CHECK(strstr(v, "segworker.not_before") != NULL);
    ++*(int *)arg;
    return 0;
}

/* Anyone who can write to the retry topic can set its headers: a not-before a day ahead is held
 * to retry.max_park_ms (the job runs, it does not hold a slot for a day), and one that is not a
 * time sends the job to the dead-letter topic with the reason instead of running it. */
static void test_retry_headers_not_trusted(void)
{
    char *extra[] = {"--set", "retry.max_park_ms=2000", NULL};
    char job[512], far[32];
    struct sim_sendgrid_segment seg;
    struct run r;
    struct kit_worker w;
    rd_kafka_t *rk;
    int letters = 0, i;

    if (run_init(&r, "rhdr", 2, NPART, NULL) != 0) {
        return;
    }
    CHECK(spawn_worker(&w, &r, "worker", extra) > 0);
    rk = kit_producer(A.bootstrap);
    CHECK(rk != NULL);
    sim_sendgrid_segment(0, &seg);
    snprintf(far, sizeof(far), "%lld", (long long)(kit_wall_ms() + 86400000LL));
    for (i = 0; rk && i < 2; i++) {
        snprintf(job, sizeof(job),
                 "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
                 "\"account\":\"sg0\",\"params\":{\"id\":\"%s\"}}",
                 r.n.tag, i, seg.id);
        CHECK_INT(kit_produce_hdr(rk, r.n.retry, NULL, job, strlen(job), "segworker.not_before",
                                  i == 0 ? far : "soon"),
                  0);
    }
    CHECK(rk && kit_flush(rk) == 0);
    kit_producer_free(rk);
    CHECK(wait_finals(&r, 2, kit_deadline_ms(60000)) == 0);
    CHECK_STR(r.t.job[0].status, "succeeded");
    CHECK_STR(r.t.job[1].code, "invalid_job");
    CHECK_INT(kit_read_topic(A.bootstrap, r.n.dlq, 1, kit_deadline_ms(30000), on_bad_header_letter,
                             &letters),
              1);
    CHECK_INT(letters, 1);
    printf("retry headers: a day-ahead not_before ran within retry.max_park_ms; a malformed one "
           "was dead-lettered\n");
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    run_free(&r);
}

/* ---- SIGTERM under load ---- */

static void test_sigterm_under_load(void)
{
    char *sim_args[] = {"--fault", "sendgrid:delay_ms=50", NULL};
    char *extra[] = {"--set", "shutdown.grace_ms=20000", "--set", "worker.ordering=none", NULL};
    struct run r;
    int n = 3000, i, after = 0;
    int64_t c[NPART], t0;
    struct kit_worker w;

    if (run_init(&r, "sigterm", n, NPART, sim_args) != 0) {
        return;
    }
    CHECK(produce_jobs(&r, make_sg_get, 0, n, 0) == 0);
    CHECK(spawn_worker(&w, &r, "worker", extra) > 0);
    CHECK(wait_finals(&r, n / 4, kit_deadline_ms(60000)) == 0);
    t0 = kit_now_ms();
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(25000)), 0);
    printf("sigterm: exit 0 after %lld ms with %d of %d jobs done\n",
           (long long)(kit_now_ms() - t0), r.t.complete, n);
    CHECK(read_to_end(&r, kit_deadline_ms(30000)) == 0);
    CHECK(kit_committed(A.bootstrap, r.n.group, r.n.jobs, c, NPART) == 0);
    /* The drain finished what it started: every delivered result is covered by the commit. */
    for (i = 0; i < n; i++) {
        after += r.t.job[i].finals && r.at[i].offset >= c[r.at[i].partition];
    }
    CHECK_INT(after, 0);
    CHECK_INT(committed_ahead(&r), 0);
    /* And the rest is picked up by the next worker. */
    CHECK(spawn_worker(&w, &r, "worker2", extra) > 0);
    /* Its signal handler is set before it stops, even when nothing is left for it. */
    CHECK(wait_started(&w, kit_deadline_ms(30000)) == 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(120000)) == 0);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    CHECK_INT(r.t.duplicates, 0);
    run_free(&r);
}

static const struct sw_test_case tests[] = {
    {"crash_at_least_once", test_crash_at_least_once},
    {"crash_transactional", test_crash_transactional},
    {"rebalance_keeps_key_order", test_rebalance_keeps_key_order},
    {"stuck_key_holds_only_itself", test_stuck_key_holds_only_itself},
    {"retry_after_and_jitter", test_retry_after_and_jitter},
    {"rate_limit_spec", test_rate_limit_spec},
    {"rate_limit_adaptive", test_rate_limit_adaptive},
    {"long_wait_parks_in_retry_topic", test_long_wait_parks_in_retry_topic},
    {"retry_headers_not_trusted", test_retry_headers_not_trusted},
    {"sigterm_under_load", test_sigterm_under_load},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (kit_parse_args(argc, argv, "it_reliability", &A) != 0) {
        return 2;
    }
    if (!A.bootstrap[0]) {
        fprintf(stderr, "no broker: set SW_TEST_KAFKA_DIR (ctest does, via the kafka fixture)\n");
        return 1;
    }
    return sw_test_run(tests, getenv("SW_TEST_ONLY"));
}
