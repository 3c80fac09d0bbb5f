/* JSON documents parsed into an arena: the same cJSON tree sw_json_parse gives (same nodes, the
 * same texts accepted and refused, the same error messages), carved from a few large blocks
 * instead of one malloc per node and string, and freed in one go.
 *
 * A job keeps its document for its whole run; a provider answer is parsed into the engine's one
 * scratch document, read by the mapping, and reset. The nodes are ordinary cJSON nodes for every
 * reader (cJSON_GetObjectItem, cJSON_ArrayForEach, ...), but they belong to the document: never
 * cJSON_Delete one, never attach a heap node to one.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_JDOC_H
#define SW_JDOC_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct sw_jdoc_chunk;

struct sw_jdoc {
    struct sw_jdoc_chunk *head; /* newest first; nodes and strings are carved from head */
    char *cur, *end;            /* the free room of head */
    size_t next_cap;            /* size of the next chunk, 0: as the first allocation asks */
};

/* An empty document whose first chunk will hold first bytes (0: as its first parse needs). */
void sw_jdoc_init(struct sw_jdoc *d, size_t first);
/* Frees every chunk; accepts NULL. */
void sw_jdoc_free(struct sw_jdoc *d);
/* Forget everything carved so far. One chunk of at most keep bytes is kept for the next
 * document, sized to what this one needed, so a steady stream of answers allocates nothing. */
void sw_jdoc_reset(struct sw_jdoc *d, size_t keep);
/* n zeroed bytes aligned for any object; NULL when out of memory. */
void *sw_jdoc_alloc(struct sw_jdoc *d, size_t n);

/* Parse exactly len bytes, as sw_json_parse does (depth limit, trailing data refused, errbuf
 * says why). Returns the root, or NULL: *nomem is set when memory ran out (errbuf says so),
 * else the text is not acceptable JSON. */
cJSON *sw_jdoc_parse(struct sw_jdoc *d, const char *s, size_t len, int max_depth, char *errbuf,
                     size_t errlen, int *nomem);

/* The fast parser alone: NULL for any text it refuses, without asking sw_json_parse. The tests
 * hold it to sw_json_parse (tests/fuzz/fuzz_json.c); the worker calls sw_jdoc_parse. */
cJSON *sw_jdoc_parse_fast(struct sw_jdoc *d, const char *s, size_t len, int max_depth, int *nomem);

/* An empty object in d (a default that readers can look keys up in); NULL when out of memory. */
cJSON *sw_jdoc_object(struct sw_jdoc *d);

#endif
