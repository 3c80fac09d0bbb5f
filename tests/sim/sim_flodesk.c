/* Flodesk profile (providers.md §6): Basic auth with the key as user, /v1/segments with
 * page/per_page and meta, bare segments, create 201, subscribers of a segment; no update or
 * delete. Segment i is "fd<i>". Error bodies {code, message} are a 3rd-party observation.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

static int fd_find(const char *id)
{
    return sim_index_of(id, "fd", 0, SIM_GEN_SEGMENTS);
}

static int fd_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    return sim_basic_is(rq->auth, p->key, "") ? 0 : 401;
}

static cJSON *fd_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();

    cJSON_AddStringToObject(doc, "code", status == 401 ? "unauthorized" : code ? code : "error");
    cJSON_AddStringToObject(doc, "message", status == 401 ? "Unauthorized access is denied!" : msg);
    return doc;
}

static cJSON *fd_segment(int i, const char *id, const char *name)
{
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();
    char t[32];

    sim_gen_segment(i, &g);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", name ? name : g.name);
    cJSON_AddNumberToObject(o, "total_active_subscribers", (double)g.member_count);
    sim_iso(g.created_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "created_at", t);
    cJSON_AddStringToObject(o, "color", "#e5b3b0");
    return o;
}

static int fd_page(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                   int seg)
{
    struct sim_gen_segment g;
    long per, page, s, e, k, n = SIM_GEN_SEGMENTS;
    cJSON *doc;
    cJSON *meta;
    cJSON *arr;
    char buf[48];

    if (sim_arg_long(rq, "per_page", 20, 1, 100, &per) ||
        sim_arg_long(rq, "page", 1, 1, 1000000, &page)) {
        return sim_prof_error(p, r, 400, "bad_request", "per_page must be 1..100, page >= 1");
    }
    if (seg >= 0) {
        sim_gen_segment(seg, &g);
        n = g.member_count;
    }
    sim_window((page - 1) * per, per, n, &s, &e);
    doc = cJSON_CreateObject();
    meta = cJSON_AddObjectToObject(doc, "meta");
    cJSON_AddNumberToObject(meta, "page", (double)page);
    cJSON_AddNumberToObject(meta, "per_page", (double)per);
    cJSON_AddNumberToObject(meta, "total_pages", (double)((n + per - 1) / per));
    cJSON_AddNumberToObject(meta, "total_items", (double)n);
    arr = cJSON_AddArrayToObject(doc, "data");
    for (k = s; k < e; k++) {
        if (seg < 0) {
            snprintf(buf, sizeof(buf), "fd%ld", k);
            cJSON_AddItemToArray(arr, fd_segment((int)k, buf, NULL));
        } else {
            struct sim_gen_member m;
            cJSON *o = cJSON_CreateObject();

            sim_gen_member(seg, (int)k, &m);
            snprintf(buf, sizeof(buf), "fs%d_%ld", seg, k);
            cJSON_AddStringToObject(o, "id", buf);
            cJSON_AddStringToObject(o, "email", m.email);
            cJSON_AddStringToObject(o, "first_name", m.first_name);
            cJSON_AddStringToObject(o, "last_name", m.last_name);
            cJSON_AddStringToObject(o, "status", "active");
            sim_iso(m.created_epoch, buf, sizeof(buf));
            cJSON_AddStringToObject(o, "created_at", buf);
            cJSON_AddItemToArray(arr, o);
        }
    }
    return sim_reply_json(r, 200, "application/json", doc);
}

static int fd_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                    struct sim_reply *r)
{
    char c[1][64];
    int i;
    int rc;

    if (sim_match(rq, "GET", rest, "/v1/segments", c, 0)) {
        return fd_page(p, rq, r, -1);
    }
    if (sim_match(rq, "POST", rest, "/v1/segments", c, 0)) {
        cJSON *b = sim_body_object(rq);
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "name"));

        rc = name ? sim_reply_json(r, 201, "application/json", fd_segment(1, "fd_new", name))
                  : sim_prof_error(p, r, 400, "bad_request", "name is required");
        cJSON_Delete(b);
        return rc;
    }
    if (sim_match(rq, "GET", rest, "/v1/subscribers", c, 0)) {
        const char *sid = sim_req_arg(rq, "segment_id");

        if (!sid) {
            return sim_prof_error(p, r, 400, "bad_request",
                                  "segsim serves subscribers by segment_id only");
        }
        rc = sim_prof_lookup(p, rq, r, sid, fd_find, &i);
        return rc ? (rc < 0 ? -1 : 0) : fd_page(p, rq, r, i);
    }
    if (sim_match(rq, "GET", rest, "/v1/segments/*", c, 1)) {
        rc = sim_prof_lookup(p, rq, r, c[0], fd_find, &i);
        return rc ? (rc < 0 ? -1 : 0)
                  : sim_reply_json(r, 200, "application/json", fd_segment(i, c[0], NULL));
    }
    return sim_prof_error(p, r, 404, "not_found", "Not found");
}

const struct sim_profile sim_flodesk = {
    SIM_P_FLODESK, "/flodesk", "sim-flodesk-key", SIM_RL_FLODESK, 100, 1,
    "[{\"id\":",   fd_auth,    fd_error,          fd_route};
