/* --help, the manual page segworker(1) and the bash and zsh completions, all generated from the
 * command and option table (cli_table.c), so none of them can drift from the parser.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "sw_version.h"

#include <string.h>

#define WIDTH    79
#define OPTCOL   26
#define TAGLINE  "Kafka-to-HTTP worker for marketing providers' segment APIs"
#define OPERANDS "operands"

static int accepts(const struct sw_cli_opt *o, enum sw_cli_cmd_id cmd)
{
    return (o->cmds & SW_CMD_BIT(cmd)) != 0;
}

/* Print text wrapped at WIDTH, every line indented by indent, the first line starting at column
 * col (already printed). Words longer than a line stay whole. */
static void wrap(FILE *out, const char *text, size_t len, int col, int indent)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *w = p;
        size_t wl;

        while (w < end && *w != ' ') {
            w++;
        }
        wl = (size_t)(w - p);
        if (col > indent && col + 1 + (int)wl > WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        } else if (col < indent) {
            fprintf(out, "%*s", indent - col, "");
            col = indent;
        }
        fwrite(p, 1, wl, out);
        col += (int)wl;
        p = w;
        while (p < end && *p == ' ') {
            p++;
        }
    }
    fputc('\n', out);
}

/* Paragraphs (separated by a blank line), each wrapped. */
static void paragraphs(FILE *out, const char *text, int indent)
{
    while (*text) {
        const char *brk = strstr(text, "\n\n");
        size_t n = brk ? (size_t)(brk - text) : strlen(text);

        wrap(out, text, n, 0, indent);
        text += n;
        if (*text) {
            fputc('\n', out);
            text += 2;
        }
    }
}

/* "--name VALUE" as written on a command line (-h, --help for the short ones). */
static int opt_form(char *buf, size_t n, const struct sw_cli_opt *o)
{
    char shortf[8] = "";

    if (o->short_name) {
        snprintf(shortf, sizeof(shortf), "-%c, ", o->short_name);
    }
    if (!o->metavar) {
        return snprintf(buf, n, "%s--%s", shortf, o->name);
    }
    return snprintf(buf, n, o->optional_value ? "%s--%s[=%s]" : "%s--%s %s", shortf, o->name,
                    o->metavar);
}

void sw_cli_list_opts(FILE *out, enum sw_cli_cmd_id cmd)
{
    const struct sw_cli_opt *o;
    const char *sep = "";

    for (o = sw_cli_opts; o->name; o++) {
        if (accepts(o, cmd)) {
            fprintf(out, "%s--%s", sep, o->name);
            sep = ", ";
        }
    }
}

static void help_options(FILE *out, enum sw_cli_cmd_id cmd)
{
    const struct sw_cli_opt *o;

    for (o = sw_cli_opts; o->name; o++) {
        char form[64];
        int col;

        if (!accepts(o, cmd)) {
            continue;
        }
        opt_form(form, sizeof(form), o);
        col = fprintf(out, "  %s", form);
        if (col >= OPTCOL - 1) {
            fprintf(out, "\n");
            col = 0;
        }
        wrap(out, o->help, strlen(o->help), col, OPTCOL);
    }
}

/* Call fn with the status ("0") and meaning of every "N meaning" line of an exit text. */
static void each_exit(FILE *out, const char *exit_text,
                      void (*fn)(FILE *out, char status, const char *meaning, size_t n))
{
    const char *line = exit_text;

    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);

        fn(out, line[0], line + (n > 2 ? 2 : n), n > 2 ? n - 2 : 0);
        line += n + (nl ? 1 : 0);
    }
}

static void help_exit_line(FILE *out, char status, const char *meaning, size_t n)
{
    fprintf(out, "  %c  ", status);
    wrap(out, meaning, n, 5, 5);
}

void sw_cli_help(FILE *out, const struct sw_cli_cmd *cmd)
{
    const struct sw_cli_cmd *c;

    if (!cmd) {
        fprintf(out,
                "usage: segworker <command> [options]\n\n%s.\n\n"
                "commands (segworker <command> --help for each):\n",
                TAGLINE);
        for (c = sw_cli_cmds; c->name; c++) {
            fprintf(out, "  %-11s %s\n", c->name, c->summary);
        }
        fprintf(out, "\noptions (without a command):\n");
        help_options(out, SW_CMD_NONE);
        fprintf(out, "\nThe manual: segworker manpage | man -l -\n");
        return;
    }
    fprintf(out, "usage: segworker %s [options]%s%s\n\n", cmd->name, cmd->operands ? " " : "",
            cmd->operands ? cmd->operands : "");
    paragraphs(out, cmd->text, 0);
    fprintf(out, "\noptions:\n");
    help_options(out, cmd->id);
    fprintf(out, "\nexit status:\n");
    each_exit(out, cmd->exit, help_exit_line);
}

/* ---- the manual page ---- */

/* Text for roff: backslashes and dashes escaped, a line never starting with a control character. */
static void roff(FILE *out, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if ((i == 0 || s[i - 1] == '\n') && (s[i] == '.' || s[i] == '\'')) {
            fputs("\\&", out);
        }
        if (s[i] == '\\') {
            fputs("\\e", out);
        } else if (s[i] == '-') {
            fputs("\\-", out);
        } else {
            fputc(s[i], out);
        }
    }
}

static void roff_s(FILE *out, const char *s)
{
    roff(out, s, strlen(s));
}

static void man_paragraphs(FILE *out, const char *text)
{
    while (*text) {
        const char *brk = strstr(text, "\n\n");
        size_t n = brk ? (size_t)(brk - text) : strlen(text);

        fputs(".PP\n", out);
        roff(out, text, n);
        fputc('\n', out);
        text += n;
        if (*text) {
            text += 2;
        }
    }
}

static void man_options(FILE *out, enum sw_cli_cmd_id cmd)
{
    const struct sw_cli_opt *o;

    for (o = sw_cli_opts; o->name; o++) {
        if (!accepts(o, cmd)) {
            continue;
        }
        fputs(".TP\n", out);
        if (o->short_name) {
            fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
        }
        fputs("\\fB\\-\\-", out);
        roff_s(out, o->name);
        fputs("\\fR", out);
        if (o->metavar) {
            fprintf(out, "%s\\fI", o->optional_value ? "[=" : " ");
            roff_s(out, o->metavar);
            fprintf(out, "\\fR%s", o->optional_value ? "]" : "");
        }
        fputc('\n', out);
        roff_s(out, o->help);
        fputc('\n', out);
    }
}

static void man_exit_line(FILE *out, char status, const char *meaning, size_t n)
{
    fprintf(out, ".TP\n.B %c\n", status);
    roff(out, meaning, n);
    fputc('\n', out);
}

static void man_environment(FILE *out)
{
    struct sw_config_info ci;
    size_t i;

    fputs(".SH ENVIRONMENT\n.TP\n.B SEGWORKER_CONFIG\nThe configuration file, when --config is "
          "not given.\n",
          out);
    for (i = 0; sw_config_info(i, &ci); i++) {
        fputs(".TP\n.B ", out);
        roff_s(out, ci.env);
        fputc('\n', out);
        roff_s(out, ci.desc);
        fputs(" (key \\fB", out);
        roff_s(out, ci.key);
        fputs("\\fR", out);
        if (ci.def && *ci.def) {
            fputs(", default ", out);
            roff_s(out, ci.def);
        }
        fputs(")\n", out);
    }
    fputs(".PP\nAny other SEGWORKER_* variable is an error, so a misspelled one is reported "
          "rather than ignored. Credentials are never configured here: the account store names "
          "the environment variables (env:NAME) or files (file:/path) that hold them.\n",
          out);
}

void sw_cli_manpage(FILE *out)
{
    const struct sw_cli_cmd *c;

    fprintf(out,
            ".\\\" Generated by `segworker manpage` from the command table; do not edit.\n"
            ".TH SEGWORKER 1 \"\" \"segworker %s\" \"User Commands\"\n"
            ".SH NAME\nsegworker \\- %s\n.SH SYNOPSIS\n",
            SW_VERSION, TAGLINE);
    for (c = sw_cli_cmds; c->name; c++) {
        fprintf(out, ".B segworker %s\n.RI [ options ]", c->name);
        if (c->operands) {
            fputs("\n", out); /* a text line of its own: .RI would glue it to [options] */
            roff_s(out, c->operands);
        }
        fputs("\n.br\n", out);
    }
    fputs(".SH DESCRIPTION\n.PP\nsegworker consumes segment-operation jobs (segments.get, "
          "segments.list, segments.create, segments.delete, ...) from a Kafka topic, runs them "
          "as HTTP calls against the providers' segment APIs with retries and rate limits, and "
          "publishes one unified result per job. Workflow orchestrators submit jobs; data "
          "pipelines consume the results.\n"
          ".PP\nOptions may come before or after the command, as --name VALUE or --name=VALUE; "
          "each command accepts only its own options, and anything else is a usage error.\n"
          ".SH COMMANDS\n",
          out);
    for (c = sw_cli_cmds; c->name; c++) {
        fprintf(out, ".SS \"segworker %s\"\n", c->name);
        man_paragraphs(out, c->text);
        fputs(".PP\nOptions:\n.RS\n", out);
        man_options(out, c->id);
        fputs(".RE\n.PP\nExit status:\n.RS\n", out);
        each_exit(out, c->exit, man_exit_line);
        fputs(".RE\n", out);
    }
    fputs(".SH OPTIONS WITHOUT A COMMAND\n", out);
    man_options(out, SW_CMD_NONE);
    fputs(".SH CONFIGURATION\n.PP\nSources, later ones winning: built-in defaults, the JSON "
          "file (--config or SEGWORKER_CONFIG), the SEGWORKER_* variables, then the command "
          "line (the options that set a key, and --set KEY=VALUE, in the order given). "
          "segworker --dump-config=reference prints every key with its type, default and "
          "bounds; segworker --dump-config prints the effective values and their sources.\n",
          out);
    man_environment(out);
    fputs(".SH EXIT STATUS\n.TP\n.B 0\nsuccess\n.TP\n.B 1\na job failed (exec, await), a line "
          "was refused (submit), or run stopped on a fatal error\n.TP\n.B 2\nusage or "
          "configuration error (validate: problems found)\n.TP\n.B 3\ntimeout (submit, "
          "await)\n",
          out);
    fputs(".SH EXAMPLES\n.nf\n"
          "segworker validate \\-\\-config segworker.json \\-\\-accounts accounts.json\n"
          "segworker plan \\-\\-accounts accounts.json < jobs.ndjson\n"
          "segworker exec \\-\\-accounts accounts.json < jobs.ndjson\n"
          "segworker submit \\-\\-file jobs.ndjson \\-\\-key account | segworker await \\-\n"
          "segworker run \\-\\-brokers kafka:9092 \\-\\-accounts accounts.json "
          "\\-\\-set http_addr=:9464\n"
          ".fi\n"
          ".SH SEE ALSO\n.BR kcat (1),\n.BR kafka-topics.sh (1)\n",
          out);
}

/* ---- shell completion ---- */

static void words_for(FILE *out, enum sw_cli_cmd_id cmd)
{
    const struct sw_cli_opt *o;
    const char *sep = "";

    for (o = sw_cli_opts; o->name; o++) {
        if (accepts(o, cmd)) {
            fprintf(out, "%s--%s", sep, o->name);
            sep = " ";
            if (o->short_name) {
                fprintf(out, " -%c", o->short_name);
            }
        }
    }
}

/* The option names whose values complete as kind (for a `case` pattern: a|b|c). */
static int value_pattern(FILE *out, int (*want)(const struct sw_cli_opt *))
{
    const struct sw_cli_opt *o;
    int n = 0;

    for (o = sw_cli_opts; o->name; o++) {
        if (want(o)) {
            fprintf(out, "%s--%s", n++ ? "|" : "", o->name);
        }
    }
    return n;
}

static int is_file(const struct sw_cli_opt *o)
{
    return o->metavar && !o->optional_value && o->complete == SW_COMPLETE_FILE;
}

static int is_dir(const struct sw_cli_opt *o)
{
    return o->metavar && !o->optional_value && o->complete == SW_COMPLETE_DIR;
}

static int is_key(const struct sw_cli_opt *o)
{
    return o->metavar && !o->optional_value && o->complete == SW_COMPLETE_KEY;
}

static int is_value(const struct sw_cli_opt *o)
{
    return o->metavar && !o->optional_value;
}

static void config_keys(FILE *out, const char *suffix)
{
    struct sw_config_info ci;
    size_t i;

    for (i = 0; sw_config_info(i, &ci); i++) {
        fprintf(out, "%s%s%s", i ? " " : "", ci.key, suffix);
    }
}

static void bash(FILE *out)
{
    const struct sw_cli_cmd *c;

    fputs("# bash completion for segworker; generated by `segworker completion bash`.\n"
          "_segworker() {\n"
          "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd='' i\n"
          "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "    case ${COMP_WORDS[i]} in\n      ",
          out);
    value_pattern(out, is_value);
    fputs(") ((i++)) ;;\n      -*) ;;\n      *) cmd=${COMP_WORDS[i]}; break ;;\n    esac\n"
          "  done\n  case $prev in\n    ",
          out);
    value_pattern(out, is_file);
    fputs(") mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return ;;\n    ", out);
    value_pattern(out, is_dir);
    fputs(") mapfile -t COMPREPLY < <(compgen -d -- \"$cur\"); return ;;\n    ", out);
    value_pattern(out, is_key);
    fputs(") mapfile -t COMPREPLY < <(compgen -W '", out);
    config_keys(out, "=");
    fputs("' -- \"$cur\"); compopt -o nospace 2>/dev/null; return ;;\n    ", out);
    {
        const struct sw_cli_opt *o;
        int n = 0;

        /* The other values are free text: offer nothing. */
        for (o = sw_cli_opts; o->name; o++) {
            if (is_value(o) && !is_file(o) && !is_dir(o) && !is_key(o)) {
                fprintf(out, "%s--%s", n++ ? "|" : "", o->name);
            }
        }
    }
    fputs(") return ;;\n  esac\n  local words\n  case $cmd in\n    '') words='", out);
    for (c = sw_cli_cmds; c->name; c++) {
        fprintf(out, "%s ", c->name);
    }
    words_for(out, SW_CMD_NONE);
    fputs("' ;;\n", out);
    for (c = sw_cli_cmds; c->name; c++) {
        fprintf(out, "    %s) words='", c->name);
        words_for(out, c->id);
        if (c->id == SW_CMD_COMPLETION) {
            fputs(" bash zsh", out);
        }
        fputs("' ;;\n", out);
    }
    fputs("    *) return ;;\n  esac\n"
          "  mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")\n}\n"
          "complete -F _segworker segworker\n",
          out);
}

/* Text inside a zsh single-quoted _arguments spec: quotes closed and reopened; brackets and
 * colons escaped (they delimit the spec). */
static void zsh_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'') {
            fputs("'\\''", out);
        } else if (*s == '[' || *s == ']' || *s == ':') {
            fprintf(out, "\\%c", *s);
        } else {
            fputc(*s, out);
        }
    }
}

static void zsh_spec(FILE *out, const struct sw_cli_opt *o)
{
    static const char *const action[] = {"", "_files", "_files -/", "_segworker_keys"};

    fputs("    '", out);
    if (o->short_name) {
        fprintf(out, "(-%c --%s)'{-%c,--%s}'", o->short_name, o->name, o->short_name, o->name);
    } else {
        fprintf(out, "--%s%s", o->name, o->metavar ? (o->optional_value ? "=-" : "=") : "");
    }
    fputc('[', out);
    zsh_text(out, o->help);
    fputc(']', out);
    if (o->metavar) {
        fputc(':', out);
        zsh_text(out, o->metavar);
        fprintf(out, ":%s", action[o->complete]);
    }
    fputs("' \\\n", out);
}

static void zsh(FILE *out)
{
    const struct sw_cli_cmd *c;
    const struct sw_cli_opt *o;

    fputs("#compdef segworker\n# zsh completion for segworker; generated by `segworker "
          "completion zsh`.\n\n_segworker_keys() {\n  local -a keys\n  keys=(",
          out);
    config_keys(out, "=");
    fputs(")\n  compadd -S '' -a keys\n}\n\n_segworker() {\n  local -a commands\n  commands=(\n",
          out);
    for (c = sw_cli_cmds; c->name; c++) {
        fprintf(out, "    '%s:", c->name);
        zsh_text(out, c->summary);
        fputs("'\n", out);
    }
    fputs("  )\n  if (( CURRENT == 2 )); then\n    _describe -t commands 'segworker command' "
          "commands\n    _arguments \\\n",
          out);
    for (o = sw_cli_opts; o->name; o++) {
        if (accepts(o, SW_CMD_NONE) && !o->key && o->id != SW_OPT_CONFIG && o->id != SW_OPT_SET) {
            zsh_spec(out, o);
        }
    }
    fputs("    && return\n    return\n  fi\n  local cmd=$words[2]\n  shift words\n"
          "  (( CURRENT-- ))\n  case $cmd in\n",
          out);
    for (c = sw_cli_cmds; c->name; c++) {
        fprintf(out, "  %s)\n    _arguments \\\n", c->name);
        for (o = sw_cli_opts; o->name; o++) {
            if (accepts(o, c->id)) {
                zsh_spec(out, o);
            }
        }
        if (c->id == SW_CMD_COMPLETION) {
            fputs("    '1:shell:(bash zsh)' \\\n", out);
        } else if (c->operands) {
            fputs("    '*:" OPERANDS ":' \\\n", out);
        }
        fputs("    ;;\n", out);
    }
    fputs("  esac\n}\n\n_segworker \"$@\"\n", out);
}

int sw_cli_completion(FILE *out, const char *shell)
{
    if (shell && !strcmp(shell, "bash")) {
        bash(out);
        return 0;
    }
    if (shell && !strcmp(shell, "zsh")) {
        zsh(out);
        return 0;
    }
    return -1;
}
