/* Admin listener (see sw_admin.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_admin.h"
#include "sw_metrics.h"
#include "sw_time.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* The listener must answer probes whoever else is connected: anything in the cluster can open
 * connections and trickle bytes into them. Slow clients hold connections (each dropped after
 * CONN_IDLE_S without a byte, its request head bounded by CONN_MEMORY), never a thread: the
 * threads poll every connection. One client address holds at most PER_CLIENT of the CONN_LIMIT
 * connections, so the kubelet's probes always find room unless many addresses conspire. */
#define ADMIN_THREADS 2U
#define CONN_LIMIT    512U
#define PER_CLIENT    32U
#define CONN_IDLE_S   5U
#define CONN_MEMORY   ((size_t)16384)

struct sw_admin {
    struct MHD_Daemon *d;
    struct sw_metrics *m;
    int64_t max_stall_ms;
    int port;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    enum MHD_Result ret;

    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE) {
            free(body);
        }
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return reply(conn, status, "text/plain; charset=utf-8", (char *)text, strlen(text),
                 MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct sw_admin *a = cls;
    int64_t now = sw_now_mono_ms();
    char buf[512];

    (void)version;
    (void)upload;
    if (!*con_cls) {
        *con_cls = a; /* first call: headers only; answer on the second */
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* no endpoint takes a body; ignore it */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if (!strcmp(url, "/metrics")) {
        size_t len = 0;
        char *text = sw_metrics_render(a->m, &len);

        if (!text) {
            return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        }
        return reply(conn, MHD_HTTP_OK, METRICS_CTYPE, text, len, MHD_RESPMEM_MUST_FREE);
    }
    if (!strcmp(url, "/healthz") || !strcmp(url, "/readyz")) {
        char why[sizeof(buf) - 1];
        int ok = url[1] == 'h' ? sw_metrics_healthy(a->m, now, a->max_stall_ms, why, sizeof(why))
                               : sw_metrics_ready(a->m, now, a->max_stall_ms, why, sizeof(why));

        snprintf(buf, sizeof(buf), "%s\n", why);
        return reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                     "text/plain; charset=utf-8", buf, strlen(buf), MHD_RESPMEM_MUST_COPY);
    }
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz, /readyz\n");
}

/* Split "host:port", "[v6]:port" or ":port". 0 on success. */
static int split_addr(const char *addr, char *host, size_t hn, char *port, size_t pn)
{
    const char *colon;
    size_t hl;

    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');

        if (!close || close[1] != ':') {
            return -1;
        }
        hl = (size_t)(close - addr - 1);
        colon = close + 1;
        addr++;
    } else {
        colon = strrchr(addr, ':');
        if (!colon) {
            return -1;
        }
        hl = (size_t)(colon - addr);
    }
    if (hl >= hn || strlen(colon + 1) >= pn || !colon[1]) {
        return -1;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    snprintf(port, pn, "%s", colon + 1);
    return 0;
}

/* Parse and resolve addr into *res (freeaddrinfo it). 0 on success. */
static int resolve(const char *addr, struct addrinfo **res, struct sw_status *st)
{
    struct addrinfo hints;
    char host[256], port[16];
    int gai;

    if (split_addr(addr, host, sizeof(host), port, sizeof(port)) != 0) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                      "http_addr \"%s\": expected host:port, [ipv6]:port or :port", addr);
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    gai = getaddrinfo(host[0] ? host : NULL, port, &hints, res);
    if (gai != 0) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "http_addr \"%s\": %s", addr,
                      gai_strerror(gai));
        return -1;
    }
    return 0;
}

int sw_admin_check_addr(const char *addr, struct sw_status *st)
{
    struct addrinfo *res = NULL;

    if (resolve(addr, &res, st) != 0) {
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

struct sw_admin *sw_admin_start(const char *addr, struct sw_metrics *m, int64_t max_stall_ms,
                                struct sw_status *st)
{
    struct sw_admin *a = NULL;
    struct addrinfo *res = NULL;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

    if (resolve(addr, &res, st) != 0) {
        return NULL;
    }
    a = calloc(1, sizeof(*a));
    if (!a) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
        goto out;
    }
    a->m = m;
    a->max_stall_ms = max_stall_ms;
    if (res->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    a->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a, MHD_OPTION_SOCK_ADDR, res->ai_addr,
                            MHD_OPTION_THREAD_POOL_SIZE, ADMIN_THREADS, MHD_OPTION_CONNECTION_LIMIT,
                            CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT, PER_CLIENT,
                            MHD_OPTION_CONNECTION_TIMEOUT, CONN_IDLE_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY, MHD_OPTION_END);
    if (!a->d) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "http_addr \"%s\": cannot listen", addr);
        free(a);
        a = NULL;
        goto out;
    }
    info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : 0;
out:
    freeaddrinfo(res);
    return a;
}

int sw_admin_port(const struct sw_admin *a)
{
    return a ? a->port : 0;
}

void sw_admin_stop(struct sw_admin *a)
{
    if (!a) {
        return;
    }
    MHD_stop_daemon(a->d);
    free(a);
}
