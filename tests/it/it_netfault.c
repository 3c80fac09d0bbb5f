/* Network faults between the worker and the provider: the simulator runs in its own network
 * namespace, reached over a veth pair, and the test shapes every packet on that link (kit_net.h:
 * added latency with jitter, random loss, a partition that heals). The worker, the real Kafka
 * broker and the results are as in production. Asserts, phase by phase, that every job ends with
 * exactly one final result — a success or a classified error — no later than its deadline, that
 * nothing hangs (each phase has the test's own deadline), and that jobs succeed again once the
 * partition heals. Skips (exit 77) only when no network namespace can be made (not root).
 * SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "kit.h"
#include "kit_net.h"
#include "sim_data.h"
#include "sw_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAXJOBS  1000
#define SKIP     77
#define LATE_TOL 750 /* ms a result may be stamped after its deadline: loop turn + build */

struct job {
    int phase;
    int must_succeed; /* the fault cannot explain a failure */
    int64_t deadline; /* wall epoch ms */
    int64_t produced; /* kit_now_ms() */
    int late;         /* finished_at after deadline + LATE_TOL */
    int attempts;     /* of the first final result */
    int64_t finished; /* wall epoch ms, from the result */
};

struct run {
    struct kit_tally t;
    struct job jobs[MAXJOBS];
    int n;
    rd_kafka_t *prod;
    rd_kafka_t *reader;
    const char *topic;
    char prefix[32];
};

static struct kit_args args;

static int64_t wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void rfc3339(int64_t ms, char *buf, size_t n)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];

    gmtime_r(&s, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03dZ", base, (int)(ms % 1000));
}

/* The worker writes "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static int64_t parse_rfc3339(const char *s)
{
    struct tm tm;
    int ms = 0;

    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &ms) < 6) {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static void on_final(void *arg, int idx, const cJSON *r)
{
    struct run *run = arg;
    struct job *j = &run->jobs[idx];
    const cJSON *timing = cJSON_GetObjectItemCaseSensitive(r, "timing");
    int64_t fin = parse_rfc3339(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(timing, "finished_at")));

    if (run->t.finals[idx] > 1) {
        return; /* duplicates are counted by the tally; the first one is judged */
    }
    j->finished = fin;
    j->attempts = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "attempts"));
    if (fin < 0 || fin > j->deadline + kit_deadline_ms(LATE_TOL)) {
        j->late = 1;
    }
}

static void produce(struct run *run, int phase, int64_t deadline_in_ms, int timeout_ms,
                    int must_succeed, int count)
{
    int k;

    for (k = 0; k < count && run->n < MAXJOBS; k++) {
        int i = run->n++;
        struct job *j = &run->jobs[i];
        char job[768], key[16], dl[40];
        struct sim_klaviyo_segment s;
        int n;

        j->phase = phase;
        j->must_succeed = must_succeed;
        j->produced = kit_now_ms();
        j->deadline = wall_ms() + deadline_in_ms;
        rfc3339(j->deadline, dl, sizeof(dl));
        sim_klaviyo_segment(i % SIM_KLAVIYO_SEGMENTS, &s);
        /* One in five is a list: three pages, so three requests in a row through the fault. */
        if (i % 5 == 4) {
            n = snprintf(job, sizeof(job),
                         "{\"job_id\":\"%s-%d\",\"operation\":\"segments.list\",\"provider\":"
                         "\"klaviyo\",\"account\":\"acme-klaviyo\",\"options\":{\"timeout_ms\":%d,"
                         "\"deadline\":\"%s\"}}",
                         run->prefix, i, timeout_ms, dl);
        } else {
            n = snprintf(job, sizeof(job),
                         "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":"
                         "\"klaviyo\",\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"%s\"},"
                         "\"options\":{\"timeout_ms\":%d,\"deadline\":\"%s\"}}",
                         run->prefix, i, s.id, timeout_ms, dl);
        }
        snprintf(key, sizeof(key), "k%d", i % 13);
        CHECK(kit_produce(run->prod, run->topic, key, job, (size_t)n) == 0);
    }
    run->t.n = run->n; /* the tally covers the jobs so far, and is complete when they are */
    CHECK(kit_flush(run->prod) == 0);
}

/* Wait for every job of the phases so far, with the test's own deadline: the latest job
 * deadline plus a margin. A job still open then is a hang. */
static int settle(struct run *run, int64_t margin_ms)
{
    int64_t last = 0;
    int i;

    for (i = 0; i < run->n; i++) {
        if (run->jobs[i].deadline > last) {
            last = run->jobs[i].deadline;
        }
    }
    return kit_tally_wait(&run->t, run->reader, last - wall_ms() + kit_deadline_ms(margin_ms),
                          on_final, run);
}

static const char *const allowed_codes[] = {"timeout", "network_error", "deadline_exceeded", NULL};

/* Judge the jobs of one phase; prints the measured numbers. */
static void judge(struct run *run, int phase, const char *name, struct kit_netem *ne)
{
    int i, total = 0, ok = 0, failed = 0, late = 0, bad = 0, retried = 0;
    int by_code[3] = {0, 0, 0};
    int64_t worst = 0, sum = 0;
    struct kit_netem_stats st;

    for (i = 0; i < run->n; i++) {
        struct job *j = &run->jobs[i];
        const char *code = run->t.code[i];
        int k, known = 0;

        if (j->phase != phase) {
            continue;
        }
        total++;
        if (!run->t.finals[i]) {
            continue; /* settle() already reported it */
        }
        if (!code[0]) {
            ok++;
        } else {
            failed++;
            for (k = 0; allowed_codes[k]; k++) {
                if (!strcmp(code, allowed_codes[k])) {
                    known = 1;
                    by_code[k]++;
                }
            }
            if (!known || j->must_succeed) {
                if (bad++ < 5) {
                    fprintf(stderr, "%s: job %d ended %s%s\n", name, i, code,
                            j->must_succeed ? " but this phase should not fail any job" : "");
                }
            }
        }
        retried += !code[0] && j->attempts > 1;
        if (j->late) {
            if (late++ < 5) {
                fprintf(stderr, "%s: job %d finished %lld ms after its deadline\n", name, i,
                        (long long)(j->finished - j->deadline));
            }
        }
        if (run->t.final_ms[i] - j->produced > worst) {
            worst = run->t.final_ms[i] - j->produced;
        }
        sum += run->t.final_ms[i] - j->produced;
    }
    kit_netem_stats(ne, &st);
    printf("%-24s %3d jobs: %3d succeeded (%d after retries), %3d failed (timeout %d, "
           "network_error %d, deadline_exceeded %d); produce-to-result mean %lld ms, max %lld ms; "
           "packets so far %llu, dropped %llu, delayed %llu\n",
           name, total, ok, retried, failed, by_code[0], by_code[1], by_code[2],
           total ? (long long)(sum / total) : 0LL, (long long)worst, (unsigned long long)st.packets,
           (unsigned long long)st.dropped, (unsigned long long)st.delayed);
    CHECK_INT(bad, 0);
    CHECK_INT(late, 0);
    CHECK_INT(ok + failed, total);
}

static void test_netfault(struct kit_netns *ns, const char *log)
{
    struct run *run = calloc(1, sizeof(*run));
    const char *bootstrap = kit_bootstrap();
    struct kit_netem *ne = NULL;
    char jobs[64], results[64], dlq[64], group[64], accounts[1024], worker_log[1024];
    char base_url[64], t_jobs[128], t_res[128], t_dlq[128];
    pid_t sim = -1, worker = -1;
    int port = 0;
    int64_t t_part;
    FILE *f;

    CHECK(run != NULL && bootstrap != NULL);
    if (!run || !bootstrap) {
        free(run);
        return;
    }
    snprintf(run->prefix, sizeof(run->prefix), "nf%d", (int)getpid());
    snprintf(jobs, sizeof(jobs), "%s-jobs", run->prefix);
    snprintf(results, sizeof(results), "%s-results", run->prefix);
    snprintf(dlq, sizeof(dlq), "%s-dlq", run->prefix);
    snprintf(group, sizeof(group), "%s-group", run->prefix);
    run->topic = jobs;
    CHECK(kit_tally_init(&run->t, run->prefix, MAXJOBS) == 0);
    CHECK(kit_create_topic(bootstrap, jobs, 4) == 0);
    CHECK(kit_create_topic(bootstrap, results, 4) == 0);
    CHECK(kit_create_topic(bootstrap, dlq, 1) == 0);

    ne = kit_netem_start(ns, 0, log);
    CHECK(ne != NULL);
    {
        char *prefix[] = {"ip", "netns", "exec", ns->name, NULL};
        char *extra[] = {"--bind", ns->ns_ip, NULL};

        sim = kit_start_sim_ex(args.sim, args.work, prefix, extra, &port);
    }
    CHECK(sim > 0);
    if (!ne || sim <= 0) {
        goto out;
    }
    snprintf(base_url, sizeof(base_url), "http://%s:%d", ns->ns_ip, port);
    printf("simulator at %s in namespace %s\n", base_url, ns->name);
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", args.work);
    f = fopen(accounts, "w");
    fprintf(f,
            "{\"accounts\":{\"acme-klaviyo\":{\"provider\":\"klaviyo\",\"base_url\":\"%s\","
            "\"credentials\":{\"api_key\":\"env:NF_KLAVIYO_KEY\"}}}}\n",
            base_url);
    fclose(f);
    snprintf(worker_log, sizeof(worker_log), "%s/worker.log", args.work);
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", dlq);
    {
        char *wargv[] = {(char *)args.worker,
                         "run",
                         "--brokers",
                         (char *)bootstrap,
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
                         "retry.base_ms=100",
                         "--set",
                         "retry.max_attempts=8",
                         NULL};
        char *env[] = {"NF_KLAVIYO_KEY=sim-klaviyo-key", "SEGWORKER_LOG_LEVEL=info", NULL};

        worker = kit_spawn(wargv, env, NULL, worker_log);
    }
    CHECK(worker > 0);
    run->prod = kit_producer(bootstrap);
    run->reader = kit_reader(bootstrap, results);
    if (worker <= 0 || !run->prod || !run->reader) {
        goto out;
    }

    /* 0: a clean link, so the later phases measure the faults, not the start-up. */
    produce(run, 0, 30000, 5000, 1, 20);
    CHECK(settle(run, 10000) == 0);
    judge(run, 0, "clean link", ne);

    /* 1: 100 +- 30 ms each way (about 200 ms more per round trip). Nothing should fail. */
    kit_netem_set(ne, 100, 30, 0);
    produce(run, 1, 30000, 5000, 1, 150);
    CHECK(settle(run, 10000) == 0);
    judge(run, 1, "latency 100+-30ms/way", ne);

    /* 2: 10 % of packets lost each way; TCP and the worker's retries hide most of it. */
    kit_netem_set(ne, 0, 0, 10);
    produce(run, 2, 20000, 2000, 0, 150);
    CHECK(settle(run, 10000) == 0);
    judge(run, 2, "loss 10%/way", ne);

    /* 3: a partition (every packet dropped) for 3 s, then healed. Jobs with 2 s deadlines
     * must end on time, classified; jobs with 20 s deadlines outlive it. */
    kit_netem_set(ne, 0, 0, 100);
    t_part = kit_now_ms();
    produce(run, 3, 2000, 1000, 0, 30);
    produce(run, 4, 20000, 1000, 0, 60);
    while (kit_now_ms() - t_part < 3000) {
        kit_tally_poll(&run->t, run->reader, 100, on_final, run);
    }
    kit_netem_set(ne, 0, 0, 0);
    printf("partition healed after %lld ms\n", (long long)(kit_now_ms() - t_part));
    CHECK(settle(run, 10000) == 0);
    judge(run, 3, "partition, 2s deadline", ne);
    judge(run, 4, "partition, 20s deadline", ne);

    /* 5: after the heal, the link is clean again: everything succeeds. */
    produce(run, 5, 30000, 5000, 1, 50);
    CHECK(settle(run, 10000) == 0);
    judge(run, 5, "after the heal", ne);

    CHECK_INT(run->t.foreign, 0);
    printf("netfault: %d jobs, %d final results, %d duplicate(s)\n", run->n, run->t.complete,
           run->t.duplicates);
    CHECK(kit_wait_committed_at_end(bootstrap, group, jobs, kit_deadline_ms(30000)) == 0);
    kit_signal(worker, SIGTERM);
    CHECK_INT(kit_wait(worker, kit_deadline_ms(30000)), 0);
    worker = -1;
out:
    if (run->reader) {
        rd_kafka_consumer_close(run->reader);
        rd_kafka_destroy(run->reader);
    }
    if (run->prod) {
        rd_kafka_destroy(run->prod);
    }
    kit_kill(worker);
    kit_netem_stop(ne);
    if (sim > 0) {
        kit_signal(sim, SIGTERM);
        CHECK_INT(kit_wait(sim, kit_deadline_ms(10000)), 0);
    }
    kit_tally_free(&run->t);
    free(run);
}

int main(int argc, char **argv)
{
    struct kit_netns ns;
    char log[1024];
    int rc, before;

    if (kit_parse_args(argc, argv, "it_netfault", &args) != 0) {
        return 2;
    }
    snprintf(log, sizeof(log), "%s/net.log", args.work);
    rc = kit_netns_up(&ns, "swnf", log);
    if (rc == 1) {
        printf("SKIP: cannot create a network namespace here (needs root with CAP_NET_ADMIN)\n");
        return SKIP;
    }
    if (rc != 0) {
        fprintf(stderr, "cannot set up the namespace and veth pair (see %s)\n", log);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    before = sw_test_failures;
    test_netfault(&ns, log);
    /* Always, whatever failed above: no namespace, veth or process outlives the test. */
    kit_netns_down(&ns, log);
    printf("%s netfault_latency_loss_partition\n", sw_test_failures == before ? "ok  " : "FAIL");
    printf("%d passed, %d failed\n", sw_test_failures == before, sw_test_failures != before);
    return sw_test_failures == before ? 0 : 1;
}
