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
#include "sw_test.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KLAVIYO_KEY  "ops-klaviyo-secret-1a2b3c"
#define SENDGRID_KEY "ops-sendgrid-secret-4d5e6f"
#define WRONG_KEY    "ops-wrong-secret-7a8b9c"
#define KLAVIYO_KEY2 "ops-klaviyo-rotated-secret-0d1e2f"
#define TRACE_ID     "4bf92f3577b34da6a3ce929d0e0e4736"
#define TRACE_ID2    "0af7651916cd43dd8448eb211c80319c"
#define PARENT_ID    "00f067aa0ba902b7"
#define MAX_JOBS     16
#define MAX_SCRAPES  16
#define KL           "\"provider\":\"klaviyo\",\"account\":\"acme-klaviyo\""
#define SG           "\"provider\":\"sendgrid\",\"account\":\"acme-sendgrid\""

static struct kit_args args;

/* What the run keeps for the secret scan and the checks. */
struct ops {
    struct kit_names n;
    struct kit_sim sim;
    struct kit_tally t; /* results; every message dumped to results_dump */
    rd_kafka_t *prod, *rres;
    char accounts[1100], reqlog[1100], keyfile[1100], keyfile2[1100];
    char results_dump[1100], dlq_dump[1100];
    char scrapes[MAX_SCRAPES][1100];
    int nscrapes;
    int admin;
};

/* GET /metrics, kept as metrics-<n>.prom for promtool and the secret scan; caller frees. */
static char *scrape(struct ops *o)
{
    char name[32];

    if (o->nscrapes == MAX_SCRAPES) {
        return NULL;
    }
    snprintf(name, sizeof(name), "metrics-%d.prom", o->nscrapes);
    kit_path(o->scrapes[o->nscrapes], sizeof(o->scrapes[0]), args.work, name);
    return kit_scrape(o->admin, o->scrapes[o->nscrapes++]);
}

/* Job i of this run ("<tag>-<i>") with the given members after its id. */
static void produce_job(struct ops *o, int i, const char *body, const char *traceparent)
{
    char text[1024], id[96];

    snprintf(id, sizeof(id), "%s-%d", o->n.tag, i);
    snprintf(text, sizeof(text), "{\"job_id\":\"%s\",%s}", id, body);
    CHECK(kit_produce_hdr(o->prod, o->n.jobs, id, text, strlen(text),
                          traceparent ? "traceparent" : NULL, traceparent) == 0);
    CHECK(kit_flush(o->prod) == 0);
}

/* The request-log line (JSON) of the first request whose URI contains needle. */
static cJSON *request_for(const char *reqlog, const char *needle)
{
    char *s = kit_read_file(reqlog, NULL);
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

/* The store: Klaviyo's key from kl_keyfile, SendGrid's (right and wrong) from the environment;
 * with_new adds acme-new, keyed by the first key file. */
static void write_accounts(const struct ops *o, const char *kl_keyfile, int with_new)
{
    struct kit_accounts acc;
    char url[128], ref[1200];

    kit_accounts_init(&acc);
    kit_sim_url(&o->sim, "klaviyo", url, sizeof(url));
    snprintf(ref, sizeof(ref), "file:%s", kl_keyfile);
    kit_account_set(&acc, kit_account(&acc, "acme-klaviyo", "klaviyo", url), "credentials",
                    "api_key", ref);
    kit_account_set(&acc, kit_account(&acc, "acme-sendgrid", "sendgrid", url), "credentials",
                    "api_key", "env:OPS_SENDGRID_KEY");
    kit_account_set(&acc, kit_account(&acc, "sendgrid-wrong", "sendgrid", url), "credentials",
                    "api_key", "env:OPS_WRONG_KEY");
    if (with_new) {
        snprintf(ref, sizeof(ref), "file:%s", o->keyfile);
        kit_account_set(&acc, kit_account(&acc, "acme-new", "klaviyo", url), "credentials",
                        "api_key", ref);
    }
    CHECK(kit_accounts_write(&acc, o->accounts) == 0);
}

/* A worker of this test, not started yet (more settings may follow). */
static void init_worker(struct kit_worker *w, const struct ops *o, const char *brokers)
{
    kit_worker_init_run(w, &args, brokers, o->accounts, &o->n);
    kit_worker_set(w, "retry.base_ms=50");
    kit_worker_set(w, "http_addr=127.0.0.1:0");
    kit_worker_set(w, "log_level=debug");
    kit_worker_set(w, "shutdown.grace_ms=20000");
    kit_worker_env(w, "OPS_SENDGRID_KEY=" SENDGRID_KEY);
    kit_worker_env(w, "OPS_WRONG_KEY=" WRONG_KEY);
}

static pid_t start_worker(struct kit_worker *w, const struct ops *o, const char *brokers,
                          const char *name)
{
    init_worker(w, o, brokers);
    return kit_worker_start(w, args.work, name);
}

/* The simulator expects the test keys; the worker reads them from a file and the
 * environment. */
static int setup(struct ops *o)
{
    char *keys[] = {"--key", "klaviyo=" KLAVIYO_KEY, "--key", "sendgrid=" SENDGRID_KEY, NULL};
    struct kit_sim_opts so = {.request_log = o->reqlog, .args = keys};

    kit_names_init(&o->n, "ops", NULL);
    kit_path(o->results_dump, sizeof(o->results_dump), args.work, "results.dump");
    kit_path(o->dlq_dump, sizeof(o->dlq_dump), args.work, "dlq.dump");
    kit_path(o->reqlog, sizeof(o->reqlog), args.work, "requests.ndjson");
    kit_path(o->keyfile, sizeof(o->keyfile), args.work, "klaviyo.key");
    kit_path(o->keyfile2, sizeof(o->keyfile2), args.work, "klaviyo-rotated.key");
    kit_path(o->accounts, sizeof(o->accounts), args.work, "accounts.json");
    unlink(o->reqlog);
    CHECK(kit_topics_create(args.bootstrap, &o->n, 2, 1, 0) == 0);
    CHECK(kit_tally_init(&o->t, o->n.tag, MAX_JOBS) == 0);
    CHECK(kit_tally_record(&o->t, NULL, o->results_dump) == 0);
    CHECK(kit_sim_start(&o->sim, &args, &so) == 0);
    CHECK(kit_write_file(o->keyfile, KLAVIYO_KEY "\n") == 0);
    CHECK(kit_write_file(o->keyfile2, KLAVIYO_KEY2 "\n") == 0);
    write_accounts(o, o->keyfile, 0);
    return o->sim.pid > 0 && o->t.job ? 0 : -1;
}

/* 1. Not ready before the group is joined: this worker's broker does not exist. */
#define SLOW_CLIENTS 200
#define SLOW_ADDRS   10 /* 127.0.0.2 .. 127.0.0.11: other clients than the probes' 127.0.0.1 */
#define PROBES       20

/* A client that connected from 127.0.0.<host> and sent part of a request head: -1, or its fd. */
static int slow_client(int port, int host)
{
    static const char part[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)host);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        send(fd, part, sizeof(part) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(part) - 1) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1b. Slow clients (a byte now and then, never a whole request) hold connections, not the
 * listener: with SLOW_CLIENTS of them open the probes are still answered. Each probe waits at
 * most its own receive timeout; between probes every slow client sends one more byte, so none
 * of them is idle long enough to be dropped. */
static void slow_clients_do_not_starve_probes(int admin)
{
    int fds[SLOW_CLIENTS];
    int i, k, open = 0, answered = 0;
    char buf[512];

    for (i = 0; i < SLOW_CLIENTS; i++) {
        fds[i] = slow_client(admin, 2 + i % SLOW_ADDRS);
        open += fds[i] >= 0;
    }
    CHECK_INT(open, SLOW_CLIENTS);
    for (k = 0; k < PROBES; k++) {
        answered += kit_http_get(admin, "/healthz", buf, sizeof(buf)) > 0; /* 200 or 503 */
        for (i = 0; i < SLOW_CLIENTS; i++) {
            /* A client the listener closed: MSG_NOSIGNAL, so that is a count, not a SIGPIPE. */
            if (fds[i] >= 0 && send(fds[i], "X", 1, MSG_NOSIGNAL) != 1) {
                close(fds[i]);
                fds[i] = -1;
            }
        }
    }
    printf("admin listener: %d of %d health probes answered with %d slow clients open\n", answered,
           PROBES, open);
    CHECK_INT(answered, PROBES);
    for (i = 0; i < SLOW_CLIENTS; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
}

/* GET path until its body holds needle or the deadline passes; the last status. */
static int wait_body(int port, const char *path, const char *needle, char *buf, size_t n,
                     int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;
    int st;

    for (;;) {
        st = kit_http_get(port, path, buf, n);
        if ((st > 0 && strstr(buf, needle)) || kit_now_ms() >= end) {
            return st;
        }
        kit_nap_ms(50);
    }
}

/* 1. No broker: alive at first, not ready and saying why; past health.max_broker_down_ms no
 * longer alive either, so an orchestrator can act. */
static void not_ready_without_broker(struct ops *o, struct kit_worker *w0)
{
    char buf[4096];
    int admin;

    init_worker(w0, o, "127.0.0.1:1");
    kit_worker_set(w0, "health.max_broker_down_ms=3000");
    kit_worker_start(w0, args.work, "worker0");
    admin = kit_worker_admin_port(w0, kit_deadline_ms(20000));
    CHECK(admin > 0);
    CHECK_INT(kit_http_get(admin, "/readyz", buf, sizeof(buf)), 503);
    CHECK(strstr(buf, "no Kafka broker (127.0.0.1:1) has answered") != NULL);
    CHECK_INT(kit_http_get(admin, "/nosuch", buf, sizeof(buf)), 404);
    slow_clients_do_not_starve_probes(admin);
    CHECK_INT(wait_body(admin, "/healthz", "health.max_broker_down_ms", buf, sizeof(buf),
                        kit_deadline_ms(20000)),
              503);
    /* And the log never claimed to consume. */
    CHECK(!kit_file_contains(w0->log, "consuming"));
    CHECK(kit_file_contains(w0->log, "connecting to 127.0.0.1:1"));
    kit_worker_kill(w0);
}

/* 1c. A broker, but no jobs topic: /readyz names the topic. */
static void missing_jobs_topic_named(struct ops *o)
{
    struct kit_worker w;
    char buf[4096], want[256];
    int admin;

    init_worker(&w, o, args.bootstrap);
    kit_worker_set(&w, "topics.jobs=%s-nosuch", o->n.tag);
    kit_worker_start(&w, args.work, "worker-notopic");
    admin = kit_worker_admin_port(&w, kit_deadline_ms(20000));
    CHECK(admin > 0);
    snprintf(want, sizeof(want), "the jobs topic %s-nosuch does not exist", o->n.tag);
    CHECK_INT(wait_body(admin, "/readyz", want, buf, sizeof(buf), kit_deadline_ms(30000)), 503);
    CHECK(strstr(buf, want) != NULL);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(30000)), 0);
}

/* 3. A mixed run: successes (two traced), a list, a retry, provider errors, dead letters. */
static void mixed_run(struct ops *o)
{
    static const char *const segs[] = {"AmOy43", "ED0lpI", "HdcZaX", "L4ENLm"};
    char body[512];
    int i;

    for (i = 0; i < 4; i++) {
        snprintf(body, sizeof(body),
                 "\"operation\":\"segments.get\"," KL ",\"params\":{\"id\":\"%s\"}", segs[i]);
        produce_job(o, i, body,
                    i == 0   ? "00-" TRACE_ID "-" PARENT_ID "-01"
                    : i == 1 ? "00-" TRACE_ID2 "-" PARENT_ID "-01"
                             : NULL);
    }
    snprintf(body, sizeof(body),
             "\"operation\":\"segments.get\"," SG ",\"params\":{\"id\":\"sim-429-1-1-%s\"}",
             o->n.tag);
    produce_job(o, 4, body, NULL);
    snprintf(body, sizeof(body),
             "\"operation\":\"segments.get\"," KL ",\"params\":{\"id\":\"nope-%s\"}", o->n.tag);
    produce_job(o, 5, body, NULL);
    produce_job(o, 6,
                "\"operation\":\"segments.get\"," KL ",\"params\":{\"id\":\"OUqB71\"},"
                "\"options\":{\"response_format\":\"debug\"}",
                "00-" TRACE_ID "-" PARENT_ID "-01");
    CHECK(kit_produce(o->prod, o->n.jobs, "bad", "{\"job_id\": not json", 19) == 0); /* DLQ */
    produce_job(o, 8, /* DLQ unknown_account */
                "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":\"nosuch\","
                "\"params\":{\"id\":\"x\"}",
                NULL);
    produce_job(o, 9, "\"operation\":\"segments.list\"," KL, NULL);
    produce_job(o, 10,
                "\"operation\":\"segments.get\",\"provider\":\"sendgrid\",\"account\":"
                "\"sendgrid-wrong\",\"params\":{\"id\":\"08b37c99-7f6f-46c1-869a-001a8227a523\"}",
                NULL);
    /* Jobs 0-6 and 8-10: job 7 is the message that is not JSON, with no result. */
    CHECK(kit_tally_wait_for(&o->t, o->rres, 10, kit_deadline_ms(60000)) == 0);
    for (i = 0; i < 5; i++) {
        CHECK_STR(o->t.job[i].status, "succeeded");
    }
    CHECK_STR(o->t.job[5].code, "not_found");
    CHECK_STR(o->t.job[6].status, "succeeded");
    CHECK_STR(o->t.job[8].code, "unknown_account");
    CHECK_STR(o->t.job[9].status, "succeeded");
    CHECK_STR(o->t.job[10].code, "auth_failed");
}

/* Some job id of the run ("<tag>-<index>") is in text. */
static int names_a_job(const struct ops *o, const char *text)
{
    char id[96];
    int i;

    for (i = 0; i < MAX_JOBS; i++) {
        snprintf(id, sizeof(id), "%s-%d", o->n.tag, i);
        if (strstr(text, id)) {
            return 1;
        }
    }
    return 0;
}

#define JOBS_TOTAL(labels) "segworker_jobs_total{" labels "}"
#define HTTP_COUNT(labels) "segworker_http_request_duration_seconds_count{" labels "}"

/* 4. /metrics: wait for the commits (auto-commit, 1 s), then check the values. */
static void metrics_match_the_run(struct ops *o)
{
    int64_t end = kit_now_ms() + kit_deadline_ms(30000);
    char promout[1100];
    char *m = NULL;

    for (;;) {
        free(m);
        o->nscrapes = 0; /* only the last scrape of the wait is kept */
        m = scrape(o);
        if (!m || kit_metric_sum(m, "segworker_consumer_committed_offset") >= 11 ||
            kit_now_ms() >= end) {
            break;
        }
        kit_nap_ms(100);
    }
    CHECK(m != NULL);
    if (!m) {
        return;
    }
    CHECK_INT(
        kit_promtool(o->scrapes[0], kit_path(promout, sizeof(promout), args.work, "promtool.out")),
        0);
    CHECK_INT(kit_check_dashboard(&args, o->scrapes[0],
                                  kit_path(promout, sizeof(promout), args.work, "dashboard.out")),
              0);
    CHECK(kit_metric(m, "segworker_job_duration_seconds_count{provider=\"klaviyo\","
                        "operation=\"segments.get\",status=\"succeeded\"}") == 5);
    CHECK(kit_metric(m, "segworker_job_duration_seconds_count{provider=\"klaviyo\","
                        "operation=\"segments.list\",status=\"succeeded\"}") == 1);
    CHECK(kit_metric(m, "process_resident_memory_bytes") > 1e6);
    CHECK(kit_metric(m, "process_open_fds") >= 3);
    CHECK(kit_metric(m, "process_start_time_seconds") > 1.6e9);
    CHECK(kit_metric(m, "process_cpu_seconds_total") > 0);
    CHECK(kit_metric(m, "segworker_group_joined") == 1);
    CHECK(kit_metric(m, "segworker_loop_last_turn_age_seconds") < 60);
    CHECK(kit_metric_sum(m, "segworker_consumer_committed_offset") == 11);
    CHECK(kit_metric_sum(m, "segworker_consumer_lag") == 0);
    CHECK(kit_metric(m, "segworker_partitions_assigned") == 2);
    CHECK(kit_metric(m, "segworker_partitions_paused") == 0);
    CHECK(kit_metric(m, "segworker_jobs_in_flight") == 0);
    CHECK(kit_metric(m, JOBS_TOTAL("provider=\"klaviyo\",operation=\"segments.get\","
                                   "status=\"succeeded\",code=\"ok\"")) == 5);
    CHECK(kit_metric(m, JOBS_TOTAL("provider=\"klaviyo\",operation=\"segments.get\","
                                   "status=\"failed\",code=\"not_found\"")) == 1);
    CHECK(kit_metric(m, JOBS_TOTAL("provider=\"klaviyo\",operation=\"segments.get\","
                                   "status=\"failed\",code=\"unknown_account\"")) == 1);
    CHECK(kit_metric(m, JOBS_TOTAL("provider=\"other\",operation=\"other\","
                                   "status=\"failed\",code=\"invalid_job\"")) == 1);
    CHECK(kit_metric(m, JOBS_TOTAL("provider=\"klaviyo\",operation=\"segments.list\","
                                   "status=\"succeeded\",code=\"ok\"")) == 1);
    CHECK(kit_metric(m, JOBS_TOTAL("provider=\"sendgrid\",operation=\"segments.get\","
                                   "status=\"failed\",code=\"auth_failed\"")) == 1);
    CHECK(kit_metric_sum(m, "segworker_jobs_total") == 11);
    CHECK(kit_metric(m, "segworker_retries_total{provider=\"sendgrid\",code=\"rate_limited\"}") ==
          1);
    CHECK(kit_metric(m, "segworker_dead_letters_total{reason=\"invalid_job\"}") == 1);
    CHECK(kit_metric(m, "segworker_dead_letters_total{reason=\"unknown_account\"}") == 1);
    /* klaviyo: 5 gets + 3 list pages answered 2xx, one 404; sendgrid: 200, 429, 401 */
    CHECK(kit_metric(m, HTTP_COUNT("provider=\"klaviyo\",class=\"2xx\"")) == 8);
    CHECK(kit_metric(m, HTTP_COUNT("provider=\"klaviyo\",class=\"4xx\"")) == 1);
    CHECK(kit_metric(m, HTTP_COUNT("provider=\"sendgrid\",class=\"4xx\"")) == 2);
    CHECK(kit_metric(m, "segworker_http_request_duration_seconds_bucket{provider=\"klaviyo\","
                        "class=\"2xx\",le=\"+Inf\"}") == 8);
    CHECK(strstr(m, "segworker_build_info{version=\"") != NULL);
    /* Labels are bounded: no job id or account name ever appears (topic names, which hold the
     * run's tag too, may). */
    CHECK(!names_a_job(o, m) && strstr(m, "acme-") == NULL);
    free(m);
}

/* Structured logs: job lines carry the job's identity and attempt, levels are honoured. */
static void logs_name_the_job(const struct ops *o, const char *log)
{
    char jid[120];
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

    snprintf(jid, sizeof(jid), "\"job_id\":\"%s-0\"", o->n.tag);
    CHECK(kit_file_line_with(log, ok_line));
    snprintf(jid, sizeof(jid), "\"job_id\":\"%s-5\"", o->n.tag);
    CHECK(kit_file_line_with(log, fail_line));
    snprintf(jid, sizeof(jid), "\"job_id\":\"%s-4\"", o->n.tag);
    CHECK(kit_file_line_with(log, retry_line));
}

/* 5. traceparent: a child of the job's context on each traced request, none otherwise. */
static void trace_context_propagates(const struct ops *o)
{
    cJSON *r0 = request_for(o->reqlog, "/api/segments/AmOy43");
    cJSON *r1 = request_for(o->reqlog, "/api/segments/ED0lpI");
    cJSON *r2 = request_for(o->reqlog, "/api/segments/HdcZaX");
    cJSON *r6 = request_for(o->reqlog, "/api/segments/OUqB71");
    char host[64];

    CHECK(r0 && is_child(r0, TRACE_ID));
    CHECK(r1 && is_child(r1, TRACE_ID2));
    CHECK(r6 && is_child(r6, TRACE_ID));
    CHECK(r2 && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r2, "traceparent")));
    /* Every request stayed on the account's host. */
    snprintf(host, sizeof(host), "127.0.0.1:%d", o->sim.port);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r0, "host")), host);
    cJSON_Delete(r0);
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    cJSON_Delete(r6);
}

/* 6. SIGHUP: a job waiting out a 429 (Retry-After 3 s) across a reload that rotates the key and
 * adds an account; then a broken file, which keeps the current store. */
static void reload_on_sighup(struct ops *o, struct kit_worker *w)
{
    char body[512], uri[128];
    char *m;

    snprintf(uri, sizeof(uri), "sim-429-1-3-%s", o->n.tag);
    snprintf(body, sizeof(body),
             "\"operation\":\"segments.get\"," KL ",\"params\":{\"id\":\"%s\"},\"options\":"
             "{\"response_format\":\"debug\"}",
             uri);
    produce_job(o, 11, body, NULL);
    CHECK(kit_wait_file_contains(o->reqlog, uri, kit_deadline_ms(20000)) == 0);
    write_accounts(o, o->keyfile2, 1);
    kit_signal(w->pid, SIGHUP);
    CHECK(kit_wait_file_contains(w->log, "account store reloaded", kit_deadline_ms(10000)) == 0);
    produce_job(o, 12, "\"operation\":\"segments.get\"," KL ",\"params\":{\"id\":\"AmOy43\"}",
                NULL);
    produce_job(o, 13,
                "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
                "\"acme-new\",\"params\":{\"id\":\"AmOy43\"}",
                NULL);
    CHECK(kit_tally_wait_for(&o->t, o->rres, 13, kit_deadline_ms(30000)) == 0);
    CHECK_STR(o->t.job[11].status, "succeeded"); /* the old key, kept */
    CHECK_STR(o->t.job[12].code, "auth_failed"); /* the rotated key */
    CHECK_STR(o->t.job[13].status, "succeeded"); /* the new account */
    CHECK_INT(o->t.job[11].attempts, 2);
    /* A broken file: logged, the current store stays. */
    CHECK(kit_write_file(o->accounts, "{\"accounts\": not json\n") == 0);
    kit_signal(w->pid, SIGHUP);
    CHECK(kit_wait_file_contains(w->log, "account store reload failed", kit_deadline_ms(10000)) ==
          0);
    produce_job(o, 14,
                "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
                "\"acme-new\",\"params\":{\"id\":\"ED0lpI\"}",
                NULL);
    CHECK(kit_tally_wait_for(&o->t, o->rres, 14, kit_deadline_ms(30000)) == 0);
    CHECK_STR(o->t.job[14].status, "succeeded");
    m = scrape(o);
    CHECK(m && kit_metric(m, "segworker_account_reloads_total{result=\"ok\"}") == 1);
    CHECK(m && kit_metric(m, "segworker_account_reloads_total{result=\"failed\"}") == 1);
    free(m);
}

/* 7. Draining: a slow job in flight, SIGTERM: not ready (but alive) until it ends. */
static void drain_on_sigterm(struct ops *o, struct kit_worker *w)
{
    char body[512], uri[128], buf[4096];
    char *m;

    snprintf(uri, sizeof(uri), "sim-slow-3000-%s", o->n.tag);
    snprintf(body, sizeof(body),
             "\"operation\":\"segments.get\",\"provider\":\"klaviyo\",\"account\":"
             "\"acme-new\",\"params\":{\"id\":\"%s\"}",
             uri);
    produce_job(o, 15, body, NULL);
    CHECK(kit_wait_file_contains(o->reqlog, uri, kit_deadline_ms(20000)) == 0);
    CHECK_INT(kit_http_get(o->admin, "/readyz", buf, sizeof(buf)), 200);
    kit_signal(w->pid, SIGTERM);
    CHECK_INT(
        kit_http_wait_status(o->admin, "/readyz", 503, buf, sizeof(buf), kit_deadline_ms(5000)),
        503);
    CHECK(strstr(buf, "draining") != NULL);
    CHECK_INT(kit_http_get(o->admin, "/healthz", buf, sizeof(buf)), 200);
    m = scrape(o);
    CHECK(m && kit_metric(m, "segworker_jobs_in_flight") == 1);
    free(m);
    CHECK_INT(kit_worker_wait(w, kit_deadline_ms(30000)), 0);
    CHECK(kit_tally_wait_for(&o->t, o->rres, 15, kit_deadline_ms(10000)) == 0);
    CHECK_STR(o->t.job[15].status, "succeeded");
}

/* Every partition's position, committed offset and lag, for the jobs topic; 1 when all are
 * there. */
static int partition_series(const struct ops *o, const char *m, int parts, double *lag)
{
    static const char *const fam[] = {"segworker_consumer_position",
                                      "segworker_consumer_committed_offset",
                                      "segworker_consumer_lag"};
    char series[256];
    int p, f;

    *lag = 0;
    for (p = 0; p < parts; p++) {
        for (f = 0; f < 3; f++) {
            double v;

            snprintf(series, sizeof(series), "%s{topic=\"%s\",partition=\"%d\"}", fam[f], o->n.jobs,
                     p);
            v = kit_metric(m, series);
            if (v < 0) {
                return 0;
            }
            *lag += f == 2 ? v : 0;
        }
    }
    return 1;
}

/* 7. A restarted worker with nothing new to consume: every assigned partition has its position,
 * committed offset and lag from the start, not only those that receive a message. */
static void series_after_restart(struct ops *o, struct kit_worker *w)
{
    int64_t end;
    char path[1100], buf[4096];
    char *m = NULL;
    double lag = -1;
    int port, all = 0;

    write_accounts(o, o->keyfile2, 1); /* the reload step left a broken store behind */
    start_worker(w, o, args.bootstrap, "worker2");
    port = kit_worker_admin_port(w, kit_deadline_ms(20000));
    CHECK(port > 0);
    CHECK_INT(kit_http_wait_status(port, "/readyz", 200, buf, sizeof(buf), kit_deadline_ms(60000)),
              200);
    kit_path(path, sizeof(path), args.work, "metrics-restart.prom");
    end = kit_now_ms() + kit_deadline_ms(20000);
    while (!all && kit_now_ms() < end) {
        free(m);
        m = kit_scrape(port, path);
        all = m && partition_series(o, m, 2, &lag);
        if (!all) {
            kit_nap_ms(200);
        }
    }
    CHECK(all);
    CHECK(lag == 0);
    CHECK(m && kit_metric(m, "segworker_partitions_assigned") == 2);
    free(m);
    CHECK_INT(kit_worker_stop(w, kit_deadline_ms(30000)), 0);
}

static int dump_dead_letter(void *arg, const rd_kafka_message_t *m)
{
    kit_dump_message(arg, m);
    return 0;
}

/* 8. Secret leak: every output of the run; the scan itself can find one. */
static void no_secret_anywhere(struct ops *o, const struct kit_worker *w0,
                               const struct kit_worker *w1)
{
    const char *secrets[] = {KLAVIYO_KEY, SENDGRID_KEY, WRONG_KEY, KLAVIYO_KEY2, NULL};
    const char *files[8 + MAX_SCRAPES] = {w0->out, w0->log,         w1->out,
                                          w1->log, o->results_dump, o->dlq_dump};
    const char *planted[2] = {NULL, NULL};
    char path[1100];
    FILE *f = fopen(o->dlq_dump, "wb");
    char *copy;
    int i;

    CHECK(f != NULL);
    if (f) {
        CHECK_INT(kit_read_topic(args.bootstrap, o->n.dlq, 2, kit_deadline_ms(20000),
                                 dump_dead_letter, f),
                  2);
        fclose(f);
    }
    for (i = 0; i < o->nscrapes; i++) {
        files[6 + i] = o->scrapes[i];
    }
    fflush(o->t.dump);
    CHECK_INT(kit_scan_secrets(files, secrets), 0);
    /* The scan itself can fail: the debug log has lines to hide a secret in. */
    CHECK(kit_file_contains(w1->log, "\"level\":\"debug\""));
    CHECK(kit_file_contains(o->results_dump, "\"debug\":"));
    planted[0] = kit_path(path, sizeof(path), args.work, "planted.log");
    copy = kit_read_file(w1->log, NULL);
    f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s{\"level\":\"debug\",\"msg\":\"header %s\"}\n", copy ? copy : "",
                SENDGRID_KEY);
        fclose(f);
    }
    free(copy);
    CHECK_INT(kit_scan_secrets(planted, secrets), 1);
}

static void test_ops(void)
{
    struct ops *o = calloc(1, sizeof(*o));
    struct kit_worker w0 = {.pid = -1}, w1 = {.pid = -1}, w2 = {.pid = -1};
    char buf[4096];

    CHECK(o != NULL && args.bootstrap[0]);
    if (!o || !args.bootstrap[0] || setup(o) != 0) {
        goto out;
    }
    not_ready_without_broker(o, &w0);
    missing_jobs_topic_named(o);

    /* 2. The real worker: ready once the group assigned its partitions. */
    start_worker(&w1, o, args.bootstrap, "worker1");
    o->admin = kit_worker_admin_port(&w1, kit_deadline_ms(20000));
    CHECK(o->admin > 0);
    CHECK_INT(
        kit_http_wait_status(o->admin, "/readyz", 200, buf, sizeof(buf), kit_deadline_ms(60000)),
        200);
    CHECK_INT(kit_http_get(o->admin, "/healthz", buf, sizeof(buf)), 200);
    o->prod = kit_producer(args.bootstrap);
    o->rres = kit_reader(args.bootstrap, o->n.results);
    CHECK(o->prod && o->rres);
    if (!o->prod || !o->rres) {
        goto out;
    }
    mixed_run(o);
    metrics_match_the_run(o);
    logs_name_the_job(o, w1.log);
    trace_context_propagates(o);
    reload_on_sighup(o, &w1);
    drain_on_sigterm(o, &w1);
    series_after_restart(o, &w2);
    no_secret_anywhere(o, &w0, &w1);
out:
    if (o) {
        kit_reader_close(o->rres);
        kit_producer_free(o->prod);
        CHECK_INT(kit_sim_stop(&o->sim), 0);
        kit_tally_free(&o->t);
    }
    kit_worker_kill(&w0);
    kit_worker_kill(&w1);
    kit_worker_kill(&w2);
    free(o);
}

static const struct sw_test_case tests[] = {
    {"ops_health_metrics_trace_reload_secrets", test_ops},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_ops", args, tests)
