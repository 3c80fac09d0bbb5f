/* A list's unified items gathered into parts (see sw_run.h): each part holds at most
 * worker.part_items items (one with response_format stream) and stays under
 * limits.max_result_bytes with room for the envelope; full parts are emitted as the list goes,
 * so memory stays flat however long the list is.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_run.h"

#include <string.h>

/* Room left in a result message for the envelope around the items. */
#define ENVELOPE_RESERVE 8192

/* response_format stream: every list item is a part of its own. */
static long long part_items_of(const struct sw_run *r)
{
    return r->job->format == SW_FMT_STREAM ? 1 : r->eng->lim.part_items;
}

int sw_parts_flush(struct sw_run *r, int last)
{
    struct sw_part_info part;
    int rc;

    if (!r->part) {
        r->part = cJSON_CreateArray(); /* NULL on OOM: the emitter's fallback answers */
    }
    part.index = r->part_index++;
    part.items = (int)r->part_count;
    part.last = last;
    part.total_items = r->total_items;
    part.truncated = last && r->truncated;
    rc = sw_run_emit(r, r->part, &part, NULL, NULL);
    cJSON_Delete(r->part);
    r->part = NULL;
    r->part_bytes = 0;
    r->part_count = 0;
    return rc;
}

/* Measure one item as it will be printed; 0 on out of memory. */
static size_t item_bytes(const cJSON *it)
{
    char *s = cJSON_PrintUnformatted(it);
    size_t n = s ? strlen(s) : 0;

    cJSON_free(s);
    return n;
}

int sw_parts_take(struct sw_run *r, cJSON *items, struct sw_status *st)
{
    const struct sw_exec_limits *lim = &r->eng->lim;
    /* The correlation is copied into every part (bounded to a quarter of the limit). */
    size_t corr = r->job->correlation_bytes;
    size_t room =
        corr < lim->max_result_bytes / 2 ? lim->max_result_bytes - corr : lim->max_result_bytes / 2;
    size_t cap = room > ENVELOPE_RESERVE ? room - ENVELOPE_RESERVE : room / 2;
    cJSON *it;

    /* Detach from the head: constant time per item, so a page costs O(n). */
    while ((it = items ? items->child : NULL) != NULL) {
        size_t sz;

        cJSON_DetachItemViaPointer(items, it);
        if (r->job->max_items && r->total_items >= r->job->max_items) {
            cJSON_Delete(it);
            r->truncated = 1;
            return 0;
        }
        if (r->total_items >= lim->max_list_items) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                          "the list has more than limits.max_list_items (%lld) items",
                          lim->max_list_items);
            return -1;
        }
        sz = item_bytes(it);
        if (!sz) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return -1;
        }
        if (sz > cap) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                          "one item is %zu bytes, more than fits in limits.max_result_bytes", sz);
            return -1;
        }
        if (r->part && (r->part_bytes + sz + 1 > cap || r->part_count >= part_items_of(r)) &&
            sw_parts_flush(r, 0) != 0) {
            cJSON_Delete(it);
            if (r->emit_err.code) {
                *st = r->emit_err;
            } else {
                sw_status_set(st, SW_E_INTERNAL_ERROR, SW_CLASS_RETRY,
                              "a result part could not be published");
            }
            return -1;
        }
        if (!r->part) {
            r->part = cJSON_CreateArray();
        }
        if (!r->part) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return -1;
        }
        cJSON_AddItemToArray(r->part, it);
        r->part_bytes += sz + 1;
        r->part_count++;
        r->total_items++;
    }
    return 0;
}
