/* What response_format debug shows of a job's last exchange (see sw_run.h): request URL, method
 * and headers, response status and headers, and for lists the next cursor, looping guard, empty
 * flag and count. Credentials never appear: secret headers, and any value holding one of the
 * account's secrets, are shown as "[redacted]".
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_run.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int secret_header(const char *name)
{
    return !strcasecmp(name, "authorization") || !strcasecmp(name, "cookie") ||
           !strcasecmp(name, "set-cookie") || !strcasecmp(name, "proxy-authorization") ||
           !strcasecmp(name, "x-api-key") || !strcasecmp(name, "api-token");
}

/* True when s contains one of the account's secrets (a provider might echo one back). */
static int has_secret(const struct sw_account *acct, const char *s)
{
    size_t i;

    for (i = 0; acct && s && i < acct->ncreds; i++) {
        if (acct->creds[i].value[0] && strstr(s, acct->creds[i].value)) {
            return 1;
        }
    }
    return 0;
}

static const char *shown(const struct sw_account *acct, const char *s)
{
    return has_secret(acct, s) ? "[redacted]" : s;
}

static cJSON *headers_json(const struct sw_http_headers *h, const struct sw_account *acct)
{
    cJSON *o = cJSON_CreateObject();
    size_t i;

    for (i = 0; o && i < h->n; i++) {
        const char *v = h->v[i].value;

        if (h->v[i].secret || secret_header(h->v[i].name)) {
            v = "[redacted]";
        }
        cJSON_AddStringToObject(o, h->v[i].name, shown(acct, v));
    }
    return o;
}

void sw_debug_record(struct sw_run *r, const struct sw_http_resp *resp, const char *next)
{
    cJSON *d;
    cJSON *opts;
    int is_list = r->op && r->op->kind == SW_RESULT_ITEMS;

    if (r->job->format != SW_FMT_DEBUG) {
        return;
    }
    cJSON_Delete(r->debug);
    r->debug = d = cJSON_CreateObject();
    if (!d) {
        return;
    }
    cJSON_AddStringToObject(d, "request_url", shown(r->acct, r->req.url));
    opts = cJSON_AddObjectToObject(d, "request_options");
    if (opts) {
        cJSON_AddStringToObject(opts, "method", r->req.method);
        cJSON_AddItemToObject(opts, "headers", headers_json(&r->req.headers, r->acct));
    }
    cJSON_AddItemToObject(d, "response_headers", headers_json(&resp->headers, r->acct));
    if (resp->transport_err == SW_E_OK) {
        cJSON_AddNumberToObject(d, "http_status", (double)resp->status);
    } else {
        cJSON_AddNullToObject(d, "http_status");
    }
    if (is_list) {
        if (next) {
            cJSON_AddStringToObject(d, "next_cursor", shown(r->acct, next));
        } else {
            cJSON_AddNullToObject(d, "next_cursor");
        }
        cJSON_AddBoolToObject(d, "is_looping", 0);
        cJSON_AddBoolToObject(d, "is_empty_result", r->total_items == 0);
        cJSON_AddNumberToObject(d, "result_count", (double)r->total_items);
    }
}

void sw_debug_looping(struct sw_run *r)
{
    if (r->debug) {
        cJSON_ReplaceItemInObject(r->debug, "is_looping", cJSON_CreateTrue());
    }
}

/* s with every occurrence of the account's secrets replaced; NULL when out of memory. */
static char *without_secrets(const struct sw_account *acct, const char *s, size_t len)
{
    static const char mark[] = "[redacted]";
    size_t cap = len + 1, n = 0, i = 0, k;
    char *out = malloc(cap);

    while (out && i < len) {
        size_t hit = 0;

        for (k = 0; acct && k < acct->ncreds && !hit; k++) {
            size_t sl = strlen(acct->creds[k].value);

            if (sl && sl <= len - i && !memcmp(s + i, acct->creds[k].value, sl)) {
                hit = sl;
            }
        }
        if (n + sizeof(mark) + 1 > cap) {
            char *nb = realloc(out, cap * 2 + sizeof(mark));

            if (!nb) {
                free(out);
                return NULL;
            }
            out = nb;
            cap = cap * 2 + sizeof(mark);
        }
        if (hit) {
            memcpy(out + n, mark, sizeof(mark) - 1);
            n += sizeof(mark) - 1;
            i += hit;
        } else {
            out[n++] = s[i++];
        }
    }
    if (out) {
        out[n] = '\0';
    }
    return out;
}

cJSON *sw_debug_request(const struct sw_http_req *req, const struct sw_account *acct)
{
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;

    if (!o) {
        return NULL;
    }
    cJSON_AddStringToObject(o, "method", req->method);
    cJSON_AddStringToObject(o, "url", shown(acct, req->url));
    cJSON_AddItemToObject(o, "headers", headers_json(&req->headers, acct));
    if (!req->body) {
        cJSON_AddNullToObject(o, "body");
        return o;
    }
    /* A login body carries credentials: they go, the rest of the body stays readable. */
    body = without_secrets(acct, req->body, req->body_len);
    if (body) {
        cJSON *parsed = cJSON_Parse(body);

        cJSON_AddItemToObject(o, "body", parsed ? parsed : cJSON_CreateString(body));
    }
    free(body);
    return o;
}
