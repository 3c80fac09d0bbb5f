/* Inside the job engine: one run per job, an explicit state, and the files that share it.
 *
 *   sw_run.c      the state machine, sending, retrying, responses, and the one place a run ends
 *   sw_parts.c    a list's items gathered into parts that fit a message
 *   sw_relist.c   where a failed list goes on: its resume, and params.resume applied
 *   sw_debug.c    what response_format debug shows of a job's exchanges (redacted)
 *   sw_session.c  session tokens per account and the login exchange
 *   sw_emit.c     result messages: built, offered to the emitter, with a fallback that cannot
 *                 fail
 *
 * Ownership: the engine owns its runs; a run owns its job, request, buffered part, debug facts
 * and its reference to the account store. Every callback that reaches a run (timer, rate-limit
 * grant, HTTP completion) leaves it either in a waiting state with exactly one pending wake-up,
 * or ended through sw_run_end(), after which it must not be touched.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_RUN_H
#define SW_RUN_H

#include "sw_exec.h"
#include "sw_result.h"
#include "sw_resume.h"

enum sw_run_state {
    SW_RUN_NEW,         /* resolving provider, account and operation */
    SW_RUN_LOGIN,       /* a session login is in flight */
    SW_RUN_LOGIN_WAIT,  /* backing off before another login try (r->timer) */
    SW_RUN_RATE_WAIT,   /* queued in the rate limiter (r->rlw; r->timer watches the deadline) */
    SW_RUN_SENDING,     /* the request is in flight (r->xfer) */
    SW_RUN_BACKOFF,     /* waiting before a retry of the request (r->timer) */
    SW_RUN_OUTPUT_WAIT, /* a list waits for the publisher before its next page */
};

/* How a run ends (sw_run_end). */
enum sw_run_outcome {
    SW_RUN_SUCCEEDED, /* the final message carries the result (or a list's last part) */
    SW_RUN_FAILED,    /* the final message carries the error */
    SW_RUN_PARKED     /* the job went to the retry topic: no message */
};

struct sw_run {
    struct sw_engine *eng;
    struct sw_run *prev, *next;
    enum sw_run_state state;
    struct sw_job *job;
    const struct sw_provider *prov;
    const struct sw_adapter_op *op;
    const struct sw_account *acct;
    struct sw_accounts *store; /* the store acct lives in, kept alive while the run is */
    void *user;
    int redelivered;

    struct sw_http_req req;
    struct sw_http_xfer *xfer;
    struct sw_timer timer;
    struct sw_rl_bucket *bucket; /* NULL: not rate limited */
    struct sw_rl_waiter rlw;
    int attempt;     /* tries of the current request */
    int max_attempt; /* most tries any request needed */
    int max_attempts;

    /* Lists. Every count is over the whole list: a resumed job (params.resume) starts from the
     * counts its predecessor delivered. */
    long long pages;
    long long total_items;     /* items taken into parts (published, or buffered in part) */
    long long published_items; /* items in the parts emitted so far */
    int part_index;            /* index of the next part */
    int page_items;            /* items of the answer a single or raw final message carries */
    cJSON *part;               /* unified items not yet emitted */
    long long part_count;
    size_t part_bytes;
    int truncated;
    uint64_t *seen; /* hashes of page positions fetched, for the looping guard */
    size_t nseen;
    char *cursor;       /* position of the page being fetched (NULL: the first) */
    char *pending_next; /* a list's next position, held while it waits for the publisher */
    /* Where the first item not yet emitted is (what a failed list's resume says), and where the
     * first item not yet taken into a part is. */
    struct sw_resume emitted_at;
    struct sw_resume taken_at;
    long long page_taken; /* items of the page being taken so far (skipped ones too) */
    long long skip;       /* a resumed list: items of its first page delivered before */
    int part_lost;        /* a part could not be emitted: what follows is not delivered */
    int no_resume;        /* the position cannot be told (the list loops, or memory ran out) */

    /* response_format debug: the exchanges since the last message (sw_debug.c) */
    cJSON *debug;
    size_t debug_bytes;
    int debug_omitted;
    struct sw_status emit_err; /* why the last message offered was refused (too large) */

    /* Session: the login exchange, whether the token came from a login (then a 401 logs in
     * again, once), and the login's own tries. */
    struct sw_http_req login_req;
    int session_login;
    int relogged;
    int login_tries;

    int64_t received_wall_us;
    int64_t start_mono_ms;
    int64_t start_mono_us;
    int64_t first_send_mono_ms;
    int64_t first_send_mono_us;
    int64_t deadline_mono_ms; /* 0: none */
    long http_ms;
    long long http_us;
};

/* ---- sw_run.c ---- */

/* End the run: emit its final message (unless parked), count it, free it. Takes perr. result is
 * what a succeeded job's final message carries: its single answer, or a raw list's last page
 * (r->page_items items); NULL for a unified list, whose buffered part becomes the last one. */
void sw_run_end(struct sw_run *r, enum sw_run_outcome outcome, const struct sw_status *err,
                cJSON *perr, const cJSON *result);
/* End the run failed with a message of the worker's own. */
void sw_run_fail(struct sw_run *r, sw_err_t code, sw_class_t cls, const char *msg);
/* End the run failed because a message before its last one could not be published (after
 * sw_run_emit or sw_parts_flush refused it): result_too_large when it was too large. */
void sw_run_fail_emit(struct sw_run *r);
/* Queue the current request for sending (rate limiter first). */
void sw_run_send(struct sw_run *r);
/* The timeout of one exchange: the job's, the worker's, never past the deadline. */
long sw_run_timeout_ms(const struct sw_run *r, int64_t now_mono_ms);

/* ---- sw_emit.c ---- */

/* Offer one message of the run to the emitter. Returns the emitter's answer; -1 when a non-last
 * message could not be built (r->emit_err says why when it was over limits.max_result_bytes). A
 * last message is always offered: one over the limit is replaced by a small result_too_large
 * failure, and a fallback is written when building fails. */
int sw_run_emit(struct sw_run *r, const cJSON *result, const struct sw_part_info *part,
                const struct sw_status *err, const cJSON *perr);
/* Same for a job that never became a run (sw_exec_reject). */
void sw_emit_rejected(struct sw_engine *eng, const struct sw_job *job, const struct sw_status *st,
                      void *user, int64_t received_wall_us);

/* ---- sw_parts.c ---- */

/* Move a page's unified items into parts, emitting full ones; a resumed list drops the items of
 * its first page delivered before. 0, or -1 with st set (r->taken_at then says where taking
 * stopped). */
int sw_parts_take(struct sw_run *r, cJSON *items, struct sw_status *st);
/* Emit the buffered items as a part (the last one when last). The emitter's answer. */
int sw_parts_flush(struct sw_run *r, int last);
/* A list that fails: emit what is buffered (so nothing fetched is lost), and settle where the
 * first item not delivered is. */
void sw_parts_settle(struct sw_run *r);
/* Record a position (cursor copied; NULL is the first page) in p; marks r->no_resume when out of
 * memory. */
void sw_parts_mark(struct sw_run *r, struct sw_resume *p, const char *cursor, long long skip);

/* ---- sw_relist.c ---- */

/* A failing list: settle its parts and say where a new job can go on (appending how much was
 * delivered to st's message); NULL when nothing was delivered or the position cannot be told. */
cJSON *sw_relist_resume(struct sw_run *r, struct sw_status *st);
/* params.resume, when the job passes one: checked, then the run starts at its position, counts
 * and part index. 0, or -1 with st invalid_params. */
int sw_relist_begin(struct sw_run *r, struct sw_status *st);

/* ---- sw_debug.c ---- */

/* Record an exchange (req and its answer; next: a list's next position) when the job asked for
 * response_format debug. */
void sw_debug_record(struct sw_run *r, const struct sw_http_req *req,
                     const struct sw_http_resp *resp, const char *next);
/* A message carried the exchanges recorded so far: the next one starts afresh. */
void sw_debug_emitted(struct sw_run *r);
/* A list's state after a page (looping: the pagination repeats itself) in the debug facts. */
void sw_debug_list_state(struct sw_run *r, int looping);
/* Bytes a message keeps for the debug facts (0 unless the job asked for debug). */
size_t sw_debug_budget(const struct sw_run *r);

/* ---- sw_session.c ---- */

/* Before the first request: attach the account's session token, or log in when there is none.
 * Returns 1 when the run goes on by itself (login started, or the run ended), 0 to send now. */
int sw_session_begin(struct sw_run *r);
/* A 401 on a request that used a login token: log in again, once. 1 when it did (the run goes
 * on by itself), 0 when the 401 stands. */
int sw_session_expired(struct sw_run *r, const struct sw_http_resp *resp);
/* Another login try after a back-off (timer callback of SW_RUN_LOGIN_WAIT). */
void sw_session_login_again(struct sw_run *r);
/* Forget every session token (shutdown). */
void sw_session_forget_all(struct sw_engine *eng);
/* The session token the run's account holds (for redaction); NULL when none. */
const char *sw_session_token(const struct sw_run *r);

#endif
