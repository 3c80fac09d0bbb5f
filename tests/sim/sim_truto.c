/* Truto unified API profile (providers.md §9): /unified/marketing-automation/segments list and
 * get for integrated account "sim-ia", {result, next_cursor} with limit, truto_* options,
 * {statusCode, error, message} errors, normalized ratelimit-* headers. Segment i is "tr_<i>"
 * with remote_data the record of an imagined provider behind Truto.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

#define TR_IA "sim-ia"

struct tr_opts {
    int ignore_remote;
    char exclude[8][32];
    int nexclude;
};

static int tr_find(const char *id)
{
    return sim_index_of(id, "tr_", 0, SIM_GEN_SEGMENTS);
}

static int tr_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    return sim_bearer_is(rq->auth, p->key) ? 0 : 401;
}

static cJSON *tr_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();

    (void)code;
    cJSON_AddNumberToObject(doc, "statusCode", status);
    cJSON_AddStringToObject(doc, "error",
                            status == 401   ? "Unauthorized"
                            : status == 404 ? "Not Found"
                            : status == 429 ? "Too Many Requests"
                            : status == 400 ? "Bad Request"
                                            : "Internal Server Error");
    cJSON_AddStringToObject(doc, "message", msg);
    return doc;
}

static void collect_exclude(void *cls, const char *v)
{
    struct tr_opts *o = cls;

    if (v && o->nexclude < 8) {
        snprintf(o->exclude[o->nexclude++], sizeof(o->exclude[0]), "%s", v);
    }
}

static cJSON *tr_segment(int i, const char *id, const struct tr_opts *o)
{
    static const char *const status[] = {"active", "pending", "processing", "inactive", "failed"};
    struct sim_gen_segment g;
    cJSON *s = cJSON_CreateObject();
    char t[32];
    int k;

    sim_gen_segment(i, &g);
    cJSON_AddStringToObject(s, "id", id);
    cJSON_AddStringToObject(s, "name", g.name);
    cJSON_AddStringToObject(s, "description", g.description);
    cJSON_AddStringToObject(s, "status", status[g.state]);
    cJSON_AddBoolToObject(s, "is_starred", i == 1);
    sim_iso(g.created_epoch, t, sizeof(t));
    cJSON_AddStringToObject(s, "created_at", t);
    sim_iso(g.updated_epoch, t, sizeof(t));
    cJSON_AddStringToObject(s, "updated_at", t);
    if (!o->ignore_remote) {
        cJSON *rd = cJSON_AddObjectToObject(s, "remote_data");

        cJSON_AddStringToObject(rd, "id", id);
        cJSON_AddStringToObject(rd, "name", g.name);
    }
    for (k = 0; k < o->nexclude; k++) {
        cJSON_DeleteItemFromObjectCaseSensitive(s, o->exclude[k]);
    }
    return s;
}

static int tr_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                    struct sim_reply *r)
{
    const char *ia = sim_req_arg(rq, "integrated_account_id");
    const char *ign = sim_req_arg(rq, "truto_ignore_remote_data");
    const char *cur = sim_req_arg(rq, "next_cursor");
    struct tr_opts o;
    char c[1][64];
    long limit, off = 0, s, e, k;
    cJSON *doc;
    cJSON *arr;
    char buf[32];
    int i;
    int rc;

    memset(&o, 0, sizeof(o));
    o.ignore_remote = ign && !strcmp(ign, "true");
    sim_req_each_arg(rq, "truto_exclude_fields[]", collect_exclude, &o);
    if (!ia) {
        return sim_prof_error(p, r, 400, NULL, "integrated_account_id is required");
    }
    if (strcmp(ia, TR_IA)) {
        return sim_prof_error(p, r, 404, NULL, "Integrated account not found");
    }
    if (sim_match(rq, "GET", rest, "/unified/marketing-automation/segments", c, 0)) {
        if (sim_arg_long(rq, "limit", 100, 1, 1000, &limit) ||
            (cur && (cur[0] != 'c' || sim_parse_long(cur + 1, 0, 1000000, &off)))) {
            return sim_prof_error(p, r, 400, NULL, "bad limit or next_cursor");
        }
        sim_window(off, limit, SIM_GEN_SEGMENTS, &s, &e);
        doc = cJSON_CreateObject();
        arr = cJSON_AddArrayToObject(doc, "result");
        for (k = s; k < e; k++) {
            snprintf(buf, sizeof(buf), "tr_%ld", k);
            cJSON_AddItemToArray(arr, tr_segment((int)k, buf, &o));
        }
        snprintf(buf, sizeof(buf), "c%ld", e);
        if (e < SIM_GEN_SEGMENTS) {
            cJSON_AddStringToObject(doc, "next_cursor", buf);
        } else {
            cJSON_AddNullToObject(doc, "next_cursor");
        }
        return sim_reply_json(r, 200, "application/json", doc);
    }
    if (sim_match(rq, "GET", rest, "/unified/marketing-automation/segments/*", c, 1)) {
        rc = sim_prof_lookup(p, rq, r, c[0], tr_find, &i);
        return rc ? (rc < 0 ? -1 : 0)
                  : sim_reply_json(r, 200, "application/json", tr_segment(i, c[0], &o));
    }
    return sim_prof_error(p, r, 404, NULL, "Not Found");
}

const struct sim_profile sim_truto = {SIM_P_TRUTO, "/truto", "sim-truto-key",  SIM_RL_IETF_DELTA,
                                      100,         1,        "{\"result\": [", tr_auth,
                                      tr_error,    tr_route};
