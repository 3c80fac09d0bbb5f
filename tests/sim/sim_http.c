/* Reply record and request accessors (see sim_http.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

void sim_reply_free(struct sim_reply *r)
{
    if (!r) {
        return;
    }
    free(r->body);
    memset(r, 0, sizeof(*r));
}

int sim_reply_header(struct sim_reply *r, const char *name, const char *fmt, ...)
{
    struct sim_header *h;
    va_list ap;
    int n;

    if (r->n_headers >= SIM_MAX_HEADERS || strlen(name) >= sizeof(h->name)) {
        return -1;
    }
    h = &r->headers[r->n_headers];
    snprintf(h->name, sizeof(h->name), "%s", name);
    va_start(ap, fmt);
    n = vsnprintf(h->value, sizeof(h->value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(h->value)) {
        return -1;
    }
    r->n_headers++;
    return 0;
}

int sim_reply_json(struct sim_reply *r, unsigned status, const char *ctype, cJSON *doc)
{
    char *text = NULL;
    int rc = -1;

    if (!doc) {
        goto out;
    }
    text = cJSON_PrintUnformatted(doc);
    if (!text) {
        goto out;
    }
    rc = sim_reply_text(r, status, ctype, text);
out:
    cJSON_free(text);
    cJSON_Delete(doc);
    return rc;
}

int sim_reply_text(struct sim_reply *r, unsigned status, const char *ctype, const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);

    if (!copy) {
        return -1;
    }
    memcpy(copy, text, len + 1);
    free(r->body);
    r->body = copy;
    r->body_len = len;
    r->status = status;
    r->content_type = ctype;
    return 0;
}

const char *sim_req_arg(const struct sim_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *sim_req_header(const struct sim_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, key);
}

struct each_ctx {
    const char *key;
    void (*fn)(void *cls, const char *value);
    void *cls;
};

static enum MHD_Result each_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct each_ctx *e = cls;

    (void)kind;
    if (key && strcmp(key, e->key) == 0) {
        e->fn(e->cls, value);
    }
    return MHD_YES;
}

void sim_req_each_arg(const struct sim_req *rq, const char *key,
                      void (*fn)(void *cls, const char *value), void *cls)
{
    struct each_ctx e = {key, fn, cls};

    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, each_cb, &e);
}

int sim_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v;

    if (!s || !*s) {
        return -1;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}
