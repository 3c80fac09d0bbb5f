/* Configuration table and loader (see sw_config.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_config.h"
#include "sw_accounts.h"
#include "sw_json.h"
#include "sw_suggest.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

extern char **environ; /* POSIX: the program declares it */

enum cfg_type { CFG_STR, CFG_INT, CFG_ENUM };

struct cfg_entry {
    const char *key;
    const char *env;
    enum cfg_type type;
    const char *def; /* NULL: unset */
    long long min;
    long long max;
    const char *choices; /* CFG_ENUM: "a|b" */
    size_t off;
    const char *desc;
};

#define S(f) offsetof(struct sw_config, f)
#define KB   1024LL
#define MB   (1024LL * 1024LL)

static const struct cfg_entry table[] = {
    {"brokers", "SEGWORKER_BROKERS", CFG_STR, "127.0.0.1:9092", 0, 0, NULL, S(brokers),
     "Kafka bootstrap servers (host:port, comma separated)."},
    {"group", "SEGWORKER_GROUP", CFG_STR, "segworker", 0, 0, NULL, S(group),
     "Consumer group id shared by all workers of one deployment."},
    {"topics.jobs", "SEGWORKER_JOBS_TOPIC", CFG_STR, "segment-jobs", 0, 0, NULL, S(jobs_topic),
     "Topic the jobs are consumed from."},
    {"topics.results", "SEGWORKER_RESULTS_TOPIC", CFG_STR, "segment-results", 0, 0, NULL,
     S(results_topic), "Topic results are published to (unless a job's reply_to is allowed)."},
    {"topics.dlq", "SEGWORKER_DLQ_TOPIC", CFG_STR, "segment-jobs.dlq", 0, 0, NULL, S(dlq_topic),
     "Dead-letter topic for messages that are not valid jobs or could not be processed."},
    {"topics.retry", "SEGWORKER_RETRY_TOPIC", CFG_STR, "segment-jobs.retry", 0, 0, NULL,
     S(retry_topic),
     "Topic a job is parked in when its next retry is further away than retry.max_inline_ms "
     "(empty: never park). Workers consume it beside topics.jobs."},
    {"topics.reply_allowed", "SEGWORKER_REPLY_ALLOWED", CFG_STR, "", 0, 0, NULL,
     S(reply_to_allowed),
     "Comma-separated topics a job may name in reply_to, besides topics.results."},
    {"accounts", "SEGWORKER_ACCOUNTS", CFG_STR, NULL, 0, 0, NULL, S(accounts),
     "Path of the account store (JSON). Required."},
    {"specs_dir", "SEGWORKER_SPECS_DIR", CFG_STR, NULL, 0, 0, NULL, S(specs_dir),
     "Directory of provider spec files to use instead of the built-in ones."},
    {"delivery", "SEGWORKER_DELIVERY", CFG_ENUM, "at-least-once", 0, 0,
     "at-least-once|transactional", S(delivery),
     "Delivery guarantee for results. transactional: results, dead letters and consumed offsets "
     "are committed in one Kafka transaction (readers use isolation.level=read_committed)."},
    {"transaction.id", "SEGWORKER_TRANSACTIONAL_ID", CFG_STR, NULL, 0, 0, NULL, S(transactional_id),
     "transactional.id of this worker (delivery=transactional); keep it stable across restarts "
     "so a restart fences and aborts what the crashed instance left open. Default: "
     "<group>-<hostname>."},
    {"transaction.commit_ms", "SEGWORKER_TRANSACTION_COMMIT_MS", CFG_INT, "100", 1, 60000, NULL,
     S(transaction_commit_ms),
     "delivery=transactional: how often the open transaction is committed (results become "
     "visible to read_committed readers then)."},
    {"http_addr", "SEGWORKER_HTTP_ADDR", CFG_STR, "", 0, 0, NULL, S(http_addr),
     "Admin listener for GET /metrics, /healthz and /readyz: host:port, [ipv6]:port or :port "
     "(every interface); port 0 picks a free one (logged). Empty: no listener."},
    {"log_level", "SEGWORKER_LOG_LEVEL", CFG_ENUM, "info", 0, 0, "debug|info|warn|error|off",
     S(log_level), "Minimum level of the log lines on stderr."},
    {"log_format", "SEGWORKER_LOG_FORMAT", CFG_ENUM, "json", 0, 0, "json|text", S(log_format),
     "Log lines on stderr: json (one object per line, for collectors) or text (for a terminal). "
     "librdkafka's own lines go through the same logger."},
    {"http.ca_file", "SEGWORKER_CA_FILE", CFG_STR, NULL, 0, 0, NULL, S(ca_file),
     "Operator-only CA bundle for provider TLS; verification always stays on."},
    {"worker.max_in_flight", "SEGWORKER_MAX_IN_FLIGHT", CFG_INT, "1000", 1, 100000, NULL,
     S(max_in_flight),
     "Jobs running at once (not counting those waiting for a rate limit or behind a job of "
     "their key that does, see worker.max_waiting); the consumer pauses at this bound."},
    {"worker.max_waiting", "SEGWORKER_MAX_WAITING", CFG_INT, "1000", 1, 1000000, NULL,
     S(max_waiting),
     "Jobs in flight that only wait (for a provider's rate limit, behind their key, for their "
     "result's acknowledgement). They do not hold worker.max_in_flight, so one rate-limited "
     "account does not stall the others; past this bound the consumer pauses. Memory: each "
     "holds its message (up to limits.max_job_bytes). Jobs queued here when a partition is "
     "revoked or the worker stops get rebalance.drain_ms or shutdown.grace_ms to finish, so a "
     "deeper queue makes a rebalance more likely to hand finished work over to be done again."},
    {"worker.max_in_flight_per_partition", "SEGWORKER_MAX_IN_FLIGHT_PER_PARTITION", CFG_INT,
     "100000", 1, 100000, NULL, S(max_in_flight_partition),
     "Jobs of one partition in flight (running or waiting behind their key) before that "
     "partition pauses at once; bounds how far other keys run ahead of a slow one. The default "
     "leaves it to worker.max_in_flight: a pause/resume costs 0.5-1 s in librdkafka 2.0.2, which "
     "a small per-partition window on a busy partition pays over and over."},
    {"worker.ordering", "SEGWORKER_ORDERING", CFG_ENUM, "key", 0, 0, "key|partition|none",
     S(ordering),
     "key: jobs with the same message key run one at a time in offset order (keyless jobs run "
     "freely); partition: one job at a time per partition; none: no ordering."},
    {"ratelimit.mode", "SEGWORKER_RATELIMIT_MODE", CFG_ENUM, "spec", 0, 0, "spec|adaptive|off",
     S(ratelimit_mode),
     "spec: the specs' stated limits, refined by RateLimit headers and 429s; adaptive: ignore "
     "the stated limits and learn them from headers and 429s; off: no client-side limits."},
    {"worker.part_items", "SEGWORKER_PART_ITEMS", CFG_INT, "100", 1, 100000, NULL, S(part_items),
     "Items per result part of a list."},
    {"limits.max_job_bytes", "SEGWORKER_MAX_JOB_BYTES", CFG_INT, "262144", 256, 64 * MB, NULL,
     S(max_job_bytes), "Largest job message accepted; larger ones go to the DLQ."},
    {"limits.max_json_depth", "SEGWORKER_MAX_JSON_DEPTH", CFG_INT, "32", 4, 512, NULL,
     S(max_json_depth), "Deepest nesting accepted in a job or a provider answer."},
    {"limits.max_correlation_bytes", "SEGWORKER_MAX_CORRELATION_BYTES", CFG_INT, "16384", 256,
     1 * MB, NULL, S(max_correlation_bytes),
     "Largest correlation object a job may carry (as printed; it is copied into every result "
     "message, so at most a quarter of limits.max_result_bytes applies). A larger one makes the "
     "job invalid_job, answered without it."},
    {"limits.max_response_bytes", "SEGWORKER_MAX_RESPONSE_BYTES", CFG_INT, "16777216", 1024,
     1024 * MB, NULL, S(max_response_bytes), "Largest provider response body accepted."},
    {"limits.max_headers", "SEGWORKER_MAX_HEADERS", CFG_INT, "100", 8, 10000, NULL, S(max_headers),
     "Most response headers accepted from a provider."},
    {"limits.max_pages", "SEGWORKER_MAX_PAGES", CFG_INT, "10000", 1, 10000000, NULL, S(max_pages),
     "Most pages one list job may fetch; more is result_too_large."},
    {"limits.max_list_items", "SEGWORKER_MAX_LIST_ITEMS", CFG_INT, "10000000", 1, 1000000000, NULL,
     S(max_list_items), "Most items one list job may return; more is result_too_large."},
    {"limits.max_result_bytes", "SEGWORKER_MAX_RESULT_BYTES", CFG_INT, "900000", 4 * KB, 100 * MB,
     NULL, S(max_result_bytes),
     "Largest result message; keep it under the broker's message.max.bytes."},
    {"retry.max_attempts", "SEGWORKER_RETRY_MAX_ATTEMPTS", CFG_INT, "5", 1, 100, NULL,
     S(retry_max_attempts), "Default tries per request (a job's options.max_attempts overrides)."},
    {"retry.base_ms", "SEGWORKER_RETRY_BASE_MS", CFG_INT, "200", 1, 600000, NULL, S(retry_base_ms),
     "Back-off base: attempt n waits a random time in [0, base*2^(n-1)]."},
    {"retry.max_backoff_ms", "SEGWORKER_RETRY_MAX_BACKOFF_MS", CFG_INT, "30000", 1, 86400000, NULL,
     S(retry_max_backoff_ms),
     "Cap of one in-memory wait before a retry. A longer wait the provider asks for parks the job "
     "in topics.retry (up to retry.max_park_ms) or ends it with a retryable result."},
    {"retry.max_inline_ms", "SEGWORKER_RETRY_MAX_INLINE_MS", CFG_INT, "10000", 0, 86400000, NULL,
     S(retry_max_inline_ms),
     "Waits up to this long stay on the in-memory timer; longer ones park the job in "
     "topics.retry with a not-before time, when ordering allows (ordering=none or a keyless "
     "job), so the partition moves on."},
    {"retry.max_park_ms", "SEGWORKER_RETRY_MAX_PARK_MS", CFG_INT, "86400000", 0, 604800000, NULL,
     S(retry_max_park_ms),
     "Longest wait a job may be parked for in topics.retry; a provider asking for more ends "
     "the job."},
    {"http.timeout_ms", "SEGWORKER_HTTP_TIMEOUT_MS", CFG_INT, "30000", 1, 3600000, NULL,
     S(http_timeout_ms),
     "Default limit of one HTTP exchange (a job's options.timeout_ms overrides)."},
    {"http.connect_timeout_ms", "SEGWORKER_HTTP_CONNECT_TIMEOUT_MS", CFG_INT, "10000", 1, 600000,
     NULL, S(http_connect_timeout_ms), "Limit on establishing a connection."},
    {"http.max_host_connections", "SEGWORKER_HTTP_MAX_HOST_CONNECTIONS", CFG_INT, "64", 1, 100000,
     NULL, S(http_max_host_connections),
     "Connections per provider host; further requests wait for a free one (counted in their "
     "timeout)."},
    {"http.host_concurrency", "SEGWORKER_HTTP_HOST_CONCURRENCY", CFG_ENUM, "adaptive", 0, 0,
     "adaptive|fixed", S(http_host_concurrency),
     "adaptive: requests in flight per host start at 4 and grow while the host answers as fast "
     "as its best, shrink when answers slow down or 429/503/timeouts appear, never past "
     "http.max_host_connections; fixed: always http.max_host_connections."},
    {"shutdown.grace_ms", "SEGWORKER_SHUTDOWN_GRACE_MS", CFG_INT, "30000", 0, 3600000, NULL,
     S(shutdown_grace_ms), "On SIGTERM, how long running jobs may take to finish."},
    {"rebalance.drain_ms", "SEGWORKER_REBALANCE_DRAIN_MS", CFG_INT, "10000", 0, 600000, NULL,
     S(rebalance_drain_ms),
     "When partitions are revoked, how long their running jobs may take to finish (and commit) "
     "before the partitions are released; jobs still running then are abandoned to the next "
     "owner."},
    {"health.max_loop_stall_ms", "SEGWORKER_HEALTH_MAX_LOOP_STALL_MS", CFG_INT, "90000", 100,
     3600000, NULL, S(health_max_stall_ms),
     "/healthz fails when the event loop has not turned for this long (keep it above the 60 s a "
     "result may wait for producer queue space)."},
    {"health.max_broker_down_ms", "SEGWORKER_HEALTH_MAX_BROKER_DOWN_MS", CFG_INT, "600000", 0,
     86400000, NULL, S(health_max_broker_down_ms),
     "/healthz fails when no Kafka broker has answered for this long (since start-up, or since "
     "librdkafka reported every broker down), so an orchestrator can restart or alert; 0: never. "
     "/readyz fails at once and says why."},
    {NULL, NULL, CFG_STR, NULL, 0, 0, NULL, 0, NULL},
};

#define NKEYS (sizeof(table) / sizeof(table[0]) - 1)
_Static_assert(NKEYS <= SW_CONFIG_MAX_KEYS, "raise SW_CONFIG_MAX_KEYS");

/* The file's variable, read before the table's ones; not a key itself. */
#define ENV_CONFIG "SEGWORKER_CONFIG"
#define ENV_PREFIX "SEGWORKER_"

static const struct cfg_entry *find(const char *key)
{
    const struct cfg_entry *e;

    for (e = table; e->key; e++) {
        if (!strcmp(e->key, key)) {
            return e;
        }
    }
    return NULL;
}

static const char *source_name(enum sw_config_source s)
{
    static const char *const names[] = {"default", "file", "env", "flag"};

    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static int set_entry(struct sw_config *cfg, const struct cfg_entry *e, const char *value,
                     struct sw_status *st)
{
    char **sp = (char **)((char *)cfg + e->off);
    long long *ip = (long long *)((char *)cfg + e->off);
    char *end = NULL;
    long long v;
    char *dup;

    switch (e->type) {
    case CFG_ENUM: {
        const char *c = e->choices;
        size_t n = strlen(value);
        int ok = 0;

        while (c && *c) {
            const char *bar = strchr(c, '|');
            size_t cl = bar ? (size_t)(bar - c) : strlen(c);

            if (cl == n && !strncmp(c, value, n)) {
                ok = 1;
            }
            c = bar ? bar + 1 : NULL;
        }
        if (!ok) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "%s: \"%s\" is not one of %s", e->key,
                          value, e->choices);
            return -1;
        }
    }
        /* fall through */
    case CFG_STR:
        dup = strdup(value);
        if (!dup) {
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
            return -1;
        }
        free(*sp);
        *sp = dup;
        cfg->src[e - table] = (unsigned char)cfg->setting;
        return 0;
    case CFG_INT:
        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < e->min || v > e->max) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                          "%s: \"%s\" is not an integer in [%lld, %lld]", e->key, value, e->min,
                          e->max);
            return -1;
        }
        *ip = v;
        cfg->src[e - table] = (unsigned char)cfg->setting;
        return 0;
    }
    return -1;
}

static void kv_free(struct sw_kv *kv)
{
    free(kv->key);
    free(kv->value);
    free(kv->ref);
    memset(kv, 0, sizeof(*kv));
}

/* A property set twice (in the file, then by a flag) keeps one entry: the later value. */
static int add_kafka(struct sw_config *cfg, const char *prop, int scope, const char *value,
                     struct sw_status *st)
{
    struct sw_kv kv = {NULL, NULL, scope, cfg->setting, NULL};
    size_t i;

    kv.key = strdup(prop);
    if (!strncmp(value, "env:", 4) || !strncmp(value, "file:", 5)) {
        /* kafka.sasl.password, kafka.ssl.key.password, ...: secrets by reference, like account
         * credentials, so none has to sit in a config file. */
        char what[300];

        snprintf(what, sizeof(what), "kafka.%s", prop);
        kv.value = sw_secret_resolve(what, value, st);
        if (!kv.value) {
            kv_free(&kv);
            return -1;
        }
        kv.ref = strdup(value);
        if (!kv.ref) {
            goto nomem;
        }
    } else {
        kv.value = strdup(value);
    }
    if (!kv.key || !kv.value) {
        goto nomem;
    }
    for (i = 0; i < cfg->nkafka; i++) {
        if (cfg->kafka[i].scope == scope && !strcmp(cfg->kafka[i].key, prop)) {
            kv_free(&cfg->kafka[i]);
            cfg->kafka[i] = kv;
            return 0;
        }
    }
    {
        struct sw_kv *nv = realloc(cfg->kafka, (cfg->nkafka + 1) * sizeof(*nv));

        if (!nv) {
            goto nomem;
        }
        cfg->kafka = nv;
    }
    cfg->kafka[cfg->nkafka++] = kv;
    return 0;
nomem:
    kv_free(&kv);
    sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
    return -1;
}

int sw_config_set(struct sw_config *cfg, const char *key, const char *value, struct sw_status *st)
{
    const struct cfg_entry *e;

    if (!strncmp(key, "kafka.consumer.", 15)) {
        return add_kafka(cfg, key + 15, 1, value, st);
    }
    if (!strncmp(key, "kafka.producer.", 15)) {
        return add_kafka(cfg, key + 15, 2, value, st);
    }
    if (!strncmp(key, "kafka.", 6)) {
        return add_kafka(cfg, key + 6, 0, value, st);
    }
    e = find(key);
    if (!e) {
        struct sw_suggest sg;

        sw_suggest_init(&sg, key);
        for (e = table; e->key; e++) {
            sw_suggest_offer(&sg, e->key);
        }
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "unknown configuration key \"%s\"%s%s%s",
                      key, sg.best ? " (did you mean " : "", sg.best ? sg.best : "",
                      sg.best ? "?)" : "");
        return -1;
    }
    return set_entry(cfg, e, value, st);
}

/* Walk a JSON object, turning nesting into dotted keys, so {"kafka":{"acks":"all"}} and
 * {"kafka.acks":"all"} mean the same. */
static int apply_json(struct sw_config *cfg, const cJSON *obj, const char *prefix,
                      struct sw_status *st)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, obj)
    {
        char key[256];
        char num[64];
        const char *val = NULL;

        if ((size_t)snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", c->string) >=
            sizeof(key)) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "configuration key too long");
            return -1;
        }
        if (cJSON_IsObject(c)) {
            if (apply_json(cfg, c, key, st) != 0) {
                return -1;
            }
            continue;
        }
        if (cJSON_IsString(c)) {
            val = c->valuestring;
        } else if (cJSON_IsBool(c)) {
            val = cJSON_IsTrue(c) ? "true" : "false";
        } else if (cJSON_IsNumber(c)) {
            snprintf(num, sizeof(num), "%.0f", c->valuedouble);
            val = num;
        } else {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                          "%s: expected a string, number or boolean", key);
            return -1;
        }
        if (sw_config_set(cfg, key, val, st) != 0) {
            return -1;
        }
    }
    return 0;
}

int sw_config_apply_text(struct sw_config *cfg, const char *text, size_t len, const char *origin,
                         struct sw_status *st)
{
    char err[128];
    cJSON *root = sw_json_parse(text, len, 16, err, sizeof(err));
    int rc = -1;

    if (!cJSON_IsObject(root)) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "%s: %s", origin,
                      root ? "expected a JSON object" : err);
    } else {
        rc = apply_json(cfg, root, "", st);
    }
    cJSON_Delete(root);
    return rc;
}

static int load_file(struct sw_config *cfg, const char *path, struct sw_status *st)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;
    int rc = -1;

    if (!f) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    buf = malloc(1 * MB + 1);
    if (!buf) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
        goto out;
    }
    n = fread(buf, 1, 1 * MB + 1, f);
    if (n > 1 * MB) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "%s is larger than 1 MiB", path);
        goto out;
    }
    rc = sw_config_apply_text(cfg, buf, n, path, st);
out:
    free(buf);
    fclose(f);
    return rc;
}

int sw_config_load(struct sw_config *cfg, const char *path, struct sw_status *st)
{
    const struct cfg_entry *e;

    memset(cfg, 0, sizeof(*cfg));
    cfg->setting = SW_CFG_DEFAULT;
    for (e = table; e->key; e++) {
        if (e->def && set_entry(cfg, e, e->def, st) != 0) {
            return -1;
        }
    }
    if (sw_config_check_env(environ, st) != 0) {
        return -1;
    }
    if (!path) {
        path = getenv(ENV_CONFIG);
    }
    cfg->setting = SW_CFG_FILE;
    if (path && *path && load_file(cfg, path, st) != 0) {
        return -1;
    }
    cfg->setting = SW_CFG_ENV;
    for (e = table; e->key; e++) {
        const char *v = e->env ? getenv(e->env) : NULL;

        if (v && set_entry(cfg, e, v, st) != 0) {
            return -1;
        }
    }
    cfg->setting = SW_CFG_FLAG;
    return 0;
}

int sw_config_check_env(char *const *envp, struct sw_status *st)
{
    size_t plen = strlen(ENV_PREFIX);

    for (; envp && *envp; envp++) {
        const char *kv = *envp;
        const char *eq = strchr(kv, '=');
        const struct cfg_entry *e;
        struct sw_suggest sg;
        char name[128];
        size_t n = eq ? (size_t)(eq - kv) : strlen(kv);

        if (strncmp(kv, ENV_PREFIX, plen) != 0) {
            continue;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), kv);
        if (!strcmp(name, ENV_CONFIG)) {
            continue;
        }
        sw_suggest_init(&sg, name);
        sw_suggest_offer(&sg, ENV_CONFIG);
        for (e = table; e->key; e++) {
            if (!strcmp(name, e->env)) {
                break;
            }
            sw_suggest_offer(&sg, e->env);
        }
        if (!e->key) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                          "unknown environment variable %s%s%s%s (segworker reads only the "
                          "SEGWORKER_* variables of its configuration keys)",
                          name, sg.best ? " (did you mean " : "", sg.best ? sg.best : "",
                          sg.best ? "?)" : "");
            return -1;
        }
    }
    return 0;
}

void sw_config_free(struct sw_config *cfg)
{
    const struct cfg_entry *e;
    size_t i;

    if (!cfg) {
        return;
    }
    for (e = table; e->key; e++) {
        if (e->type != CFG_INT) {
            free(*(char **)((char *)cfg + e->off));
        }
    }
    for (i = 0; i < cfg->nkafka; i++) {
        kv_free(&cfg->kafka[i]);
    }
    free(cfg->kafka);
    memset(cfg, 0, sizeof(*cfg));
}

void sw_config_dump_md(FILE *out)
{
    const struct cfg_entry *e;

    fprintf(out, "# segworker configuration reference\n\n"
                 "Generated by `segworker --dump-config=reference`; do not edit by hand. "
                 "`segworker --dump-config` (with the same options as the command) prints the "
                 "effective configuration instead, each value with its source.\n\n"
                 "Sources, later ones winning:\n\n"
                 "1. built-in defaults;\n"
                 "2. the JSON file named by `--config` or `SEGWORKER_CONFIG` (nested objects and "
                 "dotted keys are the same);\n"
                 "3. the environment variables below (a `SEGWORKER_*` variable that is not one of "
                 "them is an error, so a misspelled one is never ignored);\n"
                 "4. the command line: the options that set a key (`--brokers`, `--group`, "
                 "`--accounts`, `--specs-dir`) and `--set KEY=VALUE` (any key), in the order "
                 "given.\n\n"
                 "Unknown keys are errors.\n\n"
                 "| key | env | type | default | bounds | description |\n"
                 "|---|---|---|---|---|---|\n");
    for (e = table; e->key; e++) {
        const char *type = e->type == CFG_INT ? "integer" : e->type == CFG_ENUM ? "enum" : "string";

        fprintf(out, "| `%s` | `%s` | %s | %s%s%s | ", e->key, e->env, type, e->def ? "`" : "",
                e->def ? (*e->def ? e->def : "\"\"") : "unset", e->def ? "`" : "");
        if (e->type == CFG_INT) {
            fprintf(out, "%lld – %lld", e->min, e->max);
        } else if (e->type == CFG_ENUM) {
            fprintf(out, "`%s`", e->choices);
        }
        fprintf(out, " | %s |\n", e->desc);
    }
    fprintf(out, "\n`kafka.<property>` passes a librdkafka property to both the consumer and the "
                 "producer; `kafka.consumer.<property>` and `kafka.producer.<property>` to one of "
                 "them (for example `kafka.security.protocol`, `kafka.sasl.mechanisms`). A value "
                 "written `env:NAME` or `file:/path` is resolved at start-up, so secrets such as "
                 "`kafka.sasl.password` stay out of the file.\n");
}

/* librdkafka properties whose values are secrets (or may embed one). */
static int kafka_secret(const char *prop)
{
    return strstr(prop, "password") || strstr(prop, "secret") || strstr(prop, "sasl.jaas") ||
           strstr(prop, "oauthbearer.config") || strstr(prop, "key.pem") || strstr(prop, "ssl.key");
}

static void dump_string(FILE *out, const char *s)
{
    cJSON *j;
    char *q;

    if (!s) {
        fputs("(unset)", out);
        return;
    }
    j = cJSON_CreateString(s);
    q = j ? sw_json_print(j) : NULL;
    fputs(q ? q : "\"?\"", out);
    cJSON_free(q);
    cJSON_Delete(j);
}

void sw_config_dump(const struct sw_config *cfg, FILE *out)
{
    static const char *const scopes[] = {"kafka.", "kafka.consumer.", "kafka.producer."};
    const struct cfg_entry *e;
    size_t i;

    fprintf(out, "# segworker effective configuration: key = value  # source "
                 "(default < file < env < flag)\n");
    for (e = table; e->key; e++) {
        const char *src = source_name((enum sw_config_source)cfg->src[e - table]);

        fprintf(out, "%s = ", e->key);
        if (e->type == CFG_INT) {
            fprintf(out, "%lld", *(const long long *)((const char *)cfg + e->off));
        } else {
            dump_string(out, *(char *const *)((const char *)cfg + e->off));
        }
        fprintf(out, "  # %s\n", src);
    }
    for (i = 0; i < cfg->nkafka; i++) {
        const struct sw_kv *kv = &cfg->kafka[i];

        fprintf(out, "%s%s = ", scopes[kv->scope >= 0 && kv->scope <= 2 ? kv->scope : 0], kv->key);
        if (kv->ref) {
            dump_string(out, kv->ref);
        } else if (kafka_secret(kv->key)) {
            fputs("\"[redacted]\"", out);
        } else {
            dump_string(out, kv->value);
        }
        fprintf(out, "  # %s\n", source_name(kv->source));
    }
}

enum sw_config_source sw_config_source_of(const struct sw_config *cfg, const char *key)
{
    const struct cfg_entry *e = find(key);

    return e ? (enum sw_config_source)cfg->src[e - table] : SW_CFG_DEFAULT;
}

int sw_config_info(size_t i, struct sw_config_info *out)
{
    if (i >= NKEYS) {
        return 0;
    }
    out->key = table[i].key;
    out->env = table[i].env;
    out->def = table[i].def;
    out->choices = table[i].type == CFG_ENUM ? table[i].choices : NULL;
    out->desc = table[i].desc;
    return 1;
}
