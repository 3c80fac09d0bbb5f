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

/* Integers as raw JSON text: cJSON prints every number with "%1.15g" and reads it back with
 * sscanf to check the round trip, which cost more than the rest of the envelope. */
static cJSON *add_int(cJSON *o, const char *k, long long v)
{
    char buf[24];
    char *p = buf + sizeof(buf) - 1;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    *p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    return cJSON_AddRawToObject(o, k, p);
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
    ok = p && add_int(p, "index", part->index) && add_int(p, "items", part->items) &&
         cJSON_AddBoolToObject(p, "last", part->last);
    if (ok && part->last) {
        ok = add_int(p, "total_items", part->total_items) != NULL;
    }
    if (ok && part->truncated) {
        ok = cJSON_AddTrueToObject(p, "truncated") != NULL;
    }
    if (ok && err) {
        e = cJSON_AddObjectToObject(o, "error");
        ok = e && cJSON_AddStringToObject(e, "code", sw_err_name(err->code)) &&
             cJSON_AddStringToObject(e, "message", err->msg[0] ? err->msg : sw_err_str(err->code));
        if (ok) {
            ok = err->http_status ? add_int(e, "http_status", err->http_status) != NULL
                                  : cJSON_AddNullToObject(e, "http_status") != NULL;
        }
        ok = ok && cJSON_AddBoolToObject(e, "retryable", retryable(err)) &&
             add_ref_or_null(e, "provider_error", provider_error);
    } else if (ok) {
        ok = cJSON_AddNullToObject(o, "error") != NULL;
    }
    ok = ok && add_int(o, "attempts", m->attempts) &&
         cJSON_AddBoolToObject(o, "redelivered", m->redelivered);
    t = ok ? cJSON_AddObjectToObject(o, "timing") : NULL;
    if (t) {
        sw_time_format(m->received_wall_ms, 1, ts, sizeof(ts));
        ok = cJSON_AddStringToObject(t, "received_at", ts) != NULL;
        sw_time_format(now, 1, ts, sizeof(ts));
        ok = ok && cJSON_AddStringToObject(t, "finished_at", ts) &&
             add_int(t, "queue_ms", m->queue_ms) && add_int(t, "http_ms", m->http_ms) &&
             add_int(t, "total_ms", now > m->received_wall_ms ? now - m->received_wall_ms : 0);
    } else {
        ok = 0;
    }
    ok = ok && add_ref_or_null(o, "correlation", m->correlation);
    if (ok && part->resume) {
        ok = add_ref_or_null(o, "resume", part->resume);
    }
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
