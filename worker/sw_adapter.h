/* The contract between the engine and provider adapters. An adapter is a pure translator: it
 * turns a job into a request description and an answer into unified results or the provider's
 * own account of an error. It never opens a socket, sleeps, retries, classifies an outcome or
 * touches Kafka; timeouts, retries, rate limits, sessions, pagination loops and classification
 * belong to the engine (worker/).
 *
 * Everything the engine needs to decide about a provider and an operation is compiled into the
 * typed structs below when the adapter loads its providers (method, idempotency, paging style,
 * limit class and its stated limits, retry hints, session needs), so the per-job path never looks
 * a provider description up by name or by key. The dependency runs one way: adapters (tasks/)
 * include this header; nothing in worker/ includes anything from tasks/. The segworker binary
 * links an adapter library that provides the entry points at the end of this file.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_ADAPTER_H
#define SW_ADAPTER_H

#include "sw_accounts.h"
#include "sw_err.h"
#include "sw_http.h"
#include "sw_job.h"
#include "sw_ops.h"
#include "sw_ratelimit.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

/* How a list continues. The engine follows pages; the adapter says where the next one is. */
enum sw_paging {
    SW_PAGING_NONE,       /* one answer */
    SW_PAGING_NEXT_URL,   /* the answer carries a link to the next page */
    SW_PAGING_CURSOR,     /* the answer carries an opaque cursor */
    SW_PAGING_OFFSET,     /* offset + limit, with a total */
    SW_PAGING_PAGE,       /* page number, with a total */
    SW_PAGING_BODY_OFFSET /* a search whose body carries the offset, with a has-more flag */
};

/* What a successful answer becomes. */
enum sw_result_kind {
    SW_RESULT_ITEM,    /* one unified object */
    SW_RESULT_ITEMS,   /* a page of unified items: a list the engine follows */
    SW_RESULT_COUNT,   /* a unified segment with the member count */
    SW_RESULT_DELETED, /* {"id", "deleted": true} */
    SW_RESULT_ACCEPTED /* {"id", "accepted": true} */
};

/* A limit class of a provider ("read", "write", "profile_count", ...) and the windows its
 * documentation states. Rate-limit buckets are kept per (provider, account, class). */
struct sw_limit_class {
    const char *name;
    struct sw_rl_limit limits[SW_RL_MAX_WINDOWS];
    int nlimits; /* 0: nothing stated (limits may still be learned from headers) */
};

/* Where a provider says how long to wait. */
enum sw_hint_kind {
    SW_HINT_DELTA_OR_DATE, /* Retry-After: seconds or an HTTP-date */
    SW_HINT_DELTA_SECONDS, /* seconds to wait */
    SW_HINT_EPOCH_SECONDS  /* a Unix time to wait for */
};

#define SW_HINT_MAX_ON 4

struct sw_retry_hint {
    const char *header;
    enum sw_hint_kind kind;
    long on[SW_HINT_MAX_ON]; /* only on these statuses; non == 0: on any */
    int non;
};

/* A provider that authenticates with a session token (the Digital Audience cookie). The engine
 * keeps one token per account, logs in when it has none, and logs in once more when a request
 * that used a login token is refused with 401. */
struct sw_session_desc {
    const char *credential; /* account credential that holds a fixed token; NULL: none */
    int has_login;          /* the adapter can build a login request */
};

/* One operation a provider supports (a variant of it, when the provider has several), compiled
 * once. impl is the adapter's own compiled form, opaque to the engine. */
struct sw_adapter_op {
    enum sw_op_id id;
    const char *method;
    int idempotent; /* safe to repeat after an ambiguous failure (RFC 9110, unless stated) */
    enum sw_result_kind kind;
    enum sw_paging paging;
    const struct sw_limit_class *limit_class; /* never NULL */
    const void *impl;
};

/* One mapped answer. */
struct sw_page {
    cJSON *body;   /* parsed provider body (owned), NULL when empty */
    cJSON *result; /* owned: unified object, array of unified items, or the raw body */
    char *next;    /* owned; NULL on the last page: a link (SW_PAGING_NEXT_URL) or the position
                      of the next page, which the engine hands back to build() as the cursor */
    int items;     /* provider items in this answer */
};

/* Frees what page owns and zeroes it; accepts NULL. */
void sw_page_free(struct sw_page *page);

/* The provider's own words about a non-2xx answer. The engine classifies the status; the adapter
 * only reads the body. */
struct sw_provider_error {
    char code[128];    /* the provider's error code, "" when none */
    char message[256]; /* the provider's message, "" when none */
    cJSON *body;       /* the parsed error body, or a bounded prefix of a non-JSON one as a
                          string; NULL when empty. Owned by whoever called describe_error. */
};

struct sw_provider;

/* The calls. Every function is pure: it reads its arguments and fills its outputs. */
struct sw_adapter {
    const char *name;

    /* The variant of the job's operation this provider runs, or NULL when it does not support
     * the operation (the engine answers unsupported_operation). */
    const struct sw_adapter_op *(*select)(const struct sw_provider *p, const struct sw_job *job);

    /* The request for the first page (cursor NULL) or for the page at cursor (a previous
     * page's next). req is initialised by the callee and owned by the caller, also on error
     * (then empty). st: invalid_params for a job's bad or missing value, config_error for a
     * broken description, auth_failed for a missing credential. */
    sw_err_t (*build)(const struct sw_provider *p, const struct sw_adapter_op *op,
                      const struct sw_account *acct, const struct sw_job *job, const char *cursor,
                      struct sw_http_req *req, struct sw_status *st);

    /* Map a successful (2xx) answer. page is filled by the callee and owned by the caller, also
     * on error. Errors: response_invalid (the answer cannot be understood), out_of_memory. */
    sw_err_t (*map)(const struct sw_provider *p, const struct sw_adapter_op *op,
                    const struct sw_job *job, const char *cursor, const struct sw_http_resp *resp,
                    int max_depth, struct sw_page *page, struct sw_status *st);

    /* Read a non-2xx answer's body into pe (the caller frees pe->body with cJSON_Delete). */
    void (*describe_error)(const struct sw_provider *p, const struct sw_http_resp *resp,
                           int max_depth, struct sw_provider_error *pe);

    /* Sessions (only called when the provider has a session_desc). */
    /* The login request, like build(). */
    sw_err_t (*build_login)(const struct sw_provider *p, const struct sw_account *acct,
                            const struct sw_job *job, struct sw_http_req *req,
                            struct sw_status *st);
    /* The token a successful login answer carries, copied into out. 0 when there is one. */
    int (*session_token)(const struct sw_provider *p, const struct sw_http_resp *resp, char *out,
                         size_t n);
    /* Put a token on a request (replacing one already there), marked secret. 0 on success. */
    int (*session_apply)(const struct sw_provider *p, struct sw_http_req *req, const char *token);

    /* Frees what the adapter allocated for p (its impl); not p itself. */
    void (*destroy)(struct sw_provider *p);
};

/* A provider as the engine sees it. */
struct sw_provider {
    const char *name;
    const struct sw_adapter *ad;
    void *impl; /* the adapter's compiled provider */
    const struct sw_retry_hint *hints;
    int nhints;                            /* 0: Retry-After as seconds or an HTTP-date */
    const struct sw_session_desc *session; /* NULL: no session */
};

/* Every loaded provider. Owns them. */
struct sw_registry {
    struct sw_provider **v;
    size_t n;
};

void sw_registry_init(struct sw_registry *reg);
/* Frees every provider (through its adapter's destroy) and the array; accepts NULL. */
void sw_registry_free(struct sw_registry *reg);
/* Takes p (also on failure, when it is destroyed). 0, or -1 with st: out of memory, or a provider
 * of that name is already registered. */
int sw_registry_add(struct sw_registry *reg, struct sw_provider *p, struct sw_status *st);
const struct sw_provider *sw_registry_find(const struct sw_registry *reg, const char *name);

/* ---- the adapter library's entry points ----
 * Provided by the adapter library linked into the segworker binary (tasks/); the engine library
 * never calls them, the command line does. */

/* Register every provider the adapters offer: the built-in descriptions, or every description
 * in dir when dir is not NULL. 0, or -1 with st. */
int sw_adapters_load(struct sw_registry *reg, const char *dir, struct sw_status *st);
/* The capability matrix (provider x operation, response formats), as text or as the whole of
 * docs/PROVIDERS.md (markdown). */
void sw_adapters_describe(const struct sw_registry *reg, int markdown, FILE *out);
/* Check an account against what its provider needs (`segworker validate`): credentials and
 * settings it lacks, names the provider never uses (with the closest one it does), an origin that
 * cannot be built. report is called once per problem, with a line naming the account; returns
 * the number of problems (0 for a provider of another adapter). */
int sw_adapters_check_account(const struct sw_provider *p, const struct sw_account *acct,
                              void (*report)(void *arg, const char *problem), void *arg);

#endif
