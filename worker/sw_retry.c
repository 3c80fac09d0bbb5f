/* Classification and retry timing (see sw_retry.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_retry.h"
#include "sw_json.h"
#include "sw_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sw_retry_classify_http(long status, sw_err_t *code, sw_class_t *cls)
{
    if (status >= 200 && status < 300) {
        *code = SW_E_OK;
        *cls = SW_CLASS_OK;
        return;
    }
    switch (status) {
    case 400:
    case 422:
        *code = SW_E_INVALID_PARAMS;
        break;
    case 401:
        *code = SW_E_AUTH_FAILED;
        break;
    case 403:
        *code = SW_E_FORBIDDEN;
        break;
    case 404:
        *code = SW_E_NOT_FOUND;
        break;
    case 409:
        *code = SW_E_CONFLICT;
        break;
    case 408:
        *code = SW_E_TIMEOUT;
        break;
    case 429:
        *code = SW_E_RATE_LIMITED;
        break;
    default:
        *code = SW_E_PROVIDER_ERROR;
        break;
    }
    /* The retryable set is librdkafka's and Klaviyo's advice; other 5xx (501, 505, ...) say the
     * request itself will never work, so they end the job. */
    switch (status) {
    case 408:
    case 425:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        *cls = SW_CLASS_RETRY;
        break;
    default:
        *cls = SW_CLASS_TERMINAL;
        break;
    }
}

int sw_retry_http_ambiguous(long status)
{
    /* 429 and 503 mean "not processed"; 500/502/504 may hide a write that happened. */
    return status == 500 || status == 502 || status == 504 || status == 408;
}

sw_class_t sw_retry_classify_transport(sw_err_t transport_err, int ambiguous, int idempotent)
{
    switch (transport_err) {
    case SW_E_TIMEOUT:
    case SW_E_NETWORK_ERROR:
    case SW_E_NOMEM:
        return (ambiguous && !idempotent) ? SW_CLASS_TERMINAL : SW_CLASS_RETRY;
    case SW_E_CONFIG:
        return SW_CLASS_TERMINAL;
    default:
        return SW_CLASS_TERMINAL;
    }
}

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

/* One hint: kind is "delta_or_date" (Retry-After), "delta_seconds" or "epoch_seconds". */
static int hint(const char *value, const char *kind, int64_t now_wall_ms, int64_t *wait_ms)
{
    double d;
    int64_t at;

    if (!strcmp(kind, "epoch_seconds")) {
        if (parse_num(value, &d)) {
            return 0;
        }
        *wait_ms = (int64_t)(d * 1000) - now_wall_ms;
    } else if (!parse_num(value, &d)) {
        *wait_ms = (int64_t)(d * 1000);
    } else if (!strcmp(kind, "delta_or_date") && !sw_time_parse_http(value, &at)) {
        *wait_ms = at - now_wall_ms;
    } else {
        return 0;
    }
    if (*wait_ms < 0) {
        *wait_ms = 0;
    }
    return 1;
}

int sw_retry_hint_ms(const struct sw_http_headers *h, const cJSON *hints, long status,
                     int64_t now_wall_ms, int64_t *wait_ms)
{
    const cJSON *c;
    const char *v;

    if (!hints) {
        v = sw_http_headers_get(h, "Retry-After");
        return v ? hint(v, "delta_or_date", now_wall_ms, wait_ms) : 0;
    }
    cJSON_ArrayForEach(c, hints)
    {
        const char *name = sw_json_str(c, "header");
        const char *kind = sw_json_str(c, "kind");
        const cJSON *on = cJSON_GetObjectItemCaseSensitive(c, "on");

        if (!name || !kind) {
            continue;
        }
        if (on) {
            const cJSON *s;
            int match = 0;

            cJSON_ArrayForEach(s, on)
            {
                if (cJSON_IsNumber(s) && (long)s->valuedouble == status) {
                    match = 1;
                }
            }
            if (!match) {
                continue;
            }
        }
        v = sw_http_headers_get(h, name);
        if (v && hint(v, kind, now_wall_ms, wait_ms)) {
            return 1;
        }
    }
    return 0;
}
