/* The params and provider options each variant of an operation takes (worker/sw_params.h),
 * derived from the variant itself: every params.X it refers to (path, query, body, required,
 * selector) is a param it takes, a params.X,settings.Y reference makes X scope the account's
 * setting Y, a path or required reference without a default makes X required, and an update's
 * body references are what it can change. An operation's optional "params" object refines a
 * derived param (type, allowed values, bounds, one line of doc); it cannot declare a param the
 * operation never reads, so a declaration cannot promise what the request ignores.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_json.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Names one variant may refer to; a spec with more is refused at load. */
#define MAX_NAMES 48
#define MAX_LEN   96

#define SW_PT_ANY                                                                                  \
    (SW_PT_STRING | SW_PT_INTEGER | SW_PT_NUMBER | SW_PT_BOOLEAN | SW_PT_OBJECT | SW_PT_ARRAY)

/* The params every provider names alike (schemas/job.schema.json documents them): their types
 * apply wherever a spec reads them, before the spec's own refinements. */
static const struct {
    const char *name;
    unsigned types;
    unsigned items;
} conventional[] = {
    {"id", SW_PT_STRING | SW_PT_INTEGER, 0},
    {"name", SW_PT_STRING, 0},
    {"description", SW_PT_STRING, 0},
    {"definition", SW_PT_OBJECT | SW_PT_STRING, 0},
    {"is_active", SW_PT_BOOLEAN, 0},
    {"end_date", SW_PT_STRING, 0},
    {"campaign_id", SW_PT_STRING | SW_PT_INTEGER, 0},
    {"list_id", SW_PT_STRING | SW_PT_INTEGER, 0},
    {"workspace.id", SW_PT_STRING, 0},
    {"integrated_account_id", SW_PT_STRING, 0},
    {"filter", SW_PT_STRING, 0},
    {"sort", SW_PT_STRING, 0},
    {"fields", SW_PT_STRING | SW_PT_ARRAY, SW_PT_STRING},
    {"page_size", SW_PT_INTEGER, 0},
    {"with_member_count", SW_PT_BOOLEAN, 0},
    {"query_json", SW_PT_BOOLEAN, 0},
    {"ids_only", SW_PT_BOOLEAN, 0},
    {"with_details", SW_PT_BOOLEAN, 0},
    {"is_starred", SW_PT_BOOLEAN, 0},
    {"emails", SW_PT_ARRAY, SW_PT_STRING},
    {"time_zone", SW_PT_STRING, 0},
    {"contacts_sample", SW_PT_BOOLEAN, 0},
};

static void conventional_type(struct sw_param_decl *d)
{
    size_t i;

    d->types = SW_PT_ANY;
    d->items = SW_PT_ANY;
    for (i = 0; i < sizeof(conventional) / sizeof(conventional[0]); i++) {
        if (!strcmp(conventional[i].name, d->name)) {
            d->types = conventional[i].types;
            d->items = conventional[i].items;
        }
    }
    if (!strcmp(d->name, "page_size")) {
        d->has_min = 1;
        d->min = 1;
    }
}

/* What a scan of one variant found. */
struct found {
    char name[MAX_NAMES][MAX_LEN];
    char scopes[MAX_NAMES][MAX_LEN]; /* "" when none */
    int n;
    char opt[8][MAX_LEN]; /* provider options (options.X the engine does not read) */
    int nopt;
    int overflow;
};

static int find(char (*v)[MAX_LEN], int n, const char *s)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!strcmp(v[i], s)) {
            return i;
        }
    }
    return -1;
}

static int add(char (*v)[MAX_LEN], int *n, int cap, const char *s, size_t len)
{
    char buf[MAX_LEN];
    int i;

    if (len == 0 || len >= MAX_LEN) {
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    i = find(v, *n, buf);
    if (i >= 0) {
        return i;
    }
    if (*n >= cap) {
        return -1;
    }
    memcpy(v[*n], buf, len + 1);
    return (*n)++;
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* The dotted name at s (without a trailing dot); its length. */
static size_t name_len(const char *s)
{
    size_t n = 0;

    while (name_char(s[n])) {
        n++;
    }
    while (n && s[n - 1] == '.') {
        n--;
    }
    return n;
}

/* Every params.X and options.X reference in a string of the spec. */
static void scan_text(const char *s, struct found *f)
{
    const char *p;

    for (p = s; *p; p++) {
        size_t n;

        if (p > s && (name_char(p[-1]) || p[-1] == '$')) {
            continue;
        }
        if (!strncmp(p, "params.", 7)) {
            int i;

            n = name_len(p + 7);
            i = add(f->name, &f->n, MAX_NAMES, p + 7, n);
            if (i < 0) {
                f->overflow = n > 0;
                continue;
            }
            /* params.X,settings.Y: the job's value, else the account's (a tenant boundary). */
            if (p[7 + n] == ',' && !strncmp(p + 8 + n, "settings.", 9) && !f->scopes[i][0]) {
                size_t m = name_len(p + 17 + n);

                if (m && m < MAX_LEN) {
                    memcpy(f->scopes[i], p + 17 + n, m);
                    f->scopes[i][m] = '\0';
                }
            }
        } else if (!strncmp(p, "options.", 8)) {
            char opt[MAX_LEN];

            n = name_len(p + 8);
            if (n && n < MAX_LEN) {
                memcpy(opt, p + 8, n);
                opt[n] = '\0';
                if (!sw_job_engine_option(opt) && add(f->opt, &f->nopt, 8, opt, n) < 0) {
                    f->overflow = 1;
                }
            }
        }
    }
}

static void scan(const cJSON *v, struct found *f)
{
    const cJSON *c;

    if (cJSON_IsString(v)) {
        scan_text(v->valuestring, f);
        return;
    }
    cJSON_ArrayForEach(c, v)
    {
        scan(c, f);
    }
}

/* A variant's references, not counting its own "params" declarations. */
static void scan_variant(const cJSON *desc, struct found *f)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, desc)
    {
        if (strcmp(c->string, "params")) {
            scan(c, f);
        }
    }
}

/* A reference's first alternative as a params name ("workspace.id"), or 0. */
static size_t ref_param(const struct sw_spec_ref *r, char *buf, size_t n)
{
    size_t used = 0;
    int i;

    if (!r->nalt || r->alt[0].scope != SW_SCOPE_PARAMS || r->alt[0].npath <= 0) {
        return 0;
    }
    for (i = 0; i < r->alt[0].npath; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? "." : "", r->alt[0].path[i]);

        if (w < 0 || (size_t)w >= n - used) {
            return 0;
        }
        used += (size_t)w;
    }
    return used;
}

static const char *const type_names[] = {"string",  "integer", "number",
                                         "boolean", "object",  "array"};

static int type_bits(const struct sw_spec_cc *cc, const cJSON *t, const char *field, unsigned *out)
{
    const cJSON *list = cJSON_IsArray(t) ? t : NULL;
    const cJSON *c;
    int i;

    *out = 0;
    cJSON_ArrayForEach(c, list)
    {
        for (i = 0; i < 6 && (!cJSON_IsString(c) || strcmp(c->valuestring, type_names[i])); i++) {
        }
        if (i == 6) {
            return sw_spec_cc_fail(cc, field, "type must name JSON types");
        }
        *out |= 1u << i;
    }
    for (i = 0; cJSON_IsString(t) && i < 6 && strcmp(t->valuestring, type_names[i]); i++) {
    }
    if (cJSON_IsString(t)) {
        if (i == 6) {
            return sw_spec_cc_fail(cc, field, "type must name a JSON type");
        }
        *out = 1u << i;
    }
    if (*out & SW_PT_NUMBER) {
        *out |= SW_PT_INTEGER;
    }
    return 0;
}

static int bound(const struct sw_spec_cc *cc, const cJSON *d, const char *key, const char *field,
                 int *has, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);

    if (!v) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
        return sw_spec_cc_fail(cc, field, "%s must be an integer", key);
    }
    *has = 1;
    *out = (long long)v->valuedouble;
    return 0;
}

/* An operation's "params" entry refining the derived declaration d. */
static int refine(const struct sw_spec_cc *cc, const cJSON *e, struct sw_param_decl *d)
{
    char field[MAX_LEN + 16];
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "enum");
    const cJSON *c;

    snprintf(field, sizeof(field), "params.%s", d->name);
    if (!cJSON_IsObject(e)) {
        return sw_spec_cc_fail(cc, field, "must be an object");
    }
    if (cJSON_GetObjectItemCaseSensitive(e, "type") &&
        type_bits(cc, cJSON_GetObjectItemCaseSensitive(e, "type"), field, &d->types)) {
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(e, "items") &&
        type_bits(cc, cJSON_GetObjectItemCaseSensitive(e, "items"), field, &d->items)) {
        return -1;
    }
    if (bound(cc, e, "minimum", field, &d->has_min, &d->min) ||
        bound(cc, e, "maximum", field, &d->has_max, &d->max) ||
        sw_spec_cc_str(cc, e, "doc", field, &d->doc)) {
        return -1;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "required"))) {
        d->required = 1;
    }
    if (vals) {
        const char **v =
            sw_spec_cc_room(cc, vals, 0, sizeof(*v), field, "enum must be a list of strings");

        if (!v) {
            return -1;
        }
        cJSON_ArrayForEach(c, vals)
        {
            if (!cJSON_IsString(c)) {
                return sw_spec_cc_fail(cc, field, "enum must be a list of strings");
            }
            v[d->nvalues++] = c->valuestring;
        }
        d->values = v;
    }
    return 0;
}

static const char *keep(const struct sw_spec_cc *cc, const char *s)
{
    return sw_spec_arena_strndup(&cc->spec->arena, s, strlen(s));
}

static void require(const struct sw_spec_ref *r, struct sw_param_decl *d, int n)
{
    char name[MAX_LEN];
    int k;

    if (!ref_param(r, name, sizeof(name))) {
        return;
    }
    for (k = 0; k < n; k++) {
        if (!strcmp(d[k].name, name)) {
            d[k].required = 1;
        }
    }
}

/* The required params of a compiled variant: its path references without a default, its
 * required references and its required query values. */
static void mark_required(const struct sw_spec_op *c, struct sw_param_decl *d, int n)
{
    int i;

    for (i = 0; i < c->path.nseg; i++) {
        if (!c->path.seg[i].has_default) {
            require(&c->path.seg[i].ref, d, n);
        }
    }
    for (i = 0; i < c->nrequired; i++) {
        require(&c->required[i], d, n);
    }
    for (i = 0; i < c->nquery; i++) {
        if (c->query[i].required) {
            require(&c->query[i].from, d, n);
        }
    }
}

static int compile_one(const struct sw_spec_cc *cc, enum sw_op_id id, const cJSON *desc,
                       const struct found *all_when, const struct found *every,
                       struct sw_spec_variant *var)
{
    struct found f;
    struct found body;
    struct sw_param_set *set = &var->params;
    const cJSON *decls = cJSON_GetObjectItemCaseSensitive(desc, "params");
    struct sw_param_decl *d;
    const cJSON *e;
    const char **other;
    int i;

    memset(&f, 0, sizeof(f));
    memset(&body, 0, sizeof(body));
    scan_variant(desc, &f);
    /* The spec's own headers apply to every request (Klaviyo's revision, options.revision). */
    scan(cJSON_GetObjectItemCaseSensitive(cc->spec->doc, "headers"), &f);
    for (i = 0; i < all_when->n; i++) {
        add(f.name, &f.n, MAX_NAMES, all_when->name[i], strlen(all_when->name[i]));
    }
    if (f.overflow) {
        return sw_spec_cc_fail(cc, "description", "refers to more than %d params", MAX_NAMES);
    }
    d = sw_spec_arena_alloc(&cc->spec->arena, sizeof(*d) * (size_t)(f.n + f.nopt + 1));
    other = sw_spec_arena_alloc(&cc->spec->arena, sizeof(*other) * (size_t)(every->n + 1));
    if (!d || !other) {
        return sw_spec_cc_why(cc, "params", "", sw_spec_why_nomem);
    }
    for (i = 0; i < f.n; i++) {
        d[i].name = keep(cc, f.name[i]);
        d[i].scopes = f.scopes[i][0] ? keep(cc, f.scopes[i]) : NULL;
        conventional_type(&d[i]);
        if (!d[i].name || (f.scopes[i][0] && !d[i].scopes)) {
            return sw_spec_cc_why(cc, "params", "", sw_spec_why_nomem);
        }
    }
    mark_required(&var->c, d, f.n);
    cJSON_ArrayForEach(e, decls)
    {
        for (i = 0; i < f.n && strcmp(d[i].name, e->string); i++) {
        }
        if (i == f.n) {
            return sw_spec_cc_fail(cc, "params", "declares \"%s\", which the operation never reads",
                                   e->string);
        }
        if (refine(cc, e, &d[i])) {
            return -1;
        }
    }
    set->params = d;
    set->nparams = f.n;
    for (i = 0; i < f.nopt; i++) {
        d[f.n + i].name = keep(cc, f.opt[i]);
        d[f.n + i].types = SW_PT_STRING;
        if (!d[f.n + i].name) {
            return sw_spec_cc_why(cc, "params", "", sw_spec_why_nomem);
        }
    }
    set->options = d + f.n;
    set->noptions = f.nopt;
    /* Params only another variant reads: a job that names one is told it picked another form. */
    for (i = 0; i < every->n; i++) {
        if (find(f.name, f.n, every->name[i]) < 0) {
            other[set->nelsewhere++] = keep(cc, every->name[i]);
        }
    }
    set->elsewhere = other;
    set->selected_by = var->when.nalt ? var->when.text : NULL;
    set->resumable = var->op.kind == SW_RESULT_ITEMS;
    if (id == SW_OP_SEGMENTS_UPDATE) {
        const char **ch;

        scan(cJSON_GetObjectItemCaseSensitive(desc, "body"), &body);
        scan(cJSON_GetObjectItemCaseSensitive(desc, "query"), &body);
        ch = sw_spec_arena_alloc(&cc->spec->arena, sizeof(*ch) * (size_t)(body.n + 1));
        if (!ch) {
            return sw_spec_cc_why(cc, "params", "", sw_spec_why_nomem);
        }
        for (i = 0; i < body.n; i++) {
            int k = find(f.name, f.n, body.name[i]);

            if (k >= 0 && !d[k].required) {
                ch[set->nchanges++] = d[k].name;
            }
        }
        set->changes = ch;
    }
    var->op.params = set;
    return 0;
}

int sw_spec_params_compile(const struct sw_spec_cc *cc, enum sw_op_id id, const cJSON *op,
                           struct sw_spec_opset *set)
{
    struct found when;
    struct found every;
    const cJSON *v;
    int i;

    memset(&when, 0, sizeof(when));
    memset(&every, 0, sizeof(every));
    for (i = 0, v = cJSON_IsArray(op) ? op->child : op; v && i < set->n;
         i++, v = cJSON_IsArray(op) ? v->next : NULL) {
        scan(cJSON_GetObjectItemCaseSensitive(v, "when"), &when);
        scan_variant(v, &every);
    }
    if (when.overflow || every.overflow) {
        return sw_spec_cc_fail(cc, "description", "refers to more than %d params", MAX_NAMES);
    }
    for (i = 0, v = cJSON_IsArray(op) ? op->child : op; v && i < set->n;
         i++, v = cJSON_IsArray(op) ? v->next : NULL) {
        if (compile_one(cc, id, v, &when, &every, &set->v[i])) {
            return -1;
        }
    }
    return 0;
}
