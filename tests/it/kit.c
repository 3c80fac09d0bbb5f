/* Integration-test kit (see kit.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int64_t kit_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kit_deadline_ms(int64_t ms)
{
    const char *m = getenv("SW_TEST_TIMEOUT_MULT");
    int mult = m ? atoi(m) : 1;

    return ms * (mult > 0 ? mult : 1);
}

/* Poll a condition the way every wait here does: short naps until a deadline, never a bare
 * sleep standing in for the condition. */
static void nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

const char *kit_bootstrap(void)
{
    static char buf[256];
    const char *b = getenv("SW_TEST_BOOTSTRAP");
    const char *dir = getenv("SW_TEST_KAFKA_DIR");
    char path[1024];
    FILE *f;

    if (b && *b) {
        return b;
    }
    if (!dir) {
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/bootstrap", dir);
    f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    if (!fgets(buf, sizeof(buf), f)) {
        buf[0] = '\0';
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? buf : NULL;
}

pid_t kit_spawn(char *const argv[], char *const env_extra[], const char *out_path,
                const char *err_path)
{
    return kit_spawn_in(argv, env_extra, NULL, out_path, err_path);
}

pid_t kit_spawn_in(char *const argv[], char *const env_extra[], const char *in_path,
                   const char *out_path, const char *err_path)
{
    posix_spawn_file_actions_t fa;
    char **env;
    size_t n = 0, m = 0, i;
    pid_t pid = -1;

    while (environ[n]) {
        n++;
    }
    while (env_extra && env_extra[m]) {
        m++;
    }
    env = calloc(n + m + 1, sizeof(*env));
    if (!env) {
        return -1;
    }
    for (i = 0; i < m; i++) {
        env[i] = env_extra[i]; /* first match wins in getenv, so extras override */
    }
    for (i = 0; i < n; i++) {
        env[m + i] = environ[i];
    }
    posix_spawn_file_actions_init(&fa);
    if (in_path) {
        posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    }
    if (out_path) {
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (err_path) {
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, env) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    return pid;
}

int kit_wait(pid_t pid, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (r < 0 || kit_now_ms() >= end) {
            return -1;
        }
        nap();
    }
}

void kit_kill(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

pid_t kit_start_sim(const char *sim_bin, const char *workdir, int *port)
{
    return kit_start_sim_args(sim_bin, workdir, NULL, port);
}

pid_t kit_start_sim_args(const char *sim_bin, const char *workdir, char *const extra[], int *port)
{
    char portfile[1024];
    char logfile[1024];
    char *argv[64] = {(char *)sim_bin, "--port", "0", "--port-file", portfile, NULL};
    int64_t end = kit_now_ms() + kit_deadline_ms(10000);
    pid_t pid;
    int n = 5;

    while (extra && *extra && n < 63) {
        argv[n++] = *extra++;
    }
    argv[n] = NULL;
    snprintf(portfile, sizeof(portfile), "%s/sim.port", workdir);
    snprintf(logfile, sizeof(logfile), "%s/sim.log", workdir);
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

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_t *rk;

    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    if (group) {
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    }
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
    }
    rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "kit: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

int kit_create_topic(const char *bootstrap, const char *topic, int partitions)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, NULL);
    rd_kafka_NewTopic_t *nt;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    char err[256];
    int rc = -1;

    if (!rk) {
        return -1;
    }
    nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    ev = rd_kafka_queue_poll(q, (int)kit_deadline_ms(30000));
    if (ev) {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **tr =
            res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;

        if (n == 1 &&
            (rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR ||
             rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)) {
            rc = 0;
        } else {
            fprintf(stderr, "kit: create topic %s: %s\n", topic,
                    n ? rd_kafka_topic_result_error_string(tr[0])
                      : rd_kafka_event_error_string(ev));
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

rd_kafka_t *kit_producer(const char *bootstrap)
{
    return client(RD_KAFKA_PRODUCER, bootstrap, NULL);
}

int kit_produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value, size_t len)
{
    return kit_produce_hdr(rk, topic, key, value, len, NULL, NULL);
}

int kit_produce_hdr(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                    size_t len, const char *hname, const char *hvalue)
{
    rd_kafka_resp_err_t err;
    int tries = 0;

    do {
        rd_kafka_headers_t *h = NULL;

        if (hname) {
            h = rd_kafka_headers_new(1);
            rd_kafka_header_add(h, hname, -1, hvalue, -1);
        }
        err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, key ? strlen(key) : 0),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (err && h) {
            rd_kafka_headers_destroy(h); /* producev takes the headers only on success */
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 100);
        }
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && ++tries < 300);
    return err ? -1 : 0;
}

int kit_flush(rd_kafka_t *rk)
{
    return rd_kafka_flush(rk, (int)kit_deadline_ms(30000)) ? -1 : 0;
}

rd_kafka_t *kit_reader(const char *bootstrap, const char *topic)
{
    char group[128];
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *t;

    snprintf(group, sizeof(group), "kit-reader-%d-%lld", (int)getpid(), (long long)kit_now_ms());
    rk = client(RD_KAFKA_CONSUMER, bootstrap, group);
    if (!rk) {
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    return rk;
}

static int partitions_of(rd_kafka_t *rk, const char *topic)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int n = -1;

    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1) {
        n = md->topics[0].partition_cnt;
    }
    if (md) {
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return n;
}

int kit_wait_committed_at_end(const char *bootstrap, const char *group, const char *topic,
                              int64_t timeout_ms)
{
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, group);
    int64_t end = kit_now_ms() + timeout_ms;
    int np = rk ? partitions_of(rk, topic) : -1;
    int rc = -1;
    int i;

    while (np > 0 && rc != 0) {
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(np);
        int at_end = 1;
        long long gap = 0;

        for (i = 0; i < np; i++) {
            rd_kafka_topic_partition_list_add(parts, topic, i);
        }
        if (rd_kafka_committed(rk, parts, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            at_end = 0;
        }
        for (i = 0; at_end && i < np; i++) {
            int64_t lo = 0, hi = 0;

            rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000);
            if (hi > 0 && parts->elems[i].offset != hi) {
                at_end = 0;
                gap += hi - (parts->elems[i].offset < 0 ? 0 : parts->elems[i].offset);
            }
        }
        rd_kafka_topic_partition_list_destroy(parts);
        if (at_end) {
            rc = 0;
        } else if (kit_now_ms() >= end) {
            fprintf(stderr, "kit: group %s is %lld message(s) behind the end of %s\n", group, gap,
                    topic);
            break;
        } else {
            nap();
        }
    }
    if (rk) {
        rd_kafka_destroy(rk);
    }
    return rc;
}

int kit_committed(const char *bootstrap, const char *group, const char *topic, int64_t *out, int np)
{
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, group);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(np);
    int rc = -1;
    int i;

    for (i = 0; i < np; i++) {
        rd_kafka_topic_partition_list_add(parts, topic, i);
    }
    if (rk && rd_kafka_committed(rk, parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (i = 0; i < np; i++) {
            out[i] = parts->elems[i].offset < 0 ? 0 : parts->elems[i].offset;
        }
        rc = 0;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    if (rk) {
        rd_kafka_destroy(rk);
    }
    return rc;
}

int kit_validate(const char *validator, const char *schema, const char *ndjson)
{
    char *argv[] = {"/usr/bin/python3", (char *)validator, "-q",
                    (char *)schema,     (char *)ndjson,    NULL};
    pid_t pid = kit_spawn(argv, NULL, NULL, NULL);

    return pid > 0 ? kit_wait(pid, kit_deadline_ms(120000)) : -1;
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

int kit_parse_args(int argc, char **argv, const char *name, struct kit_args *a)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s SEGWORKER SEGSIM VALIDATOR SCHEMA_DIR WORKDIR\n", name);
        return -1;
    }
    a->worker = argv[1];
    a->sim = argv[2];
    a->validator = argv[3];
    a->schemas = argv[4];
    a->work = argv[5];
    return 0;
}
