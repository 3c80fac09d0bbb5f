/* beehiiv profile (providers.md §4): segments of publication "pub_sim", page/limit paging with
 * total_pages, {data: …} envelopes, create 201, delete 204, recalculate, results and members,
 * RateLimit-* with an epoch reset. Segment i is "seg_<i>"; subscriptions "sub_<i>_<k>".
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

#define BH_PUB "pub_sim"

static int bh_find(const char *id)
{
    return sim_index_of(id, "seg_", 0, SIM_GEN_SEGMENTS);
}

static int bh_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    return sim_bearer_is(rq->auth, p->key) ? 0 : 401;
}

static cJSON *bh_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = cJSON_CreateObject();

    cJSON_AddNumberToObject(doc, "status", status);
    cJSON_AddStringToObject(doc, "statusText", status == 404 ? "Not Found" : "Error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "code", code ? code : "error");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "errors"), e);
    return doc;
}

static cJSON *bh_segment(int i, const char *id, const char *name)
{
    static const char *const status[] = {"completed", "pending", "processing", "completed",
                                         "failed"};
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();

    sim_gen_segment(i, &g);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", name ? name : g.name);
    cJSON_AddStringToObject(o, "type", "dynamic");
    if (g.state != SIM_GEN_PENDING) {
        cJSON_AddNumberToObject(o, "last_calculated", (double)g.calculated_epoch);
    }
    cJSON_AddNumberToObject(o, "total_results", (double)g.member_count);
    cJSON_AddStringToObject(o, "status", status[g.state]);
    cJSON_AddBoolToObject(o, "active", g.state != SIM_GEN_INACTIVE);
    return o;
}

/* {data, limit, page, total_results, total_pages}; seg < 0 lists segments, else its members
 * (full subscriptions, or ids only). */
static int bh_page(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                   int seg, int ids_only)
{
    struct sim_gen_segment g;
    long limit, page, start, end, k, n = SIM_GEN_SEGMENTS;
    cJSON *doc;
    cJSON *arr;
    char id[48];

    if (sim_arg_long(rq, "limit", 10, 1, 100, &limit) ||
        sim_arg_long(rq, "page", 1, 1, 1000000, &page)) {
        return sim_prof_error(p, r, 400, "invalid_parameter", "limit must be 1..100, page >= 1");
    }
    if (seg >= 0) {
        sim_gen_segment(seg, &g);
        n = g.member_count;
    }
    sim_window((page - 1) * limit, limit, n, &start, &end);
    doc = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(doc, "data");
    for (k = start; k < end; k++) {
        if (seg < 0) {
            snprintf(id, sizeof(id), "seg_%ld", k);
            cJSON_AddItemToArray(arr, bh_segment((int)k, id, NULL));
        } else {
            struct sim_gen_member m;
            cJSON *s;

            snprintf(id, sizeof(id), "sub_%d_%ld", seg, k);
            if (ids_only) {
                cJSON_AddItemToArray(arr, cJSON_CreateString(id));
                continue;
            }
            sim_gen_member(seg, (int)k, &m);
            s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "id", id);
            cJSON_AddStringToObject(s, "email", m.email);
            cJSON_AddStringToObject(s, "status", "active");
            cJSON_AddNumberToObject(s, "created", (double)m.created_epoch);
            cJSON_AddItemToArray(arr, s);
        }
    }
    cJSON_AddNumberToObject(doc, "limit", (double)limit);
    cJSON_AddNumberToObject(doc, "page", (double)page);
    cJSON_AddNumberToObject(doc, "total_results", (double)n);
    cJSON_AddNumberToObject(doc, "total_pages", (double)((n + limit - 1) / limit));
    return sim_reply_json(r, 200, "application/json", doc);
}

static int bh_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                    struct sim_reply *r)
{
    char c[3][64];
    int i;
    int rc;

    if (sim_match(rq, "GET", rest, "/v2/publications/*/segments", c, 1) ||
        sim_match(rq, "POST", rest, "/v2/publications/*/segments", c, 1)) {
        cJSON *b;

        if (strcmp(c[0], BH_PUB)) {
            return sim_prof_error(p, r, 404, "not_found", "Publication not found");
        }
        if (!strcmp(rq->method, "GET")) {
            return bh_page(p, rq, r, -1, 0);
        }
        b = sim_body_object(rq);
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "name")) ||
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(b, "input"))) {
            cJSON_Delete(b);
            return sim_prof_error(p, r, 400, "invalid_parameter", "name and input are required");
        }
        rc = sim_reply_wrapped(
            r, 201, "data",
            bh_segment(1, "seg_new", cJSON_GetObjectItemCaseSensitive(b, "name")->valuestring), 0);
        cJSON_Delete(b);
        return rc;
    }
    if (!sim_match(rq, rq->method, rest, "/v2/publications/*/segments/*", c, 2) &&
        !sim_match(rq, rq->method, rest, "/v2/publications/*/segments/*/*", c, 3)) {
        return sim_prof_error(p, r, 404, "not_found", "Not Found");
    }
    if (strcmp(c[0], BH_PUB)) {
        return sim_prof_error(p, r, 404, "not_found", "Publication not found");
    }
    rc = sim_prof_lookup(p, rq, r, c[1], bh_find, &i);
    if (rc) {
        return rc < 0 ? -1 : 0;
    }
    if (sim_match(rq, "GET", rest, "/v2/publications/*/segments/*", c, 2)) {
        return sim_reply_wrapped(r, 200, "data", bh_segment(i, c[1], NULL), 0);
    }
    if (sim_match(rq, "DELETE", rest, "/v2/publications/*/segments/*", c, 2)) {
        r->status = 204; /* the spec copy's 204; the SDK's {message} body is UNCONFIRMED */
        return 0;
    }
    if (sim_match(rq, "PUT", rest, "/v2/publications/*/segments/*/recalculate", c, 2)) {
        return sim_reply_text(r, 200, "application/json",
                              "{\"message\":\"Segment recalculation started\"}");
    }
    if (sim_match(rq, "GET", rest, "/v2/publications/*/segments/*/results", c, 2) ||
        sim_match(rq, "GET", rest, "/v2/publications/*/segments/*/members", c, 2)) {
        return bh_page(p, rq, r, i, strstr(rest, "/results") != NULL);
    }
    return sim_prof_error(p, r, 405, "method_not_allowed", "Method Not Allowed");
}

const struct sim_profile sim_beehiiv = {
    SIM_P_BEEHIIV,  "/beehiiv", "sim-beehiiv-key", SIM_RL_IETF_EPOCH, 180, 0,
    "{\"data\": {", bh_auth,    bh_error,          bh_route};
