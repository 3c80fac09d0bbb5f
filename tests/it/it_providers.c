/* Every "supported" cell of the capability matrix (`segworker providers`) run with
 * `segworker exec` against the simulator's profile of that provider over loopback sockets, the
 * unsupported cells answered unsupported_operation, each provider's list in all five response
 * formats, the Digital Audience cookie session (login, reuse, re-login after expiry), and one
 * job per provider through a real Kafka broker. Every result line is schema-validated.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct kit_args args;
static int port;
static char accounts[1024];
static char all_results[1024];

static char *const keys_env[] = {"ITP_KLAVIYO=sim-klaviyo-key",
                                 "ITP_SENDGRID=sim-sendgrid-key",
                                 "ITP_AC=sim-activecampaign-key",
                                 "ITP_BH=sim-beehiiv-key",
                                 "ITP_CIO=sim-customerio-key",
                                 "ITP_FD=sim-flodesk-key",
                                 "ITP_MC=sim-mailchimp-key",
                                 "ITP_HS=sim-hubspot-key",
                                 "ITP_DA_USER=sim-da-user",
                                 "ITP_DA_PASS=sim-digitalaudience-key",
                                 "ITP_TR=sim-truto-key",
                                 "ITP_DA_FLAKY=sim-flaky-1-login",
                                 NULL};

/* The lines one job printed, as a JSON array (owned), and its exit status. */
struct outcome {
    int rc;
    cJSON *lines;
};

static void run_exec(const char *job, struct outcome *o)
{
    char in[1100], out[1100], err[1100];
    char *argv[] = {(char *)args.worker, "exec", "--accounts", accounts, NULL};
    char *line = malloc(1 << 20);
    FILE *f;
    FILE *all = fopen(all_results, "a");

    o->lines = cJSON_CreateArray();
    snprintf(in, sizeof(in), "%s/job.json", args.work);
    snprintf(out, sizeof(out), "%s/out.ndjson", args.work);
    snprintf(err, sizeof(err), "%s/err.log", args.work);
    f = fopen(in, "w");
    fputs(job, f);
    fclose(f);
    o->rc = kit_wait(kit_spawn_in(argv, keys_env, in, out, err), kit_deadline_ms(60000));
    f = fopen(out, "r");
    while (f && line && fgets(line, 1 << 20, f)) {
        cJSON_AddItemToArray(o->lines, cJSON_Parse(line));
        fputs(line, all);
    }
    if (f) {
        fclose(f);
    }
    fclose(all);
    free(line);
}

static const cJSON *at(const cJSON *o, const char *path)
{
    char buf[256];
    char *tok, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); o && tok; tok = strtok_r(NULL, ".", &save)) {
        o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(tok))
                             : cJSON_GetObjectItemCaseSensitive(o, tok);
    }
    return o;
}

/* A value as text for comparisons: strings as they are, numbers in %g, null/bool by name. */
static void text_of(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsString(v)) {
        snprintf(buf, n, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        snprintf(buf, n, "%g", v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else {
        snprintf(buf, n, "%s", v ? "null" : "(absent)");
    }
}

/* The ids of every item over all parts (lists), comma-joined. */
static void ids_of(const cJSON *lines, char *buf, size_t n)
{
    const cJSON *l;
    const cJSON *it;
    size_t used = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(l, lines)
    {
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(l, "result"))
        {
            char id[128];

            text_of(cJSON_GetObjectItemCaseSensitive(it, "id"), id, sizeof(id));
            used +=
                (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s", used ? "," : "", id);
        }
    }
}

struct cell {
    const char *provider;
    const char *op;
    const char *params;  /* JSON object text */
    const char *options; /* JSON object text or NULL */
    const char *want;    /* "path=value;..." on the last line ("ids=" = item ids over parts) */
};

static int check_want(const struct cell *c, const cJSON *lines, const char *want)
{
    const cJSON *last = cJSON_GetArrayItem(lines, cJSON_GetArraySize(lines) - 1);
    char spec[1024];
    char *tok, *save = NULL;
    int ok = 1;

    snprintf(spec, sizeof(spec), "%s", want);
    for (tok = strtok_r(spec, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        char got[4096];

        if (!eq) {
            continue;
        }
        *eq = '\0';
        if (!strcmp(tok, "ids")) {
            ids_of(lines, got, sizeof(got));
        } else {
            text_of(at(last, tok), got, sizeof(got));
        }
        if (strcmp(got, eq + 1)) {
            fprintf(stderr, "%s %s: %s = %s, want %s\n", c->provider, c->op, tok, got, eq + 1);
            ok = 0;
        }
    }
    return ok;
}

static int job_seq;

static void run_cell(const struct cell *c, const char *format, struct outcome *o)
{
    char job[4096];

    snprintf(job, sizeof(job),
             "{\"job_id\":\"p%d\",\"operation\":\"%s\",\"provider\":\"%s\",\"account\":\"%s\","
             "\"params\":%s%s%s%s%s%s}",
             ++job_seq, c->op, c->provider, c->provider, c->params,
             c->options || format ? ",\"options\":" : "", c->options ? c->options : "",
             format && !c->options ? "{\"response_format\":\"" : "", format ? format : "",
             format && !c->options ? "\"}" : "");
    run_exec(job, o);
}

/* Every supported cell: the expectations follow the simulator's data (sim_data.c) and each
 * profile's id scheme (tests/sim/README.md). */
static const struct cell cells[] = {
    {"klaviyo", "segments.get", "{\"id\":\"AmOy43\"}", NULL, "result.name=Engaged 30 days"},
    {"klaviyo", "segments.list", "{}", NULL, "part.total_items=25"},
    {"klaviyo", "segments.create", "{\"name\":\"New\",\"definition\":{\"condition_groups\":[]}}",
     NULL, "result.id=SimNew;result.name=New;result.status=processing"},
    {"klaviyo", "segments.update", "{\"id\":\"ED0lpI\",\"is_active\":false}", NULL,
     "result.status=inactive"},
    {"klaviyo", "segments.delete", "{\"id\":\"ED0lpI\"}", NULL, "result.deleted=true"},
    {"klaviyo", "segments.count", "{\"id\":\"ED0lpI\"}", NULL, "result.member_count=1731"},
    {"klaviyo", "segments.members", "{\"id\":\"HdcZaX\",\"page_size\":3}", NULL,
     "part.total_items=4;result.0.email=m0.s2@example.com;result.3.email=m3.s2@example.com"},
    {"klaviyo", "segments.members", "{\"id\":\"ED0lpI\",\"ids_only\":true,\"page_size\":2}", NULL,
     "ids=01PROFED0lpI00,01PROFED0lpI01,01PROFED0lpI02"},
    {"sendgrid", "segments.get", "{\"id\":\"08b37c99-7f6f-46c1-869a-001a8227a523\"}", NULL,
     "result.name=All engaged;result.member_count=120"},
    {"sendgrid", "segments.list", "{}", NULL, "part.total_items=12"},
    {"sendgrid", "segments.create",
     "{\"name\":\"Fresh\",\"definition\":\"SELECT contact_id FROM contact_data\"}", NULL,
     "result.name=Fresh;result.status=pending;result.member_count=0"},
    {"sendgrid", "segments.update",
     "{\"id\":\"08b37c99-7f6f-46c1-869a-001a8227a523\",\"name\":\"Renamed\"}", NULL,
     "result.name=Renamed;result.status=active"},
    {"sendgrid", "segments.delete", "{\"id\":\"08b37c99-7f6f-46c1-869a-001a8227a523\"}", NULL,
     "result.deleted=true"},
    {"sendgrid", "segments.count", "{\"id\":\"4522700e-109a-4a53-8e85-8ef55b906d60\"}", NULL,
     "result.member_count=234"},
    {"sendgrid", "segments.refresh", "{\"id\":\"4522700e-109a-4a53-8e85-8ef55b906d60\"}", NULL,
     "result.accepted=true"},
    {"activecampaign", "segments.get", "{\"id\":2}", NULL,
     "result.id=2;result.name=Trial users;result.status=active"},
    {"activecampaign", "segments.list", "{\"page_size\":3}", NULL, "ids=1,2,3,4,5,6,7"},
    {"activecampaign", "segments.create",
     "{\"name\":\"VIP\",\"definition\":{\"segment_condition_group_operator\":\"and\","
     "\"segment_condition_groups\":[],\"segment_conditions\":[]}}",
     NULL, "result.id=100;result.name=VIP"},
    {"activecampaign", "segments.update",
     "{\"id\":3,\"definition\":{\"segment_condition_group_operator\":\"or\","
     "\"segment_condition_groups\":[],\"segment_conditions\":[]}}",
     NULL, "result.id=3;result.description=segment 2 of segsim"},
    {"activecampaign", "segments.delete", "{\"id\":3}", NULL, "result.id=3;result.deleted=true"},
    {"activecampaign", "segments.count", "{\"id\":4}", NULL,
     "result.member_count=5;result.last_calculated_at=2026-01-08T10:11:00Z"},
    {"activecampaign", "segments.members", "{\"id\":4,\"page_size\":2}", NULL,
     "part.total_items=5;result.4.email=m4.s3@example.com"},
    {"beehiiv", "segments.get", "{\"id\":\"seg_3\"}", NULL,
     "result.status=inactive;result.member_count=5"},
    {"beehiiv", "segments.list", "{\"page_size\":3}", NULL,
     "ids=seg_0,seg_1,seg_2,seg_3,seg_4,seg_5,seg_6"},
    {"beehiiv", "segments.create",
     "{\"name\":\"Manual\",\"definition\":{\"type\":\"emails\",\"emails\":[\"a@example.com\"]},"
     "\"workspace\":{\"id\":\"pub_sim\"}}",
     NULL, "result.id=seg_new;result.name=Manual;result.status=pending"},
    {"beehiiv", "segments.delete", "{\"id\":\"seg_2\"}", NULL, "result.deleted=true"},
    {"beehiiv", "segments.count", "{\"id\":\"seg_4\"}", NULL,
     "result.member_count=2;result.status=failed"},
    {"beehiiv", "segments.members", "{\"id\":\"seg_2\",\"page_size\":3}", NULL,
     "ids=sub_2_0,sub_2_1,sub_2_2,sub_2_3"},
    {"beehiiv", "segments.members", "{\"id\":\"seg_1\",\"with_details\":true}", NULL,
     "result.2.email=m2.s1@example.com;result.2.created_at=2026-01-05T09:02:00Z"},
    {"beehiiv", "segments.refresh", "{\"id\":\"seg_1\"}", NULL, "result.accepted=true"},
    {"customerio", "segments.get", "{\"id\":3}", NULL,
     "result.status=processing;result.created_at=2026-01-07T09:01:00Z"},
    {"customerio", "segments.list", "{}", NULL, "part.total_items=7;result.1.status=pending"},
    {"customerio", "segments.create", "{\"name\":\"Manual\",\"description\":\"api\"}", NULL,
     "result.id=100;result.description=api"},
    {"customerio", "segments.delete", "{\"id\":2}", NULL, "result.deleted=true"},
    {"customerio", "segments.count", "{\"id\":4}", NULL, "result.member_count=5;result.name=null"},
    {"customerio", "segments.members", "{\"id\":3,\"page_size\":3}", NULL,
     "ids=u3_0,cio_3_1,u3_2,u3_3"},
    {"flodesk", "segments.get", "{\"id\":\"fd1\"}", NULL,
     "result.member_count=3;result.status=active"},
    {"flodesk", "segments.list", "{\"page_size\":3}", NULL, "ids=fd0,fd1,fd2,fd3,fd4,fd5,fd6"},
    {"flodesk", "segments.create", "{\"name\":\"Buyers\",\"color\":\"#e5b3b0\"}", NULL,
     "result.id=fd_new;result.name=Buyers"},
    {"flodesk", "segments.count", "{\"id\":\"fd2\"}", NULL, "result.member_count=4"},
    {"flodesk", "segments.members", "{\"id\":\"fd3\",\"page_size\":2}", NULL,
     "part.total_items=5;result.4.last_name=Member4"},
    {"mailchimp", "segments.get", "{\"id\":1002}", NULL,
     "result.id=1002;result.member_count=4;result.status=active"},
    {"mailchimp", "segments.list", "{\"page_size\":3}", NULL,
     "ids=1000,1001,1002,1003,1004,1005,1006"},
    {"mailchimp", "segments.create", "{\"name\":\"Tagged\",\"emails\":[\"a@example.com\"]}", NULL,
     "result.id=2000;result.name=Tagged"},
    {"mailchimp", "segments.update", "{\"id\":1001,\"name\":\"Renamed\"}", NULL,
     "result.id=1001;result.name=Renamed"},
    {"mailchimp", "segments.delete", "{\"id\":1001}", NULL, "result.deleted=true"},
    {"mailchimp", "segments.count", "{\"id\":1003,\"list_id\":\"sim-list\"}", NULL,
     "result.member_count=5"},
    {"mailchimp", "segments.members", "{\"id\":1003,\"page_size\":2}", NULL,
     "part.total_items=5;result.0.first_name=Sam"},
    {"hubspot", "segments.get", "{\"id\":\"102\"}", NULL,
     "result.status=processing;result.member_count=4"},
    {"hubspot", "segments.list", "{\"page_size\":3}", NULL, "ids=100,101,102,103,104,105,106"},
    {"hubspot", "segments.create", "{\"name\":\"New list\"}", NULL,
     "result.id=100;result.name=New list"},
    {"hubspot", "segments.update", "{\"id\":\"101\",\"name\":\"Renamed list\"}", NULL,
     "result.name=Renamed list"},
    {"hubspot", "segments.update",
     "{\"id\":\"101\",\"definition\":{\"filterBranchType\":\"OR\",\"filterBranches\":[],"
     "\"filters\":[]}}",
     NULL, "result.id=101"},
    {"hubspot", "segments.delete", "{\"id\":\"101\"}", NULL, "result.deleted=true"},
    {"hubspot", "segments.count", "{\"id\":\"103\"}", NULL, "result.member_count=5"},
    {"hubspot", "segments.members", "{\"id\":\"103\",\"page_size\":2}", NULL,
     "ids=103000,103001,103002,103003,103004"},
    {"digitalaudience", "segments.get", "{\"id\":5003}", NULL,
     "result.id=5003;result.status=inactive;result.name=Dormant 90d"},
    {"digitalaudience", "segments.update_end_date",
     "{\"id\":5001,\"end_date\":\"2025-12-16T11:36:10.6878666Z\"}", NULL, "result.accepted=true"},
    {"digitalaudience", "segments.delete", "{\"id\":5001}", NULL, "result.deleted=true"},
    {"digitalaudience", "audiences.create",
     "{\"name\":\"CRM\",\"description\":\"upload\",\"campaign_id\":42}", NULL,
     "result.id=901;result.name=CRM"},
    {"truto", "segments.get", "{\"id\":\"tr_1\"}", NULL,
     "result.is_starred=true;result.status=pending"},
    {"truto", "segments.list", "{\"page_size\":3}", NULL, "ids=tr_0,tr_1,tr_2,tr_3,tr_4,tr_5,tr_6"},
};
#define NCELLS (sizeof(cells) / sizeof(cells[0]))

static const char *const providers[] = {
    "activecampaign", "beehiiv",   "customerio", "digitalaudience", "flodesk", "hubspot",
    "klaviyo",        "mailchimp", "sendgrid",   "truto",           NULL};
static const char *const all_ops[] = {"segments.get",
                                      "segments.list",
                                      "segments.create",
                                      "segments.update",
                                      "segments.delete",
                                      "segments.count",
                                      "segments.members",
                                      "segments.refresh",
                                      "segments.update_end_date",
                                      "audiences.create",
                                      NULL};

static int cell_listed(const char *provider, const char *op)
{
    size_t i;

    for (i = 0; i < NCELLS; i++) {
        if (!strcmp(cells[i].provider, provider) && !strcmp(cells[i].op, op)) {
            return 1;
        }
    }
    return 0;
}

static void test_supported_cells(void)
{
    size_t i;

    for (i = 0; i < NCELLS; i++) {
        struct outcome o;
        const cJSON *last;

        run_cell(&cells[i], NULL, &o);
        last = cJSON_GetArrayItem(o.lines, cJSON_GetArraySize(o.lines) - 1);
        if (o.rc != 0 || !last || strcmp(cJSON_GetStringValue(at(last, "status")), "succeeded")) {
            char *t = last ? cJSON_PrintUnformatted(last) : NULL;

            fprintf(stderr, "%s %s: exit %d: %.600s\n", cells[i].provider, cells[i].op, o.rc,
                    t ? t : "(no output)");
            cJSON_free(t);
            sw_test_failures++;
        } else if (!check_want(&cells[i], o.lines, cells[i].want)) {
            sw_test_failures++;
        }
        cJSON_Delete(o.lines);
    }
}

/* The matrix printed by `segworker providers` and the cells above agree: every "yes" has a
 * cell, every "-" answers unsupported_operation naming provider and operation. */
static void test_matrix_cells(void)
{
    char out[1100], err[1100], line[1024];
    char *argv[] = {(char *)args.worker, "providers", NULL};
    FILE *f;
    int p, j, rows = 0;

    snprintf(out, sizeof(out), "%s/matrix.txt", args.work);
    snprintf(err, sizeof(err), "%s/matrix.err", args.work);
    CHECK_INT(kit_wait(kit_spawn(argv, NULL, out, err), kit_deadline_ms(30000)), 0);
    f = fopen(out, "r");
    while (f && fgets(line, sizeof(line), f)) {
        char name[64];
        char *tok, *save = NULL;

        if (sscanf(line, "%63s", name) != 1) {
            continue;
        }
        for (p = 0; providers[p] && strcmp(providers[p], name); p++) {
        }
        if (!providers[p]) {
            continue;
        }
        rows++;
        tok = strtok_r(line + strlen(name), " \n", &save);
        for (j = 0; all_ops[j] && tok; j++, tok = strtok_r(NULL, " \n", &save)) {
            int yes = !strcmp(tok, "yes");

            if (yes && !cell_listed(name, all_ops[j])) {
                fprintf(stderr, "%s %s: supported but not exercised\n", name, all_ops[j]);
                sw_test_failures++;
            } else if (!yes) {
                struct cell c = {name, all_ops[j], "{\"id\":\"1\",\"name\":\"x\"}", NULL, ""};
                struct outcome o;
                char want[256];
                const cJSON *last;

                run_cell(&c, NULL, &o);
                last = cJSON_GetArrayItem(o.lines, 0);
                snprintf(want, sizeof(want), "provider %s does not support %s", name, all_ops[j]);
                CHECK_INT(o.rc, 1);
                CHECK_STR(cJSON_GetStringValue(at(last, "error.code")), "unsupported_operation");
                CHECK(strstr(cJSON_GetStringValue(at(last, "error.message")) ?: "", want));
                cJSON_Delete(o.lines);
            }
        }
        CHECK(all_ops[j] == NULL);
    }
    if (f) {
        fclose(f);
    }
    CHECK_INT(rows, 10);
}

/* Each provider's list (Digital Audience: get) in the four non-default formats. */
static void test_formats(void)
{
    static const struct cell fmt_cells[] = {
        {"activecampaign", "segments.list", "{\"page_size\":3}", NULL, ""},
        {"beehiiv", "segments.list", "{\"page_size\":3}", NULL, ""},
        {"customerio", "segments.list", "{}", NULL, ""},
        {"digitalaudience", "segments.get", "{\"id\":5000}", NULL, ""},
        {"flodesk", "segments.list", "{\"page_size\":3}", NULL, ""},
        {"hubspot", "segments.list", "{\"page_size\":3}", NULL, ""},
        {"klaviyo", "segments.list", "{\"page_size\":10}", NULL, ""},
        {"mailchimp", "segments.list", "{\"page_size\":3}", NULL, ""},
        {"sendgrid", "segments.list", "{}", NULL, ""},
        {"truto", "segments.list", "{\"page_size\":3}", NULL, ""},
    };
    size_t i;

    for (i = 0; i < sizeof(fmt_cells) / sizeof(fmt_cells[0]); i++) {
        const struct cell *c = &fmt_cells[i];
        int list = !strcmp(c->op, "segments.list");
        struct outcome raw, norm, stream, dbg;
        const cJSON *l;
        long long total;

        run_cell(c, "raw", &raw);
        run_cell(c, "normalized", &norm);
        run_cell(c, "stream", &stream);
        run_cell(c, "debug", &dbg);
        CHECK(raw.rc == 0 && norm.rc == 0 && stream.rc == 0 && dbg.rc == 0);
        l = cJSON_GetArrayItem(norm.lines, 0);
        /* normalized: provider_fields instead of remote_data */
        l = list ? at(l, "result.0") : at(l, "result");
        CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(l, "provider_fields")));
        CHECK(cJSON_GetObjectItemCaseSensitive(l, "remote_data") == NULL);
        /* stream: one item per part, as many parts as items */
        l = cJSON_GetArrayItem(stream.lines, cJSON_GetArraySize(stream.lines) - 1);
        total = (long long)cJSON_GetNumberValue(at(l, "part.total_items"));
        CHECK(total >= 1);
        CHECK_INT(cJSON_GetArraySize(stream.lines), total);
        cJSON_ArrayForEach(l, stream.lines)
        {
            CHECK_INT((long long)cJSON_GetNumberValue(at(l, "part.items")), 1);
        }
        /* raw: the provider's bodies, marked */
        l = cJSON_GetArrayItem(raw.lines, 0);
        CHECK_STR(cJSON_GetStringValue(at(l, "response_format")), "raw");
        CHECK(cJSON_IsObject(at(l, "result")) || cJSON_IsArray(at(l, "result")));
        /* debug: the request URL, with no credential anywhere */
        l = cJSON_GetArrayItem(dbg.lines, cJSON_GetArraySize(dbg.lines) - 1);
        CHECK(strstr(cJSON_GetStringValue(at(l, "debug.request_url")) ?: "", c->provider) ||
              !strcmp(c->provider, "klaviyo") || !strcmp(c->provider, "sendgrid"));
        {
            char *t = cJSON_PrintUnformatted(dbg.lines);

            CHECK(t && !strstr(t, "-key") && !strstr(t, "sess-"));
            cJSON_free(t);
        }
        cJSON_Delete(raw.lines);
        cJSON_Delete(norm.lines);
        cJSON_Delete(stream.lines);
        cJSON_Delete(dbg.lines);
    }
}

/* The simulator's count of answers with this status for a provider (GET /_sim/stats). */
static long sim_count(const char *provider, const char *status)
{
    static char buf[65536];
    char path[128];
    cJSON *doc;
    long n;

    if (kit_http(port, "GET", "/_sim/stats", buf, sizeof(buf)) != 200) {
        return -1;
    }
    doc = cJSON_Parse(buf);
    snprintf(path, sizeof(path), "by_provider.%s.status.%s", provider, status);
    n = (long)cJSON_GetNumberValue(at(doc, path));
    cJSON_Delete(doc);
    return n < 0 ? 0 : n;
}

/* Faults through the profiles: a throttled request is retried after the provider's wait, a 5xx
 * burst is retried, a malformed body is response_invalid, an unknown id not_found. */
static void test_faults(void)
{
    static const struct cell ok[] = {
        {"beehiiv", "segments.get", "sim-429-1-1-bh", NULL, "attempts=2"},
        {"truto", "segments.get", "sim-429-1-1-tr", NULL, "attempts=2"},
        {"hubspot", "segments.get", "sim-flaky-2-hs", NULL, "attempts=3"},
        {"mailchimp", "segments.get", "sim-flaky-1-mc", NULL, "attempts=2"},
    };
    static const struct cell bad[] = {
        {"flodesk", "segments.get", "{\"id\":\"sim-bad-json\"}", NULL,
         "error.code=response_invalid"},
        {"customerio", "segments.get", "{\"id\":\"99\"}", NULL, "error.code=not_found"},
        {"activecampaign", "segments.get", "{\"id\":\"sim-500\"}", NULL,
         "error.code=provider_error;error.retryable=true"},
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct cell c = ok[i];
        char params[128];
        struct outcome o;

        /* A fresh magic id per run: the simulator counts requests per id. */
        snprintf(params, sizeof(params), "{\"id\":\"%s%d\"}", ok[i].params, (int)getpid());
        c.params = params;
        run_cell(&c, NULL, &o);
        CHECK_INT(o.rc, 0);
        CHECK(check_want(&c, o.lines, c.want));
        cJSON_Delete(o.lines);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct outcome o;

        run_cell(&bad[i], NULL, &o);
        CHECK_INT(o.rc, 1);
        CHECK(check_want(&bad[i], o.lines, bad[i].want));
        cJSON_Delete(o.lines);
    }
}

/* Digital Audience: a bad password is auth_failed; a fixed cookie (credentials.cookie) works
 * without any login; a login cookie works. (Each exec is a new process, so the re-login of a
 * kept cookie after a 401 is shown in test_kafka, where one worker keeps it.) */
static void test_da_session(void)
{
    static const char *const accts[] = {"da-bad", "da-cookie", "digitalaudience", "da-flaky"};
    long logins = sim_count("digitalaudience", "200");
    struct outcome o;
    char job[512];
    int i;

    for (i = 0; i < 4; i++) {
        snprintf(job, sizeof(job),
                 "{\"job_id\":\"da%d\",\"operation\":\"segments.get\",\"provider\":"
                 "\"digitalaudience\",\"account\":\"%s\",\"params\":{\"id\":5002}}",
                 i, accts[i]);
        run_exec(job, &o);
        CHECK_INT(o.rc, i == 0 ? 1 : 0);
        CHECK_STR(cJSON_GetStringValue(
                      at(cJSON_GetArrayItem(o.lines, 0), i == 0 ? "error.code" : "result.id")),
                  i == 0 ? "auth_failed" : "5002");
        if (i == 3) {
            CHECK_INT(
                (long long)cJSON_GetNumberValue(at(cJSON_GetArrayItem(o.lines, 0), "attempts")), 2);
        }
        cJSON_Delete(o.lines);
    }
    /* da-cookie: one 200 (no login); digitalaudience and da-flaky: login + get = two 200s each
     * (da-flaky's first login answered 503 and was tried again). */
    CHECK_INT(sim_count("digitalaudience", "200") - logins, 5);
}

/* One job per provider through a real Kafka broker and `segworker run`; the Digital Audience
 * job runs twice around a server-side session expiry, so the worker's kept cookie gets a 401
 * and the job must log in again by itself. */
static void test_kafka(void)
{
    const char *bootstrap = kit_bootstrap();
    char jobs[64], results[64], group[64], log[1100], file[1100], t_jobs[96], t_res[96];
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
                     NULL};
    static const struct cell kjobs[] = {
        {"activecampaign", "segments.count", "{\"id\":4}", NULL, "result.member_count=5"},
        {"beehiiv", "segments.list", "{\"page_size\":3}", NULL, "part.total_items=7"},
        {"customerio", "segments.count", "{\"id\":3}", NULL, "result.member_count=4"},
        {"digitalaudience", "segments.get", "{\"id\":5001}", NULL, "result.id=5001"},
        {"flodesk", "segments.members", "{\"id\":\"fd3\",\"page_size\":2}", NULL,
         "part.total_items=5"},
        {"hubspot", "segments.list", "{\"page_size\":3}", NULL, "part.total_items=7"},
        {"klaviyo", "segments.count", "{\"id\":\"ED0lpI\"}", NULL, "result.member_count=1731"},
        {"mailchimp", "segments.members", "{\"id\":1003,\"page_size\":2}", NULL,
         "part.total_items=5"},
        {"sendgrid", "segments.refresh", "{\"id\":\"4522700e-109a-4a53-8e85-8ef55b906d60\"}", NULL,
         "result.accepted=true"},
        {"truto", "segments.list", "{\"page_size\":3}", NULL, "part.total_items=7"},
        {"digitalaudience", "segments.get", "{\"id\":5004}", NULL, "result.id=5004"},
    };
    enum { NK = sizeof(kjobs) / sizeof(kjobs[0]) };
    cJSON *got[NK] = {0};
    int done = 0;
    long unauthorized = 0;
    rd_kafka_t *prod;
    rd_kafka_t *rd;
    pid_t w;
    FILE *out;
    int64_t end;
    int i;

    CHECK(bootstrap != NULL);
    if (!bootstrap) {
        return;
    }
    snprintf(jobs, sizeof(jobs), "itp%d-jobs", (int)getpid());
    snprintf(results, sizeof(results), "itp%d-results", (int)getpid());
    snprintf(group, sizeof(group), "itp%d-group", (int)getpid());
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
    snprintf(log, sizeof(log), "%s/worker.log", args.work);
    CHECK(kit_create_topic(bootstrap, jobs, 1) == 0);
    CHECK(kit_create_topic(bootstrap, results, 1) == 0);
    w = kit_spawn(wargv, keys_env, NULL, log);
    CHECK(w > 0);
    prod = kit_producer(bootstrap);
    rd = kit_reader(bootstrap, results);
    snprintf(file, sizeof(file), "%s/kafka-results.ndjson", args.work);
    out = fopen(file, "w");
    for (i = 0; i < NK; i++) {
        char job[1024];
        char key[16];

        if (i == NK - 1) {
            /* The first DA job's cookie is kept by the worker; expire it on the provider. */
            end = kit_now_ms() + kit_deadline_ms(60000);
            while (!got[3] && kit_now_ms() < end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rd, 200);

                if (m && !m->err) {
                    cJSON *r = cJSON_ParseWithLength(m->payload, m->len);
                    int k = atoi(cJSON_GetStringValue(at(r, "job_id")) + 1);

                    fwrite(m->payload, 1, m->len, out);
                    fputc('\n', out);
                    if (k >= 0 && k < NK && cJSON_IsTrue(at(r, "part.last")) && !got[k]) {
                        got[k] = r;
                        done++;
                    } else {
                        cJSON_Delete(r);
                    }
                }
                if (m) {
                    rd_kafka_message_destroy(m);
                }
            }
            CHECK(got[3] != NULL);
            {
                char reply[256];

                unauthorized = sim_count("digitalaudience", "401");
                CHECK_INT(kit_http(port, "DELETE", "/_sim/sessions", reply, sizeof(reply)), 200);
            }
        }
        snprintf(job, sizeof(job),
                 "{\"job_id\":\"k%d\",\"operation\":\"%s\",\"provider\":\"%s\",\"account\":"
                 "\"%s\",\"params\":%s}",
                 i, kjobs[i].op, kjobs[i].provider, kjobs[i].provider, kjobs[i].params);
        snprintf(key, sizeof(key), "%s", kjobs[i].provider);
        CHECK(kit_produce(prod, jobs, key, job, strlen(job)) == 0);
        CHECK(kit_flush(prod) == 0);
    }
    end = kit_now_ms() + kit_deadline_ms(120000);
    while (done < NK && kit_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rd, 200);

        if (m && !m->err) {
            cJSON *r = cJSON_ParseWithLength(m->payload, m->len);
            int k = atoi(cJSON_GetStringValue(at(r, "job_id")) + 1);

            fwrite(m->payload, 1, m->len, out);
            fputc('\n', out);
            if (k >= 0 && k < NK && cJSON_IsTrue(at(r, "part.last")) && !got[k]) {
                got[k] = r;
                done++;
            } else {
                cJSON_Delete(r);
            }
        }
        if (m) {
            rd_kafka_message_destroy(m);
        }
    }
    fclose(out);
    CHECK_INT(done, NK);
    /* The kept cookie met exactly one 401, and the job logged in again by itself. */
    CHECK_INT(sim_count("digitalaudience", "401") - unauthorized, 1);
    for (i = 0; i < NK; i++) {
        cJSON *lines = cJSON_CreateArray();

        if (!got[i]) {
            cJSON_Delete(lines);
            continue;
        }
        CHECK_STR(cJSON_GetStringValue(at(got[i], "status")), "succeeded");
        cJSON_AddItemToArray(lines, got[i]);
        CHECK(check_want(&kjobs[i], lines, kjobs[i].want));
        cJSON_Delete(lines);
    }
    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
    {
        char schema[1100];

        snprintf(schema, sizeof(schema), "%s/result.schema.json", args.schemas);
        CHECK_INT(kit_validate(args.validator, schema, file), 0);
    }
    rd_kafka_destroy(prod);
    rd_kafka_consumer_close(rd);
    rd_kafka_destroy(rd);
}

static void test_results_schema_valid(void)
{
    char schema[1100];

    snprintf(schema, sizeof(schema), "%s/result.schema.json", args.schemas);
    CHECK_INT(kit_validate(args.validator, schema, all_results), 0);
}

static const struct sw_test_case tests[] = {
    {"supported_cells", test_supported_cells},
    {"matrix_cells", test_matrix_cells},
    {"formats", test_formats},
    {"faults", test_faults},
    {"da_session", test_da_session},
    {"kafka", test_kafka},
    {"results_schema_valid", test_results_schema_valid},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    pid_t sim;
    FILE *f;
    int rc;

    if (kit_parse_args(argc, argv, "it_providers", &args) != 0) {
        return 2;
    }
    sim = kit_start_sim(args.sim, args.work, &port);
    if (sim <= 0) {
        fprintf(stderr, "the simulator did not start\n");
        return 1;
    }
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", args.work);
    snprintf(all_results, sizeof(all_results), "%s/all-results.ndjson", args.work);
    fclose(fopen(all_results, "w"));
    f = fopen(accounts, "w");
    fprintf(f,
            "{\"accounts\":{"
            "\"klaviyo\":{\"provider\":\"klaviyo\",\"base_url\":\"http://127.0.0.1:%d\","
            "\"credentials\":{\"api_key\":\"env:ITP_KLAVIYO\"}},"
            "\"sendgrid\":{\"provider\":\"sendgrid\",\"base_url\":\"http://127.0.0.1:%d\","
            "\"credentials\":{\"api_key\":\"env:ITP_SENDGRID\"}},"
            "\"activecampaign\":{\"provider\":\"activecampaign\",\"base_url\":"
            "\"http://127.0.0.1:%d/activecampaign\",\"credentials\":{\"api_key\":\"env:ITP_AC\"}},"
            "\"beehiiv\":{\"provider\":\"beehiiv\",\"base_url\":\"http://127.0.0.1:%d/beehiiv\","
            "\"credentials\":{\"api_key\":\"env:ITP_BH\"},\"settings\":{\"publication_id\":"
            "\"pub_sim\"}},"
            "\"customerio\":{\"provider\":\"customerio\",\"base_url\":"
            "\"http://127.0.0.1:%d/customerio\",\"credentials\":{\"api_key\":\"env:ITP_CIO\"}},"
            "\"flodesk\":{\"provider\":\"flodesk\",\"base_url\":\"http://127.0.0.1:%d/flodesk\","
            "\"credentials\":{\"api_key\":\"env:ITP_FD\"}},"
            "\"mailchimp\":{\"provider\":\"mailchimp\",\"base_url\":"
            "\"http://127.0.0.1:%d/mailchimp\",\"credentials\":{\"api_key\":\"env:ITP_MC\"},"
            "\"settings\":{\"list_id\":\"sim-list\",\"dc\":\"us1\"}},"
            "\"hubspot\":{\"provider\":\"hubspot\",\"base_url\":\"http://127.0.0.1:%d/hubspot\","
            "\"credentials\":{\"api_key\":\"env:ITP_HS\"}},"
            "\"digitalaudience\":{\"provider\":\"digitalaudience\",\"base_url\":"
            "\"http://127.0.0.1:%d/digitalaudience\",\"credentials\":{\"username\":"
            "\"env:ITP_DA_USER\",\"password\":\"env:ITP_DA_PASS\"}},"
            "\"da-bad\":{\"provider\":\"digitalaudience\",\"base_url\":"
            "\"http://127.0.0.1:%d/digitalaudience\",\"credentials\":{\"username\":"
            "\"env:ITP_DA_USER\",\"password\":\"env:ITP_TR\"}},"
            "\"da-flaky\":{\"provider\":\"digitalaudience\",\"base_url\":"
            "\"http://127.0.0.1:%d/digitalaudience\",\"credentials\":{\"username\":"
            "\"env:ITP_DA_FLAKY\",\"password\":\"env:ITP_DA_PASS\"}},"
            "\"da-cookie\":{\"provider\":\"digitalaudience\",\"base_url\":"
            "\"http://127.0.0.1:%d/digitalaudience\",\"credentials\":{\"cookie\":"
            "\"file:%s/da-cookie\"}},"
            "\"truto\":{\"provider\":\"truto\",\"base_url\":\"http://127.0.0.1:%d/truto\","
            "\"credentials\":{\"api_key\":\"env:ITP_TR\"},\"settings\":{"
            "\"integrated_account_id\":\"sim-ia\"}}}}\n",
            port, port, port, port, port, port, port, port, port, port, port, port, args.work,
            port);
    fclose(f);
    {
        char p[1100];

        snprintf(p, sizeof(p), "%s/da-cookie", args.work);
        f = fopen(p, "w");
        fputs("sim-da-cookie", f);
        fclose(f);
    }
    rc = sw_test_run(tests, NULL);
    kit_signal(sim, SIGTERM);
    if (kit_wait(sim, kit_deadline_ms(10000)) != 0) {
        fprintf(stderr, "the simulator did not exit cleanly\n");
        rc = 1;
    }
    return rc;
}
