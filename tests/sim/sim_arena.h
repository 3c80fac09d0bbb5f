/* A per-request bump allocator: expression values and bound records live here and are freed all at
 * once (or back to a mark) instead of one by one.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_ARENA_H
#define SIM_ARENA_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct sim_arena_chunk;
struct sim_arena_owned;

struct sim_arena {
    struct sim_arena_chunk *head;  /* newest chunk first */
    struct sim_arena_owned *owned; /* cJSON trees to delete on release */
};

/* A position to release back to (sim_arena_release). */
struct sim_arena_mark {
    struct sim_arena_chunk *head;
    size_t used;
    struct sim_arena_owned *owned;
};

/* n bytes, aligned for any object; NULL on OOM. */
void *sim_arena_alloc(struct sim_arena *a, size_t n);
/* A copy of len bytes of s plus a NUL; NULL on OOM. */
char *sim_arena_strndup(struct sim_arena *a, const char *s, size_t len);
char *sim_arena_printf(struct sim_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand a cJSON tree to the arena (deleted on release); returns j, or NULL (and deletes j) on OOM.
 */
cJSON *sim_arena_own(struct sim_arena *a, cJSON *j);

struct sim_arena_mark sim_arena_mark(const struct sim_arena *a);
/* Free everything allocated after m. */
void sim_arena_release(struct sim_arena *a, struct sim_arena_mark m);
/* Free everything. */
void sim_arena_free(struct sim_arena *a);

#endif
