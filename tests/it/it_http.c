/* The HTTP engine against segsim over loopback: requests past the per-host limit (fixed or
 * adaptive) wait in segworker's queue (in order, their timeout running) and never reach curl
 * before a slot frees.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_http.h"
#include "sw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kit_sim sim;

struct done {
    int called;
    long status;
    sw_err_t err;
    int ambiguous;
    char msg[256];
    int64_t at_ms;
};

static void on_done(void *arg, struct sw_http_resp *resp)
{
    struct done *d = arg;

    d->called++;
    d->status = resp->status;
    d->err = resp->transport_err;
    d->ambiguous = resp->ambiguous;
    snprintf(d->msg, sizeof(d->msg), "%s", resp->errmsg);
    d->at_ms = kit_now_ms();
    sw_http_resp_free(resp);
    free(resp);
}

static struct sw_http_xfer *get(struct sw_http *h, const char *id, long timeout_ms, struct done *d)
{
    struct sw_http_req req;
    struct sw_status st;
    struct sw_http_xfer *x;
    char url[256];

    sw_http_req_init(&req);
    sw_status_clear(&st);
    snprintf(req.method, sizeof(req.method), "GET");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/segments/%s", sim.port, id);
    req.url = strdup(url);
    sw_http_headers_add(&req.headers, "Authorization", "Klaviyo-API-Key sim-klaviyo-key", 1);
    sw_http_headers_add(&req.headers, "revision", "2025-04-15", 0);
    x = sw_http_submit(h, &req, timeout_ms, on_done, d, &st);
    sw_http_req_free(&req);
    return x;
}

static void run_until(struct sw_http *h, struct done *const *ds, int n, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + kit_deadline_ms(timeout_ms);

    while (kit_now_ms() < end) {
        int i, all = 1;

        for (i = 0; i < n; i++) {
            all = all && ds[i]->called;
        }
        if (all) {
            return;
        }
        sw_http_wait(h, NULL, 0, 20);
        sw_http_perform(h);
    }
}

/* An engine with the tests' settings and the given per-host limit. */
static struct sw_http *engine(long max_host_connections, int adaptive)
{
    struct sw_http_opts o;

    memset(&o, 0, sizeof(o));
    o.connect_timeout_ms = 5000;
    o.max_body_bytes = 1 << 20;
    o.max_headers = 100;
    o.max_host_connections = max_host_connections;
    o.adaptive = adaptive;
    return sw_http_create(&o);
}

/* One connection: B and C wait behind a 600 ms answer; B then succeeds, C's 200 ms timeout
 * passes while it waits, and D (cancelled while waiting) never calls back. */
static void test_wait_for_slot(void)
{
    struct sw_http *h;
    struct done a, b, c, dd;
    struct done *all[] = {&a, &b, &c};
    struct sw_http_xfer *xd;
    int64_t t0 = kit_now_ms();
    char slow[64];

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    memset(&dd, 0, sizeof(dd));
    h = engine(1, 0);
    CHECK(h != NULL);
    if (!h) {
        return;
    }
    snprintf(slow, sizeof(slow), "sim-slow-600-%lld", (long long)t0);
    CHECK(get(h, slow, 10000, &a) != NULL);
    CHECK(get(h, "AmOy43", 10000, &b) != NULL);
    CHECK(get(h, "ED0lpI", 200, &c) != NULL);
    xd = get(h, "HdcZaX", 10000, &dd);
    CHECK(xd != NULL);
    sw_http_cancel(h, xd);
    run_until(h, all, 3, 15000);
    CHECK_INT(a.called, 1);
    CHECK_INT(a.status, 200);
    CHECK_INT(b.called, 1);
    CHECK_INT(b.err, SW_E_OK);
    CHECK_INT(b.status, 200);
    CHECK(b.at_ms >= a.at_ms); /* it waited for A's connection */
    CHECK_INT(c.called, 1);
    CHECK_INT(c.err, SW_E_TIMEOUT);
    CHECK_INT(c.ambiguous, 0); /* never sent */
    CHECK(strstr(c.msg, "free connection") != NULL);
    CHECK(c.at_ms < a.at_ms); /* it ended while A still held the only connection */
    CHECK_INT(dd.called, 0);
    CHECK_INT(sw_http_active(h), 0);
    sw_http_destroy(h);
}

/* Without a limit nothing waits: three slow answers overlap. */
static void test_no_wait_without_limit(void)
{
    struct sw_http *h;
    struct done d[3];
    struct done *all[] = {&d[0], &d[1], &d[2]};
    int64_t t0 = kit_now_ms();
    int i;

    memset(d, 0, sizeof(d));
    h = engine(0, 0);
    CHECK(h != NULL);
    if (!h) {
        return;
    }
    for (i = 0; i < 3; i++) {
        char id[64];

        snprintf(id, sizeof(id), "sim-slow-500-%lld-%d", (long long)t0, i);
        CHECK(get(h, id, 10000, &d[i]) != NULL);
    }
    run_until(h, all, 3, 15000);
    for (i = 0; i < 3; i++) {
        CHECK_INT(d[i].status, 200);
    }
    CHECK(kit_now_ms() - t0 < 1400); /* in parallel, not 3 x 500 ms */
    sw_http_destroy(h);
}

/* Adaptive limits start at four per host: of eight slow requests sent at once, the last four
 * wait for the first answers, then take at least the simulator's delay themselves. All eight
 * succeed. */
static void test_adaptive_starts_small(void)
{
    struct sw_http *h;
    struct done d[8];
    struct done *all[8];
    int64_t t0 = kit_now_ms();
    int64_t first = 0;
    char slow[64];
    int i;

    memset(d, 0, sizeof(d));
    h = engine(64, 1);
    CHECK(h != NULL);
    if (!h) {
        return;
    }
    for (i = 0; i < 8; i++) {
        all[i] = &d[i];
        snprintf(slow, sizeof(slow), "sim-slow-300-%lld%d", (long long)t0, i);
        CHECK(get(h, slow, 20000, &d[i]) != NULL);
    }
    run_until(h, all, 8, 20000);
    for (i = 0; i < 8; i++) {
        CHECK_INT(d[i].called, 1);
        CHECK_INT(d[i].status, 200);
        if (i < 4 && (!first || d[i].at_ms < first)) {
            first = d[i].at_ms;
        }
    }
    for (i = 4; i < 8; i++) {
        CHECK(d[i].at_ms >= first + 250); /* started after an answer came back */
    }
    sw_http_destroy(h);
}

static const struct sw_test_case tests[] = {
    {"wait_for_slot", test_wait_for_slot},
    {"no_wait_without_limit", test_no_wait_without_limit},
    {"adaptive_starts_small", test_adaptive_starts_small},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    struct kit_args a;
    int rc;

    if (kit_parse_args(argc, argv, "it_http", &a) != 0) {
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (kit_sim_start(&sim, &a, NULL) != 0) {
        fprintf(stderr, "the simulator did not start\n");
        return 1;
    }
    rc = sw_test_run(tests, getenv("SW_TEST_ONLY"));
    if (kit_sim_stop(&sim) != 0) {
        fprintf(stderr, "the simulator did not exit cleanly\n");
        rc = 1;
    }
    curl_global_cleanup();
    return rc;
}
