/* State of one request while the engine interprets a profile; shared by the interpreter's
 * modules (engine, templates, paging, auth) and by nothing else.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include "sim_expr.h"
#include "sim_http.h"
#include "sim_profile.h"

/* The page of a collection a "page" step chose ($each "page" walks it). */
struct sim_window {
    int active;
    int members; /* members of generated segment seg, else records of the data set */
    int seg;
    int *idx; /* records in answer order (arena), nidx of them */
    int nidx;
    long long total; /* nidx, or more with synthetic records ("extend") */
    long long start, end;
    const char *extend_id; /* id template of synthetic records */
};

struct sim_run {
    struct sim_ctx cx;
    const struct sim_profile *p;
    const struct sim_req *rq;
    struct sim_reply *r;
    cJSON *body; /* the request body parsed, NULL when it is not JSON */
    int body_parsed;
    struct sim_window win;
    const cJSON *wanted; /* fields chosen by a "fieldset" step; NULL = all */
};

/* Steps answer with 1, go on with 0 and fail (OOM, profile error in cx.err) with -1. */

/* Answer with an error spec ({"status", "code", "message", …} or {"status", "body"}). */
int sim_run_error(struct sim_run *run, const cJSON *spec);
/* Answer the named error of the profile's "errors" (auth, missing, no_route, 404, 429, …). */
int sim_run_named_error(struct sim_run *run, const char *name);
/* Evaluate a JSON member that is a number or an expression string to an integer. */
int sim_run_num(struct sim_run *run, const cJSON *v, long long dflt, long long *out);
/* Bind record i of the profile's data set with its canonical id. */
int sim_run_bind_record(struct sim_run *run, int i);

/* The request's credential passes the profile's "auth": 1 yes, 0 no, -1 error. */
int sim_auth_ok(struct sim_run *run);
/* Render a template into a new cJSON; *out NULL (rc 0) means the template said none. */
int sim_tmpl_render(struct sim_run *run, const cJSON *t, cJSON **out);
/* The "page" step. */
int sim_page_step(struct sim_run *run, const cJSON *spec);

#endif
