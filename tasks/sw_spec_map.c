/* Mapping answers in the spec adapter (see sw_spec.h): a provider item to a unified one through
 * the spec's models (pointers, type conversions, status rules), the result kinds (item, items,
 * count, deleted, accepted), the response formats, and where a list continues.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

#include "sw_jdoc.h"
#include "sw_json.h"
#include "sw_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int excluded(const struct sw_job *job, const char *field)
{
    const cJSON *list = job ? job->exclude_fields : NULL;
    const cJSON *c;

    cJSON_ArrayForEach(c, list)
    {
        if (cJSON_IsString(c) && !strcmp(c->valuestring, field)) {
            return 1;
        }
    }
    return 0;
}

static int rule_matches(const struct sw_spec_rule *r, const cJSON *item)
{
    int i;

    for (i = 0; i < r->ncond; i++) {
        const struct sw_spec_cond *c = &r->cond[i];
        const cJSON *v = sw_spec_ptr_get(&c->at, item);

        if (c->any) {
            const cJSON *alt;
            int any = 0;

            cJSON_ArrayForEach(alt, c->want)
            {
                any |= sw_json_equal(v, alt);
            }
            if (!any) {
                return 0;
            }
        } else if (!sw_json_equal(v, c->want)) {
            return 0;
        }
    }
    return 1;
}

static cJSON *apply_rules(const struct sw_spec_field *f, const cJSON *item)
{
    int i;

    for (i = 0; i < f->nrules; i++) {
        if (rule_matches(&f->rules[i], item)) {
            const cJSON *v = f->rules[i].value;

            return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
        }
    }
    return cJSON_CreateNull();
}

/* Convert one provider value by type; returns NULL with st set when the value is unusable. */
static cJSON *convert(const struct sw_spec_field *f, const cJSON *v, struct sw_status *st)
{
    char buf[64];
    int64_t ms;

    if (sw_json_is_nullish(v)) {
        return cJSON_CreateNull();
    }
    switch (f->type) {
    case SW_TYPE_RAW:
        return cJSON_Duplicate(v, 1);
    case SW_TYPE_STRING:
        if (cJSON_IsString(v)) {
            return cJSON_CreateString(v->valuestring);
        }
        if (cJSON_IsNumber(v)) {
            if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.0e15) {
                snprintf(buf, sizeof(buf), "%.0f", v->valuedouble);
            } else {
                snprintf(buf, sizeof(buf), "%.17g", v->valuedouble);
            }
            return cJSON_CreateString(buf);
        }
        break;
    case SW_TYPE_INTEGER:
        if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble)) {
            return cJSON_CreateNumber(v->valuedouble);
        }
        if (cJSON_IsString(v)) {
            char *end;
            double d = strtod(v->valuestring, &end);

            if (end != v->valuestring && !*end && d == floor(d)) {
                return cJSON_CreateNumber(d);
            }
        }
        break;
    case SW_TYPE_BOOLEAN:
        if (cJSON_IsBool(v)) {
            return cJSON_CreateBool(cJSON_IsTrue(v));
        }
        break;
    case SW_TYPE_DATETIME:
        if (cJSON_IsString(v) && !sw_time_parse(v->valuestring, &ms)) {
            sw_time_format(ms, 1, buf, sizeof(buf));
            return cJSON_CreateString(buf);
        }
        break;
    case SW_TYPE_UNIX_SECONDS:
        /* Years 1970..9999 only: anything else is not a time, and would overflow below. */
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 253402300799.0) {
            sw_time_format((int64_t)(v->valuedouble * 1000), 1, buf, sizeof(buf));
            return cJSON_CreateString(buf);
        }
        break;
    }
    sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                  "field %s: the provider's value is not a valid %s", f->name, f->type_name);
    return NULL;
}

/* The provider value a field reads: its pointer, or the first of its pointers with a value. */
static const cJSON *field_source(const struct sw_spec_field *f, const cJSON *item)
{
    int i;

    if (!f->from_list) {
        return sw_spec_ptr_get(&f->from[0], item);
    }
    for (i = 0; i < f->nfrom; i++) {
        const cJSON *v = sw_spec_ptr_get(&f->from[i], item);

        /* "" counts as absent here: Customer.io sends id "" for people without one. */
        if (!sw_json_is_nullish(v) && !(cJSON_IsString(v) && !v->valuestring[0])) {
            return v;
        }
    }
    return NULL;
}

static cJSON *map_fields(const struct sw_spec_model *m, const cJSON *item, const struct sw_job *job,
                         struct sw_status *st);

/* response_format normalized: the spec's extras for this model (provider fields that have no
 * unified name, such as Beehiiv's type or Mailchimp's list_id, converted) under provider_fields,
 * then every other provider field no mapping reads (sw_spec_rest.c), instead of the whole
 * provider record. */
static int add_provider_fields(const struct sw_spec_model *m, const cJSON *item, cJSON *out,
                               struct sw_status *st)
{
    cJSON *pf = m->extras ? map_fields(m->extras, item, NULL, st) : cJSON_CreateObject();

    if (!pf || sw_spec_unmapped(m, item, pf) != 0 ||
        !cJSON_AddItemToObject(out, "provider_fields", pf)) {
        cJSON_Delete(pf);
        return -1;
    }
    return 0;
}

/* borrow: remote_data refers to item instead of copying it, so the result must not outlive the
 * parsed body (true for a single item, published before the page is freed; list items move into
 * parts that outlive their page, so they are copied). */
static cJSON *map_item(const struct sw_spec_model *m, const cJSON *item, const struct sw_job *job,
                       struct sw_status *st, int borrow)
{
    cJSON *out;

    if (!cJSON_IsObject(item)) {
        sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL, "expected an object for a %s",
                      m->name);
        return NULL;
    }
    out = map_fields(m, item, job, st);
    if (!out) {
        return NULL;
    }
    if (job && job->format == SW_FMT_NORMALIZED) {
        if (!excluded(job, "provider_fields") && add_provider_fields(m, item, out, st) != 0) {
            cJSON_Delete(out);
            if (!st->code) {
                sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            }
            return NULL;
        }
        return out;
    }
    if (!(job && job->ignore_remote_data) && !excluded(job, "remote_data")) {
        cJSON *raw = borrow ? NULL : cJSON_Duplicate(item, 1);
        int ok = borrow ? cJSON_AddItemReferenceToObject(out, "remote_data", (cJSON *)item)
                        : raw && cJSON_AddItemToObject(out, "remote_data", raw);

        if (!ok) {
            cJSON_Delete(raw);
            cJSON_Delete(out);
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
            return NULL;
        }
    }
    return out;
}

/* Every field of a model, converted; NULL with st set when a value is unusable. */
static cJSON *map_fields(const struct sw_spec_model *m, const cJSON *item, const struct sw_job *job,
                         struct sw_status *st)
{
    cJSON *out = cJSON_CreateObject();
    int i;

    if (!out) {
        goto nomem;
    }
    for (i = 0; i < m->n; i++) {
        const struct sw_spec_field *f = &m->f[i];
        cJSON *v = NULL;

        if (excluded(job, f->name)) {
            continue;
        }
        switch (f->kind) {
        case SW_FIELD_NULL:
            v = cJSON_CreateNull();
            break;
        case SW_FIELD_RULES:
            v = apply_rules(f, item);
            break;
        case SW_FIELD_VALUE:
            v = cJSON_Duplicate(f->value, 1);
            break;
        case SW_FIELD_FROM:
            v = convert(f, field_source(f, item), st);
            if (!v && st->code) {
                cJSON_Delete(out);
                return NULL;
            }
            break;
        }
        if (!v || !cJSON_AddItemToObject(out, f->name, v)) {
            cJSON_Delete(v);
            goto nomem;
        }
    }
    return out;
nomem:
    cJSON_Delete(out);
    sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    return NULL;
}

static cJSON *deleted_result(const struct sw_job *job)
{
    char num[32];
    const char *id = sw_job_param_str(job, "id", num, sizeof(num));
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddStringToObject(o, "id", id ? id : "") ||
        !cJSON_AddTrueToObject(o, "deleted")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *flag_result(const struct sw_job *job, const char *flag)
{
    cJSON *o = deleted_result(job);

    if (o && strcmp(flag, "deleted")) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, "deleted");
        if (!cJSON_AddTrueToObject(o, flag)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* A number, or a string holding a whole number (ActiveCampaign sends meta.total as "25"). */
static int whole_number(const cJSON *v, long long *out)
{
    char *end;
    double d;

    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring[0]) {
        d = strtod(v->valuestring, &end);
        if (*end) {
            return -1;
        }
    } else {
        return -1;
    }
    if (d != floor(d) || d < 0 || d > 9.0e15) {
        return -1;
    }
    *out = (long long)d;
    return 0;
}

/* segments.count where the count has its own endpoint (Customer.io customer_count): a unified
 * segment whose fields the call did not fetch are null. */
static cJSON *count_result(const struct sw_spec *spec, const struct sw_spec_model *m,
                           const struct sw_job *job, const cJSON *body, const cJSON *count,
                           struct sw_status *st)
{
    char num[32];
    const char *id = sw_job_param_str(job, "id", num, sizeof(num));
    long long n;
    cJSON *out;
    int i;

    if (whole_number(count, &n)) {
        sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                      "%s's answer has no member count", spec->name);
        return NULL;
    }
    out = cJSON_CreateObject();
    for (i = 0; i < m->n; i++) {
        const struct sw_spec_field *f = &m->f[i];
        cJSON *v = f->role == SW_ROLE_ID             ? cJSON_CreateString(id ? id : "")
                   : f->role == SW_ROLE_MEMBER_COUNT ? cJSON_CreateNumber((double)n)
                                                     : cJSON_CreateNull();

        if (!out || excluded(job, f->name)) {
            cJSON_Delete(v);
            continue;
        }
        if (!v || !cJSON_AddItemToObject(out, f->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(out);
            out = NULL;
        }
    }
    if (out && job->format != SW_FMT_NORMALIZED && !job->ignore_remote_data &&
        !excluded(job, "remote_data")) {
        cJSON *raw = cJSON_IsObject(body) ? cJSON_Duplicate(body, 1) : cJSON_CreateNull();

        if (!raw || !cJSON_AddItemToObject(out, "remote_data", raw)) {
            cJSON_Delete(raw);
            cJSON_Delete(out);
            out = NULL;
        }
    }
    if (out && job->format == SW_FMT_NORMALIZED && !excluded(job, "provider_fields")) {
        cJSON_AddItemToObject(out, "provider_fields", cJSON_CreateObject());
    }
    if (!out) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    return out;
}

/* The next position: s, or the number v when s is NULL. */
static sw_err_t set_next(struct sw_page *page, long long v, const char *s, struct sw_status *st)
{
    char buf[32];

    if (!s) {
        snprintf(buf, sizeof(buf), "%lld", v);
        s = buf;
    }
    page->next = strdup(s);
    return page->next ? SW_E_OK : sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
}

/* Where the list continues, per the operation's pagination style; page->next is left NULL on
 * the last page. cursor is the position this page was fetched with (NULL: the first page). */
static sw_err_t find_next(const struct sw_spec *spec, const struct sw_spec_paging *pag,
                          const char *cursor, struct sw_page *page, struct sw_status *st)
{
    enum sw_paging style = pag->style;
    const cJSON *next = sw_spec_ptr_get(&pag->next, page->body);
    long long cur = 0;
    long long total = 0;

    if (style == SW_PAGING_NEXT_URL || style == SW_PAGING_CURSOR) {
        if (cJSON_IsString(next) && next->valuestring[0]) {
            return set_next(page, 0, next->valuestring, st);
        }
        if (style == SW_PAGING_CURSOR && cJSON_IsNumber(next)) {
            return set_next(page, (long long)next->valuedouble, NULL, st);
        }
        if (!sw_json_is_nullish(next) && !cJSON_IsString(next)) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s's next-page link is not a string", spec->name);
        }
        return SW_E_OK;
    }
    if (style == SW_PAGING_OFFSET || style == SW_PAGING_PAGE) {
        cur = cursor ? strtoll(cursor, NULL, 10) : pag->first_num;
        if (whole_number(sw_spec_ptr_get(&pag->total, page->body), &total)) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s's list answer has no total at \"%s\"", spec->name,
                                 pag->total.text);
        }
        if (page->items == 0) {
            return SW_E_OK; /* an empty page ends the list whatever the total says */
        }
        if (style == SW_PAGING_OFFSET) {
            return cur + page->items < total ? set_next(page, cur + page->items, NULL, st)
                                             : SW_E_OK;
        }
        return cur < total ? set_next(page, cur + 1, NULL, st) : SW_E_OK;
    }
    if (style == SW_PAGING_BODY_OFFSET) {
        if (!cJSON_IsTrue(sw_spec_ptr_get(&pag->has_more, page->body))) {
            return SW_E_OK;
        }
        if (whole_number(next, &cur) || page->items == 0) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s says more pages follow but gives no usable offset",
                                 spec->name);
        }
        return set_next(page, cur, NULL, st);
    }
    return SW_E_OK;
}

/* A list of bare ids (Beehiiv's segment results): each becomes {wrap: value} before mapping. */
static cJSON *map_wrapped(const struct sw_spec_result *res, const cJSON *it,
                          const struct sw_job *job, struct sw_status *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *u;

    if (!o || !cJSON_AddItemToObject(o, res->wrap, cJSON_Duplicate(it, 1))) {
        cJSON_Delete(o);
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        return NULL;
    }
    u = map_item(res->model, o, job, st, 0);
    cJSON_Delete(o);
    return u;
}

/* The unified items of a list answer (data is its array). */
static sw_err_t map_items(const struct sw_spec_result *res, const cJSON *data,
                          const struct sw_job *job, cJSON *result, struct sw_status *st)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, data)
    {
        cJSON *u = res->wrap && !cJSON_IsObject(it) ? map_wrapped(res, it, job, st)
                                                    : map_item(res->model, it, job, st, 0);

        if (!u) {
            return st->code ? st->code
                            : sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
        cJSON_AddItemToArray(result, u);
    }
    return SW_E_OK;
}

sw_err_t sw_spec_map_page(const struct sw_spec *spec, const struct sw_spec_variant *var,
                          const struct sw_job *job, const char *cursor,
                          const struct sw_http_resp *resp, int max_depth, struct sw_page *page,
                          struct sw_status *st)
{
    const struct sw_spec_result *res = &var->c.res;
    const cJSON *data;
    char err[128];
    int raw = job->format == SW_FMT_RAW;
    sw_err_t rc;

    memset(page, 0, sizeof(*page));
    if (resp->body.len) {
        int nomem = 0;

        page->body = sw_jdoc_parse(&page->doc, resp->body.data, resp->body.len, max_depth, err,
                                   sizeof(err), &nomem);
        if (nomem) {
            return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
        if (!page->body) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s answered HTTP %ld with a body that is %s", spec->name,
                                 resp->status, err);
        }
    }
    if (res->kind == SW_RESULT_DELETED || res->kind == SW_RESULT_ACCEPTED) {
        page->items = 1;
        page->result =
            raw ? (page->body ? cJSON_Duplicate(page->body, 1) : cJSON_CreateNull())
                : flag_result(job, res->kind == SW_RESULT_DELETED ? "deleted" : "accepted");
        goto done;
    }
    if (!page->body) {
        return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                             "%s answered HTTP %ld with an empty body", spec->name, resp->status);
    }
    data = sw_spec_ptr_get(&res->at, page->body);
    if (res->kind == SW_RESULT_COUNT) {
        page->items = 1;
        page->result = raw ? cJSON_Duplicate(page->body, 1)
                           : count_result(spec, res->model, job, page->body, data, st);
        if (!page->result && st->code) {
            return st->code;
        }
    } else if (res->kind == SW_RESULT_ITEM) {
        if (!cJSON_IsObject(data)) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s's answer has no object at \"%s\"", spec->name, res->at.text);
        }
        page->items = 1;
        page->result =
            raw ? cJSON_Duplicate(page->body, 1) : map_item(res->model, data, job, st, 1);
        if (!page->result && st->code) {
            return st->code;
        }
    } else {
        if (!cJSON_IsArray(data)) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s's answer has no array at \"%s\"", spec->name, res->at.text);
        }
        page->items = cJSON_GetArraySize(data);
        page->result = raw ? cJSON_Duplicate(page->body, 1) : cJSON_CreateArray();
        if (!raw && page->result) {
            rc = map_items(res, data, job, page->result, st);
            if (rc) {
                return rc;
            }
        }
        rc = find_next(spec, &var->c.pag, cursor, page, st);
        if (rc) {
            return rc;
        }
    }
done:
    if (!page->result) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    return SW_E_OK;
}
