/* Job parsing and validation (see sw_job.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_job.h"
#include "sw_json.h"
#include "sw_peek.h"
#include "sw_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ID_LEN 200

static const char *const format_names[] = {"unified", "raw", "normalized", "stream", "debug"};

const char *sw_format_name(enum sw_format f)
{
    return (unsigned)f <= SW_FMT_DEBUG ? format_names[f] : "unified";
}

void sw_job_destroy(struct sw_job *job)
{
    if (!job) {
        return;
    }
    cJSON_Delete(job->root);
    free(job->traceparent);
    free(job);
}

/* Job ids end up in Kafka keys, headers and logs: keep them printable and bounded. */
static int valid_id(const char *s)
{
    size_t n = strlen(s);
    size_t i;

    if (n == 0 || n > MAX_ID_LEN) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

#define bad(st, ...) sw_status_set((st), SW_E_INVALID_JOB, SW_CLASS_TERMINAL, __VA_ARGS__)

static const char *req_str(const cJSON *root, const char *key, struct sw_status *st, sw_err_t *rc)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

    if (!v) {
        *rc = bad(st, "\"%s\" is required", key);
        return NULL;
    }
    if (!cJSON_IsString(v) || !valid_id(v->valuestring)) {
        *rc = bad(st, "\"%s\" must be a non-empty printable string of at most 200 bytes", key);
        return NULL;
    }
    return v->valuestring;
}

static int get_int(const cJSON *opts, const char *key, long long min, long long max, long long *out,
                   struct sw_status *st)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);

    if (!v) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max) {
        sw_status_set(st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                      "options.%s must be an integer in [%lld, %lld]", key, min, max);
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *opts, const char *key, int *out, struct sw_status *st)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(opts, key);

    if (!v) {
        return 0;
    }
    if (!cJSON_IsBool(v)) {
        sw_status_set(st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL, "options.%s must be a boolean", key);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static sw_err_t parse_options(struct sw_job *job, struct sw_status *st)
{
    static const char *const known[] = {"response_format",
                                        "exclude_fields",
                                        "ignore_remote_data",
                                        "remote_query",
                                        "max_items",
                                        "max_attempts",
                                        "timeout_ms",
                                        "deadline",
                                        "allow_ambiguous_retry",
                                        NULL};
    const cJSON *o = job->options;
    const cJSON *c;
    const char *fmt;
    const char *deadline;
    long long v;
    int i;

    if (!o) {
        return SW_E_OK;
    }
    if (!cJSON_IsObject(o)) {
        return bad(st, "%s must be an object", "options");
    }
    cJSON_ArrayForEach(c, o)
    {
        for (i = 0; known[i] && strcmp(known[i], c->string); i++) {
        }
        if (!known[i]) {
            return bad(st, "unknown option \"%s\"", c->string);
        }
    }
    fmt = sw_json_str(o, "response_format");
    if (cJSON_GetObjectItemCaseSensitive(o, "response_format")) {
        for (i = 0; fmt && i <= SW_FMT_DEBUG && strcmp(fmt, format_names[i]); i++) {
        }
        if (!fmt || i > SW_FMT_DEBUG) {
            return bad(st, "options.response_format must be one of %s",
                       "unified, raw, normalized, stream, debug");
        }
        job->format = (enum sw_format)i;
    }
    job->exclude_fields = cJSON_GetObjectItemCaseSensitive(o, "exclude_fields");
    if (job->exclude_fields) {
        if (!cJSON_IsArray(job->exclude_fields)) {
            return bad(st, "%s must be an array of strings", "options.exclude_fields");
        }
        cJSON_ArrayForEach(c, job->exclude_fields)
        {
            if (!cJSON_IsString(c)) {
                return bad(st, "%s must be an array of strings", "options.exclude_fields");
            }
        }
    }
    job->remote_query = cJSON_GetObjectItemCaseSensitive(o, "remote_query");
    if (job->remote_query) {
        if (!cJSON_IsObject(job->remote_query)) {
            return bad(st, "%s must be an object", "options.remote_query");
        }
        cJSON_ArrayForEach(c, job->remote_query)
        {
            if (!cJSON_IsString(c) && !cJSON_IsNumber(c) && !cJSON_IsBool(c)) {
                return bad(st, "options.remote_query.%s must be a string, number or boolean",
                           c->string);
            }
        }
    }
    if (get_bool(o, "ignore_remote_data", &job->ignore_remote_data, st) ||
        get_bool(o, "allow_ambiguous_retry", &job->allow_ambiguous_retry, st)) {
        return st->code;
    }
    v = 0;
    if (get_int(o, "max_items", 0, 1000000000LL, &v, st)) {
        return st->code;
    }
    job->max_items = v;
    v = 0;
    if (get_int(o, "max_attempts", 1, 100, &v, st)) {
        return st->code;
    }
    job->max_attempts = (int)v;
    v = 0;
    if (get_int(o, "timeout_ms", 1, 3600000, &v, st)) {
        return st->code;
    }
    job->timeout_ms = (long)v;
    deadline = sw_json_str(o, "deadline");
    if (cJSON_GetObjectItemCaseSensitive(o, "deadline")) {
        if (!deadline || sw_time_parse(deadline, &job->deadline_ms) != 0) {
            return bad(st, "%s must be an RFC 3339 date-time", "options.deadline");
        }
    }
    return SW_E_OK;
}

/* A member that names part of the job's identity: a valid id string, else NULL (no error). */
static const char *ident(const cJSON *root, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

    return cJSON_IsString(v) && valid_id(v->valuestring) ? v->valuestring : NULL;
}

/* Everything the result of this job echoes, read before any validation so that an error result
 * carries as much of it as the message had. A correlation over its bound is left out: it is
 * copied into every result message, so it must never make one too large. */
static sw_err_t read_identity(struct sw_job *job, const struct sw_job_limits *lim,
                              struct sw_status *st)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(job->root, "correlation");
    char *printed;

    job->operation = ident(job->root, "operation");
    job->op = job->operation ? sw_op_from_name(job->operation) : SW_OP__COUNT;
    job->provider = ident(job->root, "provider");
    job->account = ident(job->root, "account");
    if (!c) {
        return SW_E_OK;
    }
    if (!cJSON_IsObject(c)) {
        return bad(st, "%s must be an object", "correlation");
    }
    printed = cJSON_PrintUnformatted(c);
    if (!printed) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    job->correlation_bytes = strlen(printed);
    cJSON_free(printed);
    if (lim->max_correlation_bytes && job->correlation_bytes > lim->max_correlation_bytes) {
        return bad(st, "correlation is %zu bytes, over limits.max_correlation_bytes (%zu)",
                   job->correlation_bytes, lim->max_correlation_bytes);
    }
    job->correlation = c;
    return SW_E_OK;
}

/* A job with no more than a root to read from (owned here): NULL when memory ran out. */
static struct sw_job *job_new(cJSON *root)
{
    struct sw_job *job = calloc(1, sizeof(*job));

    if (!job) {
        cJSON_Delete(root);
        return NULL;
    }
    job->root = root;
    job->op = SW_OP__COUNT;
    return job;
}

/* The message cannot be parsed whole (st says why): read the identity members of its top-level
 * object one by one, so that a job whose job_id is readable is still answered. */
static sw_err_t salvage(const char *buf, size_t len, const struct sw_job_limits *lim,
                        struct sw_job **out, struct sw_status *st)
{
    static const char *const names[] = {"job_id", "operation", "provider", "account",
                                        "correlation"};
    struct sw_peek_span sp[5];
    struct sw_status ignored;
    struct sw_job *job;
    cJSON *root;
    int i;

    if (sw_peek_members(buf, len, names, sp, 5) == 0 || !sp[0].p) {
        return st->code;
    }
    root = cJSON_CreateObject();
    for (i = 0; root && i < 5; i++) {
        /* A correlation's text far over its bound is not even parsed. */
        cJSON *v = !sp[i].p || (i == 4 && lim->max_correlation_bytes &&
                                sp[i].len > 4 * lim->max_correlation_bytes)
                       ? NULL
                       : sw_json_parse(sp[i].p, sp[i].len, lim->max_depth, NULL, 0);

        if (v && !cJSON_AddItemToObject(root, names[i], v)) {
            cJSON_Delete(v);
        }
    }
    job = root ? job_new(root) : NULL;
    if (!job) {
        return st->code;
    }
    job->job_id = ident(root, "job_id");
    sw_status_clear(&ignored);
    if (!job->job_id || read_identity(job, lim, &ignored) == SW_E_NOMEM) {
        sw_job_destroy(job);
        return st->code;
    }
    *out = job;
    return st->code;
}

sw_err_t sw_job_parse(const char *buf, size_t len, const struct sw_job_limits *lim,
                      struct sw_job **out, struct sw_status *st)
{
    static const char *const known[] = {"job_id",  "operation",   "provider", "account", "params",
                                        "options", "correlation", "reply_to", NULL};
    struct sw_job *job = NULL;
    struct sw_status later; /* an error found after the first one: not reported */
    cJSON *root = NULL;
    const cJSON *c;
    char err[128];
    sw_err_t rc = SW_E_OK;
    int i;

    *out = NULL;
    if (len > lim->max_bytes) {
        rc = sw_status_set(st, SW_E_INVALID_JOB, SW_CLASS_TERMINAL,
                           "message is %zu bytes, over limits.max_job_bytes (%zu)", len,
                           lim->max_bytes);
        /* Parsed whole only up to a size we are willing to build a tree of; beyond, the
         * identity members are read one by one (salvage). */
        if (len > lim->max_bytes * 4) {
            return salvage(buf, len, lim, out, st);
        }
    }
    root = sw_json_parse(buf, len, lim->max_depth, err, sizeof(err));
    if (!root || !cJSON_IsObject(root)) {
        if (!rc) {
            bad(st, "%s", root ? "a job must be a JSON object" : err);
        }
        cJSON_Delete(root);
        return salvage(buf, len, lim, out, st);
    }
    job = job_new(root);
    if (!job) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    job->job_id = ident(root, "job_id");
    if (!job->job_id) {
        sw_job_destroy(job);
        return rc ? rc
                  : bad(st, "%s",
                        "\"job_id\" is required: a non-empty printable string of at most 200 "
                        "bytes");
    }
    *out = job;
    /* From here on the job has an id: every error is reported back under it, with whatever
     * else of its identity could be read. */
    sw_status_clear(&later);
    if (read_identity(job, lim, rc ? &later : st) != SW_E_OK && !rc) {
        return st->code;
    }
    if (rc) {
        return rc;
    }
    cJSON_ArrayForEach(c, root)
    {
        for (i = 0; known[i] && strcmp(known[i], c->string); i++) {
        }
        if (!known[i]) {
            return bad(st, "unknown top-level field \"%s\"", c->string);
        }
    }
    /* Required, and now strictly: read_identity took what was usable, these say what is not. */
    if (!req_str(root, "operation", st, &rc) || !req_str(root, "provider", st, &rc) ||
        !req_str(root, "account", st, &rc)) {
        return rc;
    }
    c = cJSON_GetObjectItemCaseSensitive(root, "reply_to");
    if (c) {
        if (!cJSON_IsString(c) || !valid_id(c->valuestring)) {
            return bad(st, "%s must be a topic name", "reply_to");
        }
        job->reply_to = c->valuestring;
    }
    job->params = cJSON_GetObjectItemCaseSensitive(root, "params");
    if (!job->params) {
        /* Owned by root from here; an empty params object keeps every later lookup simple. */
        cJSON *p = cJSON_AddObjectToObject(root, "params");

        if (!p) {
            return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
        job->params = p;
    } else if (!cJSON_IsObject(job->params)) {
        return bad(st, "%s must be an object", "params");
    }
    job->options = cJSON_GetObjectItemCaseSensitive(root, "options");
    return parse_options(job, st);
}

const char *sw_job_param_str(const struct sw_job *job, const char *name, char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(job->params, name);

    if (cJSON_IsString(v)) {
        return v->valuestring;
    }
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
        fabs(v->valuedouble) < 9007199254740992.0) {
        snprintf(buf, n, "%.0f", v->valuedouble);
        return buf;
    }
    return NULL;
}
