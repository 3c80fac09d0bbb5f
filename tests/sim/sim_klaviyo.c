/* Klaviyo segments API as documented in providers.md §1 (revision 2026-07-15), served from the
 * immutable data in sim_data.c.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_data.h"
#include "sim_kquery.h"
#include "sim_magic.h"
#include "sim_watch.h"
#include "sim_provider.h"
#include "sim_state.h"

#define KL_CTYPE    "application/vnd.api+json"
#define KL_BAD_JSON "{\"data\": ["
#define KL_URL_MAX  8192

/* RateLimit-Limit values recorded from the live API [NANGO-FX-KL] / spec per endpoint [KL-OAS]. */
#define KL_LIMIT_READ          "75, 75;w=1, 750;w=60"
#define KL_LIMIT_PROFILE_COUNT "1, 1;w=1, 15;w=60"
#define KL_LIMIT_WRITE         "3, 3;w=1, 60;w=60"

enum {
    KA_NAME = 1,
    KA_DEFINITION = 2,
    KA_CREATED = 4,
    KA_UPDATED = 8,
    KA_IS_ACTIVE = 16,
    KA_IS_PROCESSING = 32,
    KA_IS_STARRED = 64,
    KA_PROFILE_COUNT = 128,
    KA_DEFAULT = 127
};

enum kl_sort { KS_NONE, KS_NAME, KS_ID, KS_CREATED, KS_UPDATED };

struct kl_list_args {
    long size;
    int size_given;
    const char *cursor;
    const char *filter;
    const char *sort;
    const char *fields;
};

/* JSON:API error [KL-OAS] [KL-RL]. The code strings other than "invalid" are UNCONFIRMED
 * (providers.md §1.7 and §12.1): "not_authenticated", "not_found", "throttled",
 * "method_not_allowed" are our best guess. src_key is "pointer" or "parameter" or NULL. */
static int kl_error(const struct sim_req *rq, struct sim_reply *r, unsigned status,
                    const char *code, const char *title, const char *detail, const char *src_key,
                    const char *src_val)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *errs = cJSON_AddArrayToObject(doc, "errors");
    cJSON *e = cJSON_CreateObject();
    cJSON *src;
    unsigned long long seq = sim_state_next_seq(rq->st);
    char id[40];

    if (!doc || !errs || !e || !cJSON_AddItemToArray(errs, e)) {
        cJSON_Delete(e);
        cJSON_Delete(doc);
        return -1;
    }
    snprintf(id, sizeof(id), "%08llx-%04llx-4000-8000-%012llx", rq->seq & 0xffffffffULL,
             seq & 0xffffULL, (unsigned long long)rq->now_ms & 0xffffffffffffULL);
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddNumberToObject(e, "status", status);
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "title", title);
    cJSON_AddStringToObject(e, "detail", detail);
    src = cJSON_AddObjectToObject(e, "source");
    if (src && src_key) {
        cJSON_AddStringToObject(src, src_key, src_val);
    }
    cJSON_AddObjectToObject(e, "meta");
    return sim_reply_json(r, status, KL_CTYPE, doc);
}

static int kl_invalid_param(const struct sim_req *rq, struct sim_reply *r, const char *param,
                            const char *detail)
{
    return kl_error(rq, r, 400, "invalid", "Invalid input.", detail, "parameter", param);
}

static int kl_not_found(const struct sim_req *rq, struct sim_reply *r)
{
    return kl_error(rq, r, 404, "not_found", "Not found.",
                    "A segment with the given id does not exist.", NULL, NULL);
}

/* Answer for a request the fault injector or a magic id chose to fail. */
static int kl_fail(const struct sim_req *rq, struct sim_reply *r, enum sim_outcome o, long secs)
{
    char detail[96];

    switch (o) {
    case SIM_OUT_BAD_JSON:
        return sim_reply_text(r, 200, KL_CTYPE, KL_BAD_JSON);
    case SIM_OUT_404:
        return kl_not_found(rq, r);
    case SIM_OUT_429:
        r->promise_rel_ms = secs * 1000;
        if (sim_reply_header(r, "Retry-After", "%ld", secs) != 0) {
            return -1;
        }
        snprintf(detail, sizeof(detail),
                 "Request was throttled. Expected available in %ld seconds.", secs);
        return kl_error(rq, r, 429, "throttled", "Request was throttled.", detail, NULL, NULL);
    case SIM_OUT_500:
        return kl_error(rq, r, 500, "error", "A server error occurred.",
                        "segsim: injected server error", NULL, NULL);
    case SIM_OUT_507:
        return kl_error(rq, r, 507, "error", "Insufficient storage.",
                        "segsim: magic-id counter map is full; restart the simulator", NULL, NULL);
    default:
        return kl_error(rq, r, 503, "service_unavailable", "Service unavailable.",
                        "segsim: injected unavailability", NULL, NULL);
    }
}

static int parse_fields(const char *s, int allow_profile_count, int *mask)
{
    static const struct {
        const char *name;
        int bit;
    } map[] = {{"name", KA_NAME},
               {"definition", KA_DEFINITION},
               {"definition.condition_groups", KA_DEFINITION},
               {"created", KA_CREATED},
               {"updated", KA_UPDATED},
               {"is_active", KA_IS_ACTIVE},
               {"is_processing", KA_IS_PROCESSING},
               {"is_starred", KA_IS_STARRED},
               {"id", 0},
               {"profile_count", KA_PROFILE_COUNT}};
    char tok[40];
    size_t i;

    *mask = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        int found = 0;

        if (len == 0 || len >= sizeof(tok)) {
            return -1;
        }
        memcpy(tok, s, len);
        tok[len] = '\0';
        for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
            if (strcmp(tok, map[i].name) == 0 &&
                (map[i].bit != KA_PROFILE_COUNT || allow_profile_count)) {
                *mask |= map[i].bit;
                found = 1;
            }
        }
        if (!found) {
            return -1;
        }
        s += len;
        if (*s == ',') {
            s++;
        }
    }
    return 0;
}

static int add_link_pair(cJSON *rels, const char *rel, const char *base)
{
    cJSON *o = cJSON_AddObjectToObject(rels, rel);
    cJSON *links = o ? cJSON_AddObjectToObject(o, "links") : NULL;
    char url[1024];

    if (!links) {
        return -1;
    }
    snprintf(url, sizeof(url), "%srelationships/%s/", base, rel);
    if (!cJSON_AddStringToObject(links, "self", url)) {
        return -1;
    }
    snprintf(url, sizeof(url), "%s%s/", base, rel);
    return cJSON_AddStringToObject(links, "related", url) ? 0 : -1;
}

/* Self link of an item: http://<Host>/api/segments/<id>/ (items keep the trailing slash, as real
 * bodies do [NANGO-FX-KL]). */
static int item_url(const struct sim_req *rq, const char *id, char *buf, size_t n)
{
    size_t len = 0;

    buf[0] = '\0';
    if (sim_url_append(buf, n, &len, "http://") != 0 || sim_url_append(buf, n, &len, rq->host) ||
        sim_url_append(buf, n, &len, "/api/segments/") != 0 ||
        sim_url_append_encoded(buf, n, &len, id) != 0 || sim_url_append(buf, n, &len, "/") != 0) {
        return -1;
    }
    return 0;
}

static int add_time(cJSON *attrs, const char *key, long long epoch, int variant)
{
    char buf[64];

    sim_klaviyo_time(epoch, variant, buf, sizeof(buf));
    return cJSON_AddStringToObject(attrs, key, buf) ? 0 : -1;
}

static int add_attributes(cJSON *item, const struct sim_klaviyo_segment *s, int idx, int mask)
{
    cJSON *a = cJSON_AddObjectToObject(item, "attributes");
    const char *def = sim_klaviyo_definition_json(idx);
    int bad = !a;

    if (!bad && (mask & KA_NAME)) {
        bad |= !cJSON_AddStringToObject(a, "name", s->name);
    }
    if (!bad && (mask & KA_DEFINITION)) {
        cJSON *d = def ? cJSON_Parse(def) : cJSON_CreateNull();

        if (!d || !cJSON_AddItemToObject(a, "definition", d)) {
            cJSON_Delete(d);
            bad = 1;
        }
    }
    if (!bad && (mask & KA_CREATED)) {
        bad |= add_time(a, "created", s->created_epoch, sim_klaviyo_time_variant(idx, 0)) != 0;
    }
    if (!bad && (mask & KA_UPDATED)) {
        bad |= add_time(a, "updated", s->updated_epoch, sim_klaviyo_time_variant(idx, 1)) != 0;
    }
    if (!bad && (mask & KA_IS_ACTIVE)) {
        bad |= !cJSON_AddBoolToObject(a, "is_active", s->is_active);
    }
    if (!bad && (mask & KA_IS_PROCESSING)) {
        bad |= !cJSON_AddBoolToObject(a, "is_processing", s->is_processing);
    }
    if (!bad && (mask & KA_IS_STARRED)) {
        bad |= !cJSON_AddBoolToObject(a, "is_starred", s->is_starred);
    }
    if (!bad && (mask & KA_PROFILE_COUNT)) {
        bad |= !cJSON_AddNumberToObject(a, "profile_count", (double)s->profile_count);
    }
    return bad ? -1 : 0;
}

/* One segment resource object (providers.md §1.4). idx picks definition and time variants. */
static cJSON *build_item(const struct sim_req *rq, const struct sim_klaviyo_segment *s,
                         const char *id, int idx, int mask)
{
    cJSON *item = cJSON_CreateObject();
    cJSON *rels;
    cJSON *links;
    char self[1024];
    int ok = 0;

    if (!item || item_url(rq, id, self, sizeof(self)) != 0) {
        goto out;
    }
    if (!cJSON_AddStringToObject(item, "type", "segment") ||
        !cJSON_AddStringToObject(item, "id", id) || add_attributes(item, s, idx, mask) != 0) {
        goto out;
    }
    rels = cJSON_AddObjectToObject(item, "relationships");
    if (!rels || add_link_pair(rels, "profiles", self) != 0 ||
        add_link_pair(rels, "tags", self) != 0 || add_link_pair(rels, "flow-triggers", self) != 0) {
        goto out;
    }
    links = cJSON_AddObjectToObject(item, "links");
    if (!links || !cJSON_AddStringToObject(links, "self", self)) {
        goto out;
    }
    ok = 1;
out:
    if (!ok) {
        cJSON_Delete(item);
        item = NULL;
    }
    return item;
}

static int parse_sort(const char *s, enum kl_sort *key, int *desc)
{
    *desc = (*s == '-');
    s += *desc;
    if (strcmp(s, "name") == 0) {
        *key = KS_NAME;
    } else if (strcmp(s, "id") == 0) {
        *key = KS_ID;
    } else if (strcmp(s, "created") == 0) {
        *key = KS_CREATED;
    } else if (strcmp(s, "updated") == 0) {
        *key = KS_UPDATED;
    } else {
        return -1;
    }
    return 0;
}

static int cmp_segments(const struct sim_klaviyo_segment *a, const struct sim_klaviyo_segment *b,
                        enum kl_sort key)
{
    int c = 0;

    switch (key) {
    case KS_NAME:
        c = strcmp(a->name, b->name); /* byte order: UTF-8 sorts after ASCII */
        break;
    case KS_CREATED:
        c = (a->created_epoch > b->created_epoch) - (a->created_epoch < b->created_epoch);
        break;
    case KS_UPDATED:
        c = (a->updated_epoch > b->updated_epoch) - (a->updated_epoch < b->updated_epoch);
        break;
    default:
        break;
    }
    return c ? c : strcmp(a->id, b->id); /* ties (and KS_ID) by id so pages are stable */
}

/* Matching indices in response order. Unsorted lists come back in data (creation) order. */
static int select_indices(const struct sim_kfilter *f, enum kl_sort key, int desc, int *idx)
{
    struct sim_klaviyo_segment a, b;
    int n = 0;
    int i, j;

    for (i = 0; i < SIM_KLAVIYO_SEGMENTS; i++) {
        sim_klaviyo_segment(i, &a);
        if (!f || sim_kfilter_match(f, &a)) {
            idx[n++] = i;
        }
    }
    if (key == KS_NONE) {
        return n;
    }
    for (i = 1; i < n; i++) { /* insertion sort: 25 items */
        int v = idx[i];

        sim_klaviyo_segment(v, &a);
        for (j = i - 1; j >= 0; j--) {
            int c;

            sim_klaviyo_segment(idx[j], &b);
            c = cmp_segments(&b, &a, key);
            if (desc ? c >= 0 : c <= 0) {
                break;
            }
            idx[j + 1] = idx[j];
        }
        idx[j + 1] = v;
    }
    return n;
}

/* http://<Host>/api/segments?page%5Bcursor%5D=..&page%5Bsize%5D=..&filter=..&sort=..&fields..
 * offset < 0 means "no cursor" (first page). */
static int list_url(const struct sim_req *rq, const struct kl_list_args *a, long offset, char *buf,
                    size_t n)
{
    size_t len = 0;
    char cur[64];
    char num[24];
    const char *sep = "?";
    int bad = 0;

    buf[0] = '\0';
    bad |= sim_url_append(buf, n, &len, "http://");
    bad |= sim_url_append(buf, n, &len, rq->host);
    bad |= sim_url_append(buf, n, &len, "/api/segments");
    if (offset >= 0) {
        bad |= sim_kcursor_encode(offset, cur, sizeof(cur));
        bad |= sim_url_append(buf, n, &len, "?page%5Bcursor%5D=");
        bad |= sim_url_append(buf, n, &len, cur);
        sep = "&";
    }
    if (offset >= 0 || a->size_given) {
        snprintf(num, sizeof(num), "%ld", a->size);
        bad |= sim_url_append(buf, n, &len, sep);
        bad |= sim_url_append(buf, n, &len, "page%5Bsize%5D=");
        bad |= sim_url_append(buf, n, &len, num);
        sep = "&";
    }
    if (a->filter) {
        bad |= sim_url_append(buf, n, &len, sep);
        bad |= sim_url_append(buf, n, &len, "filter=");
        bad |= sim_url_append_encoded(buf, n, &len, a->filter);
        sep = "&";
    }
    if (a->sort) {
        bad |= sim_url_append(buf, n, &len, sep);
        bad |= sim_url_append(buf, n, &len, "sort=");
        bad |= sim_url_append_encoded(buf, n, &len, a->sort);
        sep = "&";
    }
    if (a->fields) {
        bad |= sim_url_append(buf, n, &len, sep);
        bad |= sim_url_append(buf, n, &len, "fields%5Bsegment%5D=");
        bad |= sim_url_append_encoded(buf, n, &len, a->fields);
    }
    return bad ? -1 : 0;
}

static int add_url_or_null(const struct sim_req *rq, cJSON *links, const char *key,
                           const struct kl_list_args *a, long offset, int present)
{
    char *url;
    int rc = -1;

    if (!present) {
        return cJSON_AddNullToObject(links, key) ? 0 : -1;
    }
    url = malloc(KL_URL_MAX);
    if (!url) {
        return -1;
    }
    if (list_url(rq, a, offset, url, KL_URL_MAX) == 0 && cJSON_AddStringToObject(links, key, url)) {
        rc = 0;
    }
    free(url);
    return rc;
}

static int kl_list(const struct sim_req *rq, struct sim_reply *r)
{
    struct kl_list_args a = {10, 0, NULL, NULL, NULL, NULL};
    struct sim_kfilter *f = NULL;
    struct sim_klaviyo_segment s;
    enum kl_sort key = KS_NONE;
    int desc = 0, mask = KA_DEFAULT, idx[SIM_KLAVIYO_SEGMENTS], n;
    long i;
    long off = 0;
    const char *size_s = sim_req_arg(rq, "page[size]");
    long max_page = rq->kl_max_page > 10 ? rq->kl_max_page : 10;
    long total;
    char err[128];
    cJSON *doc = NULL, *data, *links;
    int rc = -1;

    a.cursor = sim_req_arg(rq, "page[cursor]");
    a.filter = sim_req_arg(rq, "filter");
    a.sort = sim_req_arg(rq, "sort");
    a.fields = sim_req_arg(rq, "fields[segment]");
    if (size_s) {
        a.size_given = 1;
        if (sim_parse_long(size_s, 1, max_page, &a.size) != 0) {
            snprintf(err, sizeof(err), "page[size] must be an integer from 1 to %ld.", max_page);
            rc = kl_invalid_param(rq, r, "page[size]", err);
            goto out;
        }
    }
    if (a.cursor && sim_kcursor_decode(a.cursor, &off) != 0) {
        rc = kl_invalid_param(rq, r, "page[cursor]", "Invalid page cursor.");
        goto out;
    }
    if (a.filter) {
        f = malloc(sizeof(*f));
        if (!f) {
            goto out;
        }
        if (sim_kfilter_parse(a.filter, f, err, sizeof(err)) != 0) {
            rc = kl_invalid_param(rq, r, "filter", err);
            goto out;
        }
    }
    if (a.sort && parse_sort(a.sort, &key, &desc) != 0) {
        rc = kl_invalid_param(rq, r, "sort", "Unsupported sort field.");
        goto out;
    }
    if (a.fields && parse_fields(a.fields, 0, &mask) != 0) {
        rc = kl_invalid_param(rq, r, "fields[segment]", "Unsupported field in fields[segment].");
        goto out;
    }
    n = select_indices(f, key, desc, idx);
    /* Benchmarks (--klaviyo-list-size): the unfiltered, unsorted list goes on past the 25 real
     * segments with synthetic copies, so a list-all of a million items needs no stored data. */
    total = !f && key == KS_NONE && rq->kl_list_size > n ? rq->kl_list_size : n;
    if (off > total || (off == total && total > 0)) {
        rc = kl_invalid_param(rq, r, "page[cursor]", "Invalid page cursor.");
        goto out;
    }
    doc = cJSON_CreateObject();
    data = cJSON_AddArrayToObject(doc, "data");
    if (!data) {
        goto out;
    }
    for (i = off; i < total && i < off + a.size; i++) {
        cJSON *item;

        if (i < n) {
            sim_klaviyo_segment(idx[i], &s);
            item = build_item(rq, &s, s.id, idx[i], mask);
        } else {
            sim_klaviyo_segment((int)(i % SIM_KLAVIYO_SEGMENTS), &s);
            snprintf(s.id, sizeof(s.id), "z%09u", (unsigned)i % 1000000000u);
            item = build_item(rq, &s, s.id, (int)(i % SIM_KLAVIYO_SEGMENTS), mask);
        }
        if (!item || !cJSON_AddItemToArray(data, item)) {
            cJSON_Delete(item);
            goto out;
        }
    }
    links = cJSON_AddObjectToObject(doc, "links");
    if (!links || add_url_or_null(rq, links, "self", &a, a.cursor ? off : -1, 1) != 0 ||
        add_url_or_null(rq, links, "next", &a, off + a.size, off + a.size < total) != 0 ||
        add_url_or_null(rq, links, "prev", &a, off > a.size ? off - a.size : 0, off > 0) != 0) {
        goto out;
    }
    rc = sim_reply_json(r, 200, KL_CTYPE, doc);
    doc = NULL; /* consumed */
out:
    cJSON_Delete(doc);
    free(f);
    return rc;
}

/* {"data": <segment>, "links": {"self"}} for GET /api/segments/{id}. */
static int kl_item_doc(const struct sim_req *rq, struct sim_reply *r,
                       const struct sim_klaviyo_segment *s, const char *id, int idx, int mask)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *item = build_item(rq, s, id, idx, mask);
    cJSON *links;
    char self[1024];
    int rc = -1;

    if (!doc || !item || !cJSON_AddItemToObject(doc, "data", item)) {
        goto out;
    }
    item = NULL; /* owned by doc */
    links = cJSON_AddObjectToObject(doc, "links");
    if (!links || item_url(rq, id, self, sizeof(self)) != 0 ||
        !cJSON_AddStringToObject(links, "self", self)) {
        goto out;
    }
    rc = sim_reply_json(r, 200, KL_CTYPE, doc);
    doc = NULL; /* consumed */
out:
    cJSON_Delete(item);
    cJSON_Delete(doc);
    return rc;
}

static int kl_get_one(const struct sim_req *rq, struct sim_reply *r, const char *id, int *pc_limit)
{
    const char *fields = sim_req_arg(rq, "fields[segment]");
    const char *extra = sim_req_arg(rq, "additional-fields[segment]");
    struct sim_klaviyo_segment s;
    struct sim_decision d;
    int mask = KA_DEFAULT;
    int idx;

    if (extra && strcmp(extra, "profile_count") != 0) {
        return kl_invalid_param(rq, r, "additional-fields[segment]",
                                "Only profile_count is allowed in additional-fields[segment].");
    }
    if (fields && parse_fields(fields, 1, &mask) != 0) {
        return kl_invalid_param(rq, r, "fields[segment]", "Unsupported field in fields[segment].");
    }
    if (extra && !fields) {
        mask |= KA_PROFILE_COUNT;
    } else if (!extra) {
        mask &= ~KA_PROFILE_COUNT;
    }
    *pc_limit = extra != NULL;
    sim_magic_decide(rq->st, SIM_P_KLAVIYO, id, &d);
    if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
        return kl_fail(rq, r, d.outcome, d.retry_after_s);
    }
    r->delay_ms += d.delay_ms;
    idx = d.outcome == SIM_OUT_OK ? 0 : sim_klaviyo_find(id);
    if (idx < 0) {
        return kl_not_found(rq, r);
    }
    sim_klaviyo_segment(idx, &s);
    /* Synthetic (magic) segments carry the requested id, which may be longer than s.id. */
    return kl_item_doc(rq, r, &s, id, idx, mask);
}

static int kl_delete(const struct sim_req *rq, struct sim_reply *r, const char *id)
{
    struct sim_decision d;

    sim_magic_decide(rq->st, SIM_P_KLAVIYO, id, &d);
    if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
        return kl_fail(rq, r, d.outcome, d.retry_after_s);
    }
    r->delay_ms += d.delay_ms;
    if (d.outcome != SIM_OUT_OK && sim_klaviyo_find(id) < 0) {
        return kl_not_found(rq, r);
    }
    /* Deletes are acknowledged but not applied: the data is immutable so every test run (and
     * every concurrent test) sees the same 25 segments. See README.md. */
    r->status = 204; /* no body, no content type [KL-OAS] */
    return 0;
}

static int auth_ok(const struct sim_req *rq)
{
    static const char prefix[] = "Klaviyo-API-Key ";

    return strncmp(rq->auth, prefix, sizeof(prefix) - 1) == 0 &&
           strcmp(rq->auth + sizeof(prefix) - 1, rq->klaviyo_key) == 0;
}

/* YYYY-MM-DD with an optional .suffix [KL-OAS]. */
static int revision_ok(const char *rev)
{
    int i;

    if (!rev || strlen(rev) < 10) {
        return 0;
    }
    for (i = 0; i < 10; i++) {
        int dash = (i == 4 || i == 7);

        if (dash ? rev[i] != '-' : (rev[i] < '0' || rev[i] > '9')) {
            return 0;
        }
    }
    return rev[10] == '\0' || rev[10] == '.';
}

static int add_rate_headers(const struct sim_req *rq, struct sim_reply *r, const char *limit,
                            long remaining, long reset_s)
{
    long long now_s = rq->now_ms / 1000;

    /* Without --enforce-limits remaining is not tracked (always burst limit - 1): the sim then
     * throttles only when told to by a magic id or the fault injector. */
    if (remaining < 0) {
        remaining = strtol(limit, NULL, 10) - 1;
    }
    if (sim_reply_header(r, "RateLimit-Limit", "%s", limit) != 0 ||
        sim_reply_header(r, "RateLimit-Remaining", "%ld", remaining) != 0 ||
        sim_reply_header(r, "RateLimit-Reset", "%lld",
                         reset_s >= 0 ? (long long)reset_s : 60 - now_s % 60) != 0) {
        return -1;
    }
    return 0;
}

/* POST /api/segments (id NULL) and PATCH /api/segments/{id} [KL-OAS]: validated, answered with
 * the segment as it would be, and not applied (the data is immutable, README). */
static int kl_write(const struct sim_req *rq, struct sim_reply *r, const char *id)
{
    cJSON *b = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(b, "data");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(data, "attributes");
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "type"));
    const char *did = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "id"));
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(attrs, "name");
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(attrs, "is_active");
    struct sim_klaviyo_segment s;
    struct sim_decision d;
    int idx = 0;
    int rc;

    if (!type || strcmp(type, "segment") || !cJSON_IsObject(attrs)) {
        rc =
            kl_error(rq, r, 400, "invalid", "Invalid input.",
                     "data.type must be segment and data.attributes an object", "pointer", "/data");
    } else if (!id && (!cJSON_IsString(name) ||
                       !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(attrs, "definition")))) {
        rc = kl_error(rq, r, 400, "invalid", "Invalid input.", "name and definition are required",
                      "pointer", "/data/attributes");
    } else if (id && (!did || strcmp(did, id))) {
        rc = kl_error(rq, r, 409, "conflict", "Conflict.", "data.id must match the URL", "pointer",
                      "/data/id");
    } else if (cJSON_IsFalse(active) && cJSON_GetArraySize(attrs) > 1) {
        rc = kl_error(rq, r, 400, "invalid", "Invalid input.",
                      "is_active false must be the only attribute", "pointer",
                      "/data/attributes/is_active");
    } else {
        if (id) {
            sim_magic_decide(rq->st, SIM_P_KLAVIYO, id, &d);
            if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
                cJSON_Delete(b);
                return kl_fail(rq, r, d.outcome, d.retry_after_s);
            }
            idx = d.outcome == SIM_OUT_OK ? 0 : sim_klaviyo_find(id);
        }
        if (idx < 0) {
            rc = kl_not_found(rq, r);
        } else {
            sim_klaviyo_segment(idx, &s);
            if (cJSON_IsString(name)) {
                snprintf(s.name, sizeof(s.name), "%s", name->valuestring);
            }
            if (cJSON_IsBool(active)) {
                s.is_active = cJSON_IsTrue(active);
            }
            s.is_processing = !id; /* a new segment is processing at first [NANGO-FX-KL] */
            rc = kl_item_doc(rq, r, &s, id ? id : "SimNew", idx, KA_DEFAULT);
            if (rc == 0 && !id) {
                r->status = 201;
            }
        }
    }
    cJSON_Delete(b);
    return rc;
}

/* GET /api/segments/{id}/profiles and …/relationships/profiles [KL-OAS]: page[size] 1..100
 * (default 20), page[cursor] (opaque "m<offset>"), links.next a full URL or null. Segment idx has
 * the members of the shared data set (sim_gen_member), not profile_count of them. */
static int kl_members(const struct sim_req *rq, struct sim_reply *r, const char *id, int ids_only)
{
    const char *cur = sim_req_arg(rq, "page[cursor]");
    struct sim_gen_segment g;
    struct sim_decision d;
    long size = 20;
    long off = 0;
    long k;
    int idx;
    cJSON *doc;
    cJSON *arr;
    cJSON *links;
    char url[1024];

    if ((sim_req_arg(rq, "page[size]") &&
         sim_parse_long(sim_req_arg(rq, "page[size]"), 1, 100, &size) != 0) ||
        (cur && (cur[0] != 'm' || sim_parse_long(cur + 1, 0, 1000000, &off) != 0))) {
        return kl_invalid_param(rq, r, cur ? "page[cursor]" : "page[size]",
                                "page[size] must be 1..100 and page[cursor] a cursor of segsim.");
    }
    sim_magic_decide(rq->st, SIM_P_KLAVIYO, id, &d);
    if (d.outcome != SIM_OUT_NOT_MAGIC && d.outcome != SIM_OUT_OK) {
        return kl_fail(rq, r, d.outcome, d.retry_after_s);
    }
    idx = d.outcome == SIM_OUT_OK ? 0 : sim_klaviyo_find(id);
    if (idx < 0) {
        return kl_not_found(rq, r);
    }
    sim_gen_segment(idx % SIM_GEN_SEGMENTS, &g);
    doc = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(doc, "data");
    for (k = off; k < g.member_count && k < off + size; k++) {
        struct sim_gen_member m;
        cJSON *p = cJSON_CreateObject();
        cJSON *a;
        char pid[48];
        char t[40];

        sim_gen_member(idx % SIM_GEN_SEGMENTS, (int)k, &m);
        snprintf(pid, sizeof(pid), "01PROF%s%02ld", id, k);
        cJSON_AddStringToObject(p, "type", "profile");
        cJSON_AddStringToObject(p, "id", pid);
        if (!ids_only) {
            a = cJSON_AddObjectToObject(p, "attributes");
            cJSON_AddStringToObject(a, "email", m.email);
            cJSON_AddNullToObject(a, "phone_number");
            cJSON_AddStringToObject(a, "first_name", m.first_name);
            cJSON_AddStringToObject(a, "last_name", m.last_name);
            sim_klaviyo_time(m.created_epoch, SIM_KTIME_UTC, t, sizeof(t));
            cJSON_AddStringToObject(a, "created", t);
            cJSON_AddStringToObject(a, "updated", t);
        }
        cJSON_AddItemToArray(arr, p);
    }
    links = cJSON_AddObjectToObject(doc, "links");
    snprintf(url, sizeof(url), "http://%s%s", rq->host, rq->path);
    cJSON_AddStringToObject(links, "self", url);
    if (k < g.member_count) {
        snprintf(url, sizeof(url), "http://%s%s?page%%5Bsize%%5D=%ld&page%%5Bcursor%%5D=m%ld",
                 rq->host, rq->path, size, k);
        cJSON_AddStringToObject(links, "next", url);
    } else {
        cJSON_AddNullToObject(links, "next");
    }
    cJSON_AddNullToObject(links, "prev");
    return sim_reply_json(r, 200, KL_CTYPE, doc);
}

static int kl_route(const struct sim_req *rq, struct sim_reply *r, const char **limit)
{
    const char *rest = sim_path_after(rq->path, "/api/segments");
    int is_get = strcmp(rq->method, "GET") == 0;
    int is_delete = strcmp(rq->method, "DELETE") == 0;
    struct sim_decision fd;
    char id[256];
    int pc = 0;
    int rc;

    if (!rest || (*rest && *rest != '/')) {
        return kl_error(rq, r, 404, "not_found", "Not found.", "No such endpoint in segsim.", NULL,
                        NULL);
    }
    if (*rest == '/') {
        rest++;
    }
    id[0] = '\0';
    if (*rest) {
        rest = sim_path_segment(rest, id, sizeof(id));
        if (rest && is_get &&
            (!strcmp(rest, "profiles") || !strcmp(rest, "profiles/") ||
             !strcmp(rest, "relationships/profiles"))) {
            *limit = KL_LIMIT_READ;
            return kl_members(rq, r, id, rest[0] == 'r');
        }
        if (!rest || *rest) {
            return kl_error(rq, r, 404, "not_found", "Not found.", "No such endpoint in segsim.",
                            NULL, NULL);
        }
    }
    if ((!strcmp(rq->method, "POST") && !id[0]) || (!strcmp(rq->method, "PATCH") && id[0])) {
        *limit = "1, 1;w=1, 15;w=60, 100;w=86400";
        sim_magic_draw_fault(rq->st, SIM_P_KLAVIYO, &fd);
        r->delay_ms = fd.delay_ms;
        if (fd.outcome != SIM_OUT_NOT_MAGIC) {
            return kl_fail(rq, r, fd.outcome, fd.retry_after_s);
        }
        return kl_write(rq, r, id[0] ? id : NULL);
    }
    if (!(is_get || (is_delete && id[0]))) {
        return kl_error(rq, r, 405, "method_not_allowed", "Method not allowed.",
                        "segsim serves GET/POST on the list and GET/PATCH/DELETE on one segment.",
                        NULL, NULL);
    }
    *limit = is_delete ? KL_LIMIT_WRITE : KL_LIMIT_READ;
    sim_magic_draw_fault(rq->st, SIM_P_KLAVIYO, &fd);
    r->delay_ms = fd.delay_ms;
    if (fd.outcome != SIM_OUT_NOT_MAGIC) {
        return kl_fail(rq, r, fd.outcome, fd.retry_after_s);
    }
    if (!id[0]) {
        return kl_list(rq, r);
    }
    if (is_delete) {
        return kl_delete(rq, r, id);
    }
    rc = kl_get_one(rq, r, id, &pc);
    if (pc) {
        *limit = KL_LIMIT_PROFILE_COUNT;
    }
    return rc;
}

/* The limit class of a request, known before routing so enforcement can refuse it first. */
static const char *kl_limit_of(const struct sim_req *rq)
{
    if (strcmp(rq->method, "GET") != 0) {
        return KL_LIMIT_WRITE;
    }
    return sim_req_arg(rq, "additional-fields[segment]") ? KL_LIMIT_PROFILE_COUNT : KL_LIMIT_READ;
}

int sim_klaviyo_handle(const struct sim_req *rq, struct sim_reply *r)
{
    const char *limit = KL_LIMIT_READ;
    long remaining = -1, reset_s = -1, wait_s = 0;
    int rc;

    if (!auth_ok(rq)) {
        rc = kl_error(rq, r, 401, "not_authenticated",
                      "Authentication credentials were not provided.",
                      "Missing or invalid private key.", "pointer", "/data/");
    } else if (!revision_ok(sim_req_header(rq, "revision"))) {
        rc = kl_error(rq, r, 400, "invalid", "Invalid input.",
                      "The revision header is missing or not in YYYY-MM-DD form.", "parameter",
                      "revision");
    } else if (!sim_watch_take(rq->watch, "klaviyo", kl_limit_of(rq), rq->now_ms, &remaining,
                               &reset_s, &wait_s)) {
        rc = kl_fail(rq, r, SIM_OUT_429, wait_s); /* over the documented fixed windows */
    } else {
        rc = kl_route(rq, r, &limit);
    }
    if (rc != 0) {
        return rc;
    }
    /* On 429 Klaviyo sends Retry-After instead of the RateLimit-* set [KL-RL]. */
    return r->status == 429 ? 0 : add_rate_headers(rq, r, limit, remaining, reset_s);
}
