/* HubSpot CRM lists v3 profile (providers.md §8): search with offset/count/hasMore, {list},
 * create, rename and filter updates ({updatedList}), delete 204, memberships with an `after`
 * cursor. List i has listId "<100 + i>". Envelopes of get-one, updates, delete and memberships
 * are UNCONFIRMED (§12.8). processingStatus: COMPLETE, or PROCESSING for the ones being built.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

static int hs_find(const char *id)
{
    return sim_index_of(id, "", 100, SIM_GEN_SEGMENTS);
}

static int hs_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    return sim_bearer_is(rq->auth, p->key) ? 0 : 401;
}

static cJSON *hs_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();

    cJSON_AddStringToObject(doc, "status", "error");
    cJSON_AddStringToObject(doc, "message", msg);
    cJSON_AddStringToObject(doc, "correlationId", "00000000-0000-4000-8000-000000000000");
    cJSON_AddStringToObject(doc, "category",
                            status == 401   ? "INVALID_AUTHENTICATION"
                            : status == 404 ? "OBJECT_NOT_FOUND"
                            : status == 429 ? "RATE_LIMITS"
                            : status == 400 ? "VALIDATION_ERROR"
                                            : (code ? code : "ERROR"));
    return doc;
}

static cJSON *hs_list(int i, const char *name)
{
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();
    char t[32];

    sim_gen_segment(i, &g);
    snprintf(t, sizeof(t), "%d", 100 + i);
    cJSON_AddStringToObject(o, "listId", t);
    cJSON_AddNumberToObject(o, "listVersion", 1);
    cJSON_AddStringToObject(o, "name", name ? name : g.name);
    cJSON_AddStringToObject(o, "objectTypeId", "0-1");
    cJSON_AddStringToObject(
        o, "processingStatus",
        g.state == SIM_GEN_PROCESSING || g.state == SIM_GEN_PENDING ? "PROCESSING" : "COMPLETE");
    cJSON_AddStringToObject(o, "processingType", "DYNAMIC");
    sim_iso(g.created_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "createdAt", t);
    sim_iso(g.updated_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "updatedAt", t);
    cJSON_AddNumberToObject(o, "size", (double)g.member_count);
    return o;
}

static int hs_search(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r)
{
    cJSON *b = sim_body_object(rq);
    const char *q = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "query"));
    const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(b, "count");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(b, "offset");
    long count = cJSON_IsNumber(cnt) ? (long)cnt->valuedouble : 20;
    long offset = cJSON_IsNumber(off) ? (long)off->valuedouble : 0;
    long k, seen = 0, total = 0;
    cJSON *doc;
    cJSON *arr;
    struct sim_gen_segment g;

    if (!b || count < 1 || count > 500 || offset < 0) {
        cJSON_Delete(b);
        return sim_prof_error(p, r, 400, NULL, "count must be 1..500 and offset >= 0");
    }
    doc = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(doc, "lists");
    for (k = 0; k < SIM_GEN_SEGMENTS; k++) {
        sim_gen_segment((int)k, &g);
        if (q && *q && !strstr(g.name, q)) {
            continue;
        }
        total++;
        if (total > offset && seen < count) {
            cJSON_AddItemToArray(arr, hs_list((int)k, NULL));
            seen++;
        }
    }
    cJSON_AddBoolToObject(doc, "hasMore", offset + seen < total);
    cJSON_AddNumberToObject(doc, "offset", (double)(offset + seen));
    cJSON_AddNumberToObject(doc, "total", (double)total);
    cJSON_Delete(b);
    return sim_reply_json(r, 200, "application/json", doc);
}

static int hs_memberships(const struct sim_profile *p, const struct sim_req *rq,
                          struct sim_reply *r, int i)
{
    struct sim_gen_segment g;
    long limit, after, s, e, k;
    cJSON *doc;
    cJSON *arr;
    char buf[48];

    if (sim_arg_long(rq, "limit", 100, 1, 250, &limit) ||
        sim_arg_long(rq, "after", 0, 0, 1000000, &after)) {
        return sim_prof_error(p, r, 400, NULL, "limit must be 1..250");
    }
    sim_gen_segment(i, &g);
    sim_window(after, limit, g.member_count, &s, &e);
    doc = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(doc, "results");
    for (k = s; k < e; k++) {
        struct sim_gen_member m;
        cJSON *o = cJSON_CreateObject();

        sim_gen_member(i, (int)k, &m);
        snprintf(buf, sizeof(buf), "%d%03ld", 100 + i, k);
        cJSON_AddStringToObject(o, "recordId", buf);
        sim_iso(m.created_epoch, buf, sizeof(buf));
        cJSON_AddStringToObject(o, "membershipTimestamp", buf);
        cJSON_AddItemToArray(arr, o);
    }
    if (e < g.member_count) {
        snprintf(buf, sizeof(buf), "%ld", e);
        cJSON_AddStringToObject(
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(doc, "paging"), "next"), "after", buf);
    }
    return sim_reply_json(r, 200, "application/json", doc);
}

static int hs_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                    struct sim_reply *r)
{
    char c[1][64];
    cJSON *b;
    const char *name;
    int i;
    int rc;

    if (sim_match(rq, "POST", rest, "/crm/v3/lists/search", c, 0)) {
        return hs_search(p, rq, r);
    }
    if (sim_match(rq, "POST", rest, "/crm/v3/lists", c, 0)) {
        b = sim_body_object(rq);
        name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "name"));
        rc = name && cJSON_GetObjectItemCaseSensitive(b, "objectTypeId") &&
                     cJSON_GetObjectItemCaseSensitive(b, "processingType")
                 ? sim_reply_wrapped(r, 200, "list", hs_list(0, name), 0)
                 : sim_prof_error(p, r, 400, NULL,
                                  "name, objectTypeId and processingType are required");
        cJSON_Delete(b);
        return rc;
    }
    if (!sim_match(rq, rq->method, rest, "/crm/v3/lists/*", c, 1) &&
        !sim_match(rq, "GET", rest, "/crm/v3/lists/*/memberships", c, 1) &&
        !sim_match(rq, "PUT", rest, "/crm/v3/lists/*/update-list-name", c, 1) &&
        !sim_match(rq, "PUT", rest, "/crm/v3/lists/*/update-list-filters", c, 1)) {
        return sim_prof_error(p, r, 404, NULL, "Not Found");
    }
    rc = sim_prof_lookup(p, rq, r, c[0], hs_find, &i);
    if (rc) {
        return rc < 0 ? -1 : 0;
    }
    if (strstr(rest, "/memberships")) {
        return hs_memberships(p, rq, r, i);
    }
    if (strstr(rest, "/update-list-name")) {
        name = sim_req_arg(rq, "listName");
        return name && *name ? sim_reply_wrapped(r, 200, "updatedList", hs_list(i, name), 0)
                             : sim_prof_error(p, r, 400, NULL, "listName is required");
    }
    if (strstr(rest, "/update-list-filters")) {
        b = sim_body_object(rq);
        rc = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(b, "filterBranch"))
                 ? sim_reply_wrapped(r, 200, "updatedList", hs_list(i, NULL), 0)
                 : sim_prof_error(p, r, 400, NULL, "filterBranch is required");
        cJSON_Delete(b);
        return rc;
    }
    if (!strcmp(rq->method, "GET")) {
        return sim_reply_wrapped(r, 200, "list", hs_list(i, NULL), 0);
    }
    if (!strcmp(rq->method, "DELETE")) {
        r->status = 204;
        return 0;
    }
    return sim_prof_error(p, r, 405, NULL, "Method Not Allowed");
}

const struct sim_profile sim_hubspot = {
    SIM_P_HUBSPOT, "/hubspot", "sim-hubspot-key", SIM_RL_HUBSPOT, 250000, 1,
    "{\"lists\":", hs_auth,    hs_error,          hs_route};
