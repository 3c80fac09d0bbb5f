/* What response_format debug shows of a job's exchanges (see sw_run.h): every exchange since the
 * previous result message (login, each page, each retry) with its request (method, URL, headers,
 * body) and its answer (status, headers, body, or the transport error), plus the last exchange's
 * summary and, for lists, the next cursor, looping guard, empty flag and count. Bounded: bodies
 * and header values are cut with a marker, and a message keeps the newest exchanges within a
 * byte budget, counting the ones it had to leave out. Credentials never appear: secret headers
 * are "[redacted]", and every account secret and session token is replaced by "[redacted]"
 * wherever it occurs (URLs, header values, bodies), before anything is cut.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_BYTES     2048 /* of each request and response body */
#define VALUE_BYTES    256  /* of each header value */
#define MAX_HEADERS    32   /* shown of each request and response */
#define MAX_EXCHANGES  16   /* kept per message */
#define BUDGET_BYTES   (64 * 1024)
#define MIN_SECRET_LEN 4 /* shorter ones would blank out ordinary text */

static const char redacted[] = "[redacted]";

static int secret_header(const char *name)
{
    return !strcasecmp(name, "authorization") || !strcasecmp(name, "cookie") ||
           !strcasecmp(name, "set-cookie") || !strcasecmp(name, "proxy-authorization") ||
           !strcasecmp(name, "x-api-key") || !strcasecmp(name, "api-token");
}

/* The secrets of a run: the account's credentials, the session token, secret request headers. */
struct secrets {
    const char *v[40];
    size_t len[40];
    int n;
};

static void add_secret(struct secrets *s, const char *v)
{
    size_t l = v ? strlen(v) : 0;

    if (l >= MIN_SECRET_LEN && s->n < (int)(sizeof(s->v) / sizeof(s->v[0]))) {
        s->v[s->n] = v;
        s->len[s->n++] = l;
    }
}

static void gather(const struct sw_run *r, const struct sw_http_req *req, struct secrets *s)
{
    size_t i;

    s->n = 0;
    for (i = 0; r->acct && i < r->acct->ncreds; i++) {
        add_secret(s, r->acct->creds[i].value);
    }
    add_secret(s, sw_session_token(r));
    for (i = 0; req && i < req->headers.n; i++) {
        if (req->headers.v[i].secret) {
            add_secret(s, req->headers.v[i].value);
        }
    }
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len = p[0] < 0x80             ? 1
                 : (p[0] & 0xe0) == 0xc0 ? 2
                 : (p[0] & 0xf0) == 0xe0 ? 3
                 : (p[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    size_t i;

    if (!len || len > n || (len == 2 && p[0] < 0xc2)) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return len;
}

/* s (n bytes) as printable UTF-8 text of at most cap bytes: every secret replaced, control bytes
 * and broken sequences shown as '?', cut with a marker that says how long it was. NULL when out of
 * memory. */
static char *shown(const struct secrets *sec, const char *s, size_t n, size_t cap)
{
    char *out = malloc(cap + 64);
    size_t o = 0;
    size_t i = 0;

    if (!out) {
        return NULL;
    }
    while (i < n && o < cap) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t len;
        int k;

        for (k = 0; k < sec->n; k++) {
            if (n - i >= sec->len[k] && !memcmp(p, sec->v[k], sec->len[k])) {
                break;
            }
        }
        if (k < sec->n) {
            if (o + sizeof(redacted) - 1 > cap) {
                break;
            }
            memcpy(out + o, redacted, sizeof(redacted) - 1);
            o += sizeof(redacted) - 1;
            i += sec->len[k];
            continue;
        }
        len = utf8_len(p, n - i);
        if (len > cap - o) {
            break;
        }
        if (!len || (p[0] < 0x20 && p[0] != '\n' && p[0] != '\r' && p[0] != '\t') || p[0] == 0x7f) {
            out[o++] = '?';
            i += len ? len : 1;
            continue;
        }
        memcpy(out + o, p, len);
        o += len;
        i += len;
    }
    if (i < n) {
        o += (size_t)snprintf(out + o, 64, "...[truncated: %zu bytes]", n);
    }
    out[o] = '\0';
    return out;
}

static int add_text(cJSON *o, const char *key, const struct secrets *sec, const char *s, size_t n,
                    size_t cap)
{
    char *t = shown(sec, s ? s : "", s ? n : 0, cap);
    int ok = t && cJSON_AddStringToObject(o, key, t);

    free(t);
    return ok;
}

static cJSON *headers_json(const struct sw_http_headers *h, const struct secrets *sec)
{
    cJSON *o = cJSON_CreateObject();
    size_t i;

    for (i = 0; o && i < h->n; i++) {
        const char *v = h->v[i].value;

        if (i == MAX_HEADERS) {
            cJSON_AddNumberToObject(o, "...[headers left out]", (double)(h->n - i));
            break;
        }
        if (h->v[i].secret || secret_header(h->v[i].name)) {
            v = redacted;
        }
        if (!add_text(o, h->v[i].name, sec, v, strlen(v), VALUE_BYTES)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static cJSON *request_json(const struct sw_http_req *req, const struct secrets *sec)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *h = NULL;

    if (!o || !cJSON_AddStringToObject(o, "method", req->method) ||
        !add_text(o, "url", sec, req->url, req->url ? strlen(req->url) : 0, 8192)) {
        goto fail;
    }
    h = headers_json(&req->headers, sec);
    if (!h || !cJSON_AddItemToObject(o, "headers", h)) {
        cJSON_Delete(h);
        goto fail;
    }
    if (req->body && !add_text(o, "body", sec, req->body, req->body_len, BODY_BYTES)) {
        goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *response_json(const struct sw_http_resp *resp, const struct secrets *sec)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *h = NULL;

    if (!o) {
        return NULL;
    }
    if (resp->transport_err != SW_E_OK) {
        if (!cJSON_AddNullToObject(o, "status") ||
            !add_text(o, "error", sec, resp->errmsg, strlen(resp->errmsg), VALUE_BYTES)) {
            goto fail;
        }
        return o;
    }
    if (!cJSON_AddNumberToObject(o, "status", (double)resp->status)) {
        goto fail;
    }
    h = headers_json(&resp->headers, sec);
    if (!h || !cJSON_AddItemToObject(o, "headers", h)) {
        cJSON_Delete(h);
        goto fail;
    }
    if (!add_text(o, "body", sec, resp->body.data, resp->body.len, BODY_BYTES)) {
        goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* The summary of the last exchange, as the debug object always had it. */
static void summary(cJSON *d, const struct sw_run *r, const struct sw_http_req *req,
                    const struct sw_http_resp *resp, const char *next, const struct secrets *sec)
{
    static const char *const keys[] = {"request_url",     "request_options", "response_headers",
                                       "http_status",     "next_cursor",     "is_looping",
                                       "is_empty_result", "result_count"};
    cJSON *opts;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(d, keys[i]);
    }
    add_text(d, "request_url", sec, req->url, req->url ? strlen(req->url) : 0, 8192);
    opts = cJSON_AddObjectToObject(d, "request_options");
    if (opts) {
        cJSON_AddStringToObject(opts, "method", req->method);
        cJSON_AddItemToObject(opts, "headers", headers_json(&req->headers, sec));
    }
    cJSON_AddItemToObject(d, "response_headers", headers_json(&resp->headers, sec));
    if (resp->transport_err == SW_E_OK) {
        cJSON_AddNumberToObject(d, "http_status", (double)resp->status);
    } else {
        cJSON_AddNullToObject(d, "http_status");
    }
    if (r->op && r->op->kind == SW_RESULT_ITEMS && req != &r->login_req) {
        if (next) {
            add_text(d, "next_cursor", sec, next, strlen(next), 8192);
        } else {
            cJSON_AddNullToObject(d, "next_cursor");
        }
        cJSON_AddBoolToObject(d, "is_looping", 0);
        cJSON_AddBoolToObject(d, "is_empty_result", r->total_items == 0);
        cJSON_AddNumberToObject(d, "result_count", (double)r->total_items);
    }
}

static size_t printed_len(const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    size_t n = s ? strlen(s) : 0;

    cJSON_free(s);
    return n;
}

size_t sw_debug_budget(const struct sw_run *r)
{
    size_t quarter = r->eng->lim.max_result_bytes / 4;

    return r->job->format != SW_FMT_DEBUG ? 0 : quarter < BUDGET_BYTES ? quarter : BUDGET_BYTES;
}

/* Append the exchange, dropping the oldest ones while the list is over its count or budget. */
static void keep(struct sw_run *r, cJSON *ex)
{
    cJSON *list = cJSON_GetObjectItemCaseSensitive(r->debug, "exchanges");
    size_t budget = sw_debug_budget(r);
    size_t len = printed_len(ex);

    if (!list) {
        list = cJSON_AddArrayToObject(r->debug, "exchanges");
    }
    if (!list || len > budget) {
        cJSON_Delete(ex);
        r->debug_omitted++;
        return;
    }
    cJSON_AddItemToArray(list, ex);
    r->debug_bytes += len;
    while (list->child && (cJSON_GetArraySize(list) > MAX_EXCHANGES || r->debug_bytes > budget)) {
        cJSON *old = cJSON_DetachItemViaPointer(list, list->child);

        r->debug_bytes -= printed_len(old);
        cJSON_Delete(old);
        r->debug_omitted++;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(r->debug, "exchanges_omitted");
    if (r->debug_omitted) {
        cJSON_AddNumberToObject(r->debug, "exchanges_omitted", (double)r->debug_omitted);
    }
}

void sw_debug_record(struct sw_run *r, const struct sw_http_req *req,
                     const struct sw_http_resp *resp, const char *next)
{
    struct secrets sec;
    cJSON *ex;
    cJSON *rq;
    cJSON *rs;

    if (r->job->format != SW_FMT_DEBUG) {
        return;
    }
    if (!r->debug) {
        r->debug = cJSON_CreateObject();
        if (!r->debug) {
            return;
        }
    }
    gather(r, req, &sec);
    summary(r->debug, r, req, resp, next, &sec);
    ex = cJSON_CreateObject();
    rq = request_json(req, &sec);
    rs = response_json(resp, &sec);
    if (!ex || !rq || !rs || !cJSON_AddItemToObject(ex, "request", rq)) {
        cJSON_Delete(ex);
        cJSON_Delete(rq);
        cJSON_Delete(rs);
        r->debug_omitted++;
        return;
    }
    if (!cJSON_AddItemToObject(ex, "response", rs)) {
        cJSON_Delete(ex);
        cJSON_Delete(rs);
        r->debug_omitted++;
        return;
    }
    keep(r, ex);
}

void sw_debug_emitted(struct sw_run *r)
{
    if (r->debug) {
        cJSON_DeleteItemFromObjectCaseSensitive(r->debug, "exchanges");
        cJSON_DeleteItemFromObjectCaseSensitive(r->debug, "exchanges_omitted");
    }
    r->debug_bytes = 0;
    r->debug_omitted = 0;
}

void sw_debug_list_state(struct sw_run *r, int looping)
{
    if (!r->debug || !cJSON_GetObjectItemCaseSensitive(r->debug, "is_looping")) {
        return;
    }
    cJSON_ReplaceItemInObject(r->debug, "is_looping", cJSON_CreateBool(looping));
    cJSON_ReplaceItemInObject(r->debug, "is_empty_result", cJSON_CreateBool(r->total_items == 0));
    cJSON_ReplaceItemInObject(r->debug, "result_count", cJSON_CreateNumber((double)r->total_items));
}

cJSON *sw_debug_request(const struct sw_http_req *req, const struct sw_account *acct)
{
    struct secrets sec = {.n = 0};
    cJSON *o;
    cJSON *body;
    cJSON *parsed;
    size_t i;

    for (i = 0; acct && i < acct->ncreds; i++) {
        add_secret(&sec, acct->creds[i].value);
    }
    for (i = 0; i < req->headers.n; i++) {
        if (req->headers.v[i].secret) {
            add_secret(&sec, req->headers.v[i].value);
        }
    }
    o = request_json(req, &sec);
    body = o ? cJSON_GetObjectItemCaseSensitive(o, "body") : NULL;
    if (o && !body) {
        cJSON_AddNullToObject(o, "body");
    }
    /* A JSON body reads better as JSON; one that was cut stays the text it is. */
    parsed = cJSON_IsString(body) ? cJSON_Parse(body->valuestring) : NULL;
    if (parsed) {
        cJSON_ReplaceItemViaPointer(o, body, parsed);
    }
    return o;
}
