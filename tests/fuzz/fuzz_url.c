/* libFuzzer target: the parsers of provider-controlled text: pagination links (re-based onto the
 * operator's base URL), ISO 8601 / HTTP dates, Retry-After hints, and RateLimit-* headers fed to
 * the rate limiter.
 * SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memmem */
#include "sw_http.h"
#include "sw_ratelimit.h"
#include "sw_retry.h"
#include "sw_time.h"
#include "sw_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever the headers say, the learned windows stay within bounds and the bucket stays usable. */
static void rate_headers(const char *s)
{
    struct sw_rl_limit lim[SW_RL_MAX_WINDOWS];
    struct sw_timers ts;
    struct sw_ratelimit rl;
    struct sw_http_headers h;
    struct sw_rl_bucket *b;
    struct sw_rl_waiter w;
    int i, n = sw_rl_parse_limit_header(s, lim, SW_RL_MAX_WINDOWS);

    for (i = 0; i < n; i++) {
        if (lim[i].requests <= 0 || lim[i].per_ms <= 0 || lim[i].per_ms > 31LL * 86400 * 1000) {
            abort();
        }
    }
    memset(&h, 0, sizeof(h));
    memset(&w, 0, sizeof(w));
    sw_http_headers_add(&h, "RateLimit-Limit", s, 0);
    sw_http_headers_add(&h, "RateLimit-Remaining", s, 0);
    sw_http_headers_add(&h, "RateLimit-Reset", s, 0);
    sw_http_headers_add(&h, "X-RateLimit-Remaining", "0", 0);
    sw_http_headers_add(&h, "X-RateLimit-Reset", s, 0);
    sw_timers_init(&ts);
    sw_rl_init(&rl, &ts, SW_RL_ADAPTIVE);
    b = sw_rl_bucket(&rl, "p", "a", "read", NULL, 0);
    if (b) {
        sw_rl_observe(b, 429, &h, 1000, 1, 1000, 1000);
        if (b->closed_until_ms > 1000 + 24LL * 3600 * 1000) {
            abort(); /* a wait is bounded whatever the provider says */
        }
        sw_rl_acquire(b, &w, NULL, NULL, 1000);
        sw_rl_cancel(&w);
    }
    sw_rl_free(&rl);
    sw_timers_free(&ts);
    sw_http_headers_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char *out = NULL;
    struct sw_status st;
    struct sw_http_headers h;
    int64_t ms;

    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    sw_status_clear(&st);
    if (sw_url_rebase("http://127.0.0.1:8080/prefix", s, &out, &st) == SW_E_OK) {
        /* Whatever the link said, the request stays on the operator's origin, under its
         * prefix, with no dot segment in the path. */
        size_t plen = strcspn(out, "?");

        if (strncmp(out, "http://127.0.0.1:8080/prefix", 28) != 0 ||
            (out[28] != '/' && out[28] != '?') ||
            (plen >= 3 && !strncmp(out + plen - 3, "/..", 3)) || memmem(out, plen, "/../", 4) ||
            memmem(out, plen, "/./", 3)) {
            abort();
        }
    }
    free(out);
    sw_time_parse(s, &ms);
    sw_time_parse_http(s, &ms);
    memset(&h, 0, sizeof(h));
    sw_http_headers_add(&h, "Retry-After", s, 0);
    sw_retry_hint_ms(&h, NULL, 0, 429, 0, &ms);
    sw_http_headers_free(&h);
    rate_headers(s);
    free(s);
    return 0;
}
