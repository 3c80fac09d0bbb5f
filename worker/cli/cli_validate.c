/* `segworker validate`: every mistake a deployment can make before its first job, one line each
 * on standard error: the configuration, the provider specs, every account against its provider
 * (through the adapter contract), and unless --offline the brokers and the topics.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "sw_adapter.h"
#include "sw_admin.h"
#include "sw_client.h"
#include "sw_suggest.h"
#include "sw_worker.h"

#include <stdlib.h>
#include <string.h>

struct findings {
    int n;
    size_t naccounts;
};

/* One problem, for checks that return how many they found. */
static void say(void *arg, const char *problem)
{
    (void)arg;
    fprintf(stderr, "segworker validate: %s\n", problem);
}

/* One problem, counted. */
static void report(void *arg, const char *problem)
{
    struct findings *f = arg;

    say(NULL, problem);
    f->n++;
}

/* An account's provider must be one of the registry's (with the closest name when it is not). */
static const struct sw_provider *account_provider(const struct sw_registry *reg,
                                                  const struct sw_account *a, struct findings *f)
{
    const struct sw_provider *p = sw_registry_find(reg, a->provider);
    struct sw_suggest sg;
    char line[512];
    size_t i;

    if (p) {
        return p;
    }
    sw_suggest_init(&sg, a->provider);
    for (i = 0; i < reg->n; i++) {
        sw_suggest_offer(&sg, reg->v[i]->name);
    }
    snprintf(line, sizeof(line), "account %s: unknown provider \"%s\"%s%s%s", a->name, a->provider,
             sg.best ? " (did you mean " : "", sg.best ? sg.best : "", sg.best ? "?)" : "");
    report(f, line);
    return NULL;
}

static void check_accounts(const struct sw_config *cfg, const struct sw_registry *reg,
                           struct findings *f)
{
    struct sw_accounts *a;
    struct sw_status st;
    size_t i;

    if (!cfg->accounts) {
        report(f, "no account store: use --accounts FILE or SEGWORKER_ACCOUNTS");
        return;
    }
    sw_status_clear(&st);
    a = sw_accounts_load_report(cfg->accounts, report, f, &st);
    if (!a) {
        report(f, st.msg);
        return;
    }
    for (i = 0; reg && i < a->n; i++) {
        const struct sw_provider *p = account_provider(reg, &a->v[i], f);

        if (p) {
            f->n += sw_adapters_check_account(p, &a->v[i], say, NULL);
        }
    }
    f->naccounts = a->n;
    sw_accounts_destroy(a);
}

/* The brokers are contacted when the user named them (anywhere but the built-in default). */
static int brokers_named(const struct sw_cli *cli, const struct sw_config *cfg)
{
    return !cli->val[SW_OPT_OFFLINE] && sw_config_source_of(cfg, "brokers") != SW_CFG_DEFAULT;
}

enum sw_exit sw_cli_validate(const struct sw_cli *cli, const struct sw_config *cfg,
                             const struct sw_registry *reg)
{
    struct findings f = {0};
    struct sw_status st;

    sw_status_clear(&st);
    if (sw_worker_check_config(cfg) != 0) {
        report(&f, "the kafka.* properties are not accepted by librdkafka (see the log line)");
    }
    if (cfg->http_addr[0] && sw_admin_check_addr(cfg->http_addr, &st) != 0) {
        report(&f, st.msg);
    }
    if (!reg) {
        report(&f, "the provider specs do not load (see above)");
    }
    check_accounts(cfg, reg, &f);
    if (brokers_named(cli, cfg)) {
        const char *topics[] = {cfg->jobs_topic, cfg->results_topic, cfg->dlq_topic,
                                cfg->retry_topic, NULL};
        long long timeout = 10000;

        if (cli->val[SW_OPT_TIMEOUT_MS]) {
            char *end = NULL;

            timeout = strtoll(cli->val[SW_OPT_TIMEOUT_MS], &end, 10);
            if (end == cli->val[SW_OPT_TIMEOUT_MS] || *end || timeout < 1 || timeout > 3600000) {
                fprintf(stderr, "segworker validate: --timeout-ms takes 1..3600000\n");
                return SW_EXIT_USAGE;
            }
        }
        f.n += sw_client_check_topics(cfg, topics, timeout, say, NULL);
    }
    if (f.n) {
        fprintf(stderr, "segworker validate: %d problem(s)\n", f.n);
        return SW_EXIT_USAGE;
    }
    printf("ok: %zu provider spec(s), %zu account(s)\n", reg->n, f.naccounts);
    return SW_EXIT_OK;
}
