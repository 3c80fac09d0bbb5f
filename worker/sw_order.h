/* Per-key ordering gate of one partition: at most one job per key runs; later jobs of the same
 * key wait in offset order behind it, while other keys go ahead. `ordering: partition` is the
 * same gate with one key for the whole partition.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_ORDER_H
#define SW_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* Embedded in what waits (intrusive, so the gate never allocates per job). */
struct sw_order_link {
    struct sw_order_link *next;
};

struct sw_order_key {
    void *key;
    size_t len;
    uint64_t hash;
    struct sw_order_link *head, *tail; /* waiting behind the running one */
};

/* Open addressing; a key is present while one of its jobs runs. */
struct sw_order {
    struct sw_order_key **tab;
    size_t cap, n;
};

void sw_order_init(struct sw_order *o);
/* Frees the gate; waiting links are not touched (their owner frees them). */
void sw_order_free(struct sw_order *o);

/* 1: the job may run now (it now holds the key); 0: it waits behind the running one; -1: out of
 * memory. */
int sw_order_admit(struct sw_order *o, const void *key, size_t len, struct sw_order_link *l);
/* The running job of key ended: returns the next waiting link, which now holds the key, or NULL
 * (the key is free). */
struct sw_order_link *sw_order_release(struct sw_order *o, const void *key, size_t len);
/* Keys currently held. */
size_t sw_order_keys(const struct sw_order *o);

#endif
