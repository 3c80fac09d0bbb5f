/* `segworker exec` against the provider simulator over real sockets: one job in, result lines
 * out, exit codes 0/1/2; retries honouring Retry-After, timeouts, deadlines, list parts and
 * truncation, debug redaction; every line schema-valid.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct kit_args args;
static struct kit_sim sim;
static char accounts[1024];
static char all_results[1024];

/* Run `segworker exec` with job on stdin and the extra arguments (NULL-terminated; NULL: none);
 * returns its exit status. Every line of its output is appended to all_results for the schema
 * check. */
static int exec_argv(const char *job, const char *const *extra, struct kit_output *o)
{
    struct kit_worker w;

    kit_worker_init(&w, &args, "exec");
    kit_worker_arg(&w, "--accounts");
    kit_worker_arg(&w, "%s", accounts);
    while (extra && *extra) {
        kit_worker_arg(&w, "%s", *extra++);
    }
    return kit_worker_exec(&w, args.work, "exec", job, kit_deadline_ms(60000), all_results, o);
}

/* exec_argv with up to two more arguments. */
static int exec_job(const char *job, const char *extra1, const char *extra2, struct kit_output *o)
{
    const char *extra[] = {extra1, extra2, NULL};

    return exec_argv(job, extra1 ? extra : NULL, o);
}

/* Line i of the output. */
static const cJSON *line(const struct kit_output *o, int i)
{
    return cJSON_GetArrayItem(o->lines, i);
}

static const cJSON *get(const cJSON *o, const char *path)
{
    char buf[128];
    char *tok, *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); o && tok; tok = strtok_r(NULL, ".", &save)) {
        o = cJSON_GetObjectItemCaseSensitive(o, tok);
    }
    return o;
}

static const char *gets_(const cJSON *o, const char *path)
{
    const cJSON *v = get(o, path);

    return cJSON_IsString(v) ? v->valuestring : "(not a string)";
}

static double getn(const cJSON *o, const char *path)
{
    return cJSON_GetNumberValue(get(o, path));
}

static void test_get_succeeds(void)
{
    struct kit_output r;
    struct sim_klaviyo_segment s;
    char job[512];

    sim_klaviyo_segment(3, &s);
    snprintf(job, sizeof(job),
             "{\"job_id\":\"x1\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"%s\",\"with_member_count\":true}}",
             s.id);
    CHECK_INT(exec_job(job, NULL, NULL, &r), 0);
    CHECK_INT(kit_output_nlines(&r), 1);
    CHECK_STR(gets_(line(&r, 0), "status"), "succeeded");
    CHECK_STR(gets_(line(&r, 0), "result.id"), s.id);
    CHECK_INT(getn(line(&r, 0), "result.member_count"), s.profile_count);
    CHECK(cJSON_IsTrue(get(line(&r, 0), "part.last")));
    /* The microsecond twins agree with the millisecond fields: a request took some time, and
     * each twin rounds down to its field (total_ms counts whole milliseconds of the two
     * timestamps, so it may be one more). */
    CHECK(getn(line(&r, 0), "timing.http_us") > 0);
    CHECK(getn(line(&r, 0), "timing.total_us") >= getn(line(&r, 0), "timing.http_us"));
    CHECK_INT((long)getn(line(&r, 0), "timing.http_us") / 1000,
              (long)getn(line(&r, 0), "timing.http_ms"));
    CHECK((long)getn(line(&r, 0), "timing.queue_us") / 1000 -
              (long)getn(line(&r, 0), "timing.queue_ms") <=
          1);
    CHECK(getn(line(&r, 0), "timing.total_ms") -
              (long)getn(line(&r, 0), "timing.total_us") / 1000 <=
          1);
    kit_output_free(&r);
}

static void test_failure_exit_1(void)
{
    struct kit_output r;

    CHECK_INT(
        exec_job("{\"job_id\":\"x2\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
                 "\"account\":\"sg\",\"params\":{\"id\":\"00000000-0000-0000-0000-000000000000\"}}",
                 NULL, NULL, &r),
        1);
    CHECK_INT(kit_output_nlines(&r), 1);
    CHECK_STR(gets_(line(&r, 0), "error.code"), "not_found");
    CHECK_INT(getn(line(&r, 0), "error.http_status"), 404);
    CHECK(cJSON_IsFalse(get(line(&r, 0), "error.retryable")));
    kit_output_free(&r);
    /* A job that parses but names nothing runnable is a failed result too. */
    CHECK_INT(exec_job("{\"job_id\":\"x3\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                       "\"account\":\"nope\",\"params\":{\"id\":\"a\"}}",
                       NULL, NULL, &r),
              1);
    CHECK_STR(gets_(line(&r, 0), "error.code"), "unknown_account");
    kit_output_free(&r);
}

static void test_usage_exit_2(void)
{
    struct kit_output r;
    struct kit_worker w;

    CHECK_INT(exec_job("this is not a job", NULL, NULL, &r), 2);
    CHECK_INT(kit_output_nlines(&r), 0);
    CHECK(strstr(r.err, "invalid job") != NULL);
    kit_output_free(&r);
    CHECK_INT(exec_job("{}", "--set", "no.such.key=1", &r), 2);
    CHECK(strstr(r.err, "unknown configuration key") != NULL);
    kit_output_free(&r);
    kit_worker_init(&w, &args, "exec"); /* no account store */
    CHECK_INT(kit_worker_exec(&w, args.work, "no-store", NULL, kit_deadline_ms(10000), NULL, &r),
              2);
    kit_output_free(&r);
}

static void test_list_parts_and_truncation(void)
{
    struct kit_output r;
    int i;

    CHECK_INT(
        exec_job("{\"job_id\":\"x4\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\",\"options\":{\"ignore_remote_data\":true}}",
                 "--set", "worker.part_items=10", &r),
        0);
    CHECK_INT(kit_output_nlines(&r), 3);
    for (i = 0; i < kit_output_nlines(&r); i++) {
        CHECK_INT(getn(line(&r, i), "part.index"), i);
        CHECK(cJSON_IsTrue(get(line(&r, i), "part.last")) == (i == 2));
    }
    if (kit_output_nlines(&r) == 3) {
        CHECK_INT(getn(line(&r, 2), "part.total_items"), SIM_KLAVIYO_SEGMENTS);
        CHECK_INT(getn(line(&r, 2), "part.items"), 5);
    }
    kit_output_free(&r);
    CHECK_INT(
        exec_job("{\"job_id\":\"x5\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\",\"options\":{\"max_items\":12}}",
                 NULL, NULL, &r),
        0);
    CHECK_INT(kit_output_nlines(&r), 1);
    CHECK_INT(getn(line(&r, 0), "part.total_items"), 12);
    CHECK(cJSON_IsTrue(get(line(&r, 0), "part.truncated")));
    kit_output_free(&r);
    /* A worker limit on pages is a classified error, not a silent cut. */
    CHECK_INT(
        exec_job("{\"job_id\":\"x6\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\"}",
                 "--set", "limits.max_pages=2", &r),
        1);
    CHECK_STR(gets_(kit_output_last(&r), "error.code"), "result_too_large");
    kit_output_free(&r);
}

static void test_size_limits(void)
{
    struct kit_output r;
    int i, total = 0;

    /* Parts split by bytes, not only by count, and each stays under the message limit. */
    CHECK_INT(
        exec_job("{\"job_id\":\"x11\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\"}",
                 "--set", "limits.max_result_bytes=6000", &r),
        0);
    CHECK(kit_output_nlines(&r) > 3);
    for (i = 0; i < kit_output_nlines(&r); i++) {
        char *text = cJSON_PrintUnformatted(line(&r, i));

        CHECK(text && strlen(text) <= 6000);
        cJSON_free(text);
        total += (int)getn(line(&r, i), "part.items");
    }
    CHECK_INT(total, SIM_KLAVIYO_SEGMENTS);
    kit_output_free(&r);
    /* A last message that cannot fit is a classified failure, never a message the broker
     * refuses: here a raw page (the provider's body untouched) larger than the limit. */
    CHECK_INT(exec_job("{\"job_id\":\"x13\",\"operation\":\"segments.list\",\"provider\":"
                       "\"klaviyo\",\"account\":\"kl\",\"options\":{\"response_format\":\"raw\","
                       "\"max_items\":1}}",
                       "--set", "limits.max_result_bytes=4096", &r),
              1);
    CHECK_INT(kit_output_nlines(&r), 1);
    CHECK_STR(gets_(kit_output_last(&r), "error.code"), "result_too_large");
    CHECK(strstr(gets_(kit_output_last(&r), "error.message"), "max_result_bytes") != NULL);
    CHECK(cJSON_IsNull(get(kit_output_last(&r), "result")));
    kit_output_free(&r);
    /* A provider answer over the body limit is a classified error, not a truncated parse. */
    CHECK_INT(
        exec_job("{\"job_id\":\"x12\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                 "\"account\":\"kl\"}",
                 "--set", "limits.max_response_bytes=1024", &r),
        1);
    CHECK_STR(gets_(line(&r, 0), "error.code"), "result_too_large");
    CHECK(strstr(gets_(line(&r, 0), "error.message"), "max_response_bytes") != NULL);
    kit_output_free(&r);
}

/* The ids of every item the succeeded lines of o carry, appended to ids (n so far; cap), and the
 * part indexes checked to run on from first. The number of lines checked. */
static int collect_items(const struct kit_output *o, int first, char ids[][64], int *n, int cap)
{
    int i;

    for (i = 0; i < kit_output_nlines(o); i++) {
        const cJSON *it;

        CHECK_INT(getn(line(o, i), "part.index"), first + i);
        cJSON_ArrayForEach(it, get(line(o, i), "result"))
        {
            if (*n < cap) {
                snprintf(ids[(*n)++], 64, "%s", gets_(it, "id"));
            }
        }
    }
    return i;
}

/* Every id of the list exactly once. */
static void check_each_once(char ids[][64], int n, int want)
{
    int i, j, twice = 0;

    CHECK_INT(n, want);
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            twice += !strcmp(ids[i], ids[j]);
        }
    }
    CHECK_INT(twice, 0);
}

/* A list that fails part-way says how much it delivered and where to go on; a job handed that
 * resume continues there: together, every item once, parts numbered on. limit stops the first
 * job (on a page boundary: limits.max_pages; inside a page: limits.max_list_items). */
static void resume_case(const char *id, const char *limit, long long delivered)
{
    static const char head[] = "{\"job_id\":\"%s\",\"operation\":\"segments.list\","
                               "\"provider\":\"klaviyo\",\"account\":\"kl\",\"params\":{"
                               "\"page_size\":4%s%s}}";
    const char *first[] = {"--set", "worker.part_items=3", "--set", limit, NULL};
    const char *again[] = {"--set", "worker.part_items=3", NULL};
    char ids[2 * SIM_KLAVIYO_SEGMENTS][64];
    char job[2048];
    struct kit_output r;
    const cJSON *last;
    char *resume;
    int n = 0;
    int parts;

    snprintf(job, sizeof(job), head, id, "", "");
    CHECK_INT(exec_argv(job, first, &r), 1);
    last = kit_output_last(&r);
    CHECK_STR(gets_(last, "status"), "failed");
    CHECK_STR(gets_(last, "error.code"), "result_too_large");
    /* Only what was published counts, and the failure says so. */
    CHECK_INT(getn(last, "part.total_items"), delivered);
    CHECK_INT(getn(last, "resume.items_delivered"), delivered);
    parts = collect_items(&r, 0, ids, &n, 2 * SIM_KLAVIYO_SEGMENTS);
    CHECK_INT(n, delivered);
    CHECK_INT(getn(last, "resume.part_index"), parts - 1);
    resume = cJSON_PrintUnformatted(get(last, "resume"));
    CHECK(resume != NULL);
    snprintf(job, sizeof(job), head, id, ",\"resume\":", resume ? resume : "{}");
    cJSON_free(resume);
    kit_output_free(&r);
    CHECK_INT(exec_argv(job, again, &r), 0);
    last = kit_output_last(&r);
    CHECK(cJSON_IsTrue(get(last, "part.last")));
    CHECK_INT(getn(last, "part.total_items"), SIM_KLAVIYO_SEGMENTS);
    collect_items(&r, parts - 1, ids, &n, 2 * SIM_KLAVIYO_SEGMENTS);
    check_each_once(ids, n, SIM_KLAVIYO_SEGMENTS);
    kit_output_free(&r);
}

static void test_list_resumes(void)
{
    /* 25 segments in pages of 4: 7 pages. The first job stops on page 4 (3 pages, 12 items
     * delivered), or inside page 3 (10 items: the resume skips the first 2 of that page). */
    resume_case("x20", "limits.max_pages=3", 12);
    resume_case("x21", "limits.max_list_items=10", 10);
}

/* A resume is the job's input: bad ones are refused before any request. */
static void test_resume_is_checked(void)
{
    static const char *const bad[] = {
        "{\"cursor\":null,\"skip_items\":-1,\"part_index\":0,\"items_delivered\":0}",
        "{\"cursor\":null,\"skip\":1}",
        "{\"cursor\":\"http://127.0.0.1:1/elsewhere\",\"skip_items\":0,\"part_index\":1,"
        "\"items_delivered\":1}",
        "\"page-2\"",
    };
    char job[1024];
    struct kit_output r;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(job, sizeof(job),
                 "{\"job_id\":\"x22\",\"operation\":\"segments.list\",\"provider\":"
                 "\"klaviyo\",\"account\":\"kl\",\"params\":{\"resume\":%s}}",
                 bad[i]);
        CHECK_INT(exec_job(job, NULL, NULL, &r), 1);
        CHECK_STR(gets_(kit_output_last(&r), "error.code"), "invalid_params");
        CHECK(strstr(gets_(kit_output_last(&r), "error.message"), "resume") != NULL);
        kit_output_free(&r);
    }
}

/* What a job passes is checked against what the operation takes, before any request: a typo is
 * named with the closest name, an update with nothing to change is refused. */
static void test_params_are_checked(void)
{
    static const struct {
        const char *job;
        const char *says;
    } bad[] = {
        {"{\"job_id\":\"x30\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
         "\"account\":\"kl\",\"params\":{\"id\":\"AmOy43\",\"with_member_cont\":true}}",
         "did you mean with_member_count?"},
        {"{\"job_id\":\"x31\",\"operation\":\"segments.update\",\"provider\":\"klaviyo\","
         "\"account\":\"kl\",\"params\":{\"id\":\"AmOy43\"}}",
         "nothing to change"},
        {"{\"job_id\":\"x32\",\"operation\":\"segments.list\",\"provider\":\"sendgrid\","
         "\"account\":\"sg\",\"options\":{\"revision\":\"2024-10-15\"}}",
         "options.revision is not an option of sendgrid segments.list"},
    };
    struct kit_output r;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(exec_job(bad[i].job, NULL, NULL, &r), 1);
        CHECK_STR(gets_(kit_output_last(&r), "error.code"), "invalid_params");
        CHECK(strstr(gets_(kit_output_last(&r), "error.message"), bad[i].says) != NULL);
        CHECK_INT(getn(kit_output_last(&r), "attempts"), 0);
        kit_output_free(&r);
    }
}

static void test_retry_after_is_honoured(void)
{
    struct kit_output r;
    char stats[8192];
    cJSON *s;

    CHECK_INT(kit_http_get(sim.port, "/_sim/stats", stats, sizeof(stats)), 200);
    CHECK_INT(exec_job("{\"job_id\":\"x7\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                       "\"account\":\"kl\",\"params\":{\"id\":\"sim-429-2-1-x7\"}}",
                       NULL, NULL, &r),
              0);
    CHECK_INT(getn(line(&r, 0), "attempts"), 3);
    /* Two 429s asking for 1 s each: the job cannot have finished sooner. */
    CHECK(getn(line(&r, 0), "timing.total_ms") >= 2000);
    kit_output_free(&r);
    CHECK_INT(kit_http_get(sim.port, "/_sim/stats", stats, sizeof(stats)), 200);
    s = cJSON_Parse(stats);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "early_retries_same_path")));
    CHECK_INT(getn(s, "early_retries_same_path"), 0);
    cJSON_Delete(s);
}

static void test_timeout_and_deadline(void)
{
    struct kit_output r;

    CHECK_INT(exec_job("{\"job_id\":\"x8\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                       "\"account\":\"kl\",\"params\":{\"id\":\"sim-slow-3000-x8\"},\"options\":"
                       "{\"timeout_ms\":200,\"max_attempts\":2}}",
                       NULL, NULL, &r),
              1);
    CHECK_STR(gets_(line(&r, 0), "error.code"), "timeout");
    CHECK(cJSON_IsTrue(get(line(&r, 0), "error.retryable")));
    CHECK_INT(getn(line(&r, 0), "attempts"), 2);
    kit_output_free(&r);
    CHECK_INT(exec_job("{\"job_id\":\"x9\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
                       "\"account\":\"kl\",\"params\":{\"id\":\"a\"},\"options\":{\"deadline\":"
                       "\"2020-01-01T00:00:00Z\"}}",
                       NULL, NULL, &r),
              1);
    CHECK_STR(gets_(line(&r, 0), "error.code"), "deadline_exceeded");
    CHECK_INT(getn(line(&r, 0), "attempts"), 0);
    kit_output_free(&r);
}

static void test_debug_redacts(void)
{
    struct kit_output r;
    char *text;
    struct sim_sendgrid_segment s;
    char job[512];

    sim_sendgrid_segment(1, &s);
    snprintf(job, sizeof(job),
             "{\"job_id\":\"x10\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg\",\"params\":{\"id\":\"%s\"},\"options\":{\"response_format\":"
             "\"debug\"}}",
             s.id);
    CHECK_INT(exec_job(job, NULL, NULL, &r), 0);
    CHECK_STR(gets_(line(&r, 0), "debug.request_options.headers.Authorization"), "[redacted]");
    CHECK(strstr(gets_(line(&r, 0), "debug.request_url"), s.id) != NULL);
    text = cJSON_PrintUnformatted(line(&r, 0));
    CHECK(text && !strstr(text, "sim-sendgrid-key"));
    cJSON_free(text);
    kit_output_free(&r);
}

/* debug shows every exchange of the job (here a retried get: the 503, then the answer), with
 * bodies cut and the key redacted everywhere; a list's message carries all of its pages. */
static void test_debug_every_exchange(void)
{
    struct kit_output r;
    const cJSON *ex;
    char job[512];
    char *text;

    snprintf(job, sizeof(job),
             "{\"job_id\":\"x13\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"sim-flaky-1-dbg%ld\"},\"options\":{"
             "\"response_format\":\"debug\"}}",
             (long)getpid());
    CHECK_INT(exec_job(job, NULL, NULL, &r), 0);
    ex = get(line(&r, 0), "debug.exchanges");
    CHECK_INT(cJSON_GetArraySize(ex), 2);
    CHECK_INT(getn(cJSON_GetArrayItem(ex, 0), "response.status"), 503);
    CHECK_INT(getn(cJSON_GetArrayItem(ex, 1), "response.status"), 200);
    CHECK_STR(gets_(cJSON_GetArrayItem(ex, 1), "request.method"), "GET");
    CHECK_STR(gets_(cJSON_GetArrayItem(ex, 1), "request.headers.Authorization"), "[redacted]");
    CHECK(strstr(gets_(cJSON_GetArrayItem(ex, 1), "response.body"), "\"data\"") != NULL);
    text = cJSON_PrintUnformatted(line(&r, 0));
    CHECK(text && !strstr(text, "sim-klaviyo-key"));
    cJSON_free(text);
    kit_output_free(&r);
    /* 25 segments in pages of 10: one message, three exchanges, page bodies cut with a marker. */
    CHECK_INT(exec_job("{\"job_id\":\"x14\",\"operation\":\"segments.list\",\"provider\":"
                       "\"klaviyo\",\"account\":\"kl\",\"options\":{\"response_format\":"
                       "\"debug\"}}",
                       "--set", "worker.part_items=100", &r),
              0);
    CHECK_INT(kit_output_nlines(&r), 1);
    ex = get(line(&r, 0), "debug.exchanges");
    CHECK_INT(cJSON_GetArraySize(ex), 3);
    CHECK(strstr(gets_(cJSON_GetArrayItem(ex, 0), "response.body"), "...[truncated: ") != NULL);
    CHECK(strstr(gets_(cJSON_GetArrayItem(ex, 1), "request.url"), "page%5Bcursor%5D") != NULL);
    kit_output_free(&r);
}

/* A provider that echoes the credentials in its error body: the result, the log and the debug
 * output carry "[redacted]" where the key, the Authorization header, a Cookie and an api_key
 * value were. */
static void test_echoed_secrets_redacted(void)
{
    static const char *const fmts[] = {"unified", "debug", "raw"};
    static const char *const leaks[] = {"sim-sendgrid-key", "sim-cookie-echo", "sim-apikey-echo"};
    struct kit_output r;
    char job[512];
    size_t f, k;

    for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
        char *text;

        snprintf(job, sizeof(job),
                 "{\"job_id\":\"x11\",\"operation\":\"segments.get\",\"provider\":"
                 "\"sendgrid\",\"account\":\"sg\",\"params\":{\"id\":\"sim-echo-auth\"},"
                 "\"options\":{\"response_format\":\"%s\"}}",
                 fmts[f]);
        CHECK_INT(exec_job(job, "--set", "log_level=debug", &r), 1);
        CHECK_STR(gets_(line(&r, 0), "error.code"), "auth_failed");
        /* The echo reached the result: the test is not passing on an empty message. */
        CHECK(strstr(gets_(line(&r, 0), "error.message"), "[redacted]") != NULL);
        text = cJSON_PrintUnformatted(line(&r, 0));
        for (k = 0; k < sizeof(leaks) / sizeof(leaks[0]); k++) {
            if ((text && strstr(text, leaks[k])) || strstr(r.out, leaks[k]) ||
                strstr(r.err, leaks[k])) {
                fprintf(stderr, "%s format: \"%s\" leaked\n", fmts[f], leaks[k]);
                sw_test_failures++;
            }
        }
        cJSON_free(text);
        kit_output_free(&r);
    }
}

/* Run a segworker command (no stdin); returns its exit status, its stdout and stderr in out. */
static int run_cmd(char *const av[], char *out, size_t n)
{
    struct kit_worker w;
    struct kit_output o;
    int rc;

    kit_worker_init(&w, &args, NULL);
    kit_worker_args(&w, av);
    rc = kit_worker_exec(&w, args.work, "cmd", NULL, kit_deadline_ms(30000), NULL, &o);
    snprintf(out, n, "%s%s", o.out, o.err);
    kit_output_free(&o);
    return rc;
}

static void test_other_commands(void)
{
    char out[8192];
    char *validate[] = {"validate", "--accounts", accounts, NULL};
    char *bad_kafka[] = {"validate", "--accounts", accounts, "--set", "kafka.no.such=1", NULL};
    char *providers[] = {"providers", NULL};
    char *version[] = {"version", NULL};
    char *help[] = {"--help", NULL};
    char *dump[] = {"--dump-config=reference", NULL};
    char *unknown[] = {"frobnicate", NULL};
    char *params[] = {"providers", "--params", "mailchimp", "segments.update", NULL};
    char *bad_op[] = {"providers", "--params", "flodesk", "segments.delete", NULL};
    char *bad_enum[] = {"run", "--accounts", accounts, "--set", "worker.ordering=sideways", NULL};

    CHECK_INT(run_cmd(validate, out, sizeof(out)), 0);
    CHECK(strstr(out, "ok: ") != NULL);
    CHECK_INT(run_cmd(bad_kafka, out, sizeof(out)), 2);
    CHECK(strstr(out, "no.such") != NULL);
    CHECK_INT(run_cmd(providers, out, sizeof(out)), 0);
    CHECK(strstr(out, "klaviyo") && strstr(out, "sendgrid"));
    CHECK_INT(run_cmd(version, out, sizeof(out)), 0);
    CHECK(strstr(out, "segworker ") && strstr(out, "librdkafka"));
    CHECK_INT(run_cmd(help, out, sizeof(out)), 0);
    CHECK(strstr(out, "usage: segworker") != NULL);
    CHECK_INT(run_cmd(dump, out, sizeof(out)), 0);
    CHECK(strstr(out, "| `brokers` |") != NULL);
    CHECK_INT(run_cmd(unknown, out, sizeof(out)), 2);
    /* What an operation takes, from the same declarations the engine checks jobs against. */
    CHECK_INT(run_cmd(params, out, sizeof(out)), 0);
    CHECK(strstr(out, "params.list_id") && strstr(out, "settings.list_id") &&
          strstr(out, "at least one of: params.name"));
    CHECK_INT(run_cmd(bad_op, out, sizeof(out)), 2);
    CHECK(strstr(out, "does not support") != NULL);
    /* A setting outside its choices is refused with the choices named. */
    CHECK_INT(run_cmd(bad_enum, out, sizeof(out)), 2);
    CHECK(strstr(out, "key|partition|none") != NULL);
}

static void test_results_are_schema_valid(void)
{
    CHECK_INT(kit_validate(&args, "result.schema.json", all_results), 0);
}

static const struct sw_test_case tests[] = {
    {"get_succeeds", test_get_succeeds},
    {"failure_exit_1", test_failure_exit_1},
    {"usage_exit_2", test_usage_exit_2},
    {"list_parts_and_truncation", test_list_parts_and_truncation},
    {"size_limits", test_size_limits},
    {"list_resumes", test_list_resumes},
    {"resume_is_checked", test_resume_is_checked},
    {"params_are_checked", test_params_are_checked},
    {"retry_after_is_honoured", test_retry_after_is_honoured},
    {"timeout_and_deadline", test_timeout_and_deadline},
    {"debug_redacts", test_debug_redacts},
    {"debug_every_exchange", test_debug_every_exchange},
    {"echoed_secrets_redacted", test_echoed_secrets_redacted},
    {"other_commands", test_other_commands},
    {"results_are_schema_valid", test_results_are_schema_valid},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    struct kit_accounts acc;
    char url[128];
    int rc;

    if (kit_parse_args(argc, argv, "it_exec", &args) != 0) {
        return 2;
    }
    if (kit_sim_start(&sim, &args, NULL) != 0) {
        fprintf(stderr, "the simulator did not start\n");
        return 1;
    }
    kit_path(accounts, sizeof(accounts), args.work, "accounts.json");
    kit_path(all_results, sizeof(all_results), args.work, "all-results.ndjson");
    kit_write_file(all_results, "");
    /* SendGrid's base URL ends in a slash: joining it with the operation's path must not double
     * it. */
    kit_sim_url(&sim, "sendgrid", url, sizeof(url));
    strcat(url, "/");
    kit_accounts_init(&acc);
    kit_account_sim(&acc, "kl", "klaviyo", &sim);
    kit_account_set(&acc, kit_account(&acc, "sg", "sendgrid", url), "credentials", "api_key",
                    "env:KIT_SENDGRID_KEY");
    if (kit_accounts_write(&acc, accounts) != 0) {
        kit_sim_kill(&sim);
        return 1;
    }
    rc = sw_test_run(tests, getenv("SW_TEST_ONLY"));
    if (kit_sim_stop(&sim) != 0) {
        fprintf(stderr, "the simulator did not exit cleanly\n");
        rc = 1;
    }
    return rc;
}
