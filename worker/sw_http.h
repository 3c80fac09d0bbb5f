/* HTTP request/response descriptions (what adapters produce and consume) and the curl-multi
 * engine that executes them on the event loop.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include "sw_buf.h"
#include "sw_err.h"

#include <curl/curl.h>
#include <stddef.h>

struct sw_http_header {
    char *name;
    char *value;
    int secret; /* redacted wherever the request is shown (debug output, logs) */
};

struct sw_http_headers {
    struct sw_http_header *v;
    size_t n;
    size_t cap;
};

void sw_http_headers_free(struct sw_http_headers *h);
/* Copies name and value. 0 on success. */
int sw_http_headers_add(struct sw_http_headers *h, const char *name, const char *value, int secret);
/* Case-insensitive lookup of the first header with that name. */
const char *sw_http_headers_get(const struct sw_http_headers *h, const char *name);

/* A request as an adapter describes it; owns all its memory. */
struct sw_http_req {
    char method[8];
    char *url;
    struct sw_http_headers headers;
    char *body; /* NULL when none */
    size_t body_len;
    int idempotent; /* safe to repeat after an ambiguous failure */
};

void sw_http_req_init(struct sw_http_req *req);
void sw_http_req_free(struct sw_http_req *req);

/* A finished exchange. transport_err is SW_E_OK when an HTTP status arrived. */
struct sw_http_resp {
    long status;
    struct sw_http_headers headers;
    struct sw_buf body;
    sw_err_t transport_err; /* SW_E_TIMEOUT, SW_E_NETWORK_ERROR, SW_E_RESULT_TOO_LARGE, ... */
    int ambiguous;          /* the request may have reached the provider */
    char errmsg[256];
    long total_ms;
    long total_us; /* the same, in microseconds */
};

void sw_http_resp_init(struct sw_http_resp *resp, size_t max_body);
void sw_http_resp_free(struct sw_http_resp *resp);

/* ---- the engine ---- */

struct sw_http_opts {
    long connect_timeout_ms;
    size_t max_body_bytes;
    size_t max_headers;
    long max_host_connections; /* 0 = curl's default */
    int adaptive;              /* per-host limits learn the host's capacity (sw_climit.h) */
    long max_total_connections;
    const char *ca_file; /* operator-only CA bundle, NULL = system */
};

struct sw_http;
struct sw_http_xfer;

/* Called once per submitted request when it finished; resp is the callee's to free with
 * sw_http_resp_free (it is heap-allocated: free it, then free(resp)). */
typedef void (*sw_http_done_cb)(void *arg, struct sw_http_resp *resp);

struct sw_http *sw_http_create(const struct sw_http_opts *opts);
void sw_http_destroy(struct sw_http *h);

/* Start a request; the request is copied into curl (the caller keeps req). timeout_ms is the
 * whole exchange's limit. Returns NULL on failure (st says why). */
struct sw_http_xfer *sw_http_submit(struct sw_http *h, const struct sw_http_req *req,
                                    long timeout_ms, sw_http_done_cb cb, void *arg,
                                    struct sw_status *st);
/* Abort a transfer; its callback is not called. */
void sw_http_cancel(struct sw_http *h, struct sw_http_xfer *x);

/* Wait for socket activity up to timeout_ms (also wakes on extra fds or sw_http_wakeup). */
int sw_http_wait(struct sw_http *h, struct curl_waitfd *extra, unsigned nextra, int timeout_ms);
/* Drive transfers and run the callbacks of finished ones. */
void sw_http_perform(struct sw_http *h);
/* Interrupt sw_http_wait from another thread or a signal-safe context. */
void sw_http_wakeup(struct sw_http *h);
int sw_http_active(const struct sw_http *h);

#endif
