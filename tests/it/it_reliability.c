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
 * Jobs are keyed by account (64 SendGrid accounts), as docs/RELIABILITY.md advises for exact rate limits.
 * SW_TEST_SCALE_DIV (e.g. 10 under sanitizers) divides the crash test's job count.
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
#include <time.h>
#include <unistd.h>

#define NPART   6
#define SG_KEY  "rel-sendgrid-key"
#define KL_KEY  "rel-klaviyo-key"
#define NACCTS  64
#define MAXARGS 64

static struct kit_args A;
static const char *bootstrap;
static int scale_div = 1;
static unsigned run_seq;
static int jobs_partitions = NPART; /* of the next run's jobs topic */

struct rjob {
    int32_t part;
    int64_t offset;
    int acked;
    int finals;
    int succeeded;
    int attempts;
    int64_t finished_ms; /* epoch ms from the result's timing.finished_at */
};

struct run {
    char tag[48];
    char jobs[96], results[96], dlq[96], retry[96], group[96], dir[1024], accounts[1100];
    struct rjob *j;
    int n;
    rd_kafka_t *reader;
    int finals; /* jobs with at least one final result */
    int dups;   /* final results beyond the first */
    int sim_port;
    pid_t sim;
};

typedef void (*make_fn)(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn);

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- setup ---- */

static int run_init(struct run *r, const char *name, int n, char *const sim_args[])
{
    char *args[MAXARGS] = {"--key", "klaviyo=" KL_KEY, "--key", "sendgrid=" SG_KEY, NULL};
    int na = 4;
    FILE *f;

    while (sim_args && *sim_args && na < MAXARGS - 1) {
        args[na++] = *sim_args++;
    }
    args[na] = NULL;
    memset(r, 0, sizeof(*r));
    snprintf(r->tag, sizeof(r->tag), "rel%d-%u-%s", (int)getpid(), run_seq++, name);
    snprintf(r->jobs, sizeof(r->jobs), "%s-jobs", r->tag);
    snprintf(r->results, sizeof(r->results), "%s-results", r->tag);
    snprintf(r->dlq, sizeof(r->dlq), "%s-dlq", r->tag);
    snprintf(r->retry, sizeof(r->retry), "%s-retry", r->tag);
    snprintf(r->group, sizeof(r->group), "%s-group", r->tag);
    snprintf(r->dir, sizeof(r->dir), "%s/%s", A.work, name);
    mkdir(r->dir, 0755);
    r->n = n;
    r->j = calloc((size_t)n, sizeof(*r->j));
    if (!r->j || kit_create_topic(bootstrap, r->jobs, jobs_partitions) ||
        kit_create_topic(bootstrap, r->results, NPART) || kit_create_topic(bootstrap, r->dlq, 1) ||
        kit_create_topic(bootstrap, r->retry, NPART)) {
        return -1;
    }
    r->sim = kit_start_sim_args(A.sim, r->dir, args, &r->sim_port);
    if (r->sim < 0) {
        return -1;
    }
    snprintf(r->accounts, sizeof(r->accounts), "%s/accounts.json", r->dir);
    f = fopen(r->accounts, "w");
    if (!f) {
        return -1;
    }
    fprintf(f,
            "{\"accounts\":{\"kl\":{\"provider\":\"klaviyo\",\"base_url\":\"http://127.0.0.1:%d\","
            "\"credentials\":{\"api_key\":\"env:REL_KL_KEY\"}}",
            r->sim_port);
    for (int a = 0; a < NACCTS; a++) {
        fprintf(f,
                ",\"sg%d\":{\"provider\":\"sendgrid\",\"base_url\":\"http://127.0.0.1:%d\","
                "\"credentials\":{\"api_key\":\"env:REL_SG_KEY\"}}",
                a, r->sim_port);
    }
    fprintf(f, "}}\n");
    fclose(f);
    return 0;
}

static void run_free(struct run *r)
{
    if (r->reader) {
        rd_kafka_consumer_close(r->reader);
        rd_kafka_destroy(r->reader);
    }
    if (r->sim > 0) {
        kit_kill(r->sim);
    }
    free(r->j);
}

/* ---- jobs ---- */

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct run *r = opaque;
    intptr_t i = (intptr_t)m->_private;

    (void)rk;
    if (!m->err && i >= 0 && i < r->n) {
        r->j[i].part = m->partition;
        r->j[i].offset = m->offset;
        r->j[i].acked = 1;
    }
}

/* Produce jobs [from, to), paced at per_s per second when per_s > 0 (load shaping, not a wait),
 * remembering where each landed. */
static int produce_jobs(struct run *r, make_fn make, int from, int to, int per_s)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256], job[2048], key[64];
    rd_kafka_t *rk;
    int64_t t0 = kit_now_ms();
    int i, missing = 0;

    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_opaque(conf, r);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        return -1;
    }
    for (i = from; i < to; i++) {
        rd_kafka_resp_err_t e;

        make(r, i, job, sizeof(job), key, sizeof(key));
        if (per_s > 0) {
            int64_t due = t0 + (int64_t)(i - from) * 1000 / per_s;
            int64_t now = kit_now_ms();

            if (due > now) {
                nap_ms((long)(due - now));
            }
        }
        do {
            e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(r->jobs), RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_VALUE(job, strlen(job)),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 50);
            }
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, (int)kit_deadline_ms(30000));
    rd_kafka_destroy(rk);
    for (i = from; i < to; i++) {
        missing += !r->j[i].acked;
    }
    return missing ? -1 : 0;
}

/* SendGrid gets, keyed k0..k63, each key on one of 16 accounts. */
static void make_sg_get(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    struct sim_sendgrid_segment s;
    int k = i % 64;

    sim_sendgrid_segment(i % 12, &s);
    snprintf(key, kn, "k%d", k);
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg%d\",\"params\":{\"id\":\"%s\"}}",
             r->tag, i, k % NACCTS, s.id);
}

/* ---- results ---- */

static int64_t parse_ms(const char *ts)
{
    struct tm tm;
    int ms = 0;

    memset(&tm, 0, sizeof(tm));
    if (!ts || sscanf(ts, "%d-%d-%dT%d:%d:%d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6) {
        return 0;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void take_result(struct run *r, const rd_kafka_message_t *m)
{
    cJSON *doc = cJSON_ParseWithLength(m->payload, m->len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "job_id");
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(doc, "part");
    size_t tl = strlen(r->tag);
    int i;

    if (cJSON_IsString(id) && !strncmp(id->valuestring, r->tag, tl) && id->valuestring[tl] == '-' &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "last"))) {
        i = atoi(id->valuestring + tl + 1);
        if (i >= 0 && i < r->n) {
            struct rjob *j = &r->j[i];
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
            const cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "attempts");
            const cJSON *tm = cJSON_GetObjectItemCaseSensitive(doc, "timing");

            if (j->finals++) {
                r->dups++;
            } else {
                r->finals++;
            }
            j->succeeded = cJSON_IsString(st) && !strcmp(st->valuestring, "succeeded");
            j->attempts = cJSON_IsNumber(at) ? at->valueint : 0;
            j->finished_ms =
                parse_ms(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tm, "finished_at")));
        }
    }
    cJSON_Delete(doc);
}

static int open_reader(struct run *r)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(NPART);
    char err[256], group[128];
    int i;

    snprintf(group, sizeof(group), "%s-reader", r->tag);
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
    rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    r->reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!r->reader) {
        rd_kafka_topic_partition_list_destroy(parts);
        return -1;
    }
    rd_kafka_poll_set_consumer(r->reader);
    for (i = 0; i < NPART; i++) {
        rd_kafka_topic_partition_list_add(parts, r->results, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(r->reader, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    return 0;
}

static void poll_results(struct run *r, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(r->reader, timeout_ms);

    while (m) {
        if (!m->err) {
            take_result(r, m);
        }
        rd_kafka_message_destroy(m);
        m = rd_kafka_consumer_poll(r->reader, 0);
    }
}

/* Read results until at least `want` jobs have a final one; 0 when reached. */
static int wait_finals(struct run *r, int want, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;

    while (r->finals < want && kit_now_ms() < end) {
        poll_results(r, 100);
    }
    return r->finals >= want ? 0 : -1;
}

/* Read everything the results topic holds right now (the worker is stopped). */
static int read_to_end(struct run *r, int64_t timeout_ms)
{
    int64_t hi[NPART], end = kit_now_ms() + timeout_ms;
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(NPART);
    int i, done = 0;

    for (i = 0; i < NPART; i++) {
        int64_t lo = 0;

        hi[i] = 0;
        rd_kafka_query_watermark_offsets(r->reader, r->results, i, &lo, &hi[i], 10000);
        rd_kafka_topic_partition_list_add(pos, r->results, i);
    }
    while (!done && kit_now_ms() < end) {
        poll_results(r, 100);
        rd_kafka_position(r->reader, pos);
        done = 1;
        for (i = 0; i < NPART; i++) {
            int64_t p = pos->elems[i].offset;

            if (hi[i] > 0 && (p < 0 ? 0 : p) < hi[i]) {
                done = 0;
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(pos);
    return done ? 0 : -1;
}

/* Jobs before a committed offset without a final result: the one thing that must never be. */
static int committed_ahead(struct run *r)
{
    int64_t c[NPART];
    int i, bad = 0;

    if (kit_committed(bootstrap, r->group, r->jobs, c, NPART) != 0) {
        return -1;
    }
    for (i = 0; i < r->n; i++) {
        if (r->j[i].offset < c[r->j[i].part] && r->j[i].finals == 0) {
            if (bad++ < 5) {
                fprintf(stderr, "job %d (partition %d offset %lld) committed without a result\n", i,
                        (int)r->j[i].part, (long long)r->j[i].offset);
            }
        }
    }
    return bad;
}

/* ---- worker ---- */

static pid_t spawn_worker(const struct run *r, const char *log, char *const extra[])
{
    char t_jobs[160], t_res[160], t_dlq[160], t_retry[160];
    char *argv[MAXARGS] = {(char *)A.worker,
                           "run",
                           "--brokers",
                           (char *)bootstrap,
                           "--accounts",
                           (char *)r->accounts,
                           "--group",
                           (char *)r->group,
                           "--set",
                           t_jobs,
                           "--set",
                           t_res,
                           "--set",
                           t_dlq,
                           "--set",
                           t_retry,
                           "--set",
                           "retry.base_ms=50",
                           "--set",
                           "kafka.consumer.session.timeout.ms=6000",
                           "--set",
                           "kafka.consumer.heartbeat.interval.ms=500",
                           NULL};
    char *env[] = {"REL_SG_KEY=" SG_KEY, "REL_KL_KEY=" KL_KEY, "SEGWORKER_LOG_LEVEL=info", NULL};
    char path[1200];
    int n = 0;

    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", r->jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", r->results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", r->dlq);
    snprintf(t_retry, sizeof(t_retry), "topics.retry=%s", r->retry);
    while (argv[n]) {
        n++;
    }
    while (extra && *extra && n < MAXARGS - 1) {
        argv[n++] = *extra++;
    }
    argv[n] = NULL;
    snprintf(path, sizeof(path), "%s/%s", r->dir, log);
    return kit_spawn(argv, env, NULL, path);
}

static cJSON *sim_get(const struct run *r, const char *path)
{
    static char buf[65536];

    return kit_http_get(r->sim_port, path, buf, sizeof(buf)) == 200 ? cJSON_Parse(buf) : NULL;
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
static int wait_started(const struct run *r, const char *log, int64_t timeout_ms)
{
    char path[1200], buf[4096];
    int64_t end = kit_now_ms() + timeout_ms;

    snprintf(path, sizeof(path), "%s/%s", r->dir, log);
    while (kit_now_ms() < end) {
        FILE *f = fopen(path, "r");
        size_t got = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

        if (f) {
            fclose(f);
        }
        buf[got] = '\0';
        if (strstr(buf, "assigned")) {
            return 0;
        }
        nap_ms(50);
    }
    return -1;
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
    int n = 20000 / scale_div;
    int kills = scale_div > 1 ? 3 : 10;
    int k, ahead = 0, last = 0;
    int64_t t0 = kit_now_ms();
    pid_t w;

    if (run_init(&r, transactional ? "crash-txn" : "crash", n, sim_args) != 0) {
        CHECK(!"setup");
        run_free(&r);
        return;
    }
    snprintf(inst, sizeof(inst), "kafka.consumer.group.instance.id=%s-w", r.tag);
    snprintf(txn, sizeof(txn), "transaction.id=%s-txn", r.tag);
    CHECK(produce_jobs(&r, make_sg_get, 0, n, 0) == 0);
    CHECK(open_reader(&r) == 0);
    srand((unsigned)getpid());
    for (k = 0; k < kills; k++) {
        char log[32];
        int step = n / (kills * 2) > 0 ? n / (kills * 2) : 1;

        snprintf(log, sizeof(log), "worker-%d.log", k);
        w = spawn_worker(&r, log, extra);
        CHECK(w > 0);
        /* Kill at a random moment once it has made some progress (or, when every job already
         * has its result, once it is up: the redelivered work is then what it is doing). */
        if (last < n) {
            int want = last + 1 + rand() % step;

            if (wait_finals(&r, want < n ? want : n, kit_deadline_ms(120000)) != 0) {
                fprintf(stderr, "no progress before kill %d\n", k);
                CHECK(0);
            }
        } else {
            CHECK(wait_started(&r, log, kit_deadline_ms(60000)) == 0);
        }
        nap_ms(rand() % 300);
        kit_kill(w);
        if (!transactional) {
            /* At-least-once: everything already published is readable now; no committed offset
             * may pass a job whose result is not among it. */
            CHECK(read_to_end(&r, kit_deadline_ms(30000)) == 0);
            ahead += committed_ahead(&r);
        }
        last = r.finals;
    }
    w = spawn_worker(&r, "worker-final.log", extra);
    CHECK(wait_finals(&r, n, kit_deadline_ms(300000)) == 0);
    /* Up and consuming before it is asked to stop (the jobs may all be done already). */
    CHECK(wait_started(&r, "worker-final.log", kit_deadline_ms(60000)) == 0);
    CHECK(kit_wait_committed_at_end(bootstrap, r.group, r.jobs, kit_deadline_ms(60000)) == 0);
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
    CHECK(read_to_end(&r, kit_deadline_ms(30000)) == 0);
    CHECK_INT(ahead, 0);
    CHECK_INT(r.finals, n);
    if (transactional) {
        CHECK_INT(r.dups, 0); /* exactly one per job for a read_committed reader */
    }
    printf("crash%s: %d jobs, %d SIGKILLs, %d jobs committed ahead of their result, "
           "%d duplicate final results, %lld ms\n",
           transactional ? " (transactional)" : "", n, kills, ahead, r.dups,
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
             r->tag, i, k % NACCTS, k, i / 30);
}

static void test_rebalance_keeps_key_order(void)
{
    char *sim_args[] = {"--fault", "sendgrid:delay_ms=50", "--fault", "sendgrid:rate_503=0.03",
                        NULL};
    struct run r;
    int n = 3000;
    pid_t w1, w2, w3;
    cJSON *watch;

    if (run_init(&r, "rebalance", n, sim_args) != 0) {
        CHECK(!"setup");
        run_free(&r);
        return;
    }
    CHECK(open_reader(&r) == 0);
    w1 = spawn_worker(&r, "w1.log", NULL);
    w2 = spawn_worker(&r, "w2.log", NULL);
    CHECK(produce_jobs(&r, make_seq, 0, 1000, 500) == 0);
    w3 = spawn_worker(&r, "w3.log", NULL); /* joins mid-run */
    CHECK(produce_jobs(&r, make_seq, 1000, 2000, 500) == 0);
    kit_signal(w1, SIGTERM); /* leaves mid-run */
    CHECK(produce_jobs(&r, make_seq, 2000, n, 500) == 0);
    CHECK_INT(kit_wait(w1, kit_deadline_ms(60000)), 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(120000)) == 0);
    CHECK(kit_wait_committed_at_end(bootstrap, r.group, r.jobs, kit_deadline_ms(60000)) == 0);
    watch = sim_get(&r, "/_sim/watch");
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
           n, r.dups, json_num(watch, "sequence", "checked"),
           json_num(watch, "sequence", "violations"));
    cJSON_Delete(watch);
    kit_signal(w2, SIGTERM);
    kit_signal(w3, SIGTERM);
    CHECK_INT(kit_wait(w2, kit_deadline_ms(60000)), 0);
    CHECK_INT(kit_wait(w3, kit_deadline_ms(60000)), 0);
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
        snprintf(id, sizeof(id), "sim-slow-3000-%s", r->tag);
    } else {
        snprintf(id, sizeof(id), "%s", s.id);
    }
    if (i == 0 || i == r->n - 1) {
        snprintf(key, kn, "slow");
    } else {
        snprintf(key, kn, "o%d", i % 20);
    }
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg%d\",\"params\":{\"id\":\"%s\"}}",
             r->tag, i, i % NACCTS, id);
}

static void test_stuck_key_holds_only_itself(void)
{
    struct run r;
    int n = 202, i, before = 0;
    pid_t w;

    jobs_partitions = 1;
    if (run_init(&r, "stuck", n, NULL) != 0) {
        jobs_partitions = NPART;
        CHECK(!"setup");
        run_free(&r);
        return;
    }
    jobs_partitions = NPART;
    CHECK(open_reader(&r) == 0);
    CHECK(produce_jobs(&r, make_stuck, 0, n, 0) == 0);
    w = spawn_worker(&r, "worker.log", NULL);
    CHECK(wait_finals(&r, n, kit_deadline_ms(60000)) == 0);
    for (i = 1; i < n - 1; i++) {
        before += r.j[i].succeeded && r.j[i].finished_ms < r.j[0].finished_ms;
    }
    /* Everything behind the slow job on other keys went ahead of it (the window is 250); the
     * slow key's next job waited for it. */
    CHECK_INT(before, n - 2);
    CHECK(r.j[0].succeeded && r.j[n - 1].succeeded);
    CHECK(r.j[n - 1].finished_ms >= r.j[0].finished_ms);
    printf("stuck key: %d of %d jobs of other keys in its partition finished before the 3 s "
           "job; its own next job after it\n",
           before, n - 2);
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
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
                 r->tag, i, s.id);
    } else {
        snprintf(job, jn,
                 "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\",\"params\":{\"id\":\"sim-429-1-2-%s%d\"}}",
                 r->tag, i, r->tag, i);
    }
}

static void make_flaky(const struct run *r, int i, char *job, size_t jn, char *key, size_t kn)
{
    snprintf(key, kn, "f%d", i);
    snprintf(job, jn,
             "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg%d\",\"params\":{\"id\":\"sim-flaky-2-%s%d\"}}",
             r->tag, i, i % NACCTS, r->tag, i);
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
    pid_t w;
    cJSON *stats;
    char *extra[] = {"--set", "retry.base_ms=200", NULL};

    /* Requests already on the wire when the 429 left may land a little after it; a retry sent
     * early would be ~2 s early. The grace grows with the sanitizer slow-down. */
    char grace[32];
    char *sim_args[] = {"--early-grace-ms", grace, NULL};

    snprintf(grace, sizeof(grace), "%lld", (long long)kit_deadline_ms(50));
    if (run_init(&r, "retry-after", n, sim_args) != 0) {
        CHECK(!"setup");
        run_free(&r);
        return;
    }
    CHECK(open_reader(&r) == 0);
    w = spawn_worker(&r, "worker.log", extra);
    /* Half the jobs get one 429 with Retry-After: 2; the other half share the account. */
    CHECK(produce_jobs(&r, make_429, 0, n, 0) == 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(60000)) == 0);
    for (i = 0; i < n; i++) {
        ok += r.j[i].succeeded;
        two += i % 2 == 0 && r.j[i].attempts == 2;
    }
    CHECK_INT(ok, n);
    CHECK_INT(two, n / 2);
    stats = sim_get(&r, "/_sim/stats");
    CHECK(stats != NULL);
    /* Nobody of that account asked again before the stated time: not the throttled jobs, not
     * the others. */
    CHECK(json_num(stats, "early_retries", NULL) == 0);
    CHECK(json_num(stats, "early_retries_same_path", NULL) == 0);
    printf("retry-after: %d jobs, %d throttled once, early requests %.0f\n", n, two,
           json_num(stats, "early_retries", NULL));
    cJSON_Delete(stats);
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
    run_free(&r);

    /* Jitter: 200 jobs fail twice with 503 at the same moment; full-jitter back-off spreads
     * their retries (without it they would all finish within a few ms of each other). */
    {
        int64_t t[200];
        int m = 200;

        if (run_init(&r, "jitter", m, NULL) != 0) {
            CHECK(!"setup");
            run_free(&r);
            return;
        }
        CHECK(open_reader(&r) == 0);
        CHECK(produce_jobs(&r, make_flaky, 0, m, 0) == 0);
        w = spawn_worker(&r, "worker.log", extra);
        CHECK(wait_finals(&r, m, kit_deadline_ms(60000)) == 0);
        for (i = 0; i < m; i++) {
            t[i] = r.j[i].finished_ms;
            CHECK(r.j[i].succeeded && r.j[i].attempts == 3);
        }
        qsort(t, (size_t)m, sizeof(t[0]), cmp64);
        printf("jitter: finish times of %d jobs retried twice spread %lld ms (p10..p90)\n", m,
               (long long)(t[m * 9 / 10] - t[m / 10]));
        CHECK(t[m * 9 / 10] - t[m / 10] >= 60);
        kit_signal(w, SIGTERM);
        CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
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
             r->tag, i, s.id);
}

static void rate_run(const char *mode)
{
    char *sim_args[] = {"--enforce-limits", "1", NULL};
    char setm[64];
    char *extra[] = {"--set", setm, NULL};
    struct run r;
    int n = 600, i, ok = 0;
    double first, total;
    pid_t w;
    cJSON *watch;

    snprintf(setm, sizeof(setm), "ratelimit.mode=%s", mode);
    if (run_init(&r, mode, n, sim_args) != 0) {
        CHECK(!"setup");
        run_free(&r);
        return;
    }
    CHECK(open_reader(&r) == 0);
    w = spawn_worker(&r, "worker.log", extra);
    /* 225 jobs/s offered: three times Klaviyo's 75/s read limit (600 stays under 750/min). */
    CHECK(produce_jobs(&r, make_kl_read, 0, n / 2, 225) == 0);
    watch = sim_get(&r, "/_sim/watch");
    first = json_num(watch, "limits", "throttled");
    cJSON_Delete(watch);
    CHECK(produce_jobs(&r, make_kl_read, n / 2, n, 225) == 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(120000)) == 0);
    for (i = 0; i < n; i++) {
        ok += r.j[i].succeeded;
    }
    CHECK_INT(ok, n);
    watch = sim_get(&r, "/_sim/watch");
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
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
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
             r->tag, i, r->tag, i);
}

static void test_long_wait_parks_in_retry_topic(void)
{
    char *extra[] = {"--set", "retry.max_inline_ms=1000", NULL};
    struct run r;
    int n = 40, i, ok = 0, parked = 0;
    pid_t w;
    rd_kafka_t *rt;
    int64_t end;
    cJSON *stats;

    if (run_init(&r, "park", n, NULL) != 0) {
        CHECK(!"setup");
        run_free(&r);
        return;
    }
    CHECK(open_reader(&r) == 0);
    w = spawn_worker(&r, "worker.log", extra);
    CHECK(produce_jobs(&r, make_park, 0, n, 0) == 0);
    CHECK(wait_finals(&r, n, kit_deadline_ms(60000)) == 0);
    for (i = 0; i < n; i++) {
        ok += r.j[i].succeeded && r.j[i].attempts == 2;
    }
    CHECK_INT(ok, n);
    /* Each job went through the retry topic once, carrying its not-before time. */
    rt = kit_reader(bootstrap, r.retry);
    end = kit_now_ms() + kit_deadline_ms(30000);
    while (rt && parked < n && kit_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rt, 200);
        rd_kafka_headers_t *h = NULL;
        const void *v;
        size_t vl;

        if (m && !m->err) {
            parked++;
            CHECK(rd_kafka_message_headers(m, &h) == 0 &&
                  rd_kafka_header_get_last(h, "segworker.not_before", &v, &vl) == 0);
        }
        if (m) {
            rd_kafka_message_destroy(m);
        }
    }
    CHECK_INT(parked, n);
    stats = sim_get(&r, "/_sim/stats");
    CHECK(json_num(stats, "early_retries_same_path", NULL) == 0);
    printf("retry topic: %d jobs parked for a 3 s Retry-After and finished, early retries %.0f\n",
           parked, json_num(stats, "early_retries_same_path", NULL));
    cJSON_Delete(stats);
    if (rt) {
        rd_kafka_consumer_close(rt);
        rd_kafka_destroy(rt);
    }
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
    CHECK(kit_wait_committed_at_end(bootstrap, r.group, r.jobs, kit_deadline_ms(30000)) == 0);
    CHECK(kit_wait_committed_at_end(bootstrap, r.group, r.retry, kit_deadline_ms(30000)) == 0);
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
    pid_t w;

    if (run_init(&r, "sigterm", n, sim_args) != 0) {
        CHECK(!"setup");
        run_free(&r);
        return;
    }
    CHECK(open_reader(&r) == 0);
    CHECK(produce_jobs(&r, make_sg_get, 0, n, 0) == 0);
    w = spawn_worker(&r, "worker.log", extra);
    CHECK(wait_finals(&r, n / 4, kit_deadline_ms(60000)) == 0);
    t0 = kit_now_ms();
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(25000)), 0);
    printf("sigterm: exit 0 after %lld ms with %d of %d jobs done\n",
           (long long)(kit_now_ms() - t0), r.finals, n);
    CHECK(read_to_end(&r, kit_deadline_ms(30000)) == 0);
    CHECK(kit_committed(bootstrap, r.group, r.jobs, c, NPART) == 0);
    /* The drain finished what it started: every delivered result is covered by the commit. */
    for (i = 0; i < n; i++) {
        after += r.j[i].finals && r.j[i].offset >= c[r.j[i].part];
    }
    CHECK_INT(after, 0);
    CHECK_INT(committed_ahead(&r), 0);
    /* And the rest is picked up by the next worker. */
    w = spawn_worker(&r, "worker2.log", extra);
    CHECK(wait_finals(&r, n, kit_deadline_ms(120000)) == 0);
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
    CHECK_INT(r.dups, 0);
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
    {"sigterm_under_load", test_sigterm_under_load},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const char *div = getenv("SW_TEST_SCALE_DIV");

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (kit_parse_args(argc, argv, "it_reliability", &A) != 0) {
        return 2;
    }
    bootstrap = kit_bootstrap();
    if (!bootstrap) {
        fprintf(stderr, "no broker: set SW_TEST_KAFKA_DIR (ctest does, via the kafka fixture)\n");
        return 1;
    }
    if (div && atoi(div) > 1) {
        scale_div = atoi(div);
    }
    return sw_test_run(tests, getenv("SW_TEST_ONLY"));
}
