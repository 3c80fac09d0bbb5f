/* Retry timing: exponential back-off with full jitter, capped, and the provider's own
 * Retry-After / reset hints. (What an outcome means is sw_classify.h's to say.)
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_RETRY_H
#define SW_RETRY_H

#include "sw_adapter.h"
#include "sw_err.h"
#include "sw_http.h"

#include <stdint.h>

/* Full jitter: a uniform wait in [0, min(cap, base * 2^(attempt-1))]; attempt counts from 1. */
int64_t sw_retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng);

/* The wait a provider asked for, from the headers its description names (nhints 0: Retry-After
 * as seconds or an HTTP-date). Returns 1 and *wait_ms when one is present. */
int sw_retry_hint_ms(const struct sw_http_headers *h, const struct sw_retry_hint *hints, int nhints,
                     long status, int64_t now_wall_ms, int64_t *wait_ms);

/* xorshift64*: per-owner state, never a global. */
uint64_t sw_rand_next(uint64_t *state);

#endif
