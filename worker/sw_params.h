/* What a job may pass to one operation of a provider: its params and provider options, as the
 * adapter declares them (name, types, allowed values, bounds, required, the account setting a
 * param scopes), checked by the engine before any request is built. A job whose params the
 * operation does not take, or takes in another form, fails with invalid_params naming the param
 * and the closest name the operation does take; nothing a job sends is ever silently ignored.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_PARAMS_H
#define SW_PARAMS_H

#include "sw_err.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

struct sw_job;

/* JSON types a declaration accepts (bits). An integer is a number without a fraction. */
enum {
    SW_PT_STRING = 1,
    SW_PT_INTEGER = 2,
    SW_PT_NUMBER = 4,
    SW_PT_BOOLEAN = 8,
    SW_PT_OBJECT = 16,
    SW_PT_ARRAY = 32
};

struct sw_param_decl {
    const char *name;          /* "id"; a key inside an object param is named "workspace.id" */
    unsigned types;            /* SW_PT_* */
    unsigned items;            /* arrays: what each element may be (SW_PT_*); 0: any scalar */
    const char *const *values; /* strings (and string elements) must be one of these; n 0: any */
    int nvalues;
    int has_min, has_max; /* integers (and integer elements): inclusive bounds */
    long long min, max;
    int required;       /* absent (and no account setting it falls back to) is invalid_params */
    const char *scopes; /* the account setting this param scopes and falls back to (settings.X:
                           a tenant boundary); NULL: none */
    const char *doc;    /* one line for `segworker providers --params` and PROVIDERS.md */
};

/* The declarations of one variant of an operation. */
struct sw_param_set {
    const struct sw_param_decl *params;
    int nparams;
    const struct sw_param_decl *options; /* provider options (options.X the engine leaves to the
                                            provider, such as Klaviyo's revision) */
    int noptions;
    const char *const *changes; /* an update: at least one of these params must be given */
    int nchanges;
    const char *const *elsewhere; /* params only another variant of the operation takes */
    int nelsewhere;
    const char *selected_by; /* what selects this variant ("params.definition"); NULL: default */
    int resumable;           /* a list that takes params.resume (the engine's own param) */
};

/* The JSON type bits of v (0 for NULL or null). */
unsigned sw_params_type_of(const cJSON *v);
/* "string", "string|integer", ... into buf; returns buf. */
const char *sw_params_type_name(unsigned types, char *buf, size_t n);

/* Check the job's params and provider options against set: unknown names (with the closest
 * declared one), types, allowed values, bounds, required params (an absent one is fine when
 * settings has its scopes setting), and an update with nothing to change. 0, or -1 with st
 * invalid_params. what names the operation in messages ("klaviyo segments.get"). set NULL: the
 * operation declares nothing, so params are not checked but options must be the engine's own. */
int sw_params_check(const struct sw_param_set *set, const struct sw_job *job, const cJSON *settings,
                    const char *what, struct sw_status *st);

/* The declarations of set as text, one line each ("  params.id  string|integer  required ...");
 * NULL set: "  (not declared)". */
void sw_params_describe(const struct sw_param_set *set, FILE *out);
/* One line for PROVIDERS.md: the params in backquotes, required ones starred, scoped ones with
 * their setting ("`list_id`* (else settings.list_id)"), then the provider options. */
void sw_params_summary(const struct sw_param_set *set, FILE *out);

#endif
