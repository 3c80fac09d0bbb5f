/* Mailchimp profile (providers.md §7): segments of audience "sim-list" under /3.0/lists/…,
 * count/offset paging with total_items, Basic anystring:key, problem-detail errors, no
 * rate-limit headers (Mailchimp limits concurrency). Segment i has the integer id 1000 + i.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

#define MC_LIST "sim-list"

static int mc_find(const char *id)
{
    return sim_index_of(id, "", 1000, SIM_GEN_SEGMENTS);
}

static int mc_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    return sim_basic_is(rq->auth, "*", p->key) ? 0 : 401;
}

static cJSON *mc_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();

    cJSON_AddStringToObject(doc, "type", "https://mailchimp.com/developer/marketing/docs/errors/");
    cJSON_AddStringToObject(doc, "title",
                            status == 401   ? "API Key Invalid"
                            : status == 404 ? "Resource Not Found"
                            : code          ? code
                                            : "Error");
    cJSON_AddNumberToObject(doc, "status", status);
    cJSON_AddStringToObject(doc, "detail", msg);
    cJSON_AddStringToObject(doc, "instance", "00000000-0000-4000-8000-000000000000");
    return doc;
}

static cJSON *mc_segment(int i, long id, const char *name)
{
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();
    char t[32];

    sim_gen_segment(i, &g);
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "name", name ? name : g.name);
    cJSON_AddNumberToObject(o, "member_count", (double)g.member_count);
    cJSON_AddStringToObject(o, "type", i % 2 ? "static" : "saved");
    sim_iso(g.created_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "created_at", t);
    sim_iso(g.updated_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "updated_at", t);
    cJSON_AddStringToObject(o, "list_id", MC_LIST);
    cJSON_AddArrayToObject(o, "_links");
    return o;
}

static int mc_page(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                   int seg)
{
    struct sim_gen_segment g;
    long count, offset, s, e, k, n = SIM_GEN_SEGMENTS;
    cJSON *doc;
    cJSON *arr;
    char buf[64];

    if (sim_arg_long(rq, "count", 10, 1, 1000, &count) ||
        sim_arg_long(rq, "offset", 0, 0, 1000000, &offset)) {
        return sim_prof_error(p, r, 400, "Invalid Resource", "count must be 1..1000");
    }
    if (seg >= 0) {
        sim_gen_segment(seg, &g);
        n = g.member_count;
    }
    sim_window(offset, count, n, &s, &e);
    doc = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(doc, seg < 0 ? "segments" : "members");
    for (k = s; k < e; k++) {
        if (seg < 0) {
            cJSON_AddItemToArray(arr, mc_segment((int)k, 1000 + k, NULL));
        } else {
            struct sim_gen_member m;
            cJSON *o = cJSON_CreateObject();
            cJSON *mf;

            sim_gen_member(seg, (int)k, &m);
            snprintf(buf, sizeof(buf), "%032ld", 1000 * (long)seg + k);
            cJSON_AddStringToObject(o, "id", buf);
            cJSON_AddStringToObject(o, "email_address", m.email);
            cJSON_AddStringToObject(o, "status", "subscribed");
            mf = cJSON_AddObjectToObject(o, "merge_fields");
            cJSON_AddStringToObject(mf, "FNAME", m.first_name);
            cJSON_AddStringToObject(mf, "LNAME", m.last_name);
            cJSON_AddStringToObject(mf, "PHONE", "");
            sim_iso(m.created_epoch, buf, sizeof(buf));
            cJSON_AddStringToObject(o, "last_changed", buf);
            cJSON_AddItemToArray(arr, o);
        }
    }
    cJSON_AddStringToObject(doc, "list_id", MC_LIST);
    cJSON_AddNumberToObject(doc, "total_items", (double)n);
    cJSON_AddArrayToObject(doc, "_links");
    return sim_reply_json(r, 200, "application/json", doc);
}

static int mc_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                    struct sim_reply *r)
{
    char c[2][64];
    const char *name;
    cJSON *b;
    int i;
    int rc;

    if (sim_match(rq, rq->method, rest, "/3.0/lists/*/segments", c, 1) ||
        sim_match(rq, rq->method, rest, "/3.0/lists/*/segments/*", c, 2) ||
        sim_match(rq, "GET", rest, "/3.0/lists/*/segments/*/members", c, 2)) {
        if (strcmp(c[0], MC_LIST)) {
            return sim_prof_error(p, r, 404, NULL, "The requested resource could not be found.");
        }
    } else {
        return sim_prof_error(p, r, 404, NULL, "The requested resource could not be found.");
    }
    if (sim_match(rq, "GET", rest, "/3.0/lists/*/segments", c, 1)) {
        return mc_page(p, rq, r, -1);
    }
    if (sim_match(rq, "POST", rest, "/3.0/lists/*/segments", c, 1)) {
        b = sim_body_object(rq);
        name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "name"));
        if (!name || (cJSON_GetObjectItemCaseSensitive(b, "static_segment") &&
                      cJSON_GetObjectItemCaseSensitive(b, "options"))) {
            rc = sim_prof_error(p, r, 400, "Invalid Resource",
                                "name is required; static_segment and options exclude each other");
        } else {
            rc = sim_reply_json(r, 200, "application/json", mc_segment(1, 2000, name));
        }
        cJSON_Delete(b);
        return rc;
    }
    rc = sim_prof_lookup(p, rq, r, c[1], mc_find, &i);
    if (rc) {
        return rc < 0 ? -1 : 0;
    }
    if (strstr(rest, "/members")) {
        return mc_page(p, rq, r, i);
    }
    if (!strcmp(rq->method, "GET")) {
        return sim_reply_json(r, 200, "application/json", mc_segment(i, 1000 + i, NULL));
    }
    if (!strcmp(rq->method, "PATCH")) {
        b = sim_body_object(rq);
        name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "name"));
        rc = sim_reply_json(r, 200, "application/json", mc_segment(i, 1000 + i, name));
        cJSON_Delete(b);
        return rc;
    }
    if (!strcmp(rq->method, "DELETE")) {
        r->status = 204;
        return 0;
    }
    return sim_prof_error(p, r, 405, "Method Not Allowed", "method not allowed");
}

const struct sim_profile sim_mailchimp = {
    SIM_P_MAILCHIMP, "/mailchimp", "sim-mailchimp-key", SIM_RL_NONE, 0, 0, "{\"segments\"", mc_auth,
    mc_error,        mc_route};
