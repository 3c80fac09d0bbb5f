/* Result messages of the engine (see sw_run.h): each written by sw_result_write and offered to
 * the emitter. A job's last message is offered whatever happens: when building it fails (memory),
 * a fallback result is written into a fixed buffer instead, so that the job still ends, its key
 * is released and its offset can be committed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_redact.h"
#include "sw_run.h"
#include "sw_time.h"

#include <stdio.h>
#include <stdlib.h>
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
    int64_t now_us = sw_now_wall_us();
    int64_t total_us;

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
    sw_time_format(m->received_wall_us / 1000, 1, ts, sizeof(ts));
    p += snprintf(p, (size_t)(end - p),
                  ",\"retryable\":%s,\"provider_error\":null},\"attempts\":%d,"
                  "\"redelivered\":%s,\"timing\":{\"received_at\":\"%s\",",
                  err->cls == SW_CLASS_RETRY ? "true" : "false", m->attempts,
                  m->redelivered ? "true" : "false", ts);
    sw_time_format(now_us / 1000, 1, ts, sizeof(ts));
    total_us = now_us > m->received_wall_us ? now_us - m->received_wall_us : 0;
    now_us = now_us > m->received_wall_us ? now_us : m->received_wall_us;
    p += snprintf(p, (size_t)(end - p),
                  "\"finished_at\":\"%s\",\"queue_ms\":%ld,\"http_ms\":%ld,\"total_ms\":%lld,"
                  "\"queue_us\":%lld,\"http_us\":%lld,\"total_us\":%lld},\"correlation\":null}",
                  ts, m->queue_ms, m->http_ms,
                  (long long)(now_us / 1000 - m->received_wall_us / 1000), m->queue_us, m->http_us,
                  (long long)total_us);
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
    m->received_wall_us = r->received_wall_us;
    m->queue_ms = r->first_send_mono_ms ? (long)(r->first_send_mono_ms - r->start_mono_ms) : 0;
    m->http_ms = r->http_ms;
    m->queue_us = r->first_send_mono_us ? r->first_send_mono_us - r->start_mono_us : 0;
    m->http_us = r->http_us;
}

/* The bound of one result message: limits.max_result_bytes (an engine set up without limits, as
 * in some tests, writes up to the configuration's default). */
static size_t message_max(const struct sw_engine *eng)
{
    return eng->lim.max_result_bytes ? eng->lim.max_result_bytes : 900000;
}

/* Write and offer one message. A message over limits.max_result_bytes is never offered: the
 * broker would refuse it, and a job whose result cannot be published must still end. A last one
 * is replaced by a small failed result_too_large (without the correlation when even that is too
 * large); for any other, *why says so and the caller ends the job with it (-1). When memory runs
 * out the fixed-size fallback answers, so a last message is offered in every case. */
static int offer(struct sw_engine *eng, void *user, const struct sw_result_meta *m,
                 const cJSON *result, const struct sw_part_info *part, const struct sw_status *err,
                 const cJSON *perr, const cJSON *debug, const struct sw_account *acct,
                 struct sw_status *why)
{
    struct sw_result_meta bare;
    struct sw_part_info last;
    struct sw_status big;
    struct sw_status oom;
    struct sw_emit em;
    struct sw_jw w;
    char fb[FALLBACK_BYTES];
    size_t len = 0;
    sw_err_t wrc = SW_E_NOMEM;
    char *red = NULL;
    size_t rlen = 0;
    int rc;

    sw_jw_init(&w, message_max(eng));
    if (m->job_id) {
        wrc = sw_result_write(&w, m, result, part, err, perr, debug);
    }
    if (wrc == SW_E_RESULT_TOO_LARGE) {
        sw_status_clear(&big);
        sw_status_set(&big, SW_E_RESULT_TOO_LARGE, SW_CLASS_TERMINAL,
                      "a result message is over limits.max_result_bytes (%zu bytes)",
                      message_max(eng));
        sw_log_warn(NULL, "job %s: %s", m->job_id, big.msg);
        if (!part->last) {
            if (why) {
                *why = big;
            }
            sw_jw_free(&w);
            return -1; /* the caller ends the job, with a last message */
        }
        last = *part;
        last.items = 0;
        last.truncated = 0;
        part = &last;
        err = &big;
        sw_jw_reset(&w, 0);
        wrc = sw_result_write(&w, m, NULL, part, err, NULL, NULL);
        if (wrc == SW_E_RESULT_TOO_LARGE) {
            /* Only the correlation can still be large (it is bounded when the job is parsed,
             * but the bound may exceed a small limits.max_result_bytes). */
            bare = *m;
            bare.correlation = NULL;
            sw_jw_reset(&w, 0);
            wrc = sw_result_write(&w, &bare, NULL, part, err, NULL, NULL);
        }
    }
    /* A provider may echo the account's secrets in an item as well as in an error. */
    if (wrc == SW_E_OK) {
        red = sw_redact_dup(w.b.data, w.b.len, acct, &rlen);
        wrc = !red && rlen ? SW_E_NOMEM : SW_E_OK;
    }
    if (wrc != SW_E_OK && m->job_id && !part->last) {
        sw_jw_free(&w);
        return -1; /* the caller ends the job, with a last message */
    }
    memset(&em, 0, sizeof(em));
    em.payload = wrc != SW_E_OK ? NULL : red ? red : w.b.data;
    len = red ? rlen : w.b.len;
    if (wrc != SW_E_OK && m->job_id) {
        /* The last message could not be written: answer with what needs no memory. A success
         * that cannot be told is a failure the consumer can see. */
        if (!err) {
            sw_status_clear(&oom);
            sw_status_set(&oom, SW_E_NOMEM, SW_CLASS_RETRY,
                          "the result was produced but could not be serialized");
            err = &oom;
        }
        len = fallback(fb, sizeof(fb), m, part, err);
        em.payload = fb;
        sw_log_error(NULL, "job %s: result could not be written (%s); sent a short one", m->job_id,
                     sw_err_name(wrc));
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
    sw_jw_free(&w);
    free(red);
    return rc;
}

int sw_run_emit(struct sw_run *r, const cJSON *result, const struct sw_part_info *part,
                const struct sw_status *err, const cJSON *perr)
{
    struct sw_result_meta m;
    int rc;

    fill_meta(r, &m);
    sw_status_clear(&r->emit_err);
    rc = offer(r->eng, r->user, &m, result, part, err, perr,
               r->job->format == SW_FMT_DEBUG ? r->debug : NULL, r->acct, &r->emit_err);
    sw_debug_emitted(r); /* the next message carries the exchanges after this one */
    return rc;
}

void sw_emit_rejected(struct sw_engine *eng, const struct sw_job *job, const struct sw_status *st,
                      void *user, int64_t received_wall_us)
{
    struct sw_result_meta m;
    struct sw_part_info part = {0, 0, 1, 0, 0, NULL};

    memset(&m, 0, sizeof(m));
    m.job_id = job ? job->job_id : NULL;
    m.operation = job ? job->operation : NULL;
    m.provider = job ? job->provider : NULL;
    m.account = job ? job->account : NULL;
    m.response_format = job && job->format != SW_FMT_UNIFIED ? sw_format_name(job->format) : NULL;
    m.correlation = job ? job->correlation : NULL;
    m.received_wall_us = received_wall_us;
    sw_metrics_job_done(eng->metrics, m.provider, m.operation, st->code);
    offer(eng, user, &m, NULL, &part, st, NULL, NULL, NULL, NULL);
}
