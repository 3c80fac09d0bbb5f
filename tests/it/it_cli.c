/* Every CLI subcommand through the real binary: `--help` on each, version, providers, validate
 * (good and bad stores and properties), exec, and submit -> run -> await through a real Kafka
 * broker and the simulator (per-line errors and exit statuses of submit; await by job ids, by
 * ids on stdin, by correlation, and a timeout).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "opskit.h"
#include "sw_test.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct kit_args args;
static char work[1024];
static char out_path[1100], err_path[1100], in_path[1100];

/* Run the worker binary with argv (after the program name), stdin from in (may be NULL); returns
 * the exit status; stdout and stderr are in out_path / err_path. */
static int run_cli(const char *in, const char *const *av)
{
    char *argv[40];
    char *env[] = {"CLI_KLAVIYO_KEY=sim-klaviyo-key", "CLI_SENDGRID_KEY=sim-sendgrid-key", NULL};
    int n = 0;
    pid_t pid;

    argv[n++] = (char *)args.worker;
    while (*av && n < 39) {
        argv[n++] = (char *)*av++;
    }
    argv[n] = NULL;
    pid = kit_spawn_in(argv, env, in, out_path, err_path);
    return pid > 0 ? kit_wait(pid, kit_deadline_ms(90000)) : -1;
}

static int out_has(const char *needle)
{
    char *s = ops_read_file(out_path, NULL);
    int r = s && strstr(s, needle) != NULL;

    free(s);
    return r;
}

static int err_has(const char *needle)
{
    char *s = ops_read_file(err_path, NULL);
    int r = s && strstr(s, needle) != NULL;

    free(s);
    return r;
}

static int out_lines(void)
{
    char *s = ops_read_file(out_path, NULL);
    int n = 0;
    char *p;

    for (p = s; p && *p; p++) {
        n += *p == '\n';
    }
    free(s);
    return n;
}

static void test_help(void)
{
    static const char *const cmds[] = {"run",       "exec",     "submit",  "await",
                                       "providers", "validate", "version", NULL};
    int i;

    for (i = 0; cmds[i]; i++) {
        const char *av[] = {cmds[i], "--help", NULL};
        char want[64];

        snprintf(want, sizeof(want), "usage: segworker %s", cmds[i]);
        CHECK_INT(run_cli(NULL, av), 0);
        CHECK(out_has(want));
    }
    {
        const char *av[] = {"--help", NULL};

        CHECK_INT(run_cli(NULL, av), 0);
        CHECK(out_has("submit") && out_has("await"));
    }
    {
        const char *av[] = {"nosuch", "--help", NULL};

        CHECK_INT(run_cli(NULL, av), 2);
    }
}

static void test_version_providers(void)
{
    const char *v[] = {"version", NULL};
    const char *p[] = {"providers", NULL};

    CHECK_INT(run_cli(NULL, v), 0);
    CHECK(out_has("segworker ") && out_has("librdkafka"));
    CHECK_INT(run_cli(NULL, p), 0);
    CHECK(out_has("klaviyo") && out_has("sendgrid") && out_has("hubspot") && out_has("members") &&
          out_has("response formats"));
}

static void write_accounts(const char *path, int port)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "{\"accounts\":{\"acme-klaviyo\":{\"provider\":\"klaviyo\",\"base_url\":"
             "\"http://127.0.0.1:%d\",\"credentials\":{\"api_key\":\"env:CLI_KLAVIYO_KEY\"}},"
             "\"acme-sendgrid\":{\"provider\":\"sendgrid\",\"base_url\":\"http://127.0.0.1:%d\","
             "\"credentials\":{\"api_key\":\"env:CLI_SENDGRID_KEY\"}}}}\n",
             port, port);
    CHECK(ops_write_file(path, text) == 0);
}

static void test_validate_exec(void)
{
    char accounts[1100], bad[1100];
    int port = 0;
    pid_t sim = ops_start_sim(args.sim, work, "sim-ve", NULL, NULL, &port);

    CHECK(sim > 0);
    snprintf(accounts, sizeof(accounts), "%s/accounts.json", work);
    snprintf(bad, sizeof(bad), "%s/bad-accounts.json", work);
    write_accounts(accounts, port);
    CHECK(ops_write_file(bad, "{\"accounts\":{\"a\":{\"provider\":\"klaviyo\",\"credentials\":"
                              "{\"api_key\":\"inline-secret\"}}}}\n") == 0);
    {
        const char *av[] = {"validate", "--accounts", accounts, NULL};

        CHECK_INT(run_cli(NULL, av), 0);
        CHECK(out_has("ok: 10 provider spec(s), 2 account(s)"));
    }
    {
        const char *av[] = {"validate", "--accounts", bad, NULL};

        CHECK_INT(run_cli(NULL, av), 2);
        CHECK(err_has("inline secrets are refused"));
    }
    {
        const char *av[] = {"validate", "--accounts",           accounts,
                            "--set",    "kafka.no.such.prop=1", NULL};

        CHECK_INT(run_cli(NULL, av), 2);
    }
    {
        const char *av[] = {"validate", "--accounts", accounts, "--set", "http_addr=9464", NULL};
        const char *av2[] = {"validate", "--accounts", accounts, "--set", "http_addr=:9464", NULL};

        CHECK_INT(run_cli(NULL, av), 2);
        CHECK(err_has("http_addr \"9464\": expected host:port"));
        CHECK_INT(run_cli(NULL, av2), 0);
    }
    {
        const char *av[] = {"exec", "--accounts", accounts, NULL};

        snprintf(in_path, sizeof(in_path), "%s/exec-job.json", work);
        CHECK(ops_write_file(in_path, "{\"job_id\":\"x1\",\"operation\":\"segments.get\","
                                      "\"provider\":\"klaviyo\",\"account\":\"acme-klaviyo\","
                                      "\"params\":{\"id\":\"AmOy43\"}}") == 0);
        CHECK_INT(run_cli(in_path, av), 0);
        CHECK(out_has("\"status\":\"succeeded\"") && out_has("\"id\":\"AmOy43\""));
    }
    kit_signal(sim, SIGTERM);
    CHECK_INT(kit_wait(sim, kit_deadline_ms(10000)), 0);
}

static void test_submit_run_await(void)
{
    const char *bootstrap = kit_bootstrap();
    char run[32], jobs[64], results[64], dlq[64], group[64];
    char t_jobs[128], t_res[128], t_dlq[128], accounts[1100], wlog[1100], text[4096];
    char corr[96], id_missing[96];
    pid_t sim = -1, w = -1;
    int port = 0;

    CHECK(bootstrap != NULL);
    if (!bootstrap) {
        return;
    }
    snprintf(run, sizeof(run), "cli%d", (int)getpid());
    snprintf(jobs, sizeof(jobs), "%s-jobs", run);
    snprintf(results, sizeof(results), "%s-results", run);
    snprintf(dlq, sizeof(dlq), "%s-dlq", run);
    snprintf(group, sizeof(group), "%s-group", run);
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", dlq);
    CHECK(kit_create_topic(bootstrap, jobs, 2) == 0);
    CHECK(kit_create_topic(bootstrap, results, 2) == 0);
    CHECK(kit_create_topic(bootstrap, dlq, 1) == 0);
    sim = ops_start_sim(args.sim, work, "sim-cli", NULL, NULL, &port);
    CHECK(sim > 0);
    snprintf(accounts, sizeof(accounts), "%s/accounts-cli.json", work);
    write_accounts(accounts, port);

    /* submit: three good lines, a blank one, an invalid job, a non-JSON line. */
    snprintf(in_path, sizeof(in_path), "%s/jobs.ndjson", work);
    snprintf(text, sizeof(text),
             "{\"job_id\":\"%s-a\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"AmOy43\"},\"correlation\":"
             "{\"workflowId\":\"wf-%s\",\"taskRefName\":\"a\"}}\n"
             "{\"job_id\":\"%s-bad\",\"provider\":\"klaviyo\"}\n"
             "\n"
             "{\"job_id\":\"%s-b\",\"operation\":\"segments.list\",\"provider\":\"sendgrid\","
             "\"account\":\"acme-sendgrid\",\"correlation\":{\"workflowId\":\"wf-%s\","
             "\"taskRefName\":\"b\"}}\n"
             "this is not json\n"
             "{\"job_id\":\"%s-c\",\"operation\":\"segments.get\",\"provider\":\"klaviyo\","
             "\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"nope\"}}\n",
             run, run, run, run, run, run);
    CHECK(ops_write_file(in_path, text) == 0);
    {
        const char *av[] = {"submit", "--brokers", bootstrap, "--set",
                            t_jobs,   "--file",    in_path,   NULL};
        char want[96];

        CHECK_INT(run_cli(NULL, av), 1);
        CHECK_INT(out_lines(), 3);
        snprintf(want, sizeof(want), "%s-a\n", run);
        CHECK(out_has(want));
        snprintf(want, sizeof(want), "%s-b\n", run);
        CHECK(out_has(want));
        snprintf(want, sizeof(want), "%s-c\n", run);
        CHECK(out_has(want));
        CHECK(err_has("line 2: invalid_job"));
        CHECK(err_has("line 5: invalid_job"));
        CHECK(!err_has("line 3") && !err_has("line 1:") && !err_has("line 6"));
    }
    /* submit from stdin, all good: exit 0; its ids (stdout) feed `await -` below. */
    snprintf(in_path, sizeof(in_path), "%s/jobs2.ndjson", work);
    snprintf(text, sizeof(text),
             "{\"job_id\":\"%s-d\",\"operation\":\"segments.delete\",\"provider\":\"klaviyo\","
             "\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"ED0lpI\"}}\n",
             run);
    CHECK(ops_write_file(in_path, text) == 0);
    {
        const char *av[] = {"submit", "--brokers", bootstrap, "--topic", jobs, NULL};

        CHECK_INT(run_cli(in_path, av), 0);
        CHECK_INT(out_lines(), 1);
    }
    /* The submitted messages are keyed by job_id. */
    {
        rd_kafka_t *r = kit_reader(bootstrap, jobs);
        int64_t end = kit_now_ms() + kit_deadline_ms(30000);
        int n = 0, keyed = 0;

        while (n < 4 && kit_now_ms() < end) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(r, 200);

            if (m) {
                if (!m->err) {
                    cJSON *j = cJSON_ParseWithLength(m->payload, m->len);
                    const char *id =
                        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "job_id"));

                    n++;
                    keyed += id && m->key_len == strlen(id) && !memcmp(m->key, id, m->key_len);
                    cJSON_Delete(j);
                }
                rd_kafka_message_destroy(m);
            }
        }
        CHECK_INT(n, 4);
        CHECK_INT(keyed, 4);
        rd_kafka_consumer_close(r);
        rd_kafka_destroy(r);
    }

    /* run: the worker executes them. */
    snprintf(wlog, sizeof(wlog), "%s/worker-cli.log", work);
    {
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
                         "--set",
                         t_dlq,
                         NULL};
        char *env[] = {"CLI_KLAVIYO_KEY=sim-klaviyo-key", "CLI_SENDGRID_KEY=sim-sendgrid-key",
                       NULL};

        w = kit_spawn(wargv, env, NULL, wlog);
        CHECK(w > 0);
    }

    /* await by ids: all three arrive (one failed with a result is still an arrival). */
    {
        char a[96], b[96], c[96];
        const char *av[] = {"await",        a,       b,   c, "--brokers", bootstrap, "--set", t_res,
                            "--timeout-ms", "90000", NULL};

        snprintf(a, sizeof(a), "%s-a", run);
        snprintf(b, sizeof(b), "%s-b", run);
        snprintf(c, sizeof(c), "%s-c", run);
        CHECK_INT(run_cli(NULL, av), 0);
        CHECK(out_lines() >= 3);
        CHECK(out_has("\"status\":\"succeeded\"") && out_has("\"code\":\"not_found\""));
        snprintf(corr, sizeof(corr), "\"job_id\":\"%s-b\"", run);
        CHECK(out_has(corr));
    }
    /* await - : ids on stdin (the output of submit) */
    {
        const char *av[] = {"await",        "-",     "--brokers", bootstrap, "--topic", results,
                            "--timeout-ms", "60000", NULL};
        char id_line[96];

        snprintf(in_path, sizeof(in_path), "%s/ids.txt", work);
        snprintf(id_line, sizeof(id_line), "%s-d\n", run);
        CHECK(ops_write_file(in_path, id_line) == 0);
        CHECK_INT(run_cli(in_path, av), 0);
        CHECK_INT(out_lines(), 1);
        CHECK(out_has("\"deleted\":true"));
    }
    /* await by correlation: the two jobs of workflow wf-<run> */
    {
        const char *av[] = {"await",   "--correlation", corr,  "--count",      "2",     "--brokers",
                            bootstrap, "--set",         t_res, "--timeout-ms", "60000", NULL};

        snprintf(corr, sizeof(corr), "workflowId=wf-%s", run);
        CHECK_INT(run_cli(NULL, av), 0);
        CHECK(out_lines() >= 2);
        CHECK(out_has("\"taskRefName\":\"a\"") && out_has("\"taskRefName\":\"b\""));
    }
    /* await a job that never ran: timeout, exit 1, the id named */
    {
        const char *av[] = {"await", id_missing,     "--brokers", bootstrap, "--set",
                            t_res,   "--timeout-ms", "1500",      NULL};

        snprintf(id_missing, sizeof(id_missing), "%s-never", run);
        CHECK_INT(run_cli(NULL, av), 1);
        CHECK(err_has("no final result for") && err_has(id_missing));
        CHECK_INT(out_lines(), 0);
    }
    /* await usage errors */
    {
        const char *av[] = {"await", "--brokers", bootstrap, NULL};
        const char *av2[] = {"await", "x", "--timeout-ms", "soon", NULL};

        CHECK_INT(run_cli(NULL, av), 2);
        CHECK_INT(run_cli(NULL, av2), 2);
    }

    kit_signal(w, SIGTERM);
    CHECK_INT(kit_wait(w, kit_deadline_ms(60000)), 0);
    kit_signal(sim, SIGTERM);
    CHECK_INT(kit_wait(sim, kit_deadline_ms(10000)), 0);
}

static const struct sw_test_case tests[] = {
    {"cli_help_every_command", test_help},
    {"cli_version_providers", test_version_providers},
    {"cli_validate_exec", test_validate_exec},
    {"cli_submit_run_await", test_submit_run_await},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    if (kit_parse_args(argc, argv, "it_cli", &args) != 0) {
        return 2;
    }
    snprintf(work, sizeof(work), "%s", args.work);
    snprintf(out_path, sizeof(out_path), "%s/cli.out", work);
    snprintf(err_path, sizeof(err_path), "%s/cli.err", work);
    return sw_test_run(tests, NULL);
}
