/* A helper thread for the broker calls librdkafka offers only as blocking ones (metadata
 * lookups, transaction commits), so that the event loop never waits on the broker. The loop
 * hands a task over, goes on turning, and gets the task back on its own thread, woken through
 * its wake-up fd, once the blocking part is done.
 *
 * Tasks are embedded in their owner (no allocation per task) and run one at a time, in order.
 * A task is the owner's until it is handed over and again once its done() has run; in between
 * only the helper thread touches run()'s part of it.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_BG_H
#define SW_BG_H

struct sw_bg;

struct sw_bg_task {
    struct sw_bg_task *next; /* the helper's queues */
    /* On the helper thread: the blocking part. It must not touch loop-thread state. */
    void (*run)(struct sw_bg_task *t);
    /* Back on the loop thread (from sw_bg_collect): use the outcome. */
    void (*done)(struct sw_bg_task *t);
    int busy; /* handed over and not yet done (loop thread only) */
};

/* Start the helper thread; it writes a byte to wake_fd whenever a task is done. NULL on
 * failure. */
struct sw_bg *sw_bg_start(int wake_fd);
/* Hand a task over (t->busy must be 0). 0 on success. */
int sw_bg_submit(struct sw_bg *bg, struct sw_bg_task *t);
/* Loop thread: run done() of every finished task. */
void sw_bg_collect(struct sw_bg *bg);
/* Let the running task finish, drop the queued ones (their done() is not called), join the
 * thread and free. Accepts NULL. */
void sw_bg_stop(struct sw_bg *bg);

#endif
