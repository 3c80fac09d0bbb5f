/* Session tokens per account and the login exchange (see sw_run.h). A provider with a session
 * (its adapter declares one, e.g. the Digital Audience cookie) authenticates with a token: the
 * account's credential of that name when the operator gives one, else what the adapter reads
 * from a login answer, kept per account for later jobs. A 401 on a request that used a login
 * token forgets it and logs in once more. What a token looks like on the wire (a cookie) is the
 * adapter's business; when to log in is the engine's.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_classify.h"
#include "sw_retry.h"
#include "sw_run.h"
#include "sw_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN_BYTES 1100

struct sw_session {
    struct sw_session *next;
    char *account;
    char *token;
};

static void session_free(struct sw_session *s)
{
    if (!s) {
        return;
    }
    if (s->token) {
        memset(s->token, 0, strlen(s->token));
    }
    free(s->token);
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

static int session_store(struct sw_engine *eng, const char *account, const char *token)
{
    struct sw_session *s;

    session_forget(eng, account);
    s = calloc(1, sizeof(*s));
    if (!s || !(s->account = strdup(account)) || !(s->token = strdup(token))) {
        session_free(s);
        return -1;
    }
    s->next = eng->sessions;
    eng->sessions = s;
    return 0;
}

const char *sw_session_token(const struct sw_run *r)
{
    struct sw_session *s;

    if (!r->prov || !r->prov->session || !r->acct) {
        return NULL;
    }
    s = *session_slot(r->eng, r->acct->name);
    return s ? s->token : NULL;
}

void sw_session_forget_all(struct sw_engine *eng)
{
    while (eng->sessions) {
        struct sw_session *s = eng->sessions;

        eng->sessions = s->next;
        session_free(s);
    }
}

static void on_login_response(void *arg, struct sw_http_resp *resp);

/* Start the login exchange; the main request waits in r->req. */
static void login(struct sw_run *r)
{
    struct sw_status st;
    int64_t now = sw_now_mono_ms();

    sw_status_clear(&st);
    sw_http_req_free(&r->login_req);
    if (r->prov->ad->build_login(r->prov, r->acct, r->job, &r->login_req, &st) != SW_E_OK) {
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    if (!r->first_send_mono_ms) {
        r->first_send_mono_ms = now;
        r->first_send_mono_us = sw_now_mono_us();
    }
    r->session_login = 1;
    r->login_tries++;
    if (r->login_tries > r->max_attempt) {
        r->max_attempt = r->login_tries;
    }
    r->xfer = sw_http_submit(r->eng->http, &r->login_req, sw_run_timeout_ms(r, now),
                             on_login_response, r, &st);
    if (!r->xfer) {
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
        return;
    }
    r->state = SW_RUN_LOGIN;
}

void sw_session_login_again(struct sw_run *r)
{
    login(r);
}

static void on_login_backoff_over(void *arg)
{
    sw_session_login_again(arg);
}

/* A login that failed in a way that may pass (transport error, 429, 5xx) is tried again with the
 * usual back-off, up to the job's attempts and never past its deadline; then st ends the job.
 * Takes perr. */
static void login_retry_or_end(struct sw_run *r, struct sw_status *st, cJSON *perr)
{
    struct sw_engine *eng = r->eng;
    int64_t now = sw_now_mono_ms();
    int64_t wait;

    if (st->cls != SW_CLASS_RETRY || r->login_tries >= r->max_attempts) {
        sw_run_end(r, SW_RUN_FAILED, st, perr, NULL);
        return;
    }
    wait = sw_retry_backoff_ms(r->login_tries, eng->lim.retry_base_ms, eng->lim.retry_max_wait_ms,
                               &eng->rng);
    if ((r->deadline_mono_ms && now + wait >= r->deadline_mono_ms) ||
        sw_timers_add(eng->timers, &r->timer, now + wait, on_login_backoff_over, r) != 0) {
        sw_run_end(r, SW_RUN_FAILED, st, perr, NULL);
        return;
    }
    cJSON_Delete(perr);
    r->state = SW_RUN_LOGIN_WAIT;
}

static void on_login_response(void *arg, struct sw_http_resp *resp)
{
    struct sw_run *r = arg;
    struct sw_status st;
    struct sw_verdict v;
    char token[MAX_TOKEN_BYTES];

    r->xfer = NULL;
    r->http_ms += resp->total_ms;
    r->http_us += resp->total_us;
    sw_status_clear(&st);
    if (resp->transport_err != SW_E_OK) {
        sw_debug_record(r, &r->login_req, resp, NULL);
        v = sw_classify_login(0, resp->transport_err);
        sw_verdict_apply(&v, &st);
        snprintf(st.msg, sizeof(st.msg), "%s login: %s", r->prov->name, resp->errmsg);
        login_retry_or_end(r, &st, NULL);
    } else if (resp->status < 200 || resp->status >= 300) {
        struct sw_provider_error pe;

        sw_debug_record(r, &r->login_req, resp, NULL);
        r->prov->ad->describe_error(r->prov, resp, r->eng->lim.max_depth, &pe);
        v = sw_classify_login(resp->status, SW_E_OK);
        sw_verdict_apply_answer(&v, r->prov->name, resp->status, &pe, &st);
        login_retry_or_end(r, &st, pe.body);
    } else if (r->prov->ad->session_token(r->prov, resp, token, sizeof(token)) != 0) {
        sw_debug_record(r, &r->login_req, resp, NULL);
        v = sw_classify_ours(SW_E_AUTH_FAILED, SW_CLASS_TERMINAL);
        sw_verdict_apply(&v, &st);
        snprintf(st.msg, sizeof(st.msg), "%s login answered HTTP %ld without a session token",
                 r->prov->name, resp->status);
        st.http_status = (int)resp->status;
        sw_run_end(r, SW_RUN_FAILED, &st, NULL, NULL);
    } else if (session_store(r->eng, r->acct->name, token) != 0 ||
               r->prov->ad->session_apply(r->prov, &r->req, token) != 0) {
        memset(token, 0, sizeof(token));
        sw_run_fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory keeping the session token");
    } else {
        /* Recorded once the token is stored, so that it is redacted wherever it appears. */
        sw_debug_record(r, &r->login_req, resp, NULL);
        memset(token, 0, sizeof(token));
        sw_run_send(r);
    }
    sw_http_resp_free(resp);
    free(resp);
}

int sw_session_begin(struct sw_run *r)
{
    const struct sw_session_desc *sess = r->prov->session;
    const char *fixed =
        sess && sess->credential ? sw_account_cred(r->acct, sess->credential) : NULL;
    struct sw_session *s;

    if (!sess) {
        return 0;
    }
    s = fixed ? NULL : *session_slot(r->eng, r->acct->name);
    if (fixed || s) {
        r->session_login = !fixed;
        if (r->prov->ad->session_apply(r->prov, &r->req, fixed ? fixed : s->token) != 0) {
            sw_run_fail(r, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return 1;
        }
        return 0;
    }
    login(r); /* an adapter without a login call says so through build_login */
    return 1;
}

int sw_session_expired(struct sw_run *r, const struct sw_http_resp *resp)
{
    if (resp->status != 401 || !r->prov->session || !r->session_login || r->relogged) {
        return 0;
    }
    r->relogged = 1;
    session_forget(r->eng, r->acct->name);
    r->attempt = 0;
    r->login_tries = 0;
    login(r);
    return 1;
}
