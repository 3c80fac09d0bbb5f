/* Data-driven provider tests, in the manner of curl's test cases: each file under
 * tests/data/tasks/<provider>/ holds a job, an account, the request the spec must build, a
 * response, and the result (or classified error) the spec must map it to. A new case is a new
 * file, with no new C code.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_test.h"

#include "sw_accounts.h"
#include "sw_adapter.h"
#include "sw_classify.h"
#include "sw_json.h"
#include "sw_spec.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#define TEST_SECRET "test-secret-key-123"

static struct sw_registry reg;
static int cases_run;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static void report(const char *file, const char *what, const cJSON *got, const cJSON *want)
{
    char *g = got ? cJSON_Print(got) : NULL;
    char *w = want ? cJSON_Print(want) : NULL;

    fprintf(stderr, "%s: %s\n  got:  %s\n  want: %s\n", file, what, g ? g : "(none)",
            w ? w : "(none)");
    cJSON_free(g);
    cJSON_free(w);
    sw_test_failures++;
}

/* "body": the JSON the request must carry (null: no body at all). */
static void check_body(const char *file, const cJSON *want, const struct sw_http_req *req)
{
    cJSON *got;

    if (!want) {
        return;
    }
    if (cJSON_IsNull(want)) {
        if (req->body) {
            fprintf(stderr, "%s: unexpected request body %s\n", file, req->body);
            sw_test_failures++;
        }
        return;
    }
    got = req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
    if (!got || !cJSON_Compare(got, want, 1)) {
        report(file, "request body", got, want);
    }
    cJSON_Delete(got);
}

static void check_request(const char *file, const cJSON *want, const struct sw_http_req *req)
{
    const cJSON *h;
    const char *url = sw_json_str(want, "url");
    const char *method = sw_json_str(want, "method");
    size_t expected_headers = 0;

    if (method && strcmp(method, req->method)) {
        fprintf(stderr, "%s: method %s, want %s\n", file, req->method, method);
        sw_test_failures++;
    }
    if (url && strcmp(url, req->url)) {
        fprintf(stderr, "%s: url\n  got:  %s\n  want: %s\n", file, req->url, url);
        sw_test_failures++;
    }
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(want, "headers"))
    {
        const char *got = sw_http_headers_get(&req->headers, h->string);

        expected_headers++;
        if (!got || !cJSON_IsString(h) || strcmp(got, h->valuestring)) {
            fprintf(stderr, "%s: header %s = %s, want %s\n", file, h->string,
                    got ? got : "(absent)", cJSON_IsString(h) ? h->valuestring : "?");
            sw_test_failures++;
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(want, "headers") && expected_headers != req->headers.n) {
        fprintf(stderr, "%s: %zu headers sent, %zu expected\n", file, req->headers.n,
                expected_headers);
        sw_test_failures++;
    }
    check_body(file, cJSON_GetObjectItemCaseSensitive(want, "body"), req);
}

static void fill_response(const cJSON *r, struct sw_http_resp *resp)
{
    const cJSON *h;
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(r, "body");
    const char *text = sw_json_str(r, "body_text");

    sw_http_resp_init(resp, 1 << 24);
    resp->status = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "status"));
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(r, "headers"))
    {
        sw_http_headers_add(&resp->headers, h->string, h->valuestring, 0);
    }
    if (body) {
        char *s = cJSON_PrintUnformatted(body);

        sw_buf_appends(&resp->body, s);
        cJSON_free(s);
    } else if (text) {
        sw_buf_appends(&resp->body, text);
    }
}

static void run_case(const char *file)
{
    size_t len = 0;
    char *text = slurp(file, &len);
    cJSON *tc = text ? cJSON_ParseWithLength(text, len) : NULL;
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(tc, "expect");
    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(expect, "error");
    struct sw_accounts *accts = NULL;
    struct sw_job *job = NULL;
    struct sw_job_limits lim = {1 << 20, 64, 0};
    struct sw_status st;
    struct sw_http_req req;
    struct sw_http_resp resp;
    struct sw_page page;
    const struct sw_provider *prov;
    const struct sw_adapter_op *op;
    char *jtext = NULL;
    char *atext = NULL;
    const char *build_error = sw_json_str(tc, "build_error");
    const char *next = sw_json_str(tc, "next_url");
    cJSON *perr = NULL;
    sw_err_t rc;

    sw_http_req_init(&req);
    memset(&page, 0, sizeof(page));
    sw_status_clear(&st);
    cases_run++;
    if (!tc) {
        fprintf(stderr, "%s: not valid JSON\n", file);
        sw_test_failures++;
        goto out;
    }
    {
        cJSON *wrap = cJSON_CreateObject();
        cJSON *as = cJSON_AddObjectToObject(wrap, "accounts");

        cJSON_AddItemToObject(as, "acct",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(tc, "account"), 1));
        atext = cJSON_PrintUnformatted(wrap);
        cJSON_Delete(wrap);
    }
    accts = sw_accounts_parse(atext, strlen(atext), &st);
    jtext = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(tc, "job"));
    if (!accts || sw_job_parse(jtext, strlen(jtext), &lim, &job, &st) != SW_E_OK) {
        fprintf(stderr, "%s: bad case setup: %s\n", file, st.msg);
        sw_test_failures++;
        goto out;
    }
    prov = sw_registry_find(&reg, job->provider);
    op = prov ? prov->ad->select(prov, job) : NULL;
    if (!op) {
        if (!build_error || strcmp(build_error, "unsupported_operation")) {
            fprintf(stderr, "%s: provider/operation not found\n", file);
            sw_test_failures++;
        }
        goto out;
    }
    /* As the engine does: the job's params against what the operation takes, before building. */
    rc = sw_params_check(op->params, job, sw_accounts_find(accts, "acct")->settings, file, &st)
             ? st.code
             : prov->ad->build(prov, op, sw_accounts_find(accts, "acct"), job, next, &req, &st);
    if (build_error) {
        const char *needle = sw_json_str(tc, "build_error_contains");

        if (rc == SW_E_OK || strcmp(sw_err_name(rc), build_error)) {
            fprintf(stderr, "%s: build gave %s (%s), want %s\n", file, sw_err_name(rc), st.msg,
                    build_error);
            sw_test_failures++;
        } else if (needle && !strstr(st.msg, needle)) {
            fprintf(stderr, "%s: build message \"%s\" lacks \"%s\"\n", file, st.msg, needle);
            sw_test_failures++;
        }
        goto out;
    }
    if (rc != SW_E_OK) {
        fprintf(stderr, "%s: build failed: %s\n", file, st.msg);
        sw_test_failures++;
        goto out;
    }
    /* Every case that builds a request says which: a case cannot pass by mapping an answer to a
     * request nobody looked at. */
    if (!sw_json_str(cJSON_GetObjectItemCaseSensitive(tc, "request"), "method") ||
        !sw_json_str(cJSON_GetObjectItemCaseSensitive(tc, "request"), "url")) {
        fprintf(stderr, "%s: the case does not assert the request's method and url\n", file);
        sw_test_failures++;
    }
    check_request(file, cJSON_GetObjectItemCaseSensitive(tc, "request"), &req);
    if (!cJSON_GetObjectItemCaseSensitive(tc, "response")) {
        goto out;
    }
    fill_response(cJSON_GetObjectItemCaseSensitive(tc, "response"), &resp);
    if (resp.status >= 200 && resp.status < 300) {
        rc = prov->ad->map(prov, op, job, next, &resp, 64, &page, &st);
    } else {
        /* As the engine tells it: the adapter's words, the classifier's verdict on the status
         * alone (whether a write may be repeated is the engine's, tested in test_core). */
        struct sw_provider_error pe;
        struct sw_verdict v = sw_classify_http(resp.status, 1);

        prov->ad->describe_error(prov, &resp, 64, &pe);
        sw_verdict_apply_answer(&v, prov->name, resp.status, &pe, &st);
        perr = pe.body;
        rc = st.code;
    }
    if (want_err) {
        const char *code = sw_json_str(want_err, "code");
        const cJSON *retry = cJSON_GetObjectItemCaseSensitive(want_err, "retryable");
        const char *needle = sw_json_str(want_err, "message_contains");
        const cJSON *pe = cJSON_GetObjectItemCaseSensitive(want_err, "provider_error");

        if (rc == SW_E_OK || strcmp(sw_err_name(rc), code)) {
            fprintf(stderr, "%s: got %s (%s), want error %s\n", file, sw_err_name(rc), st.msg,
                    code);
            sw_test_failures++;
        }
        if (retry && cJSON_IsTrue(retry) != (st.cls == SW_CLASS_RETRY)) {
            fprintf(stderr, "%s: retryable mismatch\n", file);
            sw_test_failures++;
        }
        if (needle && !strstr(st.msg, needle)) {
            fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", file, st.msg, needle);
            sw_test_failures++;
        }
        if (pe && !cJSON_Compare(pe, perr, 1)) {
            report(file, "provider_error", perr, pe);
        }
    } else if (rc != SW_E_OK) {
        fprintf(stderr, "%s: mapping failed: %s\n", file, st.msg);
        sw_test_failures++;
    } else {
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(expect, "result");
        const cJSON *wnext = cJSON_GetObjectItemCaseSensitive(expect, "next_url");
        const cJSON *witems = cJSON_GetObjectItemCaseSensitive(expect, "items");

        if (want && !cJSON_Compare(want, page.result, 1)) {
            report(file, "result", page.result, want);
        }
        if (wnext && (cJSON_IsNull(wnext) ? page.next != NULL
                                          : !page.next || strcmp(page.next, wnext->valuestring))) {
            fprintf(stderr, "%s: next_url %s\n", file, page.next ? page.next : "(null)");
            sw_test_failures++;
        }
        if (witems && (int)witems->valuedouble != page.items) {
            fprintf(stderr, "%s: %d items, want %d\n", file, page.items, (int)witems->valuedouble);
            sw_test_failures++;
        }
    }
    sw_http_resp_free(&resp);
out:
    cJSON_Delete(perr);
    sw_page_free(&page);
    sw_http_req_free(&req);
    sw_job_destroy(job);
    sw_accounts_destroy(accts);
    cJSON_free(jtext);
    cJSON_free(atext);
    cJSON_Delete(tc);
    free(text);
}

static void run_dir(const char *dir)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    int i;

    for (i = 0; i < n; i++) {
        char path[4096];
        size_t l = strlen(ents[i]->d_name);

        snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
        if (ents[i]->d_name[0] != '.' && ents[i]->d_type == DT_DIR) {
            run_dir(path);
        } else if (l > 5 && !strcmp(ents[i]->d_name + l - 5, ".json")) {
            int before = sw_test_failures;

            run_case(path);
            printf("%s %s\n", sw_test_failures == before ? "ok  " : "FAIL", path);
        }
        free(ents[i]);
    }
    free(ents);
}

static const char *data_dir;

static void test_spec_cases(void)
{
    struct sw_status st;

    setenv("SW_TEST_API_KEY", TEST_SECRET, 1);
    sw_status_clear(&st);
    sw_registry_init(&reg);
    CHECK(sw_adapters_load(&reg, NULL, &st) == 0);
    CHECK(reg.n >= 10);
    run_dir(data_dir);
    CHECK(cases_run >= 230); /* every case of every provider, not a lucky few */
    sw_registry_free(&reg);
}

/* A spec whose host template names a job parameter (or a credential) is refused when it loads,
 * and an account's base URL that does is refused when a request is built, so no job can ever
 * choose where a request goes. */
static void test_host_never_from_job(void)
{
    static const char *const bases[] = {"https://{params.host}.example.com",
                                        "https://{settings.dc,params.host}.example.com",
                                        "https://{credentials.api_key}.example.com"};
    static const char store[] =
        "{\"accounts\":{\"a\":{\"provider\":\"h\",\"credentials\":{\"api_key\":"
        "\"env:SW_TEST_API_KEY\"}},\"b\":{\"provider\":\"h\",\"base_url\":"
        "\"https://{params.host}.example.com\"}}}";
    static const char jtext[] =
        "{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":"
        "\"h\",\"account\":\"a\",\"params\":{\"id\":\"1\",\"host\":\"evil\"}}";
    static const char spec_fmt[] =
        "{\"name\":\"h\",\"base_url\":\"%s\",\"operations\":{\"segments.get\":{"
        "\"method\":\"GET\",\"path\":\"/s/{params.id}\",\"result\":{\"kind\":"
        "\"item\",\"model\":\"segment\"}}},\"models\":{\"segment\":{}}}";
    struct sw_job_limits lim = {4096, 32, 0};
    struct sw_status st;
    struct sw_accounts *accts;
    struct sw_job *job = NULL;
    struct sw_registry one;
    const struct sw_provider *p;
    char text[1024];
    size_t i;

    setenv("SW_TEST_API_KEY", TEST_SECRET, 1);
    sw_status_clear(&st);
    accts = sw_accounts_parse(store, strlen(store), &st);
    CHECK(accts != NULL);
    CHECK(sw_job_parse(jtext, strlen(jtext), &lim, &job, &st) == SW_E_OK);
    for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        snprintf(text, sizeof(text), spec_fmt, bases[i]);
        sw_registry_init(&one);
        sw_status_clear(&st);
        CHECK(sw_spec_register_text(&one, text, strlen(text), "inline", &st) == -1);
        CHECK_INT(st.code, SW_E_CONFIG);
        CHECK(strstr(st.msg, "settings") != NULL);
        CHECK(strstr(st.msg, "base_url") != NULL);
        sw_registry_free(&one);
    }
    snprintf(text, sizeof(text), spec_fmt, "https://{settings.dc|api}.example.com");
    sw_registry_init(&one);
    sw_status_clear(&st);
    CHECK(sw_spec_register_text(&one, text, strlen(text), "inline", &st) == 0);
    p = sw_registry_find(&one, "h");
    CHECK(p != NULL);
    for (i = 0; p && accts && job && i < accts->n; i++) {
        struct sw_http_req req;
        sw_err_t rc;

        sw_status_clear(&st);
        rc = p->ad->build(p, p->ad->select(p, job), &accts->v[i], job, NULL, &req, &st);
        if (accts->v[i].base_url) {
            CHECK_INT(rc, SW_E_CONFIG);
            CHECK(strstr(st.msg, "settings") != NULL);
        } else {
            CHECK_INT(rc, SW_E_OK);
            CHECK_STR(req.url, "https://api.example.com/s/1");
        }
        sw_http_req_free(&req);
    }
    sw_registry_free(&one);
    sw_job_destroy(job);
    sw_accounts_destroy(accts);
}

static const struct sw_test_case tests[] = {
    {"spec_cases", test_spec_cases},
    {"host_never_from_job", test_host_never_from_job},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data/tasks";
    return sw_test_run(tests, NULL);
}
