/* The /_sim/ control API: fault injection, statistics, health. No auth: loopback test tool only.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_control.h"
#include "sim_state.h"
#include "sim_watch.h"

#define CTL_CTYPE "application/json"

static int ctl_error(struct sim_reply *r, unsigned status, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();

    if (!doc || !cJSON_AddFalseToObject(doc, "ok") || !cJSON_AddStringToObject(doc, "error", msg)) {
        cJSON_Delete(doc);
        return -1;
    }
    return sim_reply_json(r, status, CTL_CTYPE, doc);
}

static int ctl_ok(struct sim_reply *r)
{
    return sim_reply_text(r, 200, CTL_CTYPE, "{\"ok\":true}");
}

static int add_fault(cJSON *obj, const char *name, const struct sim_fault *f)
{
    cJSON *o = cJSON_AddObjectToObject(obj, name);

    if (!o || !cJSON_AddNumberToObject(o, "rate_503", f->rate_503) ||
        !cJSON_AddNumberToObject(o, "rate_429", f->rate_429) ||
        !cJSON_AddNumberToObject(o, "rate_bad_json", f->rate_bad_json) ||
        !cJSON_AddNumberToObject(o, "retry_after_s", (double)f->retry_after_s) ||
        !cJSON_AddNumberToObject(o, "delay_ms", (double)f->delay_ms) ||
        !cJSON_AddNumberToObject(o, "seed", (double)f->seed)) {
        return -1;
    }
    return 0;
}

static int ctl_show_faults(const struct sim_req *rq, struct sim_reply *r)
{
    cJSON *doc = cJSON_CreateObject();
    struct sim_fault f;
    int p;

    if (!doc) {
        return -1;
    }
    for (p = 0; p < sim_state_nprov(rq->st); p++) {
        sim_state_get_fault(rq->st, p, &f);
        if (add_fault(doc, sim_state_provider_name(rq->st, p), &f) != 0) {
            cJSON_Delete(doc);
            return -1;
        }
    }
    return sim_reply_json(r, 200, CTL_CTYPE, doc);
}

/* POST /_sim/faults {"provider":"<a profile's provider>"|"*", "rate_503":..., ...}. Unset keys take
 * the defaults, so each POST replaces the provider's settings as a whole. */
static int ctl_set_faults(const struct sim_req *rq, struct sim_reply *r)
{
    cJSON *doc = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
    const cJSON *it;
    struct sim_fault f;
    int provider = -1;
    int rc = -1;
    char msg[128];

    sim_fault_defaults(&f);
    if (!cJSON_IsObject(doc)) {
        rc = ctl_error(r, 400, "body must be a JSON object");
        goto out;
    }
    cJSON_ArrayForEach(it, doc)
    {
        if (strcmp(it->string, "provider") == 0) {
            const char *v = cJSON_GetStringValue(it);

            provider = sim_state_provider(rq->st, v);
            if (provider < 0 && (!v || strcmp(v, "*") != 0)) {
                rc = ctl_error(r, 400, "provider must be a simulated provider's name or *");
                goto out;
            }
        } else if (!cJSON_IsNumber(it) || sim_fault_set_key(&f, it->string, it->valuedouble) != 0) {
            snprintf(msg, sizeof(msg), "unknown key or bad value: %.64s", it->string);
            rc = ctl_error(r, 400, msg);
            goto out;
        }
    }
    if (sim_fault_check(&f) != 0) {
        rc = ctl_error(r, 400, "rates must be in [0,1] and sum to at most 1");
        goto out;
    }
    sim_state_set_fault(rq->st, provider, &f);
    rc = ctl_show_faults(rq, r);
out:
    cJSON_Delete(doc);
    return rc;
}

int sim_control_handle(const struct sim_req *rq, struct sim_reply *r)
{
    const char *m = rq->method;
    cJSON *stats;

    if (strcmp(rq->path, "/_sim/health") == 0 && strcmp(m, "GET") == 0) {
        return ctl_ok(r);
    }
    if (strcmp(rq->path, "/_sim/stats") == 0 && strcmp(m, "GET") == 0) {
        stats = sim_state_stats_json(rq->st);
        return stats ? sim_reply_json(r, 200, CTL_CTYPE, stats) : -1;
    }
    if (strcmp(rq->path, "/_sim/watch") == 0 && strcmp(m, "GET") == 0) {
        stats = sim_watch_json(rq->watch);
        return stats ? sim_reply_json(r, 200, CTL_CTYPE, stats) : -1;
    }
    if (strcmp(rq->path, "/_sim/watch") == 0 && strcmp(m, "DELETE") == 0) {
        sim_watch_reset(rq->watch);
        return sim_reply_text(r, 200, CTL_CTYPE, "{\"reset\":true}");
    }
    if (strcmp(rq->path, "/_sim/stats") == 0 && strcmp(m, "DELETE") == 0) {
        sim_state_reset_stats(rq->st);
        return ctl_ok(r);
    }
    if (strcmp(rq->path, "/_sim/sessions") == 0 && strcmp(m, "DELETE") == 0) {
        sim_state_expire_sessions(rq->st); /* every login cookie (auth scheme cookie) expires */
        return ctl_ok(r);
    }
    if (strcmp(rq->path, "/_sim/faults") == 0) {
        if (strcmp(m, "POST") == 0) {
            return ctl_set_faults(rq, r);
        }
        if (strcmp(m, "DELETE") == 0) {
            sim_state_clear_faults(rq->st);
            return ctl_ok(r);
        }
        if (strcmp(m, "GET") == 0) {
            return ctl_show_faults(rq, r);
        }
        return ctl_error(r, 405, "method not allowed");
    }
    return ctl_error(r, 404, "unknown control endpoint");
}
