/* The helper thread for blocking broker calls (see sw_bg.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_bg.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct sw_bg {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct sw_bg_task *todo, **todo_tail; /* guarded by lock */
    struct sw_bg_task *done, **done_tail; /* guarded by lock */
    int stop;                             /* guarded by lock */
    int wake_fd;
};

static void *bg_main(void *arg)
{
    struct sw_bg *bg = arg;

    pthread_mutex_lock(&bg->lock);
    for (;;) {
        struct sw_bg_task *t;

        while (!bg->todo && !bg->stop) {
            pthread_cond_wait(&bg->cond, &bg->lock);
        }
        if (bg->stop) {
            break;
        }
        t = bg->todo;
        bg->todo = t->next;
        if (!bg->todo) {
            bg->todo_tail = &bg->todo;
        }
        pthread_mutex_unlock(&bg->lock);
        t->run(t);
        pthread_mutex_lock(&bg->lock);
        t->next = NULL;
        *bg->done_tail = t;
        bg->done_tail = &t->next;
        /* A lost wake-up byte (full pipe) is harmless: the loop also collects every turn. */
        if (write(bg->wake_fd, "b", 1) < 0) {
        }
    }
    pthread_mutex_unlock(&bg->lock);
    return NULL;
}

struct sw_bg *sw_bg_start(int wake_fd)
{
    struct sw_bg *bg = calloc(1, sizeof(*bg));

    if (!bg) {
        return NULL;
    }
    bg->wake_fd = wake_fd;
    bg->todo_tail = &bg->todo;
    bg->done_tail = &bg->done;
    if (pthread_mutex_init(&bg->lock, NULL) != 0) {
        free(bg);
        return NULL;
    }
    if (pthread_cond_init(&bg->cond, NULL) != 0) {
        pthread_mutex_destroy(&bg->lock);
        free(bg);
        return NULL;
    }
    if (pthread_create(&bg->thread, NULL, bg_main, bg) != 0) {
        pthread_cond_destroy(&bg->cond);
        pthread_mutex_destroy(&bg->lock);
        free(bg);
        return NULL;
    }
    return bg;
}

int sw_bg_submit(struct sw_bg *bg, struct sw_bg_task *t)
{
    if (!bg || t->busy) {
        return -1;
    }
    t->busy = 1;
    t->next = NULL;
    pthread_mutex_lock(&bg->lock);
    *bg->todo_tail = t;
    bg->todo_tail = &t->next;
    pthread_cond_signal(&bg->cond);
    pthread_mutex_unlock(&bg->lock);
    return 0;
}

void sw_bg_collect(struct sw_bg *bg)
{
    struct sw_bg_task *list;

    if (!bg) {
        return;
    }
    pthread_mutex_lock(&bg->lock);
    list = bg->done;
    bg->done = NULL;
    bg->done_tail = &bg->done;
    pthread_mutex_unlock(&bg->lock);
    while (list) {
        struct sw_bg_task *t = list;

        list = t->next;
        t->next = NULL;
        t->busy = 0;
        t->done(t);
    }
}

void sw_bg_stop(struct sw_bg *bg)
{
    if (!bg) {
        return;
    }
    pthread_mutex_lock(&bg->lock);
    bg->stop = 1;
    pthread_cond_signal(&bg->cond);
    pthread_mutex_unlock(&bg->lock);
    pthread_join(bg->thread, NULL);
    pthread_cond_destroy(&bg->cond);
    pthread_mutex_destroy(&bg->lock);
    free(bg);
}
