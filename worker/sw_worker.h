/* The Kafka worker: consumer -> engine -> producer on one event loop, with contiguous offset
 * commits, backpressure, dead letters and a graceful drain.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_WORKER_H
#define SW_WORKER_H

#include "sw_accounts.h"
#include "sw_config.h"

#include <signal.h>

struct sw_registry;

/* Run until *stop becomes non-zero (then drain) or a fatal error. Whenever *reload is non-zero
 * (SIGHUP; may be NULL) the account store is reloaded from cfg->accounts and *reload cleared.
 * Returns the process exit code: 0 after a clean drain, 1 on a fatal error, 2 on a configuration
 * it cannot honour, SW_EXIT_ABANDONED when the grace period ended with provider calls still
 * under way (their jobs are redelivered). */
#define SW_EXIT_ABANDONED 3

int sw_worker_run(const struct sw_config *cfg, const struct sw_registry *reg,
                  const struct sw_accounts *accounts, volatile sig_atomic_t *stop,
                  volatile sig_atomic_t *reload);

/* Build (and discard) the consumer and producer configurations, so that `segworker validate`
 * reports a bad kafka.* property without connecting. 0 when librdkafka accepts them all. */
int sw_worker_check_config(const struct sw_config *cfg);

#endif
