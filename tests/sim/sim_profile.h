/* Shared machinery of the table-driven provider profiles (ActiveCampaign, beehiiv, Customer.io,
 * Flodesk, Mailchimp, HubSpot, Digital Audience, Truto): each profile is mounted under its own
 * path prefix (/<provider>/…, which an account's base_url carries), states how it authenticates,
 * shapes errors and rate-limit headers, and routes its documented paths with the helpers below.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_PROFILE_H
#define SIM_PROFILE_H

#include "sim_http.h"
#include "sim_magic.h"

/* Rate-limit header families (providers.md per provider). */
enum sim_rl {
    SIM_RL_NONE,       /* no headers (Mailchimp, Customer.io: none documented) */
    SIM_RL_IETF_EPOCH, /* RateLimit-Limit/Remaining/Reset, reset as epoch seconds (beehiiv) */
    SIM_RL_IETF_DELTA, /* ratelimit-limit/remaining/reset, reset in seconds (Truto) */
    SIM_RL_LIMIT_ONLY, /* RateLimit-Limit/Remaining (ActiveCampaign) */
    SIM_RL_FLODESK,    /* X-Fd-RateLimit-Limit/Remaining (3rd-party observation) */
    SIM_RL_HUBSPOT     /* X-HubSpot-RateLimit-Daily/-Daily-Remaining */
};

struct sim_profile {
    int provider;       /* SIM_P_* */
    const char *prefix; /* "/beehiiv" */
    const char *key;    /* the credential the profile accepts */
    enum sim_rl rl;
    long rl_limit;        /* the number the limit header shows */
    int retry_after;      /* 429 answers carry Retry-After: <secs> */
    const char *bad_json; /* body of a malformed answer */
    /* 0 when the request carries the profile's credential. */
    int (*authorized)(const struct sim_profile *p, const struct sim_req *rq);
    /* The provider's error body for status (code may be NULL). */
    cJSON *(*error_body)(unsigned status, const char *code, const char *msg);
    /* Route rest (the path after prefix); 0 on success, -1 on OOM. */
    int (*route)(const struct sim_profile *p, const struct sim_req *rq, const char *rest,
                 struct sim_reply *r);
};

/* The profiles, NULL-terminated (sim_profile.c). */
extern const struct sim_profile *const sim_profiles[];

/* The profile whose prefix starts url, or NULL. */
const struct sim_profile *sim_profile_for(const char *url);
/* Handle one request of a profile: auth, fault injection, route, rate-limit headers. */
int sim_profile_handle(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r);

/* An error answer in the profile's shape. */
int sim_prof_error(const struct sim_profile *p, struct sim_reply *r, unsigned status,
                   const char *code, const char *msg);
/* Apply a magic-id or fault decision that is a failure (429, 5xx, 404, bad JSON, 507); returns 1
 * when it answered, 0 when the request proceeds (the delay is applied either way). */
int sim_prof_outcome(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                     const struct sim_decision *d);
/* Magic ids on a single-resource path: 1 when answered; else *idx is the item index (0 for a
 * synthetic success of a magic id, find(id) otherwise, -1 = unknown, answered 404 when
 * missing_404). */
int sim_prof_lookup(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r,
                    const char *id, int (*find)(const char *id), int *idx);

/* Match rest against pattern ("/v1/segments/ * /members" without spaces, '*' = one segment),
 * for method; captures copied into caps (each 64 bytes). 1 on match. */
int sim_match(const struct sim_req *rq, const char *method, const char *rest, const char *pattern,
              char caps[][64], int ncaps);
/* Answer {key: item} (or {key: [item]} when as_array) with status; consumes item. */
int sim_reply_wrapped(struct sim_reply *r, unsigned status, const char *key, cJSON *item,
                      int as_array);
/* Integer query argument in [lo, hi], dflt when absent; -1 when malformed. */
int sim_arg_long(const struct sim_req *rq, const char *name, long dflt, long lo, long hi,
                 long *out);
/* The request body as a JSON object, or NULL (caller answers 400). */
cJSON *sim_body_object(const struct sim_req *rq);
/* Add a copy of a string member of obj to out under name (or null). */
int sim_copy_str(cJSON *out, const char *name, const cJSON *obj, const char *key);
/* Index of an id written as prefix + decimal (base + i), 0 <= i < n; else -1. */
int sim_index_of(const char *id, const char *prefix, long base, int n);
/* Epoch seconds as 2026-01-02T03:04:05Z. */
void sim_iso(long long epoch, char *buf, size_t n);
/* Bearer-token check. */
int sim_bearer_is(const char *auth, const char *key);
/* Slice [*start, *end) of n items for an offset/limit window. */
void sim_window(long offset, long limit, long n, long *start, long *end);

/* Basic-auth check: the decoded "user:password" must equal want (user or password may be "*"
 * for any). */
int sim_basic_is(const char *auth, const char *want_user, const char *want_pass);

#endif
