/* segsim: a loopback simulator of the providers' segment APIs for integration tests and
 * benchmarks. This file holds main (CLI, signals, lifetime) and the libmicrohttpd glue; the APIs
 * are the provider profiles (profiles/<provider>.json) served by sim_engine.c, the control API is
 * sim_control.c. See README.md.
 * SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sim_control.h"
#include "sim_engine.h"
#include "sim_profile.h"
#include "sim_state.h"
#include "sim_timer.h"
#include "sim_watch.h"

#define BODY_MAX_API     (64 * 1024) /* provider calls are GET/DELETE; anything bigger is abuse */
#define BODY_MAX_CONTROL 4096
#define MAX_IDS_DEFAULT  100000
#define MAX_DELAYED      200000

struct sim_opts {
    unsigned port;
    struct in_addr bind; /* 127.0.0.1 unless --bind names another private address */
    const char *port_file;
    const char *profiles_dir; /* --profiles: load these instead of the built-in profiles */
    unsigned threads;
    unsigned conn_limit;
    unsigned conn_timeout_s;
    long max_ids;
    long grace_ms;
    int enforce_limits;
    struct sim_fault *fault; /* one per profile */
    int *fault_set;
    const char *request_log;
};

/* Everything the request handlers share; owned by main and passed to MHD as the closure. */
struct sim_server {
    struct sim_state *st;
    struct sim_watch *watch;
    struct sim_timer *timer;
    struct sim_profiles *profiles;
    char host_fallback[32];
    FILE *reqlog; /* --request-log: one JSON line per provider request, NULL when off */
    pthread_mutex_t reqlog_lock;
};

/* Per-request record (MHD's con_cls), freed in on_completed. */
struct sim_conn {
    struct MHD_Connection *conn; /* NULL until the first on_request call */
    char *raw_uri;               /* the request target as received, before MHD decodes it */
    int provider;
    int delayed; /* the reply is decided and waits for the timer */
    char *body;
    size_t body_len;
    size_t body_max;
    int too_big;
    long long arrival_ms;
    struct sim_reply reply;
};

static long long epoch_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Provider number of a request (sim_state.h): its profile's, control, or other. */
static int classify(const struct sim_server *srv, const char *url)
{
    const struct sim_profile *p = sim_profiles_match(srv->profiles, url);

    if (p) {
        return p->provider;
    }
    return strncmp(url, "/_sim/", 6) == 0 ? srv->profiles->n : srv->profiles->n + 1;
}

static const char *header_or(struct MHD_Connection *conn, const char *name, const char *dflt)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

    return v ? v : dflt;
}

static enum MHD_Result send_reply(struct sim_server *srv, struct sim_conn *c, const char *url)
{
    struct sim_reply *r = &c->reply;
    struct MHD_Response *resp;
    enum MHD_Result ret = MHD_NO;
    long long now = epoch_ms();
    int i;

    if (r->body) {
        resp = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_COPY);
    } else {
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        goto out;
    }
    if (r->content_type &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type) != MHD_YES) {
        goto out;
    }
    for (i = 0; i < r->n_headers; i++) {
        if (MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value) != MHD_YES) {
            goto out;
        }
    }
    /* Record the wait we promise when it is sent, so delayed 429s are judged from send time. */
    if (r->promise_rel_ms || r->promise_abs_ms) {
        sim_state_note_promise(srv->st, c->provider,
                               header_or(c->conn, MHD_HTTP_HEADER_AUTHORIZATION, ""), url, now,
                               r->promise_abs_ms ? r->promise_abs_ms : now + r->promise_rel_ms);
    }
    sim_state_count(srv->st, c->provider, r->status);
    ret = MHD_queue_response(c->conn, r->status, resp);
out:
    MHD_destroy_response(resp);
    return ret;
}

static int dispatch(struct sim_server *srv, struct sim_conn *c, const char *url, const char *method)
{
    struct sim_req rq;

    memset(&rq, 0, sizeof(rq));
    rq.conn = c->conn;
    rq.method = method;
    rq.path = url;
    rq.host = header_or(c->conn, MHD_HTTP_HEADER_HOST, srv->host_fallback);
    rq.auth = header_or(c->conn, MHD_HTTP_HEADER_AUTHORIZATION, "");
    rq.body = c->body;
    rq.body_len = c->body_len;
    rq.now_ms = c->arrival_ms;
    rq.seq = sim_state_next_seq(srv->st);
    rq.st = srv->st;
    rq.watch = srv->watch;
    if (c->too_big) {
        return sim_reply_text(
            &c->reply, 413, "application/json",
            "{\"errors\":[{\"field\":null,\"message\":\"request body too large\"}]}");
    }
    if (c->provider == srv->profiles->n) {
        return sim_control_handle(&rq, &c->reply);
    }
    if (c->provider > srv->profiles->n) {
        return sim_reply_text(
            &c->reply, 404, "application/json",
            "{\"error\":\"segsim serves /api/, /v3/, /<provider>/ and /_sim/ only\"}");
    }
    return sim_engine_handle(&srv->profiles->p[c->provider], &rq, &c->reply);
}

static int append_body(struct sim_conn *c, const char *data, size_t n)
{
    char *nb;

    if (c->too_big || c->body_len + n > c->body_max) {
        c->too_big = 1; /* keep reading and discarding; answer 413 at the end */
        return 0;
    }
    nb = realloc(c->body, c->body_len + n + 1);
    if (!nb) {
        return -1;
    }
    memcpy(nb + c->body_len, data, n);
    c->body = nb;
    c->body_len += n;
    c->body[c->body_len] = '\0';
    return 0;
}

/* MHD's URI log callback runs first for every request and sees the target undecoded; its return
 * value becomes the request's con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct sim_conn *c = calloc(1, sizeof(*c));

    (void)cls;
    (void)conn;
    if (c) {
        c->raw_uri = strdup(uri ? uri : "");
    }
    return c;
}

static enum MHD_Result add_header_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    (void)value;
    return cJSON_AddItemToArray(cls, cJSON_CreateString(key)) ? MHD_YES : MHD_NO;
}

/* Record what reached us, so tests can check where a worker's requests went and what they
 * carried (the trace context, the header names); never header values or credentials. */
static void log_request(struct sim_server *srv, struct sim_conn *c, const char *method)
{
    cJSON *o;
    cJSON *names;
    char *line;
    const char *tp = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "traceparent");

    if (!srv->reqlog) {
        return;
    }
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "method", method) ||
        !cJSON_AddStringToObject(o, "uri", c->raw_uri ? c->raw_uri : "") ||
        !cJSON_AddStringToObject(o, "host", header_or(c->conn, MHD_HTTP_HEADER_HOST, "")) ||
        !(tp ? cJSON_AddStringToObject(o, "traceparent", tp)
             : cJSON_AddNullToObject(o, "traceparent"))) {
        cJSON_Delete(o);
        return;
    }
    names = cJSON_AddArrayToObject(o, "header_names");
    if (names) {
        MHD_get_connection_values(c->conn, MHD_HEADER_KIND, add_header_name, names);
    }
    line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (line) {
        pthread_mutex_lock(&srv->reqlog_lock);
        fprintf(srv->reqlog, "%s\n", line);
        fflush(srv->reqlog);
        pthread_mutex_unlock(&srv->reqlog_lock);
        cJSON_free(line);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct sim_server *srv = cls;
    struct sim_conn *c = *con_cls;

    (void)version;
    if (!c) {
        return MHD_NO; /* on_uri could not allocate */
    }
    if (!c->conn) {
        c->conn = conn;
        c->provider = classify(srv, url);
        c->body_max = c->provider == srv->profiles->n ? BODY_MAX_CONTROL : BODY_MAX_API;
        c->arrival_ms = epoch_ms();
        if (c->provider != srv->profiles->n) {
            log_request(srv, c, method);
        }
        if (c->provider < srv->profiles->n) {
            sim_state_note_arrival(srv->st, c->provider,
                                   header_or(conn, MHD_HTTP_HEADER_AUTHORIZATION, ""), url,
                                   c->arrival_ms);
        }
        if (c->provider != srv->profiles->n) {
            sim_watch_path(srv->watch, url);
        }
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (append_body(c, upload_data, *upload_data_size) != 0) {
            return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (c->delayed) {
        return send_reply(srv, c, url); /* resumed by the timer */
    }
    if (dispatch(srv, c, url, method) != 0) {
        sim_reply_free(&c->reply);
        if (sim_reply_text(&c->reply, 500, "application/json", "{\"error\":\"segsim: OOM\"}")) {
            return MHD_NO;
        }
    }
    if (c->reply.delay_ms > 0) {
        /* Park the connection instead of sleeping: the MHD thread stays free for others. Suspend
         * before scheduling so the timer can never resume a connection that is not suspended. */
        c->delayed = 1;
        MHD_suspend_connection(conn);
        if (sim_timer_add(srv->timer, sim_timer_now_ms() + c->reply.delay_ms, c) != 0) {
            MHD_resume_connection(conn); /* timer full or shutting down: answer now */
        }
        return MHD_YES;
    }
    return send_reply(srv, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct sim_conn *c = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (!c) {
        return;
    }
    sim_reply_free(&c->reply);
    free(c->body);
    free(c->raw_uri);
    free(c);
    *con_cls = NULL;
}

static void on_timer(void *item)
{
    struct sim_conn *c = item;

    MHD_resume_connection(c->conn);
}

static void usage(FILE *f, const struct sim_profiles *ps)
{
    int i;

    fprintf(f,
            "usage: segsim [--port N] [--port-file F] [--key PROVIDER=K]...\n"
            "              [--threads N] [--fault PROVIDER:KEY=VALUE]... [--max-ids N]\n"
            "              [--early-grace-ms N] [--conn-limit N] [--conn-timeout S]\n"
            "              [--enforce-limits 0|1]\n"
            "              [--bind ADDR]\n"
            "              [--request-log FILE]\n"
            "              [--profiles DIR] [PROFILE OPTION N]...\n"
            "PROVIDER is a profile's provider or '*' (for --fault); KEY is rate_503, rate_429,\n"
            "rate_bad_json, retry_after_s, delay_ms or seed. Binds 127.0.0.1 unless --bind\n"
            "names another loopback, private (10/8, 172.16/12, 192.168/16) or link-local IPv4\n"
            "address; prints PORT=<n>. --profiles DIR serves DIR/*.json instead of the built-in\n"
            "profiles. Profiles:");
    for (i = 0; ps && i < ps->n; i++) {
        fprintf(f, " %s", ps->p[i].name);
    }
    fprintf(f, "\nProfile options:\n");
    sim_profiles_usage(ps, f);
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;

    if (!s) {
        return -1;
    }
    v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Loopback, RFC 1918 private or link-local only: never an address the internet can reach. The
 * network-fault tests bind the simulator to a veth address inside a network namespace. */
static int parse_bind(const char *s, struct in_addr *out)
{
    uint32_t a;

    if (inet_pton(AF_INET, s, out) != 1) {
        return -1;
    }
    a = ntohl(out->s_addr);
    if ((a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8 ||
        (a >> 16) == 0xA9FE) {
        return 0;
    }
    return -1;
}

static int parse_fault_arg(struct sim_opts *o, const struct sim_profiles *ps, const char *arg)
{
    char prov[16];
    char key[32];
    const char *colon = strchr(arg, ':');
    const char *eq = colon ? strchr(colon, '=') : NULL;
    char *end = NULL;
    double v;
    int p;

    if (!colon || !eq || (size_t)(colon - arg) >= sizeof(prov) ||
        (size_t)(eq - colon - 1) >= sizeof(key)) {
        return -1;
    }
    snprintf(prov, sizeof(prov), "%.*s", (int)(colon - arg), arg);
    snprintf(key, sizeof(key), "%.*s", (int)(eq - colon - 1), colon + 1);
    v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end) {
        return -1;
    }
    for (p = 0; p < ps->n; p++) {
        if (strcmp(prov, "*") != 0 && strcmp(prov, ps->p[p].name) != 0) {
            continue;
        }
        if (sim_fault_set_key(&o->fault[p], key, v) != 0) {
            return -1;
        }
        o->fault_set[p] = 1;
    }
    return strcmp(prov, "*") == 0 || sim_profiles_find(ps, prov) ? 0 : -1;
}

/* --key PROVIDER=K: the credential that profile accepts. */
static int parse_key_arg(struct sim_profiles *ps, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char prov[64];
    struct sim_profile *p;

    if (!eq || !eq[1] || (size_t)(eq - arg) >= sizeof(prov)) {
        return -1;
    }
    snprintf(prov, sizeof(prov), "%.*s", (int)(eq - arg), arg);
    p = sim_profiles_find(ps, prov);
    if (!p) {
        return -1;
    }
    p->key = eq + 1;
    return 0;
}

static int parse_args(int argc, char **argv, struct sim_opts *o, struct sim_profiles *ps)
{
    long v;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, ps);
            return 1;
        }
        if (!val) {
            fprintf(stderr, "segsim: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--port") == 0 && parse_num(val, 0, 65535, &v) == 0) {
            o->port = (unsigned)v;
        } else if (strcmp(a, "--bind") == 0 && parse_bind(val, &o->bind) == 0) {
            continue;
        } else if (strcmp(a, "--port-file") == 0) {
            o->port_file = val;
        } else if (strcmp(a, "--profiles") == 0) {
            continue; /* read before the profiles were loaded */
        } else if (strcmp(a, "--key") == 0 && parse_key_arg(ps, val) == 0) {
            continue;
        } else if (strcmp(a, "--threads") == 0 && parse_num(val, 1, 256, &v) == 0) {
            o->threads = (unsigned)v;
        } else if (strcmp(a, "--fault") == 0 && parse_fault_arg(o, ps, val) == 0) {
            continue;
        } else if (strcmp(a, "--max-ids") == 0 && parse_num(val, 1, 100000000, &v) == 0) {
            o->max_ids = v;
        } else if (strcmp(a, "--early-grace-ms") == 0 && parse_num(val, 0, 60000, &v) == 0) {
            o->grace_ms = v;
        } else if (strcmp(a, "--enforce-limits") == 0 && parse_num(val, 0, 1, &v) == 0) {
            o->enforce_limits = (int)v;
        } else if (sim_profiles_set_option(ps, a, val) == 0) {
            continue;
        } else if (strcmp(a, "--conn-limit") == 0 && parse_num(val, 1, 1000000, &v) == 0) {
            o->conn_limit = (unsigned)v;
        } else if (strcmp(a, "--conn-timeout") == 0 && parse_num(val, 1, 3600, &v) == 0) {
            o->conn_timeout_s = (unsigned)v;
        } else if (strcmp(a, "--request-log") == 0) {
            o->request_log = val;
        } else {
            fprintf(stderr, "segsim: bad option or value: %s %s\n", a, val);
            return -1;
        }
    }
    for (i = 0; i < ps->n; i++) {
        if (o->fault_set[i] && sim_fault_check(&o->fault[i]) != 0) {
            fprintf(stderr, "segsim: %s fault rates must sum to at most 1\n", ps->p[i].name);
            return -1;
        }
    }
    return 0;
}

/* Write via a temp file + rename so a polling reader never sees a partial number. */
static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f = NULL;
    int rc = -1;
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());

    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        goto out;
    }
    f = fopen(tmp, "w");
    if (!f) {
        goto out;
    }
    if (fprintf(f, "%u\n", port) < 0) {
        goto out;
    }
    if (fclose(f) != 0) {
        f = NULL;
        goto out;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        goto out;
    }
    rc = 0;
out:
    if (f) {
        fclose(f);
    }
    if (rc != 0) {
        unlink(tmp);
    }
    return rc;
}

/* Thousands of parked connections need as many descriptors as the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static struct MHD_Daemon *start_daemon(const struct sim_opts *o, struct sim_server *srv)
{
    struct sockaddr_in addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)o->port);
    addr.sin_addr = o->bind; /* loopback or private only (parse_bind), never a public interface */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(o->threads > 1 ? o->threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, o->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT,
        o->conn_timeout_s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096U, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_END);
}

/* The profiles to serve: --profiles DIR when given (looked for before the other options, which
 * may name profiles), else the built-in ones. */
static struct sim_profiles *load_profiles(int argc, char **argv)
{
    struct sim_profiles *ps;
    const char *dir = NULL;
    char err[512];
    int i;

    for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--profiles") == 0) {
            dir = argv[i + 1];
        }
    }
    ps =
        dir ? sim_profiles_load_dir(dir, err, sizeof(err)) : sim_profiles_builtin(err, sizeof(err));
    if (!ps) {
        fprintf(stderr, "segsim: bad profiles: %s\n", err);
    }
    return ps;
}

int main(int argc, char **argv)
{
    struct sim_opts o;
    struct sim_server srv;
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *info;
    sigset_t sigs;
    unsigned port;
    int sig = 0;
    int rc = 1;
    int p;

    memset(&o, 0, sizeof(o));
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.reqlog_lock, NULL);
    srv.profiles = load_profiles(argc, argv);
    if (!srv.profiles) {
        goto out;
    }
    o.bind.s_addr = htonl(INADDR_LOOPBACK);
    o.threads = 2;
    o.conn_limit = 10000;
    o.conn_timeout_s = 60;
    o.max_ids = MAX_IDS_DEFAULT;
    o.grace_ms = 5;
    o.fault = calloc((size_t)srv.profiles->n, sizeof(*o.fault));
    o.fault_set = calloc((size_t)srv.profiles->n, sizeof(*o.fault_set));
    if (!o.fault || !o.fault_set) {
        fprintf(stderr, "segsim: out of memory\n");
        goto out;
    }
    for (p = 0; p < srv.profiles->n; p++) {
        sim_fault_defaults(&o.fault[p]);
    }
    p = parse_args(argc, argv, &o, srv.profiles);
    if (p != 0) {
        if (p < 0) {
            usage(stderr, srv.profiles);
        }
        rc = p < 0 ? 2 : 0;
        goto out;
    }
    /* Block the stop signals in every thread; main collects them with sigwait below. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();

    srv.st = sim_state_new(srv.profiles->names, srv.profiles->n, (size_t)o.max_ids, o.grace_ms);
    srv.timer = sim_timer_new(MAX_DELAYED, on_timer);
    srv.watch = sim_watch_new(o.enforce_limits, o.max_ids);
    if (o.request_log) {
        srv.reqlog = fopen(o.request_log, "a");
        if (!srv.reqlog) {
            fprintf(stderr, "segsim: cannot open %s\n", o.request_log);
            goto out;
        }
    }
    if (!srv.st || !srv.timer || !srv.watch) {
        fprintf(stderr, "segsim: out of memory\n");
        goto out;
    }
    for (p = 0; p < srv.profiles->n; p++) {
        if (o.fault_set[p]) {
            sim_state_set_fault(srv.st, p, &o.fault[p]);
        }
    }
    d = start_daemon(&o, &srv);
    if (!d) {
        fprintf(stderr, "segsim: cannot listen on %s:%u\n", inet_ntoa(o.bind), o.port);
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : 0;
    if (!port) {
        fprintf(stderr, "segsim: cannot read the bound port\n");
        goto out;
    }
    snprintf(srv.host_fallback, sizeof(srv.host_fallback), "%s:%u", inet_ntoa(o.bind), port);
    printf("PORT=%u\n", port);
    fflush(stdout);
    if (o.port_file && write_port_file(o.port_file, port) != 0) {
        fprintf(stderr, "segsim: cannot write port file %s\n", o.port_file);
        goto out;
    }
    if (sigwait(&sigs, &sig) != 0) {
        goto out;
    }
    rc = 0;
out:
    /* MHD must not be stopped with suspended connections: fire every pending delay first. */
    sim_timer_drain(srv.timer);
    if (d) {
        MHD_stop_daemon(d);
    }
    sim_timer_free(srv.timer);
    sim_state_free(srv.st);
    sim_watch_free(srv.watch);
    if (srv.reqlog) {
        fclose(srv.reqlog);
    }
    pthread_mutex_destroy(&srv.reqlog_lock);
    sim_profiles_free(srv.profiles);
    free(o.fault);
    free(o.fault_set);
    return rc;
}
