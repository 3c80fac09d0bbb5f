/* Collecting one run's results (see kit_tally.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"

#include <stdlib.h>
#include <string.h>

int kit_tally_init(struct kit_tally *t, const char *prefix, int n)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->prefix, sizeof(t->prefix), "%s", prefix);
    t->n = n;
    t->cap = n;
    t->job = calloc((size_t)(n > 0 ? n : 1), sizeof(*t->job));
    return t->job ? 0 : -1;
}

int kit_tally_record(struct kit_tally *t, const char *ndjson_path, const char *dump_path)
{
    if (ndjson_path && !(t->ndjson = fopen(ndjson_path, "w"))) {
        return -1;
    }
    if (dump_path && !(t->dump = fopen(dump_path, "wb"))) {
        return -1;
    }
    return 0;
}

void kit_tally_free(struct kit_tally *t)
{
    free(t->job);
    t->job = NULL;
    t->n = t->cap = 0;
    if (t->ndjson) {
        fclose(t->ndjson);
        t->ndjson = NULL;
    }
    if (t->dump) {
        fclose(t->dump);
        t->dump = NULL;
    }
}

void kit_dump_message(FILE *f, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    const char *name;
    const void *v;
    size_t vl, i;

    if (!rd_kafka_message_headers(m, &h)) {
        for (i = 0; !rd_kafka_header_get_all(h, i, &name, &v, &vl); i++) {
            fprintf(f, "%s=", name);
            fwrite(v, 1, vl, f);
            fputc('\n', f);
        }
    }
    fwrite(m->key, 1, m->key_len, f);
    fputc('\n', f);
    fwrite(m->payload, 1, m->len, f);
    fputc('\n', f);
    fflush(f);
}

static void record(struct kit_tally *t, const rd_kafka_message_t *m)
{
    if (t->ndjson) {
        fwrite(m->payload, 1, m->len, t->ndjson);
        fputc('\n', t->ndjson);
        fflush(t->ndjson);
    }
    if (t->dump) {
        kit_dump_message(t->dump, m);
    }
}

static const cJSON *item(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

static void first_final(struct kit_job *j, const cJSON *r, int64_t now)
{
    const char *status = cJSON_GetStringValue(item(r, "status", NULL));
    const char *code = cJSON_GetStringValue(item(r, "error", "code"));

    snprintf(j->status, sizeof(j->status), "%s", status ? status : "");
    snprintf(j->code, sizeof(j->code), "%s", code ? code : "");
    j->succeeded = status && !strcmp(status, "succeeded");
    j->attempts = (int)cJSON_GetNumberValue(item(r, "attempts", NULL));
    j->read_ms = now;
    j->finished_ms = kit_parse_time_ms(cJSON_GetStringValue(item(r, "timing", "finished_at")));
}

static void take(struct kit_tally *t, const rd_kafka_message_t *m)
{
    cJSON *r = cJSON_ParseWithLength(m->payload, m->len);
    int idx = kit_job_index(t->prefix, t->n, cJSON_GetStringValue(item(r, "job_id", NULL)));
    int64_t now = kit_now_ms();
    struct kit_job *j;

    record(t, m);
    if (idx < 0) {
        if (t->foreign++ < 5) {
            fprintf(stderr, "kit: result of another run: %.200s\n", (const char *)m->payload);
        }
        goto out;
    }
    j = &t->job[idx];
    if (t->messages && now - t->last_ms > t->max_gap_ms) {
        t->max_gap_ms = now - t->last_ms;
    }
    t->messages++;
    t->last_ms = now;
    j->parts++;
    if (cJSON_IsTrue(item(r, "part", "last"))) {
        if (j->finals++ == 0) {
            first_final(j, r, now);
            t->complete++;
        } else {
            t->duplicates++;
        }
    }
    if (t->on_result) {
        t->on_result(t->arg, idx, r, m);
    }
out:
    cJSON_Delete(r);
}

int kit_tally_poll(struct kit_tally *t, rd_kafka_t *reader, int wait_ms)
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
            take(t, m);
            got++;
        }
        rd_kafka_message_destroy(m);
    } while (t->complete < t->n && kit_now_ms() < end);
    return got;
}

int kit_tally_wait_for(struct kit_tally *t, rd_kafka_t *reader, int want, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;
    int i, shown = 0;

    while (t->complete < want && kit_now_ms() < end) {
        kit_tally_poll(t, reader, 200);
    }
    if (t->complete >= want) {
        return 0;
    }
    fprintf(stderr, "kit: %d of %d job(s) of %s have a final result, %d wanted\n", t->complete,
            t->n, t->prefix, want);
    for (i = 0; i < t->n && shown < 10; i++) {
        if (!t->job[i].finals) {
            fprintf(stderr, "kit:   missing %s-%d\n", t->prefix, i);
            shown++;
        }
    }
    return -1;
}

int kit_tally_wait(struct kit_tally *t, rd_kafka_t *reader, int64_t timeout_ms)
{
    return kit_tally_wait_for(t, reader, t->n, timeout_ms);
}

int kit_tally_read_to_end(struct kit_tally *t, rd_kafka_t *reader, const char *topic, int nparts,
                          int64_t timeout_ms)
{
    int64_t *hi = calloc((size_t)nparts, sizeof(*hi));
    int64_t end = kit_now_ms() + timeout_ms;
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(nparts);
    int i, done = 0;

    if (!hi) {
        goto out;
    }
    for (i = 0; i < nparts; i++) {
        int64_t lo = 0;

        rd_kafka_query_watermark_offsets(reader, topic, i, &lo, &hi[i], 10000);
        rd_kafka_topic_partition_list_add(pos, topic, i);
    }
    while (!done && kit_now_ms() < end) {
        kit_tally_poll(t, reader, 100);
        rd_kafka_position(reader, pos);
        done = 1;
        for (i = 0; i < nparts; i++) {
            int64_t p = pos->elems[i].offset;

            if (hi[i] > 0 && (p < 0 ? 0 : p) < hi[i]) {
                done = 0;
            }
        }
    }
out:
    rd_kafka_topic_partition_list_destroy(pos);
    free(hi);
    return done ? 0 : -1;
}

int kit_tally_failed(const struct kit_tally *t)
{
    int i, failed = 0;

    for (i = 0; i < t->n; i++) {
        if (t->job[i].finals && !t->job[i].succeeded && failed++ < 5) {
            fprintf(stderr, "kit: job %s-%d failed: %s\n", t->prefix, i, t->job[i].code);
        }
    }
    return failed;
}
