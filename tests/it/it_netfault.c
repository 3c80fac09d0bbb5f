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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXJOBS  1000
#define SKIP     77
#define LATE_TOL 750 /* ms a result may be stamped after its deadline: loop turn + build */

struct job {
    int phase;
    int must_succeed; /* the fault cannot explain a failure */
    int64_t deadline; /* wall epoch ms */
    int64_t produced; /* kit_now_ms() */
};

struct run {
    struct kit_names n;
    struct kit_tally t; /* the jobs so far: t.n grows with them */
    struct job jobs[MAXJOBS];
    rd_kafka_t *prod;
    rd_kafka_t *reader;
};

static struct kit_args args;

static void produce(struct run *run, int phase, int64_t deadline_in_ms, int timeout_ms,
                    int must_succeed, int count)
{
    int k;

    for (k = 0; k < count && run->t.n < MAXJOBS; k++) {
        int i = run->t.n++; /* the tally covers the jobs so far, complete when they are */
        struct job *j = &run->jobs[i];
        char job[768], key[16], dl[40], params[128] = "";
        struct sim_klaviyo_segment s;
        int n;

        j->phase = phase;
        j->must_succeed = must_succeed;
        j->produced = kit_now_ms();
        j->deadline = kit_wall_ms() + deadline_in_ms;
        kit_format_time(j->deadline, dl, sizeof(dl));
        sim_klaviyo_segment(i % SIM_KLAVIYO_SEGMENTS, &s);
        /* One in five is a list: three pages, so three requests in a row through the fault. */
        if (i % 5 != 4) {
            snprintf(params, sizeof(params), "\"params\":{\"id\":\"%s\"},", s.id);
        }
        n = snprintf(job, sizeof(job),
                     "{\"job_id\":\"%s-%d\",\"operation\":\"%s\",\"provider\":\"klaviyo\","
                     "\"account\":\"acme-klaviyo\",%s\"options\":{\"timeout_ms\":%d,"
                     "\"deadline\":\"%s\"}}",
                     run->n.tag, i, i % 5 == 4 ? "segments.list" : "segments.get", params,
                     timeout_ms, dl);
        snprintf(key, sizeof(key), "k%d", i % 13);
        CHECK(kit_produce(run->prod, run->n.jobs, key, job, (size_t)n) == 0);
    }
    CHECK(kit_flush(run->prod) == 0);
}

/* Wait for every job of the phases so far, with the test's own deadline: the latest job
 * deadline plus a margin. A job still open then is a hang. */
static int settle(struct run *run, int64_t margin_ms)
{
    int64_t last = 0;
    int i;

    for (i = 0; i < run->t.n; i++) {
        if (run->jobs[i].deadline > last) {
            last = run->jobs[i].deadline;
        }
    }
    return kit_tally_wait(&run->t, run->reader, last - kit_wall_ms() + kit_deadline_ms(margin_ms));
}

static const char *const allowed_codes[] = {"timeout", "network_error", "deadline_exceeded", NULL};

/* Judge the jobs of one phase; prints the measured numbers. */
static void judge(struct run *run, int phase, const char *name, struct kit_netem *ne)
{
    int i, total = 0, ok = 0, failed = 0, late = 0, bad = 0, retried = 0;
    int by_code[3] = {0, 0, 0};
    int64_t worst = 0, sum = 0;
    struct kit_netem_stats st;

    for (i = 0; i < run->t.n; i++) {
        const struct job *j = &run->jobs[i];
        const struct kit_job *r = &run->t.job[i];
        const char *code = r->code;
        int k, known = 0;

        if (j->phase != phase) {
            continue;
        }
        total++;
        if (!r->finals) {
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
        retried += !code[0] && r->attempts > 1;
        /* The first final result is judged; duplicates are counted by the tally. */
        if (r->finished_ms < 0 || r->finished_ms > j->deadline + kit_deadline_ms(LATE_TOL)) {
            if (late++ < 5) {
                fprintf(stderr, "%s: job %d finished %lld ms after its deadline\n", name, i,
                        (long long)(r->finished_ms - j->deadline));
            }
        }
        if (r->read_ms - j->produced > worst) {
            worst = r->read_ms - j->produced;
        }
        sum += r->read_ms - j->produced;
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

static int start_worker(struct kit_worker *w, const struct run *run, const struct kit_sim *sim)
{
    struct kit_accounts acc;
    char accounts[1024];

    kit_path(accounts, sizeof(accounts), args.work, "accounts.json");
    kit_accounts_init(&acc);
    kit_account_sim(&acc, "acme-klaviyo", "klaviyo", sim);
    if (kit_accounts_write(&acc, accounts) != 0) {
        return -1;
    }
    kit_worker_init_run(w, &args, args.bootstrap, accounts, &run->n);
    kit_worker_set(w, "retry.base_ms=100");
    kit_worker_set(w, "retry.max_attempts=8");
    return kit_worker_start(w, args.work, "worker") > 0 ? 0 : -1;
}

/* The phases, each judged on its own. */
static void phases(struct run *run, struct kit_netem *ne)
{
    int64_t t_part;

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
    while (kit_now_ms() - t_part < 3000) { /* the partition lasts 3 s; results read meanwhile */
        kit_tally_poll(&run->t, run->reader, 100);
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
}

static void test_netfault(struct kit_netns *ns, const char *log)
{
    struct run *run = calloc(1, sizeof(*run));
    struct kit_netem *ne = NULL;
    char *prefix[] = {"ip", "netns", "exec", ns->name, NULL};
    struct kit_sim_opts so = {.prefix = prefix, .bind = ns->ns_ip};
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};

    CHECK(run != NULL && args.bootstrap[0]);
    if (!run || !args.bootstrap[0]) {
        free(run);
        return;
    }
    kit_names_init(&run->n, "nf", NULL);
    CHECK(kit_tally_init(&run->t, run->n.tag, MAXJOBS) == 0);
    run->t.n = 0;
    CHECK(kit_topics_create(args.bootstrap, &run->n, 4, 4, 0) == 0);
    ne = kit_netem_start(ns, 0, log);
    CHECK(ne != NULL);
    CHECK(kit_sim_start(&sim, &args, &so) == 0);
    if (!ne || sim.pid <= 0) {
        goto out;
    }
    printf("simulator at %s:%d in namespace %s\n", sim.host, sim.port, ns->name);
    CHECK(start_worker(&w, run, &sim) == 0);
    run->prod = kit_producer(args.bootstrap);
    run->reader = kit_reader(args.bootstrap, run->n.results);
    if (w.pid <= 0 || !run->prod || !run->reader) {
        goto out;
    }
    phases(run, ne);
    CHECK_INT(run->t.foreign, 0);
    printf("netfault: %d jobs, %d final results, %d duplicate(s)\n", run->t.n, run->t.complete,
           run->t.duplicates);
    CHECK(kit_wait_committed_at_end(args.bootstrap, run->n.group, run->n.jobs,
                                    kit_deadline_ms(30000)) == 0);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(30000)), 0);
out:
    kit_reader_close(run->reader);
    kit_producer_free(run->prod);
    kit_worker_kill(&w);
    kit_netem_stop(ne);
    CHECK_INT(kit_sim_stop(&sim), 0);
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
