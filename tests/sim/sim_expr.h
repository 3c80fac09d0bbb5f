/* The expression language of the simulator profiles (README "Profile format"): values, variable
 * bindings and an evaluator for the `{…}` parts of templates. Functions that read the request are
 * supplied by the caller through a hook, so this module knows nothing of HTTP.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_EXPR_H
#define SIM_EXPR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sim_arena.h"

enum sim_vtype {
    SIM_V_NONE = 0, /* "leave this member out" (the keyword none, an unbound request value) */
    SIM_V_NULL,
    SIM_V_BOOL,
    SIM_V_INT,
    SIM_V_STR,
    SIM_V_JSON /* a borrowed cJSON value: request body parts, lists, JSON fields of records */
};

struct sim_val {
    enum sim_vtype t;
    long long i;    /* SIM_V_BOOL, SIM_V_INT */
    const char *s;  /* SIM_V_STR */
    const cJSON *j; /* SIM_V_JSON */
};

struct sim_bind {
    const char *name; /* must outlive the binding (profile text, arena or a literal) */
    struct sim_val v;
};

struct sim_ctx;

/* Extra functions (the request's arg(), header(), body() …): 0 when handled, 1 when fn is not
 * one of the hook's, -1 on error (message in c->err). */
typedef int (*sim_expr_hook)(struct sim_ctx *c, const char *fn, const struct sim_val *argv,
                             int argc, struct sim_val *out);

struct sim_ctx {
    struct sim_arena arena;
    struct sim_bind *binds;
    size_t nbinds;
    size_t cap;
    sim_expr_hook hook;
    void *host;     /* the hook's own state */
    int check_only; /* parse without evaluating (profile validation) */
    int lenient;    /* unknown variables are null instead of an error (error templates) */
    char err[192];
};

struct sim_val sim_v_int(long long i);
struct sim_val sim_v_bool(int b);
struct sim_val sim_v_str(const char *s); /* NULL gives null */
struct sim_val sim_v_json(const cJSON *j);
struct sim_val sim_v_null(void);

/* Bind name to v (shadows earlier bindings of the name). 0, or -1 on OOM. */
int sim_bind(struct sim_ctx *c, const char *name, struct sim_val v);
/* Parse the JSON scalar or expression text and bind it: numbers, strings ("{…}" evaluated),
 * booleans and null. 0, or -1 with c->err. */
int sim_bind_json(struct sim_ctx *c, const char *name, const cJSON *value);
/* The latest binding of name, or NULL. */
const struct sim_val *sim_lookup(const struct sim_ctx *c, const char *name);

/* Evaluate the expression text src[0..len). 0, or -1 with c->err. */
int sim_eval(struct sim_ctx *c, const char *src, size_t len, struct sim_val *out);
/* Evaluate a template string: "{expr}" alone keeps the value's type, anything else is text with
 * each {expr} replaced by its text ("{{" is a literal brace). 0, or -1 with c->err. */
int sim_eval_text(struct sim_ctx *c, const char *tmpl, struct sim_val *out);

/* JSON scalars become plain values; objects and arrays stay JSON. */
struct sim_val sim_val_plain(struct sim_val v);
int sim_val_truthy(struct sim_val v);
/* The value as text in the arena (integers in decimal, null as "null"); NULL on OOM. */
const char *sim_val_text(struct sim_ctx *c, struct sim_val v);
/* A new cJSON for the value; NULL on OOM or for SIM_V_NONE. */
cJSON *sim_val_to_json(struct sim_val v);
/* Integer value of a number or of a string's leading digits; 0 otherwise. */
long long sim_val_num(struct sim_val v);

/* 1 when the JSON lists (an array of strings) contains s. */
int sim_list_has(const cJSON *list, const char *s);

#endif
