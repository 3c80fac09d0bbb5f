/* segworker: command line, signals, and the only place that ends the process.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_accounts.h"
#include "sw_adapter.h"
#include "sw_admin.h"
#include "sw_client.h"
#include "sw_alloc.h"
#include "sw_config.h"
#include "sw_exec.h"
#include "sw_job.h"
#include "sw_json.h"
#include "sw_log.h"
#include "sw_loop.h"
#include "sw_time.h"
#include "sw_version.h"
#include "sw_worker.h"

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_FAILED 1
#define EXIT_USAGE  2

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static void on_signal(int sig)
{
    static const char now[] = "segworker: second stop signal: exiting now, jobs in flight are "
                              "redelivered\n";

    if (sig == SIGHUP) {
        reload_flag = 1;
    } else if (stop_flag) {
        /* An operator who asks twice wants out now: nothing is committed past a result, so
         * exiting is safe (async-signal-safe calls only). */
        (void)!write(STDERR_FILENO, now, sizeof(now) - 1);
        _exit(SW_EXIT_ABANDONED);
    } else {
        stop_flag = 1;
    }
}

#define COMMON_OPTIONS                                                                             \
    "  --config FILE      JSON configuration file (or SEGWORKER_CONFIG)\n"                         \
    "  --brokers LIST     Kafka bootstrap servers (or SEGWORKER_BROKERS)\n"                        \
    "  --set KEY=VALUE    set any configuration key (see --dump-config)\n"                         \
    "  -h, --help         this text\n"

static const char usage_text[] =
    "usage: segworker <command> [options]\n"
    "\n"
    "commands (segworker <command> --help for each):\n"
    "  run        consume jobs from Kafka, execute them, publish results\n"
    "  exec       execute one job read from standard input; print each result message as one\n"
    "             JSON line (exit 0 succeeded, 1 failed, 2 usage or configuration error)\n"
    "  submit     publish jobs (NDJSON, one per line) to the jobs topic\n"
    "  await      print the results of given job ids or a correlation, with a timeout\n"
    "  providers  print the capability matrix (provider x operation, response formats);\n"
    "             with --markdown the whole of docs/PROVIDERS.md\n"
    "  validate   load the configuration, account store and provider specs, and report\n"
    "  version    print the version\n"
    "\n"
    "options (all commands):\n"
    "  --config FILE      JSON configuration file (or SEGWORKER_CONFIG)\n"
    "  --accounts FILE    account store (or SEGWORKER_ACCOUNTS)\n"
    "  --brokers LIST     Kafka bootstrap servers (or SEGWORKER_BROKERS)\n"
    "  --group NAME       consumer group (or SEGWORKER_GROUP)\n"
    "  --specs-dir DIR    provider specs to use instead of the built-in ones\n"
    "  --set KEY=VALUE    set any configuration key (see --dump-config)\n"
    "  --dump-config      print the configuration reference (Markdown) and exit\n"
    "  -h, --help         this text\n";

struct cmd_help {
    const char *name;
    const char *text;
};

static const struct cmd_help cmd_helps[] = {
    {"run",
     "usage: segworker run [options]\n"
     "\n"
     "Consume jobs from topics.jobs as group `group`, execute them, publish one result per\n"
     "job to topics.results (dead letters to topics.dlq). SIGTERM/SIGINT stop taking jobs,\n"
     "let provider calls under way finish (up to shutdown.grace_ms; jobs only waiting for a\n"
     "rate limit are left for the next owner) and exit; a second one exits at once. SIGHUP\n"
     "reloads the account store (running jobs keep\n"
     "the accounts they started with; a bad file keeps the current store). With http_addr\n"
     "set, GET /metrics, /healthz and /readyz are served there.\n"
     "Exit: 0 clean drain, 1 fatal error, 2 usage or configuration error, 3 stopped with\n"
     "jobs cut off mid-call (grace period over, or a second signal; they are redelivered).\n"
     "\n"
     "options:\n"
     "  --accounts FILE    account store (or SEGWORKER_ACCOUNTS)\n"
     "  --group NAME       consumer group (or SEGWORKER_GROUP)\n"
     "  --specs-dir DIR    provider specs to use instead of the built-in ones\n" COMMON_OPTIONS},
    {"exec",
     "usage: segworker exec [options] < job.json\n"
     "\n"
     "Execute one job read from standard input without Kafka; print each result message\n"
     "as one JSON line. Exit: 0 succeeded, 1 failed with a result, 2 usage/config.\n"
     "\n"
     "options:\n"
     "  --accounts FILE    account store (or SEGWORKER_ACCOUNTS)\n"
     "  --specs-dir DIR    provider specs to use instead of the built-in ones\n" COMMON_OPTIONS},
    {"submit",
     "usage: segworker submit [--file FILE] [--topic TOPIC] [options]\n"
     "\n"
     "Publish jobs, one JSON object per line (NDJSON), from FILE or standard input to\n"
     "the jobs topic, keyed by job_id, with an idempotent producer. Each line is checked\n"
     "as the worker would check it; bad lines are reported on stderr as \"line N: ...\"\n"
     "and not sent. The job_id of every acknowledged job is printed on stdout.\n"
     "Exit: 0 every line delivered, 1 some line invalid or undelivered, 2 usage/config.\n"
     "\n"
     "options:\n"
     "  --file FILE        read jobs from FILE instead of standard input\n"
     "  --topic TOPIC      publish to TOPIC instead of topics.jobs\n" COMMON_OPTIONS},
    {"await", "usage: segworker await [JOB_ID...] [--correlation KEY=VALUE [--count N]]\n"
              "                       [--timeout-ms MS] [--topic TOPIC] [options]\n"
              "\n"
              "Read the results topic from the beginning (a throwaway group, nothing committed)\n"
              "and print every result message of the given jobs as one JSON line, until each\n"
              "has its last part; or, with --correlation, results whose correlation.KEY equals\n"
              "VALUE until N of them (default 1) have their last part. Job ids may also be read\n"
              "from standard input (one per line) with '-'.\n"
              "Exit: 0 all arrived, 1 timeout (missing ones on stderr), 2 usage/config.\n"
              "\n"
              "options:\n"
              "  --correlation K=V  await by correlation.K == V instead of job ids\n"
              "  --count N          with --correlation: final results to wait for (default 1)\n"
              "  --timeout-ms MS    give up after MS milliseconds (default 60000)\n"
              "  --topic TOPIC      read TOPIC instead of topics.results\n" COMMON_OPTIONS},
    {"providers",
     "usage: segworker providers [--markdown] [--specs-dir DIR] [options]\n"
     "\n"
     "Print the capability matrix: provider x operation, and the response formats.\n"
     "\n"
     "options:\n"
     "  --markdown         print the whole of docs/PROVIDERS.md (generated from the specs)\n"
     "  --specs-dir DIR    provider specs to use instead of the built-in ones\n" COMMON_OPTIONS},
    {"validate",
     "usage: segworker validate [options]\n"
     "\n"
     "Load the configuration, the provider specs and the account store (resolving\n"
     "every credential reference), check the kafka.* properties with librdkafka and\n"
     "http_addr (without listening), and report. Exit: 0 valid, 2 invalid (the reason\n"
     "on stderr).\n"
     "\n"
     "options:\n"
     "  --accounts FILE    account store (or SEGWORKER_ACCOUNTS)\n"
     "  --specs-dir DIR    provider specs to use instead of the built-in ones\n" COMMON_OPTIONS},
    {"version", "usage: segworker version\n"
                "\n"
                "Print the version of segworker, librdkafka and libcurl.\n"},
    {NULL, NULL},
};

static const char *cmd_help_text(const char *cmd)
{
    const struct cmd_help *h;

    for (h = cmd_helps; cmd && h->name; h++) {
        if (!strcmp(h->name, cmd)) {
            return h->text;
        }
    }
    return NULL;
}

struct cli {
    const char *cmd;
    const char *config;
    const char *accounts;
    const char *brokers;
    const char *group;
    const char *specs_dir;
    const char *sets[64];
    int nsets;
    int markdown;
    int help;
    /* submit / await */
    const char *file;
    const char *topic;
    const char *correlation;
    const char *count;
    const char *timeout_ms;
    char **args; /* positional arguments after the command (await: job ids) */
    int nargs;
};

static int parse_args(int argc, char **argv, struct cli *cli)
{
    int i;

    memset(cli, 0, sizeof(*cli));
    cli->args = calloc((size_t)argc + 1, sizeof(*cli->args));
    if (!cli->args) {
        return -1;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli->help = 1;
            continue;
        } else if (!strcmp(a, "--dump-config")) {
            sw_config_dump_md(stdout);
            exit(0);
        } else if (!strcmp(a, "--config")) {
            dst = &cli->config;
        } else if (!strcmp(a, "--accounts")) {
            dst = &cli->accounts;
        } else if (!strcmp(a, "--brokers")) {
            dst = &cli->brokers;
        } else if (!strcmp(a, "--group")) {
            dst = &cli->group;
        } else if (!strcmp(a, "--specs-dir")) {
            dst = &cli->specs_dir;
        } else if (!strcmp(a, "--markdown")) {
            cli->markdown = 1;
            continue;
        } else if (!strcmp(a, "--file")) {
            dst = &cli->file;
        } else if (!strcmp(a, "--topic")) {
            dst = &cli->topic;
        } else if (!strcmp(a, "--correlation")) {
            dst = &cli->correlation;
        } else if (!strcmp(a, "--count")) {
            dst = &cli->count;
        } else if (!strcmp(a, "--timeout-ms")) {
            dst = &cli->timeout_ms;
        } else if (!strcmp(a, "--set")) {
            if (cli->nsets >= 64 || i + 1 >= argc) {
                fprintf(stderr, "segworker: --set needs KEY=VALUE (at most 64)\n");
                return -1;
            }
            cli->sets[cli->nsets++] = argv[++i];
            continue;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "segworker: unknown option %s\n", a);
            return -1;
        } else if (!cli->cmd) {
            cli->cmd = a;
            continue;
        } else {
            cli->args[cli->nargs++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "segworker: %s needs a value\n", a);
            return -1;
        }
        *dst = argv[++i];
    }
    if (cli->help) {
        const char *t = cmd_help_text(cli->cmd);

        fputs(t ? t : usage_text, stdout);
        exit(cli->cmd && !t ? EXIT_USAGE : 0);
    }
    if (!cli->cmd) {
        fputs(usage_text, stderr);
        return -1;
    }
    if (cli->nargs && strcmp(cli->cmd, "await") != 0) {
        fprintf(stderr, "segworker: unexpected argument %s\n", cli->args[0]);
        return -1;
    }
    return 0;
}

static int load_config(const struct cli *cli, struct sw_config *cfg)
{
    struct sw_status st;
    enum sw_log_level lvl;
    int i;

    sw_status_clear(&st);
    if (sw_config_load(cfg, cli->config, &st) != 0 ||
        (cli->accounts && sw_config_set(cfg, "accounts", cli->accounts, &st)) ||
        (cli->brokers && sw_config_set(cfg, "brokers", cli->brokers, &st)) ||
        (cli->group && sw_config_set(cfg, "group", cli->group, &st)) ||
        (cli->specs_dir && sw_config_set(cfg, "specs_dir", cli->specs_dir, &st))) {
        fprintf(stderr, "segworker: %s\n", st.msg);
        return -1;
    }
    for (i = 0; i < cli->nsets; i++) {
        char key[256];
        const char *eq = strchr(cli->sets[i], '=');

        if (!eq || (size_t)(eq - cli->sets[i]) >= sizeof(key)) {
            fprintf(stderr, "segworker: --set %s: expected KEY=VALUE\n", cli->sets[i]);
            return -1;
        }
        memcpy(key, cli->sets[i], (size_t)(eq - cli->sets[i]));
        key[eq - cli->sets[i]] = '\0';
        if (sw_config_set(cfg, key, eq + 1, &st)) {
            fprintf(stderr, "segworker: %s\n", st.msg);
            return -1;
        }
    }
    if (sw_log_level_parse(cfg->log_level, &lvl) == 0) {
        sw_log_set_level(lvl);
    }
    return 0;
}

/* The providers of the adapters linked into this binary (tasks/). */
static int load_providers(const struct sw_config *cfg, struct sw_registry *reg)
{
    struct sw_status st;

    sw_status_clear(&st);
    if (sw_adapters_load(reg, cfg->specs_dir, &st) != 0) {
        fprintf(stderr, "segworker: %s\n", st.msg);
        return -1;
    }
    return 0;
}

static struct sw_accounts *load_accounts(const struct sw_config *cfg, const struct sw_registry *reg)
{
    struct sw_status st;
    struct sw_accounts *a;

    sw_status_clear(&st);
    if (!cfg->accounts) {
        fprintf(stderr, "segworker: no account store: use --accounts FILE or SEGWORKER_ACCOUNTS\n");
        return NULL;
    }
    a = sw_accounts_load_checked(cfg->accounts, reg, &st);
    if (!a) {
        fprintf(stderr, "segworker: %s\n", st.msg);
    }
    return a;
}

/* ---- exec ---- */

struct exec_state {
    int finished;
    int succeeded;
};

static int exec_emit(void *arg, const struct sw_emit *em)
{
    struct exec_state *x = arg;

    if (em->payload) {
        fwrite(em->payload, 1, em->len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    if (em->last) {
        x->finished = 1;
        x->succeeded = em->succeeded;
    }
    return 0;
}

static char *read_stdin(size_t max, size_t *len)
{
    size_t cap = 65536;
    size_t n = 0;
    char *buf = malloc(cap);

    while (buf) {
        size_t r;

        if (n == cap) {
            char *nb;

            if (cap > max) {
                break;
            }
            cap *= 2;
            nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, stdin);
        n += r;
        if (r == 0) {
            break;
        }
    }
    *len = n;
    return buf;
}

static int cmd_exec(const struct sw_config *cfg, const struct sw_registry *reg,
                    const struct sw_accounts *accounts)
{
    struct exec_state x = {0, 0};
    struct sw_loop loop;
    struct sw_job_limits lim;
    struct sw_job *job = NULL;
    struct sw_status st;
    size_t len = 0;
    char *text;
    int64_t now = sw_now_wall_ms();

    sw_job_limits_from(cfg, &lim);
    /* Read a bit past the limit so that an oversized job is reported as such. */
    text = read_stdin(lim.max_bytes * 4 + 1, &len);
    if (!text) {
        fprintf(stderr, "segworker: out of memory\n");
        return EXIT_USAGE;
    }
    if (sw_loop_init(&loop, cfg, reg, accounts, exec_emit, &x) != 0) {
        free(text);
        fprintf(stderr, "segworker: cannot set up the HTTP engine\n");
        return EXIT_USAGE;
    }
    sw_status_clear(&st);
    if (sw_job_parse(text, len, &lim, &job, &st) != SW_E_OK) {
        if (!job) {
            fprintf(stderr, "segworker: invalid job: %s\n", st.msg);
            free(text);
            sw_loop_free(&loop);
            return EXIT_USAGE;
        }
        sw_exec_reject(&loop.eng, job, &st, NULL, now);
    } else {
        sw_exec_start(&loop.eng, job, NULL, now, 0);
    }
    free(text);
    while (!x.finished && !stop_flag) {
        sw_loop_turn(&loop, NULL, 0, 1000);
    }
    sw_loop_free(&loop);
    if (!x.finished) {
        fprintf(stderr, "segworker: interrupted\n");
        return EXIT_FAILED;
    }
    return x.succeeded ? 0 : EXIT_FAILED;
}

static int parse_ll(const char *s, long long lo, long long hi, long long dflt, long long *out)
{
    char *end = NULL;

    if (!s) {
        *out = dflt;
        return 0;
    }
    *out = strtoll(s, &end, 10);
    return end != s && !*end && *out >= lo && *out <= hi ? 0 : -1;
}

static int cmd_submit(const struct cli *cli, const struct sw_config *cfg)
{
    FILE *in = stdin;
    int rc;

    if (cli->file && strcmp(cli->file, "-") != 0) {
        in = fopen(cli->file, "r");
        if (!in) {
            fprintf(stderr, "segworker: cannot open %s\n", cli->file);
            return EXIT_USAGE;
        }
    }
    rc = sw_client_submit(cfg, cli->topic ? cli->topic : cfg->jobs_topic, in, stdout, &stop_flag);
    if (in != stdin) {
        fclose(in);
    }
    return rc;
}

/* Job ids from stdin for `await -`: one per line, at most 100000 (a bound, not a guess). */
static int read_ids(char ***ids, int *n)
{
    char line[512];
    char **v = NULL;
    int cap = 0;

    *n = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) {
            continue;
        }
        if (*n == 100000) {
            fprintf(stderr, "segworker: more than 100000 job ids on stdin\n");
            break;
        }
        if (*n == cap) {
            char **nv = realloc(v, (size_t)(cap ? cap * 2 : 64) * sizeof(*nv));

            if (!nv) {
                break;
            }
            v = nv;
            cap = cap ? cap * 2 : 64;
        }
        v[*n] = strdup(line);
        if (!v[*n]) {
            break;
        }
        (*n)++;
    }
    *ids = v;
    return 0;
}

static int cmd_await(const struct cli *cli, const struct sw_config *cfg)
{
    struct sw_await_opts o;
    char key[128];
    long long timeout, count;
    char **stdin_ids = NULL;
    int nstdin = 0, i, rc;

    memset(&o, 0, sizeof(o));
    if (parse_ll(cli->timeout_ms, 1, 86400000, 60000, &timeout) ||
        parse_ll(cli->count, 1, 1000000, 1, &count)) {
        fprintf(stderr, "segworker: --timeout-ms and --count take positive integers\n");
        return EXIT_USAGE;
    }
    o.topic = cli->topic ? cli->topic : cfg->results_topic;
    o.timeout_ms = timeout;
    o.count = (int)count;
    if (cli->correlation) {
        const char *eq = strchr(cli->correlation, '=');

        if (!eq || eq == cli->correlation || (size_t)(eq - cli->correlation) >= sizeof(key) ||
            cli->nargs) {
            fprintf(stderr, "segworker: --correlation KEY=VALUE, and no job ids with it\n");
            return EXIT_USAGE;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - cli->correlation), cli->correlation);
        o.corr_key = key;
        o.corr_value = eq + 1;
    } else if (cli->nargs == 1 && !strcmp(cli->args[0], "-")) {
        read_ids(&stdin_ids, &nstdin);
        o.job_ids = stdin_ids;
        o.njob_ids = nstdin;
    } else {
        o.job_ids = cli->args;
        o.njob_ids = cli->nargs;
    }
    if (!o.corr_key && o.njob_ids == 0) {
        fprintf(stderr, "segworker: await needs job ids or --correlation KEY=VALUE\n");
        return EXIT_USAGE;
    }
    rc = sw_client_await(cfg, &o, stdout, &stop_flag);
    for (i = 0; i < nstdin; i++) {
        free(stdin_ids[i]);
    }
    free(stdin_ids);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli cli;
    struct sw_config cfg;
    struct sw_registry reg;
    struct sw_accounts *accounts = NULL;
    struct sigaction sa;
    int rc = EXIT_USAGE;

    memset(&cfg, 0, sizeof(cfg));
    sw_registry_init(&reg);
    sw_alloc_install();
    if (parse_args(argc, argv, &cli) != 0) {
        free(cli.args);
        return EXIT_USAGE;
    }
    if (!strcmp(cli.cmd, "version")) {
        printf("segworker %s (librdkafka %s, %s)\n", SW_VERSION, rd_kafka_version_str(),
               curl_version());
        free(cli.args);
        return 0;
    }
    if (!cmd_help_text(cli.cmd)) {
        fprintf(stderr, "segworker: unknown command %s\n%s", cli.cmd, usage_text);
        free(cli.args);
        return EXIT_USAGE;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (!strcmp(cli.cmd, "run")) {
        sigaction(SIGHUP, &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "segworker: curl_global_init failed\n");
        free(cli.args);
        return EXIT_USAGE;
    }
    if (load_config(&cli, &cfg) != 0) {
        goto out;
    }
    if (!strcmp(cli.cmd, "submit")) {
        rc = cmd_submit(&cli, &cfg);
        goto out;
    }
    if (!strcmp(cli.cmd, "await")) {
        rc = cmd_await(&cli, &cfg);
        goto out;
    }
    if (load_providers(&cfg, &reg) != 0) {
        goto out;
    }
    if (!strcmp(cli.cmd, "providers")) {
        sw_adapters_describe(&reg, cli.markdown, stdout);
        rc = 0;
        goto out;
    }
    accounts = load_accounts(&cfg, &reg);
    if (!accounts) {
        goto out;
    }
    if (!strcmp(cli.cmd, "validate")) {
        struct sw_status st;

        sw_status_clear(&st);
        if (sw_worker_check_config(&cfg) != 0) {
            goto out; /* the reason was logged */
        }
        if (cfg.http_addr[0] && sw_admin_check_addr(cfg.http_addr, &st) != 0) {
            fprintf(stderr, "segworker: %s\n", st.msg);
            goto out;
        }
        printf("ok: %zu provider spec(s), %zu account(s)\n", reg.n, accounts->n);
        rc = 0;
    } else if (!strcmp(cli.cmd, "exec")) {
        rc = cmd_exec(&cfg, &reg, accounts);
    } else {
        rc = sw_worker_run(&cfg, &reg, accounts, &stop_flag, &reload_flag);
    }
out:
    sw_accounts_destroy(accounts);
    sw_registry_free(&reg);
    sw_config_free(&cfg);
    curl_global_cleanup();
    free(cli.args);
    sw_alloc_release();
    return rc;
}
