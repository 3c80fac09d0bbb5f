/* The worker in tests (see kit_worker.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A formatted copy inside w->text; NULL (and w marked broken) when it does not fit. */
__attribute__((format(printf, 2, 0))) static char *keep(struct kit_worker *w, const char *fmt,
                                                        va_list ap)
{
    size_t room = sizeof(w->text) - w->used;
    char *s = w->text + w->used;
    int n = vsnprintf(s, room, fmt, ap);

    if (n < 0 || (size_t)n >= room) {
        w->broken = 1;
        return NULL;
    }
    w->used += (size_t)n + 1;
    return s;
}

static void push_arg(struct kit_worker *w, char *s)
{
    if (!s || w->argc >= KIT_WORKER_ARGS - 1) {
        w->broken = 1;
        return;
    }
    w->argv[w->argc++] = s;
    w->argv[w->argc] = NULL;
}

/* A later entry of the same name replaces the earlier one. */
static void push_env(struct kit_worker *w, char *s)
{
    size_t nl = s ? strcspn(s, "=") + 1 : 0;
    int i;

    for (i = 0; s && i < w->envc; i++) {
        if (!strncmp(w->env[i], s, nl)) {
            w->env[i] = s;
            return;
        }
    }
    if (!s || w->envc >= KIT_WORKER_ENV - 1) {
        w->broken = 1;
        return;
    }
    w->env[w->envc++] = s;
    w->env[w->envc] = NULL;
}

void kit_worker_init(struct kit_worker *w, const struct kit_args *a, const char *command)
{
    char *const *e;

    memset(w, 0, sizeof(*w));
    w->pid = -1;
    push_arg(w, (char *)a->worker);
    if (command) {
        push_arg(w, (char *)command);
    }
    for (e = kit_sim_env(); *e; e++) {
        push_env(w, *e);
    }
    /* The default, stated: tests read info lines of the log whatever the caller's shell says. */
    push_env(w, "SEGWORKER_LOG_LEVEL=info");
}

void kit_worker_arg(struct kit_worker *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    push_arg(w, keep(w, fmt, ap));
    va_end(ap);
}

void kit_worker_set(struct kit_worker *w, const char *fmt, ...)
{
    va_list ap;

    push_arg(w, "--set");
    va_start(ap, fmt);
    push_arg(w, keep(w, fmt, ap));
    va_end(ap);
}

void kit_worker_env(struct kit_worker *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    push_env(w, keep(w, fmt, ap));
    va_end(ap);
}

void kit_worker_args(struct kit_worker *w, char *const *args)
{
    while (args && *args) {
        push_arg(w, *args++);
    }
}

void kit_worker_init_run(struct kit_worker *w, const struct kit_args *a, const char *brokers,
                         const char *accounts, const struct kit_names *n)
{
    kit_worker_init(w, a, "run");
    kit_worker_arg(w, "--brokers");
    kit_worker_arg(w, "%s", brokers);
    kit_worker_arg(w, "--accounts");
    kit_worker_arg(w, "%s", accounts);
    kit_worker_arg(w, "--group");
    kit_worker_arg(w, "%s", n->group);
    kit_worker_set(w, "topics.jobs=%s", n->jobs);
    kit_worker_set(w, "topics.results=%s", n->results);
    kit_worker_set(w, "topics.dlq=%s", n->dlq);
    kit_worker_set(w, "topics.retry=%s", n->retry);
}

/* dir/<name><ext> into buf. */
static char *file_of(char *buf, size_t n, const char *dir, const char *name, const char *ext)
{
    snprintf(buf, n, "%s/%s%s", dir, name, ext);
    return buf;
}

pid_t kit_worker_start(struct kit_worker *w, const char *dir, const char *name)
{
    file_of(w->out, sizeof(w->out), dir, name, ".out");
    file_of(w->log, sizeof(w->log), dir, name, ".log");
    if (w->broken) {
        fprintf(stderr, "kit: the worker's command line did not fit\n");
        return w->pid = -1;
    }
    return w->pid = kit_spawn(w->argv, w->env, w->out, w->log);
}

int kit_worker_stop(struct kit_worker *w, int64_t timeout_ms)
{
    int rc = 0;

    if (w->pid > 0) {
        rc = kit_stop(w->pid, timeout_ms);
        w->pid = -1;
    }
    return rc;
}

int kit_worker_wait(struct kit_worker *w, int64_t timeout_ms)
{
    int rc = 0;

    if (w->pid > 0) {
        rc = kit_wait(w->pid, timeout_ms);
        if (rc < 0) {
            kit_kill(w->pid);
        }
        w->pid = -1;
    }
    return rc;
}

void kit_worker_kill(struct kit_worker *w)
{
    kit_kill(w->pid);
    w->pid = -1;
}

/* Parse each line of text into the array (null for a line that is not JSON). */
static void split_lines(const char *text, cJSON *lines)
{
    const char *p = text;

    while (lines && p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        cJSON *v = cJSON_ParseWithLength(p, len);

        cJSON_AddItemToArray(lines, v ? v : cJSON_CreateNull());
        p = nl ? nl + 1 : NULL;
    }
}

int kit_worker_exec(struct kit_worker *w, const char *dir, const char *name, const char *input,
                    int64_t timeout_ms, const char *ndjson, struct kit_output *o)
{
    char in[1100], err[1100];
    pid_t pid = -1;

    memset(o, 0, sizeof(*o));
    o->rc = -1;
    file_of(in, sizeof(in), dir, name, ".in");
    file_of(w->out, sizeof(w->out), dir, name, ".out");
    file_of(err, sizeof(err), dir, name, ".err");
    if (input && kit_write_file(in, input) != 0) {
        goto out;
    }
    if (!w->broken) {
        pid = kit_spawn_in(w->argv, w->env, input ? in : NULL, w->out, err);
    }
    o->rc = kit_wait(pid, timeout_ms);
    if (o->rc < 0 && pid > 0) {
        fprintf(stderr, "kit: %s did not finish in %lld ms\n", name, (long long)timeout_ms);
        kit_kill(pid);
    }
out:
    o->out = kit_read_file(w->out, NULL);
    o->err = kit_read_file(err, NULL);
    o->lines = cJSON_CreateArray();
    split_lines(o->out, o->lines);
    if (ndjson && o->out && *o->out) {
        FILE *f = fopen(ndjson, "a");

        if (f) {
            fputs(o->out, f);
            fclose(f);
        }
    }
    if (!o->out) {
        o->out = calloc(1, 1);
    }
    if (!o->err) {
        o->err = calloc(1, 1);
    }
    if (!o->out || !o->err || !o->lines) {
        o->rc = -1; /* out of memory: no outcome to judge */
    }
    return o->rc;
}

void kit_output_free(struct kit_output *o)
{
    free(o->out);
    free(o->err);
    cJSON_Delete(o->lines);
    memset(o, 0, sizeof(*o));
}

const cJSON *kit_output_last(const struct kit_output *o)
{
    const cJSON *l = cJSON_GetArrayItem(o->lines, cJSON_GetArraySize(o->lines) - 1);

    return cJSON_IsNull(l) ? NULL : l;
}

int kit_output_nlines(const struct kit_output *o)
{
    return cJSON_GetArraySize(o->lines);
}

int kit_worker_admin_port(const struct kit_worker *w, int64_t timeout_ms)
{
    const char *key = "admin endpoints";
    char *s, *p;
    int port = -1;

    if (kit_wait_file_contains(w->log, key, timeout_ms) != 0) {
        return -1;
    }
    s = kit_read_file(w->log, NULL);
    p = s ? strstr(s, key) : NULL;
    p = p ? strstr(p, "port ") : NULL;
    if (p && sscanf(p, "port %d", &port) != 1) {
        port = -1;
    }
    free(s);
    return port;
}

int kit_worker_counts(const struct kit_worker *w, long long *consumed, long long *results)
{
    FILE *f = fopen(w->log, "r");
    char line[4096];
    int found = -1;

    while (f && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "stopped: consumed ");

        if (p && sscanf(p, "stopped: consumed %lld, results %lld", consumed, results) == 2) {
            found = 0;
        }
    }
    if (f) {
        fclose(f);
    }
    return found;
}

char *kit_scrape(int port, const char *save_path)
{
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    int st = buf ? kit_http_get(port, "/metrics", buf, cap) : -1;

    if (st != 200) {
        fprintf(stderr, "kit: /metrics answered %d\n", st);
        free(buf);
        return NULL;
    }
    if (kit_write_file(save_path, buf) != 0) {
        fprintf(stderr, "kit: could not keep the scrape in %s\n", save_path);
    }
    return buf;
}

double kit_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    const char *p = text;

    while (p && *p) {
        if (!strncmp(p, series, n) && p[n] == ' ') {
            return strtod(p + n + 1, NULL);
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return -1;
}

double kit_metric_sum(const char *text, const char *name)
{
    size_t n = strlen(name);
    const char *p = text;
    double sum = 0;

    while (p && *p) {
        if (!strncmp(p, name, n) && (p[n] == '{' || p[n] == ' ')) {
            const char *sp = strchr(p, '}');
            const char *nl = strchr(p, '\n');

            if (p[n] == ' ' || !sp || (nl && sp > nl)) {
                sp = p + n;
            }
            sum += strtod(strchr(sp, ' ') + 1, NULL);
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return sum;
}

int kit_check_dashboard(const struct kit_args *a, const char *scrape, const char *out_path)
{
    char tool[1100], dash[1100], rules[1100];
    char *argv[] = {"/usr/bin/python3", tool, dash, rules, (char *)scrape, NULL};
    const char *slash = strrchr(a->validator, '/');
    pid_t pid;

    /* The tools sit beside the validator; deploy/ beside schemas/. */
    snprintf(tool, sizeof(tool), "%.*s/check_dashboard.py", (int)(slash ? slash - a->validator : 1),
             slash ? a->validator : ".");
    snprintf(dash, sizeof(dash), "%s/../deploy/grafana/segworker.json", a->schemas);
    snprintf(rules, sizeof(rules), "%s/../deploy/prometheus/alerts.yaml", a->schemas);
    pid = kit_spawn(argv, NULL, out_path, out_path);
    return pid > 0 ? kit_wait(pid, kit_deadline_ms(60000)) : -1;
}

int kit_promtool(const char *file, const char *out_path)
{
    char *argv[] = {"/usr/bin/promtool", "check", "metrics", NULL};
    pid_t pid = kit_spawn_in(argv, NULL, file, out_path, out_path);

    return pid > 0 ? kit_wait(pid, kit_deadline_ms(30000)) : -1;
}
