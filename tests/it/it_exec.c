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

static struct kit_args args;
static struct kit_sim sim;
static char accounts[1024];
static char all_results[1024];

/* Run `segworker exec` with job on stdin (and up to two more arguments); returns its exit
 * status. Every line of its output is appended to all_results for the schema check. */
static int exec_job(const char *job, const char *extra1, const char *extra2, struct kit_output *o)
{
    struct kit_worker w;

    kit_worker_init(&w, &args, "exec");
    kit_worker_arg(&w, "--accounts");
    kit_worker_arg(&w, "%s", accounts);
    if (extra1) {
        kit_worker_arg(&w, "%s", extra1);
        kit_worker_arg(&w, "%s", extra2);
    }
    return kit_worker_exec(&w, args.work, "exec", job, kit_deadline_ms(60000), all_results, o);
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
    {"retry_after_is_honoured", test_retry_after_is_honoured},
    {"timeout_and_deadline", test_timeout_and_deadline},
    {"debug_redacts", test_debug_redacts},
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
