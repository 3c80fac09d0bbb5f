/* Collecting one run's results from the results topic: per job (ids "<prefix>-<index>") its
 * final results, status, error code, attempts and finish time, duplicates, messages of other
 * runs, gaps; optionally every message written out for the schema validator or a secret scan.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_TALLY_H
#define SW_KIT_TALLY_H

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>

/* One job's results. A job has its final result when a message with part.last arrives; finals
 * past the first are duplicates (at-least-once redelivery), counted, not failures by
 * themselves. The fields below describe the first final. */
struct kit_job {
    int finals;          /* final messages */
    int parts;           /* messages, all parts, duplicates included */
    int succeeded;       /* status "succeeded" */
    char status[16];     /* "succeeded", "failed", ... */
    char code[32];       /* error.code, "" when it succeeded */
    int attempts;        /* attempts */
    int64_t read_ms;     /* kit_now_ms() when it was read */
    int64_t finished_ms; /* timing.finished_at as epoch ms, -1 when absent */
};

/* Sees every message of this run (idx < n) after the tally counted it, with its raw message
 * (headers, key). */
typedef void (*kit_result_fn)(void *arg, int idx, const cJSON *r, const rd_kafka_message_t *m);

struct kit_tally {
    char prefix[64];
    int n;   /* jobs [0, n); may grow up to the size given to kit_tally_init */
    int cap; /* size of job[] */
    struct kit_job *job;
    int complete;            /* jobs with at least one final */
    int duplicates;          /* finals beyond the first, summed over jobs */
    int messages;            /* result messages of this run read, all parts */
    int foreign;             /* messages that are not this run's (a failure for most callers) */
    int64_t last_ms;         /* when the last message of this run was read */
    int64_t max_gap_ms;      /* longest time between two messages once the first had arrived */
    kit_result_fn on_result; /* may be NULL */
    void *arg;
    FILE *ndjson; /* kit_tally_record: every message's value, a line each */
    FILE *dump;   /* kit_tally_record: every message's headers, key and value, raw */
};

int kit_tally_init(struct kit_tally *t, const char *prefix, int n);
/* Also write what is read: values to ndjson_path (for the validator) and headers, keys and
 * values to dump_path (for a secret scan); either may be NULL. 0 when opened. */
int kit_tally_record(struct kit_tally *t, const char *ndjson_path, const char *dump_path);
/* Frees and closes the files; safe on a zeroed or freed tally. */
void kit_tally_free(struct kit_tally *t);
/* Read result messages from reader for up to wait_ms (returns earlier once every job is
 * complete). Returns the number of messages read. */
int kit_tally_poll(struct kit_tally *t, rd_kafka_t *reader, int wait_ms);
/* Poll until `want` jobs are complete or timeout_ms passes; returns 0 when they are, else prints
 * up to 10 jobs without a final result and returns -1. */
int kit_tally_wait_for(struct kit_tally *t, rd_kafka_t *reader, int want, int64_t timeout_ms);
/* kit_tally_wait_for every job. */
int kit_tally_wait(struct kit_tally *t, rd_kafka_t *reader, int64_t timeout_ms);
/* With the producers stopped: read partitions 0..nparts-1 of topic up to the end offsets they
 * have now. 0 when reached, -1 at the deadline. */
int kit_tally_read_to_end(struct kit_tally *t, rd_kafka_t *reader, const char *topic, int nparts,
                          int64_t timeout_ms);
/* Append m's headers ("name=value" lines), key and value to f, raw, for a secret scan. */
void kit_dump_message(FILE *f, const rd_kafka_message_t *m);
/* Jobs whose first final failed, the first few printed with their codes. */
int kit_tally_failed(const struct kit_tally *t);

#endif
