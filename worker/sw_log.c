/* Log lines (see sw_log.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_time.h"

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum sw_log_level min_level = SW_LOG_INFO;
static enum sw_log_format format = SW_LOG_JSON;
static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void sw_log_set_level(enum sw_log_level level)
{
    min_level = level;
}

int sw_log_enabled(enum sw_log_level level)
{
    return level >= min_level;
}

void sw_log_set_format(enum sw_log_format f)
{
    format = f;
}

int sw_log_format_parse(const char *s, enum sw_log_format *out)
{
    if (!strcmp(s, "json") || !strcmp(s, "text")) {
        *out = s[0] == 'j' ? SW_LOG_JSON : SW_LOG_TEXT;
        return 0;
    }
    return -1;
}

void sw_log_kafka(const struct rd_kafka_s *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug. */
    enum sw_log_level lvl = level <= 3   ? SW_LOG_ERROR
                            : level == 4 ? SW_LOG_WARN
                            : level <= 6 ? SW_LOG_INFO
                                         : SW_LOG_DEBUG;

    if (sw_log_enabled(lvl)) {
        sw_log_write(lvl, NULL, "kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
    }
}

int sw_log_level_parse(const char *s, enum sw_log_level *out)
{
    int i;

    for (i = 0; i <= SW_LOG_OFF; i++) {
        if (!strcmp(s, level_names[i])) {
            *out = (enum sw_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* ts level msg key=value...: for people at a terminal; the fields are the JSON line's. */
static void write_text(enum sw_log_level level, const char *ts, const char *msg,
                       const struct sw_log_ctx *ctx)
{
    char extra[512] = "";
    size_t n = 0;

    if (ctx && ctx->job_id) {
        n += (size_t)snprintf(extra + n, sizeof(extra) - n, " job_id=%s", ctx->job_id);
    }
    if (ctx && ctx->provider && n < sizeof(extra)) {
        n += (size_t)snprintf(extra + n, sizeof(extra) - n, " provider=%s", ctx->provider);
    }
    if (ctx && ctx->operation && n < sizeof(extra)) {
        n += (size_t)snprintf(extra + n, sizeof(extra) - n, " operation=%s", ctx->operation);
    }
    if (ctx && ctx->attempt && n < sizeof(extra)) {
        snprintf(extra + n, sizeof(extra) - n, " attempt=%d", ctx->attempt);
    }
    fprintf(stderr, "%s %-5s %s%s\n", ts, level_names[level], msg, extra);
}

void sw_log_write(enum sw_log_level level, const struct sw_log_ctx *ctx, const char *fmt, ...)
{
    char msg[1024];
    char ts[40];
    cJSON *o;
    char *line;
    va_list ap;

    if (level < min_level || level >= SW_LOG_OFF) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sw_time_format(sw_now_wall_ms(), 1, ts, sizeof(ts));
    if (format == SW_LOG_TEXT) {
        write_text(level, ts, msg, ctx);
        return;
    }
    o = cJSON_CreateObject();
    if (!o) {
        return;
    }
    cJSON_AddStringToObject(o, "ts", ts);
    cJSON_AddStringToObject(o, "level", level_names[level]);
    cJSON_AddStringToObject(o, "msg", msg);
    if (ctx) {
        if (ctx->job_id) {
            cJSON_AddStringToObject(o, "job_id", ctx->job_id);
        }
        if (ctx->provider) {
            cJSON_AddStringToObject(o, "provider", ctx->provider);
        }
        if (ctx->operation) {
            cJSON_AddStringToObject(o, "operation", ctx->operation);
        }
        if (ctx->attempt) {
            cJSON_AddNumberToObject(o, "attempt", ctx->attempt);
        }
    }
    line = cJSON_PrintUnformatted(o);
    if (line) {
        fprintf(stderr, "%s\n", line);
        cJSON_free(line);
    }
    cJSON_Delete(o);
}
