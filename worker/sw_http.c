/* curl multi engine and request/response descriptions (see sw_http.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_http.h"
#include "sw_climit.h"
#include "sw_time.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

/* Transfers handed to curl per origin (scheme://host:port). Past http.max_host_connections a
 * request waits in our queue, not curl's: curl gives a transfer its easy handle (5.4 KB) and
 * receive buffer as soon as it is added, so 5,000 jobs waiting for 256 connections held ~40 MB
 * (bench/, valgrind massif). */
struct sw_http_origin {
    char *name;
    long running;        /* handed to curl */
    long waiting;        /* in our queue */
    struct sw_climit cl; /* how many may run: http.max_host_connections, or less when adaptive */
};

struct sw_http_xfer {
    struct sw_http *h;
    CURL *easy; /* NULL while waiting for a connection slot */
    struct curl_slist *hdrs;
    char *url;
    char method[8];
    char *body; /* request body copy; curl reads it via POSTFIELDS without copying */
    size_t body_len;
    struct sw_http_origin *origin;
    int64_t deadline_ms; /* monotonic: submission + timeout; the wait for a slot counts */
    struct sw_http_resp *resp;
    sw_http_done_cb cb;
    void *arg;
    size_t max_headers;
    int headers_overflow;
    struct sw_http_xfer *prev, *next;   /* every live transfer, so destroy can free them */
    struct sw_http_xfer *wprev, *wnext; /* the waiting queue (FIFO) */
    int waiting;
    char errbuf[CURL_ERROR_SIZE];
};

/* Idle easy handles kept for the next request: curl_easy_init + cleanup per request cost more
 * than a reset. Bounded, since each keeps its receive buffer. */
#define SW_HTTP_POOL 256

#define SW_HTTP_RECV_BUFFER 2048L

/* How often waiting requests are checked against their deadline. */
#define SW_HTTP_SWEEP_MS 50

struct sw_http {
    CURLM *multi;
    struct sw_http_opts opts;
    int active;
    struct sw_http_xfer *xfers;
    CURL *pool[SW_HTTP_POOL];
    int npool;
    struct sw_http_origin *origins;
    size_t norigins, corigins;
    struct sw_http_xfer *whead, *wtail;
    int64_t next_sweep_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* The origin of url ("http://127.0.0.1:8080" of "http://127.0.0.1:8080/api/x"), found or added. */
static struct sw_http_origin *origin_of(struct sw_http *h, const char *url)
{
    const char *p = strstr(url, "://");
    size_t n;
    size_t i;

    p = p ? p + 3 : url;
    n = (size_t)(p - url) + strcspn(p, "/?#");
    for (i = 0; i < h->norigins; i++) {
        if (strlen(h->origins[i].name) == n && !strncmp(h->origins[i].name, url, n)) {
            return &h->origins[i];
        }
    }
    if (h->norigins == h->corigins) {
        size_t cap = h->corigins ? h->corigins * 2 : 4;
        struct sw_http_origin *no = realloc(h->origins, cap * sizeof(*no));
        size_t k;
        struct sw_http_xfer *x;

        if (!no) {
            return NULL;
        }
        /* Live transfers point into the array: move their pointers along. */
        for (x = h->xfers; x; x = x->next) {
            for (k = 0; k < h->norigins; k++) {
                if (x->origin == &h->origins[k]) {
                    x->origin = &no[k];
                    break;
                }
            }
        }
        h->origins = no;
        h->corigins = cap;
    }
    h->origins[h->norigins].name = strndup(url, n);
    if (!h->origins[h->norigins].name) {
        return NULL;
    }
    h->origins[h->norigins].running = 0;
    h->origins[h->norigins].waiting = 0;
    /* Adaptive limits start small and double per round trip while the host keeps up. */
    sw_climit_init(&h->origins[h->norigins].cl, h->opts.adaptive ? 4 : h->opts.max_host_connections,
                   h->opts.max_host_connections);
    return &h->origins[h->norigins++];
}

static void wait_unlink(struct sw_http_xfer *x)
{
    struct sw_http *h = x->h;

    if (!x->waiting) {
        return;
    }
    if (x->wprev) {
        x->wprev->wnext = x->wnext;
    } else {
        h->whead = x->wnext;
    }
    if (x->wnext) {
        x->wnext->wprev = x->wprev;
    } else {
        h->wtail = x->wprev;
    }
    x->wprev = x->wnext = NULL;
    x->waiting = 0;
    if (x->origin) {
        x->origin->waiting--;
    }
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
    wait_unlink(x);
    if (x->easy) {
        curl_multi_remove_handle(x->h->multi, x->easy);
        if (x->origin) {
            x->origin->running--;
        }
        if (x->h->npool < SW_HTTP_POOL) {
            curl_easy_reset(x->easy);
            x->h->pool[x->h->npool++] = x->easy;
        } else {
            curl_easy_cleanup(x->easy);
        }
    }
    curl_slist_free_all(x->hdrs);
    free(x->url);
    free(x->body);
    if (x->resp) {
        sw_http_resp_free(x->resp);
        free(x->resp);
    }
    free(x);
}

void sw_http_destroy(struct sw_http *h)
{
    size_t i;

    if (!h) {
        return;
    }
    /* Transfers still running (or waiting) at shutdown are dropped without callbacks. */
    while (h->xfers) {
        xfer_free(h->xfers);
    }
    while (h->npool > 0) {
        curl_easy_cleanup(h->pool[--h->npool]);
    }
    for (i = 0; i < h->norigins; i++) {
        free(h->origins[i].name);
    }
    free(h->origins);
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

/* Hand x to curl with what is left of its timeout. 0, or -1 (out of memory). */
static int xfer_start(struct sw_http_xfer *x, long timeout_ms)
{
    struct sw_http *h = x->h;

    x->easy = h->npool > 0 ? h->pool[--h->npool] : curl_easy_init();
    if (!x->easy) {
        return -1;
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
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
    /* curl allocates its receive buffer (default 16 KiB) when a transfer starts. A single
     * segment answer fits in 2 KiB; big pages just take more reads. */
    curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, SW_HTTP_RECV_BUFFER);
    curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->opts.ca_file) {
        curl_easy_setopt(x->easy, CURLOPT_CAINFO, h->opts.ca_file);
    }
    if (x->body) {
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
    }
    if (!strcmp(x->method, "GET")) {
        curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(x->method, "POST") != 0 || !x->body) {
        curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, x->method);
    }
    if (!strcmp(x->method, "HEAD")) {
        curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
    }
    if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        return -1;
    }
    if (x->origin) {
        x->origin->running++;
    }
    return 0;
}

static int slot_free(const struct sw_http *h, const struct sw_http_origin *o)
{
    return !o || h->opts.max_host_connections <= 0 || o->running < sw_climit_get(&o->cl);
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
    x->deadline_ms = mono_ms() + timeout_ms;
    snprintf(x->method, sizeof(x->method), "%s", req->method);
    x->resp = calloc(1, sizeof(*x->resp));
    x->url = strdup(req->url);
    if (!x->resp || !x->url) {
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
    if (req->body) {
        x->body = malloc(req->body_len + 1);
        if (!x->body) {
            goto fail;
        }
        memcpy(x->body, req->body, req->body_len);
        x->body[req->body_len] = '\0';
        x->body_len = req->body_len;
    }
    x->origin = origin_of(h, x->url);
    if (!x->origin) {
        goto fail;
    }
    /* Waiting ones of the same origin go first (FIFO), so a new request never overtakes them. */
    if (slot_free(h, x->origin) && x->origin->waiting == 0) {
        if (xfer_start(x, timeout_ms) != 0) {
            goto fail;
        }
    } else {
        x->waiting = 1;
        x->origin->waiting++;
        x->wprev = h->wtail;
        if (h->wtail) {
            h->wtail->wnext = x;
        } else {
            h->whead = x;
        }
        h->wtail = x;
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
    xfer_free(x);
    return NULL;
}

/* End a transfer that never reached curl: its callback gets a transport error. */
static void finish_unsent(struct sw_http_xfer *x, sw_err_t code, int64_t now, const char *why)
{
    struct sw_http_resp *resp = x->resp;
    sw_http_done_cb cb = x->cb;
    void *arg = x->arg;

    resp->transport_err = code;
    resp->ambiguous = 0; /* nothing was sent */
    resp->total_ms = 0;
    resp->total_us = 0;
    snprintf(resp->errmsg, sizeof(resp->errmsg), "%s (%s)", why, x->origin ? x->origin->name : "?");
    (void)now;
    x->resp = NULL;
    x->h->active--;
    xfer_free(x);
    cb(arg, resp);
}

static int any_slot_free(const struct sw_http *h)
{
    size_t i;

    for (i = 0; i < h->norigins; i++) {
        if (h->origins[i].waiting > 0 && slot_free(h, &h->origins[i])) {
            return 1;
        }
    }
    return 0;
}

/* Start waiting transfers, oldest first, while their origins have free slots. A failure to
 * start ends that transfer (its callback runs), and the scan begins again. */
static void promote(struct sw_http *h)
{
    struct sw_http_xfer *x = h->whead;
    int64_t now = -1;

    while (x && any_slot_free(h)) {
        struct sw_http_xfer *nx = x->wnext;

        if (slot_free(h, x->origin)) {
            if (now < 0) {
                now = mono_ms();
            }
            if (x->deadline_ms <= now) {
                x = nx; /* expire_waiting ends it */
                continue;
            }
            wait_unlink(x);
            if (xfer_start(x, (long)(x->deadline_ms - now)) != 0) {
                finish_unsent(x, SW_E_NOMEM, now, "could not start the HTTP request");
                x = h->whead;
                continue;
            }
        }
        x = nx;
    }
}

/* Waiting transfers whose timeout passed before a connection was free end with a timeout. */
static void expire_waiting(struct sw_http *h)
{
    int64_t now = mono_ms();
    struct sw_http_xfer *x;

    if (!h->whead || now < h->next_sweep_ms) {
        return;
    }
    h->next_sweep_ms = now + SW_HTTP_SWEEP_MS;
    x = h->whead;
    while (x) {
        if (x->deadline_ms <= now) {
            finish_unsent(x, SW_E_TIMEOUT, now,
                          "timed out waiting for a free connection (http.max_host_connections)");
            x = h->whead; /* the callback may have changed the queue */
            continue;
        }
        x = x->wnext;
    }
}

void sw_http_cancel(struct sw_http *h, struct sw_http_xfer *x)
{
    if (!x) {
        return;
    }
    h->active--;
    xfer_free(x);
    promote(h);
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
        resp->total_us = (long)total_us;
        if (m->data.result == CURLE_OK) {
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
            resp->transport_err = SW_E_OK;
        } else {
            classify_transport(x, m->data.result);
        }
        if (h->opts.adaptive && x->origin) {
            sw_climit_sample(&x->origin->cl, sw_now_mono_us(), (int64_t)total_us,
                             resp->status == 429 || resp->status == 503 ||
                                 resp->transport_err == SW_E_TIMEOUT ||
                                 resp->transport_err == SW_E_NETWORK_ERROR,
                             x->origin->running);
        }
        x->resp = NULL;
        h->active--;
        /* The callback may submit new transfers; free ours first so handles do not pile up. */
        {
            sw_http_done_cb cb = x->cb;
            void *arg = x->arg;

            xfer_free(x);
            promote(h); /* waiting requests first, before the callback submits new ones */
            cb(arg, resp);
        }
    }
    expire_waiting(h);
}
