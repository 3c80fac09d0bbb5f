/* Kafka for integration tests: a test run's own topic and group names, topics, producers that
 * report every undelivered message, readers, and the group's committed offsets.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_KAFKA_H
#define SW_KIT_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* The names of one run: tag "<base><pid>[-<suffix>]" (also the prefix of its job ids), and
 * "<tag>-jobs", "-results", "-dlq", "-retry", "-group". Nothing is shared with another test or
 * run, so tests may run in any order on one broker. */
struct kit_names {
    char tag[64];
    char jobs[96];
    char results[96];
    char dlq[96];
    char retry[96];
    char group[96];
};

void kit_names_init(struct kit_names *n, const char *base, const char *suffix);
/* Create the jobs, results and dead-letter (1 partition) topics, and the retry topic when
 * retry_parts > 0 (else the worker is pointed at a retry topic that does not exist, as it is by
 * default). 0 when all exist. */
int kit_topics_create(const char *bootstrap, const struct kit_names *n, int jobs_parts,
                      int results_parts, int retry_parts);
/* 0 when created or already there. */
int kit_create_topic(const char *bootstrap, const char *topic, int partitions);
/* Same with one topic configuration (e.g. max.message.bytes); config may be NULL. */
int kit_create_topic_with(const char *bootstrap, const char *topic, int partitions,
                          const char *config, const char *value);
/* Messages in topic (sum over partitions of high - low watermark), or -1. */
int64_t kit_topic_messages(const char *bootstrap, const char *topic);

/* Where a tracked message landed (kit_producer_track). */
struct kit_delivery {
    int32_t partition;
    int64_t offset;
    int acked;
};

/* A client that only hosts a librdkafka mock cluster living in this process (quiet: errors
 * only); NULL when it cannot be made. */
rd_kafka_t *kit_mock_owner(void);

/* An idempotent producer; free with kit_producer_free. */
rd_kafka_t *kit_producer(const char *bootstrap);
/* Without idempotence: for librdkafka's mock cluster, whose idempotence handling loses messages
 * under injected Produce error codes (docs/RELIABILITY.md, "Broker faults"). */
rd_kafka_t *kit_producer_plain(const char *bootstrap);
void kit_producer_free(rd_kafka_t *rk);
/* Record the delivery of messages produced with kit_produce_tracked in slots[0..n). */
void kit_producer_track(rd_kafka_t *rk, struct kit_delivery *slots, int n);
int kit_produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value, size_t len);
/* Same with one header (hname may be NULL). */
int kit_produce_hdr(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                    size_t len, const char *hname, const char *hvalue);
/* Same as kit_produce, its delivery recorded in the tracked slot `slot`. */
int kit_produce_tracked(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                        size_t len, int slot);
/* Wait for every produced message; -1 when that times out or any message of this producer was
 * not delivered. */
int kit_flush(rd_kafka_t *rk);

/* A consumer reading a topic from the beginning in a throwaway group. */
rd_kafka_t *kit_reader(const char *bootstrap, const char *topic);
/* A read_committed consumer assigned partitions 0..nparts-1 of topic from the beginning (no
 * group join to wait for). */
rd_kafka_t *kit_reader_committed(const char *bootstrap, const char *topic, int nparts);
/* Close and destroy; NULL is fine. */
void kit_reader_close(rd_kafka_t *rk);

/* Called for each message read; returns nonzero to stop reading. */
typedef int (*kit_msg_fn)(void *arg, const rd_kafka_message_t *m);
/* Read topic from the start until want messages are read, fn says stop, or timeout_ms passes.
 * Returns the messages read. */
int64_t kit_read_topic(const char *bootstrap, const char *topic, int64_t want, int64_t timeout_ms,
                       kit_msg_fn fn, void *arg);
/* The index of "<prefix>-<index>" (index < n), or -1 when id is not one. */
int kit_job_index(const char *prefix, int n, const char *id);
/* Read the jobs topic from the start until want messages are read or timeout_ms passes,
 * counting the copies of each job ("<prefix>-<index>" in its job_id) in counts[n]. Returns the
 * messages read. */
int64_t kit_count_jobs(const char *bootstrap, const char *topic, const char *prefix, int n,
                       int *counts, int64_t want, int64_t timeout_ms);
/* The value of header name of m as a NUL-terminated copy in buf; 0 when present. */
int kit_header(const rd_kafka_message_t *m, const char *name, char *buf, size_t n);

/* The group's committed offsets of partitions 0..np-1 of topic (0 where none). 0 on success. */
int kit_committed(const char *bootstrap, const char *group, const char *topic, int64_t *out,
                  int np);
/* Wait until the group's committed offsets on every partition of topic equal the end offsets.
 * Returns 0 when reached, -1 at the deadline (and prints the gap). */
int kit_wait_committed_at_end(const char *bootstrap, const char *group, const char *topic,
                              int64_t timeout_ms);

#endif
