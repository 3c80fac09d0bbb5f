/* Integration-test kit: child processes (worker, simulator), a real Kafka broker's topics,
 * producing jobs, collecting results, and committed offsets. Every wait has a deadline.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_H
#define SW_KIT_H

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Multiplies every deadline (SW_TEST_TIMEOUT_MULT), so sanitizer or valgrind runs do not flake. */
int64_t kit_deadline_ms(int64_t ms);
int64_t kit_now_ms(void);

/* The test broker: SW_TEST_BOOTSTRAP, or the bootstrap file in SW_TEST_KAFKA_DIR. */
const char *kit_bootstrap(void);

/* Spawn argv with extra environment entries ("K=V", NULL-terminated, may be NULL); stdout and
 * stderr go to the given files (NULL: inherit). Returns the pid or -1. */
pid_t kit_spawn(char *const argv[], char *const env_extra[], const char *out_path,
                const char *err_path);
/* Same, with standard input read from in_path. */
pid_t kit_spawn_in(char *const argv[], char *const env_extra[], const char *in_path,
                   const char *out_path, const char *err_path);
/* Fetch http://127.0.0.1:port/path into buf (NUL-terminated); returns the HTTP status or -1. */
int kit_http_get(int port, const char *path, char *buf, size_t n);
/* Same with another method (no request body). */
int kit_http(int port, const char *method, const char *path, char *buf, size_t n);
/* Wait up to timeout_ms for the child; returns its exit status (0-255), 128+signal, or -1 on
 * timeout (the child is left running). */
int kit_wait(pid_t pid, int64_t timeout_ms);
/* Send sig to pid, only when pid is a real child (> 0). Tests use this, never kill(). */
void kit_signal(pid_t pid, int sig);
/* SIGKILL and reap. */
void kit_kill(pid_t pid);

/* Start segsim on an ephemeral loopback port; returns the pid and sets *port. */
pid_t kit_start_sim(const char *sim_bin, const char *workdir, int *port);
/* Same, run through prefix (e.g. {"ip", "netns", "exec", NAME, NULL}; may be NULL; a prefix tool
 * without a slash is looked up in /usr/sbin, then /usr/bin) with extra segsim arguments
 * (NULL-terminated, may be NULL, e.g. {"--bind", ADDR, NULL}). */
pid_t kit_start_sim_ex(const char *sim_bin, const char *workdir, char *const prefix[],
                       char *const extra[], int *port);
/* Run argv to completion (output to err_path, NULL: inherit) within timeout_ms; returns its exit
 * status, or -1 when it could not start or did not finish (then it is killed). */
int kit_run(char *const argv[], const char *err_path, int64_t timeout_ms);

/* kit_start_sim_ex without a prefix. */
pid_t kit_start_sim_args(const char *sim_bin, const char *workdir, char *const extra[], int *port);

int kit_create_topic(const char *bootstrap, const char *topic, int partitions);

rd_kafka_t *kit_producer(const char *bootstrap);
/* Without idempotence: for librdkafka's mock cluster, whose idempotence handling loses messages
 * under injected Produce error codes (docs/RELIABILITY-faults.md). */
rd_kafka_t *kit_producer_plain(const char *bootstrap);
int kit_produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value, size_t len);
/* Same with one header (hname may be NULL). */
int kit_produce_hdr(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                    size_t len, const char *hname, const char *hvalue);
/* Wait for every produced message; -1 when that times out or any message of a kit producer was
 * not delivered. */
int kit_flush(rd_kafka_t *rk);
/* Messages in topic (sum over partitions of high - low watermark), or -1. */
int64_t kit_topic_messages(const char *bootstrap, const char *topic);

/* A consumer reading a topic from the beginning in a throwaway group. */
rd_kafka_t *kit_reader(const char *bootstrap, const char *topic);

/* Wait until the group's committed offsets on every partition of topic equal the end offsets.
 * Returns 0 when reached, -1 at the deadline (and prints the gap). */
int kit_wait_committed_at_end(const char *bootstrap, const char *group, const char *topic,
                              int64_t timeout_ms);

/* Final results of one run's jobs, whose ids are "<prefix>-<index>" with index < n. A job has
 * its final result when a message with part.last arrives; finals past the first are duplicates
 * (at-least-once redelivery), counted, not failures by themselves. */
struct kit_tally {
    char prefix[64];
    int n;
    int *finals;        /* final messages per job */
    char (*code)[32];   /* error.code of the first final, "" when it succeeded */
    int64_t *final_ms;  /* kit_now_ms() when the first final was read */
    int complete;       /* jobs with at least one final */
    int duplicates;     /* finals beyond the first, summed over jobs */
    int messages;       /* result messages read, all parts */
    int foreign;        /* messages that are not this run's (a failure for the caller) */
    int64_t last_ms;    /* when the last message of this run was read */
    int64_t max_gap_ms; /* longest time between two messages once the first had arrived */
};

int kit_tally_init(struct kit_tally *t, const char *prefix, int n);
void kit_tally_free(struct kit_tally *t);
/* Read result messages from reader for up to wait_ms (returns earlier once every job is
 * complete); on_final (may be NULL) sees each final message, first or duplicate. Returns the
 * number of messages read. */
int kit_tally_poll(struct kit_tally *t, rd_kafka_t *reader, int wait_ms,
                   void (*on_final)(void *arg, int idx, const cJSON *r), void *arg);
/* Poll until every job is complete or timeout_ms passes; returns 0 when complete, else prints
 * up to 10 missing job ids and returns -1. */
int kit_tally_wait(struct kit_tally *t, rd_kafka_t *reader, int64_t timeout_ms,
                   void (*on_final)(void *arg, int idx, const cJSON *r), void *arg);

/* Read topic from the start until want messages are read or timeout_ms passes, counting the
 * copies of each job ("<prefix>-<index>" in the message's job_id, index < n) in counts[n].
 * Returns the messages read. */
int64_t kit_count_jobs(const char *bootstrap, const char *topic, const char *prefix, int n,
                       int *counts, int64_t want, int64_t timeout_ms);

/* The counts from a stopped worker's last log line ("stopped: consumed N, results M, ..."), so
 * a test can tell jobs the worker ran twice from results stored twice. Returns 0 when found. */
int kit_worker_counts(const char *log_path, long long *consumed, long long *results);

/* The group's committed offsets of partitions 0..np-1 of topic (0 where none). 0 on success. */
int kit_committed(const char *bootstrap, const char *group, const char *topic, int64_t *out,
                  int np);

/* The paths every integration test is given by ctest (see sw_it_test in tests/CMakeLists.txt). */
struct kit_args {
    const char *worker;    /* segworker binary */
    const char *sim;       /* segsim binary */
    const char *validator; /* tests/tools/validate_json.py */
    const char *schemas;   /* schemas/ */
    const char *work;      /* a scratch directory of this test */
};

/* Fill *a from argv; prints the usage of `name` and returns -1 when the count is wrong. */
int kit_parse_args(int argc, char **argv, const char *name, struct kit_args *a);

/* Run the JSON Schema validator on an NDJSON file; returns its exit status. */
int kit_validate(const char *validator, const char *schema, const char *ndjson);

#endif
