/* ActiveCampaign profile (providers.md §3): legacy /api/3/segments (read-only, limit/offset,
 * meta.total as a string), Segments 2.0 writes, /audiences counts, contacts of a segment.
 * Segment i has id "<i+1>" on every surface (a simplification: the V2 ids of the real API are
 * their own; UNCONFIRMED how they relate).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

static int ac_find(const char *id)
{
    return sim_index_of(id, "", 1, SIM_GEN_SEGMENTS);
}

static int ac_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    const char *tok = sim_req_header(rq, "Api-Token");

    return tok && strcmp(tok, p->key) == 0 ? 0 : 403;
}

/* 403 for a bad token as a 3rd-party simulator observed; elsewhere the V2 error list. */
static cJSON *ac_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = cJSON_CreateObject();
    char s[8];

    if (status == 403) {
        cJSON_Delete(e);
        cJSON_AddStringToObject(doc, "message",
                                "You do not have permission to view this directory or page.");
        return doc;
    }
    snprintf(s, sizeof(s), "%u", status);
    cJSON_AddStringToObject(e, "status", s);
    cJSON_AddStringToObject(e, "code", code ? code : "error");
    cJSON_AddStringToObject(e, "title", code ? code : "error");
    cJSON_AddStringToObject(e, "detail", msg);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "errors"), e);
    return doc;
}

static cJSON *ac_legacy(int i, const char *id)
{
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();

    sim_gen_segment(i, &g);
    cJSON_AddStringToObject(o, "name", g.name);
    cJSON_AddStringToObject(o, "logic", "and");
    cJSON_AddStringToObject(o, "hidden", "0");
    cJSON_AddStringToObject(o, "seriesid", "0");
    cJSON_AddArrayToObject(o, "links");
    cJSON_AddStringToObject(o, "id", id);
    return o;
}

/* A Segments 2.0 resource (or an /audiences summary with counts). */
static cJSON *ac_v2(int i, const char *id, const char *name, int counts)
{
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddObjectToObject(o, "attributes");
    char t[32];

    sim_gen_segment(i, &g);
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "type", counts ? "audience" : "Segment.v2");
    cJSON_AddStringToObject(a, "segment_id", id);
    cJSON_AddStringToObject(a, "name", name ? name : g.name);
    cJSON_AddStringToObject(a, "description", g.description);
    sim_iso(g.created_epoch, t, sizeof(t));
    cJSON_AddStringToObject(a, "created_date", t);
    sim_iso(g.updated_epoch, t, sizeof(t));
    cJSON_AddStringToObject(a, "updated_date", t);
    if (counts) {
        cJSON *lt = cJSON_AddObjectToObject(cJSON_AddObjectToObject(a, "counts"), "last_total");

        cJSON_AddNumberToObject(lt, "count", (double)g.member_count);
        sim_iso(g.calculated_epoch, t, sizeof(t));
        cJSON_AddStringToObject(lt, "last_total_updated", t);
    } else {
        cJSON_AddStringToObject(a, "segment_condition_group_operator", "and");
        cJSON_AddArrayToObject(a, "segment_condition_groups");
        cJSON_AddArrayToObject(a, "segment_conditions");
        cJSON_AddStringToObject(a, "category", "AUDIENCE");
    }
    return o;
}

/* limit (default 20, max 100) and offset; the total as a string, as AC sends it. */
static int ac_page(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                   const char *key, int seg)
{
    struct sim_gen_segment g;
    long limit, offset, start, end, k;
    long n = SIM_GEN_SEGMENTS;
    cJSON *doc;
    cJSON *arr;
    char buf[64];

    if (sim_arg_long(rq, "limit", 20, 1, 100, &limit) ||
        sim_arg_long(rq, "offset", 0, 0, 1000000, &offset)) {
        return sim_prof_error(p, r, 400, "invalid", "limit must be 1..100 and offset >= 0");
    }
    if (seg >= 0) {
        sim_gen_segment(seg, &g);
        n = g.member_count;
    }
    sim_window(offset, limit, n, &start, &end);
    doc = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(doc, key);
    for (k = start; k < end; k++) {
        if (seg < 0) {
            snprintf(buf, sizeof(buf), "%ld", k + 1);
            cJSON_AddItemToArray(arr, ac_legacy((int)k, buf));
        } else {
            struct sim_gen_member m;
            cJSON *c = cJSON_CreateObject();

            sim_gen_member(seg, (int)k, &m);
            snprintf(buf, sizeof(buf), "%d%02ld", seg + 1, k);
            cJSON_AddStringToObject(c, "id", buf);
            cJSON_AddStringToObject(c, "email", m.email);
            cJSON_AddStringToObject(c, "phone", "");
            cJSON_AddStringToObject(c, "firstName", m.first_name);
            cJSON_AddStringToObject(c, "lastName", m.last_name);
            sim_iso(m.created_epoch, buf, sizeof(buf));
            cJSON_AddStringToObject(c, "cdate", buf);
            cJSON_AddStringToObject(c, "udate", buf);
            cJSON_AddItemToArray(arr, c);
        }
    }
    snprintf(buf, sizeof(buf), "%ld", n);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(doc, "meta"), "total", buf);
    return sim_reply_json(r, 200, "application/json", doc);
}

static int ac_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                    struct sim_reply *r)
{
    char c[1][64];
    int i;
    int rc;

    if (sim_match(rq, "GET", rest, "/api/3/segments", c, 0)) {
        return ac_page(p, rq, r, "segments", -1);
    }
    if (sim_match(rq, "GET", rest, "/api/3/contacts", c, 0)) {
        const char *sid = sim_req_arg(rq, "segmentid");

        if (!sid) {
            return sim_prof_error(p, r, 400, "invalid", "segsim serves contacts by segmentid only");
        }
        rc = sim_prof_lookup(p, rq, r, sid, ac_find, &i);
        return rc ? (rc < 0 ? -1 : 0) : ac_page(p, rq, r, "contacts", i);
    }
    if (sim_match(rq, "POST", rest, "/api/3/segmentsV2", c, 0)) {
        cJSON *b = sim_body_object(rq);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "data"), 0), "attributes");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name"));

        if (!a || !cJSON_GetObjectItemCaseSensitive(a, "segment_condition_group_operator") ||
            !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "segment_conditions"))) {
            cJSON_Delete(b);
            return sim_prof_error(p, r, 400, "invalid",
                                  "data[0].attributes needs segment_condition_group_operator, "
                                  "segment_condition_groups and segment_conditions");
        }
        rc = sim_reply_wrapped(r, 200, "data", ac_v2(0, "100", name, 0), 1);
        cJSON_Delete(b);
        return rc;
    }
    if (sim_match(rq, "GET", rest, "/api/3/segments/*", c, 1) ||
        sim_match(rq, "PUT", rest, "/api/3/segmentsV2/*", c, 1) ||
        sim_match(rq, "DELETE", rest, "/api/3/segmentsV2/*", c, 1) ||
        sim_match(rq, "GET", rest, "/api/3/audiences/*", c, 1)) {
        rc = sim_prof_lookup(p, rq, r, c[0], ac_find, &i);
        if (rc) {
            return rc < 0 ? -1 : 0;
        }
        if (!strcmp(rq->method, "GET") && strstr(rest, "/audiences/")) {
            return sim_reply_wrapped(r, 200, "data", ac_v2(i, c[0], NULL, 1), 0);
        }
        if (!strcmp(rq->method, "GET")) {
            return sim_reply_wrapped(r, 200, "segment", ac_legacy(i, c[0]), 0);
        }
        return sim_reply_wrapped(r, 200, "data", ac_v2(i, c[0], NULL, 0),
                                 1); /* PUT, DELETE: the segment */
    }
    return sim_prof_error(p, r, 404, "not_found", "No Result.");
}

const struct sim_profile sim_activecampaign = {SIM_P_ACTIVECAMPAIGN,
                                               "/activecampaign",
                                               "sim-activecampaign-key",
                                               SIM_RL_LIMIT_ONLY,
                                               5,
                                               1,
                                               "{\"segments\": [",
                                               ac_auth,
                                               ac_error,
                                               ac_route};
