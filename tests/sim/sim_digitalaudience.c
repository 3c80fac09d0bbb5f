/* Digital Audience Segment API profile (seed 001): a cookie session from a login call, load a
 * segment by id, update its end date, delete it, create an audience. Everything the seed leaves
 * open is guessed (tests/sim/README.md): the login path and body, the Set-Cookie answer, bare
 * JSON bodies, {message} errors, 401 for a missing or expired cookie.
 * Segment i has segmentId 5000 + i (record id 88 + i).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

#define DA_USER   "sim-da-user"
#define DA_COOKIE "sim-da-cookie" /* a fixed cookie an operator could configure */

static int da_find(const char *id)
{
    return sim_index_of(id, "", 5000, SIM_GEN_SEGMENTS);
}

/* Valid: the fixed cookie, or "sess-<generation>-<n>" of the current generation. */
static int da_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    const char *ck = sim_req_header(rq, "Cookie");
    const char *v = ck ? strstr(ck, "digitalAudience=") : NULL;
    char want[64];

    (void)p;
    if (!strcmp(rq->path + strlen(p->prefix), "/api/account/login")) {
        return 0; /* the login call itself needs no cookie */
    }
    if (!v) {
        return 401;
    }
    v += strlen("digitalAudience=");
    if (!strncmp(v, DA_COOKIE, strlen(DA_COOKIE)) && strcspn(v, "; ") == strlen(DA_COOKIE)) {
        return 0;
    }
    snprintf(want, sizeof(want), "sess-%lu-", sim_state_session_gen(rq->st));
    return strncmp(v, want, strlen(want)) ? 401 : 0;
}

static cJSON *da_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();

    (void)code;
    cJSON_AddStringToObject(doc, "message", status == 401 ? "Unauthorized" : msg);
    return doc;
}

static cJSON *da_segment(int i, const char *id)
{
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();
    char t[32];

    sim_gen_segment(i, &g);
    cJSON_AddNumberToObject(o, "segmentId", atof(id));
    cJSON_AddNullToObject(o, "segmentRefId");
    cJSON_AddNullToObject(o, "categoryId");
    cJSON_AddStringToObject(o, "description", g.description);
    cJSON_AddBoolToObject(o, "extend", 0);
    cJSON_AddBoolToObject(o, "active", g.state != SIM_GEN_INACTIVE);
    cJSON_AddNumberToObject(o, "accountId", 17);
    cJSON_AddNumberToObject(o, "audienceId", 900 + i);
    cJSON_AddNumberToObject(o, "platformId", 3);
    cJSON_AddBoolToObject(o, "isRecurring", 0);
    cJSON_AddBoolToObject(o, "isSystemGenerated", 0);
    cJSON_AddNumberToObject(o, "country", 276);
    sim_iso(g.created_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "startDate", t);
    sim_iso(g.calculated_epoch + 86400 * 30, t, sizeof(t));
    cJSON_AddStringToObject(o, "endDate", t);
    cJSON_AddStringToObject(o, "status", g.state == SIM_GEN_INACTIVE ? "Inactive" : "Active");
    cJSON_AddNumberToObject(o, "statusId", g.state == SIM_GEN_INACTIVE ? 2 : 1);
    cJSON_AddStringToObject(o, "userName", "segsim");
    cJSON_AddNumberToObject(o, "userId", 9);
    cJSON_AddNumberToObject(o, "totalLogCount", 10);
    cJSON_AddNullToObject(o, "totalReadyCount");
    cJSON_AddNullToObject(o, "totalProcessingCount");
    cJSON_AddNumberToObject(o, "totalPendingCount", 0);
    cJSON_AddNumberToObject(o, "totalUploadCount", 1);
    cJSON_AddNullToObject(o, "totalFailedCount");
    cJSON_AddNullToObject(o, "totalNoDataCount");
    cJSON_AddNumberToObject(o, "totalSegmentUploadCount", 1);
    cJSON_AddNumberToObject(o, "id", 88 + i);
    cJSON_AddStringToObject(o, "name", g.name);
    sim_iso(g.created_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "created", t);
    sim_iso(g.updated_epoch, t, sizeof(t));
    cJSON_AddStringToObject(o, "updated", t);
    return o;
}

/* The seed's Account properties answer the login (a guess: the seed shows no login). */
static int da_login(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r)
{
    cJSON *b = sim_body_object(rq);
    const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "username"));
    const char *pw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "password"));
    struct sim_decision d;
    int ok;
    int rc;

    /* A magic user name (sim-flaky-1-t, sim-429-…) makes the login itself fail first. */
    sim_magic_decide(rq->st, p->provider, u ? u : "", &d);
    ok = u && pw && (!strcmp(u, DA_USER) || d.outcome == SIM_OUT_OK) && !strcmp(pw, p->key);
    rc = sim_prof_outcome(p, rq, r, &d);
    if (rc != 0) {
        cJSON_Delete(b);
        return rc < 0 ? -1 : 0;
    }
    cJSON_Delete(b);
    if (!ok) {
        return sim_prof_error(p, r, 401, NULL, "Invalid username or password");
    }
    rc = sim_reply_text(
        r, 200, "application/json",
        "{\"id\":17,\"name\":\"segsim account\",\"platformId\":3,"
        "\"platformName\":\"sim\",\"platformDisplayName\":\"Sim\","
        "\"agencyId\":4,\"accountTypeId\":null,\"advertiserId\":null,"
        "\"clientId\":\"c-17\",\"agencyName\":\"Sim agency\","
        "\"accountTypeName\":null,\"defaultSegmentPricingCategoryId\":null,"
        "\"created\":\"2025-01-01T00:00:00Z\",\"updated\":\"2025-01-02T00:00:00Z\"}");
    if (rc == 0) {
        rc = sim_reply_header(r, "Set-Cookie", "digitalAudience=sess-%lu-%llu; Path=/; HttpOnly",
                              sim_state_session_gen(rq->st), rq->seq);
    }
    return rc;
}

static int da_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                    struct sim_reply *r)
{
    char c[1][64];
    char id[32];
    cJSON *b;
    const cJSON *v;
    int i;
    int rc;

    if (sim_match(rq, "POST", rest, "/api/account/login", c, 0)) {
        return da_login(p, rq, r);
    }
    if (sim_match(rq, "POST", rest, "/api/segment/updateenddate", c, 0)) {
        b = sim_body_object(rq);
        v = cJSON_GetObjectItemCaseSensitive(b, "segmentid");
        if (!cJSON_IsNumber(v) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "endDate"))) {
            cJSON_Delete(b);
            return sim_prof_error(p, r, 400, NULL, "segmentid (number) and endDate are required");
        }
        snprintf(id, sizeof(id), "%.0f", v->valuedouble);
        cJSON_Delete(b);
        rc = sim_prof_lookup(p, rq, r, id, da_find, &i);
        return rc ? (rc < 0 ? -1 : 0)
                  : sim_reply_text(r, 200, "application/json", "{\"success\":true}");
    }
    if (sim_match(rq, "POST", rest, "/api/audience/createcrmaudience", c, 0)) {
        b = sim_body_object(rq);
        v = cJSON_GetObjectItemCaseSensitive(b, "campaignId");
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "name")) || !cJSON_IsNumber(v)) {
            cJSON_Delete(b);
            return sim_prof_error(p, r, 400, NULL, "name and campaignId (number) are required");
        }
        cJSON_AddNumberToObject(b, "audienceId", 901);
        cJSON_AddStringToObject(b, "created", "2026-01-05T09:00:00Z");
        return sim_reply_json(r, 200, "application/json", b);
    }
    if (sim_match(rq, "GET", rest, "/Segment/loadsegmentbyid/*", c, 1) ||
        sim_match(rq, "DELETE", rest, "/api/segment/*", c, 1)) {
        rc = sim_prof_lookup(p, rq, r, c[0], da_find, &i);
        if (rc) {
            return rc < 0 ? -1 : 0;
        }
        if (!strcmp(rq->method, "DELETE")) {
            return sim_reply_text(r, 200, "application/json", "{\"success\":true}");
        }
        snprintf(id, sizeof(id), "%d", 5000 + i);
        return sim_reply_json(r, 200, "application/json",
                              da_segment(i, strncmp(c[0], "sim-", 4) ? c[0] : id));
    }
    return sim_prof_error(p, r, 404, NULL, "Not Found");
}

const struct sim_profile sim_digitalaudience = {SIM_P_DIGITALAUDIENCE,
                                                "/digitalaudience",
                                                "sim-digitalaudience-key",
                                                SIM_RL_NONE,
                                                0,
                                                1,
                                                "<html><body>Login</body></html>",
                                                da_auth,
                                                da_error,
                                                da_route};
