/* Structured log lines on stderr (JSON, or text for a terminal), with the job's identity
 * attached; never payloads. librdkafka's own log lines are routed here too (sw_log_kafka).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_LOG_H
#define SW_LOG_H

enum sw_log_level { SW_LOG_DEBUG = 0, SW_LOG_INFO, SW_LOG_WARN, SW_LOG_ERROR, SW_LOG_OFF };
enum sw_log_format { SW_LOG_JSON = 0, SW_LOG_TEXT };

struct rd_kafka_s;

/* Identity of the job a line is about; any field may be NULL. */
struct sw_log_ctx {
    const char *job_id;
    const char *provider;
    const char *operation;
    int attempt;
};

/* Set once by main before any other thread exists; the only process-wide logging state. */
void sw_log_set_level(enum sw_log_level level);
int sw_log_level_parse(const char *s, enum sw_log_level *out);
int sw_log_enabled(enum sw_log_level level);
/* Set once by main, like the level. */
void sw_log_set_format(enum sw_log_format format);
int sw_log_format_parse(const char *s, enum sw_log_format *out);

/* A librdkafka log callback (rd_kafka_conf_set_log_cb): its syslog levels mapped onto ours, the
 * client and facility named, so its lines never reach the terminal raw. */
void sw_log_kafka(const struct rd_kafka_s *rk, int level, const char *fac, const char *buf);

void sw_log_write(enum sw_log_level level, const struct sw_log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sw_log_debug(ctx, ...)                                                                     \
    do {                                                                                           \
        if (sw_log_enabled(SW_LOG_DEBUG)) {                                                        \
            sw_log_write(SW_LOG_DEBUG, (ctx), __VA_ARGS__);                                        \
        }                                                                                          \
    } while (0)
#define sw_log_info(ctx, ...)  sw_log_write(SW_LOG_INFO, (ctx), __VA_ARGS__)
#define sw_log_warn(ctx, ...)  sw_log_write(SW_LOG_WARN, (ctx), __VA_ARGS__)
#define sw_log_error(ctx, ...) sw_log_write(SW_LOG_ERROR, (ctx), __VA_ARGS__)

#endif
