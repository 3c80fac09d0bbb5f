/* Compiling the models of a spec (see sw_spec.h): each unified field of "models" and of the
 * normalized "extras" into its kind (null, rules, constant, converted provider value), its
 * conversion type and its pre-parsed JSON pointers.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
    [SW_TYPE_STRING] = "string",
    [SW_TYPE_INTEGER] = "integer",
    [SW_TYPE_BOOLEAN] = "boolean",
    [SW_TYPE_DATETIME] = "datetime",
    [SW_TYPE_UNIX_SECONDS] = "unix_seconds",
    [SW_TYPE_RAW] = "raw",
};

/* "when": {pointer: expected value, or a list of them}; all must hold. */
static int compile_rule(const struct sw_spec_cc *cc, const cJSON *r, const char *field,
                        struct sw_spec_rule *out)
{
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(r, "when");
    struct sw_spec_cond *cond;
    const cJSON *c;

    if (!cJSON_IsObject(r)) {
        return sw_spec_cc_fail(cc, field, "must be {\"when\": {pointer: value}, \"value\": ...}");
    }
    out->value = cJSON_GetObjectItemCaseSensitive(r, "value");
    if (!when) {
        return 0;
    }
    cond = sw_spec_cc_room(cc, when, 1, sizeof(*cond), field, "when must be {pointer: value}");
    if (!cond) {
        return -1;
    }
    cJSON_ArrayForEach(c, when)
    {
        struct sw_spec_cond *k = &cond[out->ncond++];

        if (sw_spec_cc_why(cc, field, c->string,
                           sw_spec_ptr_compile(&cc->spec->arena, c->string, &k->at))) {
            return -1;
        }
        k->want = c;
        k->any = cJSON_IsArray(c);
    }
    out->cond = cond;
    return 0;
}

static int compile_rules(const struct sw_spec_cc *cc, const cJSON *rules, const char *field,
                         struct sw_spec_field *out)
{
    struct sw_spec_rule *v;
    const cJSON *r;

    v = sw_spec_cc_room(cc, rules, 0, sizeof(*v), field, "rules must be a list");
    if (!v) {
        return -1;
    }
    cJSON_ArrayForEach(r, rules)
    {
        char sub[200];

        snprintf(sub, sizeof(sub), "%s.rules[%d]", field, out->nrules);
        if (compile_rule(cc, r, sub, &v[out->nrules])) {
            return -1;
        }
        out->nrules++;
    }
    out->kind = SW_FIELD_RULES;
    out->rules = v;
    return 0;
}

/* "from": a pointer, or a list of them (the first with a non-empty value wins). */
static int compile_from(const struct sw_spec_cc *cc, const cJSON *from, const char *field,
                        struct sw_spec_field *out)
{
    struct sw_spec_ptr *v;
    const cJSON *p;
    int n = cJSON_IsString(from) ? 1 : cJSON_GetArraySize(from);

    if (!(cJSON_IsString(from) || cJSON_IsArray(from)) || n == 0) {
        return sw_spec_cc_fail(cc, field, "from must be a JSON pointer or a list of them");
    }
    v = sw_spec_arena_alloc(&cc->spec->arena, (size_t)n * sizeof(*v));
    if (!v) {
        return sw_spec_cc_why(cc, field, "", sw_spec_why_nomem);
    }
    out->from_list = cJSON_IsArray(from);
    for (p = out->from_list ? from->child : from; p; p = out->from_list ? p->next : NULL) {
        if (!cJSON_IsString(p)) {
            return sw_spec_cc_fail(cc, field, "from must be a JSON pointer or a list of them");
        }
        if (sw_spec_cc_why(cc, field, p->valuestring,
                           sw_spec_ptr_compile(&cc->spec->arena, p->valuestring, &v[out->nfrom]))) {
            return -1;
        }
        out->nfrom++;
    }
    out->from = v;
    return 0;
}

static int compile_field(const struct sw_spec_cc *cc, const cJSON *f, const char *field,
                         struct sw_spec_field *out)
{
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(f, "rules");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(f, "value");
    int t;

    out->name = f->string;
    out->role = !strcmp(f->string, "id")             ? SW_ROLE_ID
                : !strcmp(f->string, "member_count") ? SW_ROLE_MEMBER_COUNT
                                                     : SW_ROLE_OTHER;
    if (cJSON_IsNull(f)) {
        out->kind = SW_FIELD_NULL;
        return 0;
    }
    if (!cJSON_IsObject(f)) {
        return sw_spec_cc_fail(cc, field, "must be null, {from, type}, {rules} or {value}");
    }
    if (rules) {
        return compile_rules(cc, rules, field, out);
    }
    if (value) {
        out->kind = SW_FIELD_VALUE;
        out->value = value;
        return 0;
    }
    if (sw_spec_cc_enum(cc, f, "type", field, type_names, 6,
                        "type must be string, integer, boolean, datetime, unix_seconds or raw",
                        &t)) {
        return -1;
    }
    out->kind = SW_FIELD_FROM;
    out->type = (enum sw_spec_type)t;
    out->type_name = type_names[t];
    return compile_from(cc, cJSON_GetObjectItemCaseSensitive(f, "from"), field, out);
}

/* Every model of set ("models" or "extras"). */
static int compile_set(const struct sw_spec_cc *cc, const cJSON *set, const char *what,
                       struct sw_spec_model **out, int *n)
{
    struct sw_spec_model *v;
    const cJSON *m;

    v = sw_spec_cc_room(cc, set, 1, sizeof(*v), what, "must be an object of models");
    if (!v) {
        return -1;
    }
    cJSON_ArrayForEach(m, set)
    {
        struct sw_spec_model *model = &v[(*n)++];
        struct sw_spec_field *f;
        const cJSON *c;

        model->name = m->string;
        f = sw_spec_cc_room(cc, m, 1, sizeof(*f), what, "every model must be an object of fields");
        if (!f) {
            return -1;
        }
        cJSON_ArrayForEach(c, m)
        {
            char field[160];

            snprintf(field, sizeof(field), "%s.%s.%s", what, m->string, c->string);
            if (compile_field(cc, c, field, &f[model->n])) {
                return -1;
            }
            model->n++;
        }
        model->f = f;
    }
    *out = v;
    return 0;
}

static const struct sw_spec_model *find(const struct sw_spec_model *v, int n, const char *name)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!strcmp(v[i].name, name)) {
            return &v[i];
        }
    }
    return NULL;
}

const struct sw_spec_model *sw_spec_model_find(const struct sw_spec *spec, const char *name)
{
    return find(spec->models, spec->nmodels, name);
}

int sw_spec_models_compile(const struct sw_spec_cc *cc, const cJSON *doc)
{
    struct sw_spec *spec = cc->spec;
    const cJSON *doc_extras = cJSON_GetObjectItemCaseSensitive(doc, "extras");
    struct sw_spec_model *models = NULL;
    struct sw_spec_model *extras = NULL;
    int i;

    if (compile_set(cc, cJSON_GetObjectItemCaseSensitive(doc, "models"), "models", &models,
                    &spec->nmodels) ||
        (doc_extras && compile_set(cc, doc_extras, "extras", &extras, &spec->nextras))) {
        return -1;
    }
    /* A model's normalized provider_fields are the extras of the same name. */
    for (i = 0; i < spec->nmodels; i++) {
        models[i].extras = find(extras, spec->nextras, models[i].name);
    }
    spec->models = models;
    spec->extras = extras;
    return 0;
}
