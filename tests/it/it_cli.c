/* Every CLI subcommand through the real binary: `--help` on each, version, providers, validate
 * (good and bad stores and properties), exec, and submit -> run -> await through a real Kafka
 * broker and the simulator (per-line errors and exit statuses of submit; await by job ids, by
 * ids on stdin, by correlation, and a timeout).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kit_args args;

/* Run `segworker av...` with input (NULL: none) on stdin; o holds its output (free it). */
static int run_cli(struct kit_output *o, const char *input, char *const *av)
{
    struct kit_worker w;

    kit_worker_init(&w, &args, NULL);
    kit_worker_args(&w, av);
    return kit_worker_exec(&w, args.work, "cli", input, kit_deadline_ms(90000), NULL, o);
}

/* run_cli for an expected exit status and nothing else. */
static int cli_rc(char *const *av)
{
    struct kit_output o;
    int rc = run_cli(&o, NULL, av);

    kit_output_free(&o);
    return rc;
}

static int has(const char *text, const char *needle)
{
    return text && strstr(text, needle) != NULL;
}

static void test_help(void)
{
    static const char *const cmds[] = {"run",       "exec",     "submit",  "await",
                                       "providers", "validate", "version", NULL};
    struct kit_output o;
    int i;

    for (i = 0; cmds[i]; i++) {
        char *av[] = {(char *)cmds[i], "--help", NULL};
        char want[64];

        snprintf(want, sizeof(want), "usage: segworker %s", cmds[i]);
        CHECK_INT(run_cli(&o, NULL, av), 0);
        CHECK(has(o.out, want));
        kit_output_free(&o);
    }
    {
        char *av[] = {"--help", NULL};

        CHECK_INT(run_cli(&o, NULL, av), 0);
        CHECK(has(o.out, "submit") && has(o.out, "await"));
        kit_output_free(&o);
    }
    {
        char *av[] = {"nosuch", "--help", NULL};

        CHECK_INT(cli_rc(av), 2);
    }
}

static void test_version_providers(void)
{
    char *v[] = {"version", NULL};
    char *p[] = {"providers", NULL};
    struct kit_output o;

    CHECK_INT(run_cli(&o, NULL, v), 0);
    CHECK(has(o.out, "segworker ") && has(o.out, "librdkafka"));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, p), 0);
    CHECK(has(o.out, "klaviyo") && has(o.out, "sendgrid") && has(o.out, "hubspot") &&
          has(o.out, "members") && has(o.out, "response formats"));
    kit_output_free(&o);
}

/* acme-klaviyo and acme-sendgrid on the simulator. */
static void write_accounts(const char *path, const struct kit_sim *sim)
{
    struct kit_accounts acc;

    kit_accounts_init(&acc);
    kit_account_sim(&acc, "acme-klaviyo", "klaviyo", sim);
    kit_account_sim(&acc, "acme-sendgrid", "sendgrid", sim);
    CHECK(kit_accounts_write(&acc, path) == 0);
}

static void test_validate_exec(void)
{
    char accounts[1100], bad[1100];
    struct kit_sim sim;
    struct kit_sim_opts so = {.tag = "sim-ve"};
    struct kit_output o;

    CHECK(kit_sim_start(&sim, &args, &so) == 0);
    kit_path(accounts, sizeof(accounts), args.work, "accounts.json");
    kit_path(bad, sizeof(bad), args.work, "bad-accounts.json");
    write_accounts(accounts, &sim);
    CHECK(kit_write_file(bad, "{\"accounts\":{\"a\":{\"provider\":\"klaviyo\",\"credentials\":"
                              "{\"api_key\":\"inline-secret\"}}}}\n") == 0);
    {
        char *av[] = {"validate", "--accounts", accounts, NULL};

        CHECK_INT(run_cli(&o, NULL, av), 0);
        CHECK(has(o.out, "ok: 10 provider spec(s), 2 account(s)"));
        kit_output_free(&o);
    }
    {
        char *av[] = {"validate", "--accounts", bad, NULL};

        CHECK_INT(run_cli(&o, NULL, av), 2);
        CHECK(has(o.err, "inline secrets are refused"));
        kit_output_free(&o);
    }
    {
        char *av[] = {"validate", "--accounts", accounts, "--set", "kafka.no.such.prop=1", NULL};

        CHECK_INT(cli_rc(av), 2);
    }
    {
        char *av[] = {"validate", "--accounts", accounts, "--set", "http_addr=9464", NULL};
        char *av2[] = {"validate", "--accounts", accounts, "--set", "http_addr=:9464", NULL};

        CHECK_INT(run_cli(&o, NULL, av), 2);
        CHECK(has(o.err, "http_addr \"9464\": expected host:port"));
        kit_output_free(&o);
        CHECK_INT(cli_rc(av2), 0);
    }
    {
        char *av[] = {"exec", "--accounts", accounts, NULL};

        CHECK_INT(
            run_cli(&o,
                    "{\"job_id\":\"x1\",\"operation\":\"segments.get\",\"provider\":"
                    "\"klaviyo\",\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"AmOy43\"}}",
                    av),
            0);
        CHECK(has(o.out, "\"status\":\"succeeded\"") && has(o.out, "\"id\":\"AmOy43\""));
        kit_output_free(&o);
    }
    CHECK_INT(kit_sim_stop(&sim), 0);
}

/* Count the submitted messages and those keyed by their job_id. */
struct keyed {
    int n;
    int keyed;
};

static int on_submitted(void *arg, const rd_kafka_message_t *m)
{
    struct keyed *k = arg;
    cJSON *j = cJSON_ParseWithLength(m->payload, m->len);
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "job_id"));

    k->n++;
    k->keyed += id && m->key_len == strlen(id) && !memcmp(m->key, id, m->key_len);
    cJSON_Delete(j);
    return 0;
}

/* submit: three good lines, a blank one, an invalid job, a non-JSON line; then from stdin, all
 * good: exit 0. The messages are keyed by job_id. */
static void submit(const struct kit_names *n, const char *t_jobs)
{
    const char *run = n->tag;
    char file[1100], text[4096], want[128];
    char *av[] = {"submit",       "--brokers", args.bootstrap, "--set",
                  (char *)t_jobs, "--file",    file,           NULL};
    char *av2[] = {"submit", "--brokers", args.bootstrap, "--topic", (char *)n->jobs, NULL};
    struct keyed k = {0, 0};
    struct kit_output o;

    kit_path(file, sizeof(file), args.work, "jobs.ndjson");
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
    CHECK(kit_write_file(file, text) == 0);
    CHECK_INT(run_cli(&o, NULL, av), 1);
    CHECK_INT(kit_output_nlines(&o), 3);
    snprintf(want, sizeof(want), "%s-a\n", run);
    CHECK(has(o.out, want));
    snprintf(want, sizeof(want), "%s-b\n", run);
    CHECK(has(o.out, want));
    snprintf(want, sizeof(want), "%s-c\n", run);
    CHECK(has(o.out, want));
    CHECK(has(o.err, "line 2: invalid_job"));
    CHECK(has(o.err, "line 5: invalid_job"));
    CHECK(!has(o.err, "line 3") && !has(o.err, "line 1:") && !has(o.err, "line 6"));
    kit_output_free(&o);
    snprintf(text, sizeof(text),
             "{\"job_id\":\"%s-d\",\"operation\":\"segments.delete\",\"provider\":\"klaviyo\","
             "\"account\":\"acme-klaviyo\",\"params\":{\"id\":\"ED0lpI\"}}\n",
             run);
    CHECK_INT(run_cli(&o, text, av2), 0);
    CHECK_INT(kit_output_nlines(&o), 1);
    kit_output_free(&o);
    CHECK_INT(kit_read_topic(args.bootstrap, n->jobs, 4, kit_deadline_ms(30000), on_submitted, &k),
              4);
    CHECK_INT(k.keyed, 4);
}

/* await by ids, by ids on stdin, by correlation; a timeout; usage errors. */
static void await(const struct kit_names *n, const char *t_res)
{
    const char *run = n->tag;
    char a[96], b[96], c[96], corr[128], id_missing[96], text[128];
    struct kit_output o;

    snprintf(a, sizeof(a), "%s-a", run);
    snprintf(b, sizeof(b), "%s-b", run);
    snprintf(c, sizeof(c), "%s-c", run);
    /* by ids: all three arrive, c failed (not_found): exit 1, and the failure is said; a and b
     * alone succeeded: exit 0. */
    {
        char *av[] = {
            "await",        a,       b,   c, "--brokers", args.bootstrap, "--set", (char *)t_res,
            "--timeout-ms", "90000", NULL};
        char *ok[] = {
            "await",        a,       b,   "--brokers", args.bootstrap, "--set", (char *)t_res,
            "--timeout-ms", "90000", NULL};

        CHECK_INT(run_cli(&o, NULL, ok), 0);
        kit_output_free(&o);
        CHECK_INT(run_cli(&o, NULL, av), 1);
        CHECK(has(o.err, "1 awaited job(s) failed"));
        CHECK(kit_output_nlines(&o) >= 3);
        CHECK(has(o.out, "\"status\":\"succeeded\"") && has(o.out, "\"code\":\"not_found\""));
        snprintf(corr, sizeof(corr), "\"job_id\":\"%s-b\"", run);
        CHECK(has(o.out, corr));
        kit_output_free(&o);
    }
    /* await - : ids on stdin (the output of submit) */
    {
        char *av[] = {"await",        "-",       "--brokers",
                      args.bootstrap, "--topic", (char *)n->results,
                      "--timeout-ms", "60000",   NULL};

        snprintf(text, sizeof(text), "%s-d\n", run);
        CHECK_INT(run_cli(&o, text, av), 0);
        CHECK_INT(kit_output_nlines(&o), 1);
        CHECK(has(o.out, "\"deleted\":true"));
        kit_output_free(&o);
    }
    /* by correlation: the two jobs of workflow wf-<run> */
    {
        char *av[] = {"await",       "--correlation", corr,           "--count",
                      "2",           "--brokers",     args.bootstrap, "--set",
                      (char *)t_res, "--timeout-ms",  "60000",        NULL};

        snprintf(corr, sizeof(corr), "workflowId=wf-%s", run);
        CHECK_INT(run_cli(&o, NULL, av), 0);
        CHECK(kit_output_nlines(&o) >= 2);
        CHECK(has(o.out, "\"taskRefName\":\"a\"") && has(o.out, "\"taskRefName\":\"b\""));
        kit_output_free(&o);
    }
    /* a job that never ran: timeout, exit 3, the id named */
    {
        char *av[] = {"await",        id_missing, "--brokers",
                      args.bootstrap, "--set",    (char *)t_res,
                      "--timeout-ms", "1500",     NULL};

        snprintf(id_missing, sizeof(id_missing), "%s-never", run);
        CHECK_INT(run_cli(&o, NULL, av), 3);
        CHECK(has(o.err, "no final result for") && has(o.err, id_missing));
        CHECK_INT(kit_output_nlines(&o), 0);
        kit_output_free(&o);
    }
    {
        char *av[] = {"await", "--brokers", args.bootstrap, NULL};
        char *av2[] = {"await", "x", "--timeout-ms", "soon", NULL};

        CHECK_INT(cli_rc(av), 2);
        CHECK_INT(cli_rc(av2), 2);
    }
}

/* submit -> run -> await through the broker. */
static void test_submit_run_await(void)
{
    char t_jobs[128], t_res[128], accounts[1100];
    struct kit_names n;
    struct kit_sim sim = {.pid = -1};
    struct kit_sim_opts so = {.tag = "sim-cli"};
    struct kit_worker w = {.pid = -1};

    CHECK(args.bootstrap[0]);
    if (!args.bootstrap[0]) {
        return;
    }
    kit_names_init(&n, "cli", NULL);
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", n.jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", n.results);
    CHECK(kit_topics_create(args.bootstrap, &n, 2, 2, 0) == 0);
    CHECK(kit_sim_start(&sim, &args, &so) == 0);
    kit_path(accounts, sizeof(accounts), args.work, "accounts-cli.json");
    write_accounts(accounts, &sim);
    submit(&n, t_jobs);
    /* run: the worker executes them. */
    kit_worker_init_run(&w, &args, args.bootstrap, accounts, &n);
    CHECK(kit_worker_start(&w, args.work, "worker-cli") > 0);
    await(&n, t_res);
    CHECK_INT(kit_worker_stop(&w, kit_deadline_ms(60000)), 0);
    CHECK_INT(kit_sim_stop(&sim), 0);
}

static const struct sw_test_case tests[] = {
    {"cli_help_every_command", test_help},
    {"cli_version_providers", test_version_providers},
    {"cli_validate_exec", test_validate_exec},
    {"cli_submit_run_await", test_submit_run_await},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_cli", args, tests)
