/* One thread that fires callbacks at deadlines; segsim uses it to resume suspended connections so
 * that slow answers never block an MHD thread and need no thread per connection.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_TIMER_H
#define SIM_TIMER_H

#include <stddef.h>

typedef void (*sim_timer_fn)(void *item);

struct sim_timer;

/* Start the timer thread. At most max items may wait at once. @returns NULL on failure. */
struct sim_timer *sim_timer_new(size_t max, sim_timer_fn fn);
/* Monotonic clock in milliseconds (the clock deadlines are expressed in). */
long long sim_timer_now_ms(void);
/* Schedule fn(item) at due_ms. 0 on success; -1 when full, out of memory or draining, in which case
 * fn is NOT called and the caller must finish the item itself. */
int sim_timer_add(struct sim_timer *t, long long due_ms, void *item);
/* Fire every pending item now, refuse new ones and join the thread; when it returns no callback
 * is pending or running (shutdown step before stopping MHD). */
void sim_timer_drain(struct sim_timer *t);
/* Drain, then free (accepts NULL). */
void sim_timer_free(struct sim_timer *t);

#endif
