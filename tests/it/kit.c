/* The kit's base: deadlines and clocks, the test's arguments, files, loopback HTTP (see kit.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_ms(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kit_now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

int64_t kit_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int64_t kit_deadline_ms(int64_t ms)
{
    const char *m = getenv("SW_TEST_TIMEOUT_MULT");
    int mult = m ? atoi(m) : 1;

    return ms * (mult > 0 ? mult : 1);
}

int kit_scale_div(void)
{
    const char *d = getenv("SW_TEST_SCALE_DIV");

    return d && atoi(d) > 1 ? atoi(d) : 1;
}

void kit_nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

int64_t kit_parse_time_ms(const char *s)
{
    struct tm tm;
    int ms = 0;

    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &ms) < 6) {
        return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

void kit_format_time(int64_t epoch_ms, char *buf, size_t n)
{
    time_t s = (time_t)(epoch_ms / 1000);
    struct tm tm;
    char base[32];

    gmtime_r(&s, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03dZ", base, (int)(epoch_ms % 1000));
}

int kit_read_bootstrap(const char *dir, char *buf, size_t n)
{
    char path[1100];
    FILE *f;

    buf[0] = '\0';
    f = fopen(kit_path(path, sizeof(path), dir, "bootstrap"), "r");
    if (!f) {
        return -1;
    }
    if (!fgets(buf, (int)n, f)) {
        buf[0] = '\0';
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? 0 : -1;
}

int kit_parse_args(int argc, char **argv, const char *name, struct kit_args *a)
{
    const char *b = getenv("SW_TEST_BOOTSTRAP");
    const char *dir = getenv("SW_TEST_KAFKA_DIR");

    memset(a, 0, sizeof(*a));
    if (argc != 6) {
        fprintf(stderr, "usage: %s SEGWORKER SEGSIM VALIDATOR SCHEMA_DIR WORKDIR\n", name);
        return -1;
    }
    a->worker = argv[1];
    a->sim = argv[2];
    a->validator = argv[3];
    a->schemas = argv[4];
    a->work = argv[5];
    if (b && *b) {
        snprintf(a->bootstrap, sizeof(a->bootstrap), "%s", b);
    } else if (dir) {
        kit_read_bootstrap(dir, a->bootstrap, sizeof(a->bootstrap));
    }
    return 0;
}

char *kit_path(char *buf, size_t n, const char *dir, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
    return buf;
}

char *kit_read_file(const char *path, size_t *len)
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
                buf = NULL;
                goto out;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
    } while (r > 0);
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
out:
    fclose(f);
    return buf;
}

int kit_write_file(const char *path, const char *text)
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

int kit_file_contains(const char *path, const char *needle)
{
    char *s = kit_read_file(path, NULL);
    int found = s && strstr(s, needle) != NULL;

    free(s);
    return found;
}

int kit_wait_file_contains(const char *path, const char *needle, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;

    while (!kit_file_contains(path, needle)) {
        if (kit_now_ms() >= end) {
            fprintf(stderr, "kit: %s never contained \"%s\"\n", path, needle);
            return -1;
        }
        kit_nap_ms(20);
    }
    return 0;
}

int kit_file_lines(const char *path)
{
    char *s = kit_read_file(path, NULL);
    int n = 0;
    char *p;

    for (p = s; p && *p; p++) {
        n += *p == '\n';
    }
    free(s);
    return n;
}

int kit_file_line_with(const char *path, const char *const *needles)
{
    char *s = kit_read_file(path, NULL);
    char *line = s;
    int found = 0;

    while (line && *line && !found) {
        char *nl = strchr(line, '\n');
        int i;

        if (nl) {
            *nl = '\0';
        }
        found = 1;
        for (i = 0; needles[i] && found; i++) {
            found = strstr(line, needles[i]) != NULL;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(s);
    return found;
}

/* memmem, not strstr: outputs may hold NUL bytes (Kafka values, headers). */
static int holds(const char *s, size_t len, const char *needle)
{
    size_t nl = strlen(needle), k;

    for (k = 0; k + nl <= len; k++) {
        if (!memcmp(s + k, needle, nl)) {
            return 1;
        }
    }
    return 0;
}

int kit_scan_secrets(const char *const *files, const char *const *secrets)
{
    int hits = 0;
    int i, j;

    for (i = 0; files[i]; i++) {
        size_t len = 0;
        char *s = kit_read_file(files[i], &len);
        int hit = 0;

        if (!s) {
            fprintf(stderr, "kit: cannot read %s for the secret scan\n", files[i]);
            hits++;
            continue;
        }
        for (j = 0; secrets[j] && !hit; j++) {
            hit = holds(s, len, secrets[j]);
            if (hit) {
                fprintf(stderr, "kit: %s contains secret #%d\n", files[i], j);
            }
        }
        hits += hit;
        free(s);
    }
    return hits;
}

int kit_validate(const struct kit_args *a, const char *schema, const char *ndjson)
{
    char path[1100];
    char *argv[] = {"/usr/bin/python3", (char *)a->validator, "-q", path, (char *)ndjson, NULL};

    kit_path(path, sizeof(path), a->schemas, schema);
    return kit_run(argv, NULL, kit_deadline_ms(120000));
}

int kit_http_get(int port, const char *path, char *buf, size_t n)
{
    return kit_http(port, "GET", path, buf, n);
}

int kit_http(int port, const char *method, const char *path, char *buf, size_t n)
{
    struct sockaddr_in sa;
    char req[512];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int status = -1;
    struct timeval tv = {10, 0};

    if (fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
        ssize_t r;

        while (got + 1 < n && (r = read(fd, buf + got, n - got - 1)) > 0) {
            got += (size_t)r;
        }
        buf[got] = '\0';
        if (sscanf(buf, "HTTP/%*s %d", &status) != 1) {
            status = -1;
        } else {
            char *body = strstr(buf, "\r\n\r\n");

            if (body) {
                memmove(buf, body + 4, strlen(body + 4) + 1);
            }
        }
    }
    close(fd);
    return status;
}

int kit_http_wait_status(int port, const char *path, int want_status, char *buf, size_t n,
                         int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;
    int st;

    for (;;) {
        st = kit_http_get(port, path, buf, n);
        if (st == want_status || kit_now_ms() >= end) {
            return st;
        }
        kit_nap_ms(20);
    }
}
