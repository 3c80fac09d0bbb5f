/* The profile interpreter (see sim_engine.h): one request runs auth, the profile's "before" steps
 * and the steps of the first matching route; steps answer through the profile's error template
 * or a reply template; every answer then gets the profile's rate-limit headers.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_jsonapi.h"
#include "sim_magic.h"
#include "sim_rows.h"
#include "sim_run.h"
#include "sim_state.h"
#include "sim_watch.h"

#define CAPTURE_MAX 256

/* What every profile gets unless its "errors" say otherwise. */
static const char default_errors[] =
    "{\"auth\":{\"status\":401,\"code\":\"unauthorized\",\"message\":\"authentication failed\"},"
    "\"missing\":{\"status\":404,\"code\":\"not_found\",\"message\":\"segment not found\"},"
    "\"no_route\":{\"status\":404,\"code\":\"not_found\",\"message\":\"no such path\"},"
    "\"404\":{\"status\":404,\"code\":\"not_found\",\"message\":\"resource not found\"},"
    "\"429\":{\"status\":429,\"code\":\"rate_limited\",\"message\":\"too many requests\"},"
    "\"500\":{\"status\":500,\"code\":\"internal_error\",\"message\":\"internal server error\"},"
    "\"503\":{\"status\":503,\"code\":\"unavailable\",\"message\":\"service unavailable\"},"
    "\"507\":{\"status\":507,\"code\":\"sim_full\",\"message\":"
    "\"segsim: magic-id counter map is full; restart the simulator\"}}";

static const cJSON *member(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* ---- functions that read the request ---- */

/* body('a.0.b'): the member at a dotted path (numbers index arrays); none when absent. */
static struct sim_val body_at(const struct sim_run *run, const char *path)
{
    const cJSON *at = run->body;
    char part[64];

    while (at && path && *path) {
        size_t n = strcspn(path, ".");

        snprintf(part, sizeof(part), "%.*s", (int)n, path);
        at = part[0] >= '0' && part[0] <= '9' ? cJSON_GetArrayItem(at, atoi(part))
                                              : member(at, part);
        path += n + (path[n] == '.');
    }
    if (!at) {
        struct sim_val none = {SIM_V_NONE, 0, NULL, NULL};

        return none;
    }
    return sim_v_json(at);
}

struct args_acc {
    cJSON *list;
    int split; /* csv(): comma-separated parts, empty ones left out */
    int bad;
};

static void collect_arg(void *cls, const char *value)
{
    struct args_acc *acc = cls;

    while (value && !acc->bad) {
        size_t n = acc->split ? strcspn(value, ",") : strlen(value);
        cJSON *s;

        if (n > 0 || !acc->split) {
            char *part = strndup(value, n);

            s = part ? cJSON_CreateString(part) : NULL;
            free(part);
            if (!s || !cJSON_AddItemToArray(acc->list, s)) {
                cJSON_Delete(s);
                acc->bad = 1;
            }
        }
        value = value[n] == ',' && acc->split ? value + n + 1 : NULL;
    }
}

static int hook(struct sim_ctx *c, const char *fn, const struct sim_val *argv, int argc,
                struct sim_val *out)
{
    struct sim_run *run = c->host;
    const char *a0 = argc > 0 ? sim_val_text(c, argv[0]) : NULL;
    char buf[64];

    if (argc > 0 && !a0) {
        return -1;
    }
    if (!strcmp(fn, "arg") && argc == 1) {
        *out = sim_v_str(sim_req_arg(run->rq, a0));
    } else if ((!strcmp(fn, "args") || !strcmp(fn, "csv")) && argc == 1) {
        struct args_acc acc = {sim_arena_own(&c->arena, cJSON_CreateArray()), fn[0] == 'c', 0};

        if (!acc.list) {
            return -1;
        }
        sim_req_each_arg(run->rq, a0, collect_arg, &acc);
        *out = sim_v_json(acc.list);
        return acc.bad ? -1 : 0;
    } else if (!strcmp(fn, "header") && argc == 1) {
        *out = sim_v_str(sim_req_header(run->rq, a0));
    } else if (!strcmp(fn, "body") && argc <= 1) {
        *out = body_at(run, a0);
    } else if (!strcmp(fn, "want") && argc == 1) {
        *out = sim_v_bool(!run->wanted || sim_list_has(run->wanted, a0));
    } else if (!strcmp(fn, "cursor") && argc == 1) {
        if (sim_jcursor_encode(sim_val_num(argv[0]), buf, sizeof(buf)) != 0) {
            return -1;
        }
        *out = sim_v_str(sim_arena_strndup(&c->arena, buf, strlen(buf)));
    } else if (!strcmp(fn, "next_seq") && argc == 0) {
        *out = sim_v_int((long long)sim_state_next_seq(run->rq->st));
    } else {
        return 1;
    }
    return 0;
}

/* ---- helpers shared with the other interpreter modules (sim_run.h) ---- */

int sim_run_num(struct sim_run *run, const cJSON *v, long long dflt, long long *out)
{
    struct sim_val x;

    *out = dflt;
    if (cJSON_IsNumber(v)) {
        *out = (long long)v->valuedouble;
    } else if (cJSON_IsString(v)) {
        if (sim_eval_text(&run->cx, v->valuestring, &x) != 0) {
            return -1;
        }
        *out = sim_val_num(x);
    }
    return 0;
}

int sim_run_bind_record(struct sim_run *run, int i)
{
    const cJSON *ids = member(run->p->doc, "ids");
    const char *prefix = cJSON_GetStringValue(member(ids, "prefix"));
    long long base =
        cJSON_IsNumber(member(ids, "base")) ? (long long)member(ids, "base")->valuedouble : 0;
    const char *id;

    if (sim_bind(&run->cx, "i", sim_v_int(i)) != 0 ||
        sim_rows_bind(&run->cx, run->p->set, i) != 0) {
        return -1;
    }
    if (!prefix) {
        return 0; /* the record's own id field is the id */
    }
    id = sim_arena_printf(&run->cx.arena, "%s%lld", prefix, base + i);
    return id ? sim_bind(&run->cx, "id", sim_v_str(id)) : -1;
}

/* Index of the record with this id, or -1: ids the profile writes as prefix + number, or the
 * records' own id field. */
static int find_record(struct sim_run *run, const char *id, int *idx)
{
    const cJSON *ids = member(run->p->doc, "ids");
    const char *prefix = cJSON_GetStringValue(member(ids, "prefix"));
    int n = sim_rows_count(run->p->set);
    long v;
    int i;

    *idx = -1;
    if (prefix) {
        long base =
            cJSON_IsNumber(member(ids, "base")) ? (long)member(ids, "base")->valuedouble : 0;
        size_t pl = strlen(prefix);

        if (!strncmp(id, prefix, pl) && sim_parse_long(id + pl, base, base + n - 1, &v) == 0) {
            *idx = (int)(v - base);
        }
        return 0;
    }
    for (i = 0; i < n && *idx < 0; i++) {
        size_t scope = run->cx.nbinds;
        const struct sim_val *have;

        if (sim_run_bind_record(run, i) != 0) {
            return -1;
        }
        have = sim_lookup(&run->cx, "id");
        if (have && have->t == SIM_V_STR && !strcmp(have->s, id)) {
            *idx = i;
        }
        run->cx.nbinds = scope;
    }
    return 0;
}

/* Bind each member of obj in order: strings are evaluated, objects and arrays rendered as
 * templates (so an error's "source": {"parameter": "{…}"} is evaluated too). */
static int bind_members(struct sim_run *run, const cJSON *obj)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, obj)
    {
        cJSON *j = NULL;

        if (!cJSON_IsObject(it) && !cJSON_IsArray(it)) {
            if (sim_bind_json(&run->cx, it->string, it) != 0) {
                return -1;
            }
            continue;
        }
        if (sim_tmpl_render(run, it, &j) != 0 || (j && !sim_arena_own(&run->cx.arena, j)) ||
            sim_bind(&run->cx, it->string, j ? sim_v_json(j) : sim_v_null()) != 0) {
            return -1;
        }
    }
    return 0;
}

static int reply_doc(struct sim_run *run, unsigned status, const cJSON *tmpl)
{
    cJSON *doc = NULL;

    if (sim_tmpl_render(run, tmpl, &doc) != 0) {
        return -1;
    }
    if (!doc) {
        doc = cJSON_CreateNull();
    }
    return sim_reply_json(run->r, status, run->p->content_type, doc) == 0 ? 1 : -1;
}

/* Error spec over defaults: bind both (spec wins), then the spec's own body or the profile's
 * error template. Unset names in the template are null. */
static int error_over(struct sim_run *run, const cJSON *dflt, const cJSON *spec)
{
    size_t scope = run->cx.nbinds;
    const cJSON *body = member(spec, "body");
    const struct sim_val *st;
    int rc;

    run->cx.lenient = 1;
    rc = bind_members(run, dflt) != 0 || bind_members(run, spec) != 0 ? -1 : 0;
    st = sim_lookup(&run->cx, "status");
    if (rc == 0) {
        unsigned status = st ? (unsigned)sim_val_num(*st) : 500;

        rc = reply_doc(run, status, body ? body : member(member(run->p->doc, "errors"), "body"));
    }
    run->cx.lenient = 0;
    run->cx.nbinds = scope;
    return rc;
}

int sim_run_error(struct sim_run *run, const cJSON *spec)
{
    if (!spec) {
        return sim_run_named_error(run, "no_route");
    }
    return error_over(run, NULL, spec);
}

int sim_run_named_error(struct sim_run *run, const char *name)
{
    cJSON *defaults = cJSON_Parse(default_errors);
    int rc;

    if (!defaults) {
        return -1;
    }
    rc = error_over(run, member(defaults, name), member(member(run->p->doc, "errors"), name));
    cJSON_Delete(defaults);
    return rc;
}

/* A magic-id or fault decision: 0 to go on (after adding its delay), 1 when it answered. */
static int answer_outcome(struct sim_run *run, const struct sim_decision *d)
{
    static const char *const names[] = {[SIM_OUT_404] = "404",
                                        [SIM_OUT_429] = "429",
                                        [SIM_OUT_500] = "500",
                                        [SIM_OUT_503] = "503",
                                        [SIM_OUT_507] = "507"};

    run->r->delay_ms += d->delay_ms;
    if (d->outcome == SIM_OUT_NOT_MAGIC || d->outcome == SIM_OUT_OK) {
        return 0;
    }
    if (d->outcome == SIM_OUT_BAD_JSON) {
        return sim_reply_text(run->r, 200, run->p->content_type, run->p->bad_json) == 0 ? 1 : -1;
    }
    if (d->outcome == SIM_OUT_429 &&
        sim_bind(&run->cx, "retry_after", sim_v_int(d->retry_after_s)) != 0) {
        return -1;
    }
    return sim_run_named_error(run, names[d->outcome]);
}

/* ---- steps ---- */

static int run_steps(struct sim_run *run, const cJSON *steps);

static const char *eval_text(struct sim_run *run, const cJSON *v)
{
    struct sim_val x;

    if (!cJSON_IsString(v) || sim_eval_text(&run->cx, v->valuestring, &x) != 0) {
        if (!run->cx.err[0]) {
            snprintf(run->cx.err, sizeof(run->cx.err), "a step needs an expression string");
        }
        return NULL;
    }
    return sim_val_text(&run->cx, x);
}

/* {"lookup": "{id}"}: a magic id answers or stands for record 0; otherwise the record with that
 * id, or the "missing" error. Binds the record and id = the value looked up. */
static int step_lookup(struct sim_run *run, const cJSON *step)
{
    const char *id = eval_text(run, member(step, "lookup"));
    struct sim_decision d;
    int idx = 0;
    int rc;

    if (!id) {
        return -1;
    }
    sim_magic_decide(run->rq->st, run->p->provider, id, &d);
    rc = answer_outcome(run, &d);
    if (rc != 0) {
        return rc;
    }
    if (d.outcome != SIM_OUT_OK && find_record(run, id, &idx) != 0) {
        return -1;
    }
    if (idx < 0) {
        return member(step, "missing") ? sim_run_error(run, member(step, "missing"))
                                       : sim_run_named_error(run, "missing");
    }
    if (sim_run_bind_record(run, idx) != 0 || sim_bind(&run->cx, "id", sim_v_str(id)) != 0) {
        return -1;
    }
    return 0;
}

/* {"magic": "{value}"}: only the magic-id decision; binds magic_ok (a synthetic success). */
static int step_magic(struct sim_run *run, const cJSON *step)
{
    const char *v = eval_text(run, member(step, "magic"));
    struct sim_decision d;
    int rc;

    if (!v) {
        return -1;
    }
    sim_magic_decide(run->rq->st, run->p->provider, v, &d);
    rc = answer_outcome(run, &d);
    if (rc != 0) {
        return rc;
    }
    return sim_bind(&run->cx, "magic_ok", sim_v_bool(d.outcome == SIM_OUT_OK));
}

/* {"enforce": "<RateLimit-Limit>"}: count the request in the fixed windows (--enforce-limits);
 * over them the answer is the profile's 429. Binds rl_remaining and rl_reset (-1 when off). */
static int step_enforce(struct sim_run *run, const cJSON *step)
{
    const char *limit = eval_text(run, member(step, "enforce"));
    long remaining = -1, reset_s = -1, wait_s = 0;
    struct sim_decision d = {SIM_OUT_429, 0, 0};

    if (!limit) {
        return -1;
    }
    if (!sim_watch_take(run->rq->watch, run->p->name, limit, run->rq->now_ms, &remaining, &reset_s,
                        &wait_s)) {
        d.retry_after_s = wait_s;
        return answer_outcome(run, &d);
    }
    return sim_bind(&run->cx, "rl_remaining", sim_v_int(remaining)) != 0 ||
                   sim_bind(&run->cx, "rl_reset", sim_v_int(reset_s)) != 0
               ? -1
               : 0;
}

/* {"fieldset": "<name of profile fieldsets>", "deny": [...]}: a sparse fieldset parameter
 * (comma list of names); want(field) then says whether a field was asked for. */
static int step_fieldset(struct sim_run *run, const cJSON *step)
{
    const cJSON *spec =
        member(member(run->p->doc, "fieldsets"), cJSON_GetStringValue(member(step, "fieldset")));
    const cJSON *names = member(spec, "names");
    const cJSON *deny = member(step, "deny");
    const char *arg = cJSON_GetStringValue(member(spec, "arg"));
    const char *s = arg ? sim_req_arg(run->rq, arg) : NULL;
    cJSON *wanted;
    char tok[40];

    if (!spec) {
        snprintf(run->cx.err, sizeof(run->cx.err), "unknown fieldset");
        return -1;
    }
    if (!s) {
        run->wanted = member(spec, "default");
        return 0;
    }
    wanted = sim_arena_own(&run->cx.arena, cJSON_CreateArray());
    if (!wanted) {
        return -1;
    }
    while (*s) {
        size_t len = strcspn(s, ",");
        const cJSON *field;

        if (len == 0 || len >= sizeof(tok)) {
            return sim_run_error(run, member(spec, "error"));
        }
        memcpy(tok, s, len);
        tok[len] = '\0';
        field = member(names, tok);
        if (!field || sim_list_has(deny, tok)) {
            return sim_run_error(run, member(spec, "error"));
        }
        if (cJSON_IsString(field) &&
            !cJSON_AddItemToArray(wanted, cJSON_CreateString(field->valuestring))) {
            return -1;
        }
        s += len + (s[len] == ',');
    }
    run->wanted = wanted;
    return 0;
}

/* {"reply": {"status", "body" | "raw", "headers"}}: the answer. */
static int step_reply(struct sim_run *run, const cJSON *spec)
{
    const cJSON *raw = member(spec, "raw");
    const cJSON *it;
    long long status;
    int rc = 1;

    if (sim_run_num(run, member(spec, "status"), 200, &status) != 0) {
        return -1;
    }
    if (cJSON_IsString(raw)) {
        rc = sim_reply_text(run->r, (unsigned)status, run->p->content_type, raw->valuestring) == 0
                 ? 1
                 : -1;
    } else if (member(spec, "body")) {
        rc = reply_doc(run, (unsigned)status, member(spec, "body"));
    } else {
        run->r->status = (unsigned)status; /* no body, no content type */
    }
    cJSON_ArrayForEach(it, member(spec, "headers"))
    {
        const char *v = eval_text(run, it);

        if (!v || sim_reply_header(run->r, it->string, "%s", v) != 0) {
            return -1;
        }
    }
    return rc;
}

static int run_step(struct sim_run *run, const cJSON *step)
{
    const cJSON *v;
    struct sim_decision d;

    if ((v = member(step, "set")) != NULL) {
        return bind_members(run, v);
    }
    if ((v = member(step, "check")) != NULL) {
        struct sim_val ok;

        if (!cJSON_IsString(v) || sim_eval_text(&run->cx, v->valuestring, &ok) != 0) {
            return -1;
        }
        return sim_val_truthy(ok) ? 0 : sim_run_error(run, member(step, "error"));
    }
    if ((v = member(step, "error")) != NULL) {
        return sim_run_error(run, v);
    }
    if (member(step, "fault")) {
        sim_magic_draw_fault(run->rq->st, run->p->provider, &d);
        return answer_outcome(run, &d);
    }
    if (member(step, "lookup")) {
        return step_lookup(run, step);
    }
    if (member(step, "magic")) {
        return step_magic(run, step);
    }
    if (member(step, "enforce")) {
        return step_enforce(run, step);
    }
    if ((v = member(step, "row")) != NULL) {
        long long i;

        return sim_run_num(run, v, 0, &i) != 0 ? -1 : sim_run_bind_record(run, (int)i);
    }
    if ((v = member(step, "page")) != NULL) {
        return sim_page_step(run, v);
    }
    if (member(step, "fieldset")) {
        return step_fieldset(run, step);
    }
    if ((v = member(step, "do")) != NULL) {
        return run_steps(run, member(member(run->p->doc, "procedures"), cJSON_GetStringValue(v)));
    }
    if ((v = member(step, "reply")) != NULL) {
        return step_reply(run, v);
    }
    snprintf(run->cx.err, sizeof(run->cx.err), "unknown step");
    return -1;
}

static int run_steps(struct sim_run *run, const cJSON *steps)
{
    const cJSON *step;

    cJSON_ArrayForEach(step, steps)
    {
        int rc = run_step(run, step);

        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- routes ---- */

/* "METHOD /path/{capture}/…" against the request: 1 and the captures bound, 0 when it does not
 * match, -1 on OOM. A capture is one non-empty path segment; one trailing '/' is accepted. */
static int match_route(struct sim_run *run, const char *route, const char *rest)
{
    const char *sp = strchr(route, ' ');
    const char *pat;

    if (!sp || !((sp - route == 1 && route[0] == '*') ||
                 ((size_t)(sp - route) == strlen(run->rq->method) &&
                  !strncmp(route, run->rq->method, (size_t)(sp - route))))) {
        return 0;
    }
    for (pat = sp + 1; *pat;) {
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            size_t n = strcspn(rest, "/");
            char *name;
            char *value;

            if (!close || n == 0 || n >= CAPTURE_MAX) {
                return 0;
            }
            name = sim_arena_strndup(&run->cx.arena, pat + 1, (size_t)(close - pat - 1));
            value = sim_arena_strndup(&run->cx.arena, rest, n);
            if (!name || !value || sim_bind(&run->cx, name, sim_v_str(value)) != 0) {
                return -1;
            }
            rest += n;
            pat = close + 1;
        } else if (*pat++ != *rest++) {
            return 0;
        }
    }
    return *rest == '\0' || (rest[0] == '/' && rest[1] == '\0');
}

/* Captures the profile pins to one value ("captures": {"pub": {"equals", "error"}}). */
static int check_captures(struct sim_run *run, size_t from)
{
    size_t k;

    for (k = from; k < run->cx.nbinds; k++) {
        const cJSON *spec = member(member(run->p->doc, "captures"), run->cx.binds[k].name);
        const char *want = cJSON_GetStringValue(member(spec, "equals"));

        if (want && strcmp(run->cx.binds[k].v.s, want) != 0) {
            return sim_run_error(run, member(spec, "error"));
        }
    }
    return 0;
}

static int route(struct sim_run *run)
{
    const char *rest = run->rq->path + strlen(run->p->mount);
    const cJSON *rt;

    cJSON_ArrayForEach(rt, member(run->p->doc, "routes"))
    {
        size_t scope = run->cx.nbinds;
        int m = match_route(run, cJSON_GetStringValue(member(rt, "route")), rest);
        int rc;

        if (m < 0) {
            return -1;
        }
        if (m == 0) {
            run->cx.nbinds = scope;
            continue;
        }
        rc = check_captures(run, scope);
        return rc != 0 ? rc : run_steps(run, member(rt, "do"));
    }
    return 0;
}

/* ---- the request ---- */

static int bind_request(struct sim_run *run)
{
    const struct sim_req *rq = run->rq;
    long long now_s = rq->now_ms / 1000;
    int bad = 0;

    bad |= sim_bind(&run->cx, "method", sim_v_str(rq->method));
    bad |= sim_bind(&run->cx, "path", sim_v_str(rq->path));
    bad |= sim_bind(&run->cx, "host", sim_v_str(rq->host));
    bad |= sim_bind(&run->cx, "mount", sim_v_str(run->p->mount));
    bad |= sim_bind(&run->cx, "key", sim_v_str(run->p->key));
    bad |= sim_bind(&run->cx, "now_ms", sim_v_int(rq->now_ms));
    bad |= sim_bind(&run->cx, "now_s", sim_v_int(now_s));
    bad |= sim_bind(&run->cx, "next_minute", sim_v_int(now_s + 60 - now_s % 60));
    bad |= sim_bind(&run->cx, "seq", sim_v_int((long long)rq->seq));
    bad |= sim_bind(&run->cx, "session_gen", sim_v_int((long long)sim_state_session_gen(rq->st)));
    bad |= sim_bind(&run->cx, "retry_after", sim_v_int(0));
    if (bad || bind_members(run, member(run->p->doc, "vars")) != 0) {
        return -1;
    }
    return bind_members(run, run->p->options);
}

/* The profile's rate-limit headers: "throttled" ones (and the wait promised) on a 429, the
 * ordinary ones on everything else. */
static int finish(struct sim_run *run)
{
    const cJSON *rl = member(run->p->doc, "ratelimit");
    const cJSON *spec = run->r->status == 429 ? member(rl, "throttled") : rl;
    const cJSON *it;
    long long ms;

    if (sim_bind(&run->cx, "status", sim_v_int(run->r->status)) != 0) {
        return -1;
    }
    cJSON_ArrayForEach(it, member(spec, "headers"))
    {
        struct sim_val v;
        const char *text;

        if (!cJSON_IsString(it) || sim_eval_text(&run->cx, it->valuestring, &v) != 0) {
            return -1;
        }
        if (v.t == SIM_V_NONE) {
            continue;
        }
        text = sim_val_text(&run->cx, v);
        if (!text || sim_reply_header(run->r, it->string, "%s", text) != 0) {
            return -1;
        }
    }
    if (member(spec, "wait_ms")) {
        if (sim_run_num(run, member(spec, "wait_ms"), 0, &ms) != 0) {
            return -1;
        }
        run->r->promise_rel_ms = (long)ms;
    }
    if (member(spec, "wait_until_ms")) {
        if (sim_run_num(run, member(spec, "wait_until_ms"), 0, &ms) != 0) {
            return -1;
        }
        run->r->promise_abs_ms = ms;
    }
    return 0;
}

static int serve(struct sim_run *run)
{
    int rc = bind_request(run);

    if (rc == 0) {
        rc = sim_auth_ok(run);
        rc = rc < 0 ? -1 : rc == 0 ? sim_run_named_error(run, "auth") : 0;
    }
    if (rc == 0) {
        rc = run_steps(run, member(run->p->doc, "before"));
    }
    if (rc == 0) {
        rc = route(run);
    }
    if (rc == 0) {
        rc = sim_run_named_error(run, "no_route");
    }
    return rc < 0 ? -1 : finish(run);
}

int sim_engine_handle(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r)
{
    struct sim_run run;
    char msg[256];
    int rc;

    memset(&run, 0, sizeof(run));
    run.p = p;
    run.rq = rq;
    run.r = r;
    run.cx.hook = hook;
    run.cx.host = &run;
    run.body = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->body_len);
    rc = serve(&run);
    if (rc != 0 && run.cx.err[0] && strcmp(run.cx.err, "out of memory") != 0) {
        /* A mistake in the profile: say so instead of a bare 500. */
        cJSON *doc = cJSON_CreateObject();

        snprintf(msg, sizeof(msg), "segsim profile %s: %s", p->name, run.cx.err);
        sim_reply_free(r);
        rc = doc && cJSON_AddStringToObject(doc, "error", msg)
                 ? sim_reply_json(r, 500, "application/json", doc)
                 : (cJSON_Delete(doc), -1);
    }
    cJSON_Delete(run.body);
    sim_arena_free(&run.cx.arena);
    free(run.cx.binds);
    return rc;
}
