/* Retry timing (see sw_retry.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_retry.h"
#include "sw_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t sw_rand_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t sw_retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng)
{
    int64_t ceil = base_ms;
    int i;

    for (i = 1; i < attempt && ceil < cap_ms; i++) {
        ceil *= 2;
    }
    if (ceil > cap_ms) {
        ceil = cap_ms;
    }
    if (ceil <= 0) {
        return 0;
    }
    return (int64_t)(sw_rand_next(rng) % (uint64_t)(ceil + 1));
}

static int parse_num(const char *s, double *out)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (!isdigit((unsigned char)*s)) {
        return -1;
    }
    errno = 0;
    *out = strtod(s, &end);
    while (isspace((unsigned char)*end)) {
        end++;
    }
    /* Past ~317 years the value is nonsense, and converting it to milliseconds would overflow. */
    return (errno || *end || *out > 1.0e10) ? -1 : 0;
}

/* One hint's value as a wait. */
static int hint(const char *value, enum sw_hint_kind kind, int64_t now_wall_ms, int64_t *wait_ms)
{
    double d;
    int64_t at;

    if (kind == SW_HINT_EPOCH_SECONDS) {
        if (parse_num(value, &d)) {
            return 0;
        }
        *wait_ms = (int64_t)(d * 1000) - now_wall_ms;
    } else if (!parse_num(value, &d)) {
        *wait_ms = (int64_t)(d * 1000);
    } else if (kind == SW_HINT_DELTA_OR_DATE && !sw_time_parse_http(value, &at)) {
        *wait_ms = at - now_wall_ms;
    } else {
        return 0;
    }
    if (*wait_ms < 0) {
        *wait_ms = 0;
    }
    return 1;
}

static int hint_applies(const struct sw_retry_hint *c, long status)
{
    int i;

    for (i = 0; i < c->non; i++) {
        if (c->on[i] == status) {
            return 1;
        }
    }
    return c->non == 0;
}

int sw_retry_hint_ms(const struct sw_http_headers *h, const struct sw_retry_hint *hints, int nhints,
                     long status, int64_t now_wall_ms, int64_t *wait_ms)
{
    const char *v;
    int i;

    if (!hints || nhints <= 0) {
        v = sw_http_headers_get(h, "Retry-After");
        return v ? hint(v, SW_HINT_DELTA_OR_DATE, now_wall_ms, wait_ms) : 0;
    }
    for (i = 0; i < nhints; i++) {
        if (!hint_applies(&hints[i], status)) {
            continue;
        }
        v = sw_http_headers_get(h, hints[i].header);
        if (v && hint(v, hints[i].kind, now_wall_ms, wait_ms)) {
            return 1;
        }
    }
    return 0;
}
