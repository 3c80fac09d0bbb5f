/* An adaptive limit on the requests in flight to one provider host: it grows while answers come
 * back as fast as usual, stops growing when they slow down, and shrinks when the host shows
 * overload (429, 503, timeouts, refused connections). The idea of TCP's congestion control (slow
 * start, additive increase, multiplicative decrease) with a latency signal that holds growth, as
 * in TCP Vegas and Netflix's concurrency-limits: a host that serves each connection with a thread
 * gets few connections, a host that scales gets many, neither needs tuning.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_CLIMIT_H
#define SW_CLIMIT_H

#include <stdint.h>

struct sw_climit {
    double limit;         /* requests allowed in flight, in [1, max] */
    long max;             /* http.max_host_connections */
    int slow_start;       /* doubling per round trip until the first 429/503/timeout */
    double short_us;      /* latency, averaged over the last few answers */
    double long_us;       /* latency, averaged over the last fifty or so: the host keeping up */
    int64_t decreased_us; /* when the limit last shrank (once per round trip at most) */
};

/* A limit that starts at initial (at most max) and never passes max. */
void sw_climit_init(struct sw_climit *c, long initial, long max);

/* How many requests may be in flight now (at least 1). */
static inline long sw_climit_get(const struct sw_climit *c)
{
    return (long)c->limit;
}

/* One answered request: now_us (monotonic), its latency, whether the host refused it for load
 * (429, 503) or it failed the way an overloaded host fails (timeout, connection refused), and
 * how many requests were in flight to the host when it ended, itself included. */
void sw_climit_sample(struct sw_climit *c, int64_t now_us, int64_t rtt_us, int overload,
                      long in_flight);

#endif
