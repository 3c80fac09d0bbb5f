/* Job engine (see sw_exec.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_exec.h"
#include "sw_json.h"
#include "sw_log.h"
#include "sw_result.h"
#include "sw_retry.h"
#include "sw_time.h"
#include "sw_trace.h"

#include "../tasks/sw_spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Room left in a result message for the envelope around the items. */
#define ENVELOPE_RESERVE 8192

struct sw_run {
    struct sw_engine *eng;
    struct sw_run *prev, *next;
    struct sw_job *job;
    const struct sw_spec *spec;
    const cJSON *op;
    const struct sw_account *acct;
    struct sw_accounts *store; /* the store acct lives in, kept alive while the run is */
    void *user;
    int is_list;
    int redelivered;

    struct sw_http_req req;
    struct sw_http_xfer *xfer;
    struct sw_timer timer;
    struct sw_rl_bucket *bucket; /* NULL: not rate limited */
    struct sw_rl_waiter rlw;
    int attempt;     /* tries of the current request */
    int max_attempt; /* most tries any request needed */
    int max_attempts;

    long long pages;
    long long total_items;
    int part_index;
    cJSON *part; /* unified items not yet emitted */
    size_t part_bytes;
    int truncated;
    uint64_t *seen; /* hashes of page URLs fetched, for the looping guard */
    size_t nseen;
    char *cursor; /* position of the page being fetched (NULL: the first), see sw_spec_map_page */

    cJSON *debug; /* response_format debug: facts of the last exchange */

    /* Cookie session (specs with "session"): the login exchange and whether the cookie came from
     * a login (then a 401 logs in again, once). */
    struct sw_http_req login_req;
    int session_login;
    int relogged;
    int login_tries;

    int64_t received_wall_ms;
    int64_t start_mono_ms;
    int64_t first_send_mono_ms;
    int64_t deadline_mono_ms; /* 0: none */
    long http_ms;
};

static void run_free(struct sw_run *r)
{
    struct sw_engine *eng;

    if (!r) {
        return;
    }
    eng = r->eng;
    if (r->prev) {
        r->prev->next = r->next;
    } else if (eng->runs == r) {
        eng->runs = r->next;
    }
    if (r->next) {
        r->next->prev = r->prev;
    }
    sw_timers_cancel(eng->timers, &r->timer);
    sw_rl_cancel(&r->rlw);
    if (r->xfer) {
        sw_http_cancel(eng->http, r->xfer);
    }
    sw_http_req_free(&r->req);
    sw_http_req_free(&r->login_req);
    cJSON_Delete(r->part);
    cJSON_Delete(r->debug);
    free(r->seen);
    free(r->cursor);
    sw_job_destroy(r->job);
    sw_accounts_destroy(r->store);
    eng->running--;
    free(r);
}

static void fill_meta(const struct sw_run *r, struct sw_result_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->job_id = r->job->job_id;
    m->operation = r->job->operation;
    m->provider = r->job->provider;
    m->account = r->job->account;
    m->response_format = r->job->format != SW_FMT_UNIFIED ? sw_format_name(r->job->format) : NULL;
    m->correlation = r->job->correlation;
    m->attempts = r->max_attempt;
    m->redelivered = r->redelivered;
    m->received_wall_ms = r->received_wall_ms;
    m->queue_ms = r->first_send_mono_ms ? (long)(r->first_send_mono_ms - r->start_mono_ms) : 0;
    m->http_ms = r->http_ms;
}

static int emit(struct sw_run *r, const cJSON *result, const struct sw_part_info *part,
                const struct sw_status *err, const cJSON *provider_error)
{
    struct sw_result_meta m;
    struct sw_emit em;
    size_t len = 0;
    char *payload;
    int rc;

    fill_meta(r, &m);
    payload = sw_result_build(&m, result, part, err, provider_error,
                              r->job->format == SW_FMT_DEBUG ? r->debug : NULL, &len);
    if (!payload) {
        return -1;
    }
    memset(&em, 0, sizeof(em));
    em.user = r->user;
    em.job_id = r->job->job_id;
    em.payload = payload;
    em.len = len;
    em.last = part->last;
    em.succeeded = err == NULL;
    em.code = err ? err->code : SW_E_OK;
    em.http_status = err ? err->http_status : 0;
    em.message = err ? err->msg : NULL;
    if (em.last) {
        struct sw_log_ctx lc = {r->job->job_id, r->job->provider, r->job->operation, r->attempt};

        sw_metrics_job_done(r->eng->metrics, r->job->provider, r->job->operation, em.code);
        if (!err) {
            sw_log_debug(&lc, "job succeeded: %d part(s), %lld item(s)", part->index + 1,
                         r->total_items);
        }
    }
    rc = r->eng->emit(r->eng->emit_arg, &em);
    cJSON_free(payload);
    return rc;
}

/* The job's last message is a failure; frees the run. */
static void finish_failed(struct sw_run *r, const struct sw_status *st, const cJSON *perr)
{
    struct sw_part_info part = {r->part_index, 0, 1, r->total_items, 0};
    struct sw_log_ctx lc = {r->job->job_id, r->job->provider, r->job->operation, r->attempt};

    sw_log_info(&lc, "job failed: %s: %s", sw_err_name(st->code), st->msg);
    emit(r, NULL, &part, st, perr);
    run_free(r);
}

static void fail(struct sw_run *r, sw_err_t code, sw_class_t cls, const char *msg)
{
    struct sw_status st;

    sw_status_clear(&st);
    sw_status_set(&st, code, cls, "%s", msg);
    finish_failed(r, &st, NULL);
}

/* ---- debug facts (redacted) ---- */

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

static cJSON *headers_json(const struct sw_http_headers *h, const struct sw_account *acct)
{
    cJSON *o = cJSON_CreateObject();
    size_t i;

    for (i = 0; o && i < h->n; i++) {
        const char *v = h->v[i].value;

        if (h->v[i].secret || secret_header(h->v[i].name) || has_secret(acct, v)) {
            v = "[redacted]";
        }
        cJSON_AddStringToObject(o, h->v[i].name, v);
    }
    return o;
}

static void record_debug(struct sw_run *r, const struct sw_http_resp *resp, const char *next)
{
    cJSON *d;
    cJSON *opts;

    if (r->job->format != SW_FMT_DEBUG) {
        return;
    }
    cJSON_Delete(r->debug);
    r->debug = d = cJSON_CreateObject();
    if (!d) {
        return;
    }
    cJSON_AddStringToObject(d, "request_url",
                            has_secret(r->acct, r->req.url) ? "[redacted]" : r->req.url);
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
    if (r->is_list) {
        if (next) {
            cJSON_AddStringToObject(d, "next_cursor",
                                    has_secret(r->acct, next) ? "[redacted]" : next);
        } else {
            cJSON_AddNullToObject(d, "next_cursor");
        }
        cJSON_AddBoolToObject(d, "is_looping", 0);
        cJSON_AddBoolToObject(d, "is_empty_result", r->total_items == 0);
        cJSON_AddNumberToObject(d, "result_count", (double)r->total_items);
    }
}

/* ---- sending ---- */

static void on_response(void *arg, struct sw_http_resp *resp);
static int session_expired(struct sw_run *r, const struct sw_http_resp *resp);

/* The request leaves now: the rate limiter granted it. */
static void send_granted(void *arg)
{
    struct sw_run *r = arg;
    struct sw_status st;
    long timeout = r->job->timeout_ms ? r->job->timeout_ms : r->eng->lim.timeout_ms;
    int64_t now = sw_now_mono_ms();

    sw_status_clear(&st);
    sw_timers_cancel(r->eng->timers, &r->timer); /* the deadline watch while queued */
    if (r->deadline_mono_ms) {
        if (now >= r->deadline_mono_ms) {
            fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
                 "the job's deadline passed before the request could be sent");
            return;
        }
        if (r->deadline_mono_ms - now < timeout) {
            timeout = (long)(r->deadline_mono_ms - now);
        }
    }
    if (!r->first_send_mono_ms) {
        r->first_send_mono_ms = now;
    }
    r->attempt++;
    if (r->attempt > r->max_attempt) {
        r->max_attempt = r->attempt;
    }
    sw_trace_set_child(&r->req.headers, r->job->traceparent, &r->eng->rng);
    r->xfer = sw_http_submit(r->eng->http, &r->req, timeout, on_response, r, &st);
    if (!r->xfer) {
        finish_failed(r, &st, NULL);
    }
}

static void rate_wait_expired(void *arg)
{
    struct sw_run *r = arg;

    sw_rl_cancel(&r->rlw);
    fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
         "the job's deadline passed while it waited for the provider's rate limit");
}

/* Granted after a wait in the rate limiter's queue: count the wait, then send. */
static void rate_granted(void *arg)
{
    struct sw_run *r = arg;

    sw_metrics_ratelimit_wait(r->eng->metrics, r->spec->name,
                              (long)(sw_now_mono_ms() - r->rlw.since_ms));
    send_granted(r);
}

/* Send the current request as soon as the provider's rate limit allows. */
static void send_now(void *arg)
{
    struct sw_run *r = arg;
    int64_t now = sw_now_mono_ms();

    if (r->deadline_mono_ms && now >= r->deadline_mono_ms) {
        fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
             "the job's deadline passed before the request could be sent");
        return;
    }
    if (sw_rl_acquire(r->bucket, &r->rlw, rate_granted, r, now)) {
        send_granted(r);
        return;
    }
    if (r->deadline_mono_ms &&
        sw_timers_add(r->eng->timers, &r->timer, r->deadline_mono_ms, rate_wait_expired, r) != 0) {
        fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory arming a deadline timer");
    }
}

/* End the job with st, a note appended to its message saying why no retry follows. Takes perr. */
static void give_up(struct sw_run *r, struct sw_status *st, cJSON *perr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void give_up(struct sw_run *r, struct sw_status *st, cJSON *perr, const char *fmt, ...)
{
    size_t n = strlen(st->msg);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->msg + n, sizeof(st->msg) - n, fmt, ap);
    va_end(ap);
    finish_failed(r, st, perr);
    cJSON_Delete(perr);
}

/* Back off, or give up when out of tries or past the deadline. Takes perr. */
static void retry_or_fail(struct sw_run *r, struct sw_status *st, cJSON *perr, int64_t hint_ms,
                          int have_hint)
{
    struct sw_engine *eng = r->eng;
    int64_t wait;
    int64_t now = sw_now_mono_ms();
    struct sw_log_ctx lc = {r->job->job_id, r->job->provider, r->job->operation, r->attempt};

    if (r->attempt >= r->max_attempts) {
        give_up(r, st, perr, " (gave up after %d attempts)", r->attempt);
        return;
    }
    if (have_hint) {
        /* The provider's wait is a floor; a little jitter keeps waiting jobs from stampeding. */
        wait =
            hint_ms + (int64_t)(sw_rand_next(&eng->rng) % (uint64_t)(eng->lim.retry_base_ms + 1));
    } else {
        wait = sw_retry_backoff_ms(r->attempt, eng->lim.retry_base_ms, eng->lim.retry_max_wait_ms,
                                   &eng->rng);
    }
    if (r->deadline_mono_ms && now + wait >= r->deadline_mono_ms) {
        st->code = SW_E_DEADLINE_EXCEEDED;
        give_up(r, st, perr, " (the next retry, in %lld ms, would pass the deadline)",
                (long long)wait);
        return;
    }
    /* A long wait would hold the partition's commit and a slot: hand the job to the retry
     * topic instead, unless it already published parts (a retry would repeat them). */
    if (wait > eng->lim.retry_max_inline_ms && wait <= eng->lim.retry_max_park_ms && eng->park &&
        r->part_index == 0 && r->pages == 0 &&
        eng->park(eng->emit_arg, r->user, sw_now_wall_ms() + wait, r->attempt) == 0) {
        sw_log_info(&lc, "parked for %lld ms in the retry topic: %s", (long long)wait, st->msg);
        cJSON_Delete(perr);
        run_free(r);
        return;
    }
    if (have_hint && hint_ms > eng->lim.retry_max_wait_ms) {
        give_up(r, st, perr,
                " (the provider asked to wait %lld ms, more than retry.max_backoff_ms)",
                (long long)hint_ms);
        return;
    }
    cJSON_Delete(perr);
    sw_metrics_retry(eng->metrics, r->spec->name, st->code);
    sw_log_debug(&lc, "retrying in %lld ms: %s", (long long)wait, st->msg);
    if (sw_timers_add(eng->timers, &r->timer, now + wait, send_now, r) != 0) {
        fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory arming a retry timer");
    }
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

/* ---- parts ---- */

static int flush_part(struct sw_run *r, int last)
{
    struct sw_part_info part;
    int n = r->part ? cJSON_GetArraySize(r->part) : 0;
    int rc;

    if (!r->part) {
        r->part = cJSON_CreateArray();
        if (!r->part) {
            return -1;
        }
    }
    part.index = r->part_index++;
    part.items = n;
    part.last = last;
    part.total_items = r->total_items;
    part.truncated = last && r->truncated;
    rc = emit(r, r->part, &part, NULL, NULL);
    cJSON_Delete(r->part);
    r->part = NULL;
    r->part_bytes = 0;
    return rc;
}

/* response_format stream: every list item is a part of its own (DESIGN.md §3, docs/PROVIDERS.md).
 */
static long long part_items_of(const struct sw_run *r)
{
    return r->job->format == SW_FMT_STREAM ? 1 : r->eng->lim.part_items;
}

/* Move a page's unified items into parts. Returns 0, or -1 with st set. */
static int take_items(struct sw_run *r, cJSON *items, struct sw_status *st)
{
    const struct sw_exec_limits *lim = &r->eng->lim;
    size_t cap = lim->max_result_bytes > ENVELOPE_RESERVE ? lim->max_result_bytes - ENVELOPE_RESERVE
                                                          : lim->max_result_bytes / 2;

    while (cJSON_GetArraySize(items) > 0) {
        cJSON *it = cJSON_DetachItemFromArray(items, 0);
        char *s = cJSON_PrintUnformatted(it);
        size_t sz = s ? strlen(s) : 0;

        cJSON_free(s);
        if (!s) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return -1;
        }
        if (r->job->max_items && r->total_items >= r->job->max_items) {
            cJSON_Delete(it);
            r->truncated = 1;
            return 0;
        }
        if (r->total_items >= lim->max_list_items) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                          "the list has more than limits.max_list_items (%lld) items",
                          lim->max_list_items);
            return -1;
        }
        if (sz > cap) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                          "one item is %zu bytes, more than fits in limits.max_result_bytes", sz);
            return -1;
        }
        if (r->part &&
            (r->part_bytes + sz + 1 > cap || cJSON_GetArraySize(r->part) >= part_items_of(r))) {
            if (flush_part(r, 0) != 0) {
                cJSON_Delete(it);
                sw_status_set(st, SW_E_INTERNAL_ERROR, SW_CLASS_RETRY,
                              "a result part could not be published");
                return -1;
            }
        }
        if (!r->part) {
            r->part = cJSON_CreateArray();
        }
        if (!r->part) {
            cJSON_Delete(it);
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return -1;
        }
        cJSON_AddItemToArray(r->part, it);
        r->part_bytes += sz + 1;
        r->total_items++;
    }
    return 0;
}

/* Advance to the next page: returns 1 when a request was sent, 0 when the list is complete,
 * -1 when the run was finished with an error. */
static int next_page(struct sw_run *r, const char *next)
{
    struct sw_status st;
    uint64_t h;
    size_t i;
    uint64_t *ns;

    if (!next || (r->job->max_items && r->total_items >= r->job->max_items)) {
        if (next) {
            r->truncated = 1;
        }
        return 0;
    }
    if (r->pages >= r->eng->lim.max_pages) {
        fail(r, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
             "the list has more pages than limits.max_pages");
        return -1;
    }
    h = fnv1a(next);
    for (i = 0; i < r->nseen; i++) {
        if (r->seen[i] == h) {
            if (r->debug) {
                cJSON_ReplaceItemInObject(r->debug, "is_looping", cJSON_CreateTrue());
            }
            fail(r, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                 "the provider's pagination loops: a next link repeats an earlier page");
            return -1;
        }
    }
    ns = realloc(r->seen, (r->nseen + 1) * sizeof(*ns));
    if (!ns) {
        fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        return -1;
    }
    r->seen = ns;
    r->seen[r->nseen++] = h;
    free(r->cursor);
    r->cursor = strdup(next);
    if (!r->cursor) {
        fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        return -1;
    }
    sw_status_clear(&st);
    sw_http_req_free(&r->req);
    if (sw_spec_build(r->spec, r->op, r->acct, r->job, next, &r->req, &st) != SW_E_OK) {
        finish_failed(r, &st, NULL);
        return -1;
    }
    r->attempt = 0;
    send_now(r);
    return 1;
}

static void on_success(struct sw_run *r, const struct sw_http_resp *resp)
{
    struct sw_status st;
    struct sw_page page;
    struct sw_part_info part = {0, 1, 1, 1, 0};
    const struct sw_exec_limits *lim = &r->eng->lim;
    int rc;

    sw_status_clear(&st);
    if (sw_spec_map_page(r->spec, r->op, r->job, r->cursor, resp, lim->max_depth, &page, &st) !=
        SW_E_OK) {
        st.http_status = (int)resp->status;
        record_debug(r, resp, NULL);
        sw_page_free(&page);
        finish_failed(r, &st, NULL);
        return;
    }
    r->pages++;
    if (!r->is_list) {
        r->total_items = 1;
        record_debug(r, resp, NULL);
        emit(r, page.result, &part, NULL, NULL);
        sw_page_free(&page);
        run_free(r);
        return;
    }
    if (r->job->format == SW_FMT_RAW) {
        /* raw: each provider page is one part, body untouched. */
        int more = page.next_url &&
                   !(r->job->max_items && r->total_items + page.items >= r->job->max_items);

        r->total_items += page.items;
        part.index = r->part_index++;
        part.items = page.items;
        part.last = !more;
        part.total_items = r->total_items;
        part.truncated = page.next_url && !more;
        if (r->total_items > lim->max_list_items) {
            sw_page_free(&page);
            fail(r, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                 "the list has more than limits.max_list_items items");
            return;
        }
        rc = emit(r, page.result, &part, NULL, NULL);
        if (!more) {
            sw_page_free(&page);
            run_free(r);
            return;
        }
        if (rc != 0) {
            sw_page_free(&page);
            fail(r, SW_E_INTERNAL_ERROR, SW_CLASS_RETRY, "a result part could not be published");
            return;
        }
        next_page(r, page.next_url);
        sw_page_free(&page);
        return;
    }
    if (take_items(r, page.result, &st) != 0) {
        sw_page_free(&page);
        finish_failed(r, &st, NULL);
        return;
    }
    record_debug(r, resp, page.next_url);
    rc = next_page(r, page.next_url);
    sw_page_free(&page);
    if (rc == 0) {
        flush_part(r, 1);
        run_free(r);
    }
}

static void on_response(void *arg, struct sw_http_resp *resp)
{
    struct sw_run *r = arg;
    struct sw_status st;
    int64_t hint = 0;
    int have_hint = 0;
    cJSON *perr;

    r->xfer = NULL;
    r->http_ms += resp->total_ms;
    sw_metrics_http(r->eng->metrics, r->spec->name,
                    resp->transport_err == SW_E_OK ? resp->status : 0, resp->total_ms);
    sw_status_clear(&st);
    if (resp->transport_err == SW_E_OK) {
        have_hint = sw_retry_hint_ms(&resp->headers, sw_spec_retry_hints(r->spec), resp->status,
                                     sw_now_wall_ms(), &hint);
        sw_rl_observe(r->bucket, resp->status, &resp->headers, hint, have_hint, sw_now_mono_ms(),
                      sw_now_wall_ms());
    }
    if (resp->transport_err != SW_E_OK) {
        sw_class_t cls =
            sw_retry_classify_transport(resp->transport_err, resp->ambiguous,
                                        r->req.idempotent || r->job->allow_ambiguous_retry);

        record_debug(r, resp, NULL);
        sw_status_set(&st,
                      resp->transport_err == SW_E_CONFIG ? SW_E_NETWORK_ERROR : resp->transport_err,
                      cls, "%s: %s", r->spec->name, resp->errmsg);
        if (cls == SW_CLASS_RETRY) {
            retry_or_fail(r, &st, NULL, 0, 0);
        } else {
            finish_failed(r, &st, NULL);
        }
        goto out;
    }
    if (resp->status >= 200 && resp->status < 300) {
        on_success(r, resp);
        goto out;
    }
    if (session_expired(r, resp)) {
        goto out;
    }
    record_debug(r, resp, NULL);
    perr = sw_spec_error(r->spec, resp, r->eng->lim.max_depth, &st);
    if (st.cls == SW_CLASS_RETRY && !r->req.idempotent && !r->job->allow_ambiguous_retry &&
        sw_retry_http_ambiguous(resp->status)) {
        /* A write that may have happened is not repeated unless the job says so. */
        st.cls = SW_CLASS_TERMINAL;
    }
    if (st.cls == SW_CLASS_RETRY) {
        retry_or_fail(r, &st, perr, hint, have_hint);
    } else {
        finish_failed(r, &st, perr);
        cJSON_Delete(perr);
    }
out:
    sw_http_resp_free(resp);
    free(resp);
}

/* ---- cookie sessions (Digital Audience, seed 001) ----
 * A spec with "session" authenticates with a cookie: the account's credential of that name when
 * the operator gives one, else the value the login call's Set-Cookie returns, kept per account
 * for later jobs. A 401 on a request that used a login cookie drops it and logs in once more. */

struct sw_session {
    struct sw_session *next;
    char *account;
    char *cookie;
};

static void session_free(struct sw_session *s)
{
    if (!s) {
        return;
    }
    if (s->cookie) {
        memset(s->cookie, 0, strlen(s->cookie));
    }
    free(s->cookie);
    free(s->account);
    free(s);
}

static struct sw_session **session_slot(struct sw_engine *eng, const char *account)
{
    struct sw_session **p = &eng->sessions;

    while (*p && strcmp((*p)->account, account)) {
        p = &(*p)->next;
    }
    return p;
}

static void session_forget(struct sw_engine *eng, const char *account)
{
    struct sw_session **p = session_slot(eng, account);
    struct sw_session *s = *p;

    if (s) {
        *p = s->next;
        session_free(s);
    }
}

static int session_store(struct sw_engine *eng, const char *account, const char *cookie)
{
    struct sw_session *s;

    session_forget(eng, account);
    s = calloc(1, sizeof(*s));
    if (!s || !(s->account = strdup(account)) || !(s->cookie = strdup(cookie))) {
        session_free(s);
        return -1;
    }
    s->next = eng->sessions;
    eng->sessions = s;
    return 0;
}

/* Set (or replace) "Cookie: name=value" on the run's request, marked secret. */
static int set_cookie(struct sw_http_req *req, const char *name, const char *value)
{
    char line[2048];
    size_t i;

    if ((size_t)snprintf(line, sizeof(line), "%s=%s", name, value) >= sizeof(line)) {
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

/* The value of cookie `name` among the response's Set-Cookie headers, copied into out. */
static int find_set_cookie(const struct sw_http_headers *h, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    size_t i;

    for (i = 0; i < h->n; i++) {
        const char *v = h->v[i].value;
        size_t vl;

        if (strcasecmp(h->v[i].name, "Set-Cookie")) {
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

static void on_login_response(void *arg, struct sw_http_resp *resp);
static void session_login(struct sw_run *r);

static void login_again(void *arg)
{
    session_login(arg);
}

/* A login that failed in a way that may pass (transport error, 429, 5xx) is tried again with the
 * usual back-off, up to the job's attempts and never past its deadline; then st ends the job. */
static void login_retry_or_fail(struct sw_run *r, struct sw_status *st, cJSON *perr)
{
    struct sw_engine *eng = r->eng;
    int64_t now = sw_now_mono_ms();
    int64_t wait;

    if (st->cls != SW_CLASS_RETRY || r->login_tries >= r->max_attempts) {
        finish_failed(r, st, perr);
        return;
    }
    wait = sw_retry_backoff_ms(r->login_tries, eng->lim.retry_base_ms, eng->lim.retry_max_wait_ms,
                               &eng->rng);
    if ((r->deadline_mono_ms && now + wait >= r->deadline_mono_ms) ||
        sw_timers_add(eng->timers, &r->timer, now + wait, login_again, r) != 0) {
        finish_failed(r, st, perr);
    }
}

/* Start the login exchange; the main request waits in r->req. */
static void session_login(struct sw_run *r)
{
    struct sw_status st;
    long timeout = r->job->timeout_ms ? r->job->timeout_ms : r->eng->lim.timeout_ms;

    sw_status_clear(&st);
    sw_http_req_free(&r->login_req);
    if (sw_spec_build_login(r->spec, r->acct, r->job, &r->login_req, &st) != SW_E_OK) {
        finish_failed(r, &st, NULL);
        return;
    }
    if (!r->first_send_mono_ms) {
        r->first_send_mono_ms = sw_now_mono_ms();
    }
    r->session_login = 1;
    r->login_tries++;
    if (r->login_tries > r->max_attempt) {
        r->max_attempt = r->login_tries;
    }
    r->xfer = sw_http_submit(r->eng->http, &r->login_req, timeout, on_login_response, r, &st);
    if (!r->xfer) {
        finish_failed(r, &st, NULL);
    }
}

static void on_login_response(void *arg, struct sw_http_resp *resp)
{
    struct sw_run *r = arg;
    const char *name = sw_json_str(sw_spec_session(r->spec), "cookie");
    struct sw_status st;
    char cookie[1100];
    cJSON *perr = NULL;

    r->xfer = NULL;
    r->http_ms += resp->total_ms;
    sw_status_clear(&st);
    if (resp->transport_err != SW_E_OK) {
        sw_status_set(&st,
                      resp->transport_err == SW_E_CONFIG ? SW_E_NETWORK_ERROR : resp->transport_err,
                      SW_CLASS_RETRY, "%s login: %s", r->spec->name, resp->errmsg);
        login_retry_or_fail(r, &st, NULL);
    } else if (resp->status < 200 || resp->status >= 300) {
        perr = sw_spec_error(r->spec, resp, r->eng->lim.max_depth, &st);
        if (st.code != SW_E_RATE_LIMITED && st.cls != SW_CLASS_RETRY) {
            st.code = SW_E_AUTH_FAILED; /* the login itself was refused */
        }
        login_retry_or_fail(r, &st, perr);
        cJSON_Delete(perr);
    } else if (!name || find_set_cookie(&resp->headers, name, cookie, sizeof(cookie)) != 0) {
        sw_status_set(&st, SW_E_AUTH_FAILED, SW_CLASS_TERMINAL,
                      "%s login answered HTTP %ld without a %s cookie", r->spec->name, resp->status,
                      name ? name : "session");
        st.http_status = (int)resp->status;
        finish_failed(r, &st, NULL);
    } else if (session_store(r->eng, r->acct->name, cookie) != 0 ||
               set_cookie(&r->req, name, cookie) != 0) {
        memset(cookie, 0, sizeof(cookie));
        fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory keeping the session cookie");
    } else {
        memset(cookie, 0, sizeof(cookie));
        send_now(r);
    }
    sw_http_resp_free(resp);
    free(resp);
}

/* Before the first request of a run: attach the session cookie, logging in when there is none.
 * Returns 1 when the run continues by itself (login started or failed), 0 to send now. */
static int session_begin(struct sw_run *r)
{
    const cJSON *sess = sw_spec_session(r->spec);
    const char *name = sw_json_str(sess, "cookie");
    const char *cred = sw_json_str(sess, "credential");
    const char *fixed = cred ? sw_account_cred(r->acct, cred) : NULL;
    struct sw_session *s;

    if (!sess || !name) {
        return 0;
    }
    if (fixed || (s = *session_slot(r->eng, r->acct->name)) != NULL) {
        r->session_login = !fixed;
        if (set_cookie(&r->req, name, fixed ? fixed : s->cookie) != 0) {
            fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return 1;
        }
        return 0;
    }
    session_login(r);
    return 1;
}

/* A 401 on a request that used a login cookie: the session expired; log in again, once. */
static int session_expired(struct sw_run *r, const struct sw_http_resp *resp)
{
    if (resp->status != 401 || !sw_spec_session(r->spec) || !r->session_login || r->relogged) {
        return 0;
    }
    r->relogged = 1;
    session_forget(r->eng, r->acct->name);
    r->attempt = 0;
    r->login_tries = 0;
    session_login(r);
    return 1;
}

/* ---- starting ---- */

void sw_exec_reject(struct sw_engine *eng, struct sw_job *job, const struct sw_status *st,
                    void *user, int64_t received_wall_ms)
{
    struct sw_result_meta m;
    struct sw_part_info part = {0, 0, 1, 0, 0};
    struct sw_emit em;
    char *payload;
    size_t len = 0;

    memset(&m, 0, sizeof(m));
    m.job_id = job ? job->job_id : NULL;
    m.operation = job ? job->operation : NULL;
    m.provider = job ? job->provider : NULL;
    m.account = job ? job->account : NULL;
    m.response_format = job && job->format != SW_FMT_UNIFIED ? sw_format_name(job->format) : NULL;
    m.correlation = job ? job->correlation : NULL;
    m.received_wall_ms = received_wall_ms;
    payload = job ? sw_result_build(&m, NULL, &part, st, NULL, NULL, &len) : NULL;
    memset(&em, 0, sizeof(em));
    em.user = user;
    em.job_id = job ? job->job_id : NULL;
    em.payload = payload;
    em.len = len;
    em.last = 1;
    em.code = st->code;
    em.http_status = st->http_status;
    em.message = st->msg;
    sw_metrics_job_done(eng->metrics, m.provider, m.operation, st->code);
    eng->emit(eng->emit_arg, &em);
    cJSON_free(payload);
    sw_job_destroy(job);
}

void sw_exec_start(struct sw_engine *eng, struct sw_job *job, void *user, int64_t received_wall_ms,
                   int redelivered)
{
    struct sw_run *r = calloc(1, sizeof(*r));
    struct sw_status st;
    int64_t now_wall = sw_now_wall_ms();

    sw_status_clear(&st);
    if (!r) {
        sw_status_set(&st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        sw_exec_reject(eng, job, &st, user, received_wall_ms);
        return;
    }
    r->eng = eng;
    r->job = job;
    r->user = user;
    r->redelivered = redelivered;
    r->received_wall_ms = received_wall_ms;
    r->start_mono_ms = sw_now_mono_ms();
    sw_timer_init(&r->timer);
    sw_http_req_init(&r->req);
    sw_http_req_init(&r->login_req);
    r->max_attempts = job->max_attempts ? job->max_attempts : eng->lim.max_attempts;
    /* A job back from the retry topic goes on counting its tries. */
    r->attempt = r->max_attempt = job->prior_attempts;
    eng->running++;
    r->next = eng->runs;
    if (eng->runs) {
        eng->runs->prev = r;
    }
    eng->runs = r;
    if (job->deadline_ms) {
        r->deadline_mono_ms = r->start_mono_ms + (job->deadline_ms - now_wall);
        if (job->deadline_ms <= now_wall) {
            fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
                 "the job's deadline had passed when it was received");
            return;
        }
    }
    r->spec = sw_specs_find(eng->specs, job->provider);
    if (!r->spec) {
        sw_status_set(&st, SW_E_UNKNOWN_PROVIDER, SW_CLASS_TERMINAL, "no provider named \"%s\"",
                      job->provider);
        finish_failed(r, &st, NULL);
        return;
    }
    r->store = sw_accounts_ref(eng->accounts);
    r->acct = sw_accounts_find(r->store, job->account);
    if (!r->acct) {
        sw_status_set(&st, SW_E_UNKNOWN_ACCOUNT, SW_CLASS_TERMINAL,
                      "no account named \"%s\" in the account store", job->account);
        finish_failed(r, &st, NULL);
        return;
    }
    if (strcmp(r->acct->provider, job->provider) != 0) {
        sw_status_set(&st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                      "account \"%s\" belongs to provider %s, not %s", job->account,
                      r->acct->provider, job->provider);
        finish_failed(r, &st, NULL);
        return;
    }
    r->op = sw_spec_op(r->spec, job);
    if (!r->op) {
        sw_status_set(&st, SW_E_UNSUPPORTED_OPERATION, SW_CLASS_TERMINAL,
                      "provider %s does not support %s", job->provider, job->operation);
        finish_failed(r, &st, NULL);
        return;
    }
    r->is_list = sw_spec_op_is_list(r->op);
    if (eng->rl) {
        struct sw_rl_limit lim[SW_RL_MAX_WINDOWS];
        const char *cls = sw_spec_limit_class(r->op);
        int n = sw_spec_rate_limits(r->spec, cls, lim, SW_RL_MAX_WINDOWS);

        r->bucket = sw_rl_bucket(eng->rl, job->provider, job->account, cls, lim, n);
    }
    if (sw_spec_build(r->spec, r->op, r->acct, job, NULL, &r->req, &st) != SW_E_OK) {
        finish_failed(r, &st, NULL);
        return;
    }
    if (session_begin(r)) {
        return;
    }
    send_now(r);
}

int sw_exec_abort(struct sw_engine *eng, void *user)
{
    struct sw_run *r;

    for (r = eng->runs; r; r = r->next) {
        if (r->user == user) {
            run_free(r);
            return 1;
        }
    }
    return 0;
}

void sw_exec_abort_all(struct sw_engine *eng)
{
    while (eng->runs) {
        run_free(eng->runs);
    }
    while (eng->sessions) {
        struct sw_session *s = eng->sessions;

        eng->sessions = s->next;
        session_free(s);
    }
}
