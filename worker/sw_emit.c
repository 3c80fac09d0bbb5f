/* Result messages of the engine (see sw_run.h): each built by sw_result_build and offered to the
 * emitter. A job's last message is offered whatever happens: when building it fails (memory),
 * a fallback result is written into a fixed buffer instead, so that the job still ends, its key
 * is released and its offset can be committed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_run.h"
#include "sw_time.h"

#include <stdio.h>
#include <string.h>

/* Room for the fallback result: every field bounded below (ids 200 bytes each, escaped at most
 * 6 bytes a byte; the message 384). */
#define FALLBACK_BYTES 8192

/* Append s as a JSON string (or null) at *p, never past end. */
static void put_str(char **p, char *end, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    if (!s) {
        *p += snprintf(*p, (size_t)(end - *p), "null");
        return;
    }
    if (end - *p < 8) {
        return;
    }
    *(*p)++ = '"';
    for (; *s && n < 400 && end - *p > 8; s++, n++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            *(*p)++ = '\\';
            *(*p)++ = (char)c;
        } else if (c < 0x20) {
            *(*p)++ = '\\';
            *(*p)++ = 'u';
            *(*p)++ = '0';
            *(*p)++ = '0';
            *(*p)++ = hex[c >> 4];
            *(*p)++ = hex[c & 15];
        } else {
            *(*p)++ = (char)c;
        }
    }
    *(*p)++ = '"';
    **p = '\0';
}

/* A complete failed result that needs no allocation. */
static size_t fallback(char *buf, size_t cap, const struct sw_result_meta *m,
                       const struct sw_part_info *part, const struct sw_status *err)
{
    char *p = buf;
    char *end = buf + cap - 1;
    char ts[40];
    char msg[512];
    int64_t now = sw_now_wall_ms();

    snprintf(msg, sizeof(msg), "%s (the full result could not be built: out of memory)",
             err->msg[0] ? err->msg : sw_err_str(err->code));
    p += snprintf(p, (size_t)(end - p), "{\"job_id\":");
    put_str(&p, end, m->job_id);
    p += snprintf(p, (size_t)(end - p), ",\"operation\":");
    put_str(&p, end, m->operation);
    p += snprintf(p, (size_t)(end - p), ",\"provider\":");
    put_str(&p, end, m->provider);
    p += snprintf(p, (size_t)(end - p), ",\"account\":");
    put_str(&p, end, m->account);
    if (m->response_format) {
        p += snprintf(p, (size_t)(end - p), ",\"response_format\":");
        put_str(&p, end, m->response_format);
    }
    p += snprintf(p, (size_t)(end - p),
                  ",\"status\":\"failed\",\"result\":null,\"part\":{\"index\":%d,\"items\":0,"
                  "\"last\":true,\"total_items\":%lld},\"error\":{\"code\":\"%s\",\"message\":",
                  part->index, part->total_items, sw_err_name(err->code));
    put_str(&p, end, msg);
    if (err->http_status) {
        p += snprintf(p, (size_t)(end - p), ",\"http_status\":%d", err->http_status);
    } else {
        p += snprintf(p, (size_t)(end - p), ",\"http_status\":null");
    }
    sw_time_format(m->received_wall_ms, 1, ts, sizeof(ts));
    p += snprintf(p, (size_t)(end - p),
                  ",\"retryable\":%s,\"provider_error\":null},\"attempts\":%d,"
                  "\"redelivered\":%s,\"timing\":{\"received_at\":\"%s\",",
                  err->cls == SW_CLASS_RETRY ? "true" : "false", m->attempts,
                  m->redelivered ? "true" : "false", ts);
    sw_time_format(now, 1, ts, sizeof(ts));
    p += snprintf(p, (size_t)(end - p),
                  "\"finished_at\":\"%s\",\"queue_ms\":%ld,\"http_ms\":%ld,\"total_ms\":%lld},"
                  "\"correlation\":null}",
                  ts, m->queue_ms, m->http_ms,
                  (long long)(now > m->received_wall_ms ? now - m->received_wall_ms : 0));
    return p < end ? (size_t)(p - buf) : strlen(buf);
}

static void fill_meta(const struct sw_run *r, struct sw_result_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->job_id = r->job->job_id;
    m->operation = r->job->operation;
    m->provider = r->job->provider;
    m->account = r->job->account;
    m->response_format = r->job->format != SW_FMT_UNIFIED ? sw_format_name(r->job->format) : NULL;
    m->correlation = r->job->correlation;
    m->attempts = r->max_attempt;
    m->redelivered = r->redelivered;
    m->received_wall_ms = r->received_wall_ms;
    m->queue_ms = r->first_send_mono_ms ? (long)(r->first_send_mono_ms - r->start_mono_ms) : 0;
    m->http_ms = r->http_ms;
}

/* A message over limits.max_result_bytes is never offered: the broker would refuse it, and a
 * job whose result cannot be published must still end. A last one is replaced by a small failed
 * result that names the sizes (the job also goes to the DLQ); for any other, *too_big says why
 * and the caller ends the job with it. Returns the payload to offer (maybe a replacement). */
static char *fit(const struct sw_engine *eng, const struct sw_result_meta *m, char *payload,
                 size_t *len, const struct sw_part_info **part, struct sw_part_info *last,
                 const struct sw_status **err, struct sw_status *too_big)
{
    struct sw_result_meta bare;

    if (!payload || *len <= eng->lim.max_result_bytes) {
        return payload;
    }
    cJSON_free(payload);
    sw_status_set(too_big, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                  "a result message of %zu bytes is over limits.max_result_bytes (%zu)", *len,
                  eng->lim.max_result_bytes);
    sw_log_warn(NULL, "job %s: %s", m->job_id, too_big->msg);
    if (!(*part)->last) {
        return NULL;
    }
    *last = **part;
    last->items = 0;
    last->truncated = 0;
    *part = last;
    *err = too_big;
    payload = sw_result_build(m, NULL, last, too_big, NULL, NULL, len);
    if (payload && *len > eng->lim.max_result_bytes) {
        /* Only the correlation can still be large (it is bounded when the job is parsed, but
         * the bound may exceed a small limits.max_result_bytes). */
        cJSON_free(payload);
        bare = *m;
        bare.correlation = NULL;
        payload = sw_result_build(&bare, NULL, last, too_big, NULL, NULL, len);
    }
    return payload;
}

/* Build and offer one message. A last message is offered in every case; another that cannot be
 * built returns -1, with why set when it was too large. */
static int offer(struct sw_engine *eng, void *user, const struct sw_result_meta *m,
                 const cJSON *result, const struct sw_part_info *part, const struct sw_status *err,
                 const cJSON *perr, const cJSON *debug, struct sw_status *why)
{
    struct sw_status oom;
    struct sw_status too_big;
    struct sw_part_info last;
    struct sw_emit em;
    char fb[FALLBACK_BYTES];
    size_t len = 0;
    char *payload = m->job_id ? sw_result_build(m, result, part, err, perr, debug, &len) : NULL;
    int rc;

    sw_status_clear(&too_big);
    payload = fit(eng, m, payload, &len, &part, &last, &err, &too_big);
    if (!payload && m->job_id && !part->last) {
        if (why && too_big.code) {
            *why = too_big;
        }
        return -1; /* the caller ends the job, with a last message */
    }
    memset(&em, 0, sizeof(em));
    em.payload = payload;
    if (!payload && m->job_id) {
        /* The last message could not be built: answer with what needs no memory. A success that
         * cannot be told is a failure the consumer can see. */
        if (!err) {
            sw_status_clear(&oom);
            sw_status_set(&oom, SW_E_NOMEM, SW_CLASS_RETRY,
                          "the result was produced but could not be serialized");
            err = &oom;
        }
        len = fallback(fb, sizeof(fb), m, part, err);
        em.payload = fb;
        sw_log_error(NULL, "job %s: result could not be built (out of memory); sent a short one",
                     m->job_id);
    }
    em.user = user;
    em.job_id = m->job_id;
    em.len = len;
    em.last = part->last;
    em.succeeded = err == NULL;
    em.code = err ? err->code : SW_E_OK;
    em.http_status = err ? err->http_status : 0;
    em.dead_letter = err ? err->dead_letter : 0;
    em.message = err ? err->msg : NULL;
    rc = eng->emit(eng->emit_arg, &em);
    cJSON_free(payload);
    return rc;
}

int sw_run_emit(struct sw_run *r, const cJSON *result, const struct sw_part_info *part,
                const struct sw_status *err, const cJSON *perr)
{
    struct sw_result_meta m;

    fill_meta(r, &m);
    sw_status_clear(&r->emit_err);
    return offer(r->eng, r->user, &m, result, part, err, perr,
                 r->job->format == SW_FMT_DEBUG ? r->debug : NULL, &r->emit_err);
}

void sw_emit_rejected(struct sw_engine *eng, const struct sw_job *job, const struct sw_status *st,
                      void *user, int64_t received_wall_ms)
{
    struct sw_result_meta m;
    struct sw_part_info part = {0, 0, 1, 0, 0};

    memset(&m, 0, sizeof(m));
    m.job_id = job ? job->job_id : NULL;
    m.operation = job ? job->operation : NULL;
    m.provider = job ? job->provider : NULL;
    m.account = job ? job->account : NULL;
    m.response_format = job && job->format != SW_FMT_UNIFIED ? sw_format_name(job->format) : NULL;
    m.correlation = job ? job->correlation : NULL;
    m.received_wall_ms = received_wall_ms;
    sw_metrics_job_done(eng->metrics, m.provider, m.operation, st->code);
    offer(eng, user, &m, NULL, &part, st, NULL, NULL, NULL);
}
