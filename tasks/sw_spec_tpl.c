/* References and templates of the spec adapter (see sw_spec.h): "{params.id}",
 * "{settings.dc|us1}", "params.list_id,settings.list_id" resolved against a job and its account,
 * rendered for a path, a header, a host or a body.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_json.h"
#include "sw_url.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Walk a dotted key ("workspace.id") through nested objects. */
static const cJSON *walk(const cJSON *o, const char *key)
{
    char part[128];

    while (o && *key) {
        size_t n = strcspn(key, ".");

        if (n == 0 || n >= sizeof(part)) {
            return NULL;
        }
        memcpy(part, key, n);
        part[n] = '\0';
        o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, part) : NULL;
        key += n + (key[n] == '.');
    }
    return o;
}

static int lookup_one(const char *ref, size_t len, const struct sw_account *acct,
                      const struct sw_job *job, struct sw_ref *out)
{
    char key[128];
    const char *dot = memchr(ref, '.', len);
    size_t klen;

    out->json = NULL;
    out->secret = NULL;
    if (!dot) {
        return -1;
    }
    klen = len - (size_t)(dot + 1 - ref);
    if (klen == 0 || klen >= sizeof(key)) {
        return -1;
    }
    memcpy(key, dot + 1, klen);
    key[klen] = '\0';
    if ((size_t)(dot - ref) == 6 && !strncmp(ref, "params", 6)) {
        out->json = job ? walk(job->params, key) : NULL;
    } else if ((size_t)(dot - ref) == 8 && !strncmp(ref, "settings", 8)) {
        out->json = acct ? walk(acct->settings, key) : NULL;
    } else if ((size_t)(dot - ref) == 11 && !strncmp(ref, "credentials", 11)) {
        out->secret = acct ? sw_account_cred(acct, key) : NULL;
    } else if ((size_t)(dot - ref) == 7 && !strncmp(ref, "options", 7)) {
        out->json = job ? walk(job->options, key) : NULL;
    } else {
        return -1;
    }
    return 0;
}

/* "a.x,b.y": the first alternative that has a (non-null) value wins, so a job parameter can fall
 * back to an account setting (Mailchimp params.list_id, else settings.list_id). */
int sw_ref_lookup(const char *ref, size_t len, const struct sw_account *acct,
                  const struct sw_job *job, struct sw_ref *out)
{
    const char *end = ref + len;

    for (;;) {
        const char *comma = memchr(ref, ',', (size_t)(end - ref));
        size_t n = (size_t)((comma ? comma : end) - ref);

        if (lookup_one(ref, n, acct, job, out)) {
            return -1;
        }
        if (out->secret || (out->json && !cJSON_IsNull(out->json)) || !comma) {
            return 0;
        }
        ref = comma + 1;
    }
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

int sw_ref_truthy(const char *ref, const struct sw_account *acct, const struct sw_job *job)
{
    struct sw_ref r;

    if (sw_ref_lookup(ref, strlen(ref), acct, job, &r)) {
        return 0;
    }
    return r.secret ? 1 : truthy(r.json);
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

static int path_value_ok(const char *s)
{
    return *s && strcmp(s, ".") && strcmp(s, "..");
}

static int host_value_ok(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.')) {
            return 0;
        }
    }
    return 1;
}

static int header_value_ok(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 && *s != '\t') {
            return 0;
        }
    }
    return 1;
}

/* Every alternative of a host reference is an account setting. */
static int host_ref_ok(const char *ref, size_t len)
{
    const char *end = ref + len;

    while (ref < end) {
        const char *comma = memchr(ref, ',', (size_t)(end - ref));

        if ((size_t)(end - ref) < 9 || strncmp(ref, "settings.", 9)) {
            return 0;
        }
        ref = comma ? comma + 1 : end;
    }
    return 1;
}

/* Expand "{scope.key|default}" references in tpl into out. *secret is set when a credential was
 * used, so the caller marks the header for redaction. */
sw_err_t sw_render(const char *tpl, enum sw_render_mode mode, const struct sw_account *acct,
                   const struct sw_job *job, struct sw_buf *out, int *secret, struct sw_status *st)
{
    const char *p = tpl;

    while (*p) {
        const char *open = strchr(p, '{');
        const char *close;
        const char *bar;
        struct sw_buf val;
        struct sw_ref r;
        size_t rlen;
        int rc;

        if (!open) {
            if (sw_buf_appends(out, p)) {
                goto too_long;
            }
            break;
        }
        if (sw_buf_append(out, p, (size_t)(open - p))) {
            goto too_long;
        }
        close = strchr(open, '}');
        if (!close) {
            return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                 "spec template \"%s\" has "
                                 "an unclosed '{'",
                                 tpl);
        }
        bar = memchr(open, '|', (size_t)(close - open));
        rlen = (size_t)((bar ? bar : close) - open - 1);
        if (mode == SW_R_HOST && !host_ref_ok(open + 1, rlen)) {
            /* Hosts come from the spec and the operator's account settings, never from a job. */
            return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                 "spec template \"%s\": a host may only use settings", tpl);
        }
        if (sw_ref_lookup(open + 1, rlen, acct, job, &r)) {
            return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                 "spec template \"%s\" has a bad reference", tpl);
        }
        sw_buf_init(&val, SW_SPEC_MAX_VALUE_BYTES);
        if (r.secret) {
            rc = sw_buf_appends(&val, r.secret);
            *secret = 1;
        } else if (r.json && !cJSON_IsNull(r.json)) {
            rc = sw_scalar_text(r.json, &val);
            if (rc && !val.overflow) {
                sw_buf_free(&val);
                return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                     "%.*s must be a string or a number", (int)rlen, open + 1);
            }
        } else if (bar) {
            rc = sw_buf_append(&val, bar + 1, (size_t)(close - bar - 1));
        } else {
            sw_buf_free(&val);
            if (!strncmp(open + 1, "credentials.", 12)) {
                return sw_status_set(st, SW_E_AUTH_FAILED, SW_CLASS_TERMINAL,
                                     "account %s has no credential \"%.*s\"",
                                     acct ? acct->name : "?", (int)(rlen - 12), open + 13);
            }
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "%.*s is required",
                                 (int)rlen, open + 1);
        }
        if (rc) {
            sw_buf_free(&val);
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "%.*s is longer than %d bytes", (int)rlen, open + 1,
                                 SW_SPEC_MAX_VALUE_BYTES);
        }
        if (!val.data) {
            sw_buf_appends(&val, "");
        }
        switch (mode) {
        case SW_R_PATH:
            if (!path_value_ok(val.data)) {
                sw_buf_free(&val);
                return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                     "%.*s must not be empty, \".\" or \"..\"", (int)rlen,
                                     open + 1);
            }
            rc = sw_url_encode(out, val.data);
            break;
        case SW_R_HOST:
            if (!host_value_ok(val.data)) {
                sw_buf_free(&val);
                return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                     "%.*s may hold only letters, digits, '-' and '.'", (int)rlen,
                                     open + 1);
            }
            rc = sw_buf_appends(out, val.data);
            break;
        case SW_R_HEADER:
            if (!header_value_ok(val.data)) {
                sw_buf_free(&val);
                return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                     "%.*s contains control characters", (int)rlen, open + 1);
            }
            /* fall through */
        case SW_R_PLAIN:
            rc = sw_buf_appends(out, val.data);
            break;
        }
        sw_buf_free(&val);
        if (rc) {
            goto too_long;
        }
        p = close + 1;
    }
    return SW_E_OK;
too_long:
    return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                         "the request built from \"%s\" is too long", tpl);
}

static cJSON *default_json(const char *text, size_t n)
{
    char buf[64];
    char *end;
    double d;

    if (n < sizeof(buf)) {
        memcpy(buf, text, n);
        buf[n] = '\0';
        if (!strcmp(buf, "true") || !strcmp(buf, "false")) {
            return cJSON_CreateBool(buf[0] == 't');
        }
        if (!strcmp(buf, "null")) {
            return cJSON_CreateNull();
        }
        d = strtod(buf, &end);
        if (n && end == buf + n) {
            return cJSON_CreateNumber(d);
        }
    }
    {
        char *s = malloc(n + 1);
        cJSON *v;

        if (!s) {
            return NULL;
        }
        memcpy(s, text, n);
        s[n] = '\0';
        v = cJSON_CreateString(s);
        free(s);
        return v;
    }
}

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

/* Build one body value from its template. A string that is exactly "{ref}" takes the referenced
 * JSON value with its type (objects such as params.definition pass through verbatim); an absent
 * reference without default omits the member (*out stays NULL). Other strings are rendered. */
sw_err_t sw_body_value(const cJSON *tpl, const struct sw_account *acct, const struct sw_job *job,
                       cJSON **out, struct sw_status *st)
{
    const cJSON *c;
    sw_err_t rc;

    *out = NULL;
    if (cJSON_IsString(tpl)) {
        const char *t = tpl->valuestring;
        size_t n = strlen(t);

        if (n > 2 && t[0] == '{' && t[n - 1] == '}' && !memchr(t + 1, '{', n - 2) &&
            !memchr(t + 1, '}', n - 2)) {
            const char *bar = memchr(t, '|', n);
            size_t rlen = (size_t)((bar ? bar : t + n - 1) - t - 1);
            const char *colon = memchr(t, ':', rlen + 1);
            struct sw_ref r;

            if (colon) {
                /* "{params.id:integer}": the API wants a number (Digital Audience segmentid). */
                if (strncmp(colon, ":integer", 8) || (size_t)(colon - t) + 8 != rlen + 1) {
                    return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                         "spec body template \"%s\": unknown cast", t);
                }
                rlen = (size_t)(colon - t - 1);
            }
            if (sw_ref_lookup(t + 1, rlen, acct, job, &r)) {
                return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                     "spec body template \"%s\" has a bad reference", t);
            }
            if (r.secret) {
                *out = cJSON_CreateString(r.secret);
            } else if (r.json && !cJSON_IsNull(r.json)) {
                *out = colon ? as_integer(r.json) : cJSON_Duplicate(r.json, 1);
                if (colon && !*out) {
                    return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                         "%.*s must be a whole number", (int)rlen, t + 1);
                }
            } else if (bar) {
                *out = default_json(bar + 1, (size_t)(t + n - 1 - bar - 1));
            } else {
                return SW_E_OK;
            }
        } else {
            struct sw_buf b;
            int secret = 0;

            sw_buf_init(&b, SW_SPEC_MAX_VALUE_BYTES);
            rc = sw_render(t, SW_R_PLAIN, acct, job, &b, &secret, st);
            if (!rc) {
                *out = cJSON_CreateString(b.data ? b.data : "");
            }
            sw_buf_free(&b);
            if (rc) {
                return rc;
            }
        }
    } else if (cJSON_IsObject(tpl) || cJSON_IsArray(tpl)) {
        *out = cJSON_IsObject(tpl) ? cJSON_CreateObject() : cJSON_CreateArray();
        cJSON_ArrayForEach(c, tpl)
        {
            cJSON *v = NULL;

            if (!*out) {
                break;
            }
            rc = sw_body_value(c, acct, job, &v, st);
            if (rc) {
                cJSON_Delete(*out);
                *out = NULL;
                return rc;
            }
            if (v && !(cJSON_IsObject(tpl) ? cJSON_AddItemToObject(*out, c->string, v)
                                           : cJSON_AddItemToArray(*out, v))) {
                cJSON_Delete(v);
                cJSON_Delete(*out);
                *out = NULL;
            }
        }
    } else {
        *out = cJSON_Duplicate(tpl, 1);
    }
    if (!*out) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    return SW_E_OK;
}

/* The operation's required references ("params.name", "params.id,settings.x") must be present. */
sw_err_t sw_check_required(const cJSON *op, const struct sw_account *acct, const struct sw_job *job,
                           struct sw_status *st)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(op, "required"))
    {
        struct sw_ref r;

        if (!cJSON_IsString(c) ||
            sw_ref_lookup(c->valuestring, strlen(c->valuestring), acct, job, &r)) {
            return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                 "spec: bad required reference");
        }
        if (!r.secret && (!r.json || cJSON_IsNull(r.json))) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "%s is required",
                                 c->valuestring);
        }
    }
    return SW_E_OK;
}
