/* Per-partition ledger of in-flight offsets: results finish out of order, but the committable
 * position only moves over a contiguous run of finished offsets, so a crash never skips a job.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_OFFSETS_H
#define SW_OFFSETS_H

#include "sw_order.h"

#include <stddef.h>
#include <stdint.h>

struct sw_offset_slot {
    int64_t offset;
    int done;
};

/* A ring of offsets in the order they were consumed (consumption order is offset order within a
 * partition; gaps from compaction or transaction markers are fine). */
struct sw_partition_ledger {
    char *topic;
    int32_t partition;
    struct sw_offset_slot *ring;
    size_t cap;
    size_t head;
    size_t len;
    int64_t committable; /* next offset to commit (last contiguous done + 1); -1 none yet */
    int paused;          /* this partition's own window is full */
    int eff_paused;      /* what librdkafka was last told (own window, global window or drain) */
    int revoking;        /* being handed over: its gate is no longer consulted */
    int64_t next_offset; /* last consumed + 1 in this assignment; -1 before the first */
    struct sw_order order;
};

struct sw_offsets {
    struct sw_partition_ledger *v;
    size_t n;
};

void sw_offsets_init(struct sw_offsets *o);
void sw_offsets_free(struct sw_offsets *o);

/* Find or create the ledger of a partition. NULL on allocation failure. */
struct sw_partition_ledger *sw_offsets_get(struct sw_offsets *o, const char *topic,
                                           int32_t partition, int create);
/* Forget a partition (revoked). */
void sw_offsets_drop(struct sw_offsets *o, const char *topic, int32_t partition);

/* Record a consumed offset as in flight. 0 on success. */
int sw_ledger_track(struct sw_partition_ledger *l, int64_t offset);
/* Mark an offset finished. Returns 1 when the committable position advanced, 0 when not, -1 when
 * the offset is not tracked. */
int sw_ledger_done(struct sw_partition_ledger *l, int64_t offset);
size_t sw_ledger_in_flight(const struct sw_partition_ledger *l);

#endif
