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

void kit_signal(pid_t pid, int sig)
{
    /* Never kill(-1) or kill(0): a failed spawn must not signal every process we may reach. */
    if (pid > 0) {
        kill(pid, sig);
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
    return kit_start_sim_ex(sim_bin, workdir, NULL, NULL, port);
}

pid_t kit_start_sim_ex(const char *sim_bin, const char *workdir, char *const prefix[],
                       char *const extra[], int *port)
{
    char portfile[1024];
    char logfile[1024];
    char *argv[64];
    char tool[256];
    size_t n = 0, i;
    int64_t end = kit_now_ms() + kit_deadline_ms(10000);
    pid_t pid = -1;

    snprintf(portfile, sizeof(portfile), "%s/sim.port", workdir);
    snprintf(logfile, sizeof(logfile), "%s/sim.log", workdir);
    for (i = 0; prefix && prefix[i] && n < 40; i++) {
        argv[n++] = prefix[i];
    }
    argv[n++] = (char *)sim_bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    for (i = 0; extra && extra[i] && n < 63; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    unlink(portfile);
    if (prefix && prefix[0] && !strchr(prefix[0], '/')) {
        /* A prefix names a tool, not a path: posix_spawn does not search PATH. */
        snprintf(tool, sizeof(tool), "/usr/sbin/%s", prefix[0]);
        if (access(tool, X_OK) != 0) {
            snprintf(tool, sizeof(tool), "/usr/bin/%s", prefix[0]);
        }
        argv[0] = tool;
    }
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
        if (kit_wait(pid, 0) >= 0) {
            fprintf(stderr, "kit: the simulator exited during start-up (see %s)\n", logfile);
            return -1;
        }
        nap();
    }
    kit_kill(pid);
    return -1;
}

int kit_run(char *const argv[], const char *err_path, int64_t timeout_ms)
{
    pid_t pid = kit_spawn(argv, NULL, err_path, err_path);
    int rc;

    if (pid <= 0) {
        return -1;
    }
    rc = kit_wait(pid, timeout_ms);
    if (rc < 0) {
        fprintf(stderr, "kit: %s did not finish in %lld ms\n", argv[0], (long long)timeout_ms);
        kit_kill(pid);
    }
    return rc;
}

/* Messages of the kit's producers that the broker never acknowledged (librdkafka gave up). */
static int delivery_failures;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (delivery_failures++ < 5) {
            fprintf(stderr, "kit: delivery to %s [%d] failed: %s\n", rd_kafka_topic_name(m->rkt),
                    (int)m->partition, rd_kafka_err2str(m->err));
        }
    }
}

/* plain: a producer without idempotence (kit_producer_plain). */
static rd_kafka_t *client_ex(rd_kafka_type_t type, const char *bootstrap, const char *group,
                             int plain)
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
        rd_kafka_conf_set(conf, "enable.idempotence", plain ? "false" : "true", err, sizeof(err));
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    }
    rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "kit: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, const char *group)
{
    return client_ex(type, bootstrap, group, 0);
}

rd_kafka_t *kit_producer_plain(const char *bootstrap)
{
    return client_ex(RD_KAFKA_PRODUCER, bootstrap, NULL, 1);
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
    /* flush serves the delivery reports, so a failed message is counted by now. */
    if (rd_kafka_flush(rk, (int)kit_deadline_ms(30000))) {
        return -1;
    }
    return delivery_failures ? -1 : 0;
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

int64_t kit_topic_messages(const char *bootstrap, const char *topic)
{
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, "kit-watermarks");
    int np = rk ? partitions_of(rk, topic) : -1;
    int64_t sum = np > 0 ? 0 : -1;
    int i;

    for (i = 0; i < np; i++) {
        int64_t lo = 0, hi = 0;

        if (rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000)) {
            sum = -1;
            break;
        }
        sum += hi - lo;
    }
    if (rk) {
        rd_kafka_destroy(rk);
    }
    return sum;
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

pid_t kit_start_sim_args(const char *sim_bin, const char *workdir, char *const extra[], int *port)
{
    return kit_start_sim_ex(sim_bin, workdir, NULL, extra, port);
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

int kit_tally_init(struct kit_tally *t, const char *prefix, int n)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->prefix, sizeof(t->prefix), "%s", prefix);
    t->n = n;
    t->finals = calloc((size_t)n, sizeof(*t->finals));
    t->code = calloc((size_t)n, sizeof(*t->code));
    t->final_ms = calloc((size_t)n, sizeof(*t->final_ms));
    if (!t->finals || !t->code || !t->final_ms) {
        kit_tally_free(t);
        return -1;
    }
    return 0;
}

void kit_tally_free(struct kit_tally *t)
{
    free(t->finals);
    free(t->code);
    free(t->final_ms);
    t->finals = NULL;
    t->code = NULL;
    t->final_ms = NULL;
}

static int tally_index(const struct kit_tally *t, const char *job_id)
{
    size_t n = strlen(t->prefix);
    char *end = NULL;
    long v;

    if (!job_id || strncmp(job_id, t->prefix, n) || job_id[n] != '-') {
        return -1;
    }
    v = strtol(job_id + n + 1, &end, 10);
    return end && !*end && v >= 0 && v < t->n ? (int)v : -1;
}

static void tally_one(struct kit_tally *t, const rd_kafka_message_t *m,
                      void (*on_final)(void *arg, int idx, const cJSON *r), void *arg)
{
    cJSON *r = cJSON_ParseWithLength(m->payload, m->len);
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(r, "part");
    int idx = tally_index(t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "job_id")));
    int64_t now = kit_now_ms();

    if (idx < 0) {
        if (t->foreign++ < 5) {
            fprintf(stderr, "kit: result of another run: %.200s\n", (const char *)m->payload);
        }
        cJSON_Delete(r);
        return;
    }
    if (t->messages && now - t->last_ms > t->max_gap_ms) {
        t->max_gap_ms = now - t->last_ms;
    }
    t->messages++;
    t->last_ms = now;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "last"))) {
        if (t->finals[idx]++ == 0) {
            const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
            const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code"));

            snprintf(t->code[idx], sizeof(t->code[idx]), "%s", code ? code : "");
            t->final_ms[idx] = now;
            t->complete++;
        } else {
            t->duplicates++;
        }
        if (on_final) {
            on_final(arg, idx, r);
        }
    }
    cJSON_Delete(r);
}

int kit_tally_poll(struct kit_tally *t, rd_kafka_t *reader, int wait_ms,
                   void (*on_final)(void *arg, int idx, const cJSON *r), void *arg)
{
    int64_t end = kit_now_ms() + wait_ms;
    int got = 0;

    do {
        int64_t left = end - kit_now_ms();
        rd_kafka_message_t *m = rd_kafka_consumer_poll(reader, left > 0 ? (int)left : 0);

        if (!m) {
            continue;
        }
        if (!m->err) {
            tally_one(t, m, on_final, arg);
            got++;
        }
        rd_kafka_message_destroy(m);
    } while (t->complete < t->n && kit_now_ms() < end);
    return got;
}

int kit_tally_wait(struct kit_tally *t, rd_kafka_t *reader, int64_t timeout_ms,
                   void (*on_final)(void *arg, int idx, const cJSON *r), void *arg)
{
    int64_t end = kit_now_ms() + timeout_ms;
    int i, shown = 0;

    while (t->complete < t->n && kit_now_ms() < end) {
        kit_tally_poll(t, reader, 200, on_final, arg);
    }
    if (t->complete == t->n) {
        return 0;
    }
    fprintf(stderr, "kit: %d of %d job(s) of %s have no final result\n", t->n - t->complete, t->n,
            t->prefix);
    for (i = 0; i < t->n && shown < 10; i++) {
        if (!t->finals[i]) {
            fprintf(stderr, "kit:   missing %s-%d\n", t->prefix, i);
            shown++;
        }
    }
    return -1;
}

int64_t kit_count_jobs(const char *bootstrap, const char *topic, const char *prefix, int n,
                       int *counts, int64_t want, int64_t timeout_ms)
{
    rd_kafka_t *rk = kit_reader(bootstrap, topic);
    struct kit_tally t;
    int64_t end = kit_now_ms() + timeout_ms, got = 0;

    memset(&t, 0, sizeof(t));
    snprintf(t.prefix, sizeof(t.prefix), "%s", prefix);
    t.n = n;
    memset(counts, 0, sizeof(*counts) * (size_t)n);
    while (rk && got < want && kit_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        cJSON *j;
        int idx;

        if (!m) {
            continue;
        }
        if (!m->err) {
            got++;
            j = cJSON_ParseWithLength(m->payload, m->len);
            idx = tally_index(&t,
                              cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "job_id")));
            if (idx >= 0) {
                counts[idx]++;
            }
            cJSON_Delete(j);
        }
        rd_kafka_message_destroy(m);
    }
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    return got;
}

int kit_worker_counts(const char *log_path, long long *consumed, long long *results)
{
    FILE *f = fopen(log_path, "r");
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
