/* Compiling the operations of a spec (see sw_spec.h): each variant's method, path template,
 * required references, query entries, pagination, body tree and result, and the engine-facing
 * part of the contract (method, idempotency, result kind, paging, limit class).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const read_class = "read";
static const char *const write_class = "write";

/* The variants of an operation: the list's elements, or the one description. */
#define EACH_VARIANT(v, op)                                                                        \
    for ((v) = cJSON_IsArray(op) ? (op)->child : (op); (v);                                        \
         (v) = cJSON_IsArray(op) ? (v)->next : NULL)

int sw_spec_idempotent(const cJSON *op)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, "idempotent");
    const char *m = sw_json_str(op, "method");

    if (cJSON_IsBool(v)) {
        return cJSON_IsTrue(v);
    }
    /* RFC 9110: GET, PUT and DELETE are idempotent; POST and PATCH are not. */
    return m && strcmp(m, "POST") && strcmp(m, "PATCH");
}

/* The class an operation is limited by: its "limit_class", else read for GET/HEAD, else write. */
static const char *class_name_of(const cJSON *op)
{
    const char *cls = sw_json_str(op, "limit_class");
    const char *m = sw_json_str(op, "method");

    if (cls) {
        return cls;
    }
    return m && (!strcmp(m, "GET") || !strcmp(m, "HEAD")) ? read_class : write_class;
}

static int compile_required(const struct sw_spec_cc *cc, const cJSON *desc, struct sw_spec_op *out)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(desc, "required");
    struct sw_spec_ref *v;
    const cJSON *c;

    if (!list) {
        return 0;
    }
    v = sw_spec_cc_room(cc, list, 0, sizeof(*v), "required", "must be a list of references");
    if (!v) {
        return -1;
    }
    cJSON_ArrayForEach(c, list)
    {
        if (!cJSON_IsString(c)) {
            return sw_spec_cc_fail(cc, "required", "must be a list of references");
        }
        if (sw_spec_cc_why(cc, "required", c->valuestring,
                           sw_spec_ref_parse(&cc->spec->arena, c->valuestring,
                                             strlen(c->valuestring), 1, &v[out->nrequired]))) {
            return -1;
        }
        out->nrequired++;
    }
    out->required = v;
    return 0;
}

/* "query[i].member", for reports. */
static const char *query_field(char *buf, size_t n, int i, const char *member)
{
    snprintf(buf, n, "query[%d]%s%s", i, *member ? "." : "", member);
    return buf;
}

static int compile_query_entry(const struct sw_spec_cc *cc, const cJSON *e, int i,
                               struct sw_spec_query *q)
{
    char f[48];
    int has_value = 0;

    if (!cJSON_IsObject(e)) {
        return sw_spec_cc_fail(cc, query_field(f, sizeof(f), i, ""), "must be an object");
    }
    if (sw_spec_cc_str(cc, e, "name", query_field(f, sizeof(f), i, "name"), &q->name) ||
        sw_spec_cc_ref(cc, e, "from", query_field(f, sizeof(f), i, "from"), &q->from) ||
        sw_spec_cc_tpl(cc, e, "value", query_field(f, sizeof(f), i, "value"), SW_R_PLAIN, &q->value,
                       &has_value) ||
        sw_spec_cc_ref(cc, e, "if", query_field(f, sizeof(f), i, "if"), &q->cond)) {
        return -1;
    }
    if (!q->name) {
        return sw_spec_cc_fail(cc, query_field(f, sizeof(f), i, "name"), "missing");
    }
    q->kind = q->from.nalt ? SW_QUERY_FROM : has_value ? SW_QUERY_VALUE : SW_QUERY_EMPTY;
    q->required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "required"));
    q->explode = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "explode"));
    return 0;
}

static int compile_query(const struct sw_spec_cc *cc, const cJSON *desc, struct sw_spec_op *out)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(desc, "query");
    struct sw_spec_query *v;
    const cJSON *e;

    if (!list) {
        return 0;
    }
    v = sw_spec_cc_room(cc, list, 0, sizeof(*v), "query", "must be a list of parameters");
    if (!v) {
        return -1;
    }
    cJSON_ArrayForEach(e, list)
    {
        if (compile_query_entry(cc, e, out->nquery, &v[out->nquery])) {
            return -1;
        }
        out->nquery++;
    }
    out->query = v;
    return 0;
}

/* The styles and result kinds, in the order of their enums (sw_adapter.h). */
static const char *const styles[] = {"none", "next_url", "cursor", "offset", "page", "body_offset"};
static const char *const kinds[] = {"item", "items", "count", "deleted", "accepted"};

static int compile_paging(const struct sw_spec_cc *cc, const cJSON *desc, struct sw_spec_paging *p)
{
    const cJSON *pag = cJSON_GetObjectItemCaseSensitive(desc, "pagination");
    const cJSON *mps;
    int style;

    p->style = SW_PAGING_NONE;
    p->total.text = "";
    p->has_more.text = "";
    if (!pag) {
        return 0;
    }
    if (!cJSON_IsObject(pag)) {
        return sw_spec_cc_fail(cc, "pagination", "must be an object");
    }
    if (sw_spec_cc_enum(cc, pag, "style", "pagination.style", styles, 6,
                        "must be next_url, cursor, offset, page, body_offset or none", &style)) {
        return -1;
    }
    p->style = (enum sw_paging)style;
    if (sw_spec_cc_str(cc, pag, "param", "pagination.param", &p->param) ||
        sw_spec_cc_str(cc, pag, "limit_param", "pagination.limit_param", &p->limit_param) ||
        sw_spec_cc_str(cc, pag, "first", "pagination.first", &p->first) ||
        sw_spec_cc_tpl(cc, pag, "limit", "pagination.limit", SW_R_PLAIN, &p->limit,
                       &p->has_limit) ||
        sw_spec_cc_ptr(cc, pag, "next", "pagination.next", &p->next)) {
        return -1;
    }
    p->first_num = p->first ? strtoll(p->first, NULL, 10) : 0;
    mps = cJSON_GetObjectItemCaseSensitive(pag, "max_page_size");
    if (mps) {
        if (!cJSON_IsNumber(mps) || mps->valuedouble < 1 || mps->valuedouble > 1e9 ||
            mps->valuedouble != (double)(long long)mps->valuedouble) {
            return sw_spec_cc_fail(cc, "pagination.max_page_size", "must be a whole number >= 1");
        }
        p->max_page_size = (long long)mps->valuedouble;
    }
    if (sw_spec_cc_ptr(cc, pag, "total", "pagination.total", &p->total) ||
        sw_spec_cc_ptr(cc, pag, "has_more", "pagination.has_more", &p->has_more)) {
        return -1;
    }
    /* Absent, they point at the whole body (which is then never a total or a true flag). */
    p->total.text = p->total.text ? p->total.text : "";
    p->has_more.text = p->has_more.text ? p->has_more.text : "";
    return 0;
}

static int compile_result(const struct sw_spec_cc *cc, const cJSON *desc, struct sw_spec_result *r)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(desc, "result");
    const char *model;
    int kind;

    if (!cJSON_IsObject(res)) {
        return sw_spec_cc_fail(cc, "result", "must be an object with a kind");
    }
    if (sw_spec_cc_enum(cc, res, "kind", "result.kind", kinds, 5,
                        "must be item, items, count, deleted or accepted", &kind)) {
        return -1;
    }
    r->kind = (enum sw_result_kind)kind;
    if (sw_spec_cc_ptr(cc, res, "pointer", "result.pointer", &r->at) ||
        sw_spec_cc_str(cc, res, "model", "result.model", &model) ||
        sw_spec_cc_str(cc, res, "wrap", "result.wrap", &r->wrap)) {
        return -1;
    }
    r->at.text = r->at.text ? r->at.text : "";
    if (r->kind == SW_RESULT_DELETED || r->kind == SW_RESULT_ACCEPTED) {
        return 0;
    }
    if (!model) {
        return sw_spec_cc_fail(cc, "result.model", "missing (a %s result maps a model)",
                               kinds[kind]);
    }
    r->model = sw_spec_model_find(cc->spec, model);
    return r->model ? 0 : sw_spec_cc_fail(cc, "result.model", "no model \"%s\" in models", model);
}

int sw_spec_op_compile(const struct sw_spec_cc *cc, const cJSON *desc, int result,
                       struct sw_spec_op *out)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(desc, "body");
    const char *path;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(desc)) {
        return sw_spec_cc_fail(cc, "description", "must be an object");
    }
    if (sw_spec_cc_str(cc, desc, "method", "method", &out->method) ||
        sw_spec_cc_str(cc, desc, "path", "path", &path) ||
        sw_spec_cc_str(cc, desc, "content_type", "content_type", &out->content_type)) {
        return -1;
    }
    /* The request's method buffer holds 7 characters. */
    if (!out->method || !out->method[0] || strlen(out->method) > 7) {
        return sw_spec_cc_fail(cc, "method", "must be an HTTP method");
    }
    if (!path || path[0] != '/') {
        return sw_spec_cc_fail(cc, "path", "must be a template starting with '/'");
    }
    if (sw_spec_cc_tpl(cc, desc, "path", "path", SW_R_PATH, &out->path, NULL) ||
        compile_required(cc, desc, out) || compile_query(cc, desc, out) ||
        compile_paging(cc, desc, &out->pag) || (result && compile_result(cc, desc, &out->res))) {
        return -1;
    }
    out->idempotent = sw_spec_idempotent(desc);
    if (body) {
        struct sw_spec_body *b = sw_spec_arena_alloc(&cc->spec->arena, sizeof(*b));

        if (!b) {
            return sw_spec_cc_why(cc, "body", "", sw_spec_why_nomem);
        }
        if (sw_spec_body_compile(cc, body, "body", b)) {
            return -1;
        }
        out->body = b;
    }
    return 0;
}

/* A class an operation names but rate_limits does not state exists with no stated limit. */
static int add_named_class(struct sw_spec *spec, const char *name)
{
    struct sw_limit_class *nv;

    if (sw_spec_class(spec, name)) {
        return 0;
    }
    nv = realloc(spec->classes, (size_t)(spec->nclasses + 1) * sizeof(*nv));
    if (!nv) {
        return -1;
    }
    spec->classes = nv;
    memset(&nv[spec->nclasses], 0, sizeof(*nv));
    nv[spec->nclasses++].name = name;
    return 0;
}

static int compile_variant(const struct sw_spec_cc *cc, enum sw_op_id id, const cJSON *desc,
                           struct sw_spec_variant *var)
{
    const char *cls; /* only checked here: class_name_of reads it (the classes exist by now) */

    if (sw_spec_op_compile(cc, desc, 1, &var->c) ||
        sw_spec_cc_ref(cc, desc, "when", "when", &var->when) ||
        sw_spec_cc_str(cc, desc, "limit_class", "limit_class", &cls)) {
        return -1;
    }
    var->op.id = id;
    var->op.method = var->c.method;
    var->op.idempotent = var->c.idempotent;
    var->op.kind = var->c.res.kind;
    var->op.paging = var->c.pag.style;
    var->op.limit_class = sw_spec_class(cc->spec, class_name_of(desc));
    var->op.impl = var;
    return 0;
}

int sw_spec_ops_compile(const struct sw_spec_cc *cc, const cJSON *doc)
{
    struct sw_spec *spec = cc->spec;
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(doc, "operations");
    const cJSON *op;
    const cJSON *v;

    if (!cJSON_IsObject(ops)) {
        return sw_spec_cc_fail(cc, "operations", "must be an object");
    }
    /* Every class first: adding one moves the array the operations point into. */
    cJSON_ArrayForEach(op, ops)
    {
        EACH_VARIANT(v, op)
        {
            if (add_named_class(spec, class_name_of(v))) {
                return sw_spec_cc_why(cc, "operations", "", sw_spec_why_nomem);
            }
        }
    }
    cJSON_ArrayForEach(op, ops)
    {
        enum sw_op_id id = sw_op_from_name(op->string);
        struct sw_spec_opset *set;
        struct sw_spec_cc occ = *cc;
        int n = cJSON_IsArray(op) ? cJSON_GetArraySize(op) : 1;

        if (id == SW_OP__COUNT) {
            return sw_spec_cc_fail(cc, "operations",
                                   "\"%s\" is not an operation segworker knows (segworker "
                                   "providers lists them)",
                                   op->string);
        }
        occ.op = op->string;
        set = &spec->ops[id];
        if (set->v || n == 0) {
            return sw_spec_cc_fail(&occ, "description",
                                   set->v ? "is given twice"
                                          : "must be an operation or a list of its variants");
        }
        set->v = sw_spec_arena_alloc(&spec->arena, (size_t)n * sizeof(*set->v));
        if (!set->v) {
            return sw_spec_cc_why(cc, "operations", "", sw_spec_why_nomem);
        }
        EACH_VARIANT(v, op)
        {
            if (compile_variant(&occ, id, v, &set->v[set->n])) {
                return -1;
            }
            set->n++;
        }
        if (sw_spec_params_compile(&occ, id, op, set)) {
            return -1;
        }
    }
    return 0;
}
