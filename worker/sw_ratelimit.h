/* Rate limits per (provider, account, limit class), enforced before a request leaves.
 *
 * Each limit is a window "at most N requests in any W ms", kept as a sliding log of the last N
 * grant times: unlike a token bucket (which lets 2N through in the worst window), a sliding log
 * never exceeds a provider's fixed windows, whatever their alignment. Limits come from the spec
 * and are learned from RateLimit-Limit headers; RateLimit-Remaining: 0 with a reset, and 429s,
 * close the bucket until the provider's stated time. Waiters queue FIFO per bucket and are woken
 * by one timer per bucket: waiting never blocks the loop.
 *
 * With several workers each applies its share (the fraction of the jobs topic's partitions it
 * owns) of every limit, so together they stay under it when jobs are keyed by account.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_RATELIMIT_H
#define SW_RATELIMIT_H

#include "sw_http.h"
#include "sw_timer.h"

#include <stddef.h>
#include <stdint.h>

#define SW_RL_MAX_WINDOWS 4
#define SW_RL_MAX_LOG     100000 /* largest N per window we log; larger limits are scaled */

enum sw_rl_mode { SW_RL_SPEC, SW_RL_ADAPTIVE, SW_RL_OFF };

/* "requests per per_ms" as a provider states it. */
struct sw_rl_limit {
    long long requests;
    int64_t per_ms;
};

struct sw_rl_window {
    struct sw_rl_limit def; /* as stated (before the share) */
    long long n;            /* effective count after the share */
    int64_t w_ms;           /* effective window after the share and the safety margin */
    int64_t *log;           /* ring of the last n grant times (monotonic ms) */
    long long head, len;
};

struct sw_rl_bucket;

/* Embedded in whatever waits for a grant. */
struct sw_rl_waiter {
    struct sw_rl_waiter *prev, *next;
    struct sw_rl_bucket *bucket; /* NULL when not queued */
    sw_timer_cb cb;
    void *arg;
    int64_t since_ms;
};

struct sw_rl_bucket {
    struct sw_ratelimit *rl;
    char *key; /* provider \x1f account \x1f class */
    struct sw_rl_window w[SW_RL_MAX_WINDOWS];
    int nw;
    int from_headers;          /* windows learned from RateLimit-Limit */
    int64_t closed_until_ms;   /* monotonic; 429 / Retry-After / Remaining 0 */
    struct sw_rl_waiter *head; /* FIFO */
    struct sw_rl_waiter *tail;
    size_t waiting;
    struct sw_timer timer;
};

struct sw_rl_stats {
    unsigned long long granted, waited, wait_ms_total, closed_by_429, closed_by_headers;
};

struct sw_ratelimit {
    struct sw_timers *timers;
    int64_t (*clock)(void); /* monotonic ms; tests substitute their own */
    enum sw_rl_mode mode;
    double share; /* (0, 1] */
    struct sw_rl_bucket **b;
    size_t n, cap;
    struct sw_rl_stats stats;
    size_t waiting; /* waiters over every bucket */
};

void sw_rl_init(struct sw_ratelimit *rl, struct sw_timers *timers, enum sw_rl_mode mode);
void sw_rl_free(struct sw_ratelimit *rl);
int sw_rl_mode_parse(const char *s, enum sw_rl_mode *mode);

/* Change every bucket's share (0 < share <= 1); recomputes the effective windows. */
void sw_rl_set_share(struct sw_ratelimit *rl, double share);

/* The bucket for (provider, account, class), created with the spec's limits (ignored in adaptive
 * mode). NULL when rate limiting is off or memory ran out (then requests go unthrottled). */
struct sw_rl_bucket *sw_rl_bucket(struct sw_ratelimit *rl, const char *provider,
                                  const char *account, const char *cls,
                                  const struct sw_rl_limit *limits, int nlimits);

/* Take a request slot now (returns 1) or queue w and call cb(arg) once one is taken for it
 * (returns 0). A NULL bucket always grants. */
int sw_rl_acquire(struct sw_rl_bucket *b, struct sw_rl_waiter *w, sw_timer_cb cb, void *arg,
                  int64_t now_ms);
/* Leave the queue (the job ended while waiting). Harmless when not queued. */
void sw_rl_cancel(struct sw_rl_waiter *w);

/* Learn from an answer: RateLimit-* / X-RateLimit-* headers, and a 429 with the wait the
 * provider asked for (hint_ms, have_hint). */
void sw_rl_observe(struct sw_rl_bucket *b, long status, const struct sw_http_headers *h,
                   int64_t hint_ms, int have_hint, int64_t now_ms, int64_t now_wall_ms);

/* Parse an IETF/Klaviyo RateLimit-Limit value "75, 75;w=1, 750;w=60" into limits (windows in
 * seconds). Returns how many were stored (0 when the value names no window). */
int sw_rl_parse_limit_header(const char *v, struct sw_rl_limit *out, int max);

#endif
