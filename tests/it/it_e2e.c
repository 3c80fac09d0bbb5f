/* End to end against a real Apache Kafka broker and the provider simulator over sockets:
 * 1,000 mixed jobs (get/list/delete on Klaviyo and SendGrid, retries, failures and bad input)
 * through `segworker run`. Asserts exactly one final result per job with the unified fields the
 * simulator's data implies, a dead letter for each bad input, schema-valid results, no secret in
 * any output, committed offsets at the end of the jobs topic, and a clean SIGTERM drain.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NJOBS        1000
#define KLAVIYO_KEY  "sim-klaviyo-key"
#define SENDGRID_KEY "sim-sendgrid-key"

enum kind {
    K_KGET,
    K_KGET_COUNT,
    K_KLIST,
    K_KDELETE,
    K_SGET,
    K_SLIST,
    K_SDELETE,
    K_NOT_FOUND,
    K_AUTH,
    K_BAD, /* sub-kinds below */
    K_FLAKY,
    K_RATE_LIMITED,
    K_KLIST_RAW,
    K_DEBUG,
};

enum bad {
    B_NOT_JSON,
    B_NO_ID,
    B_PROVIDER,
    B_ACCOUNT,
    B_OPERATION,
    B_PARAMS,
    B_OVERSIZED,
    B_BODY,
    B_REPLY_TO,
    B__COUNT
};

struct expect {
    enum kind kind;
    int sub;
    int seg;        /* simulator segment index */
    int has_result; /* a result message is expected at all */
    int finals;
    int parts;
    int items;
    int dlq;
    const char *want_code; /* NULL: succeeded */
    char ids[32][40];      /* list: ids collected over parts */
    int nids;
    int traceparent; /* the job carried one; its result must too */
};

#define TRACEPARENT "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
static char results_topic[64];

static struct expect ex[NJOBS];
static char run_id[32];
static const char *argv_worker, *argv_sim, *argv_validator, *argv_schemas, *argv_work;

static enum kind kind_of(int i, int *sub)
{
    static const enum kind plan[20] = {K_KGET,  K_KGET,         K_KGET,      K_KGET,  K_KGET_COUNT,
                                       K_KLIST, K_KDELETE,      K_SGET,      K_SGET,  K_SGET,
                                       K_SLIST, K_SDELETE,      K_NOT_FOUND, K_AUTH,  K_BAD,
                                       K_FLAKY, K_RATE_LIMITED, K_KLIST_RAW, K_DEBUG, K_BAD};

    *sub = (i / 10) % B__COUNT;
    return plan[i % 20];
}

static void iso(long long epoch_ms, char *buf, size_t n)
{
    time_t s = (time_t)(epoch_ms / 1000);
    struct tm tm;
    char base[32];

    gmtime_r(&s, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    if (epoch_ms % 1000) {
        snprintf(buf, n, "%s.%03dZ", base, (int)(epoch_ms % 1000));
    } else {
        snprintf(buf, n, "%sZ", base);
    }
}

static long long kl_time_ms(int i, int which, long long epoch)
{
    /* The simulator writes some times with microseconds; the fraction is part of the instant. */
    return epoch * 1000 + (sim_klaviyo_time_variant(i, which) == SIM_KTIME_MICROS ? 123 : 0);
}

static int str_is(const cJSON *o, const char *k, const char *want)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    if (!want) {
        return cJSON_IsNull(v);
    }
    return cJSON_IsString(v) && !strcmp(v->valuestring, want);
}

static int check_klaviyo_segment(const cJSON *u, int idx, int with_count)
{
    struct sim_klaviyo_segment s;
    char c[40], up[40];
    const char *status;
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(u, "member_count");

    sim_klaviyo_segment(idx, &s);
    iso(kl_time_ms(idx, 0, s.created_epoch), c, sizeof(c));
    iso(kl_time_ms(idx, 1, s.updated_epoch), up, sizeof(up));
    status = !s.is_active ? "inactive" : s.is_processing ? "processing" : "active";
    return str_is(u, "id", s.id) && str_is(u, "name", s.name) && str_is(u, "created_at", c) &&
           str_is(u, "updated_at", up) && str_is(u, "status", status) &&
           str_is(u, "description", NULL) && str_is(u, "last_calculated_at", NULL) &&
           cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(u, "is_starred")) &&
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "is_starred")) == !!s.is_starred &&
           (with_count ? cJSON_IsNumber(mc) && (long)mc->valuedouble == s.profile_count
                       : cJSON_IsNull(mc)) &&
           cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(u, "remote_data"));
}

static int check_sendgrid_segment(const cJSON *u, int idx)
{
    struct sim_sendgrid_segment s;
    char c[40], up[40], lc[40];
    const char *status;
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(u, "member_count");

    sim_sendgrid_segment(idx, &s);
    iso(s.created_epoch * 1000, c, sizeof(c));
    iso(s.updated_epoch * 1000, up, sizeof(up));
    iso(s.sample_updated_epoch * 1000, lc, sizeof(lc));
    if (!strcmp(s.query_validation, "INVALID")) {
        status = "failed";
    } else if (!strcmp(s.query_validation, "PENDING") || !s.sample_updated_epoch) {
        status = "pending";
    } else {
        status = "active";
    }
    return str_is(u, "id", s.id) && str_is(u, "name", s.name) && str_is(u, "created_at", c) &&
           str_is(u, "updated_at", up) && str_is(u, "status", status) &&
           str_is(u, "last_calculated_at", s.sample_updated_epoch ? lc : NULL) &&
           cJSON_IsNumber(mc) && (long)mc->valuedouble == s.contacts_count &&
           cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u, "is_starred"));
}

/* Build job i; returns its text (static buffer for small jobs, heap for the oversized one). */
static char *job_text(int i, struct expect *e, size_t *len)
{
    static char buf[2048];
    char id[64];
    const char *p_kl = "\"provider\":\"klaviyo\",\"account\":\"acme-klaviyo\"";
    const char *p_sg = "\"provider\":\"sendgrid\",\"account\":\"acme-sendgrid\"";
    struct sim_klaviyo_segment k;
    struct sim_sendgrid_segment s;
    char reply[128];
    char *big;

    snprintf(id, sizeof(id), "%s-%d", run_id, i);
    e->kind = kind_of(i, &e->sub);
    e->has_result = 1;
    e->seg = (i * 7) % SIM_KLAVIYO_SEGMENTS;
    sim_klaviyo_segment(e->seg, &k);
    sim_sendgrid_segment(i % SIM_SENDGRID_SEGMENTS, &s);
    switch (e->kind) {
    case K_KGET:
    case K_KGET_COUNT:
        /* Some name the results topic in reply_to (allowed), some carry a trace context. */
        snprintf(reply, sizeof(reply), ",\"reply_to\":\"%s\"", results_topic);
        e->traceparent = i % 20 == 1;
        snprintf(
            buf, sizeof(buf),
            "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"%s\"%s},"
            "\"correlation\":{\"workflowId\":\"wf-%d\",\"taskRefName\":\"t\"}%s}",
            id, p_kl, k.id, e->kind == K_KGET_COUNT ? ",\"with_member_count\":true" : "", i,
            i % 20 == 3 ? reply : "");
        break;
    case K_KLIST:
        snprintf(buf, sizeof(buf), "{\"job_id\":\"%s\",\"operation\":\"segments.list\",%s}", id,
                 p_kl);
        break;
    case K_KLIST_RAW:
        snprintf(buf, sizeof(buf),
                 "{\"job_id\":\"%s\",\"operation\":\"segments.list\",%s,\"options\":"
                 "{\"response_format\":\"raw\"}}",
                 id, p_kl);
        break;
    case K_DEBUG:
        snprintf(buf, sizeof(buf),
                 "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"%s\"},"
                 "\"options\":{\"response_format\":\"debug\"}}",
                 id, p_kl, k.id);
        break;
    case K_KDELETE:
        snprintf(
            buf, sizeof(buf),
            "{\"job_id\":\"%s\",\"operation\":\"segments.delete\",%s,\"params\":{\"id\":\"%s\"}}",
            id, p_kl, k.id);
        break;
    case K_SGET:
        e->seg = i % SIM_SENDGRID_SEGMENTS;
        snprintf(buf, sizeof(buf),
                 "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"%s\"}}",
                 id, p_sg, s.id);
        break;
    case K_SLIST:
        snprintf(buf, sizeof(buf), "{\"job_id\":\"%s\",\"operation\":\"segments.list\",%s}", id,
                 p_sg);
        break;
    case K_SDELETE:
        snprintf(
            buf, sizeof(buf),
            "{\"job_id\":\"%s\",\"operation\":\"segments.delete\",%s,\"params\":{\"id\":\"%s\"}}",
            id, p_sg, s.id);
        break;
    case K_NOT_FOUND:
        e->want_code = "not_found";
        snprintf(
            buf, sizeof(buf),
            "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"nope%d\"}}",
            id, p_kl, i);
        break;
    case K_AUTH:
        e->want_code = "auth_failed";
        snprintf(buf, sizeof(buf),
                 "{\"job_id\":\"%s\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
                 "\"account\":\"sendgrid-wrong-key\",\"params\":{\"id\":\"%s\"}}",
                 id, s.id);
        break;
    case K_FLAKY:
        snprintf(buf, sizeof(buf),
                 "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":"
                 "\"sim-flaky-2-%s\"}}",
                 id, p_kl, id);
        break;
    case K_RATE_LIMITED:
        snprintf(buf, sizeof(buf),
                 "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":"
                 "\"sim-429-1-1-%s\"}}",
                 id, p_sg, id);
        break;
    case K_BAD:
        e->dlq = 1;
        switch ((enum bad)e->sub) {
        case B_NOT_JSON:
            e->has_result = 0;
            snprintf(buf, sizeof(buf), "{\"job_id\": \"%s\", this is not JSON", id);
            break;
        case B_NO_ID:
            e->has_result = 0;
            snprintf(buf, sizeof(buf), "{\"operation\":\"segments.get\",%s}", p_kl);
            break;
        case B_PROVIDER:
            e->want_code = "unknown_provider";
            snprintf(buf, sizeof(buf),
                     "{\"job_id\":\"%s\",\"operation\":\"segments.get\",\"provider\":\"nosuch\","
                     "\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"x\"}}",
                     id);
            break;
        case B_ACCOUNT:
            e->want_code = "unknown_account";
            snprintf(buf, sizeof(buf),
                     "{\"job_id\":\"%s\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                     "\"account\":\"nosuch\",\"params\":{\"id\":\"x\"}}",
                     id);
            break;
        case B_OPERATION:
            e->want_code = "unsupported_operation";
            snprintf(buf, sizeof(buf),
                     "{\"job_id\":\"%s\",\"operation\":\"segments.refresh\",%s,\"params\":{\"id\":"
                     "\"x\"}}",
                     id, p_kl);
            break;
        case B_PARAMS:
            e->want_code = "invalid_params";
            snprintf(buf, sizeof(buf),
                     "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{}}", id,
                     p_kl);
            break;
        case B_OVERSIZED:
            e->want_code = "invalid_job";
            big = malloc(300 * 1024);
            snprintf(
                big, 300 * 1024,
                "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":\"x\","
                "\"pad\":\"%0*d\"}}",
                id, p_kl, 290 * 1024, 0);
            *len = strlen(big);
            return big;
        case B_REPLY_TO:
            e->want_code = "invalid_job";
            snprintf(buf, sizeof(buf),
                     "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":"
                     "\"x\"},\"reply_to\":\"__consumer_offsets\"}",
                     id, p_kl);
            break;
        case B_BODY:
        case B__COUNT:
            e->want_code = "response_invalid";
            snprintf(buf, sizeof(buf),
                     "{\"job_id\":\"%s\",\"operation\":\"segments.get\",%s,\"params\":{\"id\":"
                     "\"sim-bad-json\"}}",
                     id, p_kl);
            break;
        }
        break;
    }
    *len = strlen(buf);
    return buf;
}

static int job_index(const char *job_id)
{
    size_t n = strlen(run_id);

    if (!job_id || strncmp(job_id, run_id, n) || job_id[n] != '-') {
        return -1;
    }
    return atoi(job_id + n + 1);
}

/* Check one result message against what job i should produce. */
static void check_result(int i, const cJSON *r)
{
    struct expect *e = &ex[i];
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(r, "part");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "result");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
    int last = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "last"));
    int attempts = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "attempts"));
    const cJSON *it;
    int ok = 1;

    e->parts++;
    e->finals += last;
    e->items += (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(part, "items"));
    if (e->want_code) {
        ok = str_is(r, "status", "failed") && str_is(err, "code", e->want_code) &&
             cJSON_IsNull(res) && last;
        if (e->kind == K_NOT_FOUND || e->kind == K_AUTH) {
            ok = ok &&
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(err, "http_status")) >= 400;
        }
    } else if (!str_is(r, "status", "succeeded")) {
        ok = 0;
    } else {
        switch (e->kind) {
        case K_KGET:
            ok = check_klaviyo_segment(res, e->seg, 0) && attempts == 1;
            ok = ok && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "correlation"));
            break;
        case K_KGET_COUNT:
            ok = check_klaviyo_segment(res, e->seg, 1);
            break;
        case K_DEBUG: {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "debug");
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(d, "request_options"), "headers");

            ok = check_klaviyo_segment(res, e->seg, 0) &&
                 str_is(h, "Authorization", "[redacted]") && str_is(h, "revision", "2025-04-15") &&
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "http_status")) == 200;
            break;
        }
        case K_KDELETE:
        case K_SDELETE: {
            struct sim_klaviyo_segment k;
            struct sim_sendgrid_segment s;

            sim_klaviyo_segment(e->seg, &k);
            sim_sendgrid_segment(i % SIM_SENDGRID_SEGMENTS, &s);
            ok = str_is(res, "id", e->kind == K_KDELETE ? k.id : s.id) &&
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "deleted"));
            break;
        }
        case K_SGET:
            ok = check_sendgrid_segment(res, e->seg);
            break;
        case K_KLIST:
        case K_SLIST:
            cJSON_ArrayForEach(it, res)
            {
                const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
                int idx = e->kind == K_KLIST ? sim_klaviyo_find(id ? id : "")
                                             : sim_sendgrid_find(id ? id : "");

                if (idx < 0 || e->nids >= 32 ||
                    !(e->kind == K_KLIST ? check_klaviyo_segment(it, idx, 0)
                                         : check_sendgrid_segment(it, idx))) {
                    ok = 0;
                    break;
                }
                snprintf(e->ids[e->nids++], sizeof(e->ids[0]), "%s", id);
            }
            if (last) {
                int want = e->kind == K_KLIST ? SIM_KLAVIYO_SEGMENTS : SIM_SENDGRID_SEGMENTS;

                ok = ok && e->nids == want && e->items == want &&
                     (int)cJSON_GetNumberValue(
                         cJSON_GetObjectItemCaseSensitive(part, "total_items")) == want;
            }
            break;
        case K_KLIST_RAW:
            /* One part per provider page, body untouched: 10, 10, 5. */
            ok = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(res, "data")) &&
                 str_is(r, "response_format", "raw");
            if (last) {
                ok = ok && e->parts == 3 && e->items == SIM_KLAVIYO_SEGMENTS;
            }
            break;
        case K_FLAKY:
            ok = str_is(res, "id", NULL) == 0 && attempts == 3;
            break;
        case K_RATE_LIMITED:
            ok = attempts == 2;
            break;
        default:
            ok = 0;
        }
    }
    if (!ok) {
        char *s = cJSON_PrintUnformatted(r);

        fprintf(stderr, "job %d (kind %d/%d): unexpected result: %.600s\n", i, e->kind, e->sub,
                s ? s : "?");
        cJSON_free(s);
        sw_test_failures++;
    }
}

static int file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    int found = 0;

    while (f && !found && fgets(line, sizeof(line), f)) {
        found = strstr(line, needle) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return found;
}

static void test_e2e(void)
{
    const char *bootstrap = kit_bootstrap();
    char jobs[64], results[64], dlq[64], group[64];
    char accounts[1024], results_file[1024], worker_log[1024], schema[1024];
    char base_url[64];
    pid_t sim = -1, worker = -1;
    int port = 0;
    int i, expected_finals = 0, expected_dlq = 0, dlq_seen = 0, pending;
    rd_kafka_t *prod = NULL, *rres = NULL, *rdlq = NULL;
    FILE *f;
    FILE *out = NULL;
    int64_t end;

    CHECK(bootstrap != NULL);
    if (!bootstrap) {
        fprintf(stderr, "no broker: set SW_TEST_KAFKA_DIR (ctest does, via the kafka fixture)\n");
        return;
    }
    snprintf(run_id, sizeof(run_id), "e2e%d", (int)getpid());
    snprintf(jobs, sizeof(jobs), "%s-jobs", run_id);
    snprintf(results, sizeof(results), "%s-results", run_id);
    snprintf(results_topic, sizeof(results_topic), "%s", results);
    snprintf(dlq, sizeof(dlq), "%s-dlq", run_id);
    snprintf(group, sizeof(group), "%s-group", run_id);
    CHECK(kit_create_topic(bootstrap, jobs, 4) == 0);
    CHECK(kit_create_topic(bootstrap, results, 4) == 0);
    CHECK(kit_create_topic(bootstrap, dlq, 1) == 0);

    sim = kit_start_sim(argv_sim, argv_work, &port);
    CHECK(sim > 0);
    if (sim <= 0) {
        return;
    }
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", port);
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", argv_work);
    f = fopen(accounts, "w");
    fprintf(f,
            "{\"accounts\":{"
            "\"acme-klaviyo\":{\"provider\":\"klaviyo\",\"base_url\":\"%s\",\"credentials\":"
            "{\"api_key\":\"env:E2E_KLAVIYO_KEY\"},\"settings\":{\"revision\":\"2025-04-15\"}},"
            "\"acme-sendgrid\":{\"provider\":\"sendgrid\",\"base_url\":\"%s\",\"credentials\":"
            "{\"api_key\":\"env:E2E_SENDGRID_KEY\"}},"
            "\"sendgrid-wrong-key\":{\"provider\":\"sendgrid\",\"base_url\":\"%s\",\"credentials\":"
            "{\"api_key\":\"env:E2E_WRONG_KEY\"}}}}\n",
            base_url, base_url, base_url);
    fclose(f);
    snprintf(worker_log, sizeof(worker_log), "%s/worker.log", argv_work);
    {
        char t_jobs[128], t_res[128], t_dlq[128];
        char *wargv[] = {(char *)argv_worker, "run", "--brokers", (char *)bootstrap, "--accounts",
                         accounts, "--group", group, "--set", t_jobs, "--set", t_res, "--set",
                         t_dlq, "--set", "retry.base_ms=100",
                         /* This test is about delivery and classification at volume; Klaviyo's
                          * stated limits (15/min for counts) would make it take minutes.
                          * it_reliability tests the limits. */
                         "--set", "ratelimit.mode=off", NULL};
        char *env[] = {"E2E_KLAVIYO_KEY=" KLAVIYO_KEY, "E2E_SENDGRID_KEY=" SENDGRID_KEY,
                       "E2E_WRONG_KEY=definitely-wrong", "SEGWORKER_LOG_LEVEL=info",
                       /* a small window, so the backpressure path (full window, pause) runs */
                       "SEGWORKER_MAX_IN_FLIGHT=50", NULL};

        snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
        snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
        snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", dlq);
        worker = kit_spawn(wargv, env, NULL, worker_log);
    }
    CHECK(worker > 0);

    prod = kit_producer(bootstrap);
    for (i = 0; i < NJOBS; i++) {
        size_t len = 0;
        char key[16];
        char *text = job_text(i, &ex[i], &len);

        snprintf(key, sizeof(key), "k%d", i % 13);
        CHECK(kit_produce_hdr(prod, jobs, key, text, len, ex[i].traceparent ? "traceparent" : NULL,
                              TRACEPARENT) == 0);
        if (ex[i].kind == K_BAD && ex[i].sub == B_OVERSIZED) {
            free(text);
        }
        expected_finals += ex[i].has_result;
        expected_dlq += ex[i].dlq;
    }
    CHECK(kit_flush(prod) == 0);

    /* Collect results until every job that should answer has its final message. */
    snprintf(results_file, sizeof(results_file), "%s/results.ndjson", argv_work);
    out = fopen(results_file, "w");
    rres = kit_reader(bootstrap, results);
    pending = expected_finals;
    end = kit_now_ms() + kit_deadline_ms(180000);
    while (pending > 0 && kit_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rres, 200);
        cJSON *r;
        int idx;

        if (!m) {
            continue;
        }
        if (!m->err) {
            fwrite(m->payload, 1, m->len, out);
            fputc('\n', out);
            r = cJSON_ParseWithLength(m->payload, m->len);
            idx = job_index(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "job_id")));
            if (idx < 0 || idx >= NJOBS || !ex[idx].has_result) {
                fprintf(stderr, "unexpected result message: %.200s\n", (char *)m->payload);
                sw_test_failures++;
            } else {
                int before = ex[idx].finals;
                rd_kafka_headers_t *h = NULL;
                const void *v = NULL;
                size_t vl = 0;
                int has_tp = !rd_kafka_message_headers(m, &h) &&
                             !rd_kafka_header_get_last(h, "traceparent", &v, &vl) &&
                             vl == strlen(TRACEPARENT) && !memcmp(v, TRACEPARENT, vl);

                if (has_tp != ex[idx].traceparent || !h ||
                    rd_kafka_header_get_last(h, "job_id", &v, &vl) ||
                    rd_kafka_header_get_last(h, "status", &v, &vl)) {
                    fprintf(stderr, "job %d: result headers wrong (traceparent %d)\n", idx, has_tp);
                    sw_test_failures++;
                }
                check_result(idx, r);
                if (ex[idx].finals == 1 && before == 0) {
                    pending--;
                }
            }
            cJSON_Delete(r);
        }
        rd_kafka_message_destroy(m);
    }
    fclose(out);
    CHECK_INT(pending, 0);
    for (i = 0; i < NJOBS; i++) {
        if (ex[i].finals != ex[i].has_result) {
            fprintf(stderr, "job %d (kind %d/%d): %d final results, expected %d\n", i, ex[i].kind,
                    ex[i].sub, ex[i].finals, ex[i].has_result);
            sw_test_failures++;
        }
    }

    /* Every bad input left a dead letter naming the reason and the source offset. */
    rdlq = kit_reader(bootstrap, dlq);
    end = kit_now_ms() + kit_deadline_ms(60000);
    while (dlq_seen < expected_dlq && kit_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rdlq, 200);
        rd_kafka_headers_t *h = NULL;
        const void *v;
        size_t vl;

        if (!m) {
            continue;
        }
        if (!m->err) {
            dlq_seen++;
            CHECK(rd_kafka_message_headers(m, &h) == 0);
            CHECK(h && rd_kafka_header_get_last(h, "segworker.reason", &v, &vl) == 0 && vl > 0);
            CHECK(h && rd_kafka_header_get_last(h, "segworker.source.offset", &v, &vl) == 0);
            CHECK(h && rd_kafka_header_get_last(h, "segworker.source.topic", &v, &vl) == 0 &&
                  vl == strlen(jobs) && !memcmp(v, jobs, vl));
        }
        rd_kafka_message_destroy(m);
    }
    CHECK_INT(dlq_seen, expected_dlq);

    /* Offsets never run ahead of results, and all of them end up committed. */
    CHECK(kit_wait_committed_at_end(bootstrap, group, jobs, kit_deadline_ms(60000)) == 0);

    /* A clean drain on SIGTERM. */
    kit_signal(worker, SIGTERM);
    CHECK_INT(kit_wait(worker, kit_deadline_ms(60000)), 0);
    worker = -1;

    snprintf(schema, sizeof(schema), "%s/result.schema.json", argv_schemas);
    CHECK_INT(kit_validate(argv_validator, schema, results_file), 0);
    /* Secrets never reach results or logs (debug output redacts them). */
    CHECK(!file_contains(results_file, KLAVIYO_KEY) && !file_contains(results_file, SENDGRID_KEY));
    CHECK(!file_contains(worker_log, KLAVIYO_KEY) && !file_contains(worker_log, SENDGRID_KEY));
    CHECK(file_contains(worker_log, "stopped: consumed"));

    if (rres) {
        rd_kafka_consumer_close(rres);
        rd_kafka_destroy(rres);
    }
    if (rdlq) {
        rd_kafka_consumer_close(rdlq);
        rd_kafka_destroy(rdlq);
    }
    rd_kafka_destroy(prod);
    kit_kill(worker);
    kit_signal(sim, SIGTERM);
    CHECK_INT(kit_wait(sim, kit_deadline_ms(10000)), 0);
}

static const struct sw_test_case tests[] = {
    {"e2e_1000_mixed_jobs", test_e2e},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    struct kit_args a;

    if (kit_parse_args(argc, argv, "it_e2e", &a) != 0) {
        return 2;
    }
    argv_worker = a.worker;
    argv_sim = a.sim;
    argv_validator = a.validator;
    argv_schemas = a.schemas;
    argv_work = a.work;
    return sw_test_run(tests, NULL);
}
