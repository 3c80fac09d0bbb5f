/* response_format normalized keeps every provider field: the fields no mapping of the model reads
 * (no unified field's pointer, rule or extra ends at or inside them) are added to
 * provider_fields under snake_case names, so nothing the provider sent is dropped because a spec
 * did not name it. A field a mapping reads part of is walked into; one it reads whole is not
 * repeated.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include <ctype.h>
#include <string.h>

#define MAX_DEPTH 8
#define MAX_NAME  128

enum touch { UNTOUCHED, READ_WHOLE, READ_INSIDE };

/* How pointer p relates to the member key under path (depth tokens). */
static enum touch touch_of(const struct sw_spec_ptr *p, const char *const *path, int depth,
                           const char *key)
{
    int i;

    if (!p->text || p->ntok <= depth) {
        return p->text && p->ntok == 0 ? READ_WHOLE : UNTOUCHED; /* "" reads the whole item */
    }
    for (i = 0; i < depth; i++) {
        if (strcmp(p->tok[i].key, path[i])) {
            return UNTOUCHED;
        }
    }
    if (strcmp(p->tok[depth].key, key)) {
        return UNTOUCHED;
    }
    return p->ntok == depth + 1 ? READ_WHOLE : READ_INSIDE;
}

static enum touch max_touch(enum touch a, enum touch b)
{
    return a == READ_WHOLE || b == READ_WHOLE ? READ_WHOLE : a == READ_INSIDE ? a : b;
}

static enum touch touch_model(const struct sw_spec_model *m, const char *const *path, int depth,
                              const char *key)
{
    enum touch t = UNTOUCHED;
    int i, k, c;

    for (i = 0; m && i < m->n && t != READ_WHOLE; i++) {
        const struct sw_spec_field *f = &m->f[i];

        for (k = 0; k < f->nfrom; k++) {
            t = max_touch(t, touch_of(&f->from[k], path, depth, key));
        }
        for (k = 0; k < f->nrules; k++) {
            for (c = 0; c < f->rules[k].ncond; c++) {
                t = max_touch(t, touch_of(&f->rules[k].cond[c].at, path, depth, key));
            }
        }
    }
    return t;
}

/* "createdAt" → "created_at", "page-size" → "page_size". */
static void snake(const char *s, char *out, size_t n)
{
    size_t o = 0;
    size_t i;

    for (i = 0; s[i] && o + 2 < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (isupper(c)) {
            if (i > 0 && (islower((unsigned char)s[i - 1]) || isdigit((unsigned char)s[i - 1]))) {
                out[o++] = '_';
            }
            out[o++] = (char)tolower(c);
        } else {
            out[o++] = c == '-' || c == ' ' || c == '.' ? '_' : (char)c;
        }
    }
    out[o] = '\0';
}

static int walk(const struct sw_spec_model *m, const cJSON *obj, const char **path, int depth,
                cJSON *pf)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, obj)
    {
        enum touch t = max_touch(touch_model(m, path, depth, c->string),
                                 touch_model(m->extras, path, depth, c->string));
        char name[MAX_NAME];

        if (t == READ_INSIDE && cJSON_IsObject(c) && depth + 1 < MAX_DEPTH) {
            path[depth] = c->string;
            if (walk(m, c, path, depth + 1, pf) != 0) {
                return -1;
            }
            continue;
        }
        if (t != UNTOUCHED) {
            continue;
        }
        snake(c->string, name, sizeof(name));
        if (!name[0] || cJSON_GetObjectItemCaseSensitive(pf, name)) {
            continue; /* an extra (or a shallower field) already has this name */
        }
        if (!cJSON_AddItemToObject(pf, name, cJSON_Duplicate(c, 1))) {
            return -1;
        }
    }
    return 0;
}

int sw_spec_unmapped(const struct sw_spec_model *m, const cJSON *item, cJSON *pf)
{
    const char *path[MAX_DEPTH];

    return walk(m, item, path, 0, pf);
}
