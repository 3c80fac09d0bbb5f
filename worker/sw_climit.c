/* The adaptive per-host limit (see sw_climit.h). Latency is followed at two speeds: a short
 * average (the last few answers) and a long one (the last fifty or so). A short average well
 * above the long one means requests may be queueing at the host: the limit stops growing. It
 * does not shrink for that alone: the same host answers a cheap get in a millisecond and a
 * slow page in a second, and a mix of the two must not be read as overload. It shrinks on what
 * only overload produces: 429, 503, timeouts, refused connections. A host that is slow but
 * steady has both averages alike and gets its full share.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_climit.h"

/* Maybe queueing: the short average past TOLERANCE times the long one plus SLACK_US (scheduling
 * noise on a busy machine; loopback answers take ~100 us). */
#define TOLERANCE 2
#define SLACK_US  2000
/* The averages' weights: 1/SHORT and 1/LONG of each new answer. */
#define SHORT 8
#define LONG  50

void sw_climit_init(struct sw_climit *c, long initial, long max)
{
    c->max = max > 0 ? max : 1;
    c->limit = initial < 1 ? 1 : initial > c->max ? (double)c->max : (double)initial;
    c->slow_start = 1;
    c->short_us = 0;
    c->long_us = 0;
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
    double rtt = rtt_us < 1 ? 1.0 : (double)rtt_us;

    if (overload) {
        decrease(c, now_us, rtt_us, 0.7);
        return;
    }
    if (c->long_us <= 0) {
        c->short_us = c->long_us = rtt;
    } else {
        c->short_us += (rtt - c->short_us) / SHORT;
        /* Down quickly, up slowly: the long average is the latency of a host that keeps up. */
        c->long_us += (rtt - c->long_us) / (c->short_us < c->long_us ? SHORT : LONG);
    }
    if (c->short_us > TOLERANCE * c->long_us + SLACK_US) {
        return; /* slow start goes on once the new latency is the norm: only overload ends it */
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
