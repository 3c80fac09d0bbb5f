/* Outcome classification (one table) and retry timing: exponential back-off with full jitter,
 * capped, and the provider's own Retry-After / reset hints.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_RETRY_H
#define SW_RETRY_H

#include "sw_err.h"
#include "sw_http.h"

#include <cjson/cJSON.h>
#include <stdint.h>

/* HTTP status -> error code and class. 2xx is SW_E_OK. */
void sw_retry_classify_http(long status, sw_err_t *code, sw_class_t *cls);

/* Transport failure -> class, given whether the request is safe to repeat. */
sw_class_t sw_retry_classify_transport(sw_err_t transport_err, int ambiguous, int idempotent);

/* Whether an HTTP status leaves a non-idempotent write's outcome unknown. */
int sw_retry_http_ambiguous(long status);

/* Full jitter: a uniform wait in [0, min(cap, base * 2^(attempt-1))]; attempt counts from 1. */
int64_t sw_retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng);

/* The wait a provider asked for, from the headers named in the spec's "retry_after" list
 * (default: Retry-After as seconds or HTTP-date). Returns 1 and *wait_ms when one is present. */
int sw_retry_hint_ms(const struct sw_http_headers *h, const cJSON *hints, long status,
                     int64_t now_wall_ms, int64_t *wait_ms);

/* xorshift64*: per-owner state, never a global. */
uint64_t sw_rand_next(uint64_t *state);

#endif
