/* Ordering gate (see sw_order.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_order.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ s[i]) * 1099511628211ULL;
    }
    return h;
}

void sw_order_init(struct sw_order *o)
{
    memset(o, 0, sizeof(*o));
}

static void key_free(struct sw_order_key *k)
{
    if (k) {
        free(k->key);
        free(k);
    }
}

void sw_order_free(struct sw_order *o)
{
    size_t i;

    if (!o) {
        return;
    }
    for (i = 0; i < o->cap; i++) {
        key_free(o->tab[i]);
    }
    free(o->tab);
    sw_order_init(o);
}

size_t sw_order_keys(const struct sw_order *o)
{
    return o->n;
}

/* Slot of key, or of the empty slot where it would go. */
static size_t slot(const struct sw_order *o, const void *key, size_t len, uint64_t h)
{
    size_t i = h & (o->cap - 1);

    while (o->tab[i] && !(o->tab[i]->hash == h && o->tab[i]->len == len &&
                          (len == 0 || !memcmp(o->tab[i]->key, key, len)))) {
        i = (i + 1) & (o->cap - 1);
    }
    return i;
}

static int grow(struct sw_order *o)
{
    struct sw_order old = *o;
    size_t i;

    o->cap = old.cap ? old.cap * 2 : 16;
    o->tab = calloc(o->cap, sizeof(*o->tab));
    if (!o->tab) {
        *o = old;
        return -1;
    }
    for (i = 0; i < old.cap; i++) {
        if (old.tab[i]) {
            o->tab[slot(o, old.tab[i]->key, old.tab[i]->len, old.tab[i]->hash)] = old.tab[i];
        }
    }
    free(old.tab);
    return 0;
}

int sw_order_admit(struct sw_order *o, const void *key, size_t len, struct sw_order_link *l)
{
    uint64_t h = hash_bytes(key, len);
    struct sw_order_key *k;
    size_t i;

    l->next = NULL;
    if ((o->n + 1) * 2 > o->cap && grow(o) != 0) {
        return -1;
    }
    i = slot(o, key, len, h);
    k = o->tab[i];
    if (k) {
        if (k->tail) {
            k->tail->next = l;
        } else {
            k->head = l;
        }
        k->tail = l;
        return 0;
    }
    k = calloc(1, sizeof(*k));
    if (!k || (len && !(k->key = malloc(len)))) {
        free(k);
        return -1;
    }
    if (len) {
        memcpy(k->key, key, len);
    }
    k->len = len;
    k->hash = h;
    o->tab[i] = k;
    o->n++;
    return 1;
}

/* Backward-shift deletion keeps every remaining key reachable from its home slot. */
static void remove_at(struct sw_order *o, size_t i)
{
    size_t j = i;

    key_free(o->tab[i]);
    o->tab[i] = NULL;
    o->n--;
    for (;;) {
        size_t home;

        j = (j + 1) & (o->cap - 1);
        if (!o->tab[j]) {
            return;
        }
        home = o->tab[j]->hash & (o->cap - 1);
        /* Move j into the hole i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            o->tab[i] = o->tab[j];
            o->tab[j] = NULL;
            i = j;
        }
    }
}

struct sw_order_link *sw_order_release(struct sw_order *o, const void *key, size_t len)
{
    struct sw_order_link *next;
    struct sw_order_key *k;
    size_t i;

    if (!o->cap) {
        return NULL;
    }
    i = slot(o, key, len, hash_bytes(key, len));
    k = o->tab[i];
    if (!k) {
        return NULL;
    }
    next = k->head;
    if (!next) {
        remove_at(o, i);
        return NULL;
    }
    k->head = next->next;
    if (!k->head) {
        k->tail = NULL;
    }
    next->next = NULL;
    return next;
}
