/* The adaptive per-host limit (see sw_climit.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_climit.h"

/* An answer slower than TOLERANCE times the host's best, plus SLACK_US (scheduling noise on a
 * busy machine; loopback answers take ~100 us), means requests are queueing at the host. */
#define TOLERANCE 2
#define SLACK_US  2000
/* The best latency is measured again every WINDOW answers, so a host that got slower for good
 * (a new route, a bigger account) is not held to a speed it lost. */
#define WINDOW 500

void sw_climit_init(struct sw_climit *c, long initial, long max)
{
    c->max = max > 0 ? max : 1;
    c->limit = initial < 1 ? 1 : initial > c->max ? (double)c->max : (double)initial;
    c->slow_start = 1;
    c->min_rtt_us = 0;
    c->win_min_us = 0;
    c->win_n = 0;
    c->decreased_us = 0;
}

/* Shrink by factor, at most once per round trip: the answers of one overloaded round trip
 * all say so, and each must not cut the limit again. */
static void decrease(struct sw_climit *c, int64_t now_us, int64_t rtt_us, double factor)
{
    if (c->decreased_us && now_us - c->decreased_us < rtt_us) {
        return;
    }
    c->slow_start = 0;
    c->decreased_us = now_us;
    c->limit *= factor;
    if (c->limit < 1) {
        c->limit = 1;
    }
}

void sw_climit_sample(struct sw_climit *c, int64_t now_us, int64_t rtt_us, int overload,
                      long in_flight)
{
    if (rtt_us < 1) {
        rtt_us = 1;
    }
    if (overload) {
        decrease(c, now_us, rtt_us, 0.7);
        return;
    }
    if (!c->win_min_us || rtt_us < c->win_min_us) {
        c->win_min_us = rtt_us;
    }
    if (!c->min_rtt_us || rtt_us < c->min_rtt_us) {
        c->min_rtt_us = rtt_us;
    }
    if (++c->win_n >= WINDOW) {
        c->min_rtt_us = c->win_min_us;
        c->win_min_us = 0;
        c->win_n = 0;
    }
    if (rtt_us > TOLERANCE * c->min_rtt_us + SLACK_US) {
        decrease(c, now_us, rtt_us, 0.9);
        return;
    }
    /* Grow only when the limit is what holds requests back: a host asked for less than the
     * limit gave no sign that more would be served as fast. */
    if (in_flight + 1 < (long)c->limit) {
        return;
    }
    c->limit += c->slow_start ? 1.0 : 1.0 / c->limit;
    if (c->limit > (double)c->max) {
        c->limit = (double)c->max;
    }
}
