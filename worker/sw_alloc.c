/* Small-object cache behind cJSON's allocation hooks (see sw_alloc.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_alloc.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define SW_ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SW_ALLOC_SANITIZED 1
#endif
#endif

/* Every block starts with a 16-byte header (keeps malloc's alignment) holding its size class. */
#define HDR        16
#define NCLASS     4    /* blocks of 32, 64, 128, 256 bytes with the header */
#define CLASS_MAX  4096 /* cached blocks per class: at most ~2 MiB kept in all */
#define CLASS_NONE 255  /* larger than the biggest class: plain malloc/free */

struct block {
    unsigned char cls;
    struct block *next; /* while cached */
};

struct freelist {
    struct block *head;
    unsigned n;
};

/* The hooks take no context argument, so the cache has to be file-scope state; it is touched
 * only by its owner thread. */
static struct {
    pthread_t owner;
    int installed;
    struct freelist list[NCLASS];
} cache;

#ifndef SW_ALLOC_SANITIZED
static int class_of(size_t total)
{
    if (total <= 32) {
        return 0;
    }
    if (total <= 64) {
        return 1;
    }
    if (total <= 128) {
        return 2;
    }
    if (total <= 256) {
        return 3;
    }
    return CLASS_NONE;
}

static void *cache_malloc(size_t size)
{
    int cls = class_of(size + HDR);
    struct block *b = NULL;

    if (cls != CLASS_NONE && pthread_equal(pthread_self(), cache.owner) && cache.list[cls].head) {
        b = cache.list[cls].head;
        cache.list[cls].head = b->next;
        cache.list[cls].n--;
    } else {
        if (size > (size_t)-1 - 256) {
            return NULL;
        }
        b = malloc(cls != CLASS_NONE ? (size_t)32 << cls : size + HDR);
        if (!b) {
            return NULL;
        }
    }
    b->cls = (unsigned char)cls;
    return (char *)b + HDR;
}

static void cache_free(void *p)
{
    struct block *b;
    int cls;

    if (!p) {
        return;
    }
    b = (struct block *)((char *)p - HDR);
    cls = b->cls;
    if (cls != CLASS_NONE && cache.list[cls].n < CLASS_MAX &&
        pthread_equal(pthread_self(), cache.owner)) {
        b->next = cache.list[cls].head;
        cache.list[cls].head = b;
        cache.list[cls].n++;
        return;
    }
    free(b);
}

#endif

void sw_alloc_install(void)
{
#ifndef SW_ALLOC_SANITIZED
    cJSON_Hooks hooks = {cache_malloc, cache_free};

    cache.owner = pthread_self();
    cache.installed = 1;
    cJSON_InitHooks(&hooks);
#endif
}

void sw_alloc_release(void)
{
    int i;

    if (!cache.installed) {
        return;
    }
    for (i = 0; i < NCLASS; i++) {
        while (cache.list[i].head) {
            struct block *b = cache.list[i].head;

            cache.list[i].head = b->next;
            free(b);
        }
        cache.list[i].n = 0;
    }
}
