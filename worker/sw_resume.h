/* Where a list that failed part-way goes on: the resume object its failed last message carries
 * (the position of the first item not delivered and the next part's index), and params.resume,
 * which hands it back to a new job of the same list so that it continues there, numbering its
 * parts on. params.resume comes from a job, so its decoder bounds everything (and is fuzzed).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_RESUME_H
#define SW_RESUME_H

#include "sw_err.h"

#include <cjson/cJSON.h>

/* A page position as long as the longest URL a request may have. */
#define SW_RESUME_MAX_CURSOR 8192

struct sw_resume {
    char *cursor;              /* owned; the page position the provider gave (a next link, a
                                  cursor, an offset or a page number); NULL: the first page */
    long long skip_items;      /* items at the start of that page already delivered */
    long long part_index;      /* index of the next part */
    long long items_delivered; /* items in the parts delivered so far */
};

/* Frees what rs owns and zeroes it; accepts NULL. */
void sw_resume_free(struct sw_resume *rs);
/* Decode params.resume into out (zeroed first; the caller frees it, also on error). 0, or -1 with
 * st invalid_params. */
int sw_resume_decode(const cJSON *v, struct sw_resume *out, struct sw_status *st);
/* The resume object of a result message; NULL when out of memory. */
cJSON *sw_resume_encode(const struct sw_resume *rs);

#endif
