/* Unit tests of everything that reads outside input: jobs, the account store, configuration.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_test.h"

#include "sw_accounts.h"
#include "sw_config.h"
#include "sw_job.h"
#include "sw_parked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct sw_job_limits lim = {4096, 16, 256};

#define DEEP   "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"
#define PAD10  "0123456789"
#define PAD100 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10
#define PAD300 PAD100 PAD100 PAD100

static sw_err_t parse(const char *text, struct sw_job **job, struct sw_status *st)
{
    sw_status_clear(st);
    return sw_job_parse(text, strlen(text), &lim, job, st);
}

static void test_job_valid(void)
{
    struct sw_job *job = NULL;
    struct sw_status st;

    CHECK(parse("{\"job_id\":\"j1\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                "\"account\":\"a\",\"params\":{\"id\":\"S1\"},\"options\":{\"response_format\":"
                "\"debug\",\"max_attempts\":3,\"timeout_ms\":500,\"deadline\":"
                "\"2030-01-01T00:00:00Z\",\"exclude_fields\":[\"name\"],\"ignore_remote_data\":"
                "true,\"remote_query\":{\"a\":1}},\"correlation\":{\"workflowId\":\"w\"}}",
                &job, &st) == SW_E_OK);
    CHECK(job != NULL);
    if (!job) {
        return;
    }
    CHECK_STR(job->job_id, "j1");
    CHECK_STR(job->operation, "segments.get");
    CHECK_INT(job->format, SW_FMT_DEBUG);
    CHECK_INT(job->max_attempts, 3);
    CHECK_INT(job->timeout_ms, 500);
    CHECK_INT(job->deadline_ms, 1893456000000LL);
    CHECK(job->ignore_remote_data);
    CHECK(cJSON_IsObject(job->correlation));
    sw_job_destroy(job);
}

static void test_job_errors(void)
{
    static const struct {
        const char *text;
        int has_id;
        const char *needle;
    } cases[] = {
        {"not json", 0, "not valid JSON"},
        {"[1,2]", 0, "JSON object"},
        {"{\"operation\":\"segments.get\"}", 0, "job_id"},
        {"{\"job_id\":\"\",\"operation\":\"x\"}", 0, "job_id"},
        {"{\"job_id\":42}", 0, "job_id"},
        {"{\"job_id\":\"j\",\"provider\":\"k\",\"account\":\"a\"}", 1, "\"operation\" is required"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"account\":\"a\"}", 1, "provider"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\"}", 1, "account"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"params\":[]}",
         1, "params must be an object"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"options\":{\"max_attempts\":0}}",
         1, "max_attempts"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"options\":{\"response_format\":\"xml\"}}",
         1, "response_format"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"options\":{\"deadline\":\"tomorrow\"}}",
         1, "deadline"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"options\":{\"remote_query\":{\"a\":[{}]}}}",
         1, "remote_query.a"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"options\":{\"remote_query\":{\"a\":1,\"a\":2}}}",
         1, "remote_query.a is given twice"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"options\":{\"remote_query\":{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,"
         "\"h\":1,\"i\":1,\"j\":1,\"k\":1,\"l\":1,\"m\":1,\"n\":1,\"o\":1,\"p\":1,\"q\":1,\"r\":1,"
         "\"s\":1,\"t\":1,\"u\":1,\"v\":1,\"w\":1,\"x\":1,\"y\":1,\"z\":1,\"A\":1,\"B\":1,\"C\":1,"
         "\"D\":1,\"E\":1,\"F\":1,\"G\":1}}}",
         1, "more than 32 entries"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"options\":{\"exclude_fields\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
         "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
         "\"a\","
         "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
         "\"a\","
         "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
         "\"a\","
         "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}}",
         1, "more than 64 entries"},
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":\"a\","
         "\"api_key\":\"x\"}",
         1, "unknown top-level field"},
        {"{\"job_id\":\"j\",\"params\":"
         "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"
         "}",
         1, "depth"},
        {"[[[[[[[[[[[[[[[[[[[[{\"job_id\":\"j\"}]]]]]]]]]]]]]]]]]]]]", 0, "depth"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sw_job *job = NULL;
        struct sw_status st;

        CHECK(parse(cases[i].text, &job, &st) == SW_E_INVALID_JOB);
        CHECK((job != NULL) == cases[i].has_id);
        if (!strstr(st.msg, cases[i].needle)) {
            fprintf(stderr, "case %zu: message \"%s\" lacks \"%s\"\n", i, st.msg, cases[i].needle);
            CHECK(0);
        }
        sw_job_destroy(job);
    }
}

static void test_job_oversized_keeps_id(void)
{
    char *big = malloc(8192);
    struct sw_job *job = NULL;
    struct sw_status st;

    snprintf(big, 8192,
             "{\"job_id\":\"big-1\",\"operation\":\"segments.get\",\"provider\":\"k\","
             "\"account\":\"a\",\"params\":{\"pad\":\"%06000d\"}}",
             0);
    CHECK(parse(big, &job, &st) == SW_E_INVALID_JOB);
    CHECK(strstr(st.msg, "limits.max_job_bytes") != NULL);
    CHECK(job && !strcmp(job->job_id, "big-1"));
    sw_job_destroy(job);
    free(big);
}

/* Bad jobs with a readable job_id keep every other identity field that can be read, however
 * the message is broken. Each case is head + middle + tail. */
static void test_job_salvage(void)
{
    static const char ident[] = "\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":"
                                "\"a\",\"correlation\":{\"w\":1}";
    static const struct {
        const char *head;
        const char *middle;
        const char *tail;
        const char *needle;
        int correlation;
    } cases[] = {
        /* too deep, after the identity members and before them */
        {"{\"job_id\":\"j\",", ident, ",\"params\":" DEEP "}", "depth", 1},
        {"{\"params\":{\"x\":" DEEP "},\"job\\u005fid\":\"j\",", ident, "}", "depth", 1},
        /* malformed after the identity members (a cut message) */
        {"{\"job_id\":\"j\",", ident, ",\"params\":{\"id\":\"x", "not valid JSON", 1},
        /* an unknown field is found before the identity members are validated */
        {"{\"job_id\":\"j\",\"zzz\":1,", ident, "}", "unknown top-level field", 1},
        /* a correlation over its bound (256) is left out */
        {"{\"job_id\":\"j\",\"operation\":\"segments.get\",\"provider\":\"k\",\"account\":"
         "\"a\",\"correlation\":{\"w\":\"",
         PAD300, "\"}}", "max_correlation_bytes", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        struct sw_job *job = NULL;
        struct sw_status st;

        snprintf(text, sizeof(text), "%s%s%s", cases[i].head, cases[i].middle, cases[i].tail);
        CHECK(parse(text, &job, &st) == SW_E_INVALID_JOB);
        if (!strstr(st.msg, cases[i].needle)) {
            fprintf(stderr, "case %zu: message \"%s\" lacks \"%s\"\n", i, st.msg, cases[i].needle);
            CHECK(0);
        }
        CHECK(job != NULL);
        if (job) {
            CHECK_STR(job->job_id, "j");
            CHECK_STR(job->operation, "segments.get");
            CHECK_STR(job->provider, "k");
            CHECK_STR(job->account, "a");
            CHECK((job->correlation != NULL) == cases[i].correlation);
        }
        sw_job_destroy(job);
    }
}

/* Past four times limits.max_job_bytes nothing is parsed whole, yet the job is answered. */
static void test_job_huge_keeps_identity(void)
{
    size_t n = 4096 * 5;
    char *big = malloc(n + 256);
    struct sw_job *job = NULL;
    struct sw_status st;
    int len;

    if (!big) {
        CHECK(0);
        return;
    }
    len = snprintf(big, n + 256,
                   "{\"job_id\":\"huge-1\",\"operation\":\"segments.get\",\"provider\":\"k\","
                   "\"account\":\"a\",\"correlation\":{\"w\":\"x\"},\"params\":{\"pad\":\"%0*d\"}}",
                   (int)n, 0);
    sw_status_clear(&st);
    CHECK(sw_job_parse(big, (size_t)len, &lim, &job, &st) == SW_E_INVALID_JOB);
    CHECK(strstr(st.msg, "limits.max_job_bytes") != NULL);
    CHECK(job && !strcmp(job->job_id, "huge-1") && job->operation && job->correlation);
    sw_job_destroy(job);
    free(big);
}

static struct sw_accounts *parse_accounts(const char *text, struct sw_status *st)
{
    return sw_accounts_parse(text, strlen(text), st);
}

static void test_accounts(void)
{
    struct sw_status st;
    struct sw_accounts *a;
    char path[] = "/tmp/sw-secret-XXXXXX";
    char text[512];
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    CHECK(write(fd, "file-secret\n", 12) == 12);
    close(fd);
    setenv("SW_TEST_KEY", "env-secret", 1);
    snprintf(text, sizeof(text),
             "{\"accounts\":{\"k\":{\"provider\":\"klaviyo\",\"base_url\":\"http://127.0.0.1:1/\","
             "\"credentials\":{\"api_key\":\"env:SW_TEST_KEY\"},\"settings\":{\"revision\":\"x\"}},"
             "\"s\":{\"provider\":\"sendgrid\",\"credentials\":{\"api_key\":\"file:%s\"}}}}",
             path);
    sw_status_clear(&st);
    a = sw_accounts_parse(text, strlen(text), &st);
    CHECK(a != NULL);
    if (a) {
        CHECK_STR(sw_account_cred(sw_accounts_find(a, "k"), "api_key"), "env-secret");
        CHECK_STR(sw_account_cred(sw_accounts_find(a, "s"), "api_key"), "file-secret");
        CHECK_STR(sw_accounts_find(a, "k")->base_url, "http://127.0.0.1:1"); /* slash trimmed */
        CHECK(sw_accounts_find(a, "s")->base_url == NULL);
        CHECK(sw_accounts_find(a, "nope") == NULL);
    }
    sw_accounts_destroy(a);
    unlink(path);

    /* Inline secrets, missing variables and unknown keys are refused, without echoing values. */
    a = parse_accounts("{\"accounts\":{\"k\":{\"provider\":\"klaviyo\",\"credentials\":"
                       "{\"api_key\":\"pk_live_inline\"}}}}",
                       &st);
    CHECK(a == NULL);
    CHECK(strstr(st.msg, "inline") != NULL && strstr(st.msg, "pk_live_inline") == NULL);
    unsetenv("SW_TEST_MISSING");
    a = parse_accounts("{\"accounts\":{\"k\":{\"provider\":\"klaviyo\",\"credentials\":"
                       "{\"api_key\":\"env:SW_TEST_MISSING\"}}}}",
                       &st);
    CHECK(a == NULL && strstr(st.msg, "SW_TEST_MISSING") != NULL);
    a = parse_accounts("{\"accounts\":{\"k\":{\"provider\":\"klaviyo\",\"hosts\":[]}}}", &st);
    CHECK(a == NULL && strstr(st.msg, "unknown key") != NULL);
    a = parse_accounts("{\"accounts\":{\"k\":{\"provider\":\"klaviyo\",\"base_url\":"
                       "\"file:///etc/passwd\"}}}",
                       &st);
    CHECK(a == NULL && strstr(st.msg, "base_url") != NULL);
}

static void test_config(void)
{
    struct sw_config cfg;
    struct sw_status st;
    char path[] = "/tmp/sw-config-XXXXXX";
    int fd = mkstemp(path);
    const char *json = "{\"group\":\"g1\",\"worker\":{\"max_in_flight\":7},\"kafka\":{\"acks\":"
                       "\"all\",\"consumer\":{\"fetch.wait.max.ms\":50}},\"topics.jobs\":\"j\"}";

    CHECK(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
    close(fd);
    setenv("SEGWORKER_GROUP", "from-env", 1);
    sw_status_clear(&st);
    CHECK(sw_config_load(&cfg, path, &st) == 0);
    CHECK_STR(cfg.group, "from-env"); /* environment beats the file */
    CHECK_INT(cfg.max_in_flight, 7);
    CHECK_STR(cfg.jobs_topic, "j");
    CHECK_STR(cfg.results_topic, "segment-results");
    CHECK_INT(cfg.nkafka, 2);
    CHECK_STR(cfg.kafka[0].key, "acks");
    CHECK_INT(cfg.kafka[1].scope, 1);
    CHECK(sw_config_set(&cfg, "worker.max_in_flight", "0", &st) != 0);
    CHECK(sw_config_set(&cfg, "worker.max_in_flight", "12abc", &st) != 0);
    CHECK(sw_config_set(&cfg, "delivery", "sometimes", &st) != 0);
    CHECK(sw_config_set(&cfg, "no.such.key", "1", &st) != 0 && strstr(st.msg, "unknown"));
    /* Kafka secrets by reference: resolved at load, never written down in the file. */
    setenv("SW_TEST_SASL_PW", "s3cret-pw", 1);
    CHECK(sw_config_set(&cfg, "kafka.sasl.password", "env:SW_TEST_SASL_PW", &st) == 0);
    CHECK_STR(cfg.kafka[cfg.nkafka - 1].key, "sasl.password");
    CHECK_STR(cfg.kafka[cfg.nkafka - 1].value, "s3cret-pw");
    CHECK(sw_config_set(&cfg, "kafka.sasl.password", "env:SW_TEST_NO_SUCH_VAR", &st) != 0 &&
          strstr(st.msg, "kafka.sasl.password") && strstr(st.msg, "SW_TEST_NO_SUCH_VAR"));
    CHECK(sw_config_set(&cfg, "kafka.ssl.key.password", "file:/nonexistent/pw", &st) != 0);
    unsetenv("SW_TEST_SASL_PW");
    sw_config_free(&cfg);
    unsetenv("SEGWORKER_GROUP");
    unlink(path);
}

/* Retry-topic headers are input like any other: a far-future not_before is held to
 * retry.max_park_ms, and anything that is not a plain decimal in range is refused. */
static void test_parked_headers(void)
{
    const int64_t now = 1700000000000, park = 60000;
    static const struct {
        const char *nb, *at, *rc;
        int ok;
        int64_t want_nb;
        const char *why;
    } cases[] = {
        {NULL, NULL, NULL, 1, 0, NULL},
        {"1700000001000", "2", "1699999990000", 1, 1700000001000, NULL},
        {"1800000000000", NULL, NULL, 1, 1700000060000, NULL}, /* clamped */
        {"soon", NULL, NULL, 0, 0, "segworker.not_before"},
        {"-1", NULL, NULL, 0, 0, "segworker.not_before"},
        {" 1", NULL, NULL, 0, 0, "segworker.not_before"},
        {"", NULL, NULL, 0, 0, "segworker.not_before"},
        {"99999999999999999999", NULL, NULL, 0, 0, "segworker.not_before"},
        {NULL, "1001", NULL, 0, 0, "segworker.attempts"},
        {NULL, "x", NULL, 0, 0, "segworker.attempts"},
        {NULL, NULL, "1800000000000", 0, 0, "segworker.received"},
        {NULL, NULL, "1700000120000", 1, 0, NULL}, /* another worker's clock, a little ahead */
        {NULL, NULL, NULL, -1, 0, NULL},
    };
    int i;

    for (i = 0; cases[i].ok >= 0; i++) {
        struct sw_parked_hdr nb = {cases[i].nb, cases[i].nb ? strlen(cases[i].nb) : 0};
        struct sw_parked_hdr at = {cases[i].at, cases[i].at ? strlen(cases[i].at) : 0};
        struct sw_parked_hdr rc = {cases[i].rc, cases[i].rc ? strlen(cases[i].rc) : 0};
        struct sw_parked pk;
        struct sw_status st;
        sw_err_t err;

        sw_status_clear(&st);
        err = sw_parked_parse(&nb, &at, &rc, now, park, &pk, &st);
        if (cases[i].ok) {
            CHECK_INT(err, SW_E_OK);
            CHECK(pk.not_before_wall_ms == cases[i].want_nb);
        } else {
            CHECK_INT(err, SW_E_INVALID_JOB);
            CHECK(strstr(st.msg, cases[i].why) != NULL);
        }
    }
}

static const struct sw_test_case tests[] = {
    {"parked_headers", test_parked_headers},
    {"job_valid", test_job_valid},
    {"job_errors", test_job_errors},
    {"job_oversized_keeps_id", test_job_oversized_keeps_id},
    {"job_salvage", test_job_salvage},
    {"job_huge_keeps_identity", test_job_huge_keeps_identity},
    {"accounts", test_accounts},
    {"config", test_config},
    {NULL, NULL},
};

TEST_MAIN(tests)
