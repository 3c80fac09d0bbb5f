/* submit / await (see sw_client.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_client.h"
#include "sw_job.h"
#include "sw_json.h"
#include "sw_log.h"
#include "sw_loop.h"
#include "sw_time.h"

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_FACTOR 4 /* read lines up to 4 x limits.max_job_bytes, then report them */

/* Broker trouble (unreachable, refused authentication): librdkafka retries by itself, the person
 * waiting should hear about it in the worker's log format, not librdkafka's. */
static void on_client_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    sw_log_warn(NULL, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* A client configuration: brokers plus the kafka.* passthrough for this role (SASL, TLS...). */
static rd_kafka_conf_t *client_conf(const struct sw_config *cfg, int scope)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    size_t i;

    if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->brokers, err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "client.id", scope == 2 ? "segworker-submit" : "segworker-await",
                          err, sizeof(err))) {
        goto fail;
    }
    for (i = 0; i < cfg->nkafka; i++) {
        if (cfg->kafka[i].scope && cfg->kafka[i].scope != scope) {
            continue;
        }
        if (rd_kafka_conf_set(conf, cfg->kafka[i].key, cfg->kafka[i].value, err, sizeof(err))) {
            goto fail;
        }
    }
    rd_kafka_conf_set_log_cb(conf, sw_log_kafka);
    rd_kafka_conf_set_error_cb(conf, on_client_error);
    return conf;
fail:
    fprintf(stderr, "segworker: kafka configuration: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- submit ---- */

struct submit {
    FILE *out;
    int bad;
    int timed_out;
    long long timeout_ms;
};

/* One produced line, until its delivery report; memory is bounded by librdkafka's queue. */
struct line_ref {
    long line;
    char job_id[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct submit *s = opaque;
    struct line_ref *l = m->_private;

    (void)rk;
    if (!l) {
        return;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        /* Purged at the timeout: one that was in flight may still have been written. */
        fprintf(stderr, "line %ld: job %s not acknowledged within %lld ms%s\n", l->line, l->job_id,
                s->timeout_ms,
                m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT ? " (it may have been published)"
                                                            : "; not sent");
        s->timed_out = 1;
    } else if (m->err) {
        fprintf(stderr, "line %ld: job %s not delivered: %s\n", l->line, l->job_id,
                rd_kafka_err2str(m->err));
        s->bad = 1;
    } else {
        fprintf(s->out, "%s\n", l->job_id);
    }
    free(l);
}

/* Read one line (without the newline) up to max bytes; longer lines are consumed and flagged. */
static char *read_line(FILE *in, size_t max, size_t *len, int *too_long)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int c;

    *too_long = 0;
    if (!buf) {
        return NULL;
    }
    while ((c = fgetc(in)) != EOF && c != '\n') {
        if (n >= max) {
            *too_long = 1;
            continue;
        }
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);

            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        buf[n++] = (char)c;
    }
    if (c == EOF && n == 0 && !*too_long) {
        free(buf);
        *len = 0;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int key_valid(const char *key)
{
    return !key || !strcmp(key, "job_id") || !strcmp(key, "account") || !strcmp(key, "none") ||
           key[0] == '/';
}

/* The message key of one job (see sw_submit_opts) into buf; *len -1 for no key. -1 when the job
 * has no such field (or it is not a string or a number). */
static int job_key(const char *key, const struct sw_job *job, const char *text, size_t len,
                   char *buf, size_t n, long *klen)
{
    const char *v = NULL;

    if (!key || !strcmp(key, "job_id")) {
        v = job->job_id;
    } else if (!strcmp(key, "account")) {
        v = job->account;
    } else if (!strcmp(key, "none")) {
        *klen = -1;
        return 0;
    } else {
        cJSON *doc = cJSON_ParseWithLength(text, len);
        const cJSON *at = sw_json_pointer(doc, key);
        int rc = -1;

        if (cJSON_IsString(at) && *at->valuestring) {
            rc = (size_t)snprintf(buf, n, "%s", at->valuestring) < n ? 0 : -1;
        } else if (cJSON_IsNumber(at)) {
            rc = (size_t)snprintf(buf, n, "%.17g", at->valuedouble) < n ? 0 : -1;
        }
        cJSON_Delete(doc);
        *klen = rc == 0 ? (long)strlen(buf) : -1;
        return rc;
    }
    if (!v || (size_t)snprintf(buf, n, "%s", v) >= n) {
        return -1;
    }
    *klen = (long)strlen(buf);
    return 0;
}

enum sw_client_rc sw_client_submit(const struct sw_config *cfg, const struct sw_submit_opts *o,
                                   FILE *in, FILE *out, volatile sig_atomic_t *stop)
{
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk = NULL;
    struct sw_job_limits lim;
    struct submit sub = {out, 0, 0, o->timeout_ms};
    long lineno = 0;
    char err[512];

    if (!key_valid(o->key)) {
        fprintf(stderr,
                "segworker: --key %s: expected job_id, account, none or a JSON pointer "
                "(/correlation/workflowId)\n",
                o->key);
        return SW_CLIENT_SETUP;
    }
    conf = client_conf(cfg, 2);
    if (!conf) {
        return SW_CLIENT_SETUP;
    }
    if (rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err))) {
        fprintf(stderr, "segworker: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return SW_CLIENT_SETUP;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &sub);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "segworker: producer: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return SW_CLIENT_SETUP;
    }
    sw_job_limits_from(cfg, &lim);
    while (!*stop) {
        struct sw_job *job = NULL;
        struct sw_status st;
        struct line_ref *l;
        char keybuf[256];
        const char *kptr;
        size_t kn;
        long klen = -1;
        size_t len = 0;
        int too_long = 0;
        char *text = read_line(in, lim.max_bytes * LINE_MAX_FACTOR, &len, &too_long);
        rd_kafka_resp_err_t e;

        if (!text) {
            break;
        }
        lineno++;
        if (too_long) {
            fprintf(stderr, "line %ld: longer than %zu bytes; not sent\n", lineno,
                    lim.max_bytes * LINE_MAX_FACTOR);
            sub.bad = 1;
            free(text);
            continue;
        }
        if (strspn(text, " \t\r") == len) {
            free(text); /* blank lines separate nothing; skip them */
            continue;
        }
        /* The same validation the worker applies, so a bad job is reported here, not dead-
         * lettered there. */
        sw_status_clear(&st);
        if (sw_job_parse(text, len, &lim, &job, &st) != SW_E_OK) {
            fprintf(stderr, "line %ld: %s: %s; not sent\n", lineno, sw_err_name(st.code), st.msg);
            sub.bad = 1;
            sw_job_destroy(job);
            free(text);
            continue;
        }
        if (job_key(o->key, job, text, len, keybuf, sizeof(keybuf), &klen) != 0) {
            fprintf(stderr, "line %ld: no key: the job has no string or number at %s; not sent\n",
                    lineno, o->key);
            sub.bad = 1;
            sw_job_destroy(job);
            free(text);
            continue;
        }
        l = calloc(1, sizeof(*l));
        if (!l) {
            fprintf(stderr, "segworker: out of memory\n");
            sw_job_destroy(job);
            free(text);
            sub.bad = 1;
            break;
        }
        l->line = lineno;
        snprintf(l->job_id, sizeof(l->job_id), "%s", job->job_id);
        kptr = klen < 0 ? NULL : keybuf;
        kn = klen < 0 ? 0 : (size_t)klen;
        sw_job_destroy(job);
        do {
            e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_KEY(kptr, kn),
                                  RD_KAFKA_V_VALUE(text, len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(l),
                                  RD_KAFKA_V_END);
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !*stop && (rd_kafka_poll(rk, 100), 1));
        free(text);
        if (e) {
            fprintf(stderr, "line %ld: job %s not sent: %s\n", lineno, l->job_id,
                    rd_kafka_err2str(e));
            sub.bad = 1;
            free(l);
        }
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, (int)o->timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        sw_log_error(NULL, "%d job(s) not acknowledged within %lld ms (--timeout-ms)",
                     rd_kafka_outq_len(rk), o->timeout_ms);
        sub.timed_out = 1;
        /* Purged messages get failed delivery reports, which free their line records. */
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(rk, 1000);
    }
    fflush(out);
    rd_kafka_destroy(rk);
    return sub.timed_out ? SW_CLIENT_TIMEOUT : sub.bad ? SW_CLIENT_FAILED : SW_CLIENT_OK;
}

/* ---- await ---- */

/* Does result r belong to what we await? Returns the index of the job id (or 0 for a
 * correlation match), -1 when not. */
static int match(const struct sw_await_opts *o, const cJSON *r)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "job_id"));
    int i;

    if (o->corr_key) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "correlation");
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, o->corr_key));

        return v && !strcmp(v, o->corr_value) ? 0 : -1;
    }
    for (i = 0; id && i < o->njob_ids; i++) {
        if (!strcmp(id, o->job_ids[i])) {
            return i;
        }
    }
    return -1;
}

enum sw_client_rc sw_client_await(const struct sw_config *cfg, const struct sw_await_opts *o,
                                  FILE *out, volatile sig_atomic_t *stop)
{
    rd_kafka_conf_t *conf = client_conf(cfg, 1);
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *t;
    char *done = NULL;
    char group[96];
    char err[512];
    int missing = o->corr_key ? (o->count > 0 ? o->count : 1) : o->njob_ids;
    int failed = 0;
    int64_t end = sw_now_mono_ms() + o->timeout_ms;
    int i;

    if (!conf) {
        return SW_CLIENT_SETUP;
    }
    /* A throwaway group that reads from the start and never commits: awaiting leaves no trace
     * in the broker's offsets and cannot miss a result published before it started. */
    snprintf(group, sizeof(group), "segworker-await-%ld-%lld", (long)getpid(),
             (long long)sw_now_wall_ms());
    if (rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err))) {
        fprintf(stderr, "segworker: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return SW_CLIENT_SETUP;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "segworker: consumer: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return SW_CLIENT_SETUP;
    }
    done = calloc((size_t)o->njob_ids + 1, 1);
    if (!done) {
        rd_kafka_destroy(rk);
        return SW_CLIENT_SETUP;
    }
    rd_kafka_poll_set_consumer(rk);
    t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, o->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    while (missing > 0 && !*stop && sw_now_mono_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        cJSON *r;
        int ix;

        if (!m) {
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                sw_log_warn(NULL, "consumer: %s", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        r = cJSON_ParseWithLength(m->payload, m->len);
        ix = r ? match(o, r) : -1;
        if (ix >= 0 && !(o->njob_ids && done[ix])) {
            const cJSON *part = cJSON_GetObjectItemCaseSensitive(r, "part");

            fwrite(m->payload, 1, m->len, out);
            fputc('\n', out);
            fflush(out);
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "last"))) {
                if (o->njob_ids) {
                    done[ix] = 1;
                }
                failed +=
                    !sw_json_str(r, "status") || strcmp(sw_json_str(r, "status"), "failed") ? 0 : 1;
                missing--;
            }
        }
        cJSON_Delete(r);
        rd_kafka_message_destroy(m);
    }
    for (i = 0; i < o->njob_ids; i++) {
        if (!done[i]) {
            fprintf(stderr, "segworker: no final result for %s\n", o->job_ids[i]);
        }
    }
    if (o->corr_key && missing > 0) {
        fprintf(stderr, "segworker: %d final result(s) with correlation %s=%s still missing\n",
                missing, o->corr_key, o->corr_value);
    }
    if (failed && missing <= 0) {
        fprintf(stderr, "segworker: %d awaited job(s) failed\n", failed);
    }
    free(done);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return missing > 0 ? SW_CLIENT_TIMEOUT : failed ? SW_CLIENT_FAILED : SW_CLIENT_OK;
}

/* ---- validate: brokers and topics ---- */

int sw_client_check_topics(const struct sw_config *cfg, const char *const *topics,
                           long long timeout_ms, void (*report)(void *arg, const char *problem),
                           void *arg)
{
    rd_kafka_conf_t *conf = client_conf(cfg, 2);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;
    rd_kafka_t *rk;
    char line[600];
    char err[512];
    int problems = 0;

    if (!conf) {
        report(arg, "the kafka.* properties are not accepted by librdkafka");
        return 1;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(line, sizeof(line), "kafka client: %s", err);
        report(arg, line);
        return 1;
    }
    /* One request for every topic: metadata of all topics never auto-creates one. */
    e = rd_kafka_metadata(rk, 1, NULL, &md, (int)timeout_ms);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(line, sizeof(line), "brokers %s: no answer within %lld ms (%s)", cfg->brokers,
                 timeout_ms, rd_kafka_err2str(e));
        report(arg, line);
        problems++;
    }
    for (; md && *topics; topics++) {
        int t;

        if (!**topics) {
            continue;
        }
        for (t = 0; t < md->topic_cnt; t++) {
            if (!strcmp(md->topics[t].topic, *topics) && !md->topics[t].err) {
                break;
            }
        }
        if (t == md->topic_cnt) {
            snprintf(line, sizeof(line),
                     "topic %s does not exist on %s (create it, see kafka-topics.sh --create)",
                     *topics, cfg->brokers);
            report(arg, line);
            problems++;
        }
    }
    if (md) {
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_destroy(rk);
    return problems;
}
