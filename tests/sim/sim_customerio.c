/* Customer.io App API profile (providers.md §5): /v1/segments (one page), {segment: …}, manual
 * create/delete, /customer_count, /membership with start/limit/next. Segment i has the integer id
 * i + 1; odd indexes are manual segments (deletable), even ones dynamic (UI only).
 * The error body is UNCONFIRMED (the spec declares none): {"errors":[{"detail","status"}]}.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_data.h"
#include "sim_profile.h"
#include "sim_state.h"

static int cio_find(const char *id)
{
    return sim_index_of(id, "", 1, SIM_GEN_SEGMENTS);
}

static int cio_auth(const struct sim_profile *p, const struct sim_req *rq)
{
    return sim_bearer_is(rq->auth, p->key) ? 0 : 401;
}

static cJSON *cio_error(unsigned status, const char *code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = cJSON_CreateObject();
    char s[8];

    (void)code;
    snprintf(s, sizeof(s), "%u", status);
    cJSON_AddStringToObject(e, "detail", msg);
    cJSON_AddStringToObject(e, "status", s);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "errors"), e);
    return doc;
}

static cJSON *cio_segment(int i, long id, const char *name, const char *desc)
{
    static const char *const state[] = {"finished", "build_queued", "build", "finished",
                                        "finished"};
    struct sim_gen_segment g;
    cJSON *o = cJSON_CreateObject();
    char dd[48];

    sim_gen_segment(i, &g);
    snprintf(dd, sizeof(dd), "%ld:%lld", id, g.updated_epoch);
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "deduplicate_id", dd);
    cJSON_AddStringToObject(o, "name", name ? name : g.name);
    cJSON_AddStringToObject(o, "description", desc ? desc : g.description);
    cJSON_AddStringToObject(o, "state", state[g.state]);
    if (g.state == SIM_GEN_PROCESSING) {
        cJSON_AddNumberToObject(o, "progress", 40);
    } else {
        cJSON_AddNullToObject(o, "progress");
    }
    cJSON_AddStringToObject(o, "type", i % 2 ? "manual" : "dynamic");
    cJSON_AddNullToObject(o, "tags");
    cJSON_AddNumberToObject(o, "created_at", (double)g.created_epoch);
    cJSON_AddNumberToObject(o, "updated_at", (double)g.updated_epoch);
    return o;
}

/* start is our own opaque token "o<offset>"; the last page has next "" (UNCONFIRMED form). */
static int cio_membership(const struct sim_profile *p, const struct sim_req *rq,
                          struct sim_reply *r, int i, long id)
{
    struct sim_gen_segment g;
    const char *start = sim_req_arg(rq, "start");
    long limit, off = 0, s, e, k;
    cJSON *doc = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(doc, "ids");
    cJSON *idf = cJSON_AddArrayToObject(doc, "identifiers");
    char buf[48];

    if (sim_arg_long(rq, "limit", 1000, 1, 30000, &limit) ||
        (start && (start[0] != 'o' || sim_parse_long(start + 1, 0, 1000000, &off)))) {
        cJSON_Delete(doc);
        return sim_prof_error(p, r, 400, NULL, "bad limit or start");
    }
    sim_gen_segment(i, &g);
    sim_window(off, limit, g.member_count, &s, &e);
    cJSON_AddNumberToObject(doc, "segment_id", (double)id);
    for (k = s; k < e; k++) {
        struct sim_gen_member m;
        cJSON *o = cJSON_CreateObject();

        sim_gen_member(i, (int)k, &m);
        /* Member 1 has no id (the API sends "" then), so clients must fall back to cio_id. */
        if (k == 1) {
            buf[0] = '\0';
        } else {
            snprintf(buf, sizeof(buf), "u%ld_%ld", id, k);
        }
        cJSON_AddItemToArray(ids, cJSON_CreateString(buf));
        cJSON_AddStringToObject(o, "email", m.email);
        cJSON_AddStringToObject(o, "id", buf);
        snprintf(buf, sizeof(buf), "cio_%ld_%ld", id, k);
        cJSON_AddStringToObject(o, "cio_id", buf);
        cJSON_AddItemToArray(idf, o);
    }
    snprintf(buf, sizeof(buf), "o%ld", e);
    cJSON_AddStringToObject(doc, "next", e < g.member_count ? buf : "");
    return sim_reply_json(r, 200, "application/json", doc);
}

static int cio_route(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                     struct sim_reply *r)
{
    char c[1][64];
    int i;
    int rc;

    if (sim_match(rq, "GET", rest, "/v1/segments", c, 0)) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(doc, "segments");

        for (i = 0; i < SIM_GEN_SEGMENTS; i++) {
            cJSON_AddItemToArray(arr, cio_segment(i, i + 1, NULL, NULL));
        }
        return sim_reply_json(r, 200, "application/json", doc);
    }
    if (sim_match(rq, "POST", rest, "/v1/segments", c, 0)) {
        cJSON *b = sim_body_object(rq);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(b, "segment");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "name"));

        rc = name ? sim_reply_wrapped(
                        r, 200, "segment",
                        cio_segment(1, 100, name,
                                    cJSON_GetStringValue(
                                        cJSON_GetObjectItemCaseSensitive(s, "description"))),
                        0)
                  : sim_prof_error(p, r, 400, NULL, "segment.name is required");
        cJSON_Delete(b);
        return rc;
    }
    if (!sim_match(rq, rq->method, rest, "/v1/segments/*", c, 1) &&
        !sim_match(rq, "GET", rest, "/v1/segments/*/customer_count", c, 1) &&
        !sim_match(rq, "GET", rest, "/v1/segments/*/membership", c, 1)) {
        return sim_prof_error(p, r, 404, NULL, "not found");
    }
    rc = sim_prof_lookup(p, rq, r, c[0], cio_find, &i);
    if (rc) {
        return rc < 0 ? -1 : 0;
    }
    if (strstr(rest, "/customer_count")) {
        struct sim_gen_segment g;
        char body[96];

        sim_gen_segment(i, &g);
        snprintf(body, sizeof(body), "{\"segment_id\":%d,\"count\":%ld}", i + 1, g.member_count);
        return sim_reply_text(r, 200, "application/json", body);
    }
    if (strstr(rest, "/membership")) {
        return cio_membership(p, rq, r, i, i + 1);
    }
    if (!strcmp(rq->method, "GET")) {
        return sim_reply_wrapped(r, 200, "segment", cio_segment(i, i + 1, NULL, NULL), 0);
    }
    if (!strcmp(rq->method, "DELETE")) {
        if (i % 2 == 0 && strncmp(c[0], "sim-", 4)) {
            return sim_prof_error(p, r, 400, NULL, "only manual segments can be deleted");
        }
        r->status = 204;
        return 0;
    }
    return sim_prof_error(p, r, 405, NULL, "method not allowed");
}

const struct sim_profile sim_customerio = {SIM_P_CUSTOMERIO,
                                           "/customerio",
                                           "sim-customerio-key",
                                           SIM_RL_NONE,
                                           0,
                                           1,
                                           "{\"segment\": ",
                                           cio_auth,
                                           cio_error,
                                           cio_route};
