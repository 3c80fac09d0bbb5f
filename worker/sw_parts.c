/* A list's unified items gathered into parts (see sw_run.h): each part holds at most
 * worker.part_items items (one with response_format stream) and stays under
 * limits.max_result_bytes with room for the envelope (and the debug facts); full parts are
 * emitted as the list goes, so memory stays flat however long the list is. Counts are of what
 * was emitted, and the run always knows where the first item not yet emitted is: a list that
 * fails part-way says so in its resume, and a job handed that resume continues exactly there.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_run.h"

#include <stdlib.h>
#include <string.h>

/* Room left in a result message for the envelope around the items. */
#define ENVELOPE_RESERVE 8192

/* response_format stream: every list item is a part of its own. */
static long long part_items_of(const struct sw_run *r)
{
    return r->job->format == SW_FMT_STREAM ? 1 : r->eng->lim.part_items;
}

void sw_parts_mark(struct sw_run *r, struct sw_resume *p, const char *cursor, long long skip)
{
    char *c = cursor ? strdup(cursor) : NULL;

    if (cursor && !c) {
        r->no_resume = 1;
    }
    free(p->cursor);
    p->cursor = c;
    p->skip_items = skip;
}

int sw_parts_flush(struct sw_run *r, int last)
{
    struct sw_part_info part;
    int rc;

    if (!r->part) {
        r->part = cJSON_CreateArray(); /* NULL on OOM: the emitter's fallback answers */
    }
    memset(&part, 0, sizeof(part));
    part.index = r->part_index++;
    part.items = (int)r->part_count;
    part.last = last;
    part.total_items = r->published_items + r->part_count;
    part.truncated = last && r->truncated;
    rc = sw_run_emit(r, r->part, &part, NULL, NULL);
    if (rc == 0) {
        r->published_items += r->part_count;
    } else {
        r->part_lost = 1;
    }
    cJSON_Delete(r->part);
    r->part = NULL;
    r->part_bytes = 0;
    r->part_count = 0;
    return rc;
}

void sw_parts_settle(struct sw_run *r)
{
    if (r->part_lost) {
        return; /* emitted_at stays where the last emitted part ended */
    }
    if (r->part && r->part_count > 0) {
        if (sw_parts_flush(r, 0) != 0) {
            return;
        }
    }
    sw_parts_mark(r, &r->emitted_at, r->taken_at.cursor, r->taken_at.skip_items);
}

/* Measure one item as it will be printed; 0 on out of memory. */
static size_t item_bytes(const cJSON *it)
{
    char *s = cJSON_PrintUnformatted(it);
    size_t n = s ? strlen(s) : 0;

    cJSON_free(s);
    return n;
}

/* Stop taking: the item at r->page_taken of this page is the first not taken. */
static int stop(struct sw_run *r, cJSON *it)
{
    cJSON_Delete(it);
    sw_parts_mark(r, &r->taken_at, r->cursor, r->page_taken);
    return -1;
}

int sw_parts_take(struct sw_run *r, cJSON *items, struct sw_status *st)
{
    const struct sw_exec_limits *lim = &r->eng->lim;
    /* The correlation is copied into every part (bounded to a quarter of the limit). */
    size_t reserve = ENVELOPE_RESERVE + sw_debug_budget(r) * 3 / 2 + r->job->correlation_bytes;
    size_t cap = lim->max_result_bytes > 2 * reserve ? lim->max_result_bytes - reserve
                                                     : lim->max_result_bytes / 2;
    cJSON *it;

    /* Detach from the head: constant time per item, so a page costs O(n). */
    while ((it = items ? items->child : NULL) != NULL) {
        size_t sz;

        cJSON_DetachItemViaPointer(items, it);
        if (r->skip > 0) {
            /* Delivered by the job this one resumes. */
            cJSON_Delete(it);
            r->skip--;
            r->page_taken++;
            continue;
        }
        if (r->job->max_items && r->total_items >= r->job->max_items) {
            cJSON_Delete(it);
            r->truncated = 1;
            return 0;
        }
        if (r->total_items >= lim->max_list_items) {
            sw_status_set(st, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                          "the list has more than limits.max_list_items (%lld) items",
                          lim->max_list_items);
            return stop(r, it);
        }
        sz = item_bytes(it);
        if (!sz) {
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return stop(r, it);
        }
        if (sz > cap) {
            sw_status_set(st, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                          "one item is %zu bytes, more than fits in limits.max_result_bytes", sz);
            return stop(r, it);
        }
        if (r->part && (r->part_bytes + sz + 1 > cap || r->part_count >= part_items_of(r))) {
            if (sw_parts_flush(r, 0) != 0) {
                if (r->emit_err.code) {
                    *st = r->emit_err;
                } else {
                    sw_status_set(st, SW_E_INTERNAL_ERROR, SW_CLASS_RETRY,
                                  "a result part could not be published");
                }
                return stop(r, it);
            }
            /* Everything before this item is out. */
            sw_parts_mark(r, &r->emitted_at, r->cursor, r->page_taken);
        }
        if (!r->part) {
            r->part = cJSON_CreateArray();
        }
        if (!r->part) {
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return stop(r, it);
        }
        cJSON_AddItemToArray(r->part, it);
        r->part_bytes += sz + 1;
        r->part_count++;
        r->total_items++;
        r->page_taken++;
    }
    return 0;
}
