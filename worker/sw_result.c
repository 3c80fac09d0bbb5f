/* Result envelope (see sw_result.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_result.h"
#include "sw_time.h"

#include <stdlib.h>
#include <string.h>

static int add_str_or_null(cJSON *o, const char *k, const char *v)
{
    return v ? cJSON_AddStringToObject(o, k, v) != NULL : cJSON_AddNullToObject(o, k) != NULL;
}

/* Attach a borrowed tree without copying it: lists can be large and are serialized once. */
static int add_ref_or_null(cJSON *o, const char *k, const cJSON *v)
{
    if (!v) {
        return cJSON_AddNullToObject(o, k) != NULL;
    }
    return cJSON_AddItemReferenceToObject(o, k, (cJSON *)v) ? 1 : 0;
}

static int retryable(const struct sw_status *err)
{
    return err->cls == SW_CLASS_RETRY;
}

char *sw_result_build(const struct sw_result_meta *m, const cJSON *result,
                      const struct sw_part_info *part, const struct sw_status *err,
                      const cJSON *provider_error, const cJSON *debug, size_t *len)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *p;
    cJSON *e;
    cJSON *t;
    char ts[40];
    int64_t now = sw_now_wall_ms();
    char *out = NULL;
    int ok;

    if (!o) {
        return NULL;
    }
    ok = add_str_or_null(o, "job_id", m->job_id) && add_str_or_null(o, "operation", m->operation) &&
         add_str_or_null(o, "provider", m->provider) && add_str_or_null(o, "account", m->account) &&
         cJSON_AddStringToObject(o, "status", err ? "failed" : "succeeded") &&
         (!m->response_format ||
          cJSON_AddStringToObject(o, "response_format", m->response_format)) &&
         add_ref_or_null(o, "result", err ? NULL : result);
    p = ok ? cJSON_AddObjectToObject(o, "part") : NULL;
    ok = p && cJSON_AddNumberToObject(p, "index", part->index) &&
         cJSON_AddNumberToObject(p, "items", part->items) &&
         cJSON_AddBoolToObject(p, "last", part->last);
    if (ok && part->last) {
        ok = cJSON_AddNumberToObject(p, "total_items", (double)part->total_items) != NULL;
    }
    if (ok && part->truncated) {
        ok = cJSON_AddTrueToObject(p, "truncated") != NULL;
    }
    if (ok && err) {
        e = cJSON_AddObjectToObject(o, "error");
        ok = e && cJSON_AddStringToObject(e, "code", sw_err_name(err->code)) &&
             cJSON_AddStringToObject(e, "message", err->msg[0] ? err->msg : sw_err_str(err->code));
        if (ok) {
            ok = err->http_status
                     ? cJSON_AddNumberToObject(e, "http_status", err->http_status) != NULL
                     : cJSON_AddNullToObject(e, "http_status") != NULL;
        }
        ok = ok && cJSON_AddBoolToObject(e, "retryable", retryable(err)) &&
             add_ref_or_null(e, "provider_error", provider_error);
    } else if (ok) {
        ok = cJSON_AddNullToObject(o, "error") != NULL;
    }
    ok = ok && cJSON_AddNumberToObject(o, "attempts", m->attempts) &&
         cJSON_AddBoolToObject(o, "redelivered", m->redelivered);
    t = ok ? cJSON_AddObjectToObject(o, "timing") : NULL;
    if (t) {
        sw_time_format(m->received_wall_ms, 1, ts, sizeof(ts));
        ok = cJSON_AddStringToObject(t, "received_at", ts) != NULL;
        sw_time_format(now, 1, ts, sizeof(ts));
        ok =
            ok && cJSON_AddStringToObject(t, "finished_at", ts) &&
            cJSON_AddNumberToObject(t, "queue_ms", m->queue_ms) &&
            cJSON_AddNumberToObject(t, "http_ms", m->http_ms) &&
            cJSON_AddNumberToObject(
                t, "total_ms", (double)(now > m->received_wall_ms ? now - m->received_wall_ms : 0));
    } else {
        ok = 0;
    }
    ok = ok && add_ref_or_null(o, "correlation", m->correlation);
    if (ok && debug) {
        ok = add_ref_or_null(o, "debug", debug);
    }
    if (ok) {
        out = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(o);
    if (out && len) {
        *len = strlen(out);
    }
    return out;
}
