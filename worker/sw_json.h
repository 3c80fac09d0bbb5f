/* Small cJSON helpers: bounded parsing, JSON pointers, typed getters.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Deepest nesting of objects/arrays in the bytes, found without parsing (strings are skipped),
 * so a hostile document is refused before cJSON recurses into it. */
int sw_json_depth(const char *s, size_t len);

/* Parse exactly len bytes; NULL when malformed, too deep, or with trailing garbage. On failure
 * errbuf says why and at which byte offset. */
cJSON *sw_json_parse(const char *s, size_t len, int max_depth, char *errbuf, size_t errlen);

/* Resolve an RFC 6901 pointer ("" is the whole document). NULL when absent. */
const cJSON *sw_json_pointer(const cJSON *root, const char *ptr);

/* String member or NULL (not a string, or absent). */
const char *sw_json_str(const cJSON *obj, const char *key);

/* True for absent, null. */
int sw_json_is_nullish(const cJSON *v);

/* Deep equality of two JSON values (numbers compared as doubles). */
int sw_json_equal(const cJSON *a, const cJSON *b);

/* Print unformatted; caller frees with cJSON_free. */
char *sw_json_print(const cJSON *v);

#endif
