/* The spec adapter: providers described by a JSON spec (schemas/provider.schema.json) and one
 * interpreter that serves them all through the adapter contract (worker/sw_adapter.h). This header
 * is the adapter's inside, shared by its files and by the tests that feed it data; the engine
 * knows only the contract.
 *
 *   sw_spec_load.c     loading, structural checks, compiling what the engine needs, registering
 *   sw_spec_tpl.c      references ("params.id", "settings.dc|us1") and templates
 *   sw_spec_request.c  building requests (path, query, paging, body, auth, headers, login)
 *   sw_spec_map.c      mapping answers to unified results, and where a list continues
 *   sw_spec_error.c    reading error answers; the session token hooks
 *   sw_adapter_spec.c  the contract's calls and entry points
 *   sw_matrix.c        the capability matrix and docs/PROVIDERS.md
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_SPEC_H
#define SW_SPEC_H

#include "sw_adapter.h"
#include "sw_buf.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#define SW_SPEC_MAX_URL_BYTES   8192
#define SW_SPEC_MAX_VALUE_BYTES 4096

/* One variant of an operation: the engine-facing compiled part, its description, and the job
 * reference that selects it ("params.with_member_count"; NULL: always). */
struct sw_spec_variant {
    struct sw_adapter_op op; /* op.impl points back to this variant */
    const cJSON *desc;
    const char *when;
};

struct sw_spec_opset {
    struct sw_spec_variant *v;
    int n;
};

struct sw_spec {
    cJSON *doc; /* owned; every string below borrows from it */
    const char *name;
    const char *base_url;
    const cJSON *operations;
    const cJSON *models;
    struct sw_limit_class *classes;
    int nclasses;
    struct sw_retry_hint *hints;
    int nhints;
    struct sw_session_desc session;
    int has_session;
    const char *session_cookie; /* the cookie that carries the session token */
    struct sw_spec_opset ops[SW_OP__COUNT];
};

/* The contract's vtable of this adapter. */
extern const struct sw_adapter sw_spec_adapter;

/* ---- loading (sw_spec_load.c) ---- */

/* Check and compile one spec from JSON text and register it as a provider. 0, or -1 with st. */
int sw_spec_register_text(struct sw_registry *reg, const char *text, size_t len, const char *origin,
                          struct sw_status *st);
/* The built-in specs (compiled into the binary), or every *.json file of dir. */
int sw_spec_register_builtin(struct sw_registry *reg, struct sw_status *st);
int sw_spec_register_dir(struct sw_registry *reg, const char *dir, struct sw_status *st);
/* The spec behind a provider of this adapter; NULL for another adapter's provider. */
const struct sw_spec *sw_spec_of(const struct sw_provider *p);
void sw_spec_destroy(struct sw_spec *spec);
/* Whether an operation description is safe to repeat: its "idempotent", else by method. */
int sw_spec_idempotent(const cJSON *desc);

/* ---- references and templates (sw_spec_tpl.c) ---- */

/* A resolved reference: a params/settings/options JSON value or a credential string. */
struct sw_ref {
    const cJSON *json;
    const char *secret;
};

enum sw_render_mode { SW_R_PATH, SW_R_HEADER, SW_R_HOST, SW_R_PLAIN };

/* "a.x,b.y": the first alternative with a (non-null) value. -1 for a malformed reference. */
int sw_ref_lookup(const char *ref, size_t len, const struct sw_account *acct,
                  const struct sw_job *job, struct sw_ref *out);
int sw_ref_truthy(const char *ref, const struct sw_account *acct, const struct sw_job *job);
/* A scalar (or an array of scalars, comma-joined) as text; -1 for objects and nested arrays. */
int sw_scalar_text(const cJSON *v, struct sw_buf *out);
/* Expand "{scope.key|default}" references of tpl into out; *secret is set when a credential
 * was used. */
sw_err_t sw_render(const char *tpl, enum sw_render_mode mode, const struct sw_account *acct,
                   const struct sw_job *job, struct sw_buf *out, int *secret, struct sw_status *st);
/* One JSON body value from its template (*out stays NULL when an absent reference omits it). */
sw_err_t sw_body_value(const cJSON *tpl, const struct sw_account *acct, const struct sw_job *job,
                       cJSON **out, struct sw_status *st);
/* The operation's "required" references must have values. */
sw_err_t sw_check_required(const cJSON *op, const struct sw_account *acct, const struct sw_job *job,
                           struct sw_status *st);

/* ---- requests (sw_spec_request.c) ---- */

sw_err_t sw_spec_build(const struct sw_spec *spec, const struct sw_spec_variant *var,
                       const struct sw_account *acct, const struct sw_job *job, const char *cursor,
                       struct sw_http_req *req, struct sw_status *st);
sw_err_t sw_spec_build_login(const struct sw_spec *spec, const struct sw_account *acct,
                             const struct sw_job *job, struct sw_http_req *req,
                             struct sw_status *st);

/* ---- answers (sw_spec_map.c, sw_spec_error.c) ---- */

sw_err_t sw_spec_map_page(const struct sw_spec *spec, const struct sw_spec_variant *var,
                          const struct sw_job *job, const char *cursor,
                          const struct sw_http_resp *resp, int max_depth, struct sw_page *page,
                          struct sw_status *st);
/* Map one provider item with a model ("segment"); exported for tests. */
cJSON *sw_spec_map_item(const struct sw_spec *spec, const char *model, const cJSON *item,
                        const struct sw_job *job, struct sw_status *st);
void sw_spec_describe_error(const struct sw_spec *spec, const struct sw_http_resp *resp,
                            int max_depth, struct sw_provider_error *pe);
/* The session cookie's value among a login answer's Set-Cookie headers; 0 when found. */
int sw_spec_session_token(const struct sw_spec *spec, const struct sw_http_resp *resp, char *out,
                          size_t n);
/* Set (or replace) "Cookie: <cookie>=<token>" on req, marked secret; 0 on success. */
int sw_spec_session_apply(const struct sw_spec *spec, struct sw_http_req *req, const char *token);

/* ---- the capability matrix (sw_matrix.c) ---- */

void sw_spec_print_matrix(const struct sw_registry *reg, int markdown, FILE *out);

#endif
