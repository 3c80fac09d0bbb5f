/* `segworker submit` and `segworker await`: the client side of the wire contract, for scripts
 * and demos. Both use the worker's configuration (brokers, topics, kafka.* passthrough).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_CLIENT_H
#define SW_CLIENT_H

#include "sw_config.h"

#include <signal.h>
#include <stdio.h>

/* What a client command achieved; the command line turns it into an exit status. */
enum sw_client_rc {
    SW_CLIENT_OK = 0,  /* everything delivered / arrived and succeeded */
    SW_CLIENT_FAILED,  /* submit: a line invalid or refused; await: an awaited job failed */
    SW_CLIENT_SETUP,   /* the client could not be set up (configuration, options) */
    SW_CLIENT_TIMEOUT, /* submit: not acknowledged in time; await: results missing */
};

struct sw_submit_opts {
    const char *topic;
    /* The message key: "job_id" (NULL too), "account", "none" (no key) or an RFC 6901 pointer
     * into the job ("/correlation/workflowId"). Jobs of one key land on one partition, and the
     * worker runs them one at a time in order (worker.ordering=key). */
    const char *key;
    long long timeout_ms; /* for the broker's acknowledgements once the input has ended */
};

/* Read NDJSON jobs from in; validate each line as the worker would (sw_job_parse) and produce
 * the valid ones to o->topic, keyed by o->key, with an idempotent producer. Prints the job_id of
 * every acknowledged job on out, one per line; per-line errors ("line N: ...") on stderr.
 * librdkafka's own messages go through the logger. */
enum sw_client_rc sw_client_submit(const struct sw_config *cfg, const struct sw_submit_opts *o,
                                   FILE *in, FILE *out, volatile sig_atomic_t *stop);

struct sw_await_opts {
    const char *topic;
    char *const *job_ids; /* wait for the final result of each */
    int njob_ids;
    const char *corr_key; /* or: results whose correlation.<key> equals corr_value */
    const char *corr_value;
    int count; /* with a correlation: how many final results to wait for (>= 1) */
    long long timeout_ms;
};

/* Print every result message of the awaited jobs on out (one JSON line each) until all have their
 * last part or the timeout. OK when all arrived and succeeded, FAILED when all arrived and one
 * failed, TIMEOUT when some are missing (named on stderr). Reads the topic from the beginning with
 * a throwaway group that never commits. */
enum sw_client_rc sw_client_await(const struct sw_config *cfg, const struct sw_await_opts *o,
                                  FILE *out, volatile sig_atomic_t *stop);

/* Ask the brokers for the metadata of each topic (NULL-terminated; empty names are skipped)
 * within timeout_ms, calling report with one line per problem (brokers unreachable, a topic
 * missing). Returns the number of problems. */
int sw_client_check_topics(const struct sw_config *cfg, const char *const *topics,
                           long long timeout_ms, void (*report)(void *arg, const char *problem),
                           void *arg);

#endif
