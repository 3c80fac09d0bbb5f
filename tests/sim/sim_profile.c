/* Shared machinery of the table-driven provider profiles (see sim_profile.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_data.h"
#include "sim_state.h"

#define PROF_CTYPE "application/json"

extern const struct sim_profile sim_activecampaign, sim_beehiiv, sim_customerio, sim_flodesk,
    sim_mailchimp, sim_hubspot, sim_digitalaudience, sim_truto;

const struct sim_profile *const sim_profiles[] = {
    &sim_activecampaign, &sim_beehiiv,         &sim_customerio, &sim_flodesk, &sim_mailchimp,
    &sim_hubspot,        &sim_digitalaudience, &sim_truto,      NULL};

const struct sim_profile *sim_profile_for(const char *url)
{
    int i;

    for (i = 0; sim_profiles[i]; i++) {
        size_t n = strlen(sim_profiles[i]->prefix);

        if (strncmp(url, sim_profiles[i]->prefix, n) == 0 && (url[n] == '/' || !url[n])) {
            return sim_profiles[i];
        }
    }
    return NULL;
}

int sim_prof_error(const struct sim_profile *p, struct sim_reply *r, unsigned status,
                   const char *code, const char *msg)
{
    return sim_reply_json(r, status, PROF_CTYPE, p->error_body(status, code, msg));
}

/* A 429 tells the client when to come back, in the profile's header family. */
static int throttle_headers(const struct sim_profile *p, const struct sim_req *rq,
                            struct sim_reply *r, long secs)
{
    int bad = 0;

    if (p->retry_after) {
        bad |= sim_reply_header(r, "Retry-After", "%ld", secs);
        r->promise_rel_ms = secs * 1000;
    }
    if (p->rl == SIM_RL_IETF_EPOCH) {
        bad |= sim_reply_header(r, "RateLimit-Limit", "%ld", p->rl_limit);
        bad |= sim_reply_header(r, "RateLimit-Remaining", "0");
        bad |= sim_reply_header(r, "RateLimit-Reset", "%lld", rq->now_ms / 1000 + secs + 1);
        r->promise_abs_ms = (rq->now_ms / 1000 + secs + 1) * 1000;
    } else if (p->rl == SIM_RL_IETF_DELTA) {
        bad |= sim_reply_header(r, "ratelimit-reset", "%ld", secs);
        r->promise_rel_ms = secs * 1000;
    }
    return bad ? -1 : 0;
}

int sim_prof_outcome(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                     const struct sim_decision *d)
{
    int rc;

    r->delay_ms += d->delay_ms;
    switch (d->outcome) {
    case SIM_OUT_NOT_MAGIC:
    case SIM_OUT_OK:
        return 0;
    case SIM_OUT_BAD_JSON:
        rc = sim_reply_text(r, 200, PROF_CTYPE, p->bad_json);
        break;
    case SIM_OUT_404:
        rc = sim_prof_error(p, r, 404, "not_found", "resource not found");
        break;
    case SIM_OUT_429:
        rc = sim_prof_error(p, r, 429, "rate_limited", "too many requests");
        if (rc == 0) {
            rc = throttle_headers(p, rq, r, d->retry_after_s);
        }
        break;
    case SIM_OUT_500:
        rc = sim_prof_error(p, r, 500, "internal_error", "internal server error");
        break;
    case SIM_OUT_507:
        rc = sim_prof_error(p, r, 507, "sim_full",
                            "segsim: magic-id counter map is full; restart the simulator");
        break;
    default:
        rc = sim_prof_error(p, r, 503, "unavailable", "service unavailable");
        break;
    }
    return rc < 0 ? -1 : 1;
}

int sim_prof_lookup(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                    const char *id, int (*find)(const char *id), int *idx)
{
    struct sim_decision d;
    int rc;

    sim_magic_decide(rq->st, p->provider, id, &d);
    rc = sim_prof_outcome(p, rq, r, &d);
    if (rc != 0) {
        return rc;
    }
    *idx = d.outcome == SIM_OUT_OK ? 0 : find(id);
    if (*idx < 0) {
        return sim_prof_error(p, r, 404, "not_found", "segment not found") < 0 ? -1 : 1;
    }
    return 0;
}

static int rl_headers(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r)
{
    long long reset = rq->now_ms / 1000 + 60 - (rq->now_ms / 1000) % 60;
    int bad = 0;

    if (r->status == 429) {
        return 0; /* the 429 itself carries what the client needs */
    }
    switch (p->rl) {
    case SIM_RL_IETF_EPOCH:
        bad |= sim_reply_header(r, "RateLimit-Limit", "%ld", p->rl_limit);
        bad |= sim_reply_header(r, "RateLimit-Remaining", "%ld", p->rl_limit - 1);
        bad |= sim_reply_header(r, "RateLimit-Reset", "%lld", reset);
        break;
    case SIM_RL_IETF_DELTA:
        bad |= sim_reply_header(r, "ratelimit-limit", "%ld", p->rl_limit);
        bad |= sim_reply_header(r, "ratelimit-remaining", "%ld", p->rl_limit - 1);
        bad |= sim_reply_header(r, "ratelimit-reset", "%lld", reset - rq->now_ms / 1000);
        break;
    case SIM_RL_LIMIT_ONLY:
        bad |= sim_reply_header(r, "RateLimit-Limit", "%ld", p->rl_limit);
        bad |= sim_reply_header(r, "RateLimit-Remaining", "%ld", p->rl_limit - 1);
        break;
    case SIM_RL_FLODESK:
        bad |= sim_reply_header(r, "X-Fd-RateLimit-Limit", "%ld", p->rl_limit);
        bad |= sim_reply_header(r, "X-Fd-RateLimit-Remaining", "%ld", p->rl_limit - 1);
        break;
    case SIM_RL_HUBSPOT:
        bad |= sim_reply_header(r, "X-HubSpot-RateLimit-Daily", "%ld", p->rl_limit);
        bad |= sim_reply_header(r, "X-HubSpot-RateLimit-Daily-Remaining", "%ld", p->rl_limit - 1);
        break;
    default:
        break;
    }
    return bad ? -1 : 0;
}

int sim_profile_handle(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r)
{
    const char *rest = rq->path + strlen(p->prefix);
    struct sim_decision d;
    int status = p->authorized(p, rq);
    int rc;

    if (status) {
        rc = sim_prof_error(p, r, (unsigned)status, status == 403 ? "forbidden" : "unauthorized",
                            "authentication failed");
    } else {
        sim_magic_draw_fault(rq->st, p->provider, &d);
        rc = sim_prof_outcome(p, rq, r, &d);
        if (rc == 0) {
            rc = p->route(p, rq, rest, r);
        } else if (rc > 0) {
            rc = 0;
        }
    }
    if (rc >= 0 && !r->status) {
        rc = sim_prof_error(p, r, 404, "not_found", "no such path");
    }
    return rc < 0 || rl_headers(p, rq, r) < 0 ? -1 : 0;
}

int sim_match(const struct sim_req *rq, const char *method, const char *rest, const char *pattern,
              char caps[][64], int ncaps)
{
    int k = 0;

    if (strcmp(rq->method, method) != 0) {
        return 0;
    }
    while (*pattern) {
        if (*pattern == '*') {
            size_t n = strcspn(rest, "/");

            if (n == 0 || n >= 64 || k >= ncaps) {
                return 0;
            }
            memcpy(caps[k], rest, n);
            caps[k++][n] = '\0';
            rest += n;
            pattern++;
        } else if (*pattern++ != *rest++) {
            return 0;
        }
    }
    return *rest == '\0' || (rest[0] == '/' && rest[1] == '\0');
}

int sim_arg_long(const struct sim_req *rq, const char *name, long dflt, long lo, long hi, long *out)
{
    const char *v = sim_req_arg(rq, name);

    if (!v) {
        *out = dflt;
        return 0;
    }
    return sim_parse_long(v, lo, hi, out);
}

cJSON *sim_body_object(const struct sim_req *rq)
{
    cJSON *doc = rq->body ? cJSON_ParseWithLength(rq->body, rq->body_len) : NULL;

    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

int sim_copy_str(cJSON *out, const char *name, const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (cJSON_IsString(v)) {
        return cJSON_AddStringToObject(out, name, v->valuestring) ? 0 : -1;
    }
    return cJSON_AddNullToObject(out, name) ? 0 : -1;
}

static int b64val(char c)
{
    const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(t, c) : NULL;

    return p ? (int)(p - t) : -1;
}

int sim_basic_is(const char *auth, const char *want_user, const char *want_pass)
{
    char dec[512];
    size_t n = 0;
    const char *s;
    char *colon;
    unsigned acc = 0;
    int bits = 0;

    if (strncmp(auth, "Basic ", 6) != 0) {
        return 0;
    }
    for (s = auth + 6; *s && *s != '='; s++) {
        int v = b64val(*s);

        if (v < 0) {
            return 0;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= sizeof(dec)) {
                return 0;
            }
            dec[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    dec[n] = '\0';
    colon = strchr(dec, ':');
    if (!colon) {
        return 0;
    }
    *colon = '\0';
    return (!strcmp(want_user, "*") || !strcmp(dec, want_user)) &&
           (!strcmp(want_pass, "*") || !strcmp(colon + 1, want_pass));
}

int sim_index_of(const char *id, const char *prefix, long base, int n)
{
    size_t pl = strlen(prefix);
    long v;

    if (strncmp(id, prefix, pl) != 0 || sim_parse_long(id + pl, base, base + n - 1, &v) != 0) {
        return -1;
    }
    return (int)(v - base);
}

void sim_iso(long long epoch, char *buf, size_t n)
{
    sim_sendgrid_time(epoch, buf, n);
}

int sim_bearer_is(const char *auth, const char *key)
{
    return strncmp(auth, "Bearer ", 7) == 0 && strcmp(auth + 7, key) == 0;
}

void sim_window(long offset, long limit, long n, long *start, long *end)
{
    *start = offset < n ? offset : n;
    *end = *start + limit < n ? *start + limit : n;
}

int sim_reply_wrapped(struct sim_reply *r, unsigned status, const char *key, cJSON *item,
                      int as_array)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = as_array ? cJSON_AddArrayToObject(doc, key) : NULL;

    if (!doc || !item ||
        (as_array ? !cJSON_AddItemToArray(arr, item) : !cJSON_AddItemToObject(doc, key, item))) {
        cJSON_Delete(item);
        cJSON_Delete(doc);
        return -1;
    }
    return sim_reply_json(r, status, PROF_CTYPE, doc);
}
