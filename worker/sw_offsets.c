/* Offset ledger (see sw_offsets.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_offsets.h"

#include <stdlib.h>
#include <string.h>

void sw_offsets_init(struct sw_offsets *o)
{
    o->v = NULL;
    o->n = 0;
}

static void ledger_free(struct sw_partition_ledger *l)
{
    free(l->topic);
    free(l->ring);
    sw_order_free(&l->order);
}

void sw_offsets_free(struct sw_offsets *o)
{
    size_t i;

    if (!o) {
        return;
    }
    for (i = 0; i < o->n; i++) {
        ledger_free(&o->v[i]);
    }
    free(o->v);
    sw_offsets_init(o);
}

struct sw_partition_ledger *sw_offsets_get(struct sw_offsets *o, const char *topic,
                                           int32_t partition, int create)
{
    struct sw_partition_ledger *nv;
    size_t i;

    for (i = 0; i < o->n; i++) {
        if (o->v[i].partition == partition && !strcmp(o->v[i].topic, topic)) {
            return &o->v[i];
        }
    }
    if (!create) {
        return NULL;
    }
    nv = realloc(o->v, (o->n + 1) * sizeof(*nv));
    if (!nv) {
        return NULL;
    }
    o->v = nv;
    memset(&nv[o->n], 0, sizeof(nv[o->n]));
    nv[o->n].topic = strdup(topic);
    if (!nv[o->n].topic) {
        return NULL;
    }
    nv[o->n].partition = partition;
    nv[o->n].committable = -1;
    nv[o->n].next_offset = -1;
    return &o->v[o->n++];
}

void sw_offsets_drop(struct sw_offsets *o, const char *topic, int32_t partition)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        if (o->v[i].partition == partition && !strcmp(o->v[i].topic, topic)) {
            ledger_free(&o->v[i]);
            o->v[i] = o->v[o->n - 1];
            o->n--;
            return;
        }
    }
}

int sw_ledger_track(struct sw_partition_ledger *l, int64_t offset)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct sw_offset_slot *nr = malloc(cap * sizeof(*nr));
        size_t i;

        if (!nr) {
            return -1;
        }
        for (i = 0; i < l->len; i++) {
            nr[i] = l->ring[(l->head + i) % l->cap];
        }
        free(l->ring);
        l->ring = nr;
        l->cap = cap;
        l->head = 0;
    }
    l->ring[(l->head + l->len) % l->cap].offset = offset;
    l->ring[(l->head + l->len) % l->cap].done = 0;
    l->len++;
    return 0;
}

int sw_ledger_done(struct sw_partition_ledger *l, int64_t offset)
{
    size_t i;
    int advanced = 0;
    int found = 0;

    /* In-flight windows are small (bounded by max_in_flight): a linear scan beats a map. */
    for (i = 0; i < l->len; i++) {
        struct sw_offset_slot *s = &l->ring[(l->head + i) % l->cap];

        if (s->offset == offset) {
            s->done = 1;
            found = 1;
            break;
        }
    }
    if (!found) {
        return -1;
    }
    while (l->len && l->ring[l->head].done) {
        l->committable = l->ring[l->head].offset + 1;
        l->head = (l->head + 1) % l->cap;
        l->len--;
        advanced = 1;
    }
    return advanced;
}

size_t sw_ledger_in_flight(const struct sw_partition_ledger *l)
{
    return l->len;
}
