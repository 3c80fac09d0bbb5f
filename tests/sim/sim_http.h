/* Request view and reply record shared by the segsim modules; no MHD calls on replies.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct MHD_Connection;
struct sim_state;

#define SIM_MAX_HEADERS 6

struct sim_header {
    char name[48];
    char value[96];
};

/* What a handler decided. The glue in segsim.c turns it into an MHD response, possibly later. */
struct sim_reply {
    unsigned status;
    char *body; /* owned, malloc'd; NULL means empty body */
    size_t body_len;
    const char *content_type; /* static string or NULL */
    struct sim_header headers[SIM_MAX_HEADERS];
    int n_headers;
    long delay_ms;            /* answer no earlier than this after arrival */
    long promise_rel_ms;      /* "wait this long after you read me" (Retry-After); 0 = none */
    long long promise_abs_ms; /* "wait until this epoch ms" (X-RateLimit-Reset on 429); 0 = none */
};

/* Borrowed view of one request; valid only during the access handler call. */
struct sim_watch;

struct sim_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path; /* decoded path without the query string */
    const char *host; /* Host header, or 127.0.0.1:<port> when absent */
    const char *auth; /* Authorization header or "" */
    const char *body;
    size_t body_len;
    long long now_ms; /* epoch milliseconds at arrival */
    unsigned long long seq;
    struct sim_state *st;
    struct sim_watch *watch; /* rate-limit and ordering referees */
};

/* Free the body and reset the record (accepts NULL). */
void sim_reply_free(struct sim_reply *r);
/* Add a response header; 0 on success, -1 when the table is full or the value too long. */
int sim_reply_header(struct sim_reply *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Serialise doc as the body. Consumes doc (deleted in all cases). 0 on success, -1 on OOM. */
int sim_reply_json(struct sim_reply *r, unsigned status, const char *ctype, cJSON *doc);
/* Copy text as the body. 0 on success, -1 on OOM. */
int sim_reply_text(struct sim_reply *r, unsigned status, const char *ctype, const char *text);

/* Query argument (first occurrence) or NULL. */
const char *sim_req_arg(const struct sim_req *rq, const char *key);
/* Request header or NULL. */
const char *sim_req_header(const struct sim_req *rq, const char *key);
/* Call fn for every occurrence of query argument key; values may be NULL for "?key". */
void sim_req_each_arg(const struct sim_req *rq, const char *key,
                      void (*fn)(void *cls, const char *value), void *cls);

/* Parse a whole decimal integer in [lo, hi]; 0 on success. */
int sim_parse_long(const char *s, long lo, long hi, long *out);

#endif
