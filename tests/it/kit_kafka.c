/* Kafka for integration tests (see kit_kafka.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A kit producer's own state, its rd_kafka opaque: the messages the broker never acknowledged
 * (librdkafka gave up) and where tracked messages landed. */
struct prod_state {
    int failures;
    struct kit_delivery *slots;
    int nslots;
};

#define NO_SLOT ((void *)(intptr_t)-1)

void kit_names_init(struct kit_names *n, const char *base, const char *suffix)
{
    memset(n, 0, sizeof(*n));
    snprintf(n->tag, sizeof(n->tag), "%s%d%s%s", base, (int)getpid(), suffix ? "-" : "",
             suffix ? suffix : "");
    snprintf(n->jobs, sizeof(n->jobs), "%s-jobs", n->tag);
    snprintf(n->results, sizeof(n->results), "%s-results", n->tag);
    snprintf(n->dlq, sizeof(n->dlq), "%s-dlq", n->tag);
    snprintf(n->retry, sizeof(n->retry), "%s-retry", n->tag);
    snprintf(n->group, sizeof(n->group), "%s-group", n->tag);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct prod_state *ps = opaque;
    intptr_t slot = (intptr_t)m->_private;

    (void)rk;
    if (m->err) {
        if (ps->failures++ < 5) {
            fprintf(stderr, "kit: delivery to %s [%d] failed: %s\n", rd_kafka_topic_name(m->rkt),
                    (int)m->partition, rd_kafka_err2str(m->err));
        }
    } else if (m->_private != NO_SLOT && slot >= 0 && slot < ps->nslots) {
        ps->slots[slot].partition = m->partition;
        ps->slots[slot].offset = m->offset;
        ps->slots[slot].acked = 1;
    }
}

#define PLAIN          1 /* a producer without idempotence */
#define READ_COMMITTED 2 /* a consumer that skips aborted transactions */

/* A client of the given type; group for consumers (may be NULL); a producer gets a prod_state.
 * flags: PLAIN, READ_COMMITTED. */
static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, const char *group, int flags)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    struct prod_state *ps = NULL;
    char err[512];
    rd_kafka_t *rk = NULL;

    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    if (group) {
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    }
    if (flags & READ_COMMITTED) {
        rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof(err));
    }
    if (type == RD_KAFKA_PRODUCER) {
        ps = calloc(1, sizeof(*ps));
        if (!ps) {
            goto fail;
        }
        rd_kafka_conf_set(conf, "enable.idempotence", flags & PLAIN ? "false" : "true", err,
                          sizeof(err));
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, ps);
    }
    rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (rk) {
        return rk;
    }
    fprintf(stderr, "kit: %s\n", err);
fail:
    rd_kafka_conf_destroy(conf);
    free(ps);
    return NULL;
}

rd_kafka_t *kit_mock_owner(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_t *owner;

    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!owner) {
        fprintf(stderr, "kit: mock cluster host: %s\n", err);
        rd_kafka_conf_destroy(conf); /* rd_kafka_new takes it only on success */
    }
    return owner;
}

rd_kafka_t *kit_producer(const char *bootstrap)
{
    return client(RD_KAFKA_PRODUCER, bootstrap, NULL, 0);
}

rd_kafka_t *kit_producer_plain(const char *bootstrap)
{
    return client(RD_KAFKA_PRODUCER, bootstrap, NULL, PLAIN);
}

void kit_producer_free(rd_kafka_t *rk)
{
    struct prod_state *ps;

    if (!rk) {
        return;
    }
    ps = rd_kafka_opaque(rk);
    rd_kafka_destroy(rk); /* may still serve delivery reports, so the state goes after it */
    free(ps);
}

void kit_producer_track(rd_kafka_t *rk, struct kit_delivery *slots, int n)
{
    struct prod_state *ps = rd_kafka_opaque(rk);

    ps->slots = slots;
    ps->nslots = n;
}

int kit_create_topic(const char *bootstrap, const char *topic, int partitions)
{
    return kit_create_topic_with(bootstrap, topic, partitions, NULL, NULL);
}

int kit_create_topic_with(const char *bootstrap, const char *topic, int partitions,
                          const char *config, const char *value)
{
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, bootstrap, NULL, 0);
    rd_kafka_NewTopic_t *nt;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    char err[256];
    int rc = -1;

    if (!rk) {
        return -1;
    }
    nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    if (config && nt) {
        rd_kafka_NewTopic_set_config(nt, config, value);
    }
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
    kit_producer_free(rk);
    return rc;
}

int kit_topics_create(const char *bootstrap, const struct kit_names *n, int jobs_parts,
                      int results_parts, int retry_parts)
{
    if (kit_create_topic(bootstrap, n->jobs, jobs_parts) ||
        kit_create_topic(bootstrap, n->results, results_parts) ||
        kit_create_topic(bootstrap, n->dlq, 1)) {
        return -1;
    }
    return retry_parts > 0 ? kit_create_topic(bootstrap, n->retry, retry_parts) : 0;
}

static int produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                   size_t len, const char *hname, const char *hvalue, void *slot)
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
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
        if (err && h) {
            rd_kafka_headers_destroy(h); /* producev takes the headers only on success */
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 100);
        }
    } while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && ++tries < 300);
    return err ? -1 : 0;
}

int kit_produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value, size_t len)
{
    return produce(rk, topic, key, value, len, NULL, NULL, NO_SLOT);
}

int kit_produce_hdr(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                    size_t len, const char *hname, const char *hvalue)
{
    return produce(rk, topic, key, value, len, hname, hvalue, NO_SLOT);
}

int kit_produce_tracked(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                        size_t len, int slot)
{
    return produce(rk, topic, key, value, len, NULL, NULL, (void *)(intptr_t)slot);
}

int kit_flush(rd_kafka_t *rk)
{
    const struct prod_state *ps = rd_kafka_opaque(rk);

    /* flush serves the delivery reports, so a failed message is counted by now. */
    if (rd_kafka_flush(rk, (int)kit_deadline_ms(30000))) {
        return -1;
    }
    return ps->failures ? -1 : 0;
}

/* A group of its own, never joined by another reader. */
static void reader_group(char *buf, size_t n)
{
    snprintf(buf, n, "kit-reader-%d-%lld", (int)getpid(), (long long)kit_now_ms());
}

rd_kafka_t *kit_reader(const char *bootstrap, const char *topic)
{
    char group[128];
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *t;

    reader_group(group, sizeof(group));
    rk = client(RD_KAFKA_CONSUMER, bootstrap, group, 0);
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

rd_kafka_t *kit_reader_committed(const char *bootstrap, const char *topic, int nparts)
{
    rd_kafka_topic_partition_list_t *parts;
    char group[128];
    rd_kafka_t *rk;
    int i;

    reader_group(group, sizeof(group));
    rk = client(RD_KAFKA_CONSUMER, bootstrap, group, READ_COMMITTED);
    if (!rk) {
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    parts = rd_kafka_topic_partition_list_new(nparts);
    for (i = 0; i < nparts; i++) {
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    return rk;
}

void kit_reader_close(rd_kafka_t *rk)
{
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
}

int64_t kit_read_topic(const char *bootstrap, const char *topic, int64_t want, int64_t timeout_ms,
                       kit_msg_fn fn, void *arg)
{
    rd_kafka_t *rk = kit_reader(bootstrap, topic);
    int64_t end = kit_now_ms() + timeout_ms, got = 0;
    int stop = 0;

    while (rk && !stop && got < want && kit_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

        if (!m) {
            continue;
        }
        if (!m->err) {
            got++;
            stop = fn ? fn(arg, m) : 0;
        }
        rd_kafka_message_destroy(m);
    }
    kit_reader_close(rk);
    return got;
}

int kit_job_index(const char *prefix, int n, const char *id)
{
    size_t pl = strlen(prefix);
    char *end = NULL;
    long v;

    if (!id || strncmp(id, prefix, pl) || id[pl] != '-') {
        return -1;
    }
    v = strtol(id + pl + 1, &end, 10);
    return end && end != id + pl + 1 && !*end && v >= 0 && v < n ? (int)v : -1;
}

struct copies {
    const char *prefix;
    int n;
    int *counts;
};

static int count_copy(void *arg, const rd_kafka_message_t *m)
{
    struct copies *c = arg;
    cJSON *j = cJSON_ParseWithLength(m->payload, m->len);
    int idx = kit_job_index(c->prefix, c->n,
                            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "job_id")));

    if (idx >= 0) {
        c->counts[idx]++;
    }
    cJSON_Delete(j);
    return 0;
}

int64_t kit_count_jobs(const char *bootstrap, const char *topic, const char *prefix, int n,
                       int *counts, int64_t want, int64_t timeout_ms)
{
    struct copies c = {prefix, n, counts};

    memset(counts, 0, sizeof(*counts) * (size_t)n);
    return kit_read_topic(bootstrap, topic, want, timeout_ms, count_copy, &c);
}

int kit_header(const rd_kafka_message_t *m, const char *name, char *buf, size_t n)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t vl = 0;

    buf[0] = '\0';
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &vl)) {
        return -1;
    }
    snprintf(buf, n, "%.*s", (int)vl, v ? (const char *)v : "");
    return 0;
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
    /* No group: it never joins one, it only asks for metadata and watermarks. */
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, NULL, 0);
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
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, group, 0);
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
            kit_nap_ms(20);
        }
    }
    if (rk) {
        rd_kafka_destroy(rk);
    }
    return rc;
}

int kit_committed(const char *bootstrap, const char *group, const char *topic, int64_t *out, int np)
{
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, bootstrap, group, 0);
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
