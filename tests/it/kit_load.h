/* Steady-load runs for the broker-fault tests (it_mock, it_restart): a stream of segments.get
 * jobs on Klaviyo and SendGrid accounts of one simulator, produced at an even rate, and the
 * checks that nothing was lost once the faults are over.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_LOAD_H
#define SW_KIT_LOAD_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

struct kit_args;
struct kit_names;
struct kit_sim;
struct kit_tally;
struct kit_worker;

/* A load run's worker: `run` on the names' topics and group, with an account store of
 * acme-klaviyo and acme-sendgrid on the simulator, and no client-side rate limit (the broker is
 * the subject; Klaviyo's 750/min read limit would stretch the run over minutes). 0 when the
 * store was written. */
int kit_load_worker(struct kit_worker *w, const struct kit_args *a, const char *brokers,
                    const struct kit_names *n, const struct kit_sim *sim);
/* Produce job i: segments.get, two of three on Klaviyo, one on SendGrid, keyed over 17 keys. */
int kit_load_produce(rd_kafka_t *prod, const char *topic, const char *tag, int i);
/* Produce job i, a segments.get on acme-klaviyo (kl) or acme-sendgrid, with this key. */
int kit_load_produce_on(rd_kafka_t *prod, const char *topic, const char *tag, int i, int kl,
                        const char *key);
/* Produce the jobs due by now when n jobs are spread evenly over over_ms from start, after
 * *produced; returns how many were produced now, -1 when one could not be. */
int kit_load_pace(rd_kafka_t *prod, const char *topic, const char *tag, int *produced, int n,
                  int64_t start, int64_t over_ms);
/* Produce job 0 and wait for its final result: from then on the worker is in the group and a
 * fault lands on a running pipeline. 0 when it came. */
int kit_load_first(rd_kafka_t *prod, rd_kafka_t *reader, const struct kit_names *n,
                   struct kit_tally *t, int64_t timeout_ms);
/* Nothing lost, once every job was produced: each of the tally's jobs is in the jobs topic
 * (copies a producer stored twice counted in *extra_jobs), each has a final result within
 * results_timeout_ms, none failed, none is another run's, and the group's committed offsets
 * reach the end of the jobs topic. Returns how many of these failed (each printed). */
int kit_load_verify(const char *brokers, const struct kit_names *n, struct kit_tally *t,
                    rd_kafka_t *reader, int64_t results_timeout_ms, int *extra_jobs);
/* Stop the worker (0: it drained and exited 0 in time), read a second more so late duplicates
 * count, and print what the worker itself counted. */
int kit_load_stop(struct kit_worker *w, struct kit_tally *t, rd_kafka_t *reader);

#endif
