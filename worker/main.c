/* segworker: the command line dispatched to its commands (cli/), signals, and the only place that
 * ends the process.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "sw_accounts.h"
#include "sw_adapter.h"
#include "sw_alloc.h"
#include "sw_config.h"
#include "sw_loop.h"
#include "sw_worker.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static void install_signals(enum sw_cli_cmd_id cmd)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (cmd == SW_CMD_RUN) {
        sigaction(SIGHUP, &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
}

/* The commands that need no configuration: help, version, manual page, completions. -1 when
 * cli names another command. */
static int informational(const struct sw_cli *cli)
{
    if (cli->val[SW_OPT_HELP]) {
        sw_cli_help(stdout, sw_cli_cmd_get(cli->cmd));
        return SW_EXIT_OK;
    }
    if (cli->val[SW_OPT_VERSION] || cli->cmd == SW_CMD_VERSION) {
        sw_cli_version(stdout);
        return SW_EXIT_OK;
    }
    if (cli->val[SW_OPT_DUMP_CONFIG] && *cli->val[SW_OPT_DUMP_CONFIG]) {
        sw_config_dump_md(stdout); /* --dump-config=reference */
        return SW_EXIT_OK;
    }
    if (cli->cmd == SW_CMD_MANPAGE) {
        sw_cli_manpage(stdout);
        return SW_EXIT_OK;
    }
    if (cli->cmd == SW_CMD_COMPLETION) {
        if (cli->noperands != 1 || sw_cli_completion(stdout, cli->operands[0]) != 0) {
            fprintf(stderr, "segworker completion: name one shell: bash or zsh\n");
            return SW_EXIT_USAGE;
        }
        return SW_EXIT_OK;
    }
    return -1;
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

/* segworker providers [--markdown | --params PROVIDER OPERATION] */
static int describe(const struct sw_cli *cli, const struct sw_registry *reg)
{
    struct sw_status st;

    if (!cli->val[SW_OPT_PARAMS]) {
        if (cli->noperands) {
            fprintf(stderr, "segworker providers: operands are taken only with --params\n");
            return SW_EXIT_USAGE;
        }
        sw_adapters_describe(reg, cli->val[SW_OPT_MARKDOWN] != NULL, stdout);
        return SW_EXIT_OK;
    }
    if (cli->noperands != 2 || cli->val[SW_OPT_MARKDOWN]) {
        fprintf(stderr, "segworker providers: usage: --params PROVIDER OPERATION\n");
        return SW_EXIT_USAGE;
    }
    sw_status_clear(&st);
    if (sw_adapters_describe_params(reg, cli->operands[0], cli->operands[1], stdout, &st) != 0) {
        fprintf(stderr, "segworker: %s\n", st.msg);
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

/* The commands that run with the provider registry. */
static int with_providers(const struct sw_cli *cli, const struct sw_config *cfg)
{
    struct sw_registry reg;
    struct sw_accounts *accounts = NULL;
    struct sw_status st;
    int loaded, rc = SW_EXIT_USAGE;

    sw_registry_init(&reg);
    sw_status_clear(&st);
    loaded = sw_adapters_load(&reg, cfg->specs_dir, &st) == 0;
    if (!loaded) {
        fprintf(stderr, "segworker: %s\n", st.msg);
    }
    if (cli->cmd == SW_CMD_VALIDATE) {
        rc = sw_cli_validate(cli, cfg, loaded ? &reg : NULL);
        goto out;
    }
    if (!loaded) {
        goto out;
    }
    if (cli->cmd == SW_CMD_PROVIDERS) {
        rc = describe(cli, &reg);
        goto out;
    }
    accounts = load_accounts(cfg, &reg);
    if (!accounts) {
        goto out;
    }
    if (cli->cmd == SW_CMD_RUN) {
        rc = sw_worker_run(cfg, &reg, accounts, &stop_flag, &reload_flag);
    } else {
        rc = sw_cli_exec(cfg, &reg, accounts, stdin,
                         cli->cmd == SW_CMD_PLAN || cli->val[SW_OPT_DRY_RUN], &stop_flag);
    }
out:
    sw_accounts_destroy(accounts);
    sw_registry_free(&reg);
    return rc;
}

int main(int argc, char **argv)
{
    struct sw_cli cli;
    struct sw_config cfg;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    sw_alloc_install();
    if (sw_cli_parse(argc, argv, &cli, stderr) != 0) {
        sw_cli_free(&cli);
        sw_alloc_release();
        return SW_EXIT_USAGE;
    }
    rc = informational(&cli);
    if (rc >= 0) {
        goto done;
    }
    rc = SW_EXIT_USAGE;
    install_signals(cli.cmd);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "segworker: curl_global_init failed\n");
        goto done;
    }
    if (sw_cli_load_config(&cli, &cfg) != 0) {
        goto out;
    }
    if (cli.val[SW_OPT_DUMP_CONFIG]) {
        sw_config_dump(&cfg, stdout);
        rc = SW_EXIT_OK;
    } else if (cli.cmd == SW_CMD_SUBMIT) {
        rc = sw_cli_submit(&cli, &cfg, &stop_flag);
    } else if (cli.cmd == SW_CMD_AWAIT) {
        rc = sw_cli_await(&cli, &cfg, &stop_flag);
    } else {
        rc = with_providers(&cli, &cfg);
    }
out:
    sw_config_free(&cfg);
    curl_global_cleanup();
done:
    sw_cli_free(&cli);
    sw_alloc_release();
    return rc;
}
