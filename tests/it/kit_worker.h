/* The worker (segworker) in tests: an argv/environment builder with the common options, run as
 * a service (`run`, started and stopped with deadlines) or as a one-shot command with its output
 * collected, and what a running worker exposes (admin port, /metrics, its closing counts).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_WORKER_H
#define SW_KIT_WORKER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct kit_args;
struct kit_names;

#define KIT_WORKER_ARGS 64
#define KIT_WORKER_ENV  32

/* A worker's command line and environment. Its strings live inside it: do not copy one. */
struct kit_worker {
    char *argv[KIT_WORKER_ARGS];
    int argc;
    char *env[KIT_WORKER_ENV];
    int envc;
    char text[8192]; /* the strings argv and env point to */
    size_t used;
    int broken; /* something did not fit: starting it fails */
    pid_t pid;
    char out[1100]; /* its stdout and stderr (the log), once started */
    char log[1100];
};

/* `segworker <command>` (NULL: no command) with the simulator's default credentials in its
 * environment (kit_sim_env) and SEGWORKER_LOG_LEVEL=info. */
void kit_worker_init(struct kit_worker *w, const struct kit_args *a, const char *command);
/* `segworker run` on the run's topics and group: --brokers, --accounts, --group and
 * topics.jobs/results/dlq/retry, so no two tests share a topic or group. */
void kit_worker_init_run(struct kit_worker *w, const struct kit_args *a, const char *brokers,
                         const char *accounts, const struct kit_names *n);
/* Append one argument, printf-style. */
void kit_worker_arg(struct kit_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append `--set <KEY=VALUE>`, printf-style. */
void kit_worker_set(struct kit_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add an environment entry "K=V", printf-style; it replaces an entry of the same name and
 * overrides the test's own environment. */
void kit_worker_env(struct kit_worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append NULL-terminated arguments as they are (NULL is fine). */
void kit_worker_args(struct kit_worker *w, char *const *args);

/* Start it in the background, stdout to dir/<name>.out, stderr to dir/<name>.log. Returns the
 * pid (also in w->pid) or -1. */
pid_t kit_worker_start(struct kit_worker *w, const char *dir, const char *name);
/* SIGTERM and wait: the exit status, -1 when it did not exit in time (then it is killed). 0
 * when it was not running. */
int kit_worker_stop(struct kit_worker *w, int64_t timeout_ms);
/* Wait for a worker already told to stop (a second SIGTERM would make it exit at once): the exit
 * status, -1 when it did not exit in time (then it is killed). 0 when it was not running. */
int kit_worker_wait(struct kit_worker *w, int64_t timeout_ms);
/* SIGKILL and reap, if running. */
void kit_worker_kill(struct kit_worker *w);

/* A one-shot command's outcome. */
struct kit_output {
    int rc;       /* exit status; -1 when it did not start or finish in time */
    char *out;    /* its stdout, "" when there was none */
    char *err;    /* its stderr */
    cJSON *lines; /* stdout lines that are JSON (an array; a line that is not is null) */
};

/* Run it to completion with input (NULL: none) on stdin, its output in dir/<name>.out/.err and
 * in *o. Lines of stdout are appended to ndjson when it is not NULL. Returns o->rc. */
int kit_worker_exec(struct kit_worker *w, const char *dir, const char *name, const char *input,
                    int64_t timeout_ms, const char *ndjson, struct kit_output *o);
void kit_output_free(struct kit_output *o);
/* The last line, parsed (NULL when there is none); owned by o. */
const cJSON *kit_output_last(const struct kit_output *o);
/* Lines of stdout. */
int kit_output_nlines(const struct kit_output *o);

/* The admin port a worker logged ("admin endpoints ... port N"), -1 at the deadline. */
int kit_worker_admin_port(const struct kit_worker *w, int64_t timeout_ms);
/* The counts of a stopped worker's last log line ("stopped: consumed N, results M, ..."), so a
 * test can tell jobs run twice from results stored twice. 0 when found. */
int kit_worker_counts(const struct kit_worker *w, long long *consumed, long long *results);

/* GET /metrics into save_path (kept for promtool and secret scans); the text (caller frees) or
 * NULL unless it answered 200. */
char *kit_scrape(int port, const char *save_path);
/* The value of the sample whose name and labels are exactly series (e.g.
 * `segworker_jobs_total{provider="klaviyo",...}`) in a Prometheus text; -1 when absent. */
double kit_metric(const char *text, const char *series);
/* Sum of every sample of a family (name followed by '{' or ' '); 0 when absent. */
double kit_metric_sum(const char *text, const char *name);
/* promtool check metrics < file; its exit status (-1 when it could not run). */
int kit_promtool(const char *file, const char *out_path);
/* tests/tools/check_dashboard.py on the dashboard and alerts of deploy/ against a scrape: every
 * query parses and every metric it names is in the scrape. Its exit status (0 when they do). */
int kit_check_dashboard(const struct kit_args *a, const char *scrape, const char *out_path);

#endif
