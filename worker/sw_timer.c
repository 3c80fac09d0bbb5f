/* Timer heap (see sw_timer.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_timer.h"

#include <stdlib.h>

void sw_timers_init(struct sw_timers *ts)
{
    ts->heap = NULL;
    ts->n = ts->cap = 0;
    ts->seq = 0;
}

void sw_timers_free(struct sw_timers *ts)
{
    size_t i;

    if (!ts) {
        return;
    }
    for (i = 0; i < ts->n; i++) {
        ts->heap[i]->idx = SIZE_MAX;
    }
    free(ts->heap);
    sw_timers_init(ts);
}

void sw_timer_init(struct sw_timer *t)
{
    t->idx = SIZE_MAX;
    t->cb = NULL;
    t->arg = NULL;
    t->due_ms = 0;
    t->seq = 0;
}

int sw_timer_armed(const struct sw_timer *t)
{
    return t->idx != SIZE_MAX;
}

static int before(const struct sw_timer *a, const struct sw_timer *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void place(struct sw_timers *ts, size_t i, struct sw_timer *t)
{
    ts->heap[i] = t;
    t->idx = i;
}

static void sift_up(struct sw_timers *ts, size_t i)
{
    struct sw_timer *t = ts->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (!before(t, ts->heap[p])) {
            break;
        }
        place(ts, i, ts->heap[p]);
        i = p;
    }
    place(ts, i, t);
}

static void sift_down(struct sw_timers *ts, size_t i)
{
    struct sw_timer *t = ts->heap[i];

    for (;;) {
        size_t l = 2 * i + 1;
        size_t c = l;

        if (l >= ts->n) {
            break;
        }
        if (l + 1 < ts->n && before(ts->heap[l + 1], ts->heap[l])) {
            c = l + 1;
        }
        if (!before(ts->heap[c], t)) {
            break;
        }
        place(ts, i, ts->heap[c]);
        i = c;
    }
    place(ts, i, t);
}

void sw_timers_cancel(struct sw_timers *ts, struct sw_timer *t)
{
    size_t i = t->idx;
    struct sw_timer *last;

    if (i == SIZE_MAX || i >= ts->n || ts->heap[i] != t) {
        return;
    }
    t->idx = SIZE_MAX;
    last = ts->heap[--ts->n];
    if (i == ts->n) {
        return;
    }
    place(ts, i, last);
    sift_down(ts, i);
    sift_up(ts, last->idx);
}

int sw_timers_add(struct sw_timers *ts, struct sw_timer *t, int64_t due_ms, sw_timer_cb cb,
                  void *arg)
{
    sw_timers_cancel(ts, t);
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        struct sw_timer **h = realloc(ts->heap, cap * sizeof(*h));

        if (!h) {
            return -1;
        }
        ts->heap = h;
        ts->cap = cap;
    }
    t->due_ms = due_ms;
    t->seq = ts->seq++;
    t->cb = cb;
    t->arg = arg;
    place(ts, ts->n++, t);
    sift_up(ts, t->idx);
    return 0;
}

int64_t sw_timers_next_in(const struct sw_timers *ts, int64_t now_ms)
{
    int64_t d;

    if (!ts->n) {
        return -1;
    }
    d = ts->heap[0]->due_ms - now_ms;
    return d > 0 ? d : 0;
}

int sw_timers_run(struct sw_timers *ts, int64_t now_ms)
{
    int fired = 0;

    while (ts->n && ts->heap[0]->due_ms <= now_ms) {
        struct sw_timer *t = ts->heap[0];

        sw_timers_cancel(ts, t);
        fired++;
        t->cb(t->arg);
    }
    return fired;
}
