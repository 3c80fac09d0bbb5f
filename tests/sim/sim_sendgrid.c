/* SendGrid Marketing Campaigns segments (v2 and the legacy v1 GET/DELETE) as documented in
 * providers.md §2, served from the immutable data in sim_data.c.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_data.h"
#include "sim_magic.h"
#include "sim_provider.h"
#include "sim_state.h"

#define SG_CTYPE    "application/json"
#define SG_BAD_JSON "{\"results\": ["
#define SG_LIMIT                                                                                   \
    600 /* no per-endpoint table is published (providers.md §2.6); any value will do              \
         */
#define SG_MAX_IDS 100

struct sg_ids {
    int n;
    int overflow;
    char ids[SG_MAX_IDS][64];
};

/* {"errors":[{"field":..,"message":..}]} [SG-OAS2] [SG-RL]; field NULL renders as JSON null. */
static int sg_error(struct sim_reply *r, unsigned status, const char *field, const char *message)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *errs = cJSON_AddArrayToObject(doc, "errors");
    cJSON *e = cJSON_CreateObject();

    if (!doc || !errs || !e || !cJSON_AddItemToArray(errs, e)) {
        cJSON_Delete(e);
        cJSON_Delete(doc);
        return -1;
    }
    if (field) {
        cJSON_AddStringToObject(e, "field", field);
    } else {
        cJSON_AddNullToObject(e, "field");
    }
    cJSON_AddStringToObject(e, "message", message);
    return sim_reply_json(r, status, SG_CTYPE, doc);
}

/* The 404 body for a missing segment is UNCONFIRMED (providers.md §2.5); this shape follows the
 * v1 404 items ("message" + "field") [SG-OAS1]. */
static int sg_not_found(struct sim_reply *r)
{
    return sg_error(r, 404, "segment_id", "segment not found");
}

static int sg_fail(const struct sim_req *rq, struct sim_reply *r, enum sim_outcome o, long secs)
{
    switch (o) {
    case SIM_OUT_BAD_JSON:
        return sim_reply_text(r, 200, SG_CTYPE, SG_BAD_JSON);
    case SIM_OUT_404:
        return sg_not_found(r);
    case SIM_OUT_429:
        /* No Retry-After on SendGrid; the wait is carried by X-RateLimit-Reset [SG-RL]. */
        r->promise_abs_ms = (rq->now_ms / 1000 + secs) * 1000;
        return sg_error(r, 429, NULL, "too many requests");
    case SIM_OUT_500:
        return sg_error(r, 500, NULL, "internal server error");
    case SIM_OUT_507:
        return sg_error(r, 507, NULL,
                        "segsim: magic-id counter map is full; restart the simulator");
    default:
        return sg_error(r, 503, NULL, "service unavailable");
    }
}

static int add_time_or_null(cJSON *o, const char *key, long long epoch)
{
    char buf[32];

    if (!epoch) {
        return cJSON_AddNullToObject(o, key) ? 0 : -1;
    }
    sim_sendgrid_time(epoch, buf, sizeof(buf));
    return cJSON_AddStringToObject(o, key, buf) ? 0 : -1;
}

static int add_parent_ids(cJSON *o, const struct sim_sendgrid_segment *s)
{
    cJSON *arr;
    cJSON *v;

    if (!s->parent_list_id[0]) {
        return cJSON_AddNullToObject(o, "parent_list_ids") ? 0 : -1; /* real bodies send null */
    }
    arr = cJSON_AddArrayToObject(o, "parent_list_ids");
    v = cJSON_CreateString(s->parent_list_id);
    if (!arr || !v || !cJSON_AddItemToArray(arr, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

static int add_status(cJSON *o, const struct sim_sendgrid_segment *s)
{
    cJSON *st = cJSON_AddObjectToObject(o, "status");

    if (!st || !cJSON_AddStringToObject(st, "query_validation", s->query_validation)) {
        return -1;
    }
    if (s->error_message && !cJSON_AddStringToObject(st, "error_message", s->error_message)) {
        return -1;
    }
    return 0;
}

/* Common fields of a v2 list item (providers.md §2.4). */
static int add_common(cJSON *o, const struct sim_sendgrid_segment *s, const char *id)
{
    int bad = 0;

    bad |= !cJSON_AddStringToObject(o, "id", id);
    bad |= !cJSON_AddStringToObject(o, "name", s->name);
    bad |= !cJSON_AddStringToObject(o, "query_version", "2");
    bad |= !cJSON_AddNumberToObject(o, "contacts_count", (double)s->contacts_count);
    bad |= add_time_or_null(o, "sample_updated_at", s->sample_updated_epoch) != 0;
    bad |= add_time_or_null(o, "next_sample_update", s->next_sample_epoch) != 0;
    bad |= add_time_or_null(o, "created_at", s->created_epoch) != 0;
    bad |= add_time_or_null(o, "updated_at", s->updated_epoch) != 0;
    return bad ? -1 : 0;
}

/* A few deterministic sample contacts. The contact object shape is a guess (the reference only
 * says "array of contact objects", providers.md §2.3). */
static int add_sample(cJSON *o, const struct sim_sendgrid_segment *s, int idx)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "contacts_sample");
    int k;
    int n = (s->contacts_count > 0 && s->sample_updated_epoch) ? 3 : 0;

    if (!arr) {
        return -1;
    }
    for (k = 0; k < n; k++) {
        cJSON *c = cJSON_CreateObject();
        char buf[96];
        int bad;

        if (!c || !cJSON_AddItemToArray(arr, c)) {
            cJSON_Delete(c);
            return -1;
        }
        snprintf(buf, sizeof(buf), "0000%04x-0000-4000-8000-%012x", (unsigned)idx, (unsigned)k);
        bad = !cJSON_AddStringToObject(c, "contact_id", buf);
        snprintf(buf, sizeof(buf), "contact%d.seg%d@example.com", k, idx);
        bad |= !cJSON_AddStringToObject(c, "primary_email", buf);
        bad |= !cJSON_AddStringToObject(c, "first_name", k == 1 ? "Zo\xc3\xab" : "Sam");
        bad |= !cJSON_AddStringToObject(c, "last_name", "Example");
        bad |= !cJSON_AddArrayToObject(c, "alternate_emails");
        bad |= add_time_or_null(c, "created_at", s->created_epoch) != 0;
        bad |= add_time_or_null(c, "updated_at", s->sample_updated_epoch) != 0;
        if (bad) {
            return -1;
        }
    }
    return 0;
}

/* identifier_counts appears in real GET bodies only, not in the spec (providers.md §2.3). */
static int add_identifier_counts(cJSON *o, const struct sim_sendgrid_segment *s)
{
    cJSON *ic = cJSON_AddObjectToObject(o, "identifier_counts");

    if (!ic || !cJSON_AddNumberToObject(ic, "AID", 0) ||
        !cJSON_AddNumberToObject(ic, "EID", (double)s->contacts_count) ||
        !cJSON_AddNumberToObject(ic, "EXTID", 0) || !cJSON_AddNumberToObject(ic, "PHNID", 0)) {
        return -1;
    }
    return 0;
}

static int parse_bool_arg(const char *v, int dflt, int *out)
{
    if (!v) {
        *out = dflt;
    } else if (strcmp(v, "true") == 0) {
        *out = 1;
    } else if (strcmp(v, "false") == 0) {
        *out = 0;
    } else {
        return -1;
    }
    return 0;
}

/* Small AST for v1 ?query_json=true. Its real shape is not in the reference; this is a guess. */
static cJSON *query_json(const struct sim_sendgrid_segment *s)
{
    const char *where = strstr(s->query_dsl, " WHERE ");
    cJSON *q = cJSON_CreateObject();
    cJSON *cols = cJSON_AddArrayToObject(q, "columns");
    cJSON *w = cJSON_AddObjectToObject(q, "where");
    int ok = 0;

    if (!q || !cols || !w || !cJSON_AddStringToObject(q, "type", "select") ||
        !cJSON_AddStringToObject(q, "from", "contact_data") ||
        !cJSON_AddStringToObject(w, "type", "raw") ||
        !cJSON_AddStringToObject(w, "expression", where ? where + 7 : "")) {
        goto out;
    }
    if (!cJSON_AddItemToArray(cols, cJSON_CreateString("contact_id")) ||
        !cJSON_AddItemToArray(cols, cJSON_CreateString("updated_at"))) {
        goto out;
    }
    ok = 1;
out:
    if (!ok) {
        cJSON_Delete(q);
        q = NULL;
    }
    return q;
}

/* One segment: v2 full shape (v1 = 0) or v1 full shape (v1 = 1). */
static cJSON *build_full(const struct sim_sendgrid_segment *s, const char *id, int idx, int v1,
                         int sample, int want_query_json)
{
    cJSON *o = cJSON_CreateObject();
    int bad = !o;

    if (bad) {
        return NULL;
    }
    if (!v1) {
        bad |= add_common(o, s, id) != 0;
        bad |= add_parent_ids(o, s) != 0;
        bad |= add_status(o, s) != 0;
        bad |= add_identifier_counts(o, s) != 0;
    } else {
        bad |= !cJSON_AddStringToObject(o, "id", id);
        bad |= !cJSON_AddStringToObject(o, "name", s->name);
        bad |= !cJSON_AddNumberToObject(o, "contacts_count", (double)s->contacts_count);
        bad |= add_time_or_null(o, "created_at", s->created_epoch) != 0;
        bad |= add_time_or_null(o, "updated_at", s->updated_epoch) != 0;
        bad |= add_time_or_null(o, "sample_updated_at", s->sample_updated_epoch) != 0;
        bad |= add_time_or_null(o, "next_sample_update", s->next_sample_epoch) != 0;
        if (s->parent_list_id[0]) {
            bad |= !cJSON_AddStringToObject(o, "parent_list_id", s->parent_list_id);
        } else {
            bad |= !cJSON_AddNullToObject(o, "parent_list_id");
        }
        bad |= add_parent_ids(o, s) != 0;
    }
    bad |= !cJSON_AddStringToObject(o, "query_dsl", s->query_dsl);
    if (sample) {
        bad |= add_sample(o, s, idx) != 0;
    }
    if (v1 && want_query_json) {
        cJSON *q = query_json(s);

        if (!q || !cJSON_AddItemToObject(o, "query_json", q)) {
            cJSON_Delete(q);
            bad = 1;
        }
    }
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void collect_ids(void *cls, const char *value)
{
    struct sg_ids *ids = cls;

    while (value && *value) {
        size_t len = strcspn(value, ",");

        if (len > 0) {
            if (ids->n >= SG_MAX_IDS || len >= sizeof(ids->ids[0])) {
                ids->overflow = 1;
                return;
            }
            memcpy(ids->ids[ids->n], value, len);
            ids->ids[ids->n++][len] = '\0';
        }
        value += len;
        if (*value == ',') {
            value++;
        }
    }
}

static int in_ids(const struct sg_ids *ids, const char *id)
{
    int i;

    for (i = 0; i < ids->n; i++) {
        if (strcmp(ids->ids[i], id) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Which segments a list request selects, per the documented filter rules [SG-OAS2]: ids wins
 * over parent_list_ids / no_parent_list_id. */
static int list_selects(const struct sg_ids *ids, const struct sg_ids *parents, int no_parent,
                        const struct sim_sendgrid_segment *s)
{
    if (ids->n > 0) {
        return in_ids(ids, s->id);
    }
    if (no_parent && s->parent_list_id[0]) {
        return 0;
    }
    if (parents->n > 0) {
        return s->parent_list_id[0] && in_ids(parents, s->parent_list_id);
    }
    return 1;
}

static int sg_list(const struct sim_req *rq, struct sim_reply *r, int v1)
{
    struct sg_ids *ids = calloc(2, sizeof(*ids));
    struct sim_sendgrid_segment s;
    cJSON *doc = NULL;
    cJSON *results;
    int no_parent;
    int i;
    int rc = -1;

    if (!ids) {
        goto out;
    }
    sim_req_each_arg(rq, "ids", collect_ids, &ids[0]);
    sim_req_each_arg(rq, "parent_list_ids", collect_ids, &ids[1]);
    if (ids[0].overflow) {
        rc = sg_error(r, 400, "ids", "too many ids");
        goto out;
    }
    if (ids[1].overflow || ids[1].n > 50) {
        rc = sg_error(r, 400, "parent_list_ids", "at most 50 parent_list_ids are allowed");
        goto out;
    }
    if (parse_bool_arg(sim_req_arg(rq, "no_parent_list_id"), 0, &no_parent) != 0) {
        rc = sg_error(r, 400, "no_parent_list_id", "must be true or false");
        goto out;
    }
    doc = cJSON_CreateObject();
    results = cJSON_AddArrayToObject(doc, "results");
    if (!results) {
        goto out;
    }
    for (i = 0; i < SIM_SENDGRID_SEGMENTS; i++) {
        cJSON *o;
        int bad;

        sim_sendgrid_segment(i, &s);
        if (!list_selects(&ids[0], &ids[1], no_parent, &s)) {
            continue;
        }
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(results, o)) {
            cJSON_Delete(o);
            goto out;
        }
        if (v1) { /* v1 SegmentSummary [SG-OAS1] */
            bad = !cJSON_AddStringToObject(o, "id", s.id) ||
                  !cJSON_AddStringToObject(o, "name", s.name) ||
                  !cJSON_AddNumberToObject(o, "contacts_count", (double)s.contacts_count) ||
                  add_time_or_null(o, "created_at", s.created_epoch) != 0 ||
                  add_time_or_null(o, "updated_at", s.updated_epoch) != 0 ||
                  add_time_or_null(o, "sample_updated_at", s.sample_updated_epoch) != 0 ||
                  add_time_or_null(o, "next_sample_update", s.next_sample_epoch) != 0 ||
                  (s.parent_list_id[0]
                       ? !cJSON_AddStringToObject(o, "parent_list_id", s.parent_list_id)
                       : !cJSON_AddNullToObject(o, "parent_list_id"));
        } else { /* list items: no query_dsl, no contacts_sample [NANGO-FX-SG] */
            bad = add_common(o, &s, s.id) != 0 || add_parent_ids(o, &s) != 0 ||
                  add_status(o, &s) != 0;
        }
        if (bad) {
            goto out;
        }
    }
    rc = sim_reply_json(r, 200, SG_CTYPE, doc);
    doc = NULL; /* consumed */
out:
    cJSON_Delete(doc);
    free(ids);
    return rc;
}

static int sg_get(const struct sim_req *rq, struct sim_reply *r, const char *id, int v1)
{
    struct sim_sendgrid_segment s;
    struct sim_decision d;
    int sample;
    int want_qj = 0;
    int idx;
    cJSON *o;

    if (parse_bool_arg(sim_req_arg(rq, "contacts_sample"), 1, &sample) != 0) {
        return sg_error(r, 400, "contacts_sample", "must be true or false");
    }
    if (v1 && parse_bool_arg(sim_req_arg(rq, "query_json"), 0, &want_qj) != 0) {
        return sg_error(r, 400, "query_json", "must be true or false");
    }
    sim_magic_decide(rq->st, SIM_P_SENDGRID, id, &d);
    if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
        return sg_fail(rq, r, d.outcome, d.retry_after_s);
    }
    r->delay_ms += d.delay_ms;
    idx = d.outcome == SIM_OUT_OK ? 0 : sim_sendgrid_find(id);
    if (idx < 0) {
        return sg_not_found(r);
    }
    sim_sendgrid_segment(idx, &s);
    o = build_full(&s, id, idx, v1, sample, want_qj);
    if (!o) {
        return -1;
    }
    return sim_reply_json(r, 200, SG_CTYPE, o);
}

static int sg_delete(const struct sim_req *rq, struct sim_reply *r, const char *id, int v1)
{
    struct sim_decision d;

    sim_magic_decide(rq->st, SIM_P_SENDGRID, id, &d);
    if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
        return sg_fail(rq, r, d.outcome, d.retry_after_s);
    }
    r->delay_ms += d.delay_ms;
    if (d.outcome != SIM_OUT_OK && sim_sendgrid_find(id) < 0) {
        return sg_not_found(r);
    }
    /* Acknowledged but not applied: the data is immutable so tests stay deterministic (README).
     * v2 answers 202 with no body [SG-OAS2]; v1 answers 202 "{}" [SG-OAS1]. */
    if (v1) {
        return sim_reply_text(r, 202, SG_CTYPE, "{}");
    }
    r->status = 202;
    return 0;
}

/* POST /2.0 (id NULL) and PATCH /2.0/{id} [SG-OAS2]: validated and answered, not applied. */
static int sg_write(const struct sim_req *rq, struct sim_reply *r, const char *id)
{
    cJSON *b = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name");
    const cJSON *dsl = cJSON_GetObjectItemCaseSensitive(b, "query_dsl");
    struct sim_sendgrid_segment s;
    struct sim_decision d;
    cJSON *o;
    int idx = 0;
    int rc;

    if (!cJSON_IsObject(b) || (!id && (!cJSON_IsString(name) || !cJSON_IsString(dsl)))) {
        cJSON_Delete(b);
        return sg_error(r, 400, !cJSON_IsString(name) ? "name" : "query_dsl", "is required");
    }
    if (cJSON_IsString(dsl) && !strstr(dsl->valuestring, "FROM contact_data")) {
        cJSON_Delete(b);
        return sg_error(r, 400, "query_dsl", "illegal table name"); /* observed texts, §2.5 */
    }
    if (id) {
        sim_magic_decide(rq->st, SIM_P_SENDGRID, id, &d);
        if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
            cJSON_Delete(b);
            return sg_fail(rq, r, d.outcome, d.retry_after_s);
        }
        idx = d.outcome == SIM_OUT_OK ? 0 : sim_sendgrid_find(id);
        if (idx < 0) {
            cJSON_Delete(b);
            return sg_not_found(r);
        }
    }
    sim_sendgrid_segment(idx, &s);
    if (cJSON_IsString(name)) {
        snprintf(s.name, sizeof(s.name), "%s", name->valuestring);
    }
    if (!id) { /* a new segment: pending, never sampled, no contacts yet (real create bodies) */
        s.query_validation = "PENDING";
        s.sample_updated_epoch = 0;
        s.next_sample_epoch = 0;
        s.contacts_count = 0;
    }
    o = build_full(&s, id ? id : "00000000-0000-4000-8000-00000000c0de", idx, 0, !id, 0);
    cJSON_Delete(b);
    if (!o) {
        return -1;
    }
    rc = sim_reply_json(r, 200, SG_CTYPE, o);
    if (rc == 0 && !id) {
        r->status = 201;
    }
    return rc;
}

/* POST /2.0/refresh/{id} {"user_time_zone"} → 202 {job_id}; 404 {"error": …} [SG-OAS2]. */
static int sg_refresh(const struct sim_req *rq, struct sim_reply *r, const char *id)
{
    cJSON *b = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
    int tz = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "user_time_zone"));
    struct sim_decision d;

    cJSON_Delete(b);
    if (!tz) {
        return sg_error(r, 400, "user_time_zone", "is required");
    }
    sim_magic_decide(rq->st, SIM_P_SENDGRID, id, &d);
    if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
        return sg_fail(rq, r, d.outcome, d.retry_after_s);
    }
    if (d.outcome != SIM_OUT_OK && sim_sendgrid_find(id) < 0) {
        return sim_reply_text(r, 404, SG_CTYPE, "{\"error\":\"Segment does not exist.\"}");
    }
    return sim_reply_text(r, 202, SG_CTYPE,
                          "{\"job_id\":\"5d0f8b4c-0000-4000-8000-000000000001\"}");
}

static int sg_route(const struct sim_req *rq, struct sim_reply *r)
{
    const char *rest = sim_path_after(rq->path, "/v3/marketing/segments");
    int is_get = strcmp(rq->method, "GET") == 0;
    int is_delete = strcmp(rq->method, "DELETE") == 0;
    struct sim_decision fd;
    char id[256];
    int v1 = 1;

    if (!rest || (*rest && *rest != '/')) {
        return sg_error(r, 404, NULL, "resource not found");
    }
    if (*rest == '/') {
        rest++;
    }
    if (strncmp(rest, "2.0", 3) == 0 && (rest[3] == '\0' || rest[3] == '/')) {
        v1 = 0;
        rest += 3;
        if (*rest == '/') {
            rest++;
        }
    }
    id[0] = '\0';
    if (!v1 && !strncmp(rest, "refresh/", 8) && !strcmp(rq->method, "POST")) {
        rest = sim_path_segment(rest + 8, id, sizeof(id));
        if (!rest || *rest) {
            return sg_error(r, 404, NULL, "resource not found");
        }
        sim_magic_draw_fault(rq->st, SIM_P_SENDGRID, &fd);
        r->delay_ms = fd.delay_ms;
        return fd.outcome != SIM_OUT_NOT_MAGIC ? sg_fail(rq, r, fd.outcome, fd.retry_after_s)
                                               : sg_refresh(rq, r, id);
    }
    if (*rest) {
        rest = sim_path_segment(rest, id, sizeof(id));
        if (!rest || *rest) {
            return sg_error(r, 404, NULL, "resource not found");
        }
    }
    if (!v1 &&
        ((!strcmp(rq->method, "POST") && !id[0]) || (!strcmp(rq->method, "PATCH") && id[0]))) {
        sim_magic_draw_fault(rq->st, SIM_P_SENDGRID, &fd);
        r->delay_ms = fd.delay_ms;
        return fd.outcome != SIM_OUT_NOT_MAGIC ? sg_fail(rq, r, fd.outcome, fd.retry_after_s)
                                               : sg_write(rq, r, id[0] ? id : NULL);
    }
    if (!(is_get || (is_delete && id[0]))) {
        return sg_error(r, 405, NULL, "method not allowed");
    }
    sim_magic_draw_fault(rq->st, SIM_P_SENDGRID, &fd);
    r->delay_ms = fd.delay_ms;
    if (fd.outcome != SIM_OUT_NOT_MAGIC) {
        return sg_fail(rq, r, fd.outcome, fd.retry_after_s);
    }
    if (!id[0]) {
        return sg_list(rq, r, v1);
    }
    return is_delete ? sg_delete(rq, r, id, v1) : sg_get(rq, r, id, v1);
}

int sim_sendgrid_handle(const struct sim_req *rq, struct sim_reply *r)
{
    static const char prefix[] = "Bearer ";
    long long now_s = rq->now_ms / 1000;
    long long reset;
    int rc;

    if (strncmp(rq->auth, prefix, sizeof(prefix) - 1) != 0 ||
        strcmp(rq->auth + sizeof(prefix) - 1, rq->sendgrid_key) != 0) {
        /* 401 message text is UNCONFIRMED (providers.md §2.5); shape is the generic v3 error. */
        rc = sg_error(r, 401, NULL, "authorization required");
    } else {
        rc = sg_route(rq, r);
    }
    if (rc != 0) {
        return rc;
    }
    /* Every answer carries the X-RateLimit-* set, the reset as epoch seconds [SG-RL]. */
    reset = r->promise_abs_ms ? r->promise_abs_ms / 1000 : now_s + (60 - now_s % 60);
    if (sim_reply_header(r, "X-RateLimit-Limit", "%d", SG_LIMIT) != 0 ||
        sim_reply_header(r, "X-RateLimit-Remaining", "%d", r->status == 429 ? 0 : SG_LIMIT - 1) ||
        sim_reply_header(r, "X-RateLimit-Reset", "%lld", reset) != 0) {
        return -1;
    }
    return 0;
}
