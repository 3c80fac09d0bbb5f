/* The segworker command line: one table of commands and options (cli_table.c) from which the
 * parser, --help, the manual page and the shell completions are all generated, and the commands
 * themselves. Exit statuses are decided here, in one place (enum sw_exit).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_CLI_H
#define SW_CLI_H

#include "sw_accounts.h"
#include "sw_config.h"

#include <signal.h>
#include <stdio.h>

struct sw_registry;

/* Every exit status of the binary. */
enum sw_exit {
    SW_EXIT_OK = 0,
    SW_EXIT_FAILED = 1,  /* a job failed (exec, await), a line was refused (submit), run: fatal */
    SW_EXIT_USAGE = 2,   /* usage or configuration error; validate: problems found */
    SW_EXIT_TIMEOUT = 3, /* submit: not acknowledged in time; await: results missing */
};

enum sw_cli_cmd_id {
    SW_CMD_NONE = 0, /* options only: --help, --version, --dump-config */
    SW_CMD_RUN,
    SW_CMD_EXEC,
    SW_CMD_PLAN,
    SW_CMD_SUBMIT,
    SW_CMD_AWAIT,
    SW_CMD_PROVIDERS,
    SW_CMD_VALIDATE,
    SW_CMD_VERSION,
    SW_CMD_COMPLETION,
    SW_CMD_MANPAGE,
    SW_CMD__COUNT
};

enum sw_cli_opt_id {
    SW_OPT_HELP,
    SW_OPT_VERSION,
    SW_OPT_DUMP_CONFIG,
    SW_OPT_CONFIG,
    SW_OPT_ACCOUNTS,
    SW_OPT_BROKERS,
    SW_OPT_GROUP,
    SW_OPT_SPECS_DIR,
    SW_OPT_SET,
    SW_OPT_MARKDOWN,
    SW_OPT_FILE,
    SW_OPT_TOPIC,
    SW_OPT_KEY,
    SW_OPT_CORRELATION,
    SW_OPT_COUNT,
    SW_OPT_TIMEOUT_MS,
    SW_OPT_OFFLINE,
    SW_OPT_DRY_RUN,
    SW_OPT__COUNT
};

#define SW_CMD_BIT(c) (1u << (c))

/* What completes an option's value in a shell. */
enum sw_cli_complete { SW_COMPLETE_NONE, SW_COMPLETE_FILE, SW_COMPLETE_DIR, SW_COMPLETE_KEY };

struct sw_cli_opt {
    enum sw_cli_opt_id id;
    const char *name;    /* without the dashes: "brokers" */
    char short_name;     /* 'h', or 0 */
    const char *metavar; /* the value's name ("LIST"); NULL: a flag */
    int optional_value;  /* the value is given only as --name=VALUE */
    const char *key;     /* the configuration key the value sets; NULL: none */
    enum sw_cli_complete complete;
    unsigned cmds; /* SW_CMD_BIT of every command that accepts it */
    const char *help;
};

struct sw_cli_cmd {
    enum sw_cli_cmd_id id;
    const char *name;
    const char *operands; /* "[JOB_ID...]", or NULL: none accepted */
    const char *summary;  /* one line */
    const char *text;     /* paragraphs separated by blank lines */
    const char *exit;     /* its exit statuses, one "N meaning" per line */
};

/* The table (cli_table.c); both lists end with an entry whose name is NULL. */
extern const struct sw_cli_opt sw_cli_opts[];
extern const struct sw_cli_cmd sw_cli_cmds[];

const struct sw_cli_cmd *sw_cli_cmd_find(const char *name);
const struct sw_cli_cmd *sw_cli_cmd_get(enum sw_cli_cmd_id id);

#define SW_CLI_MAX_SETS 64

/* A parsed command line. Strings point into argv. */
struct sw_cli {
    enum sw_cli_cmd_id cmd;
    const char *val[SW_OPT__COUNT]; /* each option's value; flags "1"; NULL: not given */
    /* Configuration keys set on the command line (--brokers and the like, and --set), in the
     * order given: later ones win. */
    const char *set_key[SW_CLI_MAX_SETS];
    const char *set_val[SW_CLI_MAX_SETS];
    char set_buf[SW_CLI_MAX_SETS][128]; /* --set KEY=VALUE: the key */
    int nsets;
    char **operands; /* owned array (the strings are argv's) */
    int noperands;
};

/* Parse argv strictly: every option must belong to the command (an option of another command, an
 * unknown one or a repeated one is an error naming the command's options, with the closest
 * match); operands only where the command takes them. 0, or -1 after printing the error to err.
 * The caller frees with sw_cli_free (also after an error). */
int sw_cli_parse(int argc, char **argv, struct sw_cli *cli, FILE *err);
void sw_cli_free(struct sw_cli *cli);

/* ---- generated documentation (cli_doc.c) ---- */

/* `segworker --help` (cmd NULL) or `segworker CMD --help`. */
void sw_cli_help(FILE *out, const struct sw_cli_cmd *cmd);
/* The manual page segworker(1), in roff. */
void sw_cli_manpage(FILE *out);
/* A completion script for shell "bash" or "zsh"; -1 for another shell. */
int sw_cli_completion(FILE *out, const char *shell);
/* The options cmd accepts, as "--a, --b, ..." (for errors). */
void sw_cli_list_opts(FILE *out, enum sw_cli_cmd_id cmd);

/* ---- configuration and identity (cli_config.c) ---- */

/* Defaults, file, environment, then the command line's keys. 0, or -1 after printing why. */
int sw_cli_load_config(const struct sw_cli *cli, struct sw_config *cfg);
/* `segworker version`: version, commit, build date and the libraries. */
void sw_cli_version(FILE *out);

/* ---- jobs on standard input (cli_input.c) ---- */

/* A stream of JSON texts (NDJSON or pretty-printed), split without parsing. */
struct sw_cli_input {
    int fd;
    char *buf;
    size_t len, cap;
    size_t max;   /* the longest text handed out whole */
    size_t taken; /* the text handed out last, dropped at the next call */
    long index;   /* texts handed out so far (the current one's number, from 1) */
    int eof;
    int overlong; /* the last text was cut at max: drop the rest of its line */
};

int sw_cli_input_init(struct sw_cli_input *in, int fd, size_t max);
void sw_cli_input_free(struct sw_cli_input *in);
/* One read(2): 1 when bytes arrived, 0 at the end of the input (also after an error), -1 when out
 * of memory. Call it when fd is readable (it blocks otherwise). */
int sw_cli_input_fill(struct sw_cli_input *in);
/* The next whole text into *text, *len (valid until the next call): 1; 0 when more input is
 * needed; -1 at the end. */
int sw_cli_input_next(struct sw_cli_input *in, const char **text, size_t *len);

/* ---- the commands ---- */

/* exec (and exec --dry-run / plan when plan is set): jobs from in. */
enum sw_exit sw_cli_exec(const struct sw_config *cfg, const struct sw_registry *reg,
                         const struct sw_accounts *accounts, FILE *in, int plan,
                         volatile sig_atomic_t *stop);
/* validate, with the registry already loaded (NULL when the specs did not load). */
enum sw_exit sw_cli_validate(const struct sw_cli *cli, const struct sw_config *cfg,
                             const struct sw_registry *reg);
enum sw_exit sw_cli_submit(const struct sw_cli *cli, const struct sw_config *cfg,
                           volatile sig_atomic_t *stop);
enum sw_exit sw_cli_await(const struct sw_cli *cli, const struct sw_config *cfg,
                          volatile sig_atomic_t *stop);

#endif
