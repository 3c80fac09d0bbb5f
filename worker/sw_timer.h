/* A binary min-heap of timers for retry back-off and rate-limit waits: waiting never blocks the
 * loop, and a cancelled timer leaves the heap in O(log n).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_TIMER_H
#define SW_TIMER_H

#include <stddef.h>
#include <stdint.h>

typedef void (*sw_timer_cb)(void *arg);

/* Embedded in the object that waits; must outlive its time in the heap. */
struct sw_timer {
    int64_t due_ms; /* monotonic */
    uint64_t seq;   /* ties break in arming order, so equal deadlines fire FIFO */
    size_t idx;     /* position in the heap; SIZE_MAX when not armed */
    sw_timer_cb cb;
    void *arg;
};

struct sw_timers {
    struct sw_timer **heap;
    size_t n;
    size_t cap;
    uint64_t seq;
};

void sw_timers_init(struct sw_timers *ts);
void sw_timers_free(struct sw_timers *ts);
void sw_timer_init(struct sw_timer *t);
/* Arm (or re-arm) t. 0 on success, -1 on allocation failure. */
int sw_timers_add(struct sw_timers *ts, struct sw_timer *t, int64_t due_ms, sw_timer_cb cb,
                  void *arg);
void sw_timers_cancel(struct sw_timers *ts, struct sw_timer *t);
int sw_timer_armed(const struct sw_timer *t);
/* Milliseconds until the earliest timer (0 if due), or -1 when none is armed. */
int64_t sw_timers_next_in(const struct sw_timers *ts, int64_t now_ms);
/* Fire every timer due at now_ms; returns how many fired. Callbacks may arm timers. */
int sw_timers_run(struct sw_timers *ts, int64_t now_ms);

#endif
