/* Small-object cache behind cJSON's allocation hooks (see sw_alloc.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_alloc.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <malloc.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define SW_ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SW_ALLOC_SANITIZED 1
#endif
#endif

/* Blocks are plain malloc blocks, with no header: a string cJSON printed may be released with
 * free() by its new owner, and cJSON may free a block malloc gave (cJSON_Delete of a string set
 * by hand). A freed block is cached by what malloc_usable_size says it holds. */
#define NCLASS     4    /* blocks of at least 32, 64, 128, 256 bytes */
#define CLASS_MAX  4096 /* cached blocks per class: at most ~2 MiB kept in all */
#define USABLE_MAX 512  /* larger freed blocks go back to malloc, not into a small class */

struct block {
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
static int class_of(size_t size)
{
    int c;

    for (c = 0; c < NCLASS; c++) {
        if (size <= (size_t)32 << c) {
            return c;
        }
    }
    return -1;
}

static void *cache_malloc(size_t size)
{
    int cls = class_of(size);
    struct block *b;

    if (cls >= 0 && pthread_equal(pthread_self(), cache.owner) && cache.list[cls].head) {
        b = cache.list[cls].head;
        cache.list[cls].head = b->next;
        cache.list[cls].n--;
        return b;
    }
    return malloc(cls >= 0 ? (size_t)32 << cls : size);
}

static void cache_free(void *p)
{
    size_t usable;
    int cls;

    if (!p) {
        return;
    }
    usable = malloc_usable_size(p);
    /* The largest class the block can serve. */
    for (cls = NCLASS - 1; cls >= 0 && ((size_t)32 << cls) > usable; cls--) {
    }
    if (cls >= 0 && usable <= USABLE_MAX && cache.list[cls].n < CLASS_MAX &&
        pthread_equal(pthread_self(), cache.owner)) {
        struct block *b = p;

        b->next = cache.list[cls].head;
        cache.list[cls].head = b;
        cache.list[cls].n++;
        return;
    }
    free(p);
}
#endif

/* Failure injection state (tests only; see sw_alloc_inject_failures). */
static struct {
    long after;
    long count;
} inject;

static void *inject_malloc(size_t size)
{
    if (inject.after > 0) {
        inject.after--;
        return malloc(size);
    }
    if (inject.count != 0) {
        if (inject.count > 0) {
            inject.count--;
        }
        return NULL;
    }
    return malloc(size);
}

void sw_alloc_inject_failures(long after, long count)
{
    cJSON_Hooks hooks = {inject_malloc, free};

    inject.after = after;
    inject.count = count;
    if (after == 0 && count == 0) {
        /* Back to what was there before: the cache when it was installed, else malloc. */
        if (cache.installed) {
            cache.installed = 0;
            sw_alloc_install();
        } else {
            cJSON_InitHooks(NULL);
        }
        return;
    }
    cJSON_InitHooks(&hooks);
}

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
