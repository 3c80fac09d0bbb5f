/* The commands and options of segworker: the one source of the parser, --help, the manual page
 * and the shell completions (see cli.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <string.h>

#define B(c) SW_CMD_BIT(SW_CMD_##c)
/* The commands that read the configuration. */
#define CONFIGURED (B(RUN) | B(EXEC) | B(PLAN) | B(SUBMIT) | B(AWAIT) | B(PROVIDERS) | B(VALIDATE))
#define ALL        (CONFIGURED | B(NONE) | B(VERSION) | B(COMPLETION) | B(MANPAGE))

const struct sw_cli_opt sw_cli_opts[] = {
    {SW_OPT_HELP, "help", 'h', NULL, 0, NULL, SW_COMPLETE_NONE, ALL,
     "Print the help of the command (or of segworker) and exit."},
    {SW_OPT_VERSION, "version", 'V', NULL, 0, NULL, SW_COMPLETE_NONE, B(NONE),
     "Print the version, git commit, build date and library versions, and exit."},
    {SW_OPT_DUMP_CONFIG, "dump-config", 0, "reference", 1, NULL, SW_COMPLETE_NONE,
     CONFIGURED | B(NONE),
     "Print the effective configuration (every key, its value and its source: default, file, "
     "env or flag; secrets redacted) and exit. --dump-config=reference prints the configuration "
     "reference (Markdown) instead."},
    {SW_OPT_CONFIG, "config", 0, "FILE", 0, NULL, SW_COMPLETE_FILE, CONFIGURED | B(NONE),
     "JSON configuration file (or SEGWORKER_CONFIG)."},
    {SW_OPT_ACCOUNTS, "accounts", 0, "FILE", 0, "accounts", SW_COMPLETE_FILE,
     B(RUN) | B(EXEC) | B(PLAN) | B(VALIDATE) | B(NONE),
     "Account store (or SEGWORKER_ACCOUNTS): account name -> provider, settings and credential "
     "references."},
    {SW_OPT_BROKERS, "brokers", 0, "LIST", 0, "brokers", SW_COMPLETE_NONE,
     B(RUN) | B(SUBMIT) | B(AWAIT) | B(VALIDATE) | B(NONE),
     "Kafka bootstrap servers, host:port[,host:port...] (or SEGWORKER_BROKERS)."},
    {SW_OPT_GROUP, "group", 0, "NAME", 0, "group", SW_COMPLETE_NONE, B(RUN) | B(VALIDATE) | B(NONE),
     "Consumer group (or SEGWORKER_GROUP)."},
    {SW_OPT_SPECS_DIR, "specs-dir", 0, "DIR", 0, "specs_dir", SW_COMPLETE_DIR,
     B(RUN) | B(EXEC) | B(PLAN) | B(PROVIDERS) | B(VALIDATE) | B(NONE),
     "Provider specs to use instead of the built-in ones (or SEGWORKER_SPECS_DIR)."},
    {SW_OPT_SET, "set", 0, "KEY=VALUE", 0, NULL, SW_COMPLETE_KEY, CONFIGURED | B(NONE),
     "Set any configuration key (repeatable; see --dump-config=reference)."},
    {SW_OPT_MARKDOWN, "markdown", 0, NULL, 0, NULL, SW_COMPLETE_NONE, B(PROVIDERS),
     "Print the whole provider reference (docs/PROVIDERS.md) instead of the matrix."},
    {SW_OPT_PARAMS, "params", 0, NULL, 0, NULL, SW_COMPLETE_NONE, B(PROVIDERS),
     "Print the params and provider options that PROVIDER OPERATION takes, variant by variant "
     "(a job naming any other fails with invalid_params before any request)."},
    {SW_OPT_FILE, "file", 0, "FILE", 0, NULL, SW_COMPLETE_FILE, B(SUBMIT),
     "Read the jobs from FILE instead of standard input."},
    {SW_OPT_TOPIC, "topic", 0, "TOPIC", 0, NULL, SW_COMPLETE_NONE, B(SUBMIT) | B(AWAIT),
     "submit: publish to TOPIC instead of topics.jobs; await: read TOPIC instead of "
     "topics.results."},
    {SW_OPT_KEY, "key", 0, "FIELD", 0, NULL, SW_COMPLETE_NONE, B(SUBMIT),
     "The message key of each job: job_id (the default), account, none, or a JSON pointer into "
     "the job (/correlation/workflowId). Jobs of one key land on one partition and run one at a "
     "time, in order; keying by account keeps each account's rate limit on one worker."},
    {SW_OPT_CORRELATION, "correlation", 0, "KEY=VALUE", 0, NULL, SW_COMPLETE_NONE, B(AWAIT),
     "Await the results whose correlation.KEY equals VALUE instead of job ids."},
    {SW_OPT_COUNT, "count", 0, "N", 0, NULL, SW_COMPLETE_NONE, B(AWAIT),
     "With --correlation: how many final results to wait for (default 1)."},
    {SW_OPT_TIMEOUT_MS, "timeout-ms", 0, "MS", 0, NULL, SW_COMPLETE_NONE,
     B(SUBMIT) | B(AWAIT) | B(VALIDATE),
     "submit: how long to wait for the broker's acknowledgements once the input has ended "
     "(default 60000); await: give up after MS (default 60000); validate: how long the brokers "
     "may take to answer (default 10000)."},
    {SW_OPT_OFFLINE, "offline", 0, NULL, 0, NULL, SW_COMPLETE_NONE, B(VALIDATE),
     "Do not contact the brokers (no broker or topic checks)."},
    {SW_OPT_DRY_RUN, "dry-run", 0, NULL, 0, NULL, SW_COMPLETE_NONE, B(EXEC),
     "Print the requests the jobs would make instead of sending them (the same as plan)."},
    {SW_OPT__COUNT, NULL, 0, NULL, 0, NULL, SW_COMPLETE_NONE, 0, NULL},
};

const struct sw_cli_cmd sw_cli_cmds[] = {
    {SW_CMD_RUN, "run", NULL, "consume jobs from Kafka, execute them, publish results",
     "Consume jobs from topics.jobs as the consumer group `group`, execute them against the "
     "providers and publish one result per job to topics.results (dead letters to topics.dlq).\n\n"
     "SIGTERM or SIGINT stops intake and lets provider calls under way finish (up to "
     "shutdown.grace_ms); jobs that only wait (for a rate limit, a back-off) are left for the "
     "next owner; what is done is committed. A second SIGTERM or SIGINT exits at once. "
     "SIGHUP reloads the account store: running jobs keep the "
     "accounts they started with, and a store that does not load is refused (the current one "
     "stays). With http_addr set, GET /metrics, /healthz and /readyz are served there.",
     "0 stopped by a signal after a clean drain\n"
     "1 a fatal error (the reason is logged)\n"
     "2 usage or configuration error\n"
     "3 stopped with provider calls cut off (grace period over, or a second signal); their "
     "jobs are redelivered"},
    {SW_CMD_EXEC, "exec", NULL, "execute jobs from standard input without Kafka",
     "Execute the jobs read from standard input without Kafka: JSON objects one after the "
     "other, one per line (NDJSON) or pretty-printed. They run concurrently (up to "
     "worker.max_in_flight) as they are read, and every result message is printed as one JSON "
     "line on standard output as it arrives.\n\n"
     "With --dry-run nothing is sent: each job's requests are printed instead (see plan).",
     "0 every job succeeded\n"
     "1 some job failed (its result says why)\n"
     "2 usage or configuration error, or an input that is not a job"},
    {SW_CMD_PLAN, "plan", NULL, "print the requests jobs would make, without sending them",
     "Read jobs as exec does and print, for each, one JSON object with the requests it would "
     "make: method, URL, headers (credentials redacted) and body. Nothing is sent, so a "
     "segments.delete deletes nothing. A provider with a login session shows the login request "
     "first; a list shows its first page (the next ones follow the provider's answers).",
     "0 every job could be planned\n"
     "1 some job could not (its line carries the error)\n"
     "2 usage or configuration error, or an input that is not a job"},
    {SW_CMD_SUBMIT, "submit", NULL, "publish jobs (NDJSON) to the jobs topic",
     "Publish jobs, one JSON object per line (NDJSON), from FILE or standard input to the jobs "
     "topic with an idempotent producer. Each line is checked as the worker would check it; bad "
     "lines are reported on standard error as \"line N: ...\" and not sent. The job_id of every "
     "acknowledged job is printed on standard output, so the output can be piped into await.",
     "0 every line was delivered\n"
     "1 some line was invalid or refused by the broker\n"
     "2 usage or configuration error\n"
     "3 some job was not acknowledged within --timeout-ms"},
    {SW_CMD_AWAIT, "await", "[JOB_ID...|-]", "print the results of jobs, with a timeout",
     "Read the results topic from the beginning (a throwaway group; nothing is committed) and "
     "print every result message of the given jobs as one JSON line, until each has its last "
     "part; or, with --correlation, the results whose correlation.KEY equals VALUE until --count "
     "of them have their last part. With '-', the job ids are read from standard input, one per "
     "line (the output of submit).",
     "0 every awaited job arrived and succeeded\n"
     "1 every awaited job arrived and at least one failed\n"
     "2 usage or configuration error\n"
     "3 timeout: some results did not arrive (they are named on standard error)"},
    {SW_CMD_PROVIDERS, "providers", "[PROVIDER OPERATION]",
     "print the providers' capability matrix",
     "Print the capability matrix: provider x operation, and the response formats. With "
     "--params PROVIDER OPERATION, print what that operation takes instead.",
     "0 printed\n"
     "2 usage or configuration error"},
    {SW_CMD_VALIDATE, "validate", NULL, "check a deployment's configuration before jobs do",
     "Check everything a deployment depends on and print one line per problem: the "
     "configuration and its SEGWORKER_* variables, the kafka.* properties (with librdkafka), "
     "http_addr, the provider specs, and every account of the store against its provider's "
     "spec: credential references that do not resolve, credentials and settings the provider "
     "needs and the account lacks, and names it does not know (with the closest known one). "
     "Unless --offline, the brokers must answer and the topics exist.",
     "0 no problem found\n"
     "2 problems found (one line each on standard error), or a usage error"},
    {SW_CMD_VERSION, "version", NULL, "print the version",
     "Print the version of segworker, its git commit and build date, and the versions of the "
     "libraries it runs with (the same as --version).",
     "0 printed"},
    {SW_CMD_COMPLETION, "completion", "bash|zsh", "print a shell completion script",
     "Print a completion script for bash or zsh, generated from the same table as this help: "
     "`segworker completion bash > /etc/bash_completion.d/segworker`, or for zsh into a "
     "directory of $fpath as _segworker.",
     "0 printed\n"
     "2 another shell"},
    {SW_CMD_MANPAGE, "manpage", NULL, "print the manual page segworker(1)",
     "Print this manual as a roff man page: `segworker manpage | man -l -`.", "0 printed"},
    {SW_CMD__COUNT, NULL, NULL, NULL, NULL, NULL},
};

const struct sw_cli_cmd *sw_cli_cmd_find(const char *name)
{
    const struct sw_cli_cmd *c;

    for (c = sw_cli_cmds; name && c->name; c++) {
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

const struct sw_cli_cmd *sw_cli_cmd_get(enum sw_cli_cmd_id id)
{
    const struct sw_cli_cmd *c;

    for (c = sw_cli_cmds; c->name; c++) {
        if (c->id == id) {
            return c;
        }
    }
    return NULL;
}
