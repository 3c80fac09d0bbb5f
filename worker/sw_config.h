/* Worker configuration: one table of keys with types, defaults and bounds; a JSON file plus
 * SEGWORKER_* environment overrides; unknown keys (and unknown SEGWORKER_* variables) are errors;
 * kafka.* passes to librdkafka. Every value remembers where it came from, for --dump-config.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include "sw_err.h"

#include <stddef.h>
#include <stdio.h>

/* Where a value came from; later sources win. */
enum sw_config_source {
    SW_CFG_DEFAULT = 0,
    SW_CFG_FILE,
    SW_CFG_ENV,
    SW_CFG_FLAG /* a command-line option or --set */
};

#define SW_CONFIG_MAX_KEYS 96

struct sw_kv {
    char *key; /* librdkafka property name */
    char *value;
    int scope;                    /* 0 both, 1 consumer only, 2 producer only */
    enum sw_config_source source; /* where it was set */
    char *ref;                    /* the env:/file: reference it was resolved from, or NULL */
};

struct sw_config {
    char *brokers;
    char *group;
    char *jobs_topic;
    char *results_topic;
    char *dlq_topic;
    char *retry_topic;
    char *reply_to_allowed;
    char *accounts;
    char *specs_dir;
    char *delivery;
    char *http_addr;
    char *log_level;
    char *ca_file;
    char *ordering;
    char *ratelimit_mode;
    char *http_host_concurrency;
    char *transactional_id;
    char *log_format;
    long long max_in_flight;
    long long max_waiting;
    long long part_items;
    long long max_job_bytes;
    long long max_json_depth;
    long long max_correlation_bytes;
    long long max_response_bytes;
    long long max_headers;
    long long max_pages;
    long long max_list_items;
    long long max_result_bytes;
    long long retry_max_attempts;
    long long retry_base_ms;
    long long retry_max_backoff_ms;
    long long http_timeout_ms;
    long long http_connect_timeout_ms;
    long long http_max_host_connections;
    long long shutdown_grace_ms;
    long long max_in_flight_partition;
    long long retry_max_inline_ms;
    long long retry_max_park_ms;
    long long rebalance_drain_ms;
    long long transaction_commit_ms;
    long long health_max_stall_ms;
    long long health_max_broker_down_ms;
    struct sw_kv *kafka;
    size_t nkafka;
    unsigned char src[SW_CONFIG_MAX_KEYS]; /* enum sw_config_source of each key of the table */
    enum sw_config_source setting;         /* what sw_config_set records as the source */
};

/* One key of the table, for generated documentation (the man page, shell completion). */
struct sw_config_info {
    const char *key;
    const char *env;
    const char *def;     /* NULL: unset */
    const char *choices; /* an enumeration's values, "a|b"; NULL otherwise */
    const char *desc;
};

/* Defaults, then the file (path may be NULL), then the environment (an unknown SEGWORKER_*
 * variable is an error). Values set afterwards count as flags. 0 on success. */
int sw_config_load(struct sw_config *cfg, const char *path, struct sw_status *st);
/* Apply a JSON configuration document (nested objects or dotted keys) on top of cfg; origin
 * names it in errors. 0 on success. */
int sw_config_apply_text(struct sw_config *cfg, const char *text, size_t len, const char *origin,
                         struct sw_status *st);
/* Set one key from text (CLI flags use this too). 0 on success. */
int sw_config_set(struct sw_config *cfg, const char *key, const char *value, struct sw_status *st);
void sw_config_free(struct sw_config *cfg);
/* Refuse SEGWORKER_* entries of envp ("NAME=VALUE", NULL-terminated) that name no key, with the
 * closest known name. 0 when there is none. */
int sw_config_check_env(char *const *envp, struct sw_status *st);
/* The configuration reference as Markdown, generated from the table. */
void sw_config_dump_md(FILE *out);
/* The effective configuration, one `key = value  # source` line per key; secrets of kafka.*
 * properties redacted (a value from an env:/file: reference shows the reference). */
void sw_config_dump(const struct sw_config *cfg, FILE *out);
/* Where key's value came from (SW_CFG_DEFAULT for a key that does not exist). */
enum sw_config_source sw_config_source_of(const struct sw_config *cfg, const char *key);
/* The i-th key of the table into *out; 0 when there is none (i past the end). */
int sw_config_info(size_t i, struct sw_config_info *out);

#endif
