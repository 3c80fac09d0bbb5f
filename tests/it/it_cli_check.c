/* The command line's strictness and its checks, through the real binary: options foreign to a
 * command and misspelled SEGWORKER_* variables are usage errors; --version names the build;
 * --dump-config shows each value's source with secrets redacted; validate finds the account
 * mistakes that would fail every job, and unreachable brokers and missing topics; plan prints
 * requests without sending any; exec runs NDJSON; submit keys by account and gives up at
 * --timeout-ms with librdkafka's lines in the worker's log format.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sw_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kit_args args;

/* Run `segworker av...` with input (NULL: none) on stdin and env (NULL-terminated, may be NULL)
 * added to its environment; o holds its output (free it). */
static int run_env(struct kit_output *o, const char *input, char *const *env, char *const *av)
{
    struct kit_worker w;

    kit_worker_init(&w, &args, NULL);
    for (; env && *env; env++) {
        kit_worker_env(&w, "%s", *env);
    }
    kit_worker_args(&w, av);
    return kit_worker_exec(&w, args.work, "cli-check", input, kit_deadline_ms(90000), NULL, o);
}

static int run_cli(struct kit_output *o, const char *input, char *const *av)
{
    return run_env(o, input, NULL, av);
}

static int has(const char *text, const char *needle)
{
    return text && strstr(text, needle) != NULL;
}

/* No credential the kit gives the simulator's accounts appears in text. */
static int no_sim_secret(const char *text)
{
    char *const *e;

    for (e = kit_sim_env(); *e; e++) {
        if (has(text, strchr(*e, '=') + 1)) {
            fprintf(stderr, "secret of %s in the output\n", *e);
            return 0;
        }
    }
    return 1;
}

static void test_foreign_options(void)
{
    char *run_topic[] = {"run", "--topic", "x", "--group", "g", NULL};
    char *validate_file[] = {"validate", "--file", "x", NULL};
    char *exec_brokers[] = {"exec", "--brokers", "h:1", NULL};
    char *typo[] = {"run", "--acounts", "a.json", NULL};
    char *operand[] = {"version", "extra", NULL};
    char *twice[] = {"run", "--group", "a", "--group", "b", NULL};
    struct kit_output o;

    CHECK_INT(run_cli(&o, NULL, run_topic), 2);
    CHECK(has(o.err, "segworker run: option not accepted here: --topic"));
    CHECK(has(o.err, "run accepts: ") && has(o.err, "--group"));
    CHECK(!has(o.err, "kafka")); /* it never started */
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, validate_file), 2);
    CHECK(has(o.err, "--file") && has(o.err, "validate accepts: "));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, exec_brokers), 2);
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, typo), 2);
    CHECK(has(o.err, "unknown option --acounts (did you mean --accounts?)"));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, operand), 2);
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, twice), 2);
    CHECK(has(o.err, "--group given twice"));
    kit_output_free(&o);
}

static void test_unknown_env(void)
{
    char *env[] = {"SEGWORKER_MAX_INFLIGHT=5", NULL};
    char *good_env[] = {"SEGWORKER_MAX_IN_FLIGHT=5", NULL};
    char *av[] = {"--dump-config", NULL};
    struct kit_output o;

    CHECK_INT(run_env(&o, NULL, env, av), 2);
    CHECK(has(o.err, "SEGWORKER_MAX_INFLIGHT") &&
          has(o.err, "did you mean SEGWORKER_MAX_IN_FLIGHT?"));
    kit_output_free(&o);
    CHECK_INT(run_env(&o, NULL, good_env, av), 0);
    CHECK(has(o.out, "worker.max_in_flight = 5  # env"));
    kit_output_free(&o);
}

static void test_version(void)
{
    static const char *const forms[] = {"--version", "-V", "version", NULL};
    struct kit_output o;
    int i;

    for (i = 0; forms[i]; i++) {
        char *av[] = {(char *)forms[i], NULL};

        CHECK_INT(run_cli(&o, NULL, av), 0);
        CHECK(has(o.out, "segworker ") && has(o.out, "(commit ") && has(o.out, ", built "));
        CHECK(has(o.out, "librdkafka 2.") && has(o.out, "libcurl/") && has(o.out, "cJSON "));
        kit_output_free(&o);
    }
}

static void test_dump_config(void)
{
    char cfg[1100], file_opt[1200];
    char *env[] = {"SEGWORKER_GROUP=g-from-env", "SW_SASL=hunter2-by-ref", NULL};
    char *av[] = {"--dump-config",
                  "--config",
                  cfg,
                  "--brokers",
                  "b1:9092",
                  "--set",
                  "kafka.sasl.password=hunter2-inline",
                  "--set",
                  "kafka.ssl.key.password=env:SW_SASL",
                  NULL};
    char *reference[] = {"--dump-config=reference", NULL};
    struct kit_output o;

    kit_path(cfg, sizeof(cfg), args.work, "dump.json");
    snprintf(file_opt, sizeof(file_opt), "{\"worker\":{\"max_in_flight\":7}}\n");
    CHECK(kit_write_file(cfg, file_opt) == 0);
    CHECK_INT(run_env(&o, NULL, env, av), 0);
    CHECK(has(o.out, "brokers = \"b1:9092\"  # flag"));
    CHECK(has(o.out, "group = \"g-from-env\"  # env"));
    CHECK(has(o.out, "worker.max_in_flight = 7  # file"));
    CHECK(has(o.out, "topics.jobs = \"segment-jobs\"  # default"));
    CHECK(has(o.out, "kafka.sasl.password = \"[redacted]\"  # flag"));
    CHECK(has(o.out, "kafka.ssl.key.password = \"env:SW_SASL\""));
    CHECK(!has(o.out, "hunter2") && !has(o.err, "hunter2"));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, reference), 0);
    CHECK(has(o.out, "| `brokers` |"));
    kit_output_free(&o);
}

/* A store with the mistakes that used to pass validate and then fail every job (written as
 * text: the kit's accounts always carry a base URL, which would hide a missing settings.dc). */
static void write_bad_store(const char *path)
{
    CHECK(kit_write_file(path, "{\"accounts\":{"
                               "\"kl-typo\":{\"provider\":\"klaviyo\",\"credentials\":"
                               "{\"apikey\":\"env:KIT_KLAVIYO_KEY\"}},"
                               "\"mc-no-dc\":{\"provider\":\"mailchimp\",\"credentials\":"
                               "{\"api_key\":\"env:KIT_MAILCHIMP_KEY\"}},"
                               "\"sg-provider\":{\"provider\":\"sendgird\",\"credentials\":"
                               "{\"api_key\":\"env:KIT_SENDGRID_KEY\"}},"
                               "\"unset-ref\":{\"provider\":\"sendgrid\",\"credentials\":"
                               "{\"api_key\":\"env:NO_SUCH_VARIABLE_SET\"}},"
                               "\"fine\":{\"provider\":\"klaviyo\",\"credentials\":"
                               "{\"api_key\":\"env:KIT_KLAVIYO_KEY\"}}}}\n") == 0);
}

static void write_good_store(const char *path)
{
    CHECK(kit_write_file(path,
                         "{\"accounts\":{"
                         "\"fine\":{\"provider\":\"klaviyo\",\"credentials\":"
                         "{\"api_key\":\"env:KIT_KLAVIYO_KEY\"}},"
                         "\"mc\":{\"provider\":\"mailchimp\",\"settings\":{\"dc\":\"us6\"},"
                         "\"credentials\":{\"api_key\":\"env:KIT_MAILCHIMP_KEY\"}}}}\n") == 0);
}

static void test_validate_accounts(void)
{
    char bad[1100], good[1100];
    char *av[] = {"validate", "--accounts", bad, NULL};
    char *av_good[] = {"validate", "--accounts", good, NULL};
    struct kit_output o;

    kit_path(bad, sizeof(bad), args.work, "validate-bad.json");
    kit_path(good, sizeof(good), args.work, "validate-good.json");
    write_bad_store(bad);
    write_good_store(good);
    CHECK_INT(run_cli(&o, NULL, av), 2);
    CHECK(has(o.err, "account kl-typo: credential \"apikey\" is not used by provider klaviyo "
                     "(did you mean api_key?)"));
    CHECK(has(o.err, "account kl-typo: credentials.api_key is required"));
    CHECK(has(o.err, "account mc-no-dc: ") && has(o.err, "settings.dc is required"));
    CHECK(
        has(o.err, "account sg-provider: unknown provider \"sendgird\" (did you mean sendgrid?)"));
    CHECK(has(o.err, "unset-ref") && has(o.err, "NO_SUCH_VARIABLE_SET"));
    CHECK(!has(o.err, "account fine"));
    CHECK(has(o.err, "5 problem(s)"));
    CHECK(!has(o.out, "ok:"));
    CHECK(no_sim_secret(o.out) && no_sim_secret(o.err));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, av_good), 0);
    CHECK(has(o.out, "ok: 10 provider spec(s), 2 account(s)"));
    kit_output_free(&o);
}

static void test_validate_brokers(void)
{
    char good[1100], t_jobs[128], t_res[128], t_dlq[128], t_retry[128];
    char *down[] = {"validate",    "--accounts",   good,   "--brokers",
                    "127.0.0.1:1", "--timeout-ms", "1500", NULL};
    char *offline[] = {"validate",    "--accounts", good, "--brokers",
                       "127.0.0.1:1", "--offline",  NULL};
    char *missing[] = {"validate",     "--accounts", good,   "--brokers",
                       args.bootstrap, "--set",      t_jobs, NULL};
    char *present[] = {"validate", "--accounts", good,    "--brokers", args.bootstrap,
                       "--set",    t_jobs,       "--set", t_res,       "--set",
                       t_dlq,      "--set",      t_retry, NULL};
    struct kit_names n;
    struct kit_output o;

    kit_path(good, sizeof(good), args.work, "validate-good.json");
    write_good_store(good);
    CHECK_INT(run_cli(&o, NULL, down), 2);
    CHECK(has(o.err, "brokers 127.0.0.1:1: no answer within 1500 ms"));
    CHECK(!has(o.err, "%3|")); /* librdkafka's lines come through the logger */
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, NULL, offline), 0);
    kit_output_free(&o);
    CHECK(args.bootstrap[0]);
    kit_names_init(&n, "clichk", NULL);
    snprintf(t_jobs, sizeof(t_jobs), "topics.jobs=%s", n.jobs);
    snprintf(t_res, sizeof(t_res), "topics.results=%s", n.results);
    snprintf(t_dlq, sizeof(t_dlq), "topics.dlq=%s", n.dlq);
    snprintf(t_retry, sizeof(t_retry), "topics.retry=%s", n.retry);
    CHECK_INT(run_cli(&o, NULL, missing), 2);
    CHECK(has(o.err, "topic ") && has(o.err, n.jobs) && has(o.err, "does not exist"));
    kit_output_free(&o);
    CHECK(kit_topics_create(args.bootstrap, &n, 1, 1, 1) == 0);
    CHECK_INT(run_cli(&o, NULL, present), 0);
    CHECK(has(o.out, "ok: "));
    kit_output_free(&o);
}

static long long sim_total(const struct kit_sim *sim)
{
    cJSON *s = kit_sim_json(sim, "/_sim/stats");
    long long t = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "total"));

    cJSON_Delete(s);
    return s ? t : -1;
}

#define JOB(id, op, acct, params)                                                                  \
    "{\"job_id\":\"" id "\",\"operation\":\"" op "\",\"provider\":\"klaviyo\",\"account\":\"" acct \
    "\",\"params\":" params "}\n"

/* plan sends nothing (the simulator counts no request) and shows the requests, redacted; exec
 * then runs NDJSON jobs, the exit status the worst outcome. */
static void test_plan_and_exec(void)
{
    char accounts[1100];
    char *plan[] = {"plan", "--accounts", accounts, NULL};
    char *dry[] = {"exec", "--dry-run", "--accounts", accounts, NULL};
    char *exec[] = {"exec", "--accounts", accounts, NULL};
    struct kit_sim sim;
    struct kit_sim_opts so = {.tag = "sim-plan"};
    struct kit_accounts acc;
    struct kit_output o;
    long long before;

    CHECK(kit_sim_start(&sim, &args, &so) == 0);
    kit_path(accounts, sizeof(accounts), args.work, "plan-accounts.json");
    kit_accounts_init(&acc);
    kit_account_sim(&acc, "acme-klaviyo", "klaviyo", &sim);
    CHECK(kit_accounts_write(&acc, accounts) == 0);
    before = sim_total(&sim);
    CHECK(before >= 0);
    CHECK_INT(run_cli(&o,
                      JOB("p-del", "segments.delete", "acme-klaviyo", "{\"id\":\"ED0lpI\"}")
                          JOB("p-get", "segments.get", "acme-klaviyo", "{\"id\":\"AmOy43\"}"),
                      plan),
              0);
    CHECK_INT(kit_output_nlines(&o), 2);
    CHECK(has(o.out, "\"method\":\"DELETE\"") && has(o.out, "/api/segments/ED0lpI"));
    CHECK(has(o.out, "\"Authorization\":\"[redacted]\""));
    CHECK(no_sim_secret(o.out) && no_sim_secret(o.err));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, JOB("p-x", "segments.get", "nobody", "{\"id\":\"A\"}"), dry), 1);
    CHECK(has(o.out, "\"code\":\"unknown_account\""));
    kit_output_free(&o);
    CHECK_INT(sim_total(&sim), before);
    /* The planned delete was not made: the segment is still there. */
    CHECK_INT(run_cli(&o,
                      JOB("e-1", "segments.get", "acme-klaviyo", "{\"id\":\"ED0lpI\"}")
                          JOB("e-2", "segments.get", "acme-klaviyo", "{\"id\":\"AmOy43\"}"),
                      exec),
              0);
    CHECK(has(o.out, "\"job_id\":\"e-1\"") && has(o.out, "\"job_id\":\"e-2\""));
    CHECK(!has(o.out, "\"status\":\"failed\""));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o,
                      JOB("e-3", "segments.get", "acme-klaviyo", "{\"id\":\"AmOy43\"}")
                          JOB("e-4", "segments.get", "acme-klaviyo", "{\"id\":\"nope\"}"),
                      exec),
              1);
    CHECK(has(o.out, "\"job_id\":\"e-3\"") && has(o.out, "\"code\":\"not_found\""));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o, JOB("e-5", "segments.get", "acme-klaviyo", "{\"id\":\"AmOy43\"}") "[1]\n",
                      exec),
              2);
    CHECK(has(o.out, "\"job_id\":\"e-5\"") && has(o.err, "input 2: invalid job"));
    kit_output_free(&o);
    CHECK_INT(kit_sim_stop(&sim), 0);
}

struct keys {
    int n;
    int by_account;
};

static int on_keyed(void *arg, const rd_kafka_message_t *m)
{
    struct keys *k = arg;

    k->n++;
    k->by_account += m->key_len == strlen("acct-z") && !memcmp(m->key, "acct-z", m->key_len);
    return 0;
}

static void test_submit_key_timeout(void)
{
    struct kit_names n;
    struct keys k = {0, 0};
    char *keyed[] = {"submit", "--brokers", args.bootstrap, "--topic",
                     n.jobs,   "--key",     "account",      NULL};
    char *down[] = {"submit", "--brokers", "127.0.0.1:1", "--timeout-ms", "1500", NULL};
    char *bad_key[] = {"submit", "--brokers", args.bootstrap, "--key", "jobid", NULL};
    char *text_env[] = {"SEGWORKER_LOG_FORMAT=text", NULL};
    struct kit_output o;

    CHECK(args.bootstrap[0]);
    kit_names_init(&n, "clikey", NULL);
    CHECK(kit_topics_create(args.bootstrap, &n, 2, 1, 0) == 0);
    CHECK_INT(run_cli(&o,
                      "{\"job_id\":\"k1\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                      "\"account\":\"acct-z\"}\n"
                      "{\"job_id\":\"k2\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                      "\"account\":\"acct-z\"}\n",
                      keyed),
              0);
    kit_output_free(&o);
    CHECK_INT(kit_read_topic(args.bootstrap, n.jobs, 2, kit_deadline_ms(30000), on_keyed, &k), 2);
    CHECK_INT(k.by_account, 2);
    CHECK_INT(run_cli(&o, "{}\n", bad_key), 2);
    CHECK(has(o.err, "--key jobid"));
    kit_output_free(&o);
    CHECK_INT(run_cli(&o,
                      "{\"job_id\":\"t1\",\"operation\":\"segments.list\",\"provider\":\"klaviyo\","
                      "\"account\":\"a\"}\n",
                      down),
              3);
    CHECK(has(o.err, "not acknowledged within 1500 ms"));
    CHECK(!has(o.err, "%3|") && has(o.err, "\"level\":\"error\""));
    CHECK_INT(kit_output_nlines(&o), 0);
    kit_output_free(&o);
    /* log_format=text: the same lines for a terminal, librdkafka's too. */
    CHECK_INT(run_env(&o,
                      "{\"job_id\":\"t2\",\"operation\":\"segments.list\",\"provider\":"
                      "\"klaviyo\",\"account\":\"a\"}\n",
                      text_env, down),
              3);
    CHECK(has(o.err, " error ") && has(o.err, "kafka segworker-submit") &&
          has(o.err, "not acknowledged within 1500 ms"));
    CHECK(!has(o.err, "{\"ts\"") && !has(o.err, "%3|"));
    kit_output_free(&o);
}

static const struct sw_test_case tests[] = {
    {"cli_foreign_options", test_foreign_options},
    {"cli_unknown_env", test_unknown_env},
    {"cli_version", test_version},
    {"cli_dump_config", test_dump_config},
    {"cli_validate_accounts", test_validate_accounts},
    {"cli_validate_brokers", test_validate_brokers},
    {"cli_plan_and_exec", test_plan_and_exec},
    {"cli_submit_key_timeout", test_submit_key_timeout},
    {NULL, NULL},
};

KIT_TEST_MAIN("it_cli_check", args, tests)
