/* JSON body templates of the spec adapter (see sw_spec.h): compiled once into a tree of
 * constants, whole references ("{params.definition}", "{params.id:integer}", "{ref|100}") and
 * string templates, and built into a request body per job.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A default ("|100", "|true") is JSON when it reads as a number, boolean or null, else a string,
 * so that body templates keep types. */
static int compile_default(struct sw_spec_arena *a, const char *text, size_t n,
                           struct sw_spec_body *b)
{
    char buf[64];
    char *end;

    if (n < sizeof(buf)) {
        memcpy(buf, text, n);
        buf[n] = '\0';
        if (!strcmp(buf, "true") || !strcmp(buf, "false")) {
            b->def = SW_DEF_BOOL;
            b->def_num = buf[0] == 't';
            return 0;
        }
        if (!strcmp(buf, "null")) {
            b->def = SW_DEF_NULL;
            return 0;
        }
        b->def_num = strtod(buf, &end);
        if (n && end == buf + n) {
            b->def = SW_DEF_NUMBER;
            return 0;
        }
    }
    b->def = SW_DEF_STRING;
    b->def_text = sw_spec_arena_strndup(a, text, n);
    return b->def_text ? 0 : -1;
}

/* A string that is exactly "{ref}" (no other brace inside) takes the referenced value. */
static int whole_ref(const char *t, size_t n)
{
    return n > 2 && t[0] == '{' && t[n - 1] == '}' && !memchr(t + 1, '{', n - 2) &&
           !memchr(t + 1, '}', n - 2);
}

static int compile_ref(const struct sw_spec_cc *cc, const char *t, const char *field,
                       struct sw_spec_body *b)
{
    struct sw_spec_arena *a = &cc->spec->arena;
    size_t n = strlen(t);
    const char *bar = memchr(t, '|', n);
    size_t rlen = (size_t)((bar ? bar : t + n - 1) - t - 1);
    const char *colon = memchr(t, ':', rlen + 1);
    sw_spec_why why;

    b->kind = SW_BODY_REF;
    if (colon) {
        if (strncmp(colon, ":integer", 8) || (size_t)(colon - t) + 8 != rlen + 1) {
            return sw_spec_cc_fail(cc, field, "\"%s\" has an unknown cast (only :integer)", t);
        }
        b->integer = 1;
        rlen = (size_t)(colon - t - 1);
    }
    why = sw_spec_ref_parse(a, t + 1, rlen, 1, &b->ref);
    if (why) {
        return sw_spec_cc_why(cc, field, t, why);
    }
    if (bar && compile_default(a, bar + 1, (size_t)(t + n - 1 - bar - 1), b)) {
        return sw_spec_cc_why(cc, field, t, sw_spec_why_nomem);
    }
    return 0;
}

int sw_spec_body_compile(const struct sw_spec_cc *cc, const cJSON *v, const char *field,
                         struct sw_spec_body *out)
{
    struct sw_spec_body *kids;
    const cJSON *c;

    memset(out, 0, sizeof(*out));
    out->name = v->string;
    if (cJSON_IsString(v)) {
        if (whole_ref(v->valuestring, strlen(v->valuestring))) {
            return compile_ref(cc, v->valuestring, field, out);
        }
        out->kind = SW_BODY_TEMPLATE;
        return sw_spec_cc_why(
            cc, field, v->valuestring,
            sw_spec_tpl_parse(&cc->spec->arena, v->valuestring, SW_R_PLAIN, &out->tpl));
    }
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v)) {
        out->kind = SW_BODY_LITERAL;
        out->literal = v;
        return 0;
    }
    out->kind = cJSON_IsObject(v) ? SW_BODY_OBJECT : SW_BODY_ARRAY;
    kids = sw_spec_cc_room(cc, v, out->kind == SW_BODY_OBJECT, sizeof(*kids), field, "");
    if (!kids) {
        return -1;
    }
    cJSON_ArrayForEach(c, v)
    {
        char sub[160];

        if (out->kind == SW_BODY_OBJECT) {
            snprintf(sub, sizeof(sub), "%s.%s", field, c->string);
        } else {
            snprintf(sub, sizeof(sub), "%s[%d]", field, out->nkids);
        }
        if (sw_spec_body_compile(cc, c, sub, &kids[out->nkids])) {
            return -1;
        }
        out->nkids++;
    }
    out->kids = kids;
    return 0;
}

/* ---- building ---- */

static cJSON *as_integer(const cJSON *v)
{
    char *end;
    double d;

    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring[0] &&
               strspn(v->valuestring, "0123456789-") == strlen(v->valuestring)) {
        d = strtod(v->valuestring, &end);
        if (*end) {
            return NULL;
        }
    } else {
        return NULL;
    }
    return d == floor(d) && fabs(d) < 9.0e15 ? cJSON_CreateNumber(d) : NULL;
}

static cJSON *default_value(const struct sw_spec_body *b)
{
    switch (b->def) {
    case SW_DEF_BOOL:
        return cJSON_CreateBool(b->def_num != 0);
    case SW_DEF_NULL:
        return cJSON_CreateNull();
    case SW_DEF_NUMBER:
        return cJSON_CreateNumber(b->def_num);
    case SW_DEF_STRING:
        return cJSON_CreateString(b->def_text);
    case SW_DEF_NONE:
        break;
    }
    return NULL;
}

/* The referenced JSON value with its type (objects such as params.definition pass through
 * verbatim); an absent reference without default omits the member (*out stays NULL). */
static sw_err_t ref_value(const struct sw_spec_body *b, const struct sw_account *acct,
                          const struct sw_job *job, cJSON **out, struct sw_status *st)
{
    struct sw_ref r;
    int rc = sw_spec_ref_get(&b->ref, acct, job, &r);

    if (rc) {
        return sw_spec_ref_fail(&b->ref, rc, &r, acct, "spec body template", st);
    }
    if (r.secret) {
        *out = cJSON_CreateString(r.secret);
    } else if (r.json && !cJSON_IsNull(r.json)) {
        *out = b->integer ? as_integer(r.json) : cJSON_Duplicate(r.json, 1);
        if (b->integer && !*out) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "%s must be a whole number", b->ref.text);
        }
    } else if (b->def != SW_DEF_NONE) {
        *out = default_value(b);
    } else {
        return SW_E_OK;
    }
    return *out ? SW_E_OK : sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
}

sw_err_t sw_spec_body_value(const struct sw_spec_body *b, const struct sw_account *acct,
                            const struct sw_job *job, cJSON **out, struct sw_status *st)
{
    sw_err_t rc;
    int i;

    *out = NULL;
    switch (b->kind) {
    case SW_BODY_REF:
        return ref_value(b, acct, job, out, st);
    case SW_BODY_TEMPLATE: {
        struct sw_buf buf;
        int secret = 0;

        sw_buf_init(&buf, SW_SPEC_MAX_VALUE_BYTES);
        rc = sw_spec_render(&b->tpl, SW_R_PLAIN, acct, job, &buf, &secret, st);
        if (!rc) {
            *out = cJSON_CreateString(buf.data ? buf.data : "");
        }
        sw_buf_free(&buf);
        if (rc) {
            return rc;
        }
        break;
    }
    case SW_BODY_OBJECT:
    case SW_BODY_ARRAY:
        *out = b->kind == SW_BODY_OBJECT ? cJSON_CreateObject() : cJSON_CreateArray();
        for (i = 0; *out && i < b->nkids; i++) {
            const struct sw_spec_body *k = &b->kids[i];
            cJSON *v = NULL;

            rc = sw_spec_body_value(k, acct, job, &v, st);
            if (rc) {
                cJSON_Delete(*out);
                *out = NULL;
                return rc;
            }
            if (v && !(b->kind == SW_BODY_OBJECT ? cJSON_AddItemToObject(*out, k->name, v)
                                                 : cJSON_AddItemToArray(*out, v))) {
                cJSON_Delete(v);
                cJSON_Delete(*out);
                *out = NULL;
            }
        }
        break;
    case SW_BODY_LITERAL:
        *out = cJSON_Duplicate(b->literal, 1);
        break;
    }
    if (!*out) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    return SW_E_OK;
}
