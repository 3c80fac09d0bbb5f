/* curl multi engine and request/response descriptions (see sw_http.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sw_http_headers_free(struct sw_http_headers *h)
{
    size_t i;

    if (!h) {
        return;
    }
    for (i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].value);
    }
    free(h->v);
    memset(h, 0, sizeof(*h));
}

int sw_http_headers_add(struct sw_http_headers *h, const char *name, const char *value, int secret)
{
    struct sw_http_header *nv;
    char *n = NULL;
    char *v = NULL;

    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;

        nv = realloc(h->v, cap * sizeof(*nv));
        if (!nv) {
            return -1;
        }
        h->v = nv;
        h->cap = cap;
    }
    n = strdup(name);
    v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -1;
    }
    h->v[h->n].name = n;
    h->v[h->n].value = v;
    h->v[h->n].secret = secret;
    h->n++;
    return 0;
}

const char *sw_http_headers_get(const struct sw_http_headers *h, const char *name)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        if (!strcasecmp(h->v[i].name, name)) {
            return h->v[i].value;
        }
    }
    return NULL;
}

void sw_http_req_init(struct sw_http_req *req)
{
    memset(req, 0, sizeof(*req));
    req->idempotent = 1;
}

void sw_http_req_free(struct sw_http_req *req)
{
    if (!req) {
        return;
    }
    free(req->url);
    free(req->body);
    sw_http_headers_free(&req->headers);
    sw_http_req_init(req);
}

void sw_http_resp_init(struct sw_http_resp *resp, size_t max_body)
{
    memset(resp, 0, sizeof(*resp));
    sw_buf_init(&resp->body, max_body);
}

void sw_http_resp_free(struct sw_http_resp *resp)
{
    if (!resp) {
        return;
    }
    sw_http_headers_free(&resp->headers);
    sw_buf_free(&resp->body);
}

/* ---- engine ---- */

struct sw_http_xfer {
    struct sw_http *h;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body; /* request body copy; curl reads it via POSTFIELDS without copying */
    struct sw_http_resp *resp;
    sw_http_done_cb cb;
    void *arg;
    size_t max_headers;
    int headers_overflow;
    struct sw_http_xfer *prev, *next; /* every live transfer, so destroy can free them */
    char errbuf[CURL_ERROR_SIZE];
};

/* Idle easy handles kept for the next request: curl_easy_init + cleanup per request cost more
 * than a reset. Bounded, since each keeps its receive buffer (16 KiB). */
#define SW_HTTP_POOL 256

#define SW_HTTP_RECV_BUFFER 2048L

struct sw_http {
    CURLM *multi;
    struct sw_http_opts opts;
    int active;
    struct sw_http_xfer *xfers;
    CURL *pool[SW_HTTP_POOL];
    int npool;
};

struct sw_http *sw_http_create(const struct sw_http_opts *opts)
{
    struct sw_http *h = calloc(1, sizeof(*h));

    if (!h) {
        return NULL;
    }
    h->opts = *opts;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    if (opts->max_host_connections > 0) {
        curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opts->max_host_connections);
    }
    if (opts->max_total_connections > 0) {
        curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, opts->max_total_connections);
    }
    return h;
}

static void xfer_free(struct sw_http_xfer *x)
{
    if (!x) {
        return;
    }
    if (x->prev) {
        x->prev->next = x->next;
    } else if (x->h->xfers == x) {
        x->h->xfers = x->next;
    }
    if (x->next) {
        x->next->prev = x->prev;
    }
    if (x->easy) {
        curl_multi_remove_handle(x->h->multi, x->easy);
        if (x->h->npool < SW_HTTP_POOL) {
            curl_easy_reset(x->easy);
            x->h->pool[x->h->npool++] = x->easy;
        } else {
            curl_easy_cleanup(x->easy);
        }
    }
    curl_slist_free_all(x->hdrs);
    free(x->body);
    if (x->resp) {
        sw_http_resp_free(x->resp);
        free(x->resp);
    }
    free(x);
}

void sw_http_destroy(struct sw_http *h)
{
    if (!h) {
        return;
    }
    /* Transfers still running at shutdown are dropped without callbacks. */
    while (h->xfers) {
        xfer_free(h->xfers);
    }
    while (h->npool > 0) {
        curl_easy_cleanup(h->pool[--h->npool]);
    }
    curl_multi_cleanup(h->multi);
    free(h);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sw_http_xfer *x = ud;
    size_t n = size * nmemb;

    /* A short count makes curl fail with CURLE_WRITE_ERROR; the overflow flag records why. */
    if (sw_buf_append(&x->resp->body, ptr, n) != 0) {
        return 0;
    }
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sw_http_xfer *x = ud;
    size_t n = size * nmemb;
    char name[128];
    char *colon;
    char *val;
    size_t nlen, vlen;
    char value[1024];

    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
        /* A new response (after a 100-continue or redirect): forget earlier headers. */
        sw_http_headers_free(&x->resp->headers);
        return n;
    }
    colon = memchr(ptr, ':', n);
    if (!colon) {
        return n;
    }
    nlen = (size_t)(colon - ptr);
    if (nlen == 0 || nlen >= sizeof(name)) {
        return n;
    }
    if (x->resp->headers.n >= x->max_headers) {
        x->headers_overflow = 1;
        return 0;
    }
    memcpy(name, ptr, nlen);
    name[nlen] = '\0';
    val = colon + 1;
    vlen = n - nlen - 1;
    while (vlen && (*val == ' ' || *val == '\t')) {
        val++;
        vlen--;
    }
    while (vlen && (val[vlen - 1] == '\r' || val[vlen - 1] == '\n' || val[vlen - 1] == ' ')) {
        vlen--;
    }
    if (vlen >= sizeof(value)) {
        vlen = sizeof(value) - 1; /* header values past 1 KiB are not used by any mapping */
    }
    memcpy(value, val, vlen);
    value[vlen] = '\0';
    if (sw_http_headers_add(&x->resp->headers, name, value, 0) != 0) {
        return 0;
    }
    return n;
}

struct sw_http_xfer *sw_http_submit(struct sw_http *h, const struct sw_http_req *req,
                                    long timeout_ms, sw_http_done_cb cb, void *arg,
                                    struct sw_status *st)
{
    struct sw_http_xfer *x = calloc(1, sizeof(*x));
    size_t i;

    if (!x) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        return NULL;
    }
    x->h = h;
    x->cb = cb;
    x->arg = arg;
    x->max_headers = h->opts.max_headers ? h->opts.max_headers : 100;
    x->resp = calloc(1, sizeof(*x->resp));
    x->easy = h->npool > 0 ? h->pool[--h->npool] : curl_easy_init();
    if (!x->resp || !x->easy) {
        goto fail;
    }
    sw_http_resp_init(x->resp, h->opts.max_body_bytes);
    for (i = 0; i < req->headers.n; i++) {
        char line[2048];
        struct curl_slist *nl;

        if ((size_t)snprintf(line, sizeof(line), "%s: %s", req->headers.v[i].name,
                             req->headers.v[i].value) >= sizeof(line)) {
            sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "header %s is too long",
                          req->headers.v[i].name);
            goto fail;
        }
        nl = curl_slist_append(x->hdrs, line);
        if (!nl) {
            goto fail;
        }
        x->hdrs = nl;
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, req->url);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* Redirects would let a provider send us (and our credentials) to another host. */
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
    /* curl allocates its receive buffer (default 16 KiB) when a transfer starts, also for one
     * that then waits for a free connection: with 1,000 jobs in flight these buffers were a
     * quarter of the heap (valgrind massif). A single segment answer fits in 2 KiB; big pages
     * just take more reads. */
    curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, SW_HTTP_RECV_BUFFER);
    curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->opts.ca_file) {
        curl_easy_setopt(x->easy, CURLOPT_CAINFO, h->opts.ca_file);
    }
    if (req->body) {
        x->body = malloc(req->body_len + 1);
        if (!x->body) {
            goto fail;
        }
        memcpy(x->body, req->body, req->body_len);
        x->body[req->body_len] = '\0';
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (!strcmp(req->method, "GET")) {
        curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(req->method, "POST") != 0 || !req->body) {
        curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (!strcmp(req->method, "HEAD")) {
        curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
    }
    if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        goto fail;
    }
    h->active++;
    x->next = h->xfers;
    if (h->xfers) {
        h->xfers->prev = x;
    }
    h->xfers = x;
    return x;
fail:
    if (st && st->code == SW_E_OK) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "could not start the HTTP request");
    }
    if (x->easy) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    xfer_free(x);
    return NULL;
}

void sw_http_cancel(struct sw_http *h, struct sw_http_xfer *x)
{
    if (!x) {
        return;
    }
    h->active--;
    xfer_free(x);
}

int sw_http_wait(struct sw_http *h, struct curl_waitfd *extra, unsigned nextra, int timeout_ms)
{
    int numfds = 0;

    if (curl_multi_poll(h->multi, extra, nextra, timeout_ms, &numfds) != CURLM_OK) {
        return -1;
    }
    return numfds;
}

void sw_http_wakeup(struct sw_http *h)
{
    curl_multi_wakeup(h->multi);
}

int sw_http_active(const struct sw_http *h)
{
    return h->active;
}

static void classify_transport(struct sw_http_xfer *x, CURLcode cc)
{
    struct sw_http_resp *r = x->resp;
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);

    snprintf(r->errmsg, sizeof(r->errmsg), "%s", why);
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        r->transport_err = SW_E_TIMEOUT;
        /* Connected means the request may have been sent: a write could have happened. */
        r->ambiguous = 1;
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        r->transport_err = SW_E_NETWORK_ERROR;
        r->ambiguous = 0;
        break;
    case CURLE_WRITE_ERROR:
        if (r->body.overflow) {
            r->transport_err = SW_E_RESULT_TOO_LARGE;
            snprintf(r->errmsg, sizeof(r->errmsg),
                     "response body exceeds limits.max_response_bytes (%zu bytes)", r->body.max);
        } else if (x->headers_overflow) {
            r->transport_err = SW_E_RESPONSE_INVALID;
            snprintf(r->errmsg, sizeof(r->errmsg), "response has more than %zu headers",
                     x->max_headers);
        } else {
            r->transport_err = SW_E_NOMEM;
        }
        r->ambiguous = 0; /* the provider answered; the answer was refused by us */
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        r->transport_err = SW_E_CONFIG;
        r->ambiguous = 0;
        break;
    default:
        r->transport_err = SW_E_NETWORK_ERROR;
        r->ambiguous = 1;
        break;
    }
}

void sw_http_perform(struct sw_http *h)
{
    int running = 0;
    int left = 0;
    CURLMsg *m;

    curl_multi_perform(h->multi, &running);
    while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
        struct sw_http_xfer *x = NULL;
        struct sw_http_resp *resp;
        curl_off_t total_us = 0;

        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        resp = x->resp;
        curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
        resp->total_ms = (long)(total_us / 1000);
        if (m->data.result == CURLE_OK) {
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
            resp->transport_err = SW_E_OK;
        } else {
            classify_transport(x, m->data.result);
        }
        x->resp = NULL;
        h->active--;
        /* The callback may submit new transfers; free ours first so handles do not pile up. */
        {
            sw_http_done_cb cb = x->cb;
            void *arg = x->arg;

            xfer_free(x);
            cb(arg, resp);
        }
    }
}
