/* Building requests in the spec adapter (see sw_spec.h): origin and path, query (the spec's, the
 * page position's, the job's remote_query), JSON body, authentication and headers; for an
 * operation, a next page, or the session login.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_json.h"
#include "sw_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sw_err_t add_exploded(const char *name, const cJSON *arr, struct sw_buf *url,
                             struct sw_status *st)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, arr)
    {
        struct sw_buf v;
        int bad;

        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        bad = cJSON_IsArray(c) || sw_scalar_text(c, &v) ||
              sw_url_add_query(url, name, v.data ? v.data : "");
        sw_buf_free(&v);
        if (bad) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "%s: a value is not a scalar or the URL is too long", name);
        }
    }
    return SW_E_OK;
}

static sw_err_t add_query(const cJSON *q, const struct sw_account *acct, const struct sw_job *job,
                          struct sw_buf *url, struct sw_status *st)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, q)
    {
        const char *name = sw_json_str(e, "name");
        const char *from = sw_json_str(e, "from");
        const char *value = sw_json_str(e, "value");
        const char *cond = sw_json_str(e, "if");
        struct sw_buf v;
        int secret = 0;
        sw_err_t rc = SW_E_OK;

        if (!name || (cond && !sw_ref_truthy(cond, acct, job))) {
            continue;
        }
        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        if (from) {
            struct sw_ref r;

            if (sw_ref_lookup(from, strlen(from), acct, job, &r)) {
                sw_buf_free(&v);
                return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                     "spec query %s: bad reference %s", name, from);
            }
            if (!r.json || cJSON_IsNull(r.json)) {
                sw_buf_free(&v);
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "required"))) {
                    return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                         "%s is required", from);
                }
                continue;
            }
            if (cJSON_IsArray(r.json) &&
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "explode"))) {
                /* One name=value pair per element (Truto's truto_exclude_fields[]=a&...=b). */
                sw_buf_free(&v);
                rc = add_exploded(name, r.json, url, st);
                if (rc) {
                    return rc;
                }
                continue;
            }
            if (sw_scalar_text(r.json, &v)) {
                sw_buf_free(&v);
                return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                     "%s must be a string, number, boolean or array of them", from);
            }
        } else if (value) {
            rc = sw_render(value, SW_R_PLAIN, acct, job, &v, &secret, st);
        }
        if (!rc && sw_url_add_query(url, name, v.data ? v.data : "")) {
            rc = sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                               "the request URL is longer than %d bytes", SW_SPEC_MAX_URL_BYTES);
        }
        sw_buf_free(&v);
        if (rc) {
            return rc;
        }
    }
    return SW_E_OK;
}

/* options.remote_query goes to the provider as it is, or, when the spec names a wrapper (Truto),
 * as wrapper[key]=value so that Truto hands it on to the provider behind it. */
static sw_err_t add_remote_query(const struct sw_spec *spec, const struct sw_job *job,
                                 struct sw_buf *url, struct sw_status *st)
{
    const char *wrap =
        sw_json_str(cJSON_GetObjectItemCaseSensitive(spec->doc, "remote_query"), "wrap");
    const cJSON *c;

    cJSON_ArrayForEach(c, job->remote_query)
    {
        struct sw_buf v;
        char name[256];
        int rc;

        if (wrap) {
            snprintf(name, sizeof(name), "%s[%s]", wrap, c->string);
        } else {
            snprintf(name, sizeof(name), "%s", c->string);
        }
        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        rc = strlen(c->string) > 200 || sw_scalar_text(c, &v) ||
             sw_url_add_query(url, name, v.data ? v.data : "");
        sw_buf_free(&v);
        if (rc) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                 "options.remote_query.%s is too long or not a scalar", c->string);
        }
    }
    return SW_E_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int base64(struct sw_buf *out, const unsigned char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < n ? b64[v >> 6 & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '='};

        if (sw_buf_append(out, q, 4)) {
            return -1;
        }
    }
    return 0;
}

static sw_err_t add_auth(const cJSON *auth, const struct sw_account *acct, const struct sw_job *job,
                         struct sw_http_req *req, struct sw_status *st)
{
    const char *header = sw_json_str(auth, "header");
    const char *value = sw_json_str(auth, "value");
    const cJSON *basic = cJSON_GetObjectItemCaseSensitive(auth, "basic");
    struct sw_buf v;
    int secret = 0;
    sw_err_t rc = SW_E_OK;

    if (!auth) {
        return SW_E_OK;
    }
    sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
    if (basic) {
        struct sw_buf up;

        sw_buf_init(&up, SW_SPEC_MAX_VALUE_BYTES);
        rc = sw_render(sw_json_str(basic, "username") ? sw_json_str(basic, "username") : "",
                       SW_R_HEADER, acct, job, &up, &secret, st);
        if (!rc && sw_buf_appends(&up, ":")) {
            rc = SW_E_INVALID_PARAMS;
        }
        if (!rc) {
            rc = sw_render(sw_json_str(basic, "password") ? sw_json_str(basic, "password") : "",
                           SW_R_HEADER, acct, job, &up, &secret, st);
        }
        if (!rc && (sw_buf_appends(&v, "Basic ") ||
                    base64(&v, (const unsigned char *)(up.data ? up.data : ""), up.len))) {
            rc = sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "credential too long");
        }
        if (up.data) {
            memset(up.data, 0, up.len);
        }
        sw_buf_free(&up);
        header = "Authorization";
        secret = 1;
    } else if (header && value) {
        rc = sw_render(value, SW_R_HEADER, acct, job, &v, &secret, st);
    }
    if (!rc && v.data && sw_http_headers_add(&req->headers, header, v.data, 1)) {
        rc = sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    if (v.data) {
        memset(v.data, 0, v.len);
    }
    sw_buf_free(&v);
    return rc;
}

/* A template default ("|100", "|true") as JSON when it reads as a number, boolean or null, else
 * as a string, so that body templates keep types. */
static const char *pag_style(const cJSON *op)
{
    const char *s = sw_json_str(cJSON_GetObjectItemCaseSensitive(op, "pagination"), "style");

    return s ? s : "none";
}

/* A page token we made ourselves (offset or page number): digits only. */
static int numeric_token(const char *t)
{
    size_t n = strspn(t, "0123456789");

    return n > 0 && n < 16 && !t[n];
}

/* The JSON body of a write (or of a search that pages in its body). */
static sw_err_t add_body(const cJSON *op, const struct sw_account *acct, const struct sw_job *job,
                         const char *token, struct sw_http_req *req, struct sw_status *st)
{
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(op, "body");
    const cJSON *pag = cJSON_GetObjectItemCaseSensitive(op, "pagination");
    const char *ctype = sw_json_str(op, "content_type");
    cJSON *body = NULL;
    sw_err_t rc;

    if (!tpl) {
        return SW_E_OK;
    }
    rc = sw_body_value(tpl, acct, job, &body, st);
    if (rc) {
        return rc;
    }
    if (!strcmp(pag_style(op), "body_offset") && cJSON_IsObject(body)) {
        const char *field = sw_json_str(pag, "param");

        if (field) {
            cJSON_DeleteItemFromObjectCaseSensitive(body, field);
            if (!cJSON_AddNumberToObject(body, field, token ? strtod(token, NULL) : 0)) {
                cJSON_Delete(body);
                return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            }
        }
    }
    req->body = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!req->body) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    req->body_len = strlen(req->body);
    if (sw_http_headers_add(&req->headers, "Content-Type", ctype ? ctype : "application/json", 0)) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    return SW_E_OK;
}

/* Query parameters of offset, page and cursor pagination: the page size and the position (the
 * first page's position, or the token the previous page produced). */
static sw_err_t add_page_query(const cJSON *op, const struct sw_account *acct,
                               const struct sw_job *job, const char *token, struct sw_buf *url,
                               struct sw_status *st)
{
    const cJSON *pag = cJSON_GetObjectItemCaseSensitive(op, "pagination");
    const char *style = pag_style(op);
    const char *param = sw_json_str(pag, "param");
    const char *lparam = sw_json_str(pag, "limit_param");
    const char *limit = sw_json_str(pag, "limit");
    const char *first = sw_json_str(pag, "first");
    int offsetish = !strcmp(style, "offset") || !strcmp(style, "page");
    sw_err_t rc = SW_E_OK;

    if (!offsetish && strcmp(style, "cursor")) {
        return SW_E_OK;
    }
    if (lparam && limit) {
        struct sw_buf v;
        int secret = 0;

        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        rc = sw_render(limit, SW_R_PLAIN, acct, job, &v, &secret, st);
        if (!rc && sw_url_add_query(url, lparam, v.data ? v.data : "")) {
            rc = sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "URL too long");
        }
        sw_buf_free(&v);
        if (rc) {
            return rc;
        }
    }
    if (token && offsetish && !numeric_token(token)) {
        return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                             "page position \"%.32s\" is not a number", token);
    }
    if (!token) {
        token = offsetish ? first : NULL;
    }
    if (param && token && sw_url_add_query(url, param, token)) {
        return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "URL too long");
    }
    return SW_E_OK;
}

/* The spec's origin: base_url, or one of base_urls chosen by an account setting (Customer.io's
 * region). An unknown value is the operator's mistake, named in the error. */
static const char *spec_origin(const struct sw_spec *spec, const struct sw_account *acct,
                               struct sw_status *st)
{
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(spec->doc, "base_url_by");
    const char *setting = sw_json_str(by, "setting");
    const cJSON *v;
    const char *key;
    const char *url;

    if (!by || !setting) {
        return spec->base_url;
    }
    v = acct ? cJSON_GetObjectItemCaseSensitive(acct->settings, setting) : NULL;
    key = cJSON_IsString(v) ? v->valuestring : sw_json_str(by, "default");
    url = key ? sw_json_str(cJSON_GetObjectItemCaseSensitive(by, "values"), key) : NULL;
    if (!url) {
        sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                      "account %s: settings.%s has no known value for provider %s",
                      acct ? acct->name : "?", setting, spec->name);
    }
    return url;
}

static sw_err_t build(const struct sw_spec *spec, const cJSON *op, int idempotent,
                      const struct sw_account *acct, const struct sw_job *job, const char *next_url,
                      int login, struct sw_http_req *req, struct sw_status *st);

sw_err_t sw_spec_build(const struct sw_spec *spec, const struct sw_spec_variant *var,
                       const struct sw_account *acct, const struct sw_job *job, const char *cursor,
                       struct sw_http_req *req, struct sw_status *st)
{
    return build(spec, var->desc, var->op.idempotent, acct, job, cursor, 0, req, st);
}

sw_err_t sw_spec_build_login(const struct sw_spec *spec, const struct sw_account *acct,
                             const struct sw_job *job, struct sw_http_req *req,
                             struct sw_status *st)
{
    const cJSON *login = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(spec->doc, "session"), "login");

    if (!login) {
        sw_http_req_init(req);
        return sw_status_set(st, SW_E_AUTH_FAILED, SW_CLASS_TERMINAL,
                             "provider %s has no login call", spec->name);
    }
    return build(spec, login, sw_spec_idempotent(login), acct, job, NULL, 1, req, st);
}

/* The request for an operation, a next page (next_url) or the session login (login: no job
 * options such as remote_query reach it). */
static sw_err_t build(const struct sw_spec *spec, const cJSON *op, int idempotent,
                      const struct sw_account *acct, const struct sw_job *job, const char *next_url,
                      int login, struct sw_http_req *req, struct sw_status *st)
{
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(spec->doc, "headers");
    const cJSON *h;
    struct sw_buf base;
    struct sw_buf url;
    int secret = 0;
    sw_err_t rc;

    sw_http_req_init(req);
    sw_buf_init(&base, SW_SPEC_MAX_URL_BYTES);
    sw_buf_init(&url, SW_SPEC_MAX_URL_BYTES);
    snprintf(req->method, sizeof(req->method), "%s", sw_json_str(op, "method"));
    req->idempotent = idempotent;
    /* The operator's base URL replaces the spec's origin; a job can never choose a host. */
    {
        const char *origin = acct && acct->base_url ? acct->base_url : spec_origin(spec, acct, st);

        rc = origin ? sw_render(origin, SW_R_HOST, acct, job, &base, &secret, st) : st->code;
    }
    if (rc) {
        goto out;
    }
    rc = sw_check_required(op, acct, job, st);
    if (rc) {
        goto out;
    }
    if (next_url && !strcmp(pag_style(op), "next_url")) {
        char *u = NULL;

        rc = sw_url_rebase(base.data, next_url, &u, st);
        if (rc) {
            goto out;
        }
        req->url = u;
    } else {
        if (sw_buf_appends(&url, base.data)) {
            rc = sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "URL too long");
            goto out;
        }
        rc = sw_render(sw_json_str(op, "path"), SW_R_PATH, acct, job, &url, &secret, st);
        if (!rc) {
            rc = add_query(cJSON_GetObjectItemCaseSensitive(op, "query"), acct, job, &url, st);
        }
        if (!rc) {
            rc = add_page_query(op, acct, job, next_url, &url, st);
        }
        if (!rc && !login) {
            rc = add_remote_query(spec, job, &url, st);
        }
        if (!rc) {
            rc = add_body(op, acct, job, next_url, req, st);
        }
        if (rc) {
            goto out;
        }
        req->url = sw_buf_steal(&url, NULL);
    }
    rc = add_auth(cJSON_GetObjectItemCaseSensitive(spec->doc, "auth"), acct, job, req, st);
    if (rc) {
        goto out;
    }
    cJSON_ArrayForEach(h, headers)
    {
        struct sw_buf v;

        if (!cJSON_IsString(h)) {
            continue;
        }
        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        secret = 0;
        rc = sw_render(h->valuestring, SW_R_HEADER, acct, job, &v, &secret, st);
        if (!rc && v.len && sw_http_headers_add(&req->headers, h->string, v.data, secret)) {
            rc = sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
        sw_buf_free(&v);
        if (rc) {
            goto out;
        }
    }
out:
    sw_buf_free(&base);
    sw_buf_free(&url);
    if (rc) {
        sw_http_req_free(req);
    }
    return rc;
}
