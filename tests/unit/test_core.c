/* Unit tests of the engine's small modules: time, JSON helpers, URLs, timers, offsets, retry
 * timing and classification, buffers, the arena parser and the JSON writer.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_test.h"

#include "sw_alloc.h"
#include "sw_buf.h"
#include "sw_classify.h"
#include "sw_climit.h"
#include "sw_http.h"
#include "sw_jdoc.h"
#include "sw_json.h"
#include "sw_jw.h"
#include "sw_offsets.h"
#include "sw_ops.h"
#include "sw_redact.h"
#include "sw_retry.h"
#include "sw_time.h"
#include "sw_timer.h"
#include "sw_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_time_parse(void)
{
    int64_t ms = 0;
    char buf[40];

    CHECK(sw_time_parse("2026-07-01T22:36:54+00:00", &ms) == 0);
    sw_time_format(ms, 1, buf, sizeof(buf));
    CHECK_STR(buf, "2026-07-01T22:36:54Z");
    CHECK(sw_time_parse("2026-07-01T22:36:54+02:00", &ms) == 0);
    sw_time_format(ms, 1, buf, sizeof(buf));
    CHECK_STR(buf, "2026-07-01T20:36:54Z");
    CHECK(sw_time_parse("2026-07-01T22:36:54.123456+00:00", &ms) == 0);
    sw_time_format(ms, 1, buf, sizeof(buf));
    CHECK_STR(buf, "2026-07-01T22:36:54.123Z");
    CHECK(sw_time_parse("2026-01-01T00:30:00-0130", &ms) == 0);
    sw_time_format(ms, 1, buf, sizeof(buf));
    CHECK_STR(buf, "2026-01-01T02:00:00Z");
    CHECK(sw_time_parse("1970-01-01T00:00:00Z", &ms) == 0);
    CHECK_INT(ms, 0);
    CHECK(sw_time_parse("2024-02-29", &ms) == 0);
    CHECK_INT(ms, 1709164800000LL);
    CHECK(sw_time_parse("2026-13-01T00:00:00Z", &ms) != 0);
    CHECK(sw_time_parse("yesterday", &ms) != 0);
    CHECK(sw_time_parse("2026-01-01T00:00:00Zjunk", &ms) != 0);
    CHECK(sw_time_parse_http("Wed, 21 Oct 2015 07:28:00 GMT", &ms) == 0);
    CHECK_INT(ms, 1445412480000LL);
    CHECK(sw_time_parse_http("soon", &ms) != 0);
    CHECK(sw_time_parse_http("1Oct310010300", &ms) != 0); /* year 310010300: fuzz_url found it */
}

static void test_time_format_edges(void)
{
    char buf[40];

    sw_time_format(0, 1, buf, sizeof(buf));
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    sw_time_format(-1, 1, buf, sizeof(buf));
    CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
    sw_time_format(-1, 0, buf, sizeof(buf));
    CHECK_STR(buf, "1969-12-31T23:59:59Z");
    sw_time_format(951782400000LL, 1, buf, sizeof(buf)); /* leap day of a year divisible by 400 */
    CHECK_STR(buf, "2000-02-29T00:00:00Z");
    sw_time_format(4107456000123LL, 1, buf, sizeof(buf)); /* 2100 is no leap year */
    CHECK_STR(buf, "2100-02-28T00:00:00.123Z");
    sw_time_format(4107542400000LL, 1, buf, sizeof(buf));
    CHECK_STR(buf, "2100-03-01T00:00:00Z");
    sw_time_format(-62167219200000LL, 1, buf, sizeof(buf));
    CHECK_STR(buf, "0000-01-01T00:00:00Z");
    sw_time_format(253402300799999LL, 1, buf, sizeof(buf));
    CHECK_STR(buf, "9999-12-31T23:59:59.999Z");
    sw_time_format(253402300800000LL, 1, buf, sizeof(buf)); /* past 9999: the gmtime_r path */
    CHECK_STR(buf, "10000-01-01T00:00:00Z");
}

static void test_json_depth_strings(void)
{
    const char *a = "[\"\\\\\",[1]]";  /* a string holding one backslash, then an array */
    const char *b = "[\"\\\"[[\"]";    /* an escaped quote inside the string */
    const char *c = "[\"\\\\\\\"[\"]"; /* three backslashes: the quote is escaped */
    const char *d = "[[\"open";        /* unterminated: the parser refuses it later */

    CHECK_INT(sw_json_depth(a, strlen(a)), 2);
    CHECK_INT(sw_json_depth(b, strlen(b)), 1);
    CHECK_INT(sw_json_depth(c, strlen(c)), 1);
    CHECK_INT(sw_json_depth(d, strlen(d)), 2);
}

/* cJSON through the small-object cache (a no-op under sanitizers): every size class and a large
 * block, freed and reused several times, must round-trip unchanged. */
static void test_alloc_cache_roundtrip(void)
{
    static const size_t sizes[] = {1, 15, 40, 100, 230, 241, 1000, 70000};
    int round;
    size_t i;

    sw_alloc_install();
    for (round = 0; round < 3; round++) {
        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            char *text = malloc(sizes[i] + 16);
            char *val = malloc(sizes[i] + 1);
            char *out;
            cJSON *o;

            CHECK(text != NULL && val != NULL);
            if (!text || !val) {
                free(text);
                free(val);
                return;
            }
            memset(val, 'a' + (int)i, sizes[i]);
            val[sizes[i]] = '\0';
            snprintf(text, sizes[i] + 16, "{\"k\":[\"%s\",%d]}", val, round);
            o = cJSON_Parse(text);
            CHECK(o != NULL);
            out = o ? cJSON_PrintUnformatted(o) : NULL;
            CHECK(out != NULL && !strcmp(out, text));
            cJSON_free(out);
            cJSON_Delete(o);
            free(text);
            free(val);
        }
    }
    sw_alloc_release();
}

static void test_json_pointer_and_depth(void)
{
    const char *doc = "{\"a\":{\"b/c\":[1,{\"d~e\":\"x\"}]},\"s\":\"[[[\"}";
    char err[128];
    cJSON *root = sw_json_parse(doc, strlen(doc), 8, err, sizeof(err));
    const cJSON *v;

    CHECK(root != NULL);
    v = sw_json_pointer(root, "/a/b~1c/1/d~0e");
    CHECK(cJSON_IsString(v) && !strcmp(v->valuestring, "x"));
    CHECK(sw_json_pointer(root, "/a/b~1c/7") == NULL);
    CHECK(sw_json_pointer(root, "") == root);
    CHECK_INT(sw_json_depth(doc, strlen(doc)), 4); /* brackets inside strings do not count */
    cJSON_Delete(root);
    CHECK(sw_json_parse("[[[[1]]]]", 9, 3, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "depth") != NULL);
    CHECK(sw_json_parse("{\"a\":1} x", 9, 8, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "trailing") != NULL);
    CHECK(sw_json_parse("{\"a\":", 5, 8, err, sizeof(err)) == NULL);
}

static void test_url_encode_and_rebase(void)
{
    struct sw_buf b;
    struct sw_status st;
    char *out = NULL;

    sw_buf_init(&b, 1024);
    sw_url_encode(&b, "a b/../c?d=e&f#g\r\n");
    CHECK_STR(b.data, "a%20b%2F..%2Fc%3Fd%3De%26f%23g%0D%0A");
    sw_buf_reset(&b);
    sw_buf_appends(&b, "http://h/api");
    sw_url_add_query(&b, "page[size]", "10");
    sw_url_add_query(&b, "filter", "equals(name,\"x\")");
    CHECK_STR(b.data, "http://h/api?page%5Bsize%5D=10&filter=equals%28name%2C%22x%22%29");
    sw_buf_free(&b);

    sw_status_clear(&st);
    CHECK(sw_url_rebase("http://127.0.0.1:9",
                        "https://a.klaviyo.com/api/segments?page%5Bcursor%5D=x", &out,
                        &st) == SW_E_OK);
    CHECK_STR(out, "http://127.0.0.1:9/api/segments?page%5Bcursor%5D=x");
    free(out);
    CHECK(sw_url_rebase("http://gw:8080/klaviyo", "https://a.klaviyo.com/api/segments?x=1", &out,
                        &st) == SW_E_OK);
    CHECK_STR(out, "http://gw:8080/klaviyo/api/segments?x=1");
    free(out);
    /* A link that already carries the gateway prefix is not prefixed twice. */
    CHECK(sw_url_rebase("http://gw:8080/klaviyo", "http://gw:8080/klaviyo/api/segments?x=1", &out,
                        &st) == SW_E_OK);
    CHECK_STR(out, "http://gw:8080/klaviyo/api/segments?x=1");
    free(out);
    CHECK(sw_url_rebase("http://h", "/api/segments", &out, &st) == SW_E_OK);
    CHECK_STR(out, "http://h/api/segments");
    free(out);
    CHECK(sw_url_rebase("http://h", "https://evil/api/../admin", &out, &st) ==
          SW_E_RESPONSE_INVALID);
    CHECK(out == NULL);
    CHECK(sw_url_rebase("http://h", "/api/%2e%2E/admin", &out, &st) == SW_E_RESPONSE_INVALID);
    CHECK(sw_url_rebase("http://h", "/api/a%2Fb", &out, &st) == SW_E_RESPONSE_INVALID);
    CHECK(sw_url_rebase("http://h", "//evil/api", &out, &st) == SW_E_RESPONSE_INVALID);
    CHECK(sw_url_rebase("http://h", "/api\r\nX: y", &out, &st) == SW_E_RESPONSE_INVALID);
    CHECK(sw_url_rebase("http://h", "javascript:alert(1)", &out, &st) == SW_E_RESPONSE_INVALID);
}

/* What a job may put into one path segment: ids yes; anything a gateway could turn into a
 * traversal, a query or a second request no, in whichever encoding. */
static void test_url_segment_rule(void)
{
    static const char *const ok[] = {"AmOy43", "seg_1", "a b", "%",           "100%", "a%zz",
                                     "%2",     "...",   "x.y", "caf\xc3\xa9", NULL};
    static const struct {
        const char *v;
        const char *why;
    } bad[] = {
        {"", "must not be empty"},
        {".", "must not be \".\" or \"..\""},
        {"..", "must not be \".\" or \"..\""},
        {"a/b", "contains '/'"},
        {"a\\b", "contains '\\'"},
        {"a?b=c", "contains '?'"},
        {"#frag", "contains '#'"},
        {"x\r\nHost: evil", "contains a control character"},
        {"a\tb", "contains a control character"},
        {"a\x7f", "contains a control character"},
        {"%2e%2E", "decodes to \".\" or \"..\""},
        {".%2e", "decodes to \".\" or \"..\""},
        {"a%2Fb", "holds an encoded '/'"},
        {"a%252Fb", "holds an encoded '/'"},   /* a gateway that decodes twice */
        {"a%25252fb", "holds an encoded '/'"}, /* three times */
        {"%5c..%5c", "holds an encoded '\\'"},
        {"a%3Fb", "holds an encoded '?'"},
        {"a%23b", "holds an encoded '#'"},
        {"x%0d%0aX: 1", "holds an encoded control character"},
        {"x%00", "holds an encoded control character"},
        {NULL, NULL},
    };
    char big[600];
    int i;

    for (i = 0; ok[i]; i++) {
        const char *why = sw_url_segment_why(ok[i]);

        if (why) {
            fprintf(stderr, "\"%s\" refused: %s\n", ok[i], why);
        }
        CHECK(why == NULL);
    }
    for (i = 0; bad[i].v; i++) {
        const char *why = sw_url_segment_why(bad[i].v);

        CHECK(why != NULL);
        CHECK_STR(why ? why : "(accepted)", bad[i].why);
    }
    memset(big, 'a', sizeof(big));
    big[SW_URL_MAX_SEGMENT] = '\0';
    CHECK(sw_url_segment_why(big) == NULL);
    big[SW_URL_MAX_SEGMENT] = 'a';
    big[SW_URL_MAX_SEGMENT + 1] = '\0';
    CHECK_STR(sw_url_segment_why(big), "is longer than 512 bytes");
}

/* Redaction: the account's secrets anywhere, credential values after their names in the forms
 * providers echo them (header lines, query strings, JSON), and never twice. */
static void test_redact(void)
{
    static char key[] = "api_key", val[] = "s3cr3t-KEY", ref[] = "env:X";
    struct sw_credential cred = {key, val, ref};
    struct sw_account acct = {0};
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"nothing here", "nothing here"},
        {"key s3cr3t-KEY echoed", "key [redacted] echoed"},
        {"Authorization: Bearer abc.def (sent)", "Authorization: [redacted] (sent)"},
        {"authorization=Basic Zm9v", "authorization=[redacted]"},
        {"Cookie: a=1; session=xyz\r\nNext: 1", "Cookie: [redacted]\r\nNext: 1"},
        {"Set-Cookie: sid=1", "Set-Cookie: [redacted]"},
        {"?api_key=abc&x=1", "?api_key=[redacted]&x=1"},
        {"{\"api_key\":\"abc\",\"x\":1}", "{\"api_key\":\"[redacted]\",\"x\":1}"},
        {"X-Api-Key: k1", "X-Api-Key: [redacted]"},
        {"apikey is missing", "apikey is missing"},
        {"a \\\"cookie\\\": \\\"q\\\"", "a \\\"cookie\\\": \\\"[redacted]\\\""},
        {NULL, NULL},
    };
    char buf[256], twice[256];
    cJSON *j;
    char *text;
    int i;

    acct.creds = &cred;
    acct.ncreds = 1;
    for (i = 0; cases[i].in; i++) {
        snprintf(buf, sizeof(buf), "%s", cases[i].in);
        CHECK_INT(sw_redact_buf(buf, sizeof(buf), &acct), strcmp(cases[i].in, cases[i].out) != 0);
        CHECK_STR(buf, cases[i].out);
        snprintf(twice, sizeof(twice), "%s", buf);
        CHECK_INT(sw_redact_buf(twice, sizeof(twice), &acct), 0);
        CHECK_STR(twice, buf);
    }
    /* Cut to fit: a short buffer holds a prefix, never the secret. */
    snprintf(buf, sizeof(buf), "%s", "xx s3cr3t-KEY");
    sw_redact_buf(buf, 8, &acct);
    CHECK_STR(buf, "xx [red");
    CHECK(strstr(buf, "s3cr3t") == NULL);
    /* JSON: string values anywhere, and a member named like a credential whatever it holds. */
    j = cJSON_Parse("{\"errors\":[{\"detail\":\"key s3cr3t-KEY\"}],\"Authorization\":\"anything\","
                    "\"n\":1}");
    CHECK_INT(sw_redact_json(j, &acct), 0);
    text = cJSON_PrintUnformatted(j);
    CHECK_STR(text ? text : "(null)", "{\"errors\":[{\"detail\":\"key [redacted]\"}],"
                                      "\"Authorization\":\"[redacted]\",\"n\":1}");
    cJSON_free(text);
    cJSON_Delete(j);
    CHECK_INT(sw_redact_json(NULL, &acct), 0);
}

static int fired[8];
static int nfired;

static void on_timer(void *arg)
{
    fired[nfired++] = (int)(intptr_t)arg;
}

static void test_timer_heap(void)
{
    struct sw_timers ts;
    struct sw_timer t[5];
    int i;

    sw_timers_init(&ts);
    for (i = 0; i < 5; i++) {
        sw_timer_init(&t[i]);
    }
    nfired = 0;
    sw_timers_add(&ts, &t[0], 50, on_timer, (void *)(intptr_t)0);
    sw_timers_add(&ts, &t[1], 10, on_timer, (void *)(intptr_t)1);
    sw_timers_add(&ts, &t[2], 30, on_timer, (void *)(intptr_t)2);
    sw_timers_add(&ts, &t[3], 30, on_timer, (void *)(intptr_t)3);
    sw_timers_add(&ts, &t[4], 20, on_timer, (void *)(intptr_t)4);
    sw_timers_cancel(&ts, &t[4]);
    CHECK(!sw_timer_armed(&t[4]));
    CHECK_INT(sw_timers_next_in(&ts, 0), 10);
    CHECK_INT(sw_timers_run(&ts, 30), 3);
    CHECK_INT(nfired, 3);
    CHECK_INT(fired[0], 1);
    CHECK_INT(fired[1], 2); /* equal deadlines fire in arming order */
    CHECK_INT(fired[2], 3);
    sw_timers_add(&ts, &t[0], 5, on_timer, (void *)(intptr_t)0); /* re-arm moves it */
    CHECK_INT(sw_timers_run(&ts, 40), 1);
    CHECK_INT(sw_timers_next_in(&ts, 40), -1);
    sw_timers_free(&ts);
}

static void test_offsets_contiguous(void)
{
    struct sw_offsets o;
    struct sw_partition_ledger *l;
    int64_t off;

    sw_offsets_init(&o);
    l = sw_offsets_get(&o, "jobs", 0, 1);
    CHECK(l != NULL);
    for (off = 10; off < 200; off += 2) { /* gaps, as compaction or markers leave them */
        CHECK(sw_ledger_track(l, off) == 0);
    }
    CHECK_INT(sw_ledger_done(l, 14), 0); /* out of order: nothing committable yet */
    CHECK_INT(l->committable, -1);
    CHECK_INT(sw_ledger_done(l, 12), 0);
    CHECK_INT(sw_ledger_done(l, 10), 1);
    CHECK_INT(l->committable, 15); /* 10, 12, 14 done: resume at 15 */
    CHECK_INT(sw_ledger_done(l, 11), -1);
    CHECK_INT(sw_ledger_in_flight(l), 92);
    for (off = 198; off >= 16; off -= 2) {
        sw_ledger_done(l, off);
    }
    CHECK_INT(l->committable, 199);
    CHECK_INT(sw_ledger_in_flight(l), 0);
    sw_offsets_drop(&o, "jobs", 0);
    CHECK(sw_offsets_get(&o, "jobs", 0, 0) == NULL);
    sw_offsets_free(&o);
}

static void test_retry_classification(void)
{
    static const struct {
        long status;
        sw_err_t code;
        sw_class_t cls;
    } table[] = {
        {200, SW_E_OK, SW_CLASS_OK},
        {204, SW_E_OK, SW_CLASS_OK},
        {400, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL},
        {422, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL},
        {401, SW_E_AUTH_FAILED, SW_CLASS_TERMINAL},
        {403, SW_E_FORBIDDEN, SW_CLASS_TERMINAL},
        {404, SW_E_NOT_FOUND, SW_CLASS_TERMINAL},
        {409, SW_E_CONFLICT, SW_CLASS_TERMINAL},
        {410, SW_E_PROVIDER_ERROR, SW_CLASS_TERMINAL},
        {408, SW_E_TIMEOUT, SW_CLASS_RETRY},
        {425, SW_E_PROVIDER_ERROR, SW_CLASS_RETRY},
        {429, SW_E_RATE_LIMITED, SW_CLASS_RETRY},
        {500, SW_E_PROVIDER_ERROR, SW_CLASS_RETRY},
        {502, SW_E_PROVIDER_ERROR, SW_CLASS_RETRY},
        {503, SW_E_PROVIDER_ERROR, SW_CLASS_RETRY},
        {504, SW_E_PROVIDER_ERROR, SW_CLASS_RETRY},
        {501, SW_E_PROVIDER_ERROR, SW_CLASS_TERMINAL},
    };
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct sw_verdict v = sw_classify_http(table[i].status, 1);

        CHECK_INT(v.code, table[i].code);
        CHECK_INT(v.cls, table[i].cls);
        CHECK_INT(v.dead_letter, 0); /* the provider's verdict is an answer, not poison */
    }
    CHECK(sw_classify_transport(SW_E_TIMEOUT, 1, 0).cls == SW_CLASS_TERMINAL);
    CHECK(sw_classify_transport(SW_E_TIMEOUT, 1, 1).cls == SW_CLASS_RETRY);
    CHECK(sw_classify_transport(SW_E_NETWORK_ERROR, 0, 0).cls == SW_CLASS_RETRY);
    CHECK(sw_classify_transport(SW_E_CONFIG, 0, 0).code == SW_E_NETWORK_ERROR);
    CHECK(sw_classify_transport(SW_E_RESULT_TOO_LARGE, 1, 1).dead_letter);
    /* A write that may have happened (500, 502, 504, 408) is not repeated unless safe. */
    CHECK(sw_classify_http(500, 1).ambiguous && sw_classify_http(504, 1).ambiguous);
    CHECK(!sw_classify_http(503, 1).ambiguous && !sw_classify_http(429, 1).ambiguous);
    CHECK(sw_classify_http(500, 0).cls == SW_CLASS_TERMINAL);
    CHECK(sw_classify_http(503, 0).cls == SW_CLASS_RETRY);
    /* A refused login is auth_failed, whatever it said, unless it may pass. */
    CHECK(sw_classify_login(403, SW_E_OK).code == SW_E_AUTH_FAILED);
    CHECK(sw_classify_login(429, SW_E_OK).code == SW_E_RATE_LIMITED);
    CHECK(sw_classify_login(503, SW_E_OK).cls == SW_CLASS_RETRY);
    CHECK(sw_classify_login(0, SW_E_NETWORK_ERROR).cls == SW_CLASS_RETRY);
    /* The worker's own findings about a job are dead-letter worthy; outages are not. */
    CHECK(sw_classify_ours(SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL).dead_letter);
    CHECK(sw_classify_ours(SW_E_UNKNOWN_ACCOUNT, SW_CLASS_TERMINAL).dead_letter);
    CHECK(!sw_classify_ours(SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL).dead_letter);
    CHECK(!sw_classify_ours(SW_E_NOMEM, SW_CLASS_RETRY).dead_letter);
}

static void test_backoff_full_jitter(void)
{
    uint64_t rng = 42;
    int64_t lo = 1 << 30, hi = -1;
    int distinct = 0;
    int64_t prev = -1;
    int i;

    for (i = 0; i < 2000; i++) {
        int64_t w = sw_retry_backoff_ms(4, 100, 30000, &rng);

        CHECK(w >= 0 && w <= 800);
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
        distinct += w != prev;
        prev = w;
    }
    /* Full jitter spreads waits over the whole window, not around one value. */
    CHECK(lo < 80 && hi > 720);
    CHECK(distinct > 1500);
    for (i = 0; i < 100; i++) {
        CHECK(sw_retry_backoff_ms(40, 100, 5000, &rng) <= 5000); /* capped, no overflow */
    }
}

static void test_retry_after_hints(void)
{
    struct sw_http_headers h;
    int64_t wait = -1;
    const struct sw_retry_hint hints[] = {
        {"Retry-After", SW_HINT_DELTA_OR_DATE, {0}, 0},
        {"X-RateLimit-Reset", SW_HINT_EPOCH_SECONDS, {429}, 1},
    };

    memset(&h, 0, sizeof(h));
    CHECK(sw_retry_hint_ms(&h, NULL, 0, 429, 0, &wait) == 0);
    sw_http_headers_add(&h, "retry-after", "7", 0);
    CHECK(sw_retry_hint_ms(&h, NULL, 0, 429, 0, &wait) == 1);
    CHECK_INT(wait, 7000);
    sw_http_headers_free(&h);
    sw_http_headers_add(&h, "Retry-After", "Wed, 21 Oct 2015 07:28:10 GMT", 0);
    CHECK(sw_retry_hint_ms(&h, hints, 2, 503, 1445412480000LL, &wait) == 1);
    CHECK_INT(wait, 10000);
    sw_http_headers_free(&h);
    sw_http_headers_add(&h, "X-RateLimit-Reset", "1445412490", 0);
    CHECK(sw_retry_hint_ms(&h, hints, 2, 429, 1445412480000LL, &wait) == 1);
    CHECK_INT(wait, 10000);
    CHECK(sw_retry_hint_ms(&h, hints, 2, 503, 1445412480000LL, &wait) == 0); /* only on 429 */
    sw_http_headers_free(&h);
}

static void test_buf_bounded(void)
{
    struct sw_buf b;

    sw_buf_init(&b, 8);
    CHECK(sw_buf_appends(&b, "12345") == 0);
    CHECK(sw_buf_appends(&b, "6789") == -1);
    CHECK(b.overflow);
    CHECK_INT(b.len, 5); /* nothing partial was appended */
    CHECK(sw_buf_printf(&b, "%d", 123) == 0);
    CHECK_STR(b.data, "12345123");
    sw_buf_free(&b);
}

/* The one operation list (sw_ops.h) and the job schema name the same operations, in order. */
static void test_ops_match_job_schema(void)
{
    const char *dir = getenv("SW_SCHEMAS_DIR");
    char path[4096];
    FILE *f;
    char *text;
    long n;
    cJSON *doc;
    const cJSON *ops;
    const cJSON *c;
    int i = 0;

    CHECK(dir != NULL); /* set by ctest (tests/CMakeLists.txt) */
    if (!dir) {
        return;
    }
    snprintf(path, sizeof(path), "%s/job.schema.json", dir);
    f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) {
        return;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = calloc(1, (size_t)n + 1);
    CHECK(text && fread(text, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    doc = text ? cJSON_Parse(text) : NULL;
    ops = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "properties"),
                                         "operation"),
        "enum");
    CHECK_INT(cJSON_GetArraySize(ops), SW_OP__COUNT);
    cJSON_ArrayForEach(c, ops)
    {
        CHECK_STR(c->valuestring, sw_op_name((enum sw_op_id)i));
        CHECK_INT(sw_op_from_name(c->valuestring), i);
        i++;
    }
    CHECK_INT(sw_op_from_name("segments.frobnicate"), SW_OP__COUNT);
    CHECK(sw_op_name(SW_OP__COUNT) == NULL);
    cJSON_Delete(doc);
    free(text);
}

/* The arena parser and the writer give cJSON's bytes: a text parsed both ways and printed both
 * ways is the same text, and a refused text gets sw_json_parse's message. */
static void test_jdoc_jw_match_cjson(void)
{
    static const char *const texts[] = {
        "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\\u00e9\\ud83d\\ude00\\n\\\"\"}",
        "[1.5,-0,1e300,-2.5e-7,123456789012345678,0.1,3.141592653589793]",
        "  {\"k\\\\\":\"\\b\\f\\r\\t\\/\",\"e\":{},\"f\":[]}  ",
        "\"\\u0001\\u001f\"",
        /* escapes past the first eight bytes, where the writer scans words, not bytes */
        "{\"long\":\"0123456789abcdef\\\"0123456789\\\\abcdefgh\\u001f\",\"\\u00ff\":\"\\u00ff\"}",
        "\xEF\xBB\xBF{\"bom\":1}",
        "{\"a\":1} x",
        "{\"a\":",
        "[[[[[[1]]]]]]",
        "{\"bad\":\"\\q\"}",
        "tru",
    };
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const char *t = texts[i];
        char e1[128];
        char e2[128];
        struct sw_jdoc doc;
        struct sw_jw w;
        cJSON *slow = sw_json_parse(t, strlen(t), 4, e1, sizeof(e1));
        cJSON *fast;
        char *want;
        int nomem = 0;

        sw_jdoc_init(&doc, 0);
        fast = sw_jdoc_parse(&doc, t, strlen(t), 4, e2, sizeof(e2), &nomem);
        CHECK(!slow == !fast);
        CHECK_INT(nomem, 0);
        if (!slow) {
            CHECK_STR(e2, e1);
            sw_jdoc_free(&doc);
            continue;
        }
        want = cJSON_PrintUnformatted(slow);
        sw_jw_init(&w, 1 << 16);
        sw_jw_cjson(&w, fast);
        CHECK_INT(sw_jw_error(&w), SW_E_OK);
        CHECK_STR(w.b.data, want);
        sw_jw_free(&w);
        cJSON_free(want);
        cJSON_Delete(slow);
        sw_jdoc_free(&doc);
    }
}

/* The writer's commas and its bound: past the maximum it stops, says so, and stays stopped. */
static void test_jw_commas_and_bound(void)
{
    struct sw_jw w;

    sw_jw_init(&w, 64);
    sw_jw_obj(&w);
    sw_jw_key(&w, "a");
    sw_jw_int(&w, -42);
    sw_jw_key(&w, "b");
    sw_jw_arr(&w);
    sw_jw_str(&w, "q\"");
    sw_jw_num(&w, 0.5);
    sw_jw_raw(&w, "{}", 2);
    sw_jw_arr_end(&w);
    sw_jw_key(&w, "c");
    sw_jw_strn(&w, "a\0b", 3);
    sw_jw_obj_end(&w);
    CHECK_INT(sw_jw_error(&w), SW_E_OK);
    CHECK_STR(w.b.data, "{\"a\":-42,\"b\":[\"q\\\"\",0.5,{}],\"c\":\"a\\u0000b\"}");
    sw_jw_reset(&w, 1024);
    sw_jw_str(&w, "0123456789012345678901234567890123456789012345678901234567890123456789");
    CHECK_INT(sw_jw_error(&w), SW_E_RESULT_TOO_LARGE);
    sw_jw_null(&w);
    CHECK_INT(sw_jw_error(&w), SW_E_RESULT_TOO_LARGE);
    CHECK(w.b.len <= 64);
    sw_jw_free(&w);
}

/* The adaptive per-host limit: slow start while answers stay fast, growth held while they slow
 * down, a cut when the host refuses (once per round trip), bounds kept, no growth while
 * under-used. */
static void test_climit_adapts(void)
{
    struct sw_climit c;
    int64_t now = 1000000;
    double held;
    int i;

    sw_climit_init(&c, 4, 64);
    CHECK_INT(sw_climit_get(&c), 4);
    for (i = 0; i < 20; i++) {
        sw_climit_sample(&c, now += 100, 300, 0, sw_climit_get(&c));
    }
    CHECK_INT(sw_climit_get(&c), 24); /* one more per answer: doubling per round trip */
    /* A 429 cuts; the same round trip's other refusals do not cut again. */
    sw_climit_sample(&c, now += 100, 300, 1, 24);
    CHECK_INT(sw_climit_get(&c), 16); /* 24 * 0.7 */
    sw_climit_sample(&c, now += 100, 300, 1, 16);
    CHECK_INT(sw_climit_get(&c), 16);
    /* Answers two hundred times slower than usual: requests may queue at the host. The limit
     * holds, it neither grows nor shrinks. */
    for (i = 0; i < 4; i++) {
        sw_climit_sample(&c, now += 100, 60000, 0, 16);
    }
    held = c.limit;
    for (i = 0; i < 10; i++) {
        sw_climit_sample(&c, now += 100, 60000, 0, sw_climit_get(&c));
    }
    CHECK(c.limit == held);
    CHECK_INT(sw_climit_get(&c), 16);
    /* A host that is slow but steady is not queueing: its latency becomes the norm, and the
     * limit grows again, about one per round trip's worth of answers. */
    for (i = 0; i < 2000; i++) {
        sw_climit_sample(&c, now += 100, i % 2 ? 40000 : 30000, 0, sw_climit_get(&c));
    }
    CHECK_INT(sw_climit_get(&c), 64); /* grown to the maximum, not past it */
    sw_climit_sample(&c, now += 100000, 300, 1, 64);
    CHECK_INT(sw_climit_get(&c), 44);
    /* A host asked for less than the limit gives no reason to grow. */
    for (i = 0; i < 1000; i++) {
        sw_climit_sample(&c, now += 100, 35000, 0, 3);
    }
    CHECK_INT(sw_climit_get(&c), 44);
    /* However much it is refused, one request may still go. */
    for (i = 0; i < 100; i++) {
        sw_climit_sample(&c, now += 1000000, 300, 1, 1);
    }
    CHECK_INT(sw_climit_get(&c), 1);
    sw_climit_init(&c, 4, 2);
    CHECK_INT(sw_climit_get(&c), 2);
}

static const struct sw_test_case tests[] = {
    {"ops_match_job_schema", test_ops_match_job_schema},
    {"time_parse", test_time_parse},
    {"time_format_edges", test_time_format_edges},
    {"json_depth_strings", test_json_depth_strings},
    {"alloc_cache_roundtrip", test_alloc_cache_roundtrip},
    {"json_pointer_and_depth", test_json_pointer_and_depth},
    {"url_encode_and_rebase", test_url_encode_and_rebase},
    {"url_segment_rule", test_url_segment_rule},
    {"redact", test_redact},
    {"timer_heap", test_timer_heap},
    {"offsets_contiguous", test_offsets_contiguous},
    {"retry_classification", test_retry_classification},
    {"backoff_full_jitter", test_backoff_full_jitter},
    {"retry_after_hints", test_retry_after_hints},
    {"buf_bounded", test_buf_bounded},
    {"jdoc_jw_match_cjson", test_jdoc_jw_match_cjson},
    {"jw_commas_and_bound", test_jw_commas_and_bound},
    {"climit_adapts", test_climit_adapts},
    {NULL, NULL},
};

TEST_MAIN(tests)
