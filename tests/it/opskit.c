/* Operations test helpers (see opskit.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "opskit.h"
#include "kit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

pid_t ops_start_sim(const char *sim_bin, const char *workdir, const char *tag, const char *reqlog,
                    const char *const *extra, int *port)
{
    char portfile[1024];
    char logfile[1024];
    char *argv[16] = {(char *)sim_bin, "--port", "0", "--port-file", portfile};
    int64_t end = kit_now_ms() + kit_deadline_ms(10000);
    int n = 5;
    pid_t pid;

    if (reqlog) {
        argv[n++] = "--request-log";
        argv[n++] = (char *)reqlog;
    }
    while (extra && *extra && n < 15) {
        argv[n++] = (char *)*extra++;
    }
    argv[n] = NULL;
    snprintf(portfile, sizeof(portfile), "%s/%s.port", workdir, tag);
    snprintf(logfile, sizeof(logfile), "%s/%s.log", workdir, tag);
    unlink(portfile);
    pid = kit_spawn(argv, NULL, logfile, logfile);
    while (pid > 0 && kit_now_ms() < end) {
        FILE *f = fopen(portfile, "r");

        if (f) {
            int ok = fscanf(f, "%d", port) == 1;

            fclose(f);
            if (ok) {
                return pid;
            }
        }
        nap();
    }
    kit_kill(pid);
    return -1;
}

char *ops_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, r;

    if (!f) {
        return NULL;
    }
    do {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;
}

int ops_write_file(const char *path, const char *text)
{
    char tmp[1100];
    FILE *f;

    /* temp + rename: a reader (the worker on SIGHUP) never sees half a file */
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        return -1;
    }
    fputs(text, f);
    if (fclose(f) != 0) {
        return -1;
    }
    return rename(tmp, path);
}

int ops_wait_file_contains(const char *path, const char *needle, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;

    for (;;) {
        char *s = ops_read_file(path, NULL);
        int found = s && strstr(s, needle) != NULL;

        free(s);
        if (found) {
            return 0;
        }
        if (kit_now_ms() >= end) {
            fprintf(stderr, "ops: %s never contained \"%s\"\n", path, needle);
            return -1;
        }
        nap();
    }
}

int ops_admin_port(const char *worker_log, int64_t timeout_ms)
{
    const char *key = "admin endpoints";
    char *s, *p;
    int port = -1;

    if (ops_wait_file_contains(worker_log, key, timeout_ms) != 0) {
        return -1;
    }
    s = ops_read_file(worker_log, NULL);
    p = s ? strstr(s, key) : NULL;
    p = p ? strstr(p, "port ") : NULL;
    if (p && sscanf(p, "port %d", &port) != 1) {
        port = -1;
    }
    free(s);
    return port;
}

int ops_http_wait_status(int port, const char *path, int want_status, char *buf, size_t n,
                         int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;
    int st;

    for (;;) {
        st = kit_http_get(port, path, buf, n);
        if (st == want_status || kit_now_ms() >= end) {
            return st;
        }
        nap();
    }
}

double ops_metric(const char *text, const char *series)
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

double ops_metric_sum(const char *text, const char *name)
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

int ops_promtool(const char *file, const char *out_path)
{
    char *argv[] = {"/usr/bin/promtool", "check", "metrics", NULL};
    pid_t pid = kit_spawn_in(argv, NULL, file, out_path, out_path);

    return pid > 0 ? kit_wait(pid, kit_deadline_ms(30000)) : -1;
}

int ops_scan_secrets(const char *const *files, const char *const *secrets)
{
    int hits = 0;
    int i, j;

    for (i = 0; files[i]; i++) {
        size_t len = 0;
        char *s = ops_read_file(files[i], &len);
        int hit = 0;

        if (!s) {
            fprintf(stderr, "ops: cannot read %s for the secret scan\n", files[i]);
            hits++; /* an unreadable output cannot be declared clean */
            continue;
        }
        for (j = 0; secrets[j] && !hit; j++) {
            /* memmem, not strstr: outputs may hold NUL bytes (Kafka values, headers). */
            size_t sl = strlen(secrets[j]);
            size_t k;

            for (k = 0; k + sl <= len && !hit; k++) {
                hit = !memcmp(s + k, secrets[j], sl);
            }
            if (hit) {
                fprintf(stderr, "ops: %s contains secret #%d\n", files[i], j);
            }
        }
        hits += hit;
        free(s);
    }
    return hits;
}
