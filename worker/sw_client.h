/* `segworker submit` and `segworker await`: the client side of the wire contract, for scripts
 * and demos. Both use the worker's configuration (brokers, topics, kafka.* passthrough).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_CLIENT_H
#define SW_CLIENT_H

#include "sw_config.h"

#include <signal.h>
#include <stdio.h>

/* Read NDJSON jobs from in; validate each line as the worker would (sw_job_parse) and produce
 * the valid ones to topic, keyed by job_id, with an idempotent producer. Prints the job_id of
 * every acknowledged job on out, one per line; per-line errors ("line N: ...") on stderr.
 * Returns 0 when every non-empty line was delivered, 1 when any line was invalid or not
 * delivered, 2 on a setup error. */
int sw_client_submit(const struct sw_config *cfg, const char *topic, FILE *in, FILE *out,
                     volatile sig_atomic_t *stop);

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
 * last part or the timeout. Returns 0 when all arrived, 1 on timeout (missing ids on stderr), 2 on
 * a setup error. Reads the topic from the beginning with a throwaway group that never commits. */
int sw_client_await(const struct sw_config *cfg, const struct sw_await_opts *o, FILE *out,
                    volatile sig_atomic_t *stop);

#endif
