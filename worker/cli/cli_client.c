/* `segworker submit` and `segworker await`: their options turned into the Kafka clients' calls
 * (sw_client.c), and what those achieved into exit statuses.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "sw_client.h"

#include <stdlib.h>
#include <string.h>

#define MAX_STDIN_IDS 100000 /* job ids read by `await -` */

static enum sw_exit exit_of(enum sw_client_rc rc)
{
    switch (rc) {
    case SW_CLIENT_OK:
        return SW_EXIT_OK;
    case SW_CLIENT_FAILED:
        return SW_EXIT_FAILED;
    case SW_CLIENT_TIMEOUT:
        return SW_EXIT_TIMEOUT;
    case SW_CLIENT_SETUP:
        break;
    }
    return SW_EXIT_USAGE;
}

/* An option's integer in [lo, hi], dflt when it was not given. */
static int opt_ll(const struct sw_cli *cli, enum sw_cli_opt_id id, const char *name, long long lo,
                  long long hi, long long dflt, long long *out)
{
    const char *s = cli->val[id];
    char *end = NULL;

    if (!s) {
        *out = dflt;
        return 0;
    }
    *out = strtoll(s, &end, 10);
    if (end == s || *end || *out < lo || *out > hi) {
        fprintf(stderr, "segworker: --%s %s: expected an integer in %lld..%lld\n", name, s, lo, hi);
        return -1;
    }
    return 0;
}

enum sw_exit sw_cli_submit(const struct sw_cli *cli, const struct sw_config *cfg,
                           volatile sig_atomic_t *stop)
{
    struct sw_submit_opts o;
    const char *file = cli->val[SW_OPT_FILE];
    FILE *in = stdin;
    enum sw_exit rc;

    memset(&o, 0, sizeof(o));
    o.topic = cli->val[SW_OPT_TOPIC] ? cli->val[SW_OPT_TOPIC] : cfg->jobs_topic;
    o.key = cli->val[SW_OPT_KEY];
    if (opt_ll(cli, SW_OPT_TIMEOUT_MS, "timeout-ms", 1, 86400000, 60000, &o.timeout_ms) != 0) {
        return SW_EXIT_USAGE;
    }
    if (file && strcmp(file, "-") != 0) {
        in = fopen(file, "r");
        if (!in) {
            fprintf(stderr, "segworker submit: cannot open %s\n", file);
            return SW_EXIT_USAGE;
        }
    }
    rc = exit_of(sw_client_submit(cfg, &o, in, stdout, stop));
    if (in != stdin) {
        fclose(in);
    }
    return rc;
}

/* Job ids from stdin for `await -`: one per line, at most MAX_STDIN_IDS. -1 when out of memory
 * or over the bound. */
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
        if (*n == MAX_STDIN_IDS) {
            fprintf(stderr, "segworker await: more than %d job ids on stdin\n", MAX_STDIN_IDS);
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
    return feof(stdin) ? 0 : -1;
}

enum sw_exit sw_cli_await(const struct sw_cli *cli, const struct sw_config *cfg,
                          volatile sig_atomic_t *stop)
{
    struct sw_await_opts o;
    const char *corr = cli->val[SW_OPT_CORRELATION];
    char key[128];
    long long count;
    char **stdin_ids = NULL;
    int nstdin = 0, i;
    enum sw_exit rc = SW_EXIT_USAGE;

    memset(&o, 0, sizeof(o));
    if (opt_ll(cli, SW_OPT_TIMEOUT_MS, "timeout-ms", 1, 86400000, 60000, &o.timeout_ms) != 0 ||
        opt_ll(cli, SW_OPT_COUNT, "count", 1, 1000000, 1, &count) != 0) {
        return SW_EXIT_USAGE;
    }
    o.topic = cli->val[SW_OPT_TOPIC] ? cli->val[SW_OPT_TOPIC] : cfg->results_topic;
    o.count = (int)count;
    if (corr) {
        const char *eq = strchr(corr, '=');

        if (!eq || eq == corr || (size_t)(eq - corr) >= sizeof(key) || cli->noperands) {
            fprintf(stderr, "segworker await: --correlation KEY=VALUE, and no job ids with it\n");
            return SW_EXIT_USAGE;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - corr), corr);
        o.corr_key = key;
        o.corr_value = eq + 1;
    } else if (cli->noperands == 1 && !strcmp(cli->operands[0], "-")) {
        if (read_ids(&stdin_ids, &nstdin) != 0) {
            fprintf(stderr, "segworker await: cannot read the job ids on standard input\n");
            goto out;
        }
        o.job_ids = stdin_ids;
        o.njob_ids = nstdin;
    } else {
        o.job_ids = cli->operands;
        o.njob_ids = cli->noperands;
    }
    if (!o.corr_key && o.njob_ids == 0) {
        fprintf(stderr, "segworker await: give job ids, '-' or --correlation KEY=VALUE\n");
        goto out;
    }
    rc = exit_of(sw_client_await(cfg, &o, stdout, stop));
out:
    for (i = 0; i < nstdin; i++) {
        free(stdin_ids[i]);
    }
    free(stdin_ids);
    return rc;
}
