/* Integration-test kit: child processes (worker, simulator), a real Kafka broker's topics,
 * producing jobs, collecting results, and committed offsets. Every wait has a deadline.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_H
#define SW_KIT_H

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
/* SIGKILL and reap. */
void kit_kill(pid_t pid);

/* Start segsim on an ephemeral loopback port; returns the pid and sets *port. */
pid_t kit_start_sim(const char *sim_bin, const char *workdir, int *port);
/* Same with extra segsim arguments (NULL-terminated, may be NULL). */
pid_t kit_start_sim_args(const char *sim_bin, const char *workdir, char *const extra[], int *port);

int kit_create_topic(const char *bootstrap, const char *topic, int partitions);

rd_kafka_t *kit_producer(const char *bootstrap);
int kit_produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value, size_t len);
/* Same with one header (hname may be NULL). */
int kit_produce_hdr(rd_kafka_t *rk, const char *topic, const char *key, const char *value,
                    size_t len, const char *hname, const char *hvalue);
int kit_flush(rd_kafka_t *rk);

/* A consumer reading a topic from the beginning in a throwaway group. */
rd_kafka_t *kit_reader(const char *bootstrap, const char *topic);

/* Wait until the group's committed offsets on every partition of topic equal the end offsets.
 * Returns 0 when reached, -1 at the deadline (and prints the gap). */
int kit_wait_committed_at_end(const char *bootstrap, const char *group, const char *topic,
                              int64_t timeout_ms);

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
