/* params.resume decoded with limits, and the resume object encoded (see sw_resume.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_resume.h"

#include "sw_params.h"
#include "sw_suggest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Counts beyond any list a worker could have delivered (limits.max_list_items is below). */
#define MAX_COUNT 1000000000000LL

static const char *const keys[] = {"cursor", "skip_items", "part_index", "items_delivered"};

void sw_resume_free(struct sw_resume *rs)
{
    if (!rs) {
        return;
    }
    free(rs->cursor);
    memset(rs, 0, sizeof(*rs));
}

static int bad(struct sw_status *st, const char *what)
{
    sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "params.resume%s", what);
    return -1;
}

static int count(const cJSON *o, const char *key, long long *out, struct sw_status *st)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!v) {
        *out = 0;
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > (double)MAX_COUNT) {
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "params.resume.%s must be an integer from 0 to %lld", key, MAX_COUNT);
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 0;
}

/* A cursor is text a provider gave: printable, bounded. */
static int printable(const char *s)
{
    size_t n = strlen(s);
    size_t i;

    if (n == 0 || n > SW_RESUME_MAX_CURSOR) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

int sw_resume_decode(const cJSON *v, struct sw_resume *out, struct sw_status *st)
{
    const cJSON *c;
    const cJSON *cur;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(v)) {
        return bad(st, " must be the resume object of a failed list's last result");
    }
    cJSON_ArrayForEach(c, v)
    {
        size_t i;
        const char *near;

        for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[i], c->string); i++) {
        }
        if (i < sizeof(keys) / sizeof(keys[0])) {
            continue;
        }
        near = sw_suggest_among(c->string, keys, sizeof(keys) / sizeof(keys[0]));
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "params.resume.%.64s is not part of a resume object%s%s%s", c->string,
                      near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
        return -1;
    }
    cur = cJSON_GetObjectItemCaseSensitive(v, "cursor");
    if (cur && !cJSON_IsNull(cur)) {
        if (!cJSON_IsString(cur) || !printable(cur->valuestring)) {
            return bad(st, ".cursor must be null or printable text of at most 8192 bytes");
        }
        out->cursor = strdup(cur->valuestring);
        if (!out->cursor) {
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return -1;
        }
    }
    if (count(v, "skip_items", &out->skip_items, st) ||
        count(v, "part_index", &out->part_index, st) ||
        count(v, "items_delivered", &out->items_delivered, st)) {
        return -1;
    }
    if (out->part_index > 0x3fffffff) {
        return bad(st, ".part_index is too large");
    }
    return 0;
}

cJSON *sw_resume_encode(const struct sw_resume *rs)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL;

    ok = ok && (rs->cursor ? cJSON_AddStringToObject(o, "cursor", rs->cursor) != NULL
                           : cJSON_AddNullToObject(o, "cursor") != NULL);
    ok = ok && cJSON_AddNumberToObject(o, "skip_items", (double)rs->skip_items) &&
         cJSON_AddNumberToObject(o, "part_index", (double)rs->part_index) &&
         cJSON_AddNumberToObject(o, "items_delivered", (double)rs->items_delivered);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
