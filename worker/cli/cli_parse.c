/* The strict command-line parser (see cli.h): each command accepts only its own options.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "sw_suggest.h"

#include <stdlib.h>
#include <string.h>

static const struct sw_cli_opt *opt_by_name(const char *name, size_t len)
{
    const struct sw_cli_opt *o;

    for (o = sw_cli_opts; o->name; o++) {
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) {
            return o;
        }
    }
    return NULL;
}

static const struct sw_cli_opt *opt_by_short(char c)
{
    const struct sw_cli_opt *o;

    for (o = sw_cli_opts; o->name; o++) {
        if (o->short_name && o->short_name == c) {
            return o;
        }
    }
    return NULL;
}

static const char *cmd_label(enum sw_cli_cmd_id cmd)
{
    const struct sw_cli_cmd *c = sw_cli_cmd_get(cmd);

    return c ? c->name : "segworker";
}

/* "segworker run: ...": the command's name, then what went wrong, then what it accepts. */
static int fail_opt(FILE *err, enum sw_cli_cmd_id cmd, const char *what, const char *word,
                    const char *hint)
{
    fprintf(err, "segworker%s%s: %s %s%s\n", cmd ? " " : "", cmd ? cmd_label(cmd) : "", what, word,
            hint ? hint : "");
    fprintf(err, "%s accepts: ", cmd_label(cmd));
    sw_cli_list_opts(err, cmd);
    fprintf(err, "\n(segworker %s%s--help for more)\n", cmd ? cmd_label(cmd) : "", cmd ? " " : "");
    return -1;
}

/* An option that exists but belongs to other commands: name them. */
static int fail_foreign(FILE *err, enum sw_cli_cmd_id cmd, const struct sw_cli_opt *o)
{
    const struct sw_cli_cmd *c;
    char hint[256] = " (an option of";
    char word[64];
    size_t n = strlen(hint);

    for (c = sw_cli_cmds; c->name && n < sizeof(hint) - 40; c++) {
        if (o->cmds & SW_CMD_BIT(c->id)) {
            n += (size_t)snprintf(hint + n, sizeof(hint) - n, " %s", c->name);
        }
    }
    snprintf(hint + n, sizeof(hint) - n, ")");
    snprintf(word, sizeof(word), "--%s", o->name);
    return fail_opt(err, cmd, "option not accepted here:", word, hint);
}

static int fail_unknown(FILE *err, enum sw_cli_cmd_id cmd, const char *arg, size_t len)
{
    const struct sw_cli_opt *o;
    struct sw_suggest sg;
    char word[64];
    char hint[96] = "";

    snprintf(word, sizeof(word), "%.*s", (int)(len < sizeof(word) ? len : sizeof(word) - 1), arg);
    sw_suggest_init(&sg, word + strspn(word, "-"));
    for (o = sw_cli_opts; o->name; o++) {
        if (o->cmds & SW_CMD_BIT(cmd)) {
            sw_suggest_offer(&sg, o->name);
        }
    }
    if (sg.best) {
        snprintf(hint, sizeof(hint), " (did you mean --%s?)", sg.best);
    }
    return fail_opt(err, cmd, "unknown option", word, hint);
}

static int add_set(struct sw_cli *cli, const char *key, const char *value, FILE *err)
{
    if (cli->nsets >= SW_CLI_MAX_SETS) {
        fprintf(err, "segworker: more than %d configuration settings on the command line\n",
                SW_CLI_MAX_SETS);
        return -1;
    }
    cli->set_key[cli->nsets] = key;
    cli->set_val[cli->nsets] = value;
    cli->nsets++;
    return 0;
}

/* --set KEY=VALUE: the key is copied (argv keeps the whole text). */
static int add_set_pair(struct sw_cli *cli, const char *kv, FILE *err)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : 0;

    if (!eq || klen == 0 || klen >= sizeof(cli->set_buf[0])) {
        fprintf(err, "segworker: --set %s: expected KEY=VALUE\n", kv);
        return -1;
    }
    if (cli->nsets >= SW_CLI_MAX_SETS) {
        return add_set(cli, NULL, NULL, err);
    }
    memcpy(cli->set_buf[cli->nsets], kv, klen);
    cli->set_buf[cli->nsets][klen] = '\0';
    return add_set(cli, cli->set_buf[cli->nsets], eq + 1, err);
}

/* Every option given, checked against the command once it is known (options may come before
 * it). */
static int check_given(const struct sw_cli *cli, const struct sw_cli_opt *const *given, int n,
                       FILE *err)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!(given[i]->cmds & SW_CMD_BIT(cli->cmd))) {
            return fail_foreign(err, cli->cmd, given[i]);
        }
    }
    return 0;
}

int sw_cli_parse(int argc, char **argv, struct sw_cli *cli, FILE *err)
{
    const struct sw_cli_opt **given;
    int ngiven = 0, i, rc = -1, operands_only = 0;

    memset(cli, 0, sizeof(*cli));
    cli->operands = calloc((size_t)argc + 1, sizeof(*cli->operands));
    given = calloc((size_t)argc + 1, sizeof(*given));
    if (!cli->operands || !given) {
        fprintf(err, "segworker: out of memory\n");
        goto out;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct sw_cli_opt *o = NULL;
        const char *value = NULL;
        size_t nlen;

        if (operands_only || a[0] != '-' || !a[1]) {
            if (!cli->cmd && !operands_only) {
                const struct sw_cli_cmd *c = sw_cli_cmd_find(a);

                if (!c) {
                    fprintf(err, "segworker: unknown command %s\n", a);
                    sw_cli_help(err, NULL);
                    goto out;
                }
                cli->cmd = c->id;
                continue;
            }
            cli->operands[cli->noperands++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            operands_only = 1;
            continue;
        }
        if (a[1] != '-') {
            o = a[2] ? NULL : opt_by_short(a[1]);
            if (!o) {
                /* Commands are known only later: name the option against what is known now. */
                rc = fail_unknown(err, cli->cmd, a, strlen(a));
                goto out;
            }
        } else {
            const char *eq = strchr(a + 2, '=');

            nlen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            o = opt_by_name(a + 2, nlen);
            if (!o) {
                rc = fail_unknown(err, cli->cmd, a, nlen + 2);
                goto out;
            }
            value = eq ? eq + 1 : NULL;
        }
        if (value && !o->metavar) {
            fprintf(err, "segworker: --%s takes no value\n", o->name);
            goto out;
        }
        if (!value && o->metavar && !o->optional_value) {
            if (i + 1 >= argc) {
                fprintf(err, "segworker: --%s needs a value (%s)\n", o->name, o->metavar);
                goto out;
            }
            value = argv[++i];
        }
        if (o->id == SW_OPT_SET) {
            if (add_set_pair(cli, value, err) != 0) {
                goto out;
            }
        } else if (cli->val[o->id]) {
            fprintf(err, "segworker: --%s given twice\n", o->name);
            goto out;
        } else {
            cli->val[o->id] = value ? value : (o->metavar ? "" : "1");
            if (o->key && add_set(cli, o->key, value, err) != 0) {
                goto out;
            }
        }
        given[ngiven++] = o;
    }
    if (check_given(cli, given, ngiven, err) != 0) {
        goto out;
    }
    if (cli->val[SW_OPT_DUMP_CONFIG] && *cli->val[SW_OPT_DUMP_CONFIG] &&
        strcmp(cli->val[SW_OPT_DUMP_CONFIG], "reference") != 0) {
        fprintf(err, "segworker: --dump-config=%s: the only form is --dump-config=reference\n",
                cli->val[SW_OPT_DUMP_CONFIG]);
        goto out;
    }
    if (cli->val[SW_OPT_HELP] || cli->val[SW_OPT_VERSION] || cli->val[SW_OPT_DUMP_CONFIG]) {
        rc = 0; /* informational: operands and a missing command do not matter */
        goto out;
    }
    if (!cli->cmd) {
        fprintf(err, "segworker: no command given\n");
        sw_cli_help(err, NULL);
        goto out;
    }
    if (cli->noperands && !sw_cli_cmd_get(cli->cmd)->operands) {
        fprintf(err, "segworker %s: unexpected argument %s (%s takes no operands)\n",
                cmd_label(cli->cmd), cli->operands[0], cmd_label(cli->cmd));
        goto out;
    }
    rc = 0;
out:
    free(given);
    return rc;
}

void sw_cli_free(struct sw_cli *cli)
{
    if (cli) {
        free(cli->operands);
        cli->operands = NULL;
        cli->noperands = 0;
    }
}
