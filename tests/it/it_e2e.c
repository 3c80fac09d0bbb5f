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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static char results_topic[96];

static struct expect ex[NJOBS];
static char run_id[64];
static struct kit_args args;

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

#define ACME_KL "\"provider\":\"klaviyo\",\"account\":\"acme-klaviyo\""
#define ACME_SG "\"provider\":\"sendgrid\",\"account\":\"acme-sendgrid\""

/* One job's parts; job_text assembles them. */
struct job_parts {
    const char *op;
    const char *who;  /* the "provider" and "account" members */
    char params[128]; /* the params object, "" for none */
    char rest[256];   /* further members, each with a leading comma */
};

/* The parts of a bad input (dead-lettered); its whole text when it is not a job at all. */
static const char *bad_parts(const char *id, struct expect *e, struct job_parts *p, char *buf,
                             size_t n)
{
    static const char *const codes[B__COUNT] = {
        [B_NOT_JSON] = "invalid_job",    [B_PROVIDER] = "unknown_provider",
        [B_ACCOUNT] = "unknown_account", [B_OPERATION] = "unsupported_operation",
        [B_PARAMS] = "invalid_params",   [B_OVERSIZED] = "invalid_job",
        [B_BODY] = "response_invalid",   [B_REPLY_TO] = "invalid_job"};

    e->dlq = 1;
    e->want_code = codes[e->sub];
    snprintf(p->params, sizeof(p->params), "{\"id\":\"x\"}");
    switch ((enum bad)e->sub) {
    case B_NOT_JSON:
        /* Not JSON, but its job_id can be read: it is answered. */
        snprintf(buf, n, "{\"job_id\": \"%s\", this is not JSON", id);
        return buf;
    case B_NO_ID:
        e->has_result = 0;
        snprintf(buf, n, "{\"operation\":\"segments.get\",%s}", ACME_KL);
        return buf;
    case B_PROVIDER:
        p->who = "\"provider\":\"nosuch\",\"account\":\"acme-klaviyo\"";
        break;
    case B_ACCOUNT:
        p->who = "\"provider\":\"klaviyo\",\"account\":\"nosuch\"";
        break;
    case B_OPERATION:
        p->op = "segments.refresh";
        break;
    case B_PARAMS:
        snprintf(p->params, sizeof(p->params), "{}");
        break;
    case B_REPLY_TO:
        snprintf(p->rest, sizeof(p->rest), ",\"reply_to\":\"__consumer_offsets\"");
        break;
    case B_OVERSIZED: /* padded in job_text */
        break;
    case B_BODY:
    case B__COUNT:
        snprintf(p->params, sizeof(p->params), "{\"id\":\"sim-bad-json\"}");
        break;
    }
    return NULL;
}

/* The parts of a job that should run: what kind_of() planned for index i. */
static void good_parts(int i, const char *id, struct expect *e, struct job_parts *p)
{
    struct sim_klaviyo_segment k;
    struct sim_sendgrid_segment s;
    int sg = e->kind == K_SGET || e->kind == K_SLIST || e->kind == K_SDELETE ||
             e->kind == K_RATE_LIMITED;

    sim_klaviyo_segment(e->seg, &k);
    sim_sendgrid_segment(i % SIM_SENDGRID_SEGMENTS, &s);
    p->who = sg ? ACME_SG : ACME_KL;
    snprintf(p->params, sizeof(p->params), "{\"id\":\"%s\"}", sg ? s.id : k.id);
    switch (e->kind) {
    case K_KGET:
    case K_KGET_COUNT:
        /* Some name the results topic in reply_to (allowed), some carry a trace context. */
        e->traceparent = i % 20 == 1;
        snprintf(p->params, sizeof(p->params), "{\"id\":\"%s\"%s}", k.id,
                 e->kind == K_KGET_COUNT ? ",\"with_member_count\":true" : "");
        snprintf(p->rest, sizeof(p->rest),
                 ",\"correlation\":{\"workflowId\":\"wf-%d\",\"taskRefName\":\"t\"}%s%s%s", i,
                 i % 20 == 3 ? ",\"reply_to\":\"" : "", i % 20 == 3 ? results_topic : "",
                 i % 20 == 3 ? "\"" : "");
        break;
    case K_KLIST_RAW:
        snprintf(p->rest, sizeof(p->rest), ",\"options\":{\"response_format\":\"raw\"}");
        /* fall through */
    case K_KLIST:
    case K_SLIST:
        p->op = "segments.list";
        p->params[0] = '\0';
        break;
    case K_DEBUG:
        snprintf(p->rest, sizeof(p->rest), ",\"options\":{\"response_format\":\"debug\"}");
        break;
    case K_KDELETE:
    case K_SDELETE:
        p->op = "segments.delete";
        break;
    case K_SGET:
        e->seg = i % SIM_SENDGRID_SEGMENTS;
        break;
    case K_NOT_FOUND:
        e->want_code = "not_found";
        snprintf(p->params, sizeof(p->params), "{\"id\":\"nope%d\"}", i);
        break;
    case K_AUTH:
        e->want_code = "auth_failed";
        p->who = "\"provider\":\"sendgrid\",\"account\":\"sendgrid-wrong-key\"";
        snprintf(p->params, sizeof(p->params), "{\"id\":\"%s\"}", s.id);
        break;
    case K_FLAKY:
        snprintf(p->params, sizeof(p->params), "{\"id\":\"sim-flaky-2-%s\"}", id);
        break;
    case K_RATE_LIMITED:
        snprintf(p->params, sizeof(p->params), "{\"id\":\"sim-429-1-1-%s\"}", id);
        break;
    case K_BAD:
        break;
    }
}

/* Build job i; returns its text (heap, caller frees) and sets *e to what it must produce. */
static char *job_text(int i, struct expect *e, size_t *len)
{
    struct job_parts p = {"segments.get", ACME_KL, "", ""};
    char id[96], small[256];
    const char *whole = NULL;
    size_t cap = 2048;
    char *buf;
    int at;

    snprintf(id, sizeof(id), "%s-%d", run_id, i);
    e->kind = kind_of(i, &e->sub);
    e->has_result = 1;
    e->seg = (i * 7) % SIM_KLAVIYO_SEGMENTS;
    if (e->kind == K_BAD) {
        whole = bad_parts(id, e, &p, small, sizeof(small));
        cap = e->sub == B_OVERSIZED ? 300 * 1024 : cap;
    } else {
        good_parts(i, id, e, &p);
    }
    buf = malloc(cap);
    if (!buf) {
        return NULL;
    }
    if (whole) {
        at = snprintf(buf, cap, "%s", whole);
    } else if (e->kind == K_BAD && e->sub == B_OVERSIZED) {
        at = snprintf(buf, cap,
                      "{\"job_id\":\"%s\",\"operation\":\"%s\",%s,\"params\":{\"id\":\"x\","
                      "\"pad\":\"%0*d\"}}",
                      id, p.op, p.who, 290 * 1024, 0);
    } else {
        at = snprintf(buf, cap, "{\"job_id\":\"%s\",\"operation\":\"%s\",%s%s%s%s}", id, p.op,
                      p.who, p.params[0] ? ",\"params\":" : "", p.params, p.rest);
    }
    *len = (size_t)at < cap ? (size_t)at : cap - 1;
    return buf;
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

/* Every result message: the right headers (job_id and status, and the trace context exactly
 * when the job had one), and what the job should produce. */
static void on_result(void *arg, int idx, const cJSON *r, const rd_kafka_message_t *m)
{
    char tp[128], v[64];
    int has_tp = kit_header(m, "traceparent", tp, sizeof(tp)) == 0 && !strcmp(tp, TRACEPARENT);

    (void)arg;
    if (!ex[idx].has_result) {
        fprintf(stderr, "unexpected result message: %.200s\n", (const char *)m->payload);
        sw_test_failures++;
        return;
    }
    if (has_tp != ex[idx].traceparent || kit_header(m, "job_id", v, sizeof(v)) ||
        kit_header(m, "status", v, sizeof(v))) {
        fprintf(stderr, "job %d: result headers wrong (traceparent %d)\n", idx, has_tp);
        sw_test_failures++;
    }
    check_result(idx, r);
}

/* Every bad input leaves a dead letter naming the reason and the source offset and topic. */
static int on_dead_letter(void *arg, const rd_kafka_message_t *m)
{
    const char *jobs = arg;
    char v[256];

    CHECK(kit_header(m, "segworker.reason", v, sizeof(v)) == 0 && v[0]);
    CHECK(kit_header(m, "segworker.source.offset", v, sizeof(v)) == 0);
    CHECK(kit_header(m, "segworker.source.topic", v, sizeof(v)) == 0 && !strcmp(v, jobs));
    return 0;
}

static void produce_all(rd_kafka_t *prod, const char *topic, int *expected_finals,
                        int *expected_dlq)
{
    int i;

    for (i = 0; i < NJOBS; i++) {
        size_t len = 0;
        char key[16];
        char *text = job_text(i, &ex[i], &len);

        CHECK(text != NULL);
        snprintf(key, sizeof(key), "k%d", i % 13);
        CHECK(text && kit_produce_hdr(prod, topic, key, text, len,
                                      ex[i].traceparent ? "traceparent" : NULL, TRACEPARENT) == 0);
        free(text);
        *expected_finals += ex[i].has_result;
        *expected_dlq += ex[i].dlq;
    }
    CHECK(kit_flush(prod) == 0);
}

static int start_worker(struct kit_worker *w, const struct kit_names *n, const struct kit_sim *sim)
{
    struct kit_accounts acc;
    char accounts[1024], url[128];

    kit_path(accounts, sizeof(accounts), args.work, "accounts.json");
    kit_accounts_init(&acc);
    kit_account_set(&acc, kit_account_sim(&acc, "acme-klaviyo", "klaviyo", sim), "settings",
                    "revision", "2025-04-15");
    kit_account_sim(&acc, "acme-sendgrid", "sendgrid", sim);
    kit_sim_url(sim, "sendgrid", url, sizeof(url));
    kit_account_set(&acc, kit_account(&acc, "sendgrid-wrong-key", "sendgrid", url), "credentials",
                    "api_key", "env:E2E_WRONG_KEY");
    kit_worker_init_run(w, &args, args.bootstrap, accounts, n);
    kit_worker_set(w, "retry.base_ms=100");
    /* This test is about delivery and classification at volume; Klaviyo's stated limits
     * (15/min for counts) would make it take minutes. it_reliability tests the limits. */
    kit_worker_set(w, "ratelimit.mode=off");
    kit_worker_env(w, "E2E_WRONG_KEY=definitely-wrong");
    /* a small window, so the backpressure path (full window, pause) runs */
    kit_worker_env(w, "SEGWORKER_MAX_IN_FLIGHT=50");
    if (kit_accounts_write(&acc, accounts) != 0) {
        return -1;
    }
    return kit_worker_start(w, args.work, "worker") > 0 ? 0 : -1;
}

static void test_e2e(void)
{
    const char *bootstrap = args.bootstrap;
    char results_file[1024];
    struct kit_names n;
    struct kit_sim sim = {.pid = -1};
    struct kit_worker w = {.pid = -1};
    struct kit_tally t;
    int i, expected_finals = 0, expected_dlq = 0;
    rd_kafka_t *prod = NULL, *rres = NULL;

    memset(&t, 0, sizeof(t));
    CHECK(bootstrap[0] != '\0');
    if (!bootstrap[0]) {
        fprintf(stderr, "no broker: set SW_TEST_KAFKA_DIR (ctest does, via the kafka fixture)\n");
        return;
    }
    kit_names_init(&n, "e2e", NULL);
    snprintf(run_id, sizeof(run_id), "%s", n.tag);
    snprintf(results_topic, sizeof(results_topic), "%s", n.results);
    CHECK(kit_topics_create(bootstrap, &n, 4, 4, 0) == 0);
    CHECK(kit_sim_start(&sim, &args, NULL) == 0);
    CHECK(sim.pid > 0 && start_worker(&w, &n, &sim) == 0);
    prod = kit_producer(bootstrap);
    rres = kit_reader(bootstrap, n.results);
    CHECK(prod && rres && kit_tally_init(&t, n.tag, NJOBS) == 0);
    if (w.pid <= 0 || !prod || !rres || !t.job) {
        goto out;
    }
    produce_all(prod, n.jobs, &expected_finals, &expected_dlq);

    /* Collect results until every job that should answer has its final message. */
    kit_path(results_file, sizeof(results_file), args.work, "results.ndjson");
    CHECK(kit_tally_record(&t, results_file, NULL) == 0);
    t.on_result = on_result;
    CHECK(kit_tally_wait_for(&t, rres, expected_finals, kit_deadline_ms(180000)) == 0);
    CHECK_INT(t.foreign, 0);
    for (i = 0; i < NJOBS; i++) {
        if (ex[i].finals != ex[i].has_result) {
            fprintf(stderr, "job %d (kind %d/%d): %d final results, expected %d\n", i, ex[i].kind,
                    ex[i].sub, ex[i].finals, ex[i].has_result);
            sw_test_failures++;
        }
    }
    CHECK_INT(kit_read_topic(bootstrap, n.dlq, expected_dlq, kit_deadline_ms(60000), on_dead_letter,
                             n.jobs),
              expected_dlq);
    /* Offsets never run ahead of results, and all of them end up committed. */
    CHECK(kit_wait_committed_at_end(bootstrap, n.group, n.jobs, kit_deadline_ms(60000)) == 0);
    /* A clean drain on SIGTERM. */
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    kit_tally_free(&t); /* closes the results file */
    CHECK_INT(kit_validate(&args, "result.schema.json", results_file), 0);
    /* Secrets never reach results or logs (debug output redacts them). */
    CHECK(!kit_file_contains(results_file, KLAVIYO_KEY) &&
          !kit_file_contains(results_file, SENDGRID_KEY));
    CHECK(!kit_file_contains(w.log, KLAVIYO_KEY) && !kit_file_contains(w.log, SENDGRID_KEY));
    CHECK(kit_file_contains(w.log, "stopped: consumed"));
out:
    kit_reader_close(rres);
    kit_producer_free(prod);
    kit_worker_kill(&w);
    CHECK_INT(kit_sim_stop(&sim), 0);
    kit_tally_free(&t);
}

static const struct sw_test_case tests[] = {
    {"e2e_1000_mixed_jobs", test_e2e},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_e2e", args, tests)
