/* Kafka worker (see sw_worker.h).
 *
 * Threads: librdkafka runs its own broker threads; everything here runs on one loop thread. The
 * loop sleeps in curl_multi_poll, with a pipe that librdkafka writes to when the consumer queue
 * or the producer's event queue becomes non-empty, so Kafka events, HTTP sockets and timers all
 * wake the same wait.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_worker.h"
#include "sw_exec.h"
#include "sw_job.h"
#include "sw_log.h"
#include "sw_loop.h"
#include "sw_offsets.h"
#include "sw_time.h"
#include "sw_version.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE_FULL_TRIES 600 /* x 100 ms: how long a produce may wait for queue space */

/* One consumed message, from poll until its last result (and DLQ entry) is acknowledged. */
struct sw_msg {
    struct sw_worker *w;
    struct sw_msg *prev, *next; /* every live message, so shutdown frees abandoned ones */
    char *topic;
    int32_t partition;
    int64_t offset;
    void *key;
    size_t key_len;
    char *raw; /* the original value, kept for a dead letter */
    size_t raw_len;
    char *traceparent;
    const char *reply_topic; /* borrowed from the config or job-validated */
    char reply_buf[256];
    int pending;       /* produced, not yet acknowledged */
    int final_emitted; /* the job's last result (or DLQ entry) was produced */
    int delivery_failed;
};

struct sw_worker {
    const struct sw_config *cfg;
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_queue_t *cq;
    rd_kafka_queue_t *pq;
    int pipefd[2];
    struct sw_loop loop;
    struct sw_job_limits job_lim;
    struct sw_offsets offsets;
    struct sw_msg *msgs;
    long in_flight;
    int paused;
    int64_t full_since; /* when the window filled up (monotonic ms); 0 while it is not full */
    int draining;
    int fatal;
    unsigned long long consumed, results, dead_letters;
};

static void msg_free(struct sw_msg *m)
{
    if (!m) {
        return;
    }
    if (m->prev) {
        m->prev->next = m->next;
    } else if (m->w && m->w->msgs == m) {
        m->w->msgs = m->next;
    }
    if (m->next) {
        m->next->prev = m->prev;
    }
    free(m->topic);
    free(m->key);
    free(m->raw);
    free(m->traceparent);
    free(m);
}

/* ---- pause / resume ---- */

/* Pause or resume the whole assignment. Invariant: while w->paused every assigned partition is
 * paused (on_rebalance pauses newly assigned ones), so a resume never touches a partition that
 * was not paused — librdkafka 2.0.2 can rewind the fetch position when it does. */
static void set_paused(struct sw_worker *w, int pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;

    if (w->paused == pause ||
        rd_kafka_assignment(w->consumer, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    if (parts->cnt) {
        if (pause) {
            rd_kafka_pause_partitions(w->consumer, parts);
        } else {
            rd_kafka_resume_partitions(w->consumer, parts);
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
    w->paused = pause;
}

/* A full window first only stops taking messages (poll_kafka leaves them in librdkafka's bounded
 * queue); the partitions are paused when it stays full for a second. A pause/resume cycle costs
 * 0.5-1 s in librdkafka 2.0.2 (the resumed partition waits for the broker thread's next fetch
 * round), which held a window of 10 jobs against a 50 ms provider to 20 jobs/s (bench/). Pausing
 * after a second keeps polling, and so rebalances, going while slow jobs hold the window. */
static void check_window(struct sw_worker *w)
{
    long max = (long)w->cfg->max_in_flight;

    if (w->draining) {
        return;
    }
    if (!w->paused && w->in_flight >= max) {
        int64_t now = sw_now_mono_ms();

        if (!w->full_since) {
            w->full_since = now;
        }
        if (now - w->full_since >= 1000) {
            set_paused(w, 1);
        }
    } else if (!w->paused) {
        w->full_since = 0;
    } else if (w->in_flight <= max - max / 4 - 1) {
        set_paused(w, 0);
        w->full_since = 0;
    }
}

/* ---- completion ---- */

static void msg_complete(struct sw_worker *w, struct sw_msg *m)
{
    struct sw_partition_ledger *l = sw_offsets_get(&w->offsets, m->topic, m->partition, 0);

    if (m->delivery_failed) {
        /* A result the broker never acknowledged: committing past it would lose the job. Stop;
         * a restart redelivers it. */
        sw_log_error(NULL,
                     "a result for %s [%d] offset %lld was not delivered; stopping without "
                     "committing it",
                     m->topic, (int)m->partition, (long long)m->offset);
        w->fatal = 1;
    } else if (l && sw_ledger_done(l, m->offset) == 1) {
        rd_kafka_topic_partition_list_t *off = rd_kafka_topic_partition_list_new(1);

        rd_kafka_topic_partition_list_add(off, m->topic, m->partition)->offset = l->committable;
        /* l->committable is already "last done + 1", the position the group resumes from. */
        if (rd_kafka_offsets_store(w->consumer, off) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            sw_log_debug(NULL, "offset store for %s [%d] refused (partition revoked)", m->topic,
                         (int)m->partition);
        }
        rd_kafka_topic_partition_list_destroy(off);
    }
    w->in_flight--;
    msg_free(m);
    check_window(w);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct sw_worker *w = opaque;
    struct sw_msg *m = rkm->_private;

    if (!m) {
        return;
    }
    if (rkm->err) {
        sw_log_error(NULL, "delivery to %s failed: %s", rd_kafka_topic_name(rkm->rkt),
                     rd_kafka_err2str(rkm->err));
        m->delivery_failed = 1;
    }
    m->pending--;
    if (m->final_emitted && m->pending == 0) {
        msg_complete(w, m);
    }
}

/* ---- producing ---- */

static int produce(struct sw_worker *w, struct sw_msg *m, const char *topic, const void *key,
                   size_t key_len, const char *value, size_t len, rd_kafka_headers_t *hdrs)
{
    rd_kafka_resp_err_t err;
    int tries = 0;

    for (;;) {
        /* F_COPY: the payload buffer belongs to the engine and is freed right after emit. The
         * headers are consumed by producev only on success. */
        err = rd_kafka_producev(
            w->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, key_len),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || ++tries > QUEUE_FULL_TRIES) {
            break;
        }
        /* Backpressure from the broker: serve delivery reports until there is room. */
        rd_kafka_poll(w->producer, 100);
    }
    if (err) {
        rd_kafka_headers_destroy(hdrs);
        sw_log_error(NULL, "produce to %s failed: %s", topic, rd_kafka_err2str(err));
        return -1;
    }
    m->pending++;
    return 0;
}

static int dlq_worthy(sw_err_t code, int http_status)
{
    switch (code) {
    case SW_E_INVALID_JOB:
    case SW_E_UNKNOWN_PROVIDER:
    case SW_E_UNKNOWN_ACCOUNT:
    case SW_E_UNSUPPORTED_OPERATION:
        return 1;
    case SW_E_INVALID_PARAMS:
        return http_status == 0; /* ours, not the provider's verdict */
    case SW_E_RESPONSE_INVALID:
    case SW_E_RESULT_TOO_LARGE:
        return 1;
    default:
        return 0;
    }
}

static int produce_dlq(struct sw_worker *w, struct sw_msg *m, const struct sw_emit *em,
                       const char *reason_msg)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(8);
    char num[32];
    size_t len = m->raw_len;
    size_t cap = (size_t)w->cfg->max_result_bytes;

    rd_kafka_header_add(h, "segworker.reason", -1, sw_err_name(em->code), -1);
    if (reason_msg) {
        rd_kafka_header_add(h, "segworker.error", -1, reason_msg, -1);
    }
    rd_kafka_header_add(h, "segworker.source.topic", -1, m->topic, -1);
    snprintf(num, sizeof(num), "%d", (int)m->partition);
    rd_kafka_header_add(h, "segworker.source.partition", -1, num, -1);
    snprintf(num, sizeof(num), "%lld", (long long)m->offset);
    rd_kafka_header_add(h, "segworker.source.offset", -1, num, -1);
    rd_kafka_header_add(h, "segworker.version", -1, SW_VERSION, -1);
    if (em->job_id) {
        rd_kafka_header_add(h, "job_id", -1, em->job_id, -1);
    }
    if (len > cap) {
        /* An oversized job cannot be re-published whole; say so rather than cut silently. */
        snprintf(num, sizeof(num), "%zu", len);
        rd_kafka_header_add(h, "segworker.truncated_from", -1, num, -1);
        len = cap;
    }
    w->dead_letters++;
    return produce(w, m, w->cfg->dlq_topic, m->key, m->key_len, m->raw, len, h);
}

static int on_emit(void *arg, const struct sw_emit *em)
{
    struct sw_worker *w = arg;
    struct sw_msg *m = em->user;
    int rc = 0;

    if (em->payload) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);

        rd_kafka_header_add(h, "job_id", -1, em->job_id, -1);
        rd_kafka_header_add(h, "status", -1, em->succeeded ? "succeeded" : "failed", -1);
        if (m->traceparent) {
            rd_kafka_header_add(h, "traceparent", -1, m->traceparent, -1);
        }
        rc = produce(w, m, m->reply_topic, em->job_id, strlen(em->job_id), em->payload, em->len, h);
        if (rc == 0) {
            w->results++;
        } else {
            m->delivery_failed = 1;
        }
    }
    if (em->last) {
        if (!em->succeeded && dlq_worthy(em->code, em->http_status)) {
            if (produce_dlq(w, m, em, em->message) != 0) {
                m->delivery_failed = 1;
            }
        }
        m->final_emitted = 1;
        if (m->pending == 0) {
            msg_complete(w, m);
        }
    }
    return rc;
}

/* ---- consuming ---- */

static int reply_allowed(const struct sw_config *cfg, const char *topic)
{
    const char *p = cfg->reply_to_allowed;
    size_t n = strlen(topic);

    if (!strcmp(topic, cfg->results_topic)) {
        return 1;
    }
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);

        if (l == n && !strncmp(p, topic, n)) {
            return 1;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

static void handle_message(struct sw_worker *w, rd_kafka_message_t *rkm)
{
    struct sw_msg *m;
    struct sw_job *job = NULL;
    struct sw_status st;
    struct sw_partition_ledger *l;
    rd_kafka_headers_t *hdrs = NULL;
    const void *tp = NULL;
    size_t tplen = 0;
    int64_t now = sw_now_wall_ms();

    if (w->draining) {
        return; /* not tracked, so never committed: the next owner gets it */
    }
    l = sw_offsets_get(&w->offsets, rd_kafka_topic_name(rkm->rkt), rkm->partition, 1);
    m = calloc(1, sizeof(*m));
    if (!m || !l) {
        sw_log_error(NULL, "out of memory; stopping");
        w->fatal = 1;
        free(m);
        return;
    }
    m->w = w;
    m->next = w->msgs;
    if (w->msgs) {
        w->msgs->prev = m;
    }
    w->msgs = m;
    m->topic = strdup(rd_kafka_topic_name(rkm->rkt));
    m->partition = rkm->partition;
    m->offset = rkm->offset;
    m->reply_topic = w->cfg->results_topic;
    if (rkm->key_len) {
        m->key = malloc(rkm->key_len);
        if (m->key) {
            memcpy(m->key, rkm->key, rkm->key_len);
            m->key_len = rkm->key_len;
        }
    }
    m->raw = malloc(rkm->len + 1);
    if (!m->topic || !m->raw || (rkm->key_len && !m->key) || sw_ledger_track(l, m->offset)) {
        sw_log_error(NULL, "out of memory; stopping");
        w->fatal = 1;
        msg_free(m);
        return;
    }
    if (rkm->len) {
        memcpy(m->raw, rkm->payload, rkm->len);
    }
    m->raw[rkm->len] = '\0';
    m->raw_len = rkm->len;
    if (!rd_kafka_message_headers(rkm, &hdrs) &&
        !rd_kafka_header_get_last(hdrs, "traceparent", &tp, &tplen) && tp && tplen < 256) {
        m->traceparent = strndup(tp, tplen);
    }
    w->in_flight++;
    w->consumed++;
    check_window(w);

    sw_status_clear(&st);
    if (sw_job_parse(m->raw, m->raw_len, &w->job_lim, &job, &st) != SW_E_OK) {
        sw_exec_reject(&w->loop.eng, job, &st, m, now);
        return;
    }
    if (job->reply_to) {
        if (!reply_allowed(w->cfg, job->reply_to)) {
            sw_status_set(&st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                          "reply_to \"%s\" is not an allowed topic (topics.reply_allowed)",
                          job->reply_to);
            sw_exec_reject(&w->loop.eng, job, &st, m, now);
            return;
        }
        snprintf(m->reply_buf, sizeof(m->reply_buf), "%s", job->reply_to);
        m->reply_topic = m->reply_buf;
    }
    sw_exec_start(&w->loop.eng, job, m, now, 0);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct sw_worker *w = opaque;
    int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    int i;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (i = 0; i < parts->cnt; i++) {
            sw_offsets_get(&w->offsets, parts->elems[i].topic, parts->elems[i].partition, 1);
        }
        sw_log_info(NULL, "assigned %d partition(s)", parts->cnt);
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);

            if (e) {
                sw_log_error(NULL, "incremental assign: %s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        } else {
            rd_kafka_assign(rk, parts);
        }
        if (w->paused || w->draining) {
            rd_kafka_pause_partitions(rk, parts);
        }
        return;
    }
    /* Revoked or lost: commit what is done (stored offsets), forget the rest. Jobs still running
     * for these partitions finish and publish, but can no longer move the offsets: the new owner
     * redoes them (at-least-once). */
    sw_log_info(NULL, "revoking %d partition(s)", parts->cnt);
    if (!rd_kafka_assignment_lost(rk)) {
        rd_kafka_commit(rk, NULL, 0);
    }
    for (i = 0; i < parts->cnt; i++) {
        sw_offsets_drop(&w->offsets, parts->elems[i].topic, parts->elems[i].partition);
    }
    if (coop) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);

        if (e) {
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug. */
    enum sw_log_level lvl = level <= 3   ? SW_LOG_ERROR
                            : level == 4 ? SW_LOG_WARN
                            : level <= 6 ? SW_LOG_INFO
                                         : SW_LOG_DEBUG;

    if (sw_log_enabled(lvl)) {
        sw_log_write(lvl, NULL, "kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sw_worker *w = opaque;

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];

        rd_kafka_fatal_error(rk, buf, sizeof(buf));
        sw_log_error(NULL, "fatal Kafka error: %s", buf);
        w->fatal = 1;
        return;
    }
    /* Everything else (broker down, transport errors) librdkafka retries by itself. */
    sw_log_warn(NULL, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* ---- setup ---- */

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];

    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        sw_log_error(NULL, "kafka property %s: %s", k, err);
        return -1;
    }
    return 0;
}

static rd_kafka_conf_t *base_conf(struct sw_worker *w, int scope)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    size_t i;

    if (conf_set(conf, "bootstrap.servers", w->cfg->brokers) ||
        conf_set(conf, "client.id", "segworker")) {
        goto fail;
    }
    if (scope == 1) {
        if (conf_set(conf, "group.id", w->cfg->group) ||
            conf_set(conf, "enable.auto.offset.store", "false") ||
            conf_set(conf, "enable.auto.commit", "true") ||
            conf_set(conf, "auto.commit.interval.ms", "1000") ||
            conf_set(conf, "auto.offset.reset", "earliest") ||
            conf_set(conf, "partition.assignment.strategy", "cooperative-sticky") ||
            conf_set(conf, "queued.max.messages.kbytes", "16384")) {
            goto fail;
        }
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    } else {
        /* 64 MiB of unacknowledged results at most: past it produce() waits (backpressure). */
        if (conf_set(conf, "enable.idempotence", "true") || conf_set(conf, "linger.ms", "5") ||
            conf_set(conf, "queue.buffering.max.kbytes", "65536")) {
            goto fail;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    }
    for (i = 0; i < w->cfg->nkafka; i++) {
        if (w->cfg->kafka[i].scope && w->cfg->kafka[i].scope != scope) {
            continue;
        }
        if (conf_set(conf, w->cfg->kafka[i].key, w->cfg->kafka[i].value)) {
            goto fail;
        }
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, w);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static int setup(struct sw_worker *w)
{
    rd_kafka_conf_t *conf;
    rd_kafka_topic_partition_list_t *topics;
    char err[512];
    rd_kafka_resp_err_t e;

    if (pipe(w->pipefd) != 0) {
        return -1;
    }
    fcntl(w->pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(w->pipefd[1], F_SETFL, O_NONBLOCK);
    conf = base_conf(w, 2);
    if (!conf) {
        return -1;
    }
    w->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!w->producer) {
        rd_kafka_conf_destroy(conf);
        sw_log_error(NULL, "producer: %s", err);
        return -1;
    }
    conf = base_conf(w, 1);
    if (!conf) {
        return -1;
    }
    w->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!w->consumer) {
        rd_kafka_conf_destroy(conf);
        sw_log_error(NULL, "consumer: %s", err);
        return -1;
    }
    rd_kafka_poll_set_consumer(w->consumer);
    w->cq = rd_kafka_queue_get_consumer(w->consumer);
    w->pq = rd_kafka_queue_get_main(w->producer);
    rd_kafka_queue_io_event_enable(w->cq, w->pipefd[1], "1", 1);
    rd_kafka_queue_io_event_enable(w->pq, w->pipefd[1], "1", 1);
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, w->cfg->jobs_topic, RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(w->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        sw_log_error(NULL, "subscribe to %s: %s", w->cfg->jobs_topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int sw_worker_check_config(const struct sw_config *cfg)
{
    struct sw_worker w;
    rd_kafka_conf_t *c;
    rd_kafka_conf_t *p;
    int rc;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    c = base_conf(&w, 1);
    p = c ? base_conf(&w, 2) : NULL; /* one report of a bad property is enough */
    rc = c && p ? 0 : -1;
    if (c) {
        rd_kafka_conf_destroy(c);
    }
    if (p) {
        rd_kafka_conf_destroy(p);
    }
    return rc;
}

static void drain_pipe(int fd)
{
    char buf[256];

    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

static void poll_kafka(struct sw_worker *w)
{
    rd_kafka_message_t *rkm;
    int n = 0;

    /* Acknowledgements first: they free window slots for the messages polled below. */
    rd_kafka_poll(w->producer, 0);
    /* Bounded per turn so HTTP completions keep flowing under a flood of jobs; while the window
     * is full (and not yet paused) messages stay in librdkafka's queue. */
    while (n++ < 1000 && (w->paused || w->in_flight < (long)w->cfg->max_in_flight) &&
           (rkm = rd_kafka_consumer_poll(w->consumer, 0)) != NULL) {
        if (rkm->err) {
            /* Informational (end of partition, transient broker trouble) unless fatal, which
             * the error callback handles. */
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                sw_log_warn(NULL, "consumer: %s", rd_kafka_message_errstr(rkm));
            }
        } else {
            handle_message(w, rkm);
        }
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_poll(w->producer, 0);
}

int sw_worker_run(const struct sw_config *cfg, const struct sw_specs *specs,
                  const struct sw_accounts *accounts, volatile sig_atomic_t *stop)
{
    struct sw_worker w;
    struct curl_waitfd wfd;
    int64_t drain_deadline = 0;
    int rc = 1;

    memset(&w, 0, sizeof(w));
    if (!strcmp(cfg->delivery, "transactional")) {
        /* Refuse rather than silently give a weaker guarantee than the operator asked for. */
        sw_log_error(NULL, "delivery=transactional is not implemented yet; use at-least-once");
        return 2;
    }
    if (cfg->http_addr[0]) {
        sw_log_warn(NULL, "http_addr=%s: the metrics/health listener is not implemented yet",
                    cfg->http_addr);
    }
    w.cfg = cfg;
    w.pipefd[0] = w.pipefd[1] = -1;
    sw_offsets_init(&w.offsets);
    sw_job_limits_from(cfg, &w.job_lim);
    if (sw_loop_init(&w.loop, cfg, specs, accounts, on_emit, &w) != 0 || setup(&w) != 0) {
        goto out;
    }
    sw_log_info(NULL, "segworker %s consuming %s as group %s, results to %s", SW_VERSION,
                cfg->jobs_topic, cfg->group, cfg->results_topic);
    wfd.fd = w.pipefd[0];
    wfd.events = CURL_WAIT_POLLIN;
    wfd.revents = 0;
    for (;;) {
        if (*stop && !w.draining) {
            w.draining = 1;
            set_paused(&w, 1);
            drain_deadline = sw_now_mono_ms() + cfg->shutdown_grace_ms;
            sw_log_info(NULL, "draining: %ld job(s) in flight, grace %lld ms", w.in_flight,
                        cfg->shutdown_grace_ms);
        }
        if (w.fatal) {
            break;
        }
        if (w.draining && (w.in_flight == 0 || sw_now_mono_ms() >= drain_deadline)) {
            break;
        }
        /* 100 ms bounds the latency of any wakeup the io-event pipe might miss. */
        sw_loop_turn(&w.loop, &wfd, 1, 100);
        drain_pipe(w.pipefd[0]);
        check_window(&w); /* the one-second pause deadline */
        poll_kafka(&w);
    }
    if (w.in_flight && !w.fatal) {
        sw_log_warn(NULL,
                    "grace period over: %ld job(s) abandoned uncommitted (they will be "
                    "redelivered)",
                    w.in_flight);
    }
    /* Results already produced still count: wait for their acknowledgements, which store the
     * offsets, then commit synchronously. */
    sw_exec_abort_all(&w.loop.eng);
    rd_kafka_flush(w.producer, 10000);
    rd_kafka_poll(w.producer, 0);
    if (!w.fatal) {
        rd_kafka_commit(w.consumer, NULL, 0);
    }
    rc = w.fatal ? 1 : 0;
    sw_log_info(NULL, "stopped: consumed %llu, results %llu, dead letters %llu", w.consumed,
                w.results, w.dead_letters);
out:
    if (w.cq) {
        rd_kafka_queue_io_event_enable(w.cq, -1, NULL, 0);
        rd_kafka_queue_destroy(w.cq);
    }
    if (w.pq) {
        rd_kafka_queue_io_event_enable(w.pq, -1, NULL, 0);
        rd_kafka_queue_destroy(w.pq);
    }
    if (w.consumer) {
        rd_kafka_consumer_close(w.consumer);
        rd_kafka_destroy(w.consumer);
    }
    if (w.producer) {
        rd_kafka_destroy(w.producer);
    }
    sw_loop_free(&w.loop);
    while (w.msgs) {
        msg_free(w.msgs);
    }
    sw_offsets_free(&w.offsets);
    if (w.pipefd[0] >= 0) {
        close(w.pipefd[0]);
        close(w.pipefd[1]);
    }
    return rc;
}
