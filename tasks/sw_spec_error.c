/* Error answers and session tokens in the spec adapter (see sw_spec.h): the provider's code and
 * message read through the spec's "errors" pointers, and the cookie that carries a session.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PROVIDER_ERROR_BYTES 8192

/* The first string among the body's values at the pointers listed under errors.code or
 * errors.message. */
static const char *first_string(const struct sw_spec_ptr *ptrs, int n, const cJSON *body)
{
    int i;

    for (i = 0; i < n; i++) {
        const cJSON *v = sw_spec_ptr_get(&ptrs[i], body);

        if (cJSON_IsString(v)) {
            return v->valuestring;
        }
    }
    return NULL;
}

void sw_spec_describe_error(const struct sw_spec *spec, const struct sw_http_resp *resp,
                            int max_depth, struct sw_provider_error *pe)
{
    const char *s;

    memset(pe, 0, sizeof(*pe));
    if (resp->body.len && resp->body.len <= MAX_PROVIDER_ERROR_BYTES) {
        pe->body = sw_json_parse(resp->body.data, resp->body.len, max_depth, NULL, 0);
    }
    if (pe->body) {
        s = first_string(spec->error_message, spec->nerror_message, pe->body);
        snprintf(pe->message, sizeof(pe->message), "%s", s ? s : "");
        s = first_string(spec->error_code, spec->nerror_code, pe->body);
        snprintf(pe->code, sizeof(pe->code), "%s", s ? s : "");
    } else if (resp->body.len) {
        /* Not JSON (an HTML error page from a proxy, say): keep a bounded prefix as a string. */
        char prefix[1024 + 64];
        size_t n = resp->body.len < 1024 ? resp->body.len : 1024;

        snprintf(prefix, sizeof(prefix), "%.*s%s", (int)n, resp->body.data,
                 resp->body.len > n ? "...(truncated)" : "");
        pe->body = cJSON_CreateString(prefix);
    }
}

/* ---- sessions: "Cookie: <cookie>=<token>" ---- */

int sw_spec_session_token(const struct sw_spec *spec, const struct sw_http_resp *resp, char *out,
                          size_t n)
{
    const char *name = spec->session_cookie;
    size_t nl = name ? strlen(name) : 0;
    size_t i;

    for (i = 0; name && i < resp->headers.n; i++) {
        const char *v = resp->headers.v[i].value;
        size_t vl;

        if (strcasecmp(resp->headers.v[i].name, "Set-Cookie")) {
            continue;
        }
        v += strspn(v, " \t");
        if (strncmp(v, name, nl) || v[nl] != '=') {
            continue;
        }
        v += nl + 1;
        vl = strcspn(v, ";");
        if (vl == 0 || vl >= n) {
            return -1;
        }
        memcpy(out, v, vl);
        out[vl] = '\0';
        return 0;
    }
    return -1;
}

int sw_spec_session_apply(const struct sw_spec *spec, struct sw_http_req *req, const char *token)
{
    char line[2048];
    size_t i;

    if (!spec->session_cookie || (size_t)snprintf(line, sizeof(line), "%s=%s", spec->session_cookie,
                                                  token) >= sizeof(line)) {
        return -1;
    }
    for (i = 0; i < req->headers.n; i++) {
        if (!strcasecmp(req->headers.v[i].name, "Cookie")) {
            char *v = strdup(line);

            if (!v) {
                return -1;
            }
            memset(req->headers.v[i].value, 0, strlen(req->headers.v[i].value));
            free(req->headers.v[i].value);
            req->headers.v[i].value = v;
            req->headers.v[i].secret = 1;
            return 0;
        }
    }
    return sw_http_headers_add(&req->headers, "Cookie", line, 1);
}
