/* Steady-load runs for the broker-fault tests (see kit_load.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"
#include "sim_data.h"

#include <stdio.h>
#include <stdlib.h>

int kit_load_worker(struct kit_worker *w, const struct kit_args *a, const char *brokers,
                    const struct kit_names *n, const struct kit_sim *sim)
{
    struct kit_accounts acc;
    char accounts[1100];

    kit_path(accounts, sizeof(accounts), a->work, "accounts.json");
    kit_accounts_init(&acc);
    kit_account_sim(&acc, "acme-klaviyo", "klaviyo", sim);
    kit_account_sim(&acc, "acme-sendgrid", "sendgrid", sim);
    kit_worker_init_run(w, a, brokers, accounts, n);
    kit_worker_set(w, "ratelimit.mode=off");
    return kit_accounts_write(&acc, accounts);
}

int kit_load_produce(rd_kafka_t *prod, const char *topic, const char *tag, int i)
{
    char key[16];

    snprintf(key, sizeof(key), "k%d", i % 17);
    return kit_load_produce_on(prod, topic, tag, i, i % 3 != 0, key);
}

int kit_load_produce_on(rd_kafka_t *prod, const char *topic, const char *tag, int i, int kl,
                        const char *key)
{
    char job[512];
    struct sim_klaviyo_segment k;
    struct sim_sendgrid_segment s;
    int n;

    sim_klaviyo_segment(i % SIM_KLAVIYO_SEGMENTS, &k);
    sim_sendgrid_segment(i % SIM_SENDGRID_SEGMENTS, &s);
    n = snprintf(job, sizeof(job),
                 "{\"job_id\":\"%s-%d\",\"operation\":\"segments.get\",\"provider\":\"%s\","
                 "\"account\":\"acme-%s\",\"params\":{\"id\":\"%s\"}}",
                 tag, i, kl ? "klaviyo" : "sendgrid", kl ? "klaviyo" : "sendgrid",
                 kl ? k.id : s.id);
    return kit_produce(prod, topic, key, job, (size_t)n);
}

int kit_load_pace(rd_kafka_t *prod, const char *topic, const char *tag, int *produced, int n,
                  int64_t start, int64_t over_ms)
{
    int64_t due = (kit_now_ms() - start) * n / over_ms + 1;
    int now = 0;

    while (*produced < n && *produced < due) {
        if (kit_load_produce(prod, topic, tag, (*produced)++) != 0) {
            return -1;
        }
        now++;
    }
    return now;
}

int kit_load_first(rd_kafka_t *prod, rd_kafka_t *reader, const struct kit_names *n,
                   struct kit_tally *t, int64_t timeout_ms)
{
    int64_t t0 = kit_now_ms(), end = t0 + timeout_ms;

    if (kit_load_produce(prod, n->jobs, n->tag, 0) != 0 || kit_flush(prod) != 0) {
        fprintf(stderr, "kit: job 0 could not be produced\n");
        return -1;
    }
    while (!t->job[0].finals && kit_now_ms() < end) {
        kit_tally_poll(t, reader, 100);
    }
    if (!t->job[0].finals) {
        fprintf(stderr, "kit: no result for job 0 within %lld ms\n", (long long)timeout_ms);
        return -1;
    }
    printf("worker joined and answered job 0 after %lld ms\n", (long long)(kit_now_ms() - t0));
    return 0;
}

/* Every job of the tally in the jobs topic; the copies beyond one are added to *extra. */
static int all_in_topic(const char *brokers, const struct kit_names *n, int njobs, int *extra)
{
    int64_t in_topic = kit_topic_messages(brokers, n->jobs);
    int *copies = calloc((size_t)njobs, sizeof(*copies));
    int bad = 0, i;

    if (in_topic < njobs || !copies) {
        fprintf(stderr, "kit: %lld message(s) in %s, %d jobs produced\n", (long long)in_topic,
                n->jobs, njobs);
        free(copies);
        return 1;
    }
    if (kit_count_jobs(brokers, n->jobs, n->tag, njobs, copies, in_topic, kit_deadline_ms(30000)) !=
        in_topic) {
        fprintf(stderr, "kit: could not read the %lld job message(s) back\n", (long long)in_topic);
        bad++;
    }
    for (i = 0; i < njobs; i++) {
        if (!copies[i]) {
            fprintf(stderr, "kit: job %d is not in the jobs topic\n", i);
            bad++;
        }
        *extra += copies[i] > 1 ? copies[i] - 1 : 0;
    }
    free(copies);
    return bad;
}

int kit_load_verify(const char *brokers, const struct kit_names *n, struct kit_tally *t,
                    rd_kafka_t *reader, int64_t results_timeout_ms, int *extra_jobs)
{
    int bad;

    /* Every job reached the topic, so a missing result is the worker's, not the producer's.
     * An idempotent producer can still store a job twice under disconnects: such copies are
     * counted, and their second results are not the worker's duplicates. */
    *extra_jobs = 0;
    bad = all_in_topic(brokers, n, t->n, extra_jobs);
    bad += kit_tally_wait(t, reader, results_timeout_ms) != 0;
    bad += kit_wait_committed_at_end(brokers, n->group, n->jobs, kit_deadline_ms(30000)) != 0;
    if (t->foreign) {
        fprintf(stderr, "kit: %d result(s) of other runs\n", t->foreign);
        bad++;
    }
    /* The simulator answers every job here; a failure would mean the faults leaked into jobs. */
    bad += kit_tally_failed(t) != 0;
    return bad;
}

int kit_load_stop(struct kit_worker *w, struct kit_tally *t, rd_kafka_t *reader)
{
    long long consumed = -1, results = -1;
    int rc = kit_worker_stop(w, kit_deadline_ms(30000));

    /* Duplicates can only come from redelivery; read a little longer so late ones count too. */
    kit_tally_poll(t, reader, 1000);
    if (kit_worker_counts(w, &consumed, &results) == 0) {
        /* More result messages than the worker produced: copies made below it (the producer's
         * retries), not jobs it ran twice; more consumed than jobs stored: redelivery. */
        printf("worker: consumed %lld job messages, produced %lld results; the reader saw %d "
               "result messages\n",
               consumed, results, t->messages);
    }
    return rc;
}
