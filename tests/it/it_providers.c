/* Every "supported" cell of the capability matrix (`segworker providers`) run with
 * `segworker exec` against the simulator's profile of that provider over loopback sockets, the
 * unsupported cells answered unsupported_operation, each provider's list in all five response
 * formats, the Digital Audience cookie session (login, reuse, re-login after expiry), and one
 * job per provider through a real Kafka broker. Every result line is schema-validated.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_ops.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CELLS 256

static struct kit_args args;
static struct kit_sim sim;
static char accounts[1024];
static char all_results[1024];

/* A row of provider_cells.tsv; the strings point into the table's text. */
struct cell {
    const char *group;
    const char *provider;
    const char *op;
    const char *params; /* JSON object text */
    const char *want;   /* "path=value;..." on the last line ("ids=" = item ids over parts) */
};

/* The table, loaded once by main. */
struct cells {
    char *text;
    struct cell c[MAX_CELLS];
    int n;
};

static struct cells table;

/* Split text (owned by t) into rows; -1 when a row is malformed or there are too many. */
static int cells_load(struct cells *t, const char *path)
{
    char *line;

    t->text = kit_read_file(path, NULL);
    for (line = t->text; line && *line;) {
        char *nl = strchr(line, '\n');
        char *f[5];
        int k;

        if (nl) {
            *nl = '\0';
        }
        if (*line && *line != '#') {
            for (k = 0; k < 5; k++) {
                f[k] = line;
                line += strcspn(line, "\t");
                if (*line) {
                    *line++ = '\0';
                } else if (k < 4) {
                    return -1;
                }
            }
            if (t->n == MAX_CELLS) {
                return -1;
            }
            t->c[t->n++] = (struct cell){f[0], f[1], f[2], f[3], strcmp(f[4], "-") ? f[4] : ""};
        }
        line = nl ? nl + 1 : NULL;
    }
    return t->text && t->n ? 0 : -1;
}

/* The rows of a group, in order: call with *i = -1 first. */
static const struct cell *next_of(const char *group, int *i)
{
    while (++*i < table.n) {
        if (!strcmp(table.c[*i].group, group)) {
            return &table.c[*i];
        }
    }
    return NULL;
}

/* `segworker exec` with the kit's credentials and the one this test's accounts add. */
static void worker_env(struct kit_worker *w)
{
    kit_worker_env(w, "ITP_DA_FLAKY=sim-flaky-1-login");
}

/* The lines one job printed and its exit status; every line also goes to all_results. */
static void run_exec(const char *job, struct kit_output *o)
{
    struct kit_worker w;

    kit_worker_init(&w, &args, "exec");
    kit_worker_arg(&w, "--accounts");
    kit_worker_arg(&w, "%s", accounts);
    worker_env(&w);
    kit_worker_exec(&w, args.work, "exec", job, kit_deadline_ms(60000), all_results, o);
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

/* The job of a cell as text, in response format `format` (NULL: the default). */
static void job_of(const struct cell *c, const char *id, const char *format, char *job, size_t n)
{
    snprintf(job, n,
             "{\"job_id\":\"%s\",\"operation\":\"%s\",\"provider\":\"%s\",\"account\":\"%s\","
             "\"params\":%s%s%s%s}",
             id, c->op, c->provider, c->provider, c->params,
             format ? ",\"options\":{\"response_format\":\"" : "", format ? format : "",
             format ? "\"}" : "");
}

static void run_cell(const struct cell *c, const char *format, struct kit_output *o)
{
    static int seq; /* job ids p1, p2, ... in all_results */
    char job[4096], id[16];

    snprintf(id, sizeof(id), "p%d", ++seq);
    job_of(c, id, format, job, sizeof(job));
    run_exec(job, o);
}

static int cell_listed(const char *provider, const char *op)
{
    const struct cell *c;
    int i = -1;

    while ((c = next_of("cell", &i)) != NULL) {
        if (!strcmp(c->provider, provider) && !strcmp(c->op, op)) {
            return 1;
        }
    }
    return 0;
}

static void test_supported_cells(void)
{
    const struct cell *c;
    int i = -1;

    while ((c = next_of("cell", &i)) != NULL) {
        struct kit_output o;
        const cJSON *last;

        run_cell(c, NULL, &o);
        last = kit_output_last(&o);
        if (o.rc != 0 || !last ||
            strcmp(cJSON_GetStringValue(at(last, "status")) ?: "", "succeeded")) {
            char *t = last ? cJSON_PrintUnformatted(last) : NULL;

            fprintf(stderr, "%s %s: exit %d: %.600s\n", c->provider, c->op, o.rc,
                    t ? t : "(no output)");
            cJSON_free(t);
            sw_test_failures++;
        } else if (!check_want(c, o.lines, c->want)) {
            sw_test_failures++;
        }
        kit_output_free(&o);
    }
}

/* An unsupported cell answers unsupported_operation naming provider and operation. */
static void check_unsupported(const char *provider, const char *op)
{
    struct cell c = {"", provider, op, "{\"id\":\"1\",\"name\":\"x\"}", ""};
    struct kit_output o;
    char want[256];
    const cJSON *first;

    run_cell(&c, NULL, &o);
    first = cJSON_GetArrayItem(o.lines, 0);
    snprintf(want, sizeof(want), "provider %s does not support %s", provider, op);
    CHECK_INT(o.rc, 1);
    CHECK_STR(cJSON_GetStringValue(at(first, "error.code")), "unsupported_operation");
    CHECK(strstr(cJSON_GetStringValue(at(first, "error.message")) ?: "", want));
    kit_output_free(&o);
}

/* The matrix printed by `segworker providers` and the cells agree: every "yes" has a cell,
 * every "-" answers unsupported_operation. Its columns are the operations of sw_ops.h, in
 * order; its rows the simulator's providers. */
static void test_matrix_cells(void)
{
    struct kit_worker w;
    struct kit_output o;
    char *line, *save_line = NULL;
    int p, j, rows = 0;

    kit_worker_init(&w, &args, "providers");
    CHECK_INT(kit_worker_exec(&w, args.work, "matrix", NULL, kit_deadline_ms(30000), NULL, &o), 0);
    for (line = strtok_r(o.out, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
        char name[64];
        char *tok, *save = NULL;

        if (sscanf(line, "%63s", name) != 1) {
            continue;
        }
        for (p = 0; kit_sim_provider(p) && strcmp(kit_sim_provider(p), name); p++) {
        }
        if (!kit_sim_provider(p)) {
            continue;
        }
        rows++;
        tok = strtok_r(line + strlen(name), " ", &save);
        for (j = 0; j < SW_OP__COUNT && tok; j++, tok = strtok_r(NULL, " ", &save)) {
            const char *op = sw_op_name((enum sw_op_id)j);

            if (strcmp(tok, "yes")) {
                check_unsupported(name, op);
            } else if (!cell_listed(name, op)) {
                fprintf(stderr, "%s %s: supported but not exercised\n", name, op);
                sw_test_failures++;
            }
        }
        CHECK_INT(j, SW_OP__COUNT);
    }
    kit_output_free(&o);
    CHECK_INT(rows, 10);
}

/* One provider's list (Digital Audience: get) in the four non-default formats. */
static void check_formats(const struct cell *c)
{
    int list = !strcmp(c->op, "segments.list");
    struct kit_output raw, norm, stream, dbg;
    const cJSON *l;
    long long total;
    char *t;

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
    t = cJSON_PrintUnformatted(dbg.lines);
    CHECK(t && !strstr(t, "-key") && !strstr(t, "sess-"));
    cJSON_free(t);
    kit_output_free(&raw);
    kit_output_free(&norm);
    kit_output_free(&stream);
    kit_output_free(&dbg);
}

static void test_formats(void)
{
    const struct cell *c;
    int i = -1;

    while ((c = next_of("format", &i)) != NULL) {
        check_formats(c);
    }
}

/* The simulator's count of answers with this status for a provider (GET /_sim/stats). */
static long sim_count(const char *provider, const char *status)
{
    cJSON *doc = kit_sim_json(&sim, "/_sim/stats");
    char path[128];
    long n;

    if (!doc) {
        return -1;
    }
    snprintf(path, sizeof(path), "by_provider.%s.status.%s", provider, status);
    n = (long)cJSON_GetNumberValue(at(doc, path));
    cJSON_Delete(doc);
    return n < 0 ? 0 : n;
}

/* Faults through the profiles: a throttled request is retried after the provider's wait, a 5xx
 * burst is retried, a malformed body is response_invalid, an unknown id not_found. */
static void test_faults(void)
{
    const struct cell *c;
    int i = -1;

    while ((c = next_of("retry", &i)) != NULL) {
        struct cell fresh = *c;
        char params[128];
        struct kit_output o;

        /* A fresh magic id per run: the simulator counts requests per id. */
        snprintf(params, sizeof(params), "{\"id\":\"%s%d\"}", c->params, (int)getpid());
        fresh.params = params;
        run_cell(&fresh, NULL, &o);
        CHECK_INT(o.rc, 0);
        CHECK(check_want(&fresh, o.lines, fresh.want));
        kit_output_free(&o);
    }
    while ((c = next_of("fail", &i)) != NULL) {
        struct kit_output o;

        run_cell(c, NULL, &o);
        CHECK_INT(o.rc, 1);
        CHECK(check_want(c, o.lines, c->want));
        kit_output_free(&o);
    }
}

/* Digital Audience: a bad password is auth_failed; a fixed cookie (credentials.cookie) works
 * without any login; a login cookie works. (Each exec is a new process, so the re-login of a
 * kept cookie after a 401 is shown in test_kafka, where one worker keeps it.) */
static void test_da_session(void)
{
    static const char *const accts[] = {"da-bad", "da-cookie", "digitalaudience", "da-flaky"};
    long logins = sim_count("digitalaudience", "200");
    struct kit_output o;
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
        kit_output_free(&o);
    }
    /* da-cookie: one 200 (no login); digitalaudience and da-flaky: login + get = two 200s each
     * (da-flaky's first login answered 503 and was tried again). */
    CHECK_INT(sim_count("digitalaudience", "200") - logins, 5);
}

/* The final result of each kafka job, kept as it arrives. */
static void keep_final(void *arg, int idx, const cJSON *r, const rd_kafka_message_t *m)
{
    cJSON **got = arg;

    (void)m;
    if (cJSON_IsTrue(at(r, "part.last")) && !got[idx]) {
        got[idx] = cJSON_Duplicate(r, 1);
    }
}

/* One job per provider through a real Kafka broker and `segworker run`; the Digital Audience
 * job runs twice around a server-side session expiry, so the worker's kept cookie gets a 401
 * and the job must log in again by itself. */
static void test_kafka(void)
{
    const struct cell *kc[MAX_CELLS];
    cJSON *got[MAX_CELLS] = {0};
    struct kit_names n;
    struct kit_worker w = {.pid = -1};
    struct kit_tally t;
    char file[1100], reply[256];
    rd_kafka_t *prod = NULL, *rd = NULL;
    long unauthorized = 0;
    int nk = 0, da_first = -1, i = -1;

    memset(&t, 0, sizeof(t));
    while (nk < MAX_CELLS && (kc[nk] = next_of("kafka", &i)) != NULL) {
        da_first = da_first < 0 && !strcmp(kc[nk]->provider, "digitalaudience") ? nk : da_first;
        nk++;
    }
    CHECK(args.bootstrap[0] && nk > 1 && da_first >= 0 && da_first < nk - 1);
    if (!args.bootstrap[0] || da_first < 0) {
        return;
    }
    kit_names_init(&n, "itp", NULL);
    CHECK(kit_topics_create(args.bootstrap, &n, 1, 1, 0) == 0);
    kit_worker_init_run(&w, &args, args.bootstrap, accounts, &n);
    worker_env(&w);
    CHECK(kit_worker_start(&w, args.work, "worker") > 0);
    prod = kit_producer(args.bootstrap);
    rd = kit_reader(args.bootstrap, n.results);
    kit_path(file, sizeof(file), args.work, "kafka-results.ndjson");
    CHECK(prod && rd && kit_tally_init(&t, n.tag, nk) == 0 &&
          kit_tally_record(&t, file, NULL) == 0);
    if (w.pid <= 0 || !prod || !rd || !t.job) {
        goto out;
    }
    t.on_result = keep_final;
    t.arg = got;
    for (i = 0; i < nk; i++) {
        char job[1024], id[96];

        if (i == nk - 1) {
            /* The first DA job's cookie is kept by the worker; expire it on the provider. */
            int64_t end = kit_now_ms() + kit_deadline_ms(60000);

            while (!got[da_first] && kit_now_ms() < end) {
                kit_tally_poll(&t, rd, 200);
            }
            CHECK(got[da_first] != NULL);
            unauthorized = sim_count("digitalaudience", "401");
            CHECK_INT(kit_http(sim.port, "DELETE", "/_sim/sessions", reply, sizeof(reply)), 200);
        }
        snprintf(id, sizeof(id), "%s-%d", n.tag, i);
        job_of(kc[i], id, NULL, job, sizeof(job));
        CHECK(kit_produce(prod, n.jobs, kc[i]->provider, job, strlen(job)) == 0);
        CHECK(kit_flush(prod) == 0);
    }
    CHECK(kit_tally_wait(&t, rd, kit_deadline_ms(120000)) == 0);
    /* The kept cookie met exactly one 401, and the job logged in again by itself. */
    CHECK_INT(sim_count("digitalaudience", "401") - unauthorized, 1);
    for (i = 0; i < nk; i++) {
        cJSON *lines = cJSON_CreateArray();

        if (got[i] && lines) {
            CHECK_STR(cJSON_GetStringValue(at(got[i], "status")), "succeeded");
            cJSON_AddItemToArray(lines, got[i]);
            got[i] = NULL;
            CHECK(check_want(kc[i], lines, kc[i]->want));
        }
        cJSON_Delete(lines);
    }
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    kit_tally_free(&t); /* closes the results file */
    CHECK_INT(kit_validate(&args, "result.schema.json", file), 0);
out:
    kit_reader_close(rd);
    kit_producer_free(prod);
    kit_worker_kill(&w);
    kit_tally_free(&t);
    for (i = 0; i < nk; i++) {
        cJSON_Delete(got[i]);
    }
}

static void test_results_schema_valid(void)
{
    CHECK_INT(kit_validate(&args, "result.schema.json", all_results), 0);
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

/* One account per provider, named after it, and the Digital Audience variants: a wrong
 * password, a login that fails once, a fixed cookie from a file. */
static int write_accounts(void)
{
    struct kit_accounts acc;
    char url[128], cookie[1100], ref[1200];
    int i;

    kit_path(cookie, sizeof(cookie), args.work, "da-cookie");
    if (kit_write_file(cookie, "sim-da-cookie") != 0) {
        return -1;
    }
    kit_accounts_init(&acc);
    for (i = 0; kit_sim_provider(i); i++) {
        kit_account_sim(&acc, kit_sim_provider(i), kit_sim_provider(i), &sim);
    }
    kit_sim_url(&sim, "digitalaudience", url, sizeof(url));
    kit_account_set(&acc, kit_account_sim(&acc, "da-bad", "digitalaudience", &sim), "credentials",
                    "password", "env:KIT_TRUTO_KEY");
    kit_account_set(&acc, kit_account_sim(&acc, "da-flaky", "digitalaudience", &sim), "credentials",
                    "username", "env:ITP_DA_FLAKY");
    snprintf(ref, sizeof(ref), "file:%s", cookie);
    kit_account_set(&acc, kit_account(&acc, "da-cookie", "digitalaudience", url), "credentials",
                    "cookie", ref);
    return kit_accounts_write(&acc, accounts);
}

int main(int argc, char **argv)
{
    int rc = 1;

    if (kit_parse_args(argc, argv, "it_providers", &args) != 0) {
        return 2;
    }
    if (cells_load(&table, IT_PROVIDER_CELLS) != 0) {
        fprintf(stderr, "cannot read the cells of %s\n", IT_PROVIDER_CELLS);
        goto out;
    }
    if (kit_sim_start(&sim, &args, NULL) != 0) {
        fprintf(stderr, "the simulator did not start\n");
        goto out;
    }
    kit_path(accounts, sizeof(accounts), args.work, "accounts.json");
    kit_path(all_results, sizeof(all_results), args.work, "all-results.ndjson");
    if (kit_write_file(all_results, "") != 0 || write_accounts() != 0) {
        kit_sim_kill(&sim);
        goto out;
    }
    rc = sw_test_run(tests, getenv("SW_TEST_ONLY"));
    if (kit_sim_stop(&sim) != 0) {
        fprintf(stderr, "the simulator did not exit cleanly\n");
        rc = 1;
    }
out:
    free(table.text);
    return rc;
}
