/* Building requests in the spec adapter (see sw_spec.h): origin and path, query (the spec's, the
 * page position's, the job's remote_query), JSON body, authentication and headers; for an
 * operation, a next page, or the session login.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

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

static sw_err_t add_query(const struct sw_spec_op *op, const struct sw_account *acct,
                          const struct sw_job *job, struct sw_buf *url, struct sw_status *st)
{
    int i;

    for (i = 0; i < op->nquery; i++) {
        const struct sw_spec_query *q = &op->query[i];
        struct sw_buf v;
        int secret = 0;
        sw_err_t rc = SW_E_OK;

        if (q->cond.nalt && !sw_spec_ref_truthy(&q->cond, acct, job)) {
            continue;
        }
        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        if (q->kind == SW_QUERY_FROM) {
            struct sw_ref r;

            if (sw_spec_ref_get(&q->from, acct, job, &r)) {
                sw_buf_free(&v);
                return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                     "spec query %s: bad reference %s", q->name, q->from.text);
            }
            if (!r.json || cJSON_IsNull(r.json)) {
                sw_buf_free(&v);
                if (q->required) {
                    return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                         "%s is required", q->from.text);
                }
                continue;
            }
            if (cJSON_IsArray(r.json) && q->explode) {
                /* One name=value pair per element (Truto's truto_exclude_fields[]=a&...=b). */
                sw_buf_free(&v);
                rc = add_exploded(q->name, r.json, url, st);
                if (rc) {
                    return rc;
                }
                continue;
            }
            if (sw_scalar_text(r.json, &v)) {
                sw_buf_free(&v);
                return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                                     "%s must be a string, number, boolean or array of them",
                                     q->from.text);
            }
        } else if (q->kind == SW_QUERY_VALUE) {
            rc = sw_spec_render(&q->value, SW_R_PLAIN, acct, job, &v, &secret, st);
        }
        if (!rc && sw_url_add_query(url, q->name, v.data ? v.data : "")) {
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
    const char *wrap = spec->remote_query_wrap;
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

static sw_err_t add_auth(const struct sw_spec_auth *auth, const struct sw_account *acct,
                         const struct sw_job *job, struct sw_http_req *req, struct sw_status *st)
{
    struct sw_buf v;
    int secret = 0;
    sw_err_t rc = SW_E_OK;

    if (auth->kind == SW_AUTH_NONE) {
        return SW_E_OK;
    }
    sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
    if (auth->kind == SW_AUTH_BASIC) {
        struct sw_buf up;

        sw_buf_init(&up, SW_SPEC_MAX_VALUE_BYTES);
        rc = sw_spec_render(&auth->username, SW_R_HEADER, acct, job, &up, &secret, st);
        if (!rc && sw_buf_appends(&up, ":")) {
            rc = sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "credential too long");
        }
        if (!rc) {
            rc = sw_spec_render(&auth->password, SW_R_HEADER, acct, job, &up, &secret, st);
        }
        if (!rc && (sw_buf_appends(&v, "Basic ") ||
                    base64(&v, (const unsigned char *)(up.data ? up.data : ""), up.len))) {
            rc = sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "credential too long");
        }
        if (up.data) {
            memset(up.data, 0, up.len);
        }
        sw_buf_free(&up);
    } else {
        rc = sw_spec_render(&auth->value, SW_R_HEADER, acct, job, &v, &secret, st);
    }
    if (!rc && v.data && sw_http_headers_add(&req->headers, auth->header, v.data, 1)) {
        rc = sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    if (v.data) {
        memset(v.data, 0, v.len);
    }
    sw_buf_free(&v);
    return rc;
}

/* A page token we made ourselves (offset or page number): digits only. */
static int numeric_token(const char *t)
{
    size_t n = strspn(t, "0123456789");

    return n > 0 && n < 16 && !t[n];
}

/* The JSON body of a write (or of a search that pages in its body). */
static sw_err_t add_body(const struct sw_spec_op *op, const struct sw_account *acct,
                         const struct sw_job *job, const char *token, struct sw_http_req *req,
                         struct sw_status *st)
{
    const char *field = op->pag.param;
    cJSON *body = NULL;
    sw_err_t rc;

    if (!op->body) {
        return SW_E_OK;
    }
    rc = sw_spec_body_value(op->body, acct, job, &body, st);
    if (rc) {
        return rc;
    }
    if (op->pag.style == SW_PAGING_BODY_OFFSET && cJSON_IsObject(body) && field) {
        cJSON_DeleteItemFromObjectCaseSensitive(body, field);
        if (!cJSON_AddNumberToObject(body, field, token ? strtod(token, NULL) : 0)) {
            cJSON_Delete(body);
            return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
    }
    req->body = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!req->body) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    req->body_len = strlen(req->body);
    if (sw_http_headers_add(&req->headers, "Content-Type",
                            op->content_type ? op->content_type : "application/json", 0)) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    return SW_E_OK;
}

/* Query parameters of offset, page and cursor pagination: the page size and the position (the
 * first page's position, or the token the previous page produced). */
static sw_err_t add_page_query(const struct sw_spec_paging *pag, const struct sw_account *acct,
                               const struct sw_job *job, const char *token, struct sw_buf *url,
                               struct sw_status *st)
{
    int offsetish = pag->style == SW_PAGING_OFFSET || pag->style == SW_PAGING_PAGE;
    sw_err_t rc = SW_E_OK;

    if (!offsetish && pag->style != SW_PAGING_CURSOR) {
        return SW_E_OK;
    }
    if (pag->limit_param && pag->has_limit) {
        struct sw_buf v;
        int secret = 0;

        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        rc = sw_spec_render(&pag->limit, SW_R_PLAIN, acct, job, &v, &secret, st);
        if (!rc && sw_url_add_query(url, pag->limit_param, v.data ? v.data : "")) {
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
        token = offsetish ? pag->first : NULL;
    }
    if (pag->param && token && sw_url_add_query(url, pag->param, token)) {
        return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "URL too long");
    }
    return SW_E_OK;
}

/* The spec's origin: base_url, or one of base_urls chosen by an account setting (Customer.io's
 * region). An unknown value is the operator's mistake, named in the error. */
static const struct sw_spec_tpl *spec_origin(const struct sw_spec *spec,
                                             const struct sw_account *acct, struct sw_status *st)
{
    const struct sw_spec_origin_by *by = &spec->base_url_by;
    const cJSON *v;
    const char *key;
    int i;

    if (!by->setting) {
        return &spec->base_url;
    }
    v = acct ? cJSON_GetObjectItemCaseSensitive(acct->settings, by->setting) : NULL;
    key = cJSON_IsString(v) ? v->valuestring : by->def;
    for (i = 0; key && i < by->n; i++) {
        if (!strcmp(by->v[i].key, key)) {
            return &by->v[i].url;
        }
    }
    sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL,
                  "account %s: settings.%s has no known value for provider %s",
                  acct ? acct->name : "?", by->setting, spec->name);
    return NULL;
}

/* The origin the request goes to, rendered into base. The operator's base URL replaces the
 * spec's origin; a job can never choose a host. */
sw_err_t sw_spec_origin(const struct sw_spec *spec, const struct sw_account *acct,
                        const struct sw_job *job, struct sw_buf *base, struct sw_status *st)
{
    const struct sw_spec_tpl *origin;
    int secret = 0;

    if (acct && acct->base_url) {
        return sw_spec_render_text(acct->base_url, SW_R_HOST, acct, job, base, &secret, st);
    }
    origin = spec_origin(spec, acct, st);
    return origin ? sw_spec_render(origin, SW_R_HOST, acct, job, base, &secret, st) : st->code;
}

/* The operation's required references ("params.name", "params.id,settings.x") must be present. */
static sw_err_t check_required(const struct sw_spec_op *op, const struct sw_account *acct,
                               const struct sw_job *job, struct sw_status *st)
{
    int i;

    for (i = 0; i < op->nrequired; i++) {
        struct sw_ref r;

        if (sw_spec_ref_get(&op->required[i], acct, job, &r)) {
            return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL,
                                 "spec: bad required reference");
        }
        if (!sw_ref_present(&r)) {
            return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "%s is required",
                                 op->required[i].text);
        }
    }
    return SW_E_OK;
}

/* Path, query (the spec's, the page position's, the job's remote_query) and body of a request
 * for the first page or a page position. */
static sw_err_t add_target(const struct sw_spec *spec, const struct sw_spec_op *op,
                           const struct sw_account *acct, const struct sw_job *job,
                           const char *token, int login, const struct sw_buf *base,
                           struct sw_http_req *req, struct sw_status *st)
{
    struct sw_buf url;
    int secret = 0;
    sw_err_t rc;

    sw_buf_init(&url, SW_SPEC_MAX_URL_BYTES);
    if (sw_buf_appends(&url, base->data)) {
        sw_buf_free(&url);
        return sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "URL too long");
    }
    rc = sw_spec_render(&op->path, SW_R_PATH, acct, job, &url, &secret, st);
    if (!rc) {
        rc = add_query(op, acct, job, &url, st);
    }
    if (!rc) {
        rc = add_page_query(&op->pag, acct, job, token, &url, st);
    }
    if (!rc && !login) {
        rc = add_remote_query(spec, job, &url, st);
    }
    if (!rc) {
        rc = add_body(op, acct, job, token, req, st);
    }
    if (!rc) {
        req->url = sw_buf_steal(&url, NULL);
    }
    sw_buf_free(&url);
    return rc;
}

/* Authentication and the spec's headers (a header that renders empty is left out). */
static sw_err_t add_headers(const struct sw_spec *spec, const struct sw_account *acct,
                            const struct sw_job *job, struct sw_http_req *req, struct sw_status *st)
{
    sw_err_t rc = add_auth(&spec->auth, acct, job, req, st);
    int i;

    for (i = 0; !rc && i < spec->nheaders; i++) {
        const struct sw_spec_header *h = &spec->headers[i];
        struct sw_buf v;
        int secret = 0;

        sw_buf_init(&v, SW_SPEC_MAX_VALUE_BYTES);
        rc = sw_spec_render(&h->value, SW_R_HEADER, acct, job, &v, &secret, st);
        if (!rc && v.len && sw_http_headers_add(&req->headers, h->name, v.data, secret)) {
            rc = sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
        sw_buf_free(&v);
    }
    return rc;
}

/* The request for an operation, a next page (next_url) or the session login (login: no job
 * options such as remote_query reach it). */
static sw_err_t build(const struct sw_spec *spec, const struct sw_spec_op *op,
                      const struct sw_account *acct, const struct sw_job *job, const char *next_url,
                      int login, struct sw_http_req *req, struct sw_status *st)
{
    struct sw_buf base;
    sw_err_t rc;

    sw_http_req_init(req);
    sw_buf_init(&base, SW_SPEC_MAX_URL_BYTES);
    snprintf(req->method, sizeof(req->method), "%s", op->method);
    req->idempotent = op->idempotent;
    rc = sw_spec_origin(spec, acct, job, &base, st);
    if (!rc) {
        rc = check_required(op, acct, job, st);
    }
    if (!rc && next_url && op->pag.style == SW_PAGING_NEXT_URL) {
        rc = sw_url_rebase(base.data, next_url, &req->url, st);
    } else if (!rc) {
        rc = add_target(spec, op, acct, job, next_url, login, &base, req, st);
    }
    if (!rc) {
        rc = add_headers(spec, acct, job, req, st);
    }
    sw_buf_free(&base);
    if (rc) {
        sw_http_req_free(req);
    }
    return rc;
}

sw_err_t sw_spec_build(const struct sw_spec *spec, const struct sw_spec_variant *var,
                       const struct sw_account *acct, const struct sw_job *job, const char *cursor,
                       struct sw_http_req *req, struct sw_status *st)
{
    return build(spec, &var->c, acct, job, cursor, 0, req, st);
}

sw_err_t sw_spec_build_login(const struct sw_spec *spec, const struct sw_account *acct,
                             const struct sw_job *job, struct sw_http_req *req,
                             struct sw_status *st)
{
    if (!spec->session.has_login) {
        sw_http_req_init(req);
        return sw_status_set(st, SW_E_AUTH_FAILED, SW_CLASS_TERMINAL,
                             "provider %s has no login call", spec->name);
    }
    return build(spec, &spec->login, acct, job, NULL, 1, req, st);
}
