/* segworker: command line, signals, and the only place that ends the process.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_accounts.h"
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

#include "../tasks/sw_spec.h"

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

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char usage_text[] =
    "usage: segworker <command> [options]\n"
    "\n"
    "commands:\n"
    "  run        consume jobs from Kafka, execute them, publish results\n"
    "  exec       execute one job read from standard input; print each result message as one\n"
    "             JSON line (exit 0 succeeded, 1 failed, 2 usage or configuration error)\n"
    "  providers  print the providers and the operations each supports\n"
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

struct cli {
    const char *cmd;
    const char *config;
    const char *accounts;
    const char *brokers;
    const char *group;
    const char *specs_dir;
    const char *sets[64];
    int nsets;
};

static int parse_args(int argc, char **argv, struct cli *cli)
{
    int i;

    memset(cli, 0, sizeof(*cli));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;

        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            exit(0);
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
        } else if (!strcmp(a, "--set")) {
            if (cli->nsets >= 64 || i + 1 >= argc) {
                fprintf(stderr, "segworker: --set needs KEY=VALUE (at most 64)\n");
                return -1;
            }
            cli->sets[cli->nsets++] = argv[++i];
            continue;
        } else if (a[0] == '-') {
            fprintf(stderr, "segworker: unknown option %s\n", a);
            return -1;
        } else if (!cli->cmd) {
            cli->cmd = a;
            continue;
        } else {
            fprintf(stderr, "segworker: unexpected argument %s\n", a);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "segworker: %s needs a value\n", a);
            return -1;
        }
        *dst = argv[++i];
    }
    if (!cli->cmd) {
        fputs(usage_text, stderr);
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

static struct sw_specs *load_specs(const struct sw_config *cfg)
{
    struct sw_status st;
    struct sw_specs *specs;

    sw_status_clear(&st);
    specs = cfg->specs_dir ? sw_specs_load_dir(cfg->specs_dir, &st) : sw_specs_load_builtin(&st);
    if (!specs) {
        fprintf(stderr, "segworker: %s\n", st.msg);
    }
    return specs;
}

static struct sw_accounts *load_accounts(const struct sw_config *cfg, const struct sw_specs *specs)
{
    struct sw_status st;
    struct sw_accounts *a;
    size_t i;

    sw_status_clear(&st);
    if (!cfg->accounts) {
        fprintf(stderr, "segworker: no account store: use --accounts FILE or SEGWORKER_ACCOUNTS\n");
        return NULL;
    }
    a = sw_accounts_load(cfg->accounts, &st);
    if (!a) {
        fprintf(stderr, "segworker: %s\n", st.msg);
        return NULL;
    }
    for (i = 0; i < a->n; i++) {
        if (!sw_specs_find(specs, a->v[i].provider)) {
            fprintf(stderr, "segworker: account %s: unknown provider %s\n", a->v[i].name,
                    a->v[i].provider);
            sw_accounts_destroy(a);
            return NULL;
        }
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

static int cmd_exec(const struct sw_config *cfg, const struct sw_specs *specs,
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
    if (sw_loop_init(&loop, cfg, specs, accounts, exec_emit, &x) != 0) {
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

static int cmd_providers(const struct sw_specs *specs)
{
    static const char *const ops[] = {
        "segments.get",    "segments.list",  "segments.create",  "segments.update",
        "segments.delete", "segments.count", "segments.members", NULL};
    size_t i;
    int j;

    printf("%-12s", "provider");
    for (j = 0; ops[j]; j++) {
        printf(" %-17s", ops[j]);
    }
    printf("\n");
    for (i = 0; i < specs->n; i++) {
        printf("%-12s", specs->v[i].name);
        for (j = 0; ops[j]; j++) {
            printf(" %-17s",
                   cJSON_GetObjectItemCaseSensitive(specs->v[i].operations, ops[j]) ? "yes" : "-");
        }
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli;
    struct sw_config cfg;
    struct sw_specs *specs = NULL;
    struct sw_accounts *accounts = NULL;
    struct sigaction sa;
    int rc = EXIT_USAGE;

    sw_alloc_install();
    if (parse_args(argc, argv, &cli) != 0) {
        return EXIT_USAGE;
    }
    if (!strcmp(cli.cmd, "version")) {
        printf("segworker %s (librdkafka %s, %s)\n", SW_VERSION, rd_kafka_version_str(),
               curl_version());
        return 0;
    }
    if (strcmp(cli.cmd, "run") && strcmp(cli.cmd, "exec") && strcmp(cli.cmd, "providers") &&
        strcmp(cli.cmd, "validate")) {
        fprintf(stderr, "segworker: unknown command %s\n%s", cli.cmd, usage_text);
        return EXIT_USAGE;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "segworker: curl_global_init failed\n");
        return EXIT_USAGE;
    }
    if (load_config(&cli, &cfg) != 0) {
        goto out;
    }
    specs = load_specs(&cfg);
    if (!specs) {
        goto out;
    }
    if (!strcmp(cli.cmd, "providers")) {
        rc = cmd_providers(specs);
        goto out;
    }
    accounts = load_accounts(&cfg, specs);
    if (!accounts) {
        goto out;
    }
    if (!strcmp(cli.cmd, "validate")) {
        if (sw_worker_check_config(&cfg) != 0) {
            goto out; /* the reason was logged */
        }
        printf("ok: %zu provider spec(s), %zu account(s)\n", specs->n, accounts->n);
        rc = 0;
    } else if (!strcmp(cli.cmd, "exec")) {
        rc = cmd_exec(&cfg, specs, accounts);
    } else {
        rc = sw_worker_run(&cfg, specs, accounts, &stop_flag);
    }
out:
    sw_accounts_destroy(accounts);
    sw_specs_destroy(specs);
    sw_config_free(&cfg);
    curl_global_cleanup();
    sw_alloc_release();
    return rc;
}
