/* A job's run: the state machine that takes it from its first request to its one final message
 * (see sw_run.h for the states and the ownership rules). Each wake-up (timer, rate-limit grant,
 * HTTP completion) moves the run to its next state or ends it through sw_run_end(), the one
 * function that ends a run; curl's multi_runsingle() is the model.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_classify.h"
#include "sw_log.h"
#include "sw_params.h"
#include "sw_redact.h"
#include "sw_retry.h"
#include "sw_run.h"
#include "sw_time.h"
#include "sw_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void log_ctx(const struct sw_run *r, struct sw_log_ctx *lc)
{
    lc->job_id = r->job->job_id;
    lc->provider = r->job->provider;
    lc->operation = r->job->operation;
    lc->attempt = r->attempt;
}

/* Frees the run and everything it owns. Only sw_run_end and aborts call it. */
static void run_release(struct sw_run *r)
{
    struct sw_engine *eng = r->eng;

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
    free(r->pending_next);
    sw_resume_free(&r->emitted_at);
    sw_resume_free(&r->taken_at);
    sw_job_destroy(r->job);
    sw_accounts_destroy(r->store);
    eng->running--;
    free(r);
}

static int is_list(const struct sw_run *r)
{
    return r->op && r->op->kind == SW_RESULT_ITEMS;
}

/* A failure's words come from the provider or the exchange: they leave the worker (result, dead
 * letter and its headers, log lines) only redacted. perr may be NULL. */
static void redact_failure(const struct sw_run *r, struct sw_status *st, cJSON *perr)
{
    sw_redact_buf(st->msg, sizeof(st->msg), r->acct);
    if (sw_redact_json(perr, r->acct) != 0) {
        sw_log_warn(NULL,
                    "job %s: out of memory redacting the provider's error body; emptied "
                    "what could not be redacted",
                    r->job->job_id);
    }
}

void sw_run_end(struct sw_run *r, enum sw_run_outcome outcome, const struct sw_status *err,
                cJSON *perr, const cJSON *result)
{
    struct sw_log_ctx lc;
    struct sw_part_info part;
    struct sw_status clean;

    memset(&part, 0, sizeof(part));
    part.index = r->part_index;
    part.last = 1;
    part.total_items = r->total_items;
    log_ctx(r, &lc);
    if (outcome == SW_RUN_FAILED) {
        clean = *err;
        redact_failure(r, &clean, perr);
        err = &clean;
    }
    if (outcome == SW_RUN_PARKED) {
        cJSON_Delete(perr);
        run_release(r);
        return;
    }
    sw_metrics_job_time(r->eng->metrics, r->job->provider, r->job->operation,
                        outcome != SW_RUN_FAILED,
                        (long)((sw_now_wall_us() - r->received_wall_us) / 1000));
    if (outcome == SW_RUN_FAILED) {
        struct sw_status st = *err;
        cJSON *resume = is_list(r) ? sw_relist_resume(r, &st) : NULL;

        /* Only what was published counts: the failed message closes the parts before it. */
        part.index = r->part_index;
        part.total_items = is_list(r) ? r->published_items : 0;
        part.resume = resume;
        sw_log_info(&lc, "job failed: %s: %s", sw_err_name(st.code), st.msg);
        sw_metrics_job_done(r->eng->metrics, r->job->provider, r->job->operation, st.code);
        sw_run_emit(r, NULL, &part, &st, perr);
        cJSON_Delete(resume);
    } else if (result) {
        /* A single answer, or a raw list's last page. */
        part.items = r->page_items;
        part.truncated = r->truncated;
        sw_metrics_job_done(r->eng->metrics, r->job->provider, r->job->operation, SW_E_OK);
        sw_log_debug(&lc, "job succeeded");
        sw_run_emit(r, result, &part, NULL, NULL);
    } else {
        sw_metrics_job_done(r->eng->metrics, r->job->provider, r->job->operation, SW_E_OK);
        sw_log_debug(&lc, "job succeeded: %d part(s), %lld item(s)", r->part_index + 1,
                     r->total_items);
        sw_parts_flush(r, 1);
    }
    cJSON_Delete(perr);
    run_release(r);
}

void sw_run_fail(struct sw_run *r, sw_err_t code, sw_class_t cls, const char *msg)
{
    struct sw_status st;

    sw_status_clear(&st);
    sw_status_set(&st, code, cls, "%s", msg);
    sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
}

void sw_run_fail_emit(struct sw_run *r)
{
    struct sw_status st;

    if (r->emit_err.code) {
        st = r->emit_err;
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    sw_run_fail(r, SW_E_INTERNAL_ERROR, SW_CLASS_RETRY, "a result part could not be published");
}

long sw_run_timeout_ms(const struct sw_run *r, int64_t now_mono_ms)
{
    long timeout = r->job->timeout_ms ? r->job->timeout_ms : r->eng->lim.timeout_ms;

    if (r->deadline_mono_ms && r->deadline_mono_ms - now_mono_ms < timeout) {
        timeout = (long)(r->deadline_mono_ms - now_mono_ms);
    }
    return timeout;
}

/* ---- sending ---- */

static void on_response(void *arg, struct sw_http_resp *resp);

/* The rate limiter granted the request: it leaves now. */
static void send_granted(struct sw_run *r)
{
    struct sw_status st;
    int64_t now = sw_now_mono_ms();

    sw_status_clear(&st);
    sw_timers_cancel(r->eng->timers, &r->timer); /* the deadline watch while queued */
    if (r->deadline_mono_ms && now >= r->deadline_mono_ms) {
        sw_run_fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
                    "the job's deadline passed before the request could be sent");
        return;
    }
    if (!r->first_send_mono_ms) {
        r->first_send_mono_ms = now;
        r->first_send_mono_us = sw_now_mono_us();
    }
    r->attempt++;
    if (r->attempt > r->max_attempt) {
        r->max_attempt = r->attempt;
    }
    sw_trace_set_child(&r->req.headers, r->job->traceparent, &r->eng->rng);
    r->xfer = sw_http_submit(r->eng->http, &r->req, sw_run_timeout_ms(r, now), on_response, r, &st);
    if (!r->xfer) {
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    r->state = SW_RUN_SENDING;
}

/* Granted after a wait in the rate limiter's queue: count the wait, then send. */
static void on_rate_granted(void *arg)
{
    struct sw_run *r = arg;

    sw_metrics_ratelimit_wait(r->eng->metrics, r->prov->name,
                              (long)(sw_now_mono_ms() - r->rlw.since_ms));
    send_granted(r);
}

/* The deadline passed while the run waited for the rate limiter. */
static void on_rate_deadline(void *arg)
{
    struct sw_run *r = arg;

    sw_rl_cancel(&r->rlw);
    sw_run_fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
                "the job's deadline passed while it waited for the provider's rate limit");
}

void sw_run_send(struct sw_run *r)
{
    int64_t now = sw_now_mono_ms();

    if (r->deadline_mono_ms && now >= r->deadline_mono_ms) {
        sw_run_fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
                    "the job's deadline passed before the request could be sent");
        return;
    }
    if (sw_rl_acquire(r->bucket, &r->rlw, on_rate_granted, r, now)) {
        send_granted(r);
        return;
    }
    r->state = SW_RUN_RATE_WAIT;
    if (r->deadline_mono_ms &&
        sw_timers_add(r->eng->timers, &r->timer, r->deadline_mono_ms, on_rate_deadline, r) != 0) {
        sw_rl_cancel(&r->rlw);
        sw_run_fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory arming a deadline timer");
    }
}

static void on_backoff_over(void *arg)
{
    sw_run_send(arg);
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
    sw_run_end(r, SW_RUN_FAILED, st, perr, NULL);
}

/* Back off, park, or give up when out of tries or past the deadline. Takes perr. */
static void retry_or_end(struct sw_run *r, struct sw_status *st, cJSON *perr, int64_t hint_ms,
                         int have_hint)
{
    struct sw_engine *eng = r->eng;
    int64_t now = sw_now_mono_ms();
    struct sw_log_ctx lc;
    int64_t wait;

    log_ctx(r, &lc);
    redact_failure(r, st, perr);
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
        sw_run_end(r, SW_RUN_PARKED, NULL, perr, NULL);
        return;
    }
    if (have_hint && hint_ms > eng->lim.retry_max_wait_ms) {
        give_up(r, st, perr,
                " (the provider asked to wait %lld ms, more than retry.max_backoff_ms)",
                (long long)hint_ms);
        return;
    }
    cJSON_Delete(perr);
    sw_metrics_retry(eng->metrics, r->prov->name, st->code);
    sw_log_debug(&lc, "retrying in %lld ms: %s", (long long)wait, st->msg);
    r->state = SW_RUN_BACKOFF;
    if (sw_timers_add(eng->timers, &r->timer, now + wait, on_backoff_over, r) != 0) {
        sw_run_fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory arming a retry timer");
    }
}

/* ---- lists ---- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

/* Build and send the request for the page at r->pending_next (taken). */
static void fetch_next(struct sw_run *r)
{
    struct sw_status st;
    uint64_t h = fnv1a(r->pending_next);
    uint64_t *ns;
    size_t i;

    for (i = 0; i < r->nseen; i++) {
        if (r->seen[i] == h) {
            r->no_resume = 1; /* going on from here would deliver the same items again */
            sw_debug_list_state(r, 1);
            sw_run_fail(r, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                        "the provider's pagination loops: a next link repeats an earlier page");
            return;
        }
    }
    ns = realloc(r->seen, (r->nseen + 1) * sizeof(*ns));
    if (!ns) {
        sw_run_fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        return;
    }
    r->seen = ns;
    r->seen[r->nseen++] = h;
    free(r->cursor);
    r->cursor = r->pending_next;
    r->pending_next = NULL;
    sw_status_clear(&st);
    sw_http_req_free(&r->req);
    if (r->prov->ad->build(r->prov, r->op, r->acct, r->job, r->cursor, &r->req, &st) != SW_E_OK) {
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    r->attempt = 0;
    sw_run_send(r);
}

/* After a page: end the list when it is complete, else go on with next (taken) as soon as the
 * publisher can take more. */
static void continue_list(struct sw_run *r, char *next)
{
    if (!next || (r->job->max_items && r->total_items >= r->job->max_items)) {
        r->truncated = r->truncated || next != NULL;
        free(next);
        sw_run_end(r, SW_RUN_SUCCEEDED, NULL, NULL, NULL);
        return;
    }
    if (r->pages >= r->eng->lim.max_pages) {
        free(next);
        sw_run_fail(r, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                    "the list has more pages than limits.max_pages");
        return;
    }
    free(r->pending_next);
    r->pending_next = next;
    if (r->eng->output_busy && r->eng->output_busy(r->eng->emit_arg)) {
        r->state = SW_RUN_OUTPUT_WAIT; /* sw_exec_output_ready wakes it */
        return;
    }
    fetch_next(r);
}

/* raw: each provider page is one part, its body untouched. */
static void raw_page(struct sw_run *r, struct sw_page *page)
{
    struct sw_part_info part;
    int more =
        page->next && !(r->job->max_items && r->total_items + page->items >= r->job->max_items);
    char *next;

    r->total_items += page->items;
    if (r->total_items > r->eng->lim.max_list_items) {
        r->total_items -= page->items;
        sw_parts_mark(r, &r->taken_at, r->cursor, 0);
        sw_page_free(page);
        sw_run_fail(r, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                    "the list has more than limits.max_list_items items");
        return;
    }
    if (!more) {
        /* The last page is the final message. */
        r->page_items = page->items;
        r->truncated = page->next != NULL;
        sw_run_end(r, SW_RUN_SUCCEEDED, NULL, NULL, page->result);
        sw_page_free(page);
        return;
    }
    memset(&part, 0, sizeof(part));
    part.index = r->part_index;
    part.items = page->items;
    part.total_items = r->total_items;
    if (sw_run_emit(r, page->result, &part, NULL, NULL) != 0) {
        r->part_lost = 1;
        sw_page_free(page);
        sw_run_fail_emit(r);
        return;
    }
    r->part_index++;
    r->published_items += page->items;
    sw_parts_mark(r, &r->emitted_at, page->next, 0);
    sw_parts_mark(r, &r->taken_at, page->next, 0);
    next = page->next;
    page->next = NULL;
    sw_page_free(page);
    continue_list(r, next);
}

static void on_success(struct sw_run *r, const struct sw_http_resp *resp)
{
    struct sw_status st;
    struct sw_page page;
    char *next;

    sw_status_clear(&st);
    memset(&page, 0, sizeof(page));
    if (r->prov->ad->map(r->prov, r->op, r->job, r->cursor, resp, r->eng->lim.max_depth, &page,
                         &st) != SW_E_OK) {
        st.http_status = (int)resp->status;
        sw_debug_record(r, &r->req, resp, NULL);
        sw_page_free(&page);
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    r->pages++;
    if (r->op->kind != SW_RESULT_ITEMS) {
        r->total_items = 1;
        r->page_items = 1;
        sw_debug_record(r, &r->req, resp, NULL);
        sw_run_end(r, SW_RUN_SUCCEEDED, NULL, NULL, page.result);
        sw_page_free(&page);
        return;
    }
    if (r->job->format == SW_FMT_RAW) {
        raw_page(r, &page);
        return;
    }
    /* Recorded first: a part emitted while the page is taken carries this exchange. */
    sw_debug_record(r, &r->req, resp, page.next);
    r->page_taken = 0;
    if (sw_parts_take(r, page.result, &st) != 0) {
        sw_page_free(&page);
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    sw_debug_list_state(r, 0);
    r->skip = 0; /* only the first page of a resumed list had items delivered before */
    sw_parts_mark(r, &r->taken_at, page.next, 0);
    next = page.next;
    page.next = NULL;
    sw_page_free(&page);
    continue_list(r, next);
}

/* A non-2xx answer: the provider's words, the engine's verdict. */
static void on_http_error(struct sw_run *r, const struct sw_http_resp *resp, int64_t hint,
                          int have_hint)
{
    struct sw_provider_error pe;
    struct sw_verdict v =
        sw_classify_http(resp->status, r->req.idempotent || r->job->allow_ambiguous_retry);
    struct sw_status st;

    sw_status_clear(&st);
    sw_debug_record(r, &r->req, resp, NULL);
    r->prov->ad->describe_error(r->prov, resp, r->eng->lim.max_depth, &pe);
    sw_verdict_apply_answer(&v, r->prov->name, resp->status, &pe, &st);
    if (st.cls == SW_CLASS_RETRY) {
        retry_or_end(r, &st, pe.body, hint, have_hint);
    } else {
        sw_run_end(r, SW_RUN_FAILED, &st, pe.body, NULL);
    }
}

static void on_response(void *arg, struct sw_http_resp *resp)
{
    struct sw_run *r = arg;
    struct sw_status st;
    int64_t hint = 0;
    int have_hint = 0;

    r->xfer = NULL;
    r->http_ms += resp->total_ms;
    r->http_us += resp->total_us;
    sw_metrics_http(r->eng->metrics, r->prov->name,
                    resp->transport_err == SW_E_OK ? resp->status : 0, resp->total_ms);
    sw_status_clear(&st);
    if (resp->transport_err != SW_E_OK) {
        struct sw_verdict v =
            sw_classify_transport(resp->transport_err, resp->ambiguous,
                                  r->req.idempotent || r->job->allow_ambiguous_retry);

        sw_debug_record(r, &r->req, resp, NULL);
        sw_verdict_apply(&v, &st);
        snprintf(st.msg, sizeof(st.msg), "%s: %s", r->prov->name, resp->errmsg);
        if (st.cls == SW_CLASS_RETRY) {
            retry_or_end(r, &st, NULL, 0, 0);
        } else {
            sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        }
        goto out;
    }
    have_hint = sw_retry_hint_ms(&resp->headers, r->prov->hints, r->prov->nhints, resp->status,
                                 sw_now_wall_ms(), &hint);
    sw_rl_observe(r->bucket, resp->status, &resp->headers, hint, have_hint, sw_now_mono_ms(),
                  sw_now_wall_ms());
    if (resp->status >= 200 && resp->status < 300) {
        on_success(r, resp);
    } else if (!sw_session_expired(r, resp)) {
        on_http_error(r, resp, hint, have_hint);
    }
out:
    sw_http_resp_free(resp);
    free(resp);
}

/* ---- the engine's calls ---- */

/* Resolve provider, account and operation, then build and send the first request. */
static void run_begin(struct sw_run *r)
{
    struct sw_engine *eng = r->eng;
    struct sw_job *job = r->job;
    struct sw_status st;
    int64_t now_wall = sw_now_wall_ms();
    char what[256];

    sw_status_clear(&st);
    if (job->deadline_ms) {
        r->deadline_mono_ms = r->start_mono_ms + (job->deadline_ms - now_wall);
        if (job->deadline_ms <= now_wall) {
            sw_run_fail(r, SW_E_DEADLINE_EXCEEDED, SW_CLASS_TERMINAL,
                        "the job's deadline had passed when it was received");
            return;
        }
    }
    r->prov = sw_registry_find(eng->reg, job->provider);
    if (!r->prov) {
        sw_status_set(&st, SW_E_UNKNOWN_PROVIDER, SW_CLASS_TERMINAL, "no provider named \"%s\"",
                      job->provider);
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    r->store = sw_accounts_ref(eng->accounts);
    r->acct = sw_accounts_find(r->store, job->account);
    if (!r->acct) {
        sw_status_set(&st, SW_E_UNKNOWN_ACCOUNT, SW_CLASS_TERMINAL,
                      "no account named \"%s\" in the account store", job->account);
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    if (strcmp(r->acct->provider, job->provider) != 0) {
        sw_status_set(&st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                      "account \"%s\" belongs to provider %s, not %s", job->account,
                      r->acct->provider, job->provider);
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    r->op = r->prov->ad->select(r->prov, job);
    if (!r->op) {
        sw_status_set(&st, SW_E_UNSUPPORTED_OPERATION, SW_CLASS_TERMINAL,
                      "provider %s does not support %s", job->provider, job->operation);
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    snprintf(what, sizeof(what), "%s %s", job->provider, job->operation);
    if (sw_params_check(r->op->params, job, r->acct->settings, what, &st) != 0 ||
        sw_relist_begin(r, &st) != 0) {
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    if (r->cursor) { /* a resumed list: its first page counts for the loop guard */
        r->seen = malloc(sizeof(*r->seen));
        if (!r->seen) {
            sw_run_fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return;
        }
        r->seen[r->nseen++] = fnv1a(r->cursor);
    }
    if (eng->rl) {
        const struct sw_limit_class *lc = r->op->limit_class;

        r->bucket =
            sw_rl_bucket(eng->rl, job->provider, job->account, lc->name, lc->limits, lc->nlimits);
    }
    if (r->prov->ad->build(r->prov, r->op, r->acct, job, r->cursor, &r->req, &st) != SW_E_OK) {
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    if (sw_session_begin(r)) {
        return;
    }
    sw_run_send(r);
}

void sw_exec_start(struct sw_engine *eng, struct sw_job *job, void *user, int64_t received_wall_us,
                   int redelivered)
{
    struct sw_run *r = calloc(1, sizeof(*r));
    struct sw_status st;

    if (!r) {
        sw_status_clear(&st);
        sw_status_set(&st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        sw_exec_reject(eng, job, &st, user, received_wall_us);
        return;
    }
    r->eng = eng;
    r->state = SW_RUN_NEW;
    r->job = job;
    r->user = user;
    r->redelivered = redelivered;
    r->received_wall_us = received_wall_us;
    r->start_mono_ms = sw_now_mono_ms();
    r->start_mono_us = sw_now_mono_us();
    sw_timer_init(&r->timer);
    sw_http_req_init(&r->req);
    sw_http_req_init(&r->login_req);
    r->max_attempts = job->max_attempts ? job->max_attempts : eng->lim.max_attempts;
    /* A job back from the retry topic goes on counting its tries. */
    r->attempt = r->max_attempt = job->prior_attempts;
    /* Linked before anything can end it: run_release unlinks it. */
    eng->running++;
    r->next = eng->runs;
    if (eng->runs) {
        eng->runs->prev = r;
    }
    eng->runs = r;
    run_begin(r);
}

void sw_exec_reject(struct sw_engine *eng, struct sw_job *job, const struct sw_status *st,
                    void *user, int64_t received_wall_us)
{
    sw_emit_rejected(eng, job, st, user, received_wall_us);
    sw_job_destroy(job);
}

int sw_exec_abort(struct sw_engine *eng, void *user)
{
    struct sw_run *r;

    for (r = eng->runs; r; r = r->next) {
        if (r->user == user) {
            run_release(r);
            return 1;
        }
    }
    return 0;
}

int sw_exec_drop_waiting(struct sw_engine *eng, int64_t until_mono_ms)
{
    struct sw_run *r = eng->runs;
    int n = 0;

    while (r) {
        struct sw_run *next = r->next;

        if (r->state == SW_RUN_RATE_WAIT ||
            ((r->state == SW_RUN_BACKOFF || r->state == SW_RUN_LOGIN_WAIT) &&
             (r->timer.idx == SIZE_MAX || r->timer.due_ms > until_mono_ms))) {
            run_release(r);
            n++;
        }
        r = next;
    }
    return n;
}

void sw_exec_abort_all(struct sw_engine *eng)
{
    while (eng->runs) {
        run_release(eng->runs);
    }
    sw_session_forget_all(eng);
}

void sw_exec_output_ready(struct sw_engine *eng)
{
    struct sw_run *r;
    int again = 1;

    /* fetch_next may end a run (and unlink it), so restart the walk after each wake-up. */
    while (again) {
        again = 0;
        for (r = eng->runs; r; r = r->next) {
            if (r->state == SW_RUN_OUTPUT_WAIT) {
                if (eng->output_busy && eng->output_busy(eng->emit_arg)) {
                    return;
                }
                fetch_next(r);
                again = 1;
                break;
            }
        }
    }
}
