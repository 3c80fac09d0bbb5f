/* A job's params and provider options checked against an operation's declarations (see
 * sw_params.h); every "unknown name" message carries the closest declared name.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_params.h"

#include "sw_job.h"
#include "sw_suggest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Candidates gathered for one suggestion. */
#define MAX_CANDS 96
/* "workspace.id" and the like: a declared name is at most this long. */
#define MAX_NAME 160

unsigned sw_params_type_of(const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    if (cJSON_IsString(v)) {
        return SW_PT_STRING;
    }
    if (cJSON_IsBool(v)) {
        return SW_PT_BOOLEAN;
    }
    if (cJSON_IsNumber(v)) {
        return v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.0e15
                   ? SW_PT_INTEGER | SW_PT_NUMBER
                   : SW_PT_NUMBER;
    }
    if (cJSON_IsArray(v)) {
        return SW_PT_ARRAY;
    }
    return cJSON_IsObject(v) ? SW_PT_OBJECT : 0;
}

const char *sw_params_type_name(unsigned types, char *buf, size_t n)
{
    static const char *const names[] = {"string",  "integer", "number",
                                        "boolean", "object",  "array"};
    size_t used = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; i < 6; i++) {
        if (types & (1u << i)) {
            int w = snprintf(buf + used, n - used, "%s%s", used ? "|" : "", names[i]);

            if (w < 0 || (size_t)w >= n - used) {
                break;
            }
            used += (size_t)w;
        }
    }
    return buf;
}

static const struct sw_param_decl *find_decl(const struct sw_param_decl *v, int n, const char *name)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!strcmp(v[i].name, name)) {
            return &v[i];
        }
    }
    return NULL;
}

/* Whether some declaration names a key inside prefix ("workspace" for "workspace.id"). */
static int has_keys_under(const struct sw_param_decl *v, int n, const char *prefix)
{
    size_t l = strlen(prefix);
    int i;

    for (i = 0; i < n; i++) {
        if (!strncmp(v[i].name, prefix, l) && v[i].name[l] == '.') {
            return 1;
        }
    }
    return 0;
}

/* The names declared at the level of prefix ("" is the top), for a suggestion. */
static size_t names_at(const struct sw_param_decl *v, int n, const char *prefix, const char **out,
                       char (*store)[MAX_NAME], size_t cap)
{
    size_t l = strlen(prefix);
    size_t k = 0;
    int i;

    for (i = 0; i < n && k < cap; i++) {
        const char *rest = v[i].name;
        size_t len;

        if (l) {
            if (strncmp(rest, prefix, l) || rest[l] != '.') {
                continue;
            }
            rest += l + 1;
        }
        len = strcspn(rest, ".");
        snprintf(store[k], MAX_NAME, "%.*s", (int)len, rest);
        out[k] = store[k];
        k++;
    }
    return k;
}

static int fail(struct sw_status *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct sw_status *st, const char *fmt, ...)
{
    va_list ap;

    sw_status_set(st, SW_E_INVALID_PARAMS, SW_CLASS_TERMINAL, "%s", "");
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* " (did you mean X?)" into buf, or "". */
static const char *hint(const char *word, const char *const *cands, size_t n, char *buf, size_t len)
{
    const char *s = sw_suggest_among(word, cands, n);

    buf[0] = '\0';
    if (s) {
        snprintf(buf, len, " (did you mean %s?)", s);
    }
    return buf;
}

static int one_of(const struct sw_param_decl *d, const char *s)
{
    int i;

    for (i = 0; i < d->nvalues; i++) {
        if (!strcmp(d->values[i], s)) {
            return 1;
        }
    }
    return 0;
}

/* A scalar against the declaration's values and bounds. */
static int check_scalar(const struct sw_param_decl *d, const char *scope, const char *name,
                        const cJSON *v, struct sw_status *st)
{
    char cands[256];
    char h[96];
    int i;
    size_t used = 0;

    if (cJSON_IsString(v) && d->nvalues && !one_of(d, v->valuestring)) {
        cands[0] = '\0';
        for (i = 0; i < d->nvalues && used < sizeof(cands); i++) {
            int w =
                snprintf(cands + used, sizeof(cands) - used, "%s%s", i ? ", " : "", d->values[i]);

            used += w > 0 && (size_t)w < sizeof(cands) - used ? (size_t)w : sizeof(cands) - used;
        }
        return fail(st, "%s.%s: \"%.64s\" is not one of %s%s", scope, name, v->valuestring, cands,
                    hint(v->valuestring, d->values, (size_t)d->nvalues, h, sizeof(h)));
    }
    if (cJSON_IsNumber(v) && ((d->has_min && v->valuedouble < (double)d->min) ||
                              (d->has_max && v->valuedouble > (double)d->max))) {
        if (d->has_min && d->has_max) {
            return fail(st, "%s.%s must be between %lld and %lld", scope, name, d->min, d->max);
        }
        return d->has_min ? fail(st, "%s.%s must be at least %lld", scope, name, d->min)
                          : fail(st, "%s.%s must be at most %lld", scope, name, d->max);
    }
    return 0;
}

static int check_value(const struct sw_param_decl *d, const char *scope, const char *name,
                       const cJSON *v, struct sw_status *st)
{
    unsigned t = sw_params_type_of(v);
    char want[64];
    const cJSON *c;

    if (!t) {
        return 0; /* null: as if absent */
    }
    if (!(t & d->types)) {
        return fail(st, "%s.%s must be %s", scope, name,
                    sw_params_type_name(d->types, want, sizeof(want)));
    }
    if (!cJSON_IsArray(v)) {
        return check_scalar(d, scope, name, v, st);
    }
    cJSON_ArrayForEach(c, v)
    {
        unsigned ct = sw_params_type_of(c);
        unsigned allowed = d->items ? d->items : SW_PT_STRING | SW_PT_NUMBER | SW_PT_BOOLEAN;

        if (!(ct & allowed)) {
            return fail(st, "%s.%s must be an array of %s", scope, name,
                        sw_params_type_name(allowed, want, sizeof(want)));
        }
        if (check_scalar(d, scope, name, c, st)) {
            return -1;
        }
    }
    return 0;
}

static int listed(const char *const *v, int n, const char *name)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!strcmp(v[i], name)) {
            return 1;
        }
    }
    return 0;
}

/* Every member of obj (the params, or an object param at prefix) is declared, and of its type. */
static int check_object(const struct sw_param_set *set, const cJSON *obj, const char *prefix,
                        const char *what, struct sw_status *st)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, obj)
    {
        char full[MAX_NAME];
        const struct sw_param_decl *d;
        const char *names[MAX_CANDS];
        char store[MAX_CANDS][MAX_NAME];
        char h[96];
        size_t n;

        if (snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "", c->string) >=
            (int)sizeof(full)) {
            return fail(st, "params: a name is longer than %d bytes", MAX_NAME - 1);
        }
        if (!*prefix && set->resumable && !strcmp(c->string, "resume")) {
            continue; /* the engine's own (sw_resume.h) */
        }
        d = find_decl(set->params, set->nparams, full);
        if (d) {
            if (check_value(d, "params", full, c, st)) {
                return -1;
            }
            if (cJSON_IsObject(c) && has_keys_under(set->params, set->nparams, full) &&
                check_object(set, c, full, what, st)) {
                return -1;
            }
            continue;
        }
        if (has_keys_under(set->params, set->nparams, full)) {
            if (!cJSON_IsObject(c)) {
                return fail(st, "params.%s must be an object", full);
            }
            if (check_object(set, c, full, what, st)) {
                return -1;
            }
            continue;
        }
        if (!*prefix && listed(set->elsewhere, set->nelsewhere, full)) {
            return fail(st, "params.%s cannot be combined with %s in %s", full,
                        set->selected_by ? set->selected_by : "the other params", what);
        }
        n = names_at(set->params, set->nparams, prefix, names, store, MAX_CANDS);
        return fail(st, "params.%s is not a parameter of %s%s", full, what,
                    hint(c->string, names, n, h, sizeof(h)));
    }
    return 0;
}

/* The value at a dotted name inside params. */
static const cJSON *lookup(const cJSON *params, const char *name)
{
    char buf[MAX_NAME];
    char *k;
    char *save = NULL;
    const cJSON *v = params;

    snprintf(buf, sizeof(buf), "%s", name);
    for (k = strtok_r(buf, ".", &save); v && k; k = strtok_r(NULL, ".", &save)) {
        v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, k) : NULL;
    }
    return v;
}

static int check_required(const struct sw_param_set *set, const struct sw_job *job,
                          const cJSON *settings, const char *what, struct sw_status *st)
{
    int i;

    for (i = 0; i < set->nparams; i++) {
        const struct sw_param_decl *d = &set->params[i];

        if (!d->required || sw_params_type_of(lookup(job->params, d->name))) {
            continue;
        }
        if (d->scopes && sw_params_type_of(cJSON_GetObjectItemCaseSensitive(settings, d->scopes))) {
            continue;
        }
        if (d->scopes) {
            return fail(st, "params.%s is required by %s (or the account's settings.%s)", d->name,
                        what, d->scopes);
        }
        return fail(st, "params.%s is required by %s", d->name, what);
    }
    if (set->nchanges) {
        char list[256];
        size_t used = 0;

        for (i = 0; i < set->nchanges; i++) {
            int w;

            if (sw_params_type_of(lookup(job->params, set->changes[i]))) {
                return 0;
            }
            w = snprintf(list + used, sizeof(list) - used, "%sparams.%s", i ? ", " : "",
                         set->changes[i]);
            used += w > 0 && (size_t)w < sizeof(list) - used ? (size_t)w : sizeof(list) - used;
        }
        return fail(st, "%s has nothing to change: give at least one of %s", what, list);
    }
    return 0;
}

static int check_options(const struct sw_param_set *set, const struct sw_job *job, const char *what,
                         struct sw_status *st)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, job->options)
    {
        const struct sw_param_decl *d;
        const char *names[MAX_CANDS];
        char h[96];
        int n = 0;
        int i;

        if (sw_job_engine_option(c->string)) {
            continue;
        }
        d = find_decl(set->options, set->noptions, c->string);
        if (d) {
            if (check_value(d, "options", c->string, c, st)) {
                return -1;
            }
            continue;
        }
        for (i = 0; i < set->noptions && n < MAX_CANDS; i++) {
            names[n++] = set->options[i].name;
        }
        return fail(st, "options.%s is not an option of %s%s", c->string, what,
                    hint(c->string, names, (size_t)n, h, sizeof(h)));
    }
    return 0;
}

int sw_params_check(const struct sw_param_set *set, const struct sw_job *job, const cJSON *settings,
                    const char *what, struct sw_status *st)
{
    static const struct sw_param_set none; /* undeclared: only the engine's own options */

    if (!set) {
        return check_options(&none, job, what, st);
    }
    if (check_object(set, job->params, "", what, st) ||
        check_required(set, job, settings, what, st) || check_options(set, job, what, st)) {
        return -1;
    }
    return 0;
}

#define SW_PT_ALL                                                                                  \
    (SW_PT_STRING | SW_PT_INTEGER | SW_PT_NUMBER | SW_PT_BOOLEAN | SW_PT_OBJECT | SW_PT_ARRAY)

static void describe_one(const char *scope, const struct sw_param_decl *d, FILE *out)
{
    char t[64];
    char full[200];
    int i;

    snprintf(full, sizeof(full), "%s.%s", scope, d->name);
    fprintf(out, "  %-35s %-14s", full,
            d->types == SW_PT_ALL ? "any" : sw_params_type_name(d->types, t, sizeof(t)));
    if (d->required) {
        fprintf(out, " required");
    }
    if (d->scopes) {
        fprintf(out, " (else the account's settings.%s)", d->scopes);
    }
    for (i = 0; i < d->nvalues; i++) {
        fprintf(out, "%s%s", i ? "|" : " one of ", d->values[i]);
    }
    if (d->has_min) {
        fprintf(out, " min %lld", d->min);
    }
    if (d->has_max) {
        fprintf(out, " max %lld", d->max);
    }
    if (d->doc) {
        fprintf(out, " - %s", d->doc);
    }
    fprintf(out, "\n");
}

void sw_params_describe(const struct sw_param_set *set, FILE *out)
{
    int i;

    if (!set) {
        fprintf(out, "  (not declared)\n");
        return;
    }
    for (i = 0; i < set->nparams; i++) {
        describe_one("params", &set->params[i], out);
    }
    if (set->resumable) {
        fprintf(out, "  params.%-28s %-14s a failed list's resume object: continue there\n",
                "resume", "object");
    }
    for (i = 0; i < set->noptions; i++) {
        describe_one("options", &set->options[i], out);
    }
    if (set->nchanges) {
        fprintf(out, "  at least one of:");
        for (i = 0; i < set->nchanges; i++) {
            fprintf(out, " params.%s", set->changes[i]);
        }
        fprintf(out, "\n");
    }
}

void sw_params_summary(const struct sw_param_set *set, FILE *out)
{
    int i;

    for (i = 0; set && i < set->nparams; i++) {
        const struct sw_param_decl *d = &set->params[i];

        fprintf(out, "%s`%s`%s", i ? ", " : "", d->name, d->required ? "*" : "");
        if (d->scopes) {
            fprintf(out, " (else `settings.%s`)", d->scopes);
        }
    }
    if (set && set->resumable) {
        fprintf(out, "%s`resume`", set->nparams ? ", " : "");
    }
    for (i = 0; set && i < set->noptions; i++) {
        fprintf(out, "; `options.%s`", set->options[i].name);
    }
    if (!set || (!set->nparams && !set->resumable)) {
        fprintf(out, "%s", set && set->noptions ? "" : "-");
    }
}
