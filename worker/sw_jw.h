/* A JSON writer into a bounded, reusable buffer: results are written as text once, in the exact
 * bytes cJSON_PrintUnformatted would give for the same tree (same escapes, same numbers), without
 * building a tree first.
 *
 * Commas are the writer's: every value and key call adds the separator it needs. Errors are
 * sticky: after the first (the buffer's maximum passed, or memory ran out) every call is a no-op
 * and sw_jw_error() says which, so a caller writes a whole message and checks once.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_JW_H
#define SW_JW_H

#include "sw_buf.h"
#include "sw_err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

struct sw_jw {
    struct sw_buf b; /* the text so far (b.data, b.len); b.max bounds it */
    int comma;       /* the next key or value needs a ',' first */
    sw_err_t err;    /* SW_E_OK, SW_E_RESULT_TOO_LARGE (past b.max) or SW_E_NOMEM */
};

/* An empty writer whose text may grow to max bytes. */
void sw_jw_init(struct sw_jw *w, size_t max);
/* Frees the text; accepts NULL. */
void sw_jw_free(struct sw_jw *w);
/* Empty again (the memory is kept for the next message, unless it grew past keep bytes). */
void sw_jw_reset(struct sw_jw *w, size_t keep);

void sw_jw_obj(struct sw_jw *w);
void sw_jw_obj_end(struct sw_jw *w);
void sw_jw_arr(struct sw_jw *w);
void sw_jw_arr_end(struct sw_jw *w);
/* A member's name (escaped); its value follows. */
void sw_jw_key(struct sw_jw *w, const char *k);

void sw_jw_null(struct sw_jw *w);
void sw_jw_bool(struct sw_jw *w, int v);
void sw_jw_int(struct sw_jw *w, long long v);
/* A number as cJSON prints it (%1.15g, or %1.17g when that does not read back; null for NaN and
 * infinities). */
void sw_jw_num(struct sw_jw *w, double v);
/* A string (NULL: ""). */
void sw_jw_str(struct sw_jw *w, const char *s);
/* n bytes of s as a string (bytes past a NUL are written too). */
void sw_jw_strn(struct sw_jw *w, const char *s, size_t n);
/* A value that is already JSON text (n bytes), copied as it is. */
void sw_jw_raw(struct sw_jw *w, const char *json, size_t n);
/* A cJSON tree, byte for byte as cJSON_PrintUnformatted(v) (NULL: null). A tree cJSON cannot
 * print (an invalid node, a raw node without text) is SW_E_INTERNAL_ERROR. */
void sw_jw_cjson(struct sw_jw *w, const cJSON *v);

/* SW_E_OK, or the first error. */
static inline sw_err_t sw_jw_error(const struct sw_jw *w)
{
    return w->err;
}

#endif
