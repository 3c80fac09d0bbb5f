/* Result envelope (see sw_result.h): written straight into the caller's writer, field by field,
 * in the order and bytes cJSON would print them; the borrowed trees (result, provider error,
 * debug) are written as they are walked, never copied or printed twice.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_result.h"
#include "sw_time.h"

static void str_or_null(struct sw_jw *w, const char *k, const char *v)
{
    sw_jw_key(w, k);
    if (v) {
        sw_jw_str(w, v);
    } else {
        sw_jw_null(w);
    }
}

static void int_field(struct sw_jw *w, const char *k, long long v)
{
    sw_jw_key(w, k);
    sw_jw_int(w, v);
}

static void part_obj(struct sw_jw *w, const struct sw_part_info *part)
{
    sw_jw_key(w, "part");
    sw_jw_obj(w);
    int_field(w, "index", part->index);
    int_field(w, "items", part->items);
    sw_jw_key(w, "last");
    sw_jw_bool(w, part->last);
    if (part->last) {
        int_field(w, "total_items", part->total_items);
    }
    if (part->truncated) {
        sw_jw_key(w, "truncated");
        sw_jw_bool(w, 1);
    }
    sw_jw_obj_end(w);
}

static void error_obj(struct sw_jw *w, const struct sw_status *err, const cJSON *provider_error)
{
    sw_jw_key(w, "error");
    if (!err) {
        sw_jw_null(w);
        return;
    }
    sw_jw_obj(w);
    sw_jw_key(w, "code");
    sw_jw_str(w, sw_err_name(err->code));
    sw_jw_key(w, "message");
    sw_jw_str(w, err->msg[0] ? err->msg : sw_err_str(err->code));
    sw_jw_key(w, "http_status");
    if (err->http_status) {
        sw_jw_int(w, err->http_status);
    } else {
        sw_jw_null(w);
    }
    sw_jw_key(w, "retryable");
    sw_jw_bool(w, err->cls == SW_CLASS_RETRY);
    sw_jw_key(w, "provider_error");
    sw_jw_cjson(w, provider_error);
    sw_jw_obj_end(w);
}

/* The ms fields as they always were (whole milliseconds of the two timestamps shown); the us
 * fields beside them, for the sub-millisecond latencies the ms ones round away. */
static void timing_obj(struct sw_jw *w, const struct sw_result_meta *m)
{
    int64_t now_us = sw_now_wall_us();
    int64_t now = now_us / 1000;
    int64_t recv = m->received_wall_us / 1000;
    char ts[40];

    sw_jw_key(w, "timing");
    sw_jw_obj(w);
    sw_time_format(recv, 1, ts, sizeof(ts));
    sw_jw_key(w, "received_at");
    sw_jw_str(w, ts);
    sw_time_format(now, 1, ts, sizeof(ts));
    sw_jw_key(w, "finished_at");
    sw_jw_str(w, ts);
    int_field(w, "queue_ms", m->queue_ms);
    int_field(w, "http_ms", m->http_ms);
    int_field(w, "total_ms", now > recv ? now - recv : 0);
    int_field(w, "queue_us", m->queue_us);
    int_field(w, "http_us", m->http_us);
    int_field(w, "total_us", now_us > m->received_wall_us ? now_us - m->received_wall_us : 0);
    sw_jw_obj_end(w);
}

sw_err_t sw_result_write(struct sw_jw *w, const struct sw_result_meta *m, const cJSON *result,
                         const struct sw_part_info *part, const struct sw_status *err,
                         const cJSON *provider_error, const cJSON *debug)
{
    sw_jw_obj(w);
    str_or_null(w, "job_id", m->job_id);
    str_or_null(w, "operation", m->operation);
    str_or_null(w, "provider", m->provider);
    str_or_null(w, "account", m->account);
    sw_jw_key(w, "status");
    sw_jw_str(w, err ? "failed" : "succeeded");
    if (m->response_format) {
        sw_jw_key(w, "response_format");
        sw_jw_str(w, m->response_format);
    }
    sw_jw_key(w, "result");
    sw_jw_cjson(w, err ? NULL : result);
    part_obj(w, part);
    error_obj(w, err, provider_error);
    int_field(w, "attempts", m->attempts);
    sw_jw_key(w, "redelivered");
    sw_jw_bool(w, m->redelivered);
    timing_obj(w, m);
    sw_jw_key(w, "correlation");
    sw_jw_cjson(w, m->correlation);
    if (part->resume) {
        sw_jw_key(w, "resume");
        sw_jw_cjson(w, part->resume);
    }
    if (debug) {
        sw_jw_key(w, "debug");
        sw_jw_cjson(w, debug);
    }
    sw_jw_obj_end(w);
    return sw_jw_error(w);
}
