/* Deadline timer thread backed by a binary min-heap (see sim_timer.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_timer.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct timer_item {
    long long due_ms;
    void *item;
};

struct sim_timer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    int started;
    int draining;
    struct timer_item *heap;
    size_t n;
    size_t cap;
    size_t max;
    sim_timer_fn fn;
};

long long sim_timer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void heap_swap(struct timer_item *a, struct timer_item *b)
{
    struct timer_item tmp = *a;

    *a = *b;
    *b = tmp;
}

static void heap_pop(struct sim_timer *t)
{
    size_t i = 0;

    t->heap[0] = t->heap[--t->n];
    for (;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t m = i;

        if (l < t->n && t->heap[l].due_ms < t->heap[m].due_ms) {
            m = l;
        }
        if (r < t->n && t->heap[r].due_ms < t->heap[m].due_ms) {
            m = r;
        }
        if (m == i) {
            break;
        }
        heap_swap(&t->heap[i], &t->heap[m]);
        i = m;
    }
}

static void *timer_main(void *arg)
{
    struct sim_timer *t = arg;

    pthread_mutex_lock(&t->lock);
    for (;;) {
        long long now = sim_timer_now_ms();

        if (t->n > 0 && (t->draining || t->heap[0].due_ms <= now)) {
            void *item = t->heap[0].item;

            heap_pop(t);
            /* Fire without the lock: the callback calls into MHD, which takes its own locks. */
            pthread_mutex_unlock(&t->lock);
            t->fn(item);
            pthread_mutex_lock(&t->lock);
            continue;
        }
        if (t->draining) {
            break;
        }
        if (t->n == 0) {
            pthread_cond_wait(&t->cond, &t->lock);
        } else {
            long long due = t->heap[0].due_ms;
            struct timespec ts;

            ts.tv_sec = (time_t)(due / 1000);
            ts.tv_nsec = (long)(due % 1000) * 1000000L;
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct sim_timer *sim_timer_new(size_t max, sim_timer_fn fn)
{
    struct sim_timer *t = calloc(1, sizeof(*t));
    pthread_condattr_t ca;
    int ok = 0;

    if (!t) {
        return NULL;
    }
    t->max = max;
    t->fn = fn;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&ca);
    /* Deadlines are monotonic so wall-clock jumps cannot stall or rush slow answers. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        goto out;
    }
    t->started = 1;
    ok = 1;
out:
    if (!ok) {
        sim_timer_free(t);
        t = NULL;
    }
    return t;
}

int sim_timer_add(struct sim_timer *t, long long due_ms, void *item)
{
    int rc = -1;
    size_t i;

    pthread_mutex_lock(&t->lock);
    if (t->draining || t->n >= t->max) {
        goto out;
    }
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        struct timer_item *nh = realloc(t->heap, ncap * sizeof(*nh));

        if (!nh) {
            goto out;
        }
        t->heap = nh;
        t->cap = ncap;
    }
    i = t->n++;
    t->heap[i].due_ms = due_ms;
    t->heap[i].item = item;
    while (i > 0 && t->heap[(i - 1) / 2].due_ms > t->heap[i].due_ms) {
        heap_swap(&t->heap[(i - 1) / 2], &t->heap[i]);
        i = (i - 1) / 2;
    }
    if (i == 0) {
        pthread_cond_signal(&t->cond); /* new earliest deadline */
    }
    rc = 0;
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void sim_timer_drain(struct sim_timer *t)
{
    if (!t) {
        return;
    }
    pthread_mutex_lock(&t->lock);
    t->draining = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    /* The thread fires what is left and exits; joining here means nothing is pending afterwards. */
    if (t->started) {
        pthread_join(t->thread, NULL);
        t->started = 0;
    }
}

void sim_timer_free(struct sim_timer *t)
{
    if (!t) {
        return;
    }
    sim_timer_drain(t);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t->heap);
    free(t);
}
