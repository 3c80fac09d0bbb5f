/* `segworker exec` against the provider simulator over real sockets: one job in, result lines
 * out, exit codes 0/1/2; retries honouring Retry-After, timeouts, deadlines, list parts and
 * truncation, debug redaction; every line schema-valid.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *worker, *sim_bin, *validator, *schemas, *work;
static int port;
static char accounts[1024];
static char all_results[1024];

struct run {
    int rc;
    int nlines;
    cJSON *lines[64];
    char err[4096];
};

static void run_free(struct run *r)
{
    int i;

    for (i = 0; i < r->nlines; i++) {
        cJSON_Delete(r->lines[i]);
    }
}

/* Run `segworker exec` with job on stdin (and extra args); collect its stdout lines. */
static void exec_job(const char *job, const char *extra1, const char *extra2, struct run *r)
{
    char in[1024], out[1024], errp[1024], line[1 << 16];
    char *argv[] = {(char *)worker, "exec",         "--accounts", accounts,
                    (char *)extra1, (char *)extra2, NULL};
    char *env[] = {"IT_KLAVIYO_KEY=sim-klaviyo-key", "IT_SENDGRID_KEY=sim-sendgrid-key", NULL};
    FILE *f;
    FILE *all;
    pid_t pid;

    memset(r, 0, sizeof(*r));
    snprintf(in, sizeof(in), "%s/job.json", work);
    snprintf(out, sizeof(out), "%s/out.ndjson", work);
    snprintf(errp, sizeof(errp), "%s/err.log", work);
    f = fopen(in, "w");
    fputs(job, f);
    fclose(f);
    if (!extra1) {
        argv[4] = NULL;
    }
    pid = kit_spawn_in(argv, env, in, out, errp);
    r->rc = kit_wait(pid, kit_deadline_ms(60000));
    f = fopen(out, "r");
    all = fopen(all_results, "a");
    while (f && r->nlines < 64 && fgets(line, sizeof(line), f)) {
        r->lines[r->nlines++] = cJSON_Parse(line);
        fputs(line, all);
    }
    if (f) {
        fclose(f);
    }
    fclose(all);
    f = fopen(errp, "r");
    if (f) {
        size_t n = fread(r->err, 1, sizeof(r->err) - 1, f);

        r->err[n] = '\0';
        fclose(f);
    }
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
    struct run r;
    struct sim_klaviyo_segment s;
    char job[512];

    sim_klaviyo_segment(3, &s);
    snprintf(job, sizeof(job),
             "{\"job_id\":\"x1\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"%s\",\"with_member_count\":true}}",
             s.id);
    exec_job(job, NULL, NULL, &r);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.nlines, 1);
    CHECK_STR(gets_(r.lines[0], "status"), "succeeded");
    CHECK_STR(gets_(r.lines[0], "result.id"), s.id);
    CHECK_INT(getn(r.lines[0], "result.member_count"), s.profile_count);
    CHECK(cJSON_IsTrue(get(r.lines[0], "part.last")));
    run_free(&r);
}

static void test_failure_exit_1(void)
{
    struct run r;

    exec_job("{\"job_id\":\"x2\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg\",\"params\":{\"id\":\"00000000-0000-0000-0000-000000000000\"}}",
             NULL, NULL, &r);
    CHECK_INT(r.rc, 1);
    CHECK_INT(r.nlines, 1);
    CHECK_STR(gets_(r.lines[0], "error.code"), "not_found");
    CHECK_INT(getn(r.lines[0], "error.http_status"), 404);
    CHECK(cJSON_IsFalse(get(r.lines[0], "error.retryable")));
    run_free(&r);
    /* A job that parses but names nothing runnable is a failed result too. */
    exec_job("{\"job_id\":\"x3\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"nope\",\"params\":{\"id\":\"a\"}}",
             NULL, NULL, &r);
    CHECK_INT(r.rc, 1);
    CHECK_STR(gets_(r.lines[0], "error.code"), "unknown_account");
    run_free(&r);
}

static void test_usage_exit_2(void)
{
    struct run r;
    char *argv[] = {(char *)worker, "exec", NULL};
    pid_t pid;

    exec_job("this is not a job", NULL, NULL, &r);
    CHECK_INT(r.rc, 2);
    CHECK_INT(r.nlines, 0);
    CHECK(strstr(r.err, "invalid job") != NULL);
    run_free(&r);
    exec_job("{}", "--set", "no.such.key=1", &r);
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "unknown configuration key") != NULL);
    run_free(&r);
    pid = kit_spawn(argv, NULL, "/dev/null", "/dev/null"); /* no account store */
    CHECK_INT(kit_wait(pid, kit_deadline_ms(10000)), 2);
}

static void test_list_parts_and_truncation(void)
{
    struct run r;
    int i;

    exec_job("{\"job_id\":\"x4\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"options\":{\"ignore_remote_data\":true}}",
             "--set", "worker.part_items=10", &r);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.nlines, 3);
    for (i = 0; i < r.nlines; i++) {
        CHECK_INT(getn(r.lines[i], "part.index"), i);
        CHECK(cJSON_IsTrue(get(r.lines[i], "part.last")) == (i == 2));
    }
    if (r.nlines == 3) {
        CHECK_INT(getn(r.lines[2], "part.total_items"), SIM_KLAVIYO_SEGMENTS);
        CHECK_INT(getn(r.lines[2], "part.items"), 5);
    }
    run_free(&r);
    exec_job("{\"job_id\":\"x5\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"options\":{\"max_items\":12}}",
             NULL, NULL, &r);
    CHECK_INT(r.rc, 0);
    CHECK_INT(r.nlines, 1);
    CHECK_INT(getn(r.lines[0], "part.total_items"), 12);
    CHECK(cJSON_IsTrue(get(r.lines[0], "part.truncated")));
    run_free(&r);
    /* A worker limit on pages is a classified error, not a silent cut. */
    exec_job("{\"job_id\":\"x6\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\"}",
             "--set", "limits.max_pages=2", &r);
    CHECK_INT(r.rc, 1);
    CHECK_STR(gets_(r.lines[r.nlines - 1], "error.code"), "result_too_large");
    run_free(&r);
}

static void test_size_limits(void)
{
    struct run r;
    int i, total = 0;

    /* Parts split by bytes, not only by count, and each stays under the message limit. */
    exec_job("{\"job_id\":\"x11\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\"}",
             "--set", "limits.max_result_bytes=6000", &r);
    CHECK_INT(r.rc, 0);
    CHECK(r.nlines > 3);
    for (i = 0; i < r.nlines; i++) {
        char *text = cJSON_PrintUnformatted(r.lines[i]);

        CHECK(text && strlen(text) <= 6000);
        cJSON_free(text);
        total += (int)getn(r.lines[i], "part.items");
    }
    CHECK_INT(total, SIM_KLAVIYO_SEGMENTS);
    run_free(&r);
    /* A provider answer over the body limit is a classified error, not a truncated parse. */
    exec_job("{\"job_id\":\"x12\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\"}",
             "--set", "limits.max_response_bytes=1024", &r);
    CHECK_INT(r.rc, 1);
    CHECK_STR(gets_(r.lines[0], "error.code"), "result_too_large");
    CHECK(strstr(gets_(r.lines[0], "error.message"), "max_response_bytes") != NULL);
    run_free(&r);
}

static void test_retry_after_is_honoured(void)
{
    struct run r;
    char stats[8192];
    cJSON *s;

    CHECK_INT(kit_http_get(port, "/_sim/stats", stats, sizeof(stats)), 200);
    exec_job("{\"job_id\":\"x7\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"sim-429-2-1-x7\"}}",
             NULL, NULL, &r);
    CHECK_INT(r.rc, 0);
    CHECK_INT(getn(r.lines[0], "attempts"), 3);
    /* Two 429s asking for 1 s each: the job cannot have finished sooner. */
    CHECK(getn(r.lines[0], "timing.total_ms") >= 2000);
    run_free(&r);
    CHECK_INT(kit_http_get(port, "/_sim/stats", stats, sizeof(stats)), 200);
    s = cJSON_Parse(stats);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "early_retries_same_path")));
    CHECK_INT(getn(s, "early_retries_same_path"), 0);
    cJSON_Delete(s);
}

static void test_timeout_and_deadline(void)
{
    struct run r;

    exec_job("{\"job_id\":\"x8\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"sim-slow-3000-x8\"},\"options\":"
             "{\"timeout_ms\":200,\"max_attempts\":2}}",
             NULL, NULL, &r);
    CHECK_INT(r.rc, 1);
    CHECK_STR(gets_(r.lines[0], "error.code"), "timeout");
    CHECK(cJSON_IsTrue(get(r.lines[0], "error.retryable")));
    CHECK_INT(getn(r.lines[0], "attempts"), 2);
    run_free(&r);
    exec_job("{\"job_id\":\"x9\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"kl\",\"params\":{\"id\":\"a\"},\"options\":{\"deadline\":"
             "\"2020-01-01T00:00:00Z\"}}",
             NULL, NULL, &r);
    CHECK_INT(r.rc, 1);
    CHECK_STR(gets_(r.lines[0], "error.code"), "deadline_exceeded");
    CHECK_INT(getn(r.lines[0], "attempts"), 0);
    run_free(&r);
}

static void test_debug_redacts(void)
{
    struct run r;
    char *text;
    struct sim_sendgrid_segment s;
    char job[512];

    sim_sendgrid_segment(1, &s);
    snprintf(job, sizeof(job),
             "{\"job_id\":\"x10\",\"operation\":\"segments.get\",\"provider\":\"sendgrid\","
             "\"account\":\"sg\",\"params\":{\"id\":\"%s\"},\"options\":{\"response_format\":"
             "\"debug\"}}",
             s.id);
    exec_job(job, NULL, NULL, &r);
    CHECK_INT(r.rc, 0);
    CHECK_STR(gets_(r.lines[0], "debug.request_options.headers.Authorization"), "[redacted]");
    CHECK(strstr(gets_(r.lines[0], "debug.request_url"), s.id) != NULL);
    text = cJSON_PrintUnformatted(r.lines[0]);
    CHECK(text && !strstr(text, "sim-sendgrid-key"));
    cJSON_free(text);
    run_free(&r);
}

/* Run a segworker command (no stdin); returns its exit status, stderr+stdout in out. */
static int run_cmd(char *const args[], char *out, size_t n)
{
    char *argv[16];
    char path[1024];
    char *env[] = {"IT_KLAVIYO_KEY=sim-klaviyo-key", "IT_SENDGRID_KEY=sim-sendgrid-key", NULL};
    FILE *f;
    pid_t pid;
    int rc, i;
    size_t got = 0;

    argv[0] = (char *)worker;
    for (i = 0; args[i] && i < 14; i++) {
        argv[i + 1] = args[i];
    }
    argv[i + 1] = NULL;
    snprintf(path, sizeof(path), "%s/cmd.out", work);
    pid = kit_spawn(argv, env, path, path);
    rc = kit_wait(pid, kit_deadline_ms(30000));
    f = fopen(path, "r");
    if (f) {
        got = fread(out, 1, n - 1, f);
        fclose(f);
    }
    out[got] = '\0';
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
    char *dump[] = {"--dump-config", NULL};
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
    char schema[1024];

    snprintf(schema, sizeof(schema), "%s/result.schema.json", schemas);
    CHECK_INT(kit_validate(validator, schema, all_results), 0);
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
    struct kit_args a;
    pid_t sim;
    FILE *f;
    int rc;

    if (kit_parse_args(argc, argv, "it_exec", &a) != 0) {
        return 2;
    }
    worker = a.worker;
    sim_bin = a.sim;
    validator = a.validator;
    schemas = a.schemas;
    work = a.work;
    sim = kit_start_sim(sim_bin, work, &port);
    if (sim <= 0) {
        fprintf(stderr, "the simulator did not start\n");
        return 1;
    }
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", work);
    snprintf(all_results, sizeof(all_results), "%s/all-results.ndjson", work);
    fclose(fopen(all_results, "w"));
    f = fopen(accounts, "w");
    fprintf(f,
            "{\"accounts\":{\"kl\":{\"provider\":\"klaviyo\",\"base_url\":\"http://127.0.0.1:%d\","
            "\"credentials\":{\"api_key\":\"env:IT_KLAVIYO_KEY\"}},"
            "\"sg\":{\"provider\":\"sendgrid\",\"base_url\":\"http://127.0.0.1:%d/\","
            "\"credentials\":{\"api_key\":\"env:IT_SENDGRID_KEY\"}}}}\n",
            port, port);
    fclose(f);
    rc = sw_test_run(tests, NULL);
    kit_signal(sim, SIGTERM);
    if (kit_wait(sim, kit_deadline_ms(10000)) != 0) {
        fprintf(stderr, "the simulator did not exit cleanly\n");
        rc = 1;
    }
    return rc;
}
