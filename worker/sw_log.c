/* JSON log lines (see sw_log.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_redact.h"
#include "sw_time.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum sw_log_level min_level = SW_LOG_INFO;

void sw_log_set_level(enum sw_log_level level)
{
    min_level = level;
}

int sw_log_enabled(enum sw_log_level level)
{
    return level >= min_level;
}

int sw_log_level_parse(const char *s, enum sw_log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    int i;

    for (i = 0; i <= SW_LOG_OFF; i++) {
        if (!strcmp(s, names[i])) {
            *out = (enum sw_log_level)i;
            return 0;
        }
    }
    return -1;
}

void sw_log_write(enum sw_log_level level, const struct sw_log_ctx *ctx, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
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
    /* Whatever a line quotes (a provider's error, a broker's message), no credential value;
     * the account's own secrets are redacted where the account is known (sw_run.c). */
    sw_redact_buf(msg, sizeof(msg), NULL);
    sw_time_format(sw_now_wall_ms(), 1, ts, sizeof(ts));
    o = cJSON_CreateObject();
    if (!o) {
        return;
    }
    cJSON_AddStringToObject(o, "ts", ts);
    cJSON_AddStringToObject(o, "level", names[level]);
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
