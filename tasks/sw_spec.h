/* The spec adapter: providers described by a JSON spec (schemas/provider.schema.json) and one
 * interpreter that serves them all through the adapter contract (worker/sw_adapter.h). This header
 * is the adapter's inside, shared by its files and by the tests that feed it data; the engine
 * knows only the contract.
 *
 * Every spec is compiled once, when it loads, into the typed structs below: templates into
 * segments, references into scopes and pre-split keys, JSON pointers into unescaped tokens, body
 * templates into trees, models into field arrays. The per-job path (build, map, describe_error,
 * the session hooks) reads only these structs; it looks up the job's and the account's values,
 * never a key of the spec. A spec the compiler cannot make sense of is refused at load with a
 * config_error naming the spec, the operation and the field.
 *
 *   sw_spec_load.c     loading and registering; compiling the spec-wide parts (origin, auth,
 *                      headers, errors, session, rate limits, retry hints)
 *   sw_spec_op.c       compiling operations (path, query, paging, body, result, variants)
 *   sw_spec_model.c    compiling models (fields, conversions, status rules)
 *   sw_spec_cc.c       the compiler's arena, reports and member readers; JSON pointers
 *   sw_spec_ref.c      references ("params.id", "params.list_id,settings.list_id"): parsed, and
 *                      resolved against a job and its account
 *   sw_spec_tpl.c      templates ("/lists/{params.id}", "{settings.dc|us1}"): parsed, rendered
 *   sw_spec_body.c     JSON body templates: compiled into a tree, built per job
 *   sw_spec_request.c  building requests (origin, path, query, paging, body, auth, headers, login)
 *   sw_spec_map.c      mapping answers to unified results, and where a list continues
 *   sw_spec_error.c    reading error answers; the session token hooks
 *   sw_spec_check.c    an account checked against its provider's spec (segworker validate)
 *   sw_adapter_spec.c  the contract's calls and entry points
 *   sw_matrix.c        the capability matrix and docs/PROVIDERS.md (reads the spec documents)
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_SPEC_H
#define SW_SPEC_H

#include "sw_adapter.h"
#include "sw_buf.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>

#define SW_SPEC_MAX_URL_BYTES   8192
#define SW_SPEC_MAX_VALUE_BYTES 4096

/* ---- the compiler's arena, errors and JSON pointers (sw_spec_cc.c) ---- */

/* Memory that lives as long as a spec: every compiled struct and string is carved from it, and
 * freed at once with it. */
struct sw_spec_arena {
    struct sw_spec_chunk *head;
};

void sw_spec_arena_free(struct sw_spec_arena *a);
/* Zeroed memory, or NULL when out of memory. */
void *sw_spec_arena_alloc(struct sw_spec_arena *a, size_t n);
/* A NUL-terminated copy of n bytes of s, or NULL. */
char *sw_spec_arena_strndup(struct sw_spec_arena *a, const char *s, size_t n);

/* Why a piece of a spec could not be compiled (also the text of the report). */
typedef const char *sw_spec_why;

/* An RFC 6901 pointer, split into its tokens with ~1 and ~0 already unescaped. */
struct sw_spec_tok {
    const char *key;
    int idx; /* the array index the token names, -1 when it names none */
};

struct sw_spec_ptr {
    const char *text; /* as written, for messages; NULL: no pointer (resolves to nothing) */
    const struct sw_spec_tok *tok;
    int ntok; /* 0: the whole document */
};

/* Compile text ("" or "/a/0/b~1c"). NULL, or why not. */
sw_spec_why sw_spec_ptr_compile(struct sw_spec_arena *a, const char *text, struct sw_spec_ptr *out);
/* The value at p in root; NULL when absent (or p has no text). */
const cJSON *sw_spec_ptr_get(const struct sw_spec_ptr *p, const cJSON *root);

struct sw_spec;

/* What the compiler is working on, for its reports. */
struct sw_spec_cc {
    struct sw_spec *spec; /* its arena receives the compiled form */
    struct sw_status *st;
    const char *op; /* the operation ("segments.get"), NULL outside one */
};

/* Report that the spec's field (a path inside the operation, or inside the spec when cc->op is
 * NULL) is malformed; always -1. */
int sw_spec_cc_fail(const struct sw_spec_cc *cc, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 0 when why is NULL; else -1, reported: out of memory, or field as malformed because of why. */
int sw_spec_cc_why(const struct sw_spec_cc *cc, const char *field, const char *text,
                   sw_spec_why why);
/* The string member key of obj as the index of one of the n names (an enum's values, in order).
 * 0, or -1 reported with must when it is absent, not a string or none of them. */
int sw_spec_cc_enum(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                    const char *field, const char *const *names, int n, const char *must, int *out);
/* Zeroed room in the spec's arena for the elements of list (size bytes each), which must be an
 * array (object: an object); NULL, reported, when it is not (must says what it must be) or out of
 * memory. */
void *sw_spec_cc_room(const struct sw_spec_cc *cc, const cJSON *list, int object, size_t size,
                      const char *field, const char *must);
/* The string member key of obj: *out stays NULL when absent; -1 (reported) when not a string. */
int sw_spec_cc_str(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, const char **out);
/* A pointer member of obj (absent: no pointer). 0, or -1 reported. */
int sw_spec_cc_ptr(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, struct sw_spec_ptr *out);
/* An array member of obj of pointer strings (absent: none). 0, or -1 reported. */
int sw_spec_cc_ptrs(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                    const char *field, const struct sw_spec_ptr **out, int *n);

extern const char sw_spec_why_nomem[];

/* ---- references (sw_spec_ref.c) ---- */

enum sw_spec_scope {
    SW_SCOPE_PARAMS,
    SW_SCOPE_SETTINGS,
    SW_SCOPE_CREDENTIALS,
    SW_SCOPE_OPTIONS,
    SW_SCOPE_BAD /* a malformed alternative (only in an account's base URL, found when reached) */
};

/* One alternative of a reference ("params.workspace.id"). */
struct sw_spec_alt {
    enum sw_spec_scope scope;
    const char *key;         /* credentials: the credential's name */
    const char *const *path; /* params, settings, options: the keys to walk into the object */
    int npath;               /* -1: a path that never resolves ("params.a..b") */
};

/* A reference: alternatives separated by commas, the first with a (non-null) value wins, so a
 * job parameter can fall back to an account setting (Mailchimp params.list_id, else
 * settings.list_id). */
struct sw_spec_ref {
    const char *text; /* as written, without default or cast, for messages */
    const struct sw_spec_alt *alt;
    int nalt; /* 0: no reference */
};

/* A resolved reference: a params/settings/options JSON value or a credential string. */
struct sw_ref {
    const cJSON *json;
    const char *secret;
};

/* Parse len bytes of s. strict: every alternative must be well-formed (a spec); else a malformed
 * one is kept and reported only when reached (an account's base URL, as it always was). NULL, or
 * why not. */
sw_spec_why sw_spec_ref_parse(struct sw_spec_arena *a, const char *s, size_t len, int strict,
                              struct sw_spec_ref *out);
/* A reference member of obj ("when", "from"; absent: nalt 0). 0, or -1 reported. */
int sw_spec_cc_ref(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, struct sw_spec_ref *out);
/* Resolve r. -1 only when a malformed alternative was reached. */
int sw_spec_ref_get(const struct sw_spec_ref *r, const struct sw_account *acct,
                    const struct sw_job *job, struct sw_ref *out);
/* Whether r has a truthy value (a credential, true, a non-empty string, a non-zero number, an
 * array or object). */
int sw_spec_ref_truthy(const struct sw_spec_ref *r, const struct sw_account *acct,
                       const struct sw_job *job);
/* Whether r has a value at all (a credential or a non-null JSON value). */
int sw_ref_present(const struct sw_ref *r);
/* A scalar (or an array of scalars, comma-joined) as text; -1 for objects and nested arrays. */
int sw_scalar_text(const cJSON *v, struct sw_buf *out);

/* ---- templates (sw_spec_tpl.c) ---- */

enum sw_render_mode { SW_R_PATH, SW_R_HEADER, SW_R_HOST, SW_R_PLAIN };

/* Literal text, or a reference with an optional default ("{settings.dc|us1}"). */
struct sw_spec_seg {
    const char *text; /* literal text, or the reference's default */
    size_t len;
    int has_default;
    struct sw_spec_ref ref; /* nalt 0: literal */
};

struct sw_spec_tpl {
    const char *text; /* as written, for messages */
    const struct sw_spec_seg *seg;
    int nseg;
};

/* Compile a template rendered in mode (a host template may reference only settings). NULL, or
 * why not. */
sw_spec_why sw_spec_tpl_parse(struct sw_spec_arena *a, const char *text, enum sw_render_mode mode,
                              struct sw_spec_tpl *out);
/* A template member of obj (absent: *present 0, an empty template). 0, or -1 reported. */
int sw_spec_cc_tpl(const struct sw_spec_cc *cc, const cJSON *obj, const char *key,
                   const char *field, enum sw_render_mode mode, struct sw_spec_tpl *out,
                   int *present);
/* Expand t into out; *secret is set when a credential was used. */
sw_err_t sw_spec_render(const struct sw_spec_tpl *t, enum sw_render_mode mode,
                        const struct sw_account *acct, const struct sw_job *job, struct sw_buf *out,
                        int *secret, struct sw_status *st);
/* The same for a template that is not part of a spec (an account's base URL): parsed as it is
 * rendered, so its mistakes are reported in the order they are met. */
sw_err_t sw_spec_render_text(const char *text, enum sw_render_mode mode,
                             const struct sw_account *acct, const struct sw_job *job,
                             struct sw_buf *out, int *secret, struct sw_status *st);

/* ---- JSON body templates (sw_spec_body.c) ---- */

enum sw_spec_body_kind {
    SW_BODY_LITERAL,  /* a constant, copied */
    SW_BODY_REF,      /* "{ref}", "{ref:integer}", "{ref|default}": the value with its type */
    SW_BODY_TEMPLATE, /* any other string: rendered */
    SW_BODY_OBJECT,
    SW_BODY_ARRAY
};

enum sw_spec_default { SW_DEF_NONE, SW_DEF_STRING, SW_DEF_NUMBER, SW_DEF_BOOL, SW_DEF_NULL };

struct sw_spec_body {
    enum sw_spec_body_kind kind;
    const char *name; /* the member's name in its object */
    const cJSON *literal;
    struct sw_spec_ref ref;
    int integer; /* ":integer": the API wants a number (Digital Audience segmentid) */
    enum sw_spec_default def;
    const char *def_text; /* SW_DEF_STRING */
    double def_num;       /* SW_DEF_NUMBER; SW_DEF_BOOL: 0 or 1 */
    struct sw_spec_tpl tpl;
    const struct sw_spec_body *kids;
    int nkids;
};

/* Compile the template v. 0, or -1 reported. */
int sw_spec_body_compile(const struct sw_spec_cc *cc, const cJSON *v, const char *field,
                         struct sw_spec_body *out);
/* One JSON value from b (*out stays NULL when an absent reference omits it). */
sw_err_t sw_spec_body_value(const struct sw_spec_body *b, const struct sw_account *acct,
                            const struct sw_job *job, cJSON **out, struct sw_status *st);

/* ---- models (sw_spec_model.c) ---- */

enum sw_spec_field_kind { SW_FIELD_NULL, SW_FIELD_RULES, SW_FIELD_VALUE, SW_FIELD_FROM };

enum sw_spec_type {
    SW_TYPE_STRING,
    SW_TYPE_INTEGER,
    SW_TYPE_BOOLEAN,
    SW_TYPE_DATETIME,
    SW_TYPE_UNIX_SECONDS,
    SW_TYPE_RAW
};

/* What a field is to a count result (segments.count with its own endpoint). */
enum sw_spec_role { SW_ROLE_OTHER, SW_ROLE_ID, SW_ROLE_MEMBER_COUNT };

/* A rule's condition: the value at a pointer equals want (or one of want's elements). */
struct sw_spec_cond {
    struct sw_spec_ptr at;
    const cJSON *want;
    int any;
};

struct sw_spec_rule {
    const struct sw_spec_cond *cond;
    int ncond;          /* 0: always matches */
    const cJSON *value; /* NULL: null */
};

struct sw_spec_field {
    const char *name;
    enum sw_spec_field_kind kind;
    enum sw_spec_role role;
    enum sw_spec_type type;
    const char *type_name;
    const struct sw_spec_ptr *from;
    int nfrom;
    int from_list; /* from was a list: the first non-empty value wins */
    const struct sw_spec_rule *rules;
    int nrules;
    const cJSON *value;
};

struct sw_spec_model {
    const char *name;
    const struct sw_spec_field *f;
    int n;
    const struct sw_spec_model *extras; /* normalized provider_fields; NULL: none */
};

/* Compile the "models" and "extras" objects of doc into spec. 0, or -1 reported. */
int sw_spec_models_compile(const struct sw_spec_cc *cc, const cJSON *doc);
/* The model called name; NULL when the spec has none. */
const struct sw_spec_model *sw_spec_model_find(const struct sw_spec *spec, const char *name);

/* ---- operations (sw_spec_op.c) ---- */

enum sw_spec_query_kind { SW_QUERY_EMPTY, SW_QUERY_FROM, SW_QUERY_VALUE };

struct sw_spec_query {
    const char *name;
    enum sw_spec_query_kind kind;
    struct sw_spec_ref from;
    struct sw_spec_tpl value;
    struct sw_spec_ref cond; /* "if"; nalt 0: always */
    int required;
    int explode; /* an array value as one name=value pair per element */
};

struct sw_spec_paging {
    enum sw_paging style;
    const char *param;
    const char *limit_param;
    struct sw_spec_tpl limit;
    int has_limit;
    const char *first;
    long long first_num;
    struct sw_spec_ptr next;
    struct sw_spec_ptr total;    /* default "": the body */
    struct sw_spec_ptr has_more; /* default "": the body */
};

struct sw_spec_result {
    enum sw_result_kind kind;
    struct sw_spec_ptr at; /* default "": the body */
    const struct sw_spec_model *model;
    const char *wrap; /* bare items (ids) are mapped as {wrap: value}; NULL: none */
};

/* One operation's request and answer (also the session's login call, which has no result). */
struct sw_spec_op {
    const char *method;
    int idempotent;
    struct sw_spec_tpl path;
    const struct sw_spec_ref *required;
    int nrequired;
    const struct sw_spec_query *query;
    int nquery;
    struct sw_spec_paging pag;
    const struct sw_spec_body *body; /* NULL: no body */
    const char *content_type;
    struct sw_spec_result res;
};

/* One variant of an operation: the engine-facing part, the job reference that selects it
 * ("params.with_member_count"; nalt 0: always), and the compiled operation. */
struct sw_spec_variant {
    struct sw_adapter_op op; /* op.impl points back to this variant */
    struct sw_spec_ref when;
    struct sw_spec_op c;
};

struct sw_spec_opset {
    struct sw_spec_variant *v;
    int n;
};

/* Compile one operation description (result: it must say what its answer becomes). 0, or -1
 * reported. */
int sw_spec_op_compile(const struct sw_spec_cc *cc, const cJSON *desc, int result,
                       struct sw_spec_op *out);
/* Compile the "operations" object of doc into spec->ops. 0, or -1 reported. */
int sw_spec_ops_compile(const struct sw_spec_cc *cc, const cJSON *doc);
/* Whether an operation description is safe to repeat: its "idempotent", else by method. */
int sw_spec_idempotent(const cJSON *desc);
/* The spec's limit class called name; NULL when it has none. */
struct sw_limit_class *sw_spec_class(const struct sw_spec *spec, const char *name);

/* ---- the compiled spec (sw_spec_load.c) ---- */

struct sw_spec_header {
    const char *name;
    struct sw_spec_tpl value;
};

enum sw_spec_auth_kind { SW_AUTH_NONE, SW_AUTH_HEADER, SW_AUTH_BASIC };

struct sw_spec_auth {
    enum sw_spec_auth_kind kind;
    const char *header;
    struct sw_spec_tpl value;    /* SW_AUTH_HEADER */
    struct sw_spec_tpl username; /* SW_AUTH_BASIC */
    struct sw_spec_tpl password;
};

/* An origin chosen by an account setting (Customer.io's region). */
struct sw_spec_origin {
    const char *key;
    struct sw_spec_tpl url;
};

struct sw_spec_origin_by {
    const char *setting; /* NULL: the origin is base_url */
    const char *def;
    const struct sw_spec_origin *v;
    int n;
};

struct sw_spec {
    cJSON *doc; /* owned; the compiled form borrows its strings and constants */
    struct sw_spec_arena arena;
    const char *name;
    struct sw_spec_tpl base_url;
    struct sw_spec_origin_by base_url_by;
    struct sw_spec_auth auth;
    const struct sw_spec_header *headers;
    int nheaders;
    const struct sw_spec_ptr *error_code; /* where an error body keeps its code */
    int nerror_code;
    const struct sw_spec_ptr *error_message;
    int nerror_message;
    const char *remote_query_wrap; /* NULL: options.remote_query is sent as it is */
    const struct sw_spec_model *models;
    int nmodels;
    const struct sw_spec_model *extras;
    int nextras;
    const cJSON *operations; /* the documents, for the capability matrix only */
    const cJSON *model_docs;
    struct sw_limit_class *classes;
    int nclasses;
    struct sw_retry_hint *hints;
    int nhints;
    struct sw_session_desc session;
    int has_session;
    const char *session_cookie; /* the cookie that carries the session token */
    struct sw_spec_op login;    /* when session.has_login */
    struct sw_spec_opset ops[SW_OP__COUNT];
};

/* The contract's vtable of this adapter. */
extern const struct sw_adapter sw_spec_adapter;

/* Compile and register one spec from JSON text as a provider. 0, or -1 with st. */
int sw_spec_register_text(struct sw_registry *reg, const char *text, size_t len, const char *origin,
                          struct sw_status *st);
/* The built-in specs (compiled into the binary), or every *.json file of dir. */
int sw_spec_register_builtin(struct sw_registry *reg, struct sw_status *st);
int sw_spec_register_dir(struct sw_registry *reg, const char *dir, struct sw_status *st);
/* The spec behind a provider of this adapter; NULL for another adapter's provider. */
const struct sw_spec *sw_spec_of(const struct sw_provider *p);
void sw_spec_destroy(struct sw_spec *spec);

/* ---- requests (sw_spec_request.c) ---- */

sw_err_t sw_spec_build(const struct sw_spec *spec, const struct sw_spec_variant *var,
                       const struct sw_account *acct, const struct sw_job *job, const char *cursor,
                       struct sw_http_req *req, struct sw_status *st);
sw_err_t sw_spec_build_login(const struct sw_spec *spec, const struct sw_account *acct,
                             const struct sw_job *job, struct sw_http_req *req,
                             struct sw_status *st);
/* The origin requests of acct go to (its base_url, or the spec's, with its settings), rendered
 * into base. */
sw_err_t sw_spec_origin(const struct sw_spec *spec, const struct sw_account *acct,
                        const struct sw_job *job, struct sw_buf *base, struct sw_status *st);

/* ---- accounts (sw_spec_check.c) ---- */

/* Check acct against spec: credentials and settings the spec needs and the account lacks, names
 * the spec never uses (with the closest one it does), an origin that does not render. report is
 * called once per problem; returns how many. */
int sw_spec_check_account(const struct sw_spec *spec, const struct sw_account *acct,
                          void (*report)(void *arg, const char *problem), void *arg);

/* ---- answers (sw_spec_map.c, sw_spec_error.c) ---- */

sw_err_t sw_spec_map_page(const struct sw_spec *spec, const struct sw_spec_variant *var,
                          const struct sw_job *job, const char *cursor,
                          const struct sw_http_resp *resp, int max_depth, struct sw_page *page,
                          struct sw_status *st);
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
