/* Job parsing and validation (see sw_job.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_job.h"
#include "sw_json.h"
#include "sw_params.h"
#include "sw_peek.h"
#include "sw_suggest.h"
#include "sw_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ID_LEN 200

/* Bounds on the options a mapping consults per item and a request carries: every mapped field
 * of every item is looked up in exclude_fields, so its length multiplies a list's work. */
#define MAX_EXCLUDE_FIELDS 64
#define MAX_FIELD_NAME     128
#define MAX_REMOTE_QUERY   32

static const char *const format_names[] = {"unified", "raw", "normalized", "stream", "debug"};

const char *sw_format_name(enum sw_format f)
{
    return (unsigned)f <= SW_FMT_DEBUG ? format_names[f] : "unified";
}

void sw_job_destroy(struct sw_job *job)
{
    struct sw_jdoc doc;

    if (!job) {
        return;
    }
    free(job->traceparent);
    doc = job->doc; /* the job lives in its own document: take the document out first */
    sw_jdoc_free(&doc);
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

/* The options the engine reads itself; any other option belongs to a provider and is checked
 * against the operation's declarations (sw_params.h) before the job runs. */
static const char *const engine_options[] = {
    "response_format", "exclude_fields", "ignore_remote_data", "remote_query",         "max_items",
    "max_attempts",    "timeout_ms",     "deadline",           "allow_ambiguous_retry"};
/* Provider options a spec may declare (job.schema.json lists them): a job naming anything else is
 * not a job. */
static const char *const provider_options[] = {"revision"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int sw_job_engine_option(const char *name)
{
    size_t i;

    for (i = 0; i < NELEM(engine_options); i++) {
        if (!strcmp(engine_options[i], name)) {
            return 1;
        }
    }
    return 0;
}

static sw_err_t check_option_names(const cJSON *o, struct sw_status *st)
{
    const char *all[NELEM(engine_options) + NELEM(provider_options)];
    const cJSON *c;
    size_t i;

    for (i = 0; i < NELEM(engine_options); i++) {
        all[i] = engine_options[i];
    }
    for (i = 0; i < NELEM(provider_options); i++) {
        all[NELEM(engine_options) + i] = provider_options[i];
    }
    cJSON_ArrayForEach(c, o)
    {
        const char *near;

        for (i = 0; i < NELEM(all) && strcmp(all[i], c->string); i++) {
        }
        if (i < NELEM(all)) {
            continue;
        }
        near = sw_suggest_among(c->string, all, NELEM(all));
        return near ? bad(st, "unknown option \"%s\" (did you mean %s?)", c->string, near)
                    : bad(st, "unknown option \"%s\"", c->string);
    }
    return SW_E_OK;
}

static sw_err_t parse_options(struct sw_job *job, struct sw_status *st)
{
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
    if (check_option_names(o, st)) {
        return st->code;
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
            if (!cJSON_IsString(c) || strlen(c->valuestring) > MAX_FIELD_NAME) {
                return bad(st, "%s must be an array of strings of at most %d bytes",
                           "options.exclude_fields", MAX_FIELD_NAME);
            }
        }
        if (cJSON_GetArraySize(job->exclude_fields) > MAX_EXCLUDE_FIELDS) {
            return bad(st, "options.exclude_fields has more than %d entries", MAX_EXCLUDE_FIELDS);
        }
    }
    job->remote_query = cJSON_GetObjectItemCaseSensitive(o, "remote_query");
    if (job->remote_query) {
        if (!cJSON_IsObject(job->remote_query)) {
            return bad(st, "%s must be an object", "options.remote_query");
        }
        i = 0;
        cJSON_ArrayForEach(c, job->remote_query)
        {
            const cJSON *d;

            /* Objects are nested queries (Truto's bracket form); the spec decides. */
            if (!cJSON_IsString(c) && !cJSON_IsNumber(c) && !cJSON_IsBool(c) &&
                !cJSON_IsObject(c)) {
                return bad(st,
                           "options.remote_query.%s must be a string, number, boolean or object",
                           c->string);
            }
            if (++i > MAX_REMOTE_QUERY) {
                return bad(st, "options.remote_query has more than %d entries", MAX_REMOTE_QUERY);
            }
            /* A key twice would let a provider that reads the last value see another one. */
            for (d = job->remote_query->child; d != c; d = d->next) {
                if (!strcmp(d->string, c->string)) {
                    return bad(st, "options.remote_query.%s is given twice", c->string);
                }
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
static sw_err_t read_identity(struct sw_job *job, const cJSON *root,
                              const struct sw_job_limits *lim, struct sw_status *st)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "correlation");
    char *printed;

    job->operation = ident(root, "operation");
    job->op = job->operation ? sw_op_from_name(job->operation) : SW_OP__COUNT;
    job->provider = ident(root, "provider");
    job->account = ident(root, "account");
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

/* A job living in its own document of about first bytes (one allocation in the usual case):
 * NULL when memory ran out. */
static struct sw_job *job_new(size_t first)
{
    struct sw_jdoc doc;
    struct sw_job *job;

    sw_jdoc_init(&doc, sizeof(*job) + first);
    job = sw_jdoc_alloc(&doc, sizeof(*job));
    if (!job) {
        sw_jdoc_free(&doc);
        return NULL;
    }
    job->doc = doc; /* from here on the document is job->doc */
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
    int i, nomem = 0;

    if (sw_peek_members(buf, len, names, sp, 5) == 0 || !sp[0].p) {
        return st->code;
    }
    job = job_new(1024);
    root = job ? sw_jdoc_object(&job->doc) : NULL;
    for (i = 0; root && i < 5; i++) {
        /* A correlation's text far over its bound is not even parsed. */
        cJSON *v =
            !sp[i].p || (i == 4 && lim->max_correlation_bytes &&
                         sp[i].len > 4 * lim->max_correlation_bytes)
                ? NULL
                : sw_jdoc_parse(&job->doc, sp[i].p, sp[i].len, lim->max_depth, NULL, 0, &nomem);

        if (v) {
            /* The key is constant and the value the document's: nothing is allocated. */
            cJSON_AddItemToObjectCS(root, names[i], v);
        }
    }
    if (!root) {
        sw_job_destroy(job);
        return st->code;
    }
    job->job_id = ident(root, "job_id");
    sw_status_clear(&ignored);
    if (!job->job_id || read_identity(job, root, lim, &ignored) == SW_E_NOMEM) {
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
    struct sw_status later; /* an error found after the first one: not reported */
    struct sw_job *job;
    const cJSON *root;
    const cJSON *c;
    char err[128];
    sw_err_t rc = SW_E_OK;
    int nomem = 0;
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
    job = job_new(4 * len + 512);
    if (!job) {
        return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
    }
    root = sw_jdoc_parse(&job->doc, buf, len, lim->max_depth, err, sizeof(err), &nomem);
    if (!root || !cJSON_IsObject(root)) {
        sw_job_destroy(job);
        if (nomem && !rc) {
            return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
        if (!rc) {
            bad(st, "%s", root ? "a job must be a JSON object" : err);
        }
        return salvage(buf, len, lim, out, st);
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
    if (read_identity(job, root, lim, rc ? &later : st) != SW_E_OK && !rc) {
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
        /* An empty params object keeps every later lookup simple. */
        job->params = sw_jdoc_object(&job->doc);
        if (!job->params) {
            return sw_status_set(st, SW_E_NOMEM, SW_CLASS_RETRY, "out of memory");
        }
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
