/* Operating the worker, against a real Kafka broker and the simulator over sockets:
 *   - /healthz and /readyz: not ready before the group is joined (a worker whose broker is
 *     unreachable), ready once assigned, not ready while draining a slow job after SIGTERM;
 *   - /metrics during a run: accepted by `promtool check metrics`, and the counters, histograms,
 *     partition gauges and committed offsets match what the run did;
 *   - W3C traceparent: every provider request of a traced job carries a child of the job's
 *     context (same trace id and flags, new span id), untraced jobs send none;
 *   - SIGHUP reloads the account store: new jobs use the new credentials and accounts, a job in
 *     flight (waiting out a 429) finishes with the store it started with, a bad file keeps the
 *     current store;
 *   - secret leak: stdout, stderr (debug logs), the result and dead-letter topics (values and
 *     headers) and every /metrics scrape hold none of the test secrets; a planted secret is
 *     found by the same scan.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "opskit.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KLAVIYO_KEY  "ops-klaviyo-secret-1a2b3c"
#define SENDGRID_KEY "ops-sendgrid-secret-4d5e6f"
#define WRONG_KEY    "ops-wrong-secret-7a8b9c"
#define KLAVIYO_KEY2 "ops-klaviyo-rotated-secret-0d1e2f"
#define TRACE_ID     "4bf92f3577b34da6a3ce929d0e0e4736"
#define TRACE_ID2    "0af7651916cd43dd8448eb211c80319c"
#define PARENT_ID    "00f067aa0ba902b7"
#define MAX_JOBS     32

static struct kit_args args;
static char work[1024];
static char results_dump[1100], dlq_dump[1100];

struct seen {
    char id[64];
    cJSON *final; /* the last part */
    int parts;
};

static struct seen seen[MAX_JOBS];
static int nseen;

static struct seen *seen_get(const char *id)
{
    int i;

    for (i = 0; i < nseen; i++) {
        if (!strcmp(seen[i].id, id)) {
            return &seen[i];
        }
    }
    if (nseen == MAX_JOBS) {
        return NULL;
    }
    if ((size_t)snprintf(seen[nseen].id, sizeof(seen[nseen].id), "%s", id) >=
        sizeof(seen[nseen].id)) {
        return NULL; /* longer than any job id the test submits */
    }
    return &seen[nseen++];
}

/* Append a message (headers, key and value, raw) to a dump file for the secret scan. */
static void dump(const char *path, const rd_kafka_message_t *m)
{
    FILE *f = fopen(path, "ab");
    rd_kafka_headers_t *h = NULL;
    const char *name;
    const void *v;
    size_t vl, i;

    if (!f) {
        return;
    }
    if (!rd_kafka_message_headers(m, &h)) {
        for (i = 0; !rd_kafka_header_get_all(h, i, &name, &v, &vl); i++) {
            fprintf(f, "%s=", name);
            fwrite(v, 1, vl, f);
            fputc('\n', f);
        }
    }
    fwrite(m->key, 1, m->key_len, f);
    fputc('\n', f);
    fwrite(m->payload, 1, m->len, f);
    fputc('\n', f);
    fclose(f);
}

/* Read results until every id in ids has its last part (or the deadline). */
static int await_results(rd_kafka_t *rres, const char *const *ids, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + kit_deadline_ms(timeout_ms);
    int i, missing;

    for (;;) {
        rd_kafka_message_t *m;

        missing = 0;
        for (i = 0; ids[i]; i++) {
            struct seen *s = seen_get(ids[i]);

            missing += !s || !s->final;
        }
        if (!missing || kit_now_ms() >= end) {
            break;
        }
        m = rd_kafka_consumer_poll(rres, 200);
        if (!m) {
            continue;
        }
        if (!m->err) {
            cJSON *r = cJSON_ParseWithLength(m->payload, m->len);
            const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "job_id"));
            struct seen *s = id ? seen_get(id) : NULL;

            dump(results_dump, m);
            if (s) {
                s->parts++;
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(r, "part"), "last"))) {
                    cJSON_Delete(s->final);
                    s->final = r;
                    r = NULL;
                }
            }
            cJSON_Delete(r);
        }
        rd_kafka_message_destroy(m);
    }
    for (i = 0; ids[i]; i++) {
        struct seen *s = seen_get(ids[i]);

        if (!s || !s->final) {
            fprintf(stderr, "no final result for %s\n", ids[i]);
        }
    }
    return missing ? -1 : 0;
}

static const char *final_field(const char *id, const char *field)
{
    struct seen *s = seen_get(id);

    return s && s->final ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->final, field))
                         : NULL;
}

static const char *final_code(const char *id)
{
    struct seen *s = seen_get(id);
    const cJSON *e = s && s->final ? cJSON_GetObjectItemCaseSensitive(s->final, "error") : NULL;

    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
}

/* GET /metrics into metrics-<slot>.prom (kept for promtool and the secret scan); caller frees. */
static char *scrape(int port, int slot, char *path, size_t pn)
{
    static char buf[1 << 20];
    int st = kit_http_get(port, "/metrics", buf, sizeof(buf));

    snprintf(path, pn, "%s/metrics-%d.prom", work, slot);
    if (st != 200) {
        fprintf(stderr, "/metrics answered %d\n", st);
        return NULL;
    }
    ops_write_file(path, buf);
    return strdup(buf);
}

static void produce_job(rd_kafka_t *p, const char *topic, const char *id, const char *body,
                        const char *traceparent)
{
    char text[1024];

    snprintf(text, sizeof(text), "{\"job_id\":\"%s\",%s}", id, body);
    CHECK(kit_produce_hdr(p, topic, id, text, strlen(text), traceparent ? "traceparent" : NULL,
                          traceparent) == 0);
    CHECK(kit_flush(p) == 0);
}

/* A line of the file containing every needle (NULL-terminated). */
static int line_with(const char *path, const char *const *needles)
{
    char *s = ops_read_file(path, NULL);
    char *line = s;
    int found = 0;

    while (line && *line && !found) {
        char *nl = strchr(line, '\n');
        int i;

        if (nl) {
            *nl = '\0';
        }
        found = 1;
        for (i = 0; needles[i] && found; i++) {
            found = strstr(line, needles[i]) != NULL;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(s);
    return found;
}

/* The request-log line (JSON) of the first request whose URI contains needle. */
static cJSON *request_for(const char *reqlog, const char *needle)
{
    char *s = ops_read_file(reqlog, NULL);
    char *line = s;
    cJSON *found = NULL;

    while (line && *line && !found) {
        char *nl = strchr(line, '\n');

        if (nl) {
            *nl = '\0';
        }
        if (strstr(line, needle)) {
            found = cJSON_Parse(line);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(s);
    return found;
}

/* The request carried a child of 00-<trace>-PARENT_ID-01: same trace and flags, new span. */
static int is_child(const cJSON *req, const char *trace)
{
    const char *tp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "traceparent"));

    return tp && strlen(tp) == 55 && !strncmp(tp, "00-", 3) && !strncmp(tp + 3, trace, 32) &&
           tp[35] == '-' && strncmp(tp + 36, PARENT_ID, 16) != 0 &&
           strspn(tp + 36, "0123456789abcdef") == 16 && strncmp(tp + 36, "0000000000000000", 16) &&
           !strcmp(tp + 52, "-01");
}

static void write_accounts(const char *path, const char *kl_keyfile, int with_new, int port)
{
    char text[4096];
    char new_acct[1536] = "";

    if (with_new) {
        snprintf(new_acct, sizeof(new_acct),
                 ",\"acme-new\":{\"provider\":\"klaviyo\",\"base_url\":\"http://127.0.0.1:%d\","
                 "\"credentials\":{\"api_key\":\"file:%s/klaviyo.key\"}}",
                 port, work);
    }
    snprintf(text, sizeof(text),
             "{\"accounts\":{"
             "\"acme-klaviyo\":{\"provider\":\"klaviyo\",\"base_url\":\"http://127.0.0.1:%d\","
             "\"credentials\":{\"api_key\":\"file:%s\"}},"
             "\"acme-sendgrid\":{\"provider\":\"sendgrid\",\"base_url\":\"http://127.0.0.1:%d\","
             "\"credentials\":{\"api_key\":\"env:OPS_SENDGRID_KEY\"}},"
             "\"sendgrid-wrong\":{\"provider\":\"sendgrid\",\"base_url\":\"http://127.0.0.1:%d\","
             "\"credentials\":{\"api_key\":\"env:OPS_WRONG_KEY\"}}%s}}\n",
             port, kl_keyfile, port, port, new_acct);
    CHECK(ops_write_file(path, text) == 0);
}

static pid_t spawn_worker(const char *brokers, const char *accounts, const char *group,
                          const char *jobs, const char *results, const char *dlq, const char *out,
                          const char *log)
{
    char t_jobs[128], t_res[128], t_dlq[128];
    char *wargv[] = {(char *)args.worker,
                     "run",
                     "--brokers",
                     (char *)brokers,
                     "--accounts",
                     (char *)accounts,
                     "--group",
                     (char *)group,
                     "--set",
                     t_jobs,
                     "--set",
                     t_res,
                     "--set",
                     t_dlq,
                     "--set",
                     "retry.base_ms=50",
                     "--set",
                     "http_addr=127.0.0.1:0",
                     "--set",
                     "log_level=debug",
                     "--set",
                     "shutdown.grace_ms=20000",
                     NULL};
    char *env[] = {"OPS_SENDGRID_KEY=" SENDGRID_KEY, "OPS_WRONG_KEY=" WRONG_KEY, NULL};

    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", dlq);
    return kit_spawn(wargv, env, out, log);
}

static void test_ops(void)
{
    const char *bootstrap = kit_bootstrap();
    char jobs[64], results[64], dlq[64], group[64], run[32];
    char accounts[1100], reqlog[1100], keyfile[1100], keyfile2[1100];
    char out0[1100], log0[1100], out1[1100], log1[1100], path[1100], promout[1100];
    char buf[65536];
    char id[MAX_JOBS][48];
    const char *planted_files[2];
    const char *scan_files[32];
    const char *secrets[] = {KLAVIYO_KEY, SENDGRID_KEY, WRONG_KEY, KLAVIYO_KEY2, NULL};
    char metrics_paths[16][1100];
    int nmetrics = 0;
    pid_t sim = -1, w0 = -1, w1 = -1;
    rd_kafka_t *prod = NULL, *rres = NULL, *rdlq = NULL;
    int port = 0, admin, i, dlq_seen = 0;
    char *m = NULL;
    int64_t end;

    CHECK(bootstrap != NULL);
    if (!bootstrap) {
        return;
    }
    snprintf(run, sizeof(run), "ops%d", (int)getpid());
    snprintf(jobs, sizeof(jobs), "%s-jobs", run);
    snprintf(results, sizeof(results), "%s-results", run);
    snprintf(dlq, sizeof(dlq), "%s-dlq", run);
    snprintf(group, sizeof(group), "%s-group", run);
    for (i = 0; i < MAX_JOBS; i++) {
        snprintf(id[i], sizeof(id[i]), "%s-j%d", run, i);
    }
    CHECK(kit_create_topic(bootstrap, jobs, 2) == 0);
    CHECK(kit_create_topic(bootstrap, results, 1) == 0);
    CHECK(kit_create_topic(bootstrap, dlq, 1) == 0);
    snprintf(results_dump, sizeof(results_dump), "%s/results.dump", work);
    snprintf(dlq_dump, sizeof(dlq_dump), "%s/dlq.dump", work);
    unlink(results_dump);
    unlink(dlq_dump);
    snprintf(reqlog, sizeof(reqlog), "%s/requests.ndjson", work);
    unlink(reqlog);
    {
        /* The simulator expects the test keys; the worker reads them from a file and the
         * environment. */
        const char *keys[] = {"--key", "klaviyo=" KLAVIYO_KEY, "--key", "sendgrid=" SENDGRID_KEY,
                              NULL};

        sim = ops_start_sim(args.sim, work, "sim", reqlog, keys, &port);
    }
    CHECK(sim > 0);
    if (sim <= 0) {
        return;
    }
    snprintf(keyfile, sizeof(keyfile), "%s/klaviyo.key", work);
    snprintf(keyfile2, sizeof(keyfile2), "%s/klaviyo-rotated.key", work);
    CHECK(ops_write_file(keyfile, KLAVIYO_KEY "\n") == 0);
    CHECK(ops_write_file(keyfile2, KLAVIYO_KEY2 "\n") == 0);
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", work);
    write_accounts(accounts, keyfile, 0, port);

    /* 1. Not ready before the group is joined: this worker's broker does not exist. */
    snprintf(out0, sizeof(out0), "%s/worker0.out", work);
    snprintf(log0, sizeof(log0), "%s/worker0.log", work);
    w0 = spawn_worker("127.0.0.1:1", accounts, group, jobs, results, dlq, out0, log0);
    admin = ops_admin_port(log0, kit_deadline_ms(20000));
    CHECK(admin > 0);
    CHECK_INT(
        ops_http_wait_status(admin, "/healthz", 200, buf, sizeof(buf), kit_deadline_ms(10000)),
        200);
    CHECK_INT(kit_http_get(admin, "/readyz", buf, sizeof(buf)), 503);
    CHECK(strstr(buf, "has not assigned") != NULL);
    CHECK_INT(kit_http_get(admin, "/nosuch", buf, sizeof(buf)), 404);
    kit_kill(w0);

    /* 2. The real worker: ready once the group assigned its partitions. */
    snprintf(out1, sizeof(out1), "%s/worker1.out", work);
    snprintf(log1, sizeof(log1), "%s/worker1.log", work);
    w1 = spawn_worker(bootstrap, accounts, group, jobs, results, dlq, out1, log1);
    admin = ops_admin_port(log1, kit_deadline_ms(20000));
    CHECK(admin > 0);
    CHECK_INT(ops_http_wait_status(admin, "/readyz", 200, buf, sizeof(buf), kit_deadline_ms(60000)),
              200);
    CHECK_INT(kit_http_get(admin, "/healthz", buf, sizeof(buf)), 200);

    /* 3. A mixed run: successes (two traced), a list, a retry, provider errors, dead letters. */
    prod = kit_producer(bootstrap);
    rres = kit_reader(bootstrap, results);
    {
        const char *kl = "\"provider\":\"klaviyo\",\"account\":\"acme-klaviyo\"";
        const char *sg = "\"provider\":\"sendgrid\",\"account\":\"acme-sendgrid\"";
        char body[512];
        const char *wait_ids[16];
        static const char *const segs[] = {"AmOy43", "ED0lpI", "HdcZaX", "L4ENLm"};

        for (i = 0; i < 4; i++) {
            snprintf(body, sizeof(body),
                     "\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"%s\"}", kl, segs[i]);
            produce_job(prod, jobs, id[i], body,
                        i == 0   ? "00-" TRACE_ID "-" PARENT_ID "-01"
                        : i == 1 ? "00-" TRACE_ID2 "-" PARENT_ID "-01"
                                 : NULL);
        }
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"sim-429-1-1-%s\"}", sg,
                 run);
        produce_job(prod, jobs, id[4], body, NULL);
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"nope-%s\"}", kl, run);
        produce_job(prod, jobs, id[5], body, NULL);
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"OUqB71\"},"
                 "\"options\":{\"response_format\":\"debug\"}",
                 kl);
        produce_job(prod, jobs, id[6], body, "00-" TRACE_ID "-" PARENT_ID "-01");
        CHECK(kit_produce(prod, jobs, "bad", "{\"job_id\": not json", 19) == 0); /* DLQ */
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":\"nosuch\","
                 "\"params\":{\"id\":\"x\"}");
        produce_job(prod, jobs, id[8], body, NULL); /* DLQ unknown_account */
        snprintf(body, sizeof(body), "\"operation\":\"segments.list\",%s", kl);
        produce_job(prod, jobs, id[9], body, NULL);
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\",\"provider\":\"sendgrid\",\"account\":"
                 "\"sendgrid-wrong\",\"params\":{\"id\":\"08b37c99-7f6f-46c1-869a-001a8227a523\"}");
        produce_job(prod, jobs, id[10], body, NULL);
        for (i = 0; i < 10; i++) {
            wait_ids[i] = id[i < 7 ? i : i + 1];
        }
        wait_ids[10] = NULL;
        CHECK(await_results(rres, wait_ids, 60000) == 0);
        for (i = 0; i < 5; i++) {
            CHECK_STR(final_field(id[i], "status"), "succeeded");
        }
        CHECK_STR(final_code(id[5]), "not_found");
        CHECK_STR(final_field(id[6], "status"), "succeeded");
        CHECK_STR(final_code(id[8]), "unknown_account");
        CHECK_STR(final_field(id[9], "status"), "succeeded");
        CHECK_STR(final_code(id[10]), "auth_failed");
    }

    /* 4. /metrics: wait for the commits (auto-commit, 1 s), then check the values. */
    end = kit_now_ms() + kit_deadline_ms(30000);
    for (;;) {
        struct timespec ts = {0, 100 * 1000 * 1000};

        free(m);
        m = scrape(admin, nmetrics, metrics_paths[nmetrics], sizeof(metrics_paths[0]));
        if (!m || ops_metric_sum(m, "segworker_consumer_committed_offset") >= 11 ||
            kit_now_ms() >= end) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    nmetrics++;
    CHECK(m != NULL);
    if (m) {
        char series[512];

        snprintf(promout, sizeof(promout), "%s/promtool.out", work);
        CHECK_INT(ops_promtool(metrics_paths[0], promout), 0);
        CHECK(ops_metric_sum(m, "segworker_consumer_committed_offset") == 11);
        CHECK(ops_metric_sum(m, "segworker_consumer_lag") == 0);
        CHECK(ops_metric(m, "segworker_partitions_assigned") == 2);
        CHECK(ops_metric(m, "segworker_partitions_paused") == 0);
        CHECK(ops_metric(m, "segworker_jobs_in_flight") == 0);
        CHECK(ops_metric(m, "segworker_jobs_total{provider=\"klaviyo\",operation=\"segments.get\","
                            "status=\"succeeded\",code=\"ok\"}") == 5);
        CHECK(ops_metric(m, "segworker_jobs_total{provider=\"klaviyo\",operation=\"segments.get\","
                            "status=\"failed\",code=\"not_found\"}") == 1);
        CHECK(ops_metric(m, "segworker_jobs_total{provider=\"klaviyo\",operation=\"segments.get\","
                            "status=\"failed\",code=\"unknown_account\"}") == 1);
        CHECK(ops_metric(m, "segworker_jobs_total{provider=\"other\",operation=\"other\","
                            "status=\"failed\",code=\"invalid_job\"}") == 1);
        CHECK(ops_metric(m, "segworker_jobs_total{provider=\"klaviyo\",operation=\"segments.list\","
                            "status=\"succeeded\",code=\"ok\"}") == 1);
        CHECK(ops_metric(m, "segworker_jobs_total{provider=\"sendgrid\",operation=\"segments.get\","
                            "status=\"failed\",code=\"auth_failed\"}") == 1);
        CHECK(ops_metric_sum(m, "segworker_jobs_total") == 11);
        CHECK(ops_metric(
                  m, "segworker_retries_total{provider=\"sendgrid\",code=\"rate_limited\"}") == 1);
        CHECK(ops_metric(m, "segworker_dead_letters_total{reason=\"invalid_job\"}") == 1);
        CHECK(ops_metric(m, "segworker_dead_letters_total{reason=\"unknown_account\"}") == 1);
        /* klaviyo: 5 gets + 3 list pages answered 2xx, one 404; sendgrid: 200, 429, 401 */
        CHECK(ops_metric(m, "segworker_http_request_duration_seconds_count{provider=\"klaviyo\","
                            "class=\"2xx\"}") == 8);
        CHECK(ops_metric(m, "segworker_http_request_duration_seconds_count{provider=\"klaviyo\","
                            "class=\"4xx\"}") == 1);
        CHECK(ops_metric(m, "segworker_http_request_duration_seconds_count{provider=\"sendgrid\","
                            "class=\"4xx\"}") == 2);
        snprintf(series, sizeof(series),
                 "segworker_http_request_duration_seconds_bucket{provider=\"klaviyo\","
                 "class=\"2xx\",le=\"+Inf\"}");
        CHECK(ops_metric(m, series) == 8);
        CHECK(strstr(m, "segworker_build_info{version=\"") != NULL);
        /* Labels are bounded: no job id or account name ever appears. */
        CHECK(strstr(m, "-j1") == NULL && strstr(m, "acme-") == NULL);
    }
    free(m);
    m = NULL;

    /* Structured logs: job lines carry the job's identity and attempt, levels are honoured. */
    {
        char jid[80];
        const char *ok_line[] = {"\"level\":\"debug\"",
                                 "job succeeded",
                                 jid,
                                 "\"provider\":\"klaviyo\"",
                                 "\"operation\":\"segments.get\"",
                                 "\"attempt\":1",
                                 NULL};
        const char *fail_line[] = {"\"level\":\"info\"",       "job failed: not_found", jid,
                                   "\"provider\":\"klaviyo\"", "\"attempt\":1",         NULL};
        const char *retry_line[] = {"\"level\":\"debug\"",       "retrying in",   jid,
                                    "\"provider\":\"sendgrid\"", "\"attempt\":1", NULL};

        snprintf(jid, sizeof(jid), "\"job_id\":\"%s\"", id[0]);
        CHECK(line_with(log1, ok_line));
        snprintf(jid, sizeof(jid), "\"job_id\":\"%s\"", id[5]);
        CHECK(line_with(log1, fail_line));
        snprintf(jid, sizeof(jid), "\"job_id\":\"%s\"", id[4]);
        CHECK(line_with(log1, retry_line));
    }

    /* 5. traceparent: a child of the job's context on each traced request, none otherwise. */
    {
        cJSON *r0 = request_for(reqlog, "/api/segments/AmOy43");
        cJSON *r1 = request_for(reqlog, "/api/segments/ED0lpI");
        cJSON *r2 = request_for(reqlog, "/api/segments/HdcZaX");
        cJSON *r6 = request_for(reqlog, "/api/segments/OUqB71");

        CHECK(r0 && is_child(r0, TRACE_ID));
        CHECK(r1 && is_child(r1, TRACE_ID2));
        CHECK(r6 && is_child(r6, TRACE_ID));
        CHECK(r2 && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r2, "traceparent")));
        /* Every request stayed on the account's host. */
        snprintf(buf, sizeof(buf), "127.0.0.1:%d", port);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r0, "host")), buf);
        cJSON_Delete(r0);
        cJSON_Delete(r1);
        cJSON_Delete(r2);
        cJSON_Delete(r6);
    }

    /* 6. SIGHUP: a job waiting out a 429 (Retry-After 3 s) across a reload that rotates the
     * key and adds an account. */
    {
        char body[512];
        char uri[128];
        const char *wait_ids[4] = {id[11], id[12], id[13], NULL};

        snprintf(uri, sizeof(uri), "sim-429-1-3-%s", run);
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
                 "\"acme-klaviyo\",\"params\":{\"id\":\"%s\"},\"options\":{\"response_format\":"
                 "\"debug\"}",
                 uri);
        produce_job(prod, jobs, id[11], body, NULL);
        CHECK(ops_wait_file_contains(reqlog, uri, kit_deadline_ms(20000)) == 0);
        write_accounts(accounts, keyfile2, 1, port);
        kit_signal(w1, SIGHUP);
        CHECK(ops_wait_file_contains(log1, "account store reloaded", kit_deadline_ms(10000)) == 0);
        produce_job(prod, jobs, id[12],
                    "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
                    "\"acme-klaviyo\",\"params\":{\"id\":\"AmOy43\"}",
                    NULL);
        produce_job(prod, jobs, id[13],
                    "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
                    "\"acme-new\",\"params\":{\"id\":\"AmOy43\"}",
                    NULL);
        CHECK(await_results(rres, wait_ids, 30000) == 0);
        CHECK_STR(final_field(id[11], "status"), "succeeded"); /* the old key, kept */
        CHECK_STR(final_code(id[12]), "auth_failed");          /* the rotated key */
        CHECK_STR(final_field(id[13], "status"), "succeeded"); /* the new account */
        {
            struct seen *s = seen_get(id[11]);

            CHECK(s && s->final &&
                  cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s->final, "attempts")) ==
                      2);
        }
        /* A broken file: logged, the current store stays. */
        CHECK(ops_write_file(accounts, "{\"accounts\": not json\n") == 0);
        kit_signal(w1, SIGHUP);
        CHECK(ops_wait_file_contains(log1, "account store reload failed", kit_deadline_ms(10000)) ==
              0);
        produce_job(prod, jobs, id[14],
                    "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
                    "\"acme-new\",\"params\":{\"id\":\"ED0lpI\"}",
                    NULL);
        wait_ids[0] = id[14];
        wait_ids[1] = NULL;
        CHECK(await_results(rres, wait_ids, 30000) == 0);
        CHECK_STR(final_field(id[14], "status"), "succeeded");
        m = scrape(admin, nmetrics, metrics_paths[nmetrics], sizeof(metrics_paths[0]));
        nmetrics++;
        CHECK(m && ops_metric(m, "segworker_account_reloads_total{result=\"ok\"}") == 1);
        CHECK(m && ops_metric(m, "segworker_account_reloads_total{result=\"failed\"}") == 1);
        free(m);
        m = NULL;
    }

    /* 7. Draining: a slow job in flight, SIGTERM: not ready (but alive) until it ends. */
    {
        char body[512];
        char uri[128];
        const char *wait_ids[2] = {id[15], NULL};

        snprintf(uri, sizeof(uri), "sim-slow-3000-%s", run);
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
                 "\"acme-new\",\"params\":{\"id\":\"%s\"}",
                 uri);
        produce_job(prod, jobs, id[15], body, NULL);
        CHECK(ops_wait_file_contains(reqlog, uri, kit_deadline_ms(20000)) == 0);
        CHECK_INT(kit_http_get(admin, "/readyz", buf, sizeof(buf)), 200);
        kit_signal(w1, SIGTERM);
        CHECK_INT(
            ops_http_wait_status(admin, "/readyz", 503, buf, sizeof(buf), kit_deadline_ms(5000)),
            503);
        CHECK(strstr(buf, "draining") != NULL);
        CHECK_INT(kit_http_get(admin, "/healthz", buf, sizeof(buf)), 200);
        m = scrape(admin, nmetrics, metrics_paths[nmetrics], sizeof(metrics_paths[0]));
        nmetrics++;
        CHECK(m && ops_metric(m, "segworker_jobs_in_flight") == 1);
        free(m);
        m = NULL;
        CHECK_INT(kit_wait(w1, kit_deadline_ms(30000)), 0);
        w1 = -1;
        CHECK(await_results(rres, wait_ids, 10000) == 0);
        CHECK_STR(final_field(id[15], "status"), "succeeded");
    }

    /* 8. Secret leak: every output of the run. */
    rdlq = kit_reader(bootstrap, dlq);
    end = kit_now_ms() + kit_deadline_ms(20000);
    while (dlq_seen < 2 && kit_now_ms() < end) {
        rd_kafka_message_t *dm = rd_kafka_consumer_poll(rdlq, 200);

        if (dm) {
            if (!dm->err) {
                dump(dlq_dump, dm);
                dlq_seen++;
            }
            rd_kafka_message_destroy(dm);
        }
    }
    CHECK_INT(dlq_seen, 2);
    {
        int n = 0;

        scan_files[n++] = out0;
        scan_files[n++] = log0;
        scan_files[n++] = out1;
        scan_files[n++] = log1;
        scan_files[n++] = results_dump;
        scan_files[n++] = dlq_dump;
        for (i = 0; i < nmetrics && n < 30; i++) {
            scan_files[n++] = metrics_paths[i];
        }
        scan_files[n] = NULL;
        CHECK_INT(ops_scan_secrets(scan_files, secrets), 0);
        /* The scan itself can fail: the debug log has lines to hide a secret in. */
        CHECK(ops_wait_file_contains(log1, "\"level\":\"debug\"", 1) == 0);
        CHECK(ops_wait_file_contains(results_dump, "\"debug\":", 1) == 0);
        snprintf(path, sizeof(path), "%s/planted.log", work);
        {
            char *copy = ops_read_file(log1, NULL);
            FILE *f = fopen(path, "w");

            if (f) {
                fprintf(f, "%s{\"level\":\"debug\",\"msg\":\"header %s\"}\n", copy ? copy : "",
                        SENDGRID_KEY);
                fclose(f);
            }
            free(copy);
        }
        planted_files[0] = path;
        planted_files[1] = NULL;
        CHECK_INT(ops_scan_secrets(planted_files, secrets), 1);
    }

    if (rres) {
        rd_kafka_consumer_close(rres);
        rd_kafka_destroy(rres);
    }
    if (rdlq) {
        rd_kafka_consumer_close(rdlq);
        rd_kafka_destroy(rdlq);
    }
    if (prod) {
        rd_kafka_destroy(prod);
    }
    kit_kill(w1);
    kit_signal(sim, SIGTERM);
    CHECK_INT(kit_wait(sim, kit_deadline_ms(10000)), 0);
    for (i = 0; i < nseen; i++) {
        cJSON_Delete(seen[i].final);
    }
}

static const struct sw_test_case tests[] = {
    {"ops_health_metrics_trace_reload_secrets", test_ops},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (kit_parse_args(argc, argv, "it_ops", &args) != 0) {
        return 2;
    }
    snprintf(work, sizeof(work), "%s", args.work);
    return sw_test_run(tests, NULL);
}
