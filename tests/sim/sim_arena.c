/* Per-request bump allocator (see sim_arena.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 16384u
#define ALIGN     16u

struct sim_arena_chunk {
    struct sim_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(ALIGN) unsigned char mem[];
};

struct sim_arena_owned {
    struct sim_arena_owned *next;
    cJSON *json;
};

void *sim_arena_alloc(struct sim_arena *a, size_t n)
{
    struct sim_arena_chunk *c = a->head;
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    void *p;

    if (!c || c->size - c->used < need) {
        size_t size = need > CHUNK_MIN ? need : CHUNK_MIN;

        c = malloc(sizeof(*c) + size);
        if (!c) {
            return NULL;
        }
        c->next = a->head;
        c->size = size;
        c->used = 0;
        a->head = c;
    }
    p = c->mem + c->used;
    c->used += need;
    return p;
}

char *sim_arena_strndup(struct sim_arena *a, const char *s, size_t len)
{
    char *p = sim_arena_alloc(a, len + 1);

    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

char *sim_arena_printf(struct sim_arena *a, const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    p = sim_arena_alloc(a, (size_t)n + 1);
    if (!p) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

cJSON *sim_arena_own(struct sim_arena *a, cJSON *j)
{
    struct sim_arena_owned *o = j ? sim_arena_alloc(a, sizeof(*o)) : NULL;

    if (!o) {
        cJSON_Delete(j);
        return NULL;
    }
    o->json = j;
    o->next = a->owned;
    a->owned = o;
    return j;
}

struct sim_arena_mark sim_arena_mark(const struct sim_arena *a)
{
    struct sim_arena_mark m = {a->head, a->head ? a->head->used : 0, a->owned};

    return m;
}

void sim_arena_release(struct sim_arena *a, struct sim_arena_mark m)
{
    /* Owned trees live inside chunks: delete them before the chunks go. */
    while (a->owned && a->owned != m.owned) {
        cJSON_Delete(a->owned->json);
        a->owned = a->owned->next;
    }
    while (a->head && a->head != m.head) {
        struct sim_arena_chunk *next = a->head->next;

        free(a->head);
        a->head = next;
    }
    if (a->head) {
        a->head->used = m.used;
    }
}

void sim_arena_free(struct sim_arena *a)
{
    struct sim_arena_mark none = {NULL, 0, NULL};

    sim_arena_release(a, none);
}
