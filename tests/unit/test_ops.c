/* Unit tests of the operations modules: W3C traceparent parsing and child spans, the metrics
 * registry (labels, histograms, escaping, concurrent update + render), the admin endpoints over a
 * real socket, and account-store references and reload.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_accounts.h"
#include "sw_admin.h"
#include "sw_loop.h"
#include "sw_metrics.h"
#include "sw_retry.h"
#include "sw_test.h"
#include "sw_time.h"
#include "sw_trace.h"

#include "sw_adapter.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void test_trace_parse(void)
{
    struct sw_trace t;
    static const char *const bad[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      /* short */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   /* upper case */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   /* zero trace */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   /* zero parent */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* version ff */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", /* 00 has no more */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  /* no '-' after flags */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        NULL,
    };
    int i;

    CHECK_INT(sw_trace_parse(TP, strlen(TP), &t), 0);
    CHECK_STR(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK_STR(t.parent_id, "00f067aa0ba902b7");
    CHECK_STR(t.flags, "01");
    /* A later version is read by its first four fields (trace-context §3.2.4). */
    CHECK_INT(
        sw_trace_parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what", 60, &t), 0);
    for (i = 0; bad[i]; i++) {
        if (sw_trace_parse(bad[i], strlen(bad[i]), &t) == 0) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            sw_test_failures++;
        }
    }
}

static void test_trace_child(void)
{
    struct sw_http_headers h;
    struct sw_trace t;
    uint64_t rng = 42;
    char first[64];
    const char *v;

    memset(&h, 0, sizeof(h));
    CHECK_INT(sw_trace_set_child(&h, NULL, &rng), 0);
    CHECK_INT(sw_trace_set_child(&h, "garbage", &rng), 0);
    CHECK_INT((int)h.n, 0);
    CHECK_INT(sw_trace_set_child(&h, TP, &rng), 0);
    v = sw_http_headers_get(&h, "traceparent");
    CHECK(v != NULL && sw_trace_parse(v, strlen(v), &t) == 0);
    CHECK_STR(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(strcmp(t.parent_id, "00f067aa0ba902b7") != 0);
    CHECK_STR(t.flags, "01");
    snprintf(first, sizeof(first), "%s", v ? v : "");
    /* A retry gets its own span: the header is replaced, not added. */
    CHECK_INT(sw_trace_set_child(&h, TP, &rng), 0);
    CHECK_INT((int)h.n, 1);
    v = sw_http_headers_get(&h, "traceparent");
    CHECK(v && strcmp(v, first) != 0 && !strncmp(v, first, 36));
    sw_http_headers_free(&h);
}

struct hammer {
    struct sw_metrics *m;
    int n;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    int i;

    for (i = 0; i < h->n; i++) {
        sw_metrics_job_done(h->m, "klaviyo", "segments.get", SW_E_OK);
        sw_metrics_http(h->m, "klaviyo", 200, i % 100);
        sw_metrics_retry(h->m, "klaviyo", SW_E_RATE_LIMITED);
        sw_metrics_ratelimit_wait(h->m, "klaviyo", 7);
        sw_metrics_loop_turned(h->m, sw_now_mono_ms());
    }
    return NULL;
}

static void test_metrics(void)
{
    struct sw_status st;
    struct sw_registry reg;
    struct sw_metrics *m;
    struct hammer h;
    pthread_t th;
    char *text;
    size_t len = 0;
    int i;

    sw_status_clear(&st);
    sw_registry_init(&reg);
    CHECK(sw_adapters_load(&reg, NULL, &st) == 0);
    m = sw_metrics_create(&reg);
    CHECK(m != NULL);
    if (!m) {
        sw_registry_free(&reg);
        return;
    }
    /* Concurrent updates (the loop thread) and renders (the admin thread); run under TSan too. */
    h.m = m;
    h.n = 20000;
    CHECK_INT(pthread_create(&th, NULL, hammer_run, &h), 0);
    for (i = 0; i < 50; i++) {
        text = sw_metrics_render(m, &len);
        CHECK(text != NULL);
        free(text);
    }
    pthread_join(th, NULL);
    sw_metrics_job_done(m, "no-such-provider", "segments.frobnicate", SW_E_UNKNOWN_PROVIDER);
    sw_metrics_job_done(m, NULL, NULL, SW_E_INVALID_JOB);
    sw_metrics_http(m, "sendgrid", 0, 12);    /* transport error */
    sw_metrics_http(m, "sendgrid", 503, 100); /* exactly on a bucket bound */
    sw_metrics_dead_letter(m, SW_E_INVALID_JOB);
    sw_metrics_dead_letter(m, (sw_err_t)999); /* out of range: counted, not a crash */
    text = sw_metrics_render(m, &len);
    CHECK(text != NULL && strlen(text) == len);
    if (text) {
        CHECK(strstr(text, "segworker_jobs_total{provider=\"klaviyo\",operation=\"segments.get\","
                           "status=\"succeeded\",code=\"ok\"} 20000\n") != NULL);
        CHECK(strstr(text, "segworker_jobs_total{provider=\"other\",operation=\"other\","
                           "status=\"failed\",code=\"unknown_provider\"} 1\n") != NULL);
        CHECK(strstr(text, "segworker_jobs_total{provider=\"other\",operation=\"other\","
                           "status=\"failed\",code=\"invalid_job\"} 1\n") != NULL);
        CHECK(strstr(text, "segworker_retries_total{provider=\"klaviyo\",code=\"rate_limited\"} "
                           "20000\n") != NULL);
        CHECK(strstr(text, "segworker_http_request_duration_seconds_count{provider=\"klaviyo\","
                           "class=\"2xx\"} 20000\n") != NULL);
        /* 0..99 ms, 200 times each: 6 values (0..5) are <= 5 ms */
        CHECK(strstr(text, "segworker_http_request_duration_seconds_bucket{provider=\"klaviyo\","
                           "class=\"2xx\",le=\"0.005\"} 1200\n") != NULL);
        CHECK(strstr(text, "segworker_http_request_duration_seconds_bucket{provider=\"sendgrid\","
                           "class=\"error\",le=\"0.025\"} 1\n") != NULL);
        CHECK(strstr(text, "segworker_http_request_duration_seconds_bucket{provider=\"sendgrid\","
                           "class=\"5xx\",le=\"0.1\"} 1\n") != NULL);
        CHECK(strstr(text, "segworker_http_request_duration_seconds_bucket{provider=\"sendgrid\","
                           "class=\"5xx\",le=\"0.05\"} 0\n") != NULL);
        CHECK(
            strstr(text, "segworker_ratelimit_wait_seconds_count{provider=\"klaviyo\"} 20000\n") !=
            NULL);
        CHECK(strstr(text, "segworker_dead_letters_total{reason=\"invalid_job\"} 1\n") != NULL);
        CHECK(strstr(text, "segworker_dead_letters_total{reason=\"internal_error\"} 1\n") != NULL);
        CHECK(strstr(text, "# TYPE segworker_http_request_duration_seconds histogram\n") != NULL);
        CHECK(strstr(text, "segworker_build_info{version=\"") != NULL);
        CHECK(strstr(text, "no-such-provider") == NULL && strstr(text, "frobnicate") == NULL);
    }
    free(text);
    sw_metrics_destroy(m);
    sw_registry_free(&reg);
    sw_metrics_destroy(NULL);
    /* Every update accepts a NULL registry (`exec` runs without one). */
    sw_metrics_job_done(NULL, "klaviyo", "segments.get", SW_E_OK);
    sw_metrics_http(NULL, "klaviyo", 200, 1);
    sw_metrics_kafka_tick(NULL, NULL, 0, 0, 0);
}

static void test_metrics_escaping(void)
{
    struct sw_provider one;
    struct sw_provider *v[1] = {&one};
    struct sw_registry reg = {v, 1};
    struct sw_metrics *m;
    char *text;
    size_t len;

    /* A provider name that would break the exposition if it were printed raw. */
    memset(&one, 0, sizeof(one));
    one.name = "we\"ird\\na\nme";
    m = sw_metrics_create(&reg);
    sw_metrics_job_done(m, "we\"ird\\na\nme", "segments.get", SW_E_OK);
    text = sw_metrics_render(m, &len);
    CHECK(text && strstr(text, "provider=\"we\\\"ird\\\\na\\nme\"") != NULL);
    free(text);
    sw_metrics_destroy(m);
}

struct body {
    char buf[8192];
    size_t n;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct body *b = ud;
    size_t n = sz * nm;

    if (b->n + n >= sizeof(b->buf)) {
        n = sizeof(b->buf) - 1 - b->n;
    }
    memcpy(b->buf + b->n, p, n);
    b->n += n;
    b->buf[b->n] = '\0';
    return sz * nm;
}

static long http(int port, const char *method, const char *path, struct body *b)
{
    CURL *c = curl_easy_init();
    char url[128];
    long code = -1;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    b->n = 0;
    b->buf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    }
    curl_easy_cleanup(c);
    return code;
}

static void test_admin(void)
{
    struct sw_status st;
    struct sw_metrics *m = sw_metrics_create(NULL);
    struct sw_admin *a;
    struct body b;
    int port;

    sw_status_clear(&st);
    CHECK(sw_admin_start("no-port", m, 1000, &st) == NULL && strstr(st.msg, "host:port"));
    sw_status_clear(&st);
    CHECK(sw_admin_start("127.0.0.1:notaport", m, 1000, &st) == NULL);
    sw_status_clear(&st);
    a = sw_admin_start("127.0.0.1:0", m, 1000, &st);
    CHECK(a != NULL);
    if (!a) {
        sw_metrics_destroy(m);
        return;
    }
    port = sw_admin_port(a);
    CHECK(port > 0);
    CHECK_INT(http(port, "GET", "/metrics", &b), 200);
    CHECK(strstr(b.buf, "# TYPE segworker_jobs_total counter") != NULL);
    /* Starting up (the registry was just created, the loop has not turned yet): alive for up to
     * the stall bound, not ready. */
    CHECK_INT(http(port, "GET", "/healthz", &b), 200);
    CHECK_INT(http(port, "GET", "/readyz", &b), 503);
    sw_metrics_loop_turned(m, sw_now_mono_ms() - 2000); /* a start-up past the bound: dead */
    CHECK_INT(http(port, "GET", "/healthz", &b), 503);
    CHECK_INT(http(port, "GET", "/readyz", &b), 503);
    CHECK(strstr(b.buf, "not turning") != NULL);
    sw_metrics_loop_turned(m, sw_now_mono_ms());
    CHECK_INT(http(port, "GET", "/healthz", &b), 200);
    CHECK_INT(http(port, "GET", "/readyz", &b), 503);
    CHECK(strstr(b.buf, "has not assigned") != NULL);
    sw_metrics_set_joined(m, 1);
    CHECK_INT(http(port, "GET", "/readyz", &b), 200);
    sw_metrics_set_producer_ok(m, 0);
    CHECK_INT(http(port, "GET", "/readyz", &b), 503);
    CHECK(strstr(b.buf, "producer") != NULL);
    sw_metrics_set_producer_ok(m, 1);
    sw_metrics_set_draining(m, 1);
    CHECK_INT(http(port, "GET", "/readyz", &b), 503);
    CHECK(strstr(b.buf, "draining") != NULL);
    CHECK_INT(http(port, "GET", "/healthz", &b), 200);
    /* A loop stalled past the bound is unhealthy. */
    sw_metrics_loop_turned(m, sw_now_mono_ms() - 5000);
    CHECK_INT(http(port, "GET", "/healthz", &b), 503);
    CHECK_INT(http(port, "POST", "/metrics", &b), 405);
    CHECK_INT(http(port, "GET", "/metrics/../etc", &b), 404);
    CHECK_INT(http(port, "GET", "/", &b), 404);
    sw_admin_stop(a);
    sw_admin_stop(NULL);
    sw_metrics_destroy(m);
}

static const char store_a[] =
    "{\"accounts\":{\"k\":{\"provider\":\"klaviyo\",\"credentials\":{\"api_key\":\"env:OPS_UNIT_"
    "KEY\"}}}}";
static const char store_b[] =
    "{\"accounts\":{\"k2\":{\"provider\":\"klaviyo\",\"credentials\":{\"api_key\":\"env:OPS_UNIT_"
    "KEY\"}},\"s\":{\"provider\":\"sendgrid\",\"credentials\":{\"api_key\":\"env:OPS_UNIT_KEY\"}}}"
    "}";
static const char store_bad_provider[] =
    "{\"accounts\":{\"x\":{\"provider\":\"nosuch\",\"credentials\":{\"api_key\":\"env:OPS_UNIT_"
    "KEY\"}}}}";

static int emit_nothing(void *arg, const struct sw_emit *em)
{
    (void)arg;
    (void)em;
    return 0;
}

static void test_accounts_reload(void)
{
    struct sw_status st;
    struct sw_accounts *a, *held;
    struct sw_registry reg;
    struct sw_config cfg;
    struct sw_loop loop;
    char path[] = "/tmp/sw-test-accounts-XXXXXX";
    int fd;
    FILE *f;

    setenv("OPS_UNIT_KEY", "unit-secret", 1);
    sw_status_clear(&st);
    sw_registry_init(&reg);
    CHECK(sw_adapters_load(&reg, NULL, &st) == 0);
    CHECK(sw_config_load(&cfg, NULL, &st) == 0);
    a = sw_accounts_parse(store_a, strlen(store_a), &st);
    CHECK(a != NULL && a->refs == 1);
    if (!a) {
        sw_registry_free(&reg);
        return;
    }
    CHECK(sw_loop_init(&loop, &cfg, &reg, a, emit_nothing, NULL) == 0);
    CHECK_INT(a->refs, 2);
    held = sw_accounts_ref(loop.eng.accounts); /* a run that started before the reload */
    fd = mkstemp(path);
    CHECK(fd >= 0);
    f = fdopen(fd, "w");
    fputs(store_bad_provider, f);
    fclose(f);
    sw_status_clear(&st);
    CHECK_INT(sw_loop_reload_accounts(&loop, path, &st), -1);
    CHECK(strstr(st.msg, "unknown provider nosuch") != NULL);
    CHECK(loop.eng.accounts == a); /* kept */
    f = fopen(path, "w");
    fputs(store_b, f);
    fclose(f);
    sw_status_clear(&st);
    CHECK_INT(sw_loop_reload_accounts(&loop, path, &st), 0);
    CHECK(loop.eng.accounts != a && loop.eng.accounts->n == 2);
    CHECK(sw_accounts_find(loop.eng.accounts, "k2") != NULL);
    /* The old store lives on for its holders: main's reference and the running job's. */
    CHECK_INT(a->refs, 2);
    CHECK_STR(sw_account_cred(sw_accounts_find(held, "k"), "api_key"), "unit-secret");
    sw_accounts_destroy(held);
    CHECK_INT(a->refs, 1);
    sw_loop_free(&loop);
    sw_accounts_destroy(a); /* the last reference: freed (ASan reports a leak otherwise) */
    unlink(path);
    sw_config_free(&cfg);
    sw_registry_free(&reg);
}

static const struct sw_test_case tests[] = {
    {"trace_parse", test_trace_parse},
    {"trace_child", test_trace_child},
    {"metrics_render_concurrent", test_metrics},
    {"metrics_label_escaping", test_metrics_escaping},
    {"admin_endpoints", test_admin},
    {"accounts_reload_refs", test_accounts_reload},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = sw_test_run(tests, argc > 1 ? argv[1] : NULL);
    curl_global_cleanup();
    return rc;
}
