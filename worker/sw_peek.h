/* Reading a few top-level members of a JSON object that cannot be parsed whole — nested too
 * deep, too large to parse, or malformed after those members — so that a bad job can still be
 * answered under its job_id, with the operation, provider and account it named.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_PEEK_H
#define SW_PEEK_H

#include <stddef.h>

/* The text of one member's value (not validated: parse it before use); p is NULL when the member
 * was not seen. */
struct sw_peek_span {
    const char *p;
    size_t len;
};

/* Walk the top-level object in buf[0, len) without building it (no allocation, no recursion,
 * one pass) and note the value text of each member whose name is names[i] (the first occurrence,
 * as cJSON reads it) in out[i], for i < n. Keys are compared after unescaping. The walk stops at
 * the first syntax error: members seen before it are kept. Returns how many names were found. */
int sw_peek_members(const char *buf, size_t len, const char *const *names, struct sw_peek_span *out,
                    int n);

#endif
