/* References of the spec adapter (see sw_spec.h): "params.id", "settings.dc",
 * "credentials.api_key", "params.list_id,settings.list_id", parsed once into scopes and key paths,
 * and resolved against a job and its account; and job values as text.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The longest key a reference may name (it always was: the interpreter's key buffer). */
#define MAX_KEY_BYTES 128

static const char bad_ref[] = " is not a reference (params.X, settings.X, credentials.X or "
                              "options.X; alternatives separated by commas)";

static const struct {
    const char *name;
    size_t len;
    enum sw_spec_scope scope;
} scopes[] = {
    {"params", 6, SW_SCOPE_PARAMS},
    {"settings", 8, SW_SCOPE_SETTINGS},
    {"credentials", 11, SW_SCOPE_CREDENTIALS},
    {"options", 7, SW_SCOPE_OPTIONS},
};

/* Split a dotted key ("workspace.id") in place into the keys to walk, the way the walk always
 * read it: a trailing dot is ignored, an empty part never resolves. */
static sw_spec_why split_path(struct sw_spec_arena *a, char *key, struct sw_spec_alt *alt)
{
    const char **path;
    char *k;
    int n = 0;

    for (k = key; *k;) {
        size_t len = strcspn(k, ".");

        if (len == 0) {
            alt->npath = -1;
            return NULL;
        }
        n++;
        k += len + (k[len] == '.');
    }
    path = sw_spec_arena_alloc(a, (size_t)n * sizeof(*path));
    if (!path) {
        return sw_spec_why_nomem;
    }
    for (k = key; *k;) {
        size_t len = strcspn(k, ".");

        path[alt->npath++] = k;
        if (k[len] == '.') {
            k[len] = '\0';
            len++;
        }
        k += len;
    }
    alt->path = path;
    return NULL;
}

static sw_spec_why parse_alt(struct sw_spec_arena *a, const char *s, size_t len,
                             struct sw_spec_alt *alt)
{
    const char *dot = memchr(s, '.', len);
    size_t klen;
    size_t i;
    char *key;

    if (!dot) {
        return bad_ref;
    }
    klen = len - (size_t)(dot + 1 - s);
    if (klen == 0 || klen >= MAX_KEY_BYTES) {
        return bad_ref;
    }
    for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
        if ((size_t)(dot - s) == scopes[i].len && !strncmp(s, scopes[i].name, scopes[i].len)) {
            break;
        }
    }
    if (i == sizeof(scopes) / sizeof(scopes[0])) {
        return bad_ref;
    }
    alt->scope = scopes[i].scope;
    alt->text = sw_spec_arena_strndup(a, s, len);
    key = sw_spec_arena_strndup(a, dot + 1, klen);
    if (!key || !alt->text) {
        return sw_spec_why_nomem;
    }
    alt->name = alt->text + (dot + 1 - s); /* key is split in place below; the name stays whole */
    alt->key = key;
    /* A credential's name is looked up whole; the other scopes are objects to walk into. */
    return alt->scope == SW_SCOPE_CREDENTIALS ? NULL : split_path(a, key, alt);
}

sw_spec_why sw_spec_ref_parse(struct sw_spec_arena *a, const char *s, size_t len, int strict,
                              struct sw_spec_ref *out)
{
    struct sw_spec_alt *alt;
    const char *end = s + len;
    const char *p;
    int n = 1;

    memset(out, 0, sizeof(*out));
    for (p = s; p < end; p++) {
        n += *p == ',';
    }
    alt = sw_spec_arena_alloc(a, (size_t)n * sizeof(*alt));
    out->text = sw_spec_arena_strndup(a, s, len);
    if (!alt || !out->text) {
        return sw_spec_why_nomem;
    }
    for (p = s;; out->nalt++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t alen = (size_t)((comma ? comma : end) - p);
        sw_spec_why why = parse_alt(a, p, alen, &alt[out->nalt]);

        if (why == sw_spec_why_nomem || (why && strict)) {
            return why;
        }
        if (why) {
            memset(&alt[out->nalt], 0, sizeof(alt[0]));
            alt[out->nalt].scope = SW_SCOPE_BAD;
        }
        if (!comma) {
            break;
        }
        p = comma + 1;
    }
    out->nalt++;
    out->alt = alt;
    return NULL;
}

int sw_spec_cc_ref(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, struct sw_spec_ref *out)
{
    const char *text;

    memset(out, 0, sizeof(*out));
    if (sw_spec_cc_str(cc, obj, key, field, &text)) {
        return -1;
    }
    return text ? sw_spec_cc_why(cc, field, text,
                                 sw_spec_ref_parse(&cc->spec->arena, text, strlen(text), 1, out))
                : 0;
}

/* ---- resolving ---- */

static const cJSON *walk(const cJSON *o, const struct sw_spec_alt *alt)
{
    int i;

    if (alt->npath < 0) {
        return NULL;
    }
    for (i = 0; o && i < alt->npath; i++) {
        o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, alt->path[i]) : NULL;
    }
    return o;
}

int sw_ref_present(const struct sw_ref *r)
{
    return r->secret || (r->json && !cJSON_IsNull(r->json));
}

/* Whether the account lets jobs set the parameter key ("list_id") although its settings define
 * it: settings.job_may_set lists it. */
static int job_may_set(const struct sw_account *acct, const char *key)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(acct->settings, SW_ACCOUNT_JOB_MAY_SET);
    const cJSON *c;

    cJSON_ArrayForEach(c, list)
    {
        if (cJSON_IsString(c) && !strcmp(c->valuestring, key)) {
            return 1;
        }
    }
    return 0;
}

/* The same value, as JSON or as the text a request would carry ("1000" and 1000). */
static int same_value(const cJSON *a, const cJSON *b)
{
    struct sw_buf ta, tb;
    int same;

    if (sw_json_equal(a, b)) {
        return 1;
    }
    sw_buf_init(&ta, SW_SPEC_MAX_VALUE_BYTES);
    sw_buf_init(&tb, SW_SPEC_MAX_VALUE_BYTES);
    same = !sw_scalar_text(a, &ta) && !sw_scalar_text(b, &tb) && ta.len == tb.len &&
           (!ta.len || !memcmp(ta.data, tb.data, ta.len));
    sw_buf_free(&ta);
    sw_buf_free(&tb);
    return same;
}

/* A job parameter (alternative i, value v) against the account settings later alternatives name:
 * the first of them the account defines owns the value. The owning setting, or NULL when the
 * job may use v. */
static const struct sw_spec_alt *overridden(const struct sw_spec_ref *r, int i, const cJSON *v,
                                            const struct sw_account *acct)
{
    int j;

    if (!acct) {
        return NULL;
    }
    for (j = i + 1; j < r->nalt; j++) {
        const struct sw_spec_alt *alt = &r->alt[j];
        const cJSON *own = alt->scope == SW_SCOPE_SETTINGS ? walk(acct->settings, alt) : NULL;

        if (own && !cJSON_IsNull(own)) {
            return same_value(v, own) || job_may_set(acct, r->alt[i].name) ? NULL : alt;
        }
    }
    return NULL;
}

int sw_spec_ref_get(const struct sw_spec_ref *r, const struct sw_account *acct,
                    const struct sw_job *job, struct sw_ref *out)
{
    int i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < r->nalt; i++) {
        const struct sw_spec_alt *alt = &r->alt[i];

        out->json = NULL;
        out->secret = NULL;
        switch (alt->scope) {
        case SW_SCOPE_PARAMS:
            out->json = job ? walk(job->params, alt) : NULL;
            break;
        case SW_SCOPE_SETTINGS:
            out->json = acct ? walk(acct->settings, alt) : NULL;
            break;
        case SW_SCOPE_CREDENTIALS:
            out->secret = acct ? sw_account_cred(acct, alt->key) : NULL;
            break;
        case SW_SCOPE_OPTIONS:
            out->json = job ? walk(job->options, alt) : NULL;
            break;
        case SW_SCOPE_BAD:
            return SW_REF_MALFORMED;
        }
        if (sw_ref_present(out)) {
            out->alt = alt;
            if (alt->scope == SW_SCOPE_PARAMS) {
                out->owner = overridden(r, i, out->json, acct);
            }
            return out->owner ? SW_REF_CROSSES : 0;
        }
    }
    return 0;
}

sw_err_t sw_spec_ref_fail(const struct sw_spec_ref *r, int rc, const struct sw_ref *v,
                          const struct sw_account *acct, const char *what, struct sw_status *st)
{
    if (rc == SW_REF_CROSSES) {
        return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                             "%s differs from %s of account %s, which the account decides (it "
                             "may list \"%s\" in settings.%s to let jobs set it)",
                             v->alt->text, v->owner->text, acct ? acct->name : "?", v->alt->name,
                             SW_ACCOUNT_JOB_MAY_SET);
    }
    return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL, "%s: bad reference %s", what, r->text);
}

static int truthy(const cJSON *v)
{
    if (cJSON_IsBool(v)) {
        return cJSON_IsTrue(v);
    }
    if (cJSON_IsString(v)) {
        return v->valuestring[0] != '\0';
    }
    if (cJSON_IsNumber(v)) {
        return v->valuedouble != 0;
    }
    return v && (cJSON_IsArray(v) || cJSON_IsObject(v));
}

int sw_spec_ref_truthy(const struct sw_spec_ref *r, const struct sw_account *acct,
                       const struct sw_job *job)
{
    struct sw_ref v;

    /* A value the job may not set is refused where it is used, not here. */
    if (sw_spec_ref_get(r, acct, job, &v) == SW_REF_MALFORMED) {
        return 0;
    }
    return v.secret ? 1 : truthy(v.json);
}

/* A scalar (or an array of scalars, comma-joined) as text. -1 for objects/nested arrays. */
int sw_scalar_text(const cJSON *v, struct sw_buf *out)
{
    const cJSON *c;
    int first = 1;

    if (cJSON_IsString(v)) {
        return sw_buf_appends(out, v->valuestring);
    }
    if (cJSON_IsBool(v)) {
        return sw_buf_appends(out, cJSON_IsTrue(v) ? "true" : "false");
    }
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.0e15) {
            return sw_buf_printf(out, "%.0f", v->valuedouble);
        }
        return sw_buf_printf(out, "%.17g", v->valuedouble);
    }
    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(c, v)
        {
            if (cJSON_IsArray(c) || cJSON_IsObject(c) || cJSON_IsNull(c)) {
                return -1;
            }
            if ((!first && sw_buf_appends(out, ",")) || sw_scalar_text(c, out)) {
                return -1;
            }
            first = 0;
        }
        return 0;
    }
    return -1;
}
