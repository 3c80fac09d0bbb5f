/* Mapping answers in the spec adapter (see sw_spec.h): a provider item to a unified one through
 * the spec's models (pointers, type conversions, status rules), the result kinds (item, items,
 * count, deleted, accepted), the response formats, and where a list continues.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_spec.h"

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

static int rule_matches(const cJSON *when, const cJSON *item)
{
    const cJSON *cond;

    cJSON_ArrayForEach(cond, when)
    {
        const cJSON *v = sw_json_pointer(item, cond->string);

        if (cJSON_IsArray(cond)) {
            const cJSON *alt;
            int any = 0;

            cJSON_ArrayForEach(alt, cond)
            {
                any |= sw_json_equal(v, alt);
            }
            if (!any) {
                return 0;
            }
        } else if (!sw_json_equal(v, cond)) {
            return 0;
        }
    }
    return 1;
}

static cJSON *apply_rules(const cJSON *rules, const cJSON *item)
{
    const cJSON *r;

    cJSON_ArrayForEach(r, rules)
    {
        const cJSON *when = cJSON_GetObjectItemCaseSensitive(r, "when");

        if (!when || rule_matches(when, item)) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "value");

            return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
        }
    }
    return cJSON_CreateNull();
}

/* Convert one provider value by type; returns NULL with st set when the value is unusable. */
static cJSON *convert(const char *type, const cJSON *v, const char *field, struct sw_status *st)
{
    char buf[64];
    int64_t ms;

    if (sw_json_is_nullish(v)) {
        return cJSON_CreateNull();
    }
    if (!strcmp(type, "raw")) {
        return cJSON_Duplicate(v, 1);
    }
    if (!strcmp(type, "string")) {
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
    } else if (!strcmp(type, "integer")) {
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
    } else if (!strcmp(type, "boolean")) {
        if (cJSON_IsBool(v)) {
            return cJSON_CreateBool(cJSON_IsTrue(v));
        }
    } else if (!strcmp(type, "datetime")) {
        if (cJSON_IsString(v) && !sw_time_parse(v->valuestring, &ms)) {
            sw_time_format(ms, 1, buf, sizeof(buf));
            return cJSON_CreateString(buf);
        }
    } else if (!strcmp(type, "unix_seconds")) {
        /* Years 1970..9999 only: anything else is not a time, and would overflow below. */
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 253402300799.0) {
            sw_time_format((int64_t)(v->valuedouble * 1000), 1, buf, sizeof(buf));
            return cJSON_CreateString(buf);
        }
    }
    sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                  "field %s: the provider's value is not a valid %s", field, type);
    return NULL;
}

/* The provider value a field reads: its pointer, or the first of its pointers with a value. */
static const cJSON *field_source(const cJSON *f, const cJSON *item)
{
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(f, "from");
    const cJSON *p;

    if (cJSON_IsString(from)) {
        return sw_json_pointer(item, from->valuestring);
    }
    cJSON_ArrayForEach(p, from)
    {
        const cJSON *v = cJSON_IsString(p) ? sw_json_pointer(item, p->valuestring) : NULL;

        /* "" counts as absent here: Customer.io sends id "" for people without one. */
        if (!sw_json_is_nullish(v) && !(cJSON_IsString(v) && !v->valuestring[0])) {
            return v;
        }
    }
    return NULL;
}

static cJSON *map_fields(const cJSON *m, const cJSON *item, const struct sw_job *job,
                         struct sw_status *st);

/* response_format normalized: the spec's extras for this model (provider fields that have no
 * unified name, such as Beehiiv's type or Mailchimp's list_id) under provider_fields, instead of
 * the whole provider record. */
static int add_provider_fields(const struct sw_spec *spec, const char *model, const cJSON *item,
                               cJSON *out, struct sw_status *st)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(spec->doc, "extras"), model);
    cJSON *pf = m ? map_fields(m, item, NULL, st) : cJSON_CreateObject();

    if (!pf || !cJSON_AddItemToObject(out, "provider_fields", pf)) {
        cJSON_Delete(pf);
        return -1;
    }
    return 0;
}

/* borrow: remote_data refers to item instead of copying it, so the result must not outlive the
 * parsed body (true for a single item, published before the page is freed; list items move into
 * parts that outlive their page, so they are copied). */
static cJSON *map_item(const struct sw_spec *spec, const char *model, const cJSON *item,
                       const struct sw_job *job, struct sw_status *st, int borrow)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(spec->models, model);
    cJSON *out;

    if (!cJSON_IsObject(item)) {
        sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL, "expected an object for a %s",
                      model);
        return NULL;
    }
    if (!m) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL, "spec %s has no model %s", spec->name,
                      model);
        return NULL;
    }
    out = map_fields(m, item, job, st);
    if (!out) {
        return NULL;
    }
    if (job && job->format == SW_FMT_NORMALIZED) {
        if (!excluded(job, "provider_fields") &&
            add_provider_fields(spec, model, item, out, st) != 0) {
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

cJSON *sw_spec_map_item(const struct sw_spec *spec, const char *model, const cJSON *item,
                        const struct sw_job *job, struct sw_status *st)
{
    return map_item(spec, model, item, job, st, 0);
}

/* Every field of a model, converted; NULL with st set when a value is unusable. */
static cJSON *map_fields(const cJSON *m, const cJSON *item, const struct sw_job *job,
                         struct sw_status *st)
{
    const cJSON *f;
    cJSON *out = cJSON_CreateObject();

    if (!out) {
        goto nomem;
    }
    cJSON_ArrayForEach(f, m)
    {
        cJSON *v;

        if (excluded(job, f->string)) {
            continue;
        }
        if (cJSON_IsNull(f)) {
            v = cJSON_CreateNull();
        } else if (cJSON_GetObjectItemCaseSensitive(f, "rules")) {
            v = apply_rules(cJSON_GetObjectItemCaseSensitive(f, "rules"), item);
        } else if (cJSON_GetObjectItemCaseSensitive(f, "value")) {
            v = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(f, "value"), 1);
        } else {
            v = convert(sw_json_str(f, "type"), field_source(f, item), f->string, st);
            if (!v && st->code) {
                cJSON_Delete(out);
                return NULL;
            }
        }
        if (!v || !cJSON_AddItemToObject(out, f->string, v)) {
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
static cJSON *count_result(const struct sw_spec *spec, const char *model, const struct sw_job *job,
                           const cJSON *body, const cJSON *count, struct sw_status *st)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(spec->models, model);
    const cJSON *f;
    char num[32];
    const char *id = sw_job_param_str(job, "id", num, sizeof(num));
    long long n;
    cJSON *out;

    if (whole_number(count, &n)) {
        sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                      "%s's answer has no member count", spec->name);
        return NULL;
    }
    out = cJSON_CreateObject();
    cJSON_ArrayForEach(f, m)
    {
        cJSON *v = !strcmp(f->string, "id")             ? cJSON_CreateString(id ? id : "")
                   : !strcmp(f->string, "member_count") ? cJSON_CreateNumber((double)n)
                                                        : cJSON_CreateNull();

        if (!out || excluded(job, f->string)) {
            cJSON_Delete(v);
            continue;
        }
        if (!v || !cJSON_AddItemToObject(out, f->string, v)) {
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
static sw_err_t find_next(const struct sw_spec *spec, const struct sw_spec_variant *var,
                          const char *cursor, struct sw_page *page, struct sw_status *st)
{
    const cJSON *pag = cJSON_GetObjectItemCaseSensitive(var->desc, "pagination");
    enum sw_paging style = var->op.paging;
    const char *first = sw_json_str(pag, "first");
    const cJSON *next = sw_json_pointer(page->body, sw_json_str(pag, "next"));
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
        const char *tp = sw_json_str(pag, "total");

        cur = cursor ? strtoll(cursor, NULL, 10) : first ? strtoll(first, NULL, 10) : 0;
        if (whole_number(sw_json_pointer(page->body, tp ? tp : ""), &total)) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s's list answer has no total at \"%s\"", spec->name,
                                 tp ? tp : "");
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
        const char *hm = sw_json_str(pag, "has_more");

        if (!cJSON_IsTrue(sw_json_pointer(page->body, hm ? hm : ""))) {
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
static cJSON *map_wrapped(const struct sw_spec *spec, const char *model, const char *wrap,
                          const cJSON *it, const struct sw_job *job, struct sw_status *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *u;

    if (!o || !cJSON_AddItemToObject(o, wrap, cJSON_Duplicate(it, 1))) {
        cJSON_Delete(o);
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        return NULL;
    }
    u = sw_spec_map_item(spec, model, o, job, st);
    cJSON_Delete(o);
    return u;
}

sw_err_t sw_spec_map_page(const struct sw_spec *spec, const struct sw_spec_variant *var,
                          const struct sw_job *job, const char *cursor,
                          const struct sw_http_resp *resp, int max_depth, struct sw_page *page,
                          struct sw_status *st)
{
    const cJSON *op = var->desc;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(op, "result");
    const char *kind = sw_json_str(res, "kind");
    const char *model = sw_json_str(res, "model");
    const char *ptr = sw_json_str(res, "pointer");
    const cJSON *data;
    char err[128];
    int raw = job->format == SW_FMT_RAW;

    memset(page, 0, sizeof(*page));
    if (resp->body.len) {
        page->body = sw_json_parse(resp->body.data, resp->body.len, max_depth, err, sizeof(err));
        if (!page->body) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s answered HTTP %ld with a body that is %s", spec->name,
                                 resp->status, err);
        }
    }
    if (!strcmp(kind, "deleted") || !strcmp(kind, "accepted")) {
        page->items = 1;
        page->result = raw ? (page->body ? cJSON_Duplicate(page->body, 1) : cJSON_CreateNull())
                           : flag_result(job, kind);
        goto done;
    }
    if (!page->body) {
        return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                             "%s answered HTTP %ld with an empty body", spec->name, resp->status);
    }
    data = sw_json_pointer(page->body, ptr ? ptr : "");
    if (!strcmp(kind, "count")) {
        page->items = 1;
        page->result = raw ? cJSON_Duplicate(page->body, 1)
                           : count_result(spec, model, job, page->body, data, st);
        if (!page->result && st->code) {
            return st->code;
        }
    } else if (!strcmp(kind, "item")) {
        if (!cJSON_IsObject(data)) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s's answer has no object at \"%s\"", spec->name, ptr ? ptr : "");
        }
        page->items = 1;
        page->result =
            raw ? cJSON_Duplicate(page->body, 1) : map_item(spec, model, data, job, st, 1);
        if (!page->result && st->code) {
            return st->code;
        }
    } else {
        const cJSON *it;
        sw_err_t rc;

        if (!cJSON_IsArray(data)) {
            return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                                 "%s's answer has no array at \"%s\"", spec->name, ptr ? ptr : "");
        }
        page->items = cJSON_GetArraySize(data);
        page->result = raw ? cJSON_Duplicate(page->body, 1) : cJSON_CreateArray();
        if (!raw && page->result) {
            const char *wrap = sw_json_str(res, "wrap");

            cJSON_ArrayForEach(it, data)
            {
                cJSON *u = wrap && !cJSON_IsObject(it) ? map_wrapped(spec, model, wrap, it, job, st)
                                                       : sw_spec_map_item(spec, model, it, job, st);

                if (!u) {
                    return st->code
                               ? st->code
                               : sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
                }
                cJSON_AddItemToArray(page->result, u);
            }
        }
        rc = find_next(spec, var, cursor, page, st);
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
