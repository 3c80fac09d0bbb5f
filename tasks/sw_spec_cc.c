/* The spec compiler's common parts (see sw_spec.h): the arena that holds a compiled spec, the
 * config_error reports that name the spec, the operation and the field, typed member readers,
 * and JSON pointers compiled into their tokens.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES 8192

const char sw_spec_why_nomem[] = "out of memory";

struct sw_spec_chunk {
    struct sw_spec_chunk *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

void sw_spec_arena_free(struct sw_spec_arena *a)
{
    struct sw_spec_chunk *c;

    if (!a) {
        return;
    }
    while ((c = a->head) != NULL) {
        a->head = c->next;
        free(c);
    }
}

void *sw_spec_arena_alloc(struct sw_spec_arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    struct sw_spec_chunk *c = a->head;
    void *p;

    n = n ? (n + align - 1) / align * align : align;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;

        /* calloc: the compiled structs rely on zeroed memory. */
        c = calloc(1, sizeof(*c) + cap);
        if (!c) {
            return NULL;
        }
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    p = (unsigned char *)c->data + c->used;
    c->used += n;
    return p;
}

char *sw_spec_arena_strndup(struct sw_spec_arena *a, const char *s, size_t n)
{
    char *d = sw_spec_arena_alloc(a, n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ---- reports ---- */

int sw_spec_cc_fail(const struct sw_spec_cc *cc, const char *field, const char *fmt, ...)
{
    const char *name = cc->spec->name ? cc->spec->name : "?";
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cc->op) {
        sw_status_set(cc->st, SW_E_CONFIG, SW_CLASS_FATAL, "spec %s: operation %s: %s: %s", name,
                      cc->op, field, msg);
    } else {
        sw_status_set(cc->st, SW_E_CONFIG, SW_CLASS_FATAL, "spec %s: %s: %s", name, field, msg);
    }
    return -1;
}

int sw_spec_cc_why(const struct sw_spec_cc *cc, const char *field, const char *text,
                   sw_spec_why why)
{
    if (!why) {
        return 0;
    }
    if (why == sw_spec_why_nomem) {
        sw_status_set(cc->st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
        return -1;
    }
    return sw_spec_cc_fail(cc, field, "\"%s\"%s", text, why);
}

int sw_spec_cc_str(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = NULL;
    if (!v) {
        return 0;
    }
    if (!cJSON_IsString(v)) {
        return sw_spec_cc_fail(cc, field, "must be a string");
    }
    *out = v->valuestring;
    return 0;
}

void *sw_spec_cc_room(const struct sw_spec_cc *cc, const cJSON *list, int object, size_t size,
                      const char *field, const char *must)
{
    void *room;

    if (object ? !cJSON_IsObject(list) : !cJSON_IsArray(list)) {
        sw_spec_cc_fail(cc, field, "%s", must);
        return NULL;
    }
    room = sw_spec_arena_alloc(&cc->spec->arena, (size_t)cJSON_GetArraySize(list) * size);
    if (!room) {
        sw_spec_cc_why(cc, field, "", sw_spec_why_nomem);
    }
    return room;
}

int sw_spec_cc_enum(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                    const char *field, const char *const *names, int n, const char *must, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    for (*out = 0; cJSON_IsString(v) && *out < n; (*out)++) {
        if (!strcmp(v->valuestring, names[*out])) {
            return 0;
        }
    }
    return sw_spec_cc_fail(cc, field, "%s", must);
}

/* ---- JSON pointers ---- */

sw_spec_why sw_spec_ptr_compile(struct sw_spec_arena *a, const char *text, struct sw_spec_ptr *out)
{
    struct sw_spec_tok *tok;
    const char *p = text;
    int n = 0;

    out->text = text;
    out->tok = NULL;
    out->ntok = 0;
    if (!*text) {
        return NULL;
    }
    if (*text != '/') {
        return " is not a JSON pointer (\"\" or starting with '/')";
    }
    for (; *p; p++) {
        n += *p == '/';
    }
    tok = sw_spec_arena_alloc(a, (size_t)n * sizeof(*tok));
    if (!tok) {
        return sw_spec_why_nomem;
    }
    for (p = text; *p == '/'; out->ntok++) {
        struct sw_spec_tok *t = &tok[out->ntok];
        size_t len = strcspn(++p, "/");
        char *key = sw_spec_arena_alloc(a, len + 1);
        size_t i;
        size_t k = 0;
        char *end;
        long idx;

        if (!key) {
            return sw_spec_why_nomem;
        }
        for (i = 0; i < len; i++) {
            char c = p[i];

            if (c == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1')) {
                c = p[++i] == '0' ? '~' : '/';
            }
            key[k++] = c;
        }
        t->key = key;
        /* As an array index: decimal, whole, not negative (what strtol reads, as before). */
        idx = strtol(key, &end, 10);
        t->idx = k && !*end && idx >= 0 ? (int)idx : -1;
        p += len;
    }
    out->tok = tok;
    return NULL;
}

const cJSON *sw_spec_ptr_get(const struct sw_spec_ptr *p, const cJSON *root)
{
    const cJSON *cur = root;
    int i;

    if (!root || !p->text) {
        return NULL;
    }
    for (i = 0; cur && i < p->ntok; i++) {
        if (cJSON_IsArray(cur)) {
            if (p->tok[i].idx < 0) {
                return NULL;
            }
            cur = cJSON_GetArrayItem(cur, p->tok[i].idx);
        } else if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, p->tok[i].key);
        } else {
            return NULL;
        }
    }
    return cur;
}

int sw_spec_cc_ptr(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, struct sw_spec_ptr *out)
{
    const char *text;

    memset(out, 0, sizeof(*out));
    if (sw_spec_cc_str(cc, obj, key, field, &text)) {
        return -1;
    }
    return text ? sw_spec_cc_why(cc, field, text, sw_spec_ptr_compile(&cc->spec->arena, text, out))
                : 0;
}

int sw_spec_cc_ptrs(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                    const char *field, const struct sw_spec_ptr **out, int *n)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, key);
    struct sw_spec_ptr *v;
    const cJSON *c;

    *out = NULL;
    *n = 0;
    if (!list) {
        return 0;
    }
    v = sw_spec_cc_room(cc, list, 0, sizeof(*v), field, "must be a list of JSON pointers");
    if (!v) {
        return -1;
    }
    cJSON_ArrayForEach(c, list)
    {
        if (!cJSON_IsString(c)) {
            return sw_spec_cc_fail(cc, field, "must be a list of JSON pointers");
        }
        if (sw_spec_cc_why(cc, field, c->valuestring,
                           sw_spec_ptr_compile(&cc->spec->arena, c->valuestring, &v[*n]))) {
            return -1;
        }
        (*n)++;
    }
    *out = v;
    return 0;
}
