/* Provider specs and their interpreter: a spec (JSON, schemas/provider.schema.json) describes a
 * provider's operations; the interpreter turns a job into a request description and a response
 * into unified results. Pure: no sockets, no sleeping, no Kafka.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_SPEC_H
#define SW_SPEC_H

#include "../worker/sw_accounts.h"
#include "../worker/sw_err.h"
#include "../worker/sw_http.h"
#include "../worker/sw_job.h"
#include "../worker/sw_ratelimit.h"

#include <cjson/cJSON.h>
#include <stdio.h>

struct sw_spec {
    cJSON *doc; /* owned */
    const char *name;
    const char *base_url;
    const cJSON *operations;
    const cJSON *models;
};

struct sw_specs {
    struct sw_spec *v;
    size_t n;
};

/* The specs compiled into the binary (tasks/<provider>/<provider>.json). */
struct sw_specs *sw_specs_load_builtin(struct sw_status *st);
/* Every *.json file of a directory. */
struct sw_specs *sw_specs_load_dir(const char *dir, struct sw_status *st);
/* Add one spec from JSON text (checked structurally); used by both loaders and tests. */
int sw_specs_add(struct sw_specs *specs, const char *text, size_t len, const char *origin,
                 struct sw_status *st);
void sw_specs_destroy(struct sw_specs *specs);
const struct sw_spec *sw_specs_find(const struct sw_specs *specs, const char *name);

/* The capability matrix (provider × operation, and the response formats): plain text, or the
 * whole of docs/PROVIDERS.md (markdown). */
void sw_specs_print_matrix(const struct sw_specs *specs, int markdown, FILE *out);

/* The operation description for the job (variants resolved), or NULL when the provider does not
 * support the operation. */
const cJSON *sw_spec_op(const struct sw_spec *spec, const struct sw_job *job);
int sw_spec_op_is_list(const cJSON *op);
int sw_spec_op_idempotent(const cJSON *op);
const cJSON *sw_spec_retry_hints(const struct sw_spec *spec);
/* The operation's rate-limit class: its "limit_class", else "read" for GET/HEAD, else "write". */
const char *sw_spec_limit_class(const cJSON *op);
/* The spec's stated limits of a class (rate_limits.classes.<cls>); returns how many. */
int sw_spec_rate_limits(const struct sw_spec *spec, const char *cls, struct sw_rl_limit *out,
                        int max);

/* Build the request for the first page (next_url NULL) or for the next page (next_url: a
 * pagination link, or the position sw_spec_map_page produced for the other styles). */
sw_err_t sw_spec_build(const struct sw_spec *spec, const cJSON *op, const struct sw_account *acct,
                       const struct sw_job *job, const char *next_url, struct sw_http_req *req,
                       struct sw_status *st);

/* The spec's cookie session ({cookie, credential, login}) or NULL: requests carry
 * "Cookie: <cookie>=<value>", the value being the account's credential of that name, or what the
 * login call's Set-Cookie returned (the engine keeps it per account and logs in again once on 401).
 */
const cJSON *sw_spec_session(const struct sw_spec *spec);
/* The login request of a session spec. */
sw_err_t sw_spec_build_login(const struct sw_spec *spec, const struct sw_account *acct,
                             const struct sw_job *job, struct sw_http_req *req,
                             struct sw_status *st);

/* One mapped page or answer. */
struct sw_page {
    cJSON *body;    /* parsed provider body (owned), NULL when empty */
    cJSON *result;  /* owned: unified object, array of unified items, or the raw body */
    char *next_url; /* owned; NULL on the last page: a link (next_url style) or the position of
                       the next page (cursor, offset, page number, body offset) */
    int items;      /* provider items in this answer */
};

void sw_page_free(struct sw_page *page);

/* Map a successful (2xx) answer. Errors: SW_E_RESPONSE_INVALID (terminal). cursor is the page
 * position the request was built with (the previous page's next_url; NULL for the first page):
 * offset and page-number pagination compute the next position from it. sw_spec_map is the same
 * for a first page. */
sw_err_t sw_spec_map_page(const struct sw_spec *spec, const cJSON *op, const struct sw_job *job,
                          const char *cursor, const struct sw_http_resp *resp, int max_depth,
                          struct sw_page *page, struct sw_status *st);
sw_err_t sw_spec_map(const struct sw_spec *spec, const cJSON *op, const struct sw_job *job,
                     const struct sw_http_resp *resp, int max_depth, struct sw_page *page,
                     struct sw_status *st);

/* Describe a non-2xx answer: fills st (code, class, message with the provider's own words) and
 * returns the provider's error body (parsed JSON, or a string of at most 1 KiB) or NULL. */
cJSON *sw_spec_error(const struct sw_spec *spec, const struct sw_http_resp *resp, int max_depth,
                     struct sw_status *st);

/* Map one provider item with a model ("segment"); exported for tests and hooks. */
cJSON *sw_spec_map_item(const struct sw_spec *spec, const char *model, const cJSON *item,
                        const struct sw_job *job, struct sw_status *st);

#endif
