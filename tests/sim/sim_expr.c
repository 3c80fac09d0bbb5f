/* Evaluator of the profile expression language (see sim_expr.h and README "Expressions"): a
 * recursive-descent pass over the text that evaluates as it parses; a skip flag walks the branch
 * not taken (and the whole text when only checking a profile).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_expr.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ARGS 16

struct ps {
    struct sim_ctx *c;
    const char *p;
    const char *end;
    int skip;
};

struct sim_val sim_v_int(long long i)
{
    struct sim_val v = {SIM_V_INT, i, NULL, NULL};

    return v;
}

struct sim_val sim_v_bool(int b)
{
    struct sim_val v = {SIM_V_BOOL, b != 0, NULL, NULL};

    return v;
}

struct sim_val sim_v_null(void)
{
    struct sim_val v = {SIM_V_NULL, 0, NULL, NULL};

    return v;
}

struct sim_val sim_v_str(const char *s)
{
    struct sim_val v = {SIM_V_STR, 0, s, NULL};

    return s ? v : sim_v_null();
}

struct sim_val sim_v_json(const cJSON *j)
{
    struct sim_val v = {SIM_V_JSON, 0, NULL, j};

    return j ? v : sim_v_null();
}

int sim_bind(struct sim_ctx *c, const char *name, struct sim_val v)
{
    if (c->nbinds == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct sim_bind *nb = realloc(c->binds, cap * sizeof(*nb));

        if (!nb) {
            snprintf(c->err, sizeof(c->err), "out of memory");
            return -1;
        }
        c->binds = nb;
        c->cap = cap;
    }
    c->binds[c->nbinds].name = name;
    c->binds[c->nbinds++].v = v;
    return 0;
}

int sim_bind_json(struct sim_ctx *c, const char *name, const cJSON *value)
{
    struct sim_val v;

    if (cJSON_IsString(value)) {
        if (sim_eval_text(c, value->valuestring, &v) != 0) {
            return -1;
        }
    } else {
        v = sim_val_plain(sim_v_json(value));
    }
    return sim_bind(c, name, v);
}

const struct sim_val *sim_lookup(const struct sim_ctx *c, const char *name)
{
    size_t i = c->nbinds;

    while (i-- > 0) {
        if (strcmp(c->binds[i].name, name) == 0) {
            return &c->binds[i].v;
        }
    }
    return NULL;
}

struct sim_val sim_val_plain(struct sim_val v)
{
    if (v.t != SIM_V_JSON) {
        return v;
    }
    if (cJSON_IsString(v.j)) {
        return sim_v_str(v.j->valuestring);
    }
    if (cJSON_IsNumber(v.j)) {
        return sim_v_int((long long)v.j->valuedouble);
    }
    if (cJSON_IsBool(v.j)) {
        return sim_v_bool(cJSON_IsTrue(v.j));
    }
    if (cJSON_IsNull(v.j)) {
        return sim_v_null();
    }
    return v;
}

int sim_val_truthy(struct sim_val v)
{
    v = sim_val_plain(v);
    switch (v.t) {
    case SIM_V_BOOL:
    case SIM_V_INT:
        return v.i != 0;
    case SIM_V_STR:
        return v.s[0] != '\0';
    case SIM_V_JSON:
        return 1;
    default:
        return 0;
    }
}

long long sim_val_num(struct sim_val v)
{
    v = sim_val_plain(v);
    if (v.t == SIM_V_INT || v.t == SIM_V_BOOL) {
        return v.i;
    }
    return v.t == SIM_V_STR ? strtoll(v.s, NULL, 10) : 0;
}

const char *sim_val_text(struct sim_ctx *c, struct sim_val v)
{
    char *s;

    v = sim_val_plain(v);
    switch (v.t) {
    case SIM_V_STR:
        return v.s;
    case SIM_V_INT:
        return sim_arena_printf(&c->arena, "%lld", v.i);
    case SIM_V_BOOL:
        return v.i ? "true" : "false";
    case SIM_V_JSON: {
        const char *kept;

        s = cJSON_PrintUnformatted(v.j);
        kept = s ? sim_arena_strndup(&c->arena, s, strlen(s)) : NULL;
        cJSON_free(s);
        return kept;
    }
    default:
        return "null";
    }
}

cJSON *sim_val_to_json(struct sim_val v)
{
    switch (v.t) {
    case SIM_V_NULL:
        return cJSON_CreateNull();
    case SIM_V_BOOL:
        return cJSON_CreateBool((int)v.i);
    case SIM_V_INT:
        return cJSON_CreateNumber((double)v.i);
    case SIM_V_STR:
        return cJSON_CreateString(v.s);
    case SIM_V_JSON:
        return cJSON_Duplicate(v.j, 1);
    default:
        return NULL;
    }
}

int sim_list_has(const cJSON *list, const char *s)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- lexing ---- */

static int fail(struct ps *ps, const char *msg)
{
    if (!ps->c->err[0]) {
        snprintf(ps->c->err, sizeof(ps->c->err), "%s at \"%.40s\"", msg, ps->p);
    }
    return -1;
}

static void ws(struct ps *ps)
{
    while (ps->p < ps->end && isspace((unsigned char)*ps->p)) {
        ps->p++;
    }
}

/* Consume the operator tok when it comes next. */
static int eat(struct ps *ps, const char *tok)
{
    size_t n = strlen(tok);

    ws(ps);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, tok, n) == 0) {
        /* "<" must not eat the start of "<=", "?" not the start of "??", "!" not "!=". */
        char next = ps->p + 1 < ps->end ? ps->p[1] : '\0';

        if (n == 1 && ((strchr("<>!", *tok) && next == '=') || (*tok == '?' && next == '?'))) {
            return 0;
        }
        ps->p += n;
        return 1;
    }
    return 0;
}

static int is_ident(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

/* ---- functions without request context ---- */

static const char *arg_text(struct ps *ps, struct sim_val v)
{
    v = sim_val_plain(v);
    return v.t == SIM_V_STR ? v.s : sim_val_text(ps->c, v);
}

static int fn_time(struct ps *ps, long long epoch, const char *fmt, struct sim_val *out)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    char buf[128];

    if (!gmtime_r(&t, &tm)) {
        return fail(ps, "bad time");
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* the format is the profile's */
    if (strftime(buf, sizeof(buf), fmt, &tm) == 0) {
        return fail(ps, "bad time format");
    }
#pragma GCC diagnostic pop
    out->t = SIM_V_STR;
    out->s = sim_arena_strndup(&ps->c->arena, buf, strlen(buf));
    return out->s ? 0 : fail(ps, "out of memory");
}

static int fn_regex(struct ps *ps, const char *s, const char *re, struct sim_val *out)
{
    regex_t rx;

    if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
        return fail(ps, "bad regular expression");
    }
    *out = sim_v_bool(regexec(&rx, s, 0, NULL, 0) == 0);
    regfree(&rx);
    return 0;
}

/* Percent-encode s (RFC 3986 unreserved characters kept) into the arena. */
static const char *urlenc(struct sim_arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = sim_arena_alloc(a, strlen(s) * 3 + 1);
    size_t n = 0;

    if (!out) {
        return NULL;
    }
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
    return out;
}

/* query(name1, value1, …): "?name1=value1&…" leaving out null values; names are written as given,
 * values percent-encoded; "" when every value is null. */
static int fn_query(struct ps *ps, const struct sim_val *argv, int argc, struct sim_val *out)
{
    const char *acc = "";
    int k;

    for (k = 0; k + 1 < argc; k += 2) {
        struct sim_val v = sim_val_plain(argv[k + 1]);
        const char *enc;

        if (v.t == SIM_V_NULL || v.t == SIM_V_NONE) {
            continue;
        }
        enc = urlenc(&ps->c->arena, arg_text(ps, v) ? arg_text(ps, v) : "");
        acc = enc ? sim_arena_printf(&ps->c->arena, "%s%c%s=%s", acc, acc[0] ? '&' : '?',
                                     arg_text(ps, argv[k]), enc)
                  : NULL;
        if (!acc) {
            return fail(ps, "out of memory");
        }
    }
    *out = sim_v_str(acc);
    return 0;
}

static int json_is(const struct sim_val *v, int (*is)(const cJSON *))
{
    return v->t == SIM_V_JSON && is(v->j);
}

/* Functions of one or more plain values. 1 when name is not one of them. */
static int call_pure(struct ps *ps, const char *fn, struct sim_val *a, int n, struct sim_val *out)
{
    struct sim_arena *ar = &ps->c->arena;
    const char *s0 = n > 0 ? arg_text(ps, a[0]) : NULL;
    const char *s1 = n > 1 ? arg_text(ps, a[1]) : NULL;
    struct sim_val p0 = n > 0 ? sim_val_plain(a[0]) : sim_v_null();
    const char *hit;
    int k;

    if (n > 0 && !s0) {
        return fail(ps, "out of memory");
    }
    if (!strcmp(fn, "iso") && n == 1) {
        return fn_time(ps, sim_val_num(a[0]), "%Y-%m-%dT%H:%M:%SZ", out);
    }
    if (!strcmp(fn, "utc") && n == 2) {
        return fn_time(ps, sim_val_num(a[0]), s1, out);
    }
    if ((!strcmp(fn, "pad") || !strcmp(fn, "hex")) && n == 2) {
        *out = sim_v_str(sim_arena_printf(ar, fn[0] == 'p' ? "%0*lld" : "%0*llx",
                                          (int)sim_val_num(a[1]), sim_val_num(a[0])));
        return out->s ? 0 : fail(ps, "out of memory");
    }
    if (!strcmp(fn, "num") && n == 1) {
        *out = sim_v_int(sim_val_num(a[0]));
        return 0;
    }
    if (!strcmp(fn, "str") && n == 1) {
        *out = sim_v_str(s0);
        return 0;
    }
    if (!strcmp(fn, "text") && n == 1) {
        *out = p0.t == SIM_V_STR ? p0 : sim_v_null();
        return 0;
    }
    if (!strcmp(fn, "pick") && n >= 2) {
        long long i = sim_val_num(a[0]);

        *out = i >= 0 && i < n - 1 ? a[i + 1] : sim_v_null();
        return 0;
    }
    if ((!strcmp(fn, "contains") || !strcmp(fn, "starts") || !strcmp(fn, "after")) && n == 2) {
        hit = strstr(s0, s1);
        if (fn[0] == 'c') {
            *out = sim_v_bool(hit != NULL);
        } else if (fn[0] == 's') {
            *out = sim_v_bool(strncmp(s0, s1, strlen(s1)) == 0);
        } else {
            *out = sim_v_str(hit ? hit + strlen(s1) : "");
        }
        return 0;
    }
    if (!strcmp(fn, "match") && n == 2) {
        return p0.t == SIM_V_STR ? fn_regex(ps, s0, s1, out) : (*out = sim_v_bool(0), 0);
    }
    if (!strcmp(fn, "urlenc") && n == 1) {
        *out = sim_v_str(urlenc(ar, s0));
        return out->s ? 0 : fail(ps, "out of memory");
    }
    if (!strcmp(fn, "query")) {
        return fn_query(ps, a, n, out);
    }
    if (!strcmp(fn, "list")) {
        cJSON *arr = sim_arena_own(ar, cJSON_CreateArray());

        for (k = 0; arr && k < n; k++) {
            cJSON *el = sim_val_to_json(sim_val_plain(a[k]));

            if (!el || !cJSON_AddItemToArray(arr, el)) {
                cJSON_Delete(el);
                return fail(ps, "out of memory");
            }
        }
        *out = sim_v_json(arr);
        return arr ? 0 : fail(ps, "out of memory");
    }
    if (!strcmp(fn, "oneof") && n >= 1) {
        for (k = 1; k < n; k++) {
            if (p0.t == SIM_V_STR && !strcmp(s0, arg_text(ps, a[k]))) {
                *out = sim_v_bool(1);
                return 0;
            }
        }
        *out = sim_v_bool(0);
        return 0;
    }
    if (n != 1 && n != 2) {
        return 1;
    }
    if (!strcmp(fn, "is_string")) {
        *out = sim_v_bool(a[0].t == SIM_V_STR || json_is(&a[0], cJSON_IsString));
    } else if (!strcmp(fn, "is_number")) {
        *out = sim_v_bool(a[0].t == SIM_V_INT || json_is(&a[0], cJSON_IsNumber));
    } else if (!strcmp(fn, "is_bool")) {
        *out = sim_v_bool(a[0].t == SIM_V_BOOL || json_is(&a[0], cJSON_IsBool));
    } else if (!strcmp(fn, "is_object")) {
        *out = sim_v_bool(json_is(&a[0], cJSON_IsObject));
    } else if (!strcmp(fn, "is_array")) {
        *out = sim_v_bool(json_is(&a[0], cJSON_IsArray));
    } else if (!strcmp(fn, "exists")) {
        *out = sim_v_bool(a[0].t != SIM_V_NONE);
    } else if (!strcmp(fn, "count")) {
        *out = sim_v_int(a[0].t == SIM_V_JSON ? cJSON_GetArraySize(a[0].j) : 0);
    } else if (!strcmp(fn, "maxlen")) {
        const cJSON *list = a[0].t == SIM_V_JSON ? a[0].j : NULL;
        const cJSON *it;
        long long m = 0;

        cJSON_ArrayForEach(it, list)
        {
            long long len = cJSON_IsString(it) ? (long long)strlen(it->valuestring) : 0;

            m = len > m ? len : m;
        }
        *out = sim_v_int(m);
    } else if (!strcmp(fn, "in") && n == 2) {
        *out = sim_v_bool(a[1].t == SIM_V_JSON && p0.t == SIM_V_STR && sim_list_has(a[1].j, s0));
    } else if (!strcmp(fn, "json") && n == 1) {
        *out = sim_v_json(sim_arena_own(ar, cJSON_Parse(s0)));
        return out->t == SIM_V_JSON ? 0 : fail(ps, "json() needs valid JSON text");
    } else {
        return 1;
    }
    return 0;
}

/* ---- grammar ---- */

static int expr(struct ps *ps, struct sim_val *out);

static int call(struct ps *ps, const char *fn, struct sim_val *out)
{
    struct sim_val argv[MAX_ARGS];
    int n = 0;
    int rc;

    if (!eat(ps, ")")) {
        do {
            if (n == MAX_ARGS) {
                return fail(ps, "too many arguments");
            }
            if (expr(ps, &argv[n++]) != 0) {
                return -1;
            }
        } while (eat(ps, ","));
        if (!eat(ps, ")")) {
            return fail(ps, "expected ')'");
        }
    }
    if (ps->skip) {
        *out = sim_v_null();
        return 0;
    }
    rc = call_pure(ps, fn, argv, n, out);
    if (rc == 1 && ps->c->hook) {
        rc = ps->c->hook(ps->c, fn, argv, n, out);
    }
    if (rc == 1) {
        snprintf(ps->c->err, sizeof(ps->c->err), "unknown function %s/%d", fn, n);
    }
    return rc == 0 ? 0 : -1;
}

static int string_lit(struct ps *ps, struct sim_val *out)
{
    char *buf = sim_arena_alloc(&ps->c->arena, (size_t)(ps->end - ps->p) + 1);
    size_t n = 0;

    if (!buf) {
        return fail(ps, "out of memory");
    }
    ps->p++; /* opening quote */
    while (ps->p < ps->end && *ps->p != '\'') {
        if (*ps->p == '\\' && ps->p + 1 < ps->end) {
            ps->p++;
        }
        buf[n++] = *ps->p++;
    }
    if (ps->p >= ps->end) {
        return fail(ps, "unterminated string");
    }
    ps->p++;
    buf[n] = '\0';
    *out = sim_v_str(buf);
    return 0;
}

static int primary(struct ps *ps, struct sim_val *out)
{
    char name[64];
    size_t n = 0;
    const struct sim_val *v;

    ws(ps);
    if (ps->p >= ps->end) {
        return fail(ps, "unexpected end");
    }
    if (eat(ps, "(")) {
        if (expr(ps, out) != 0) {
            return -1;
        }
        return eat(ps, ")") ? 0 : fail(ps, "expected ')'");
    }
    if (*ps->p == '\'') {
        return string_lit(ps, out);
    }
    if (isdigit((unsigned char)*ps->p)) {
        char *e = NULL;

        *out = sim_v_int(strtoll(ps->p, &e, 10));
        ps->p = e;
        return 0;
    }
    while (ps->p + n < ps->end && is_ident(ps->p[n])) {
        n++;
    }
    if (n == 0 || n >= sizeof(name)) {
        return fail(ps, "expected a value");
    }
    memcpy(name, ps->p, n);
    name[n] = '\0';
    ps->p += n;
    if (eat(ps, "(")) {
        return call(ps, name, out);
    }
    if (!strcmp(name, "true") || !strcmp(name, "false")) {
        *out = sim_v_bool(name[0] == 't');
    } else if (!strcmp(name, "null")) {
        *out = sim_v_null();
    } else if (!strcmp(name, "none")) {
        *out = (struct sim_val){SIM_V_NONE, 0, NULL, NULL};
    } else if ((v = sim_lookup(ps->c, name)) != NULL) {
        *out = *v;
    } else if (ps->skip || ps->c->lenient) {
        *out = sim_v_null();
    } else {
        snprintf(ps->c->err, sizeof(ps->c->err), "unknown variable %s", name);
        return -1;
    }
    return 0;
}

static int unary(struct ps *ps, struct sim_val *out)
{
    if (eat(ps, "!")) {
        if (unary(ps, out) != 0) {
            return -1;
        }
        *out = sim_v_bool(!sim_val_truthy(*out));
        return 0;
    }
    if (eat(ps, "-")) {
        if (unary(ps, out) != 0) {
            return -1;
        }
        *out = sim_v_int(-sim_val_num(*out));
        return 0;
    }
    return primary(ps, out);
}

static int arith(struct ps *ps, char op, struct sim_val a, struct sim_val b, struct sim_val *out)
{
    long long x = sim_val_num(a);
    long long y = sim_val_num(b);

    a = sim_val_plain(a);
    b = sim_val_plain(b);
    if (op == '+' && (a.t == SIM_V_STR || b.t == SIM_V_STR)) {
        const char *l = sim_val_text(ps->c, a);
        const char *r = sim_val_text(ps->c, b);

        *out = sim_v_str(l && r ? sim_arena_printf(&ps->c->arena, "%s%s", l, r) : NULL);
        return out->t == SIM_V_STR ? 0 : fail(ps, "out of memory");
    }
    if ((op == '/' || op == '%') && y == 0) {
        return ps->skip ? (*out = sim_v_int(0), 0) : fail(ps, "division by zero");
    }
    *out = sim_v_int(op == '+'   ? x + y
                     : op == '-' ? x - y
                     : op == '*' ? x * y
                     : op == '/' ? x / y
                                 : x % y);
    return 0;
}

static int binary_level(struct ps *ps, int level, struct sim_val *out);

static int mul_or_add(struct ps *ps, int level, struct sim_val *out)
{
    const char *ops = level == 0 ? "*/%" : "+-";
    struct sim_val r;

    if ((level == 0 ? unary(ps, out) : binary_level(ps, 0, out)) != 0) {
        return -1;
    }
    for (;;) {
        const char *o;

        ws(ps);
        o = ps->p < ps->end ? strchr(ops, *ps->p) : NULL;
        if (!o || !*o) {
            return 0;
        }
        ps->p++;
        if ((level == 0 ? unary(ps, &r) : binary_level(ps, 0, &r)) != 0 ||
            arith(ps, *o, *out, r, out) != 0) {
            return -1;
        }
    }
}

static int binary_level(struct ps *ps, int level, struct sim_val *out)
{
    return mul_or_add(ps, level, out);
}

static int compare(struct sim_val a, struct sim_val b)
{
    a = sim_val_plain(a);
    b = sim_val_plain(b);
    if (a.t == SIM_V_INT && b.t == SIM_V_INT) {
        return (a.i > b.i) - (a.i < b.i);
    }
    if (a.t == SIM_V_STR && b.t == SIM_V_STR) {
        return strcmp(a.s, b.s);
    }
    if (a.t == b.t && (a.t == SIM_V_BOOL || a.t == SIM_V_NULL || a.t == SIM_V_NONE)) {
        return a.i != b.i;
    }
    return 2; /* different kinds: unequal and unordered */
}

static int comparison(struct ps *ps, struct sim_val *out)
{
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    struct sim_val r;
    size_t k;
    int c;

    if (binary_level(ps, 1, out) != 0) {
        return -1;
    }
    for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        if (eat(ps, ops[k])) {
            break;
        }
    }
    if (k == sizeof(ops) / sizeof(ops[0])) {
        return 0;
    }
    if (binary_level(ps, 1, &r) != 0) {
        return -1;
    }
    c = compare(*out, r);
    *out = sim_v_bool(k == 0   ? c == 0
                      : k == 1 ? c != 0
                      : c == 2 ? 0
                      : k == 2 ? c <= 0
                      : k == 3 ? c >= 0
                      : k == 4 ? c < 0
                               : c > 0);
    return 0;
}

/* && and || short-circuit: the right side is walked with skip set. */
static int logical(struct ps *ps, int is_or, struct sim_val *out)
{
    struct sim_val r;
    int saved = ps->skip;

    if ((is_or ? logical(ps, 0, out) : comparison(ps, out)) != 0) {
        return -1;
    }
    while (eat(ps, is_or ? "||" : "&&")) {
        int t = sim_val_truthy(*out);

        ps->skip = saved || (is_or ? t : !t);
        if ((is_or ? logical(ps, 0, &r) : comparison(ps, &r)) != 0) {
            return -1;
        }
        ps->skip = saved;
        *out = sim_v_bool(is_or ? t || sim_val_truthy(r) : t && sim_val_truthy(r));
    }
    return 0;
}

static int coalesce(struct ps *ps, struct sim_val *out)
{
    struct sim_val r;
    int saved = ps->skip;

    if (logical(ps, 1, out) != 0) {
        return -1;
    }
    while (eat(ps, "??")) {
        int have = sim_val_plain(*out).t != SIM_V_NULL && out->t != SIM_V_NONE;

        ps->skip = saved || have;
        if (logical(ps, 1, &r) != 0) {
            return -1;
        }
        ps->skip = saved;
        if (!have) {
            *out = r;
        }
    }
    return 0;
}

static int expr(struct ps *ps, struct sim_val *out)
{
    struct sim_val a, b;
    int saved = ps->skip;
    int t;

    if (coalesce(ps, out) != 0) {
        return -1;
    }
    if (!eat(ps, "?")) {
        return 0;
    }
    t = sim_val_truthy(*out);
    ps->skip = saved || !t;
    if (expr(ps, &a) != 0) {
        return -1;
    }
    if (!eat(ps, ":")) {
        return fail(ps, "expected ':'");
    }
    ps->skip = saved || t;
    if (expr(ps, &b) != 0) {
        return -1;
    }
    ps->skip = saved;
    *out = t ? a : b;
    return 0;
}

int sim_eval(struct sim_ctx *c, const char *src, size_t len, struct sim_val *out)
{
    struct ps ps = {c, src, src + len, c->check_only};

    c->err[0] = '\0';
    if (expr(&ps, out) != 0) {
        return -1;
    }
    ws(&ps);
    return ps.p == ps.end ? 0 : fail(&ps, "trailing characters");
}

/* Length of the {…} expression starting at t (t[0] == '{'), quotes respected; 0 if unclosed. */
static size_t brace_len(const char *t)
{
    size_t i = 1;
    int depth = 1;
    int quoted = 0;

    for (; t[i]; i++) {
        if (quoted) {
            if (t[i] == '\\' && t[i + 1]) {
                i++;
            } else if (t[i] == '\'') {
                quoted = 0;
            }
        } else if (t[i] == '\'') {
            quoted = 1;
        } else if (t[i] == '{') {
            depth++;
        } else if (t[i] == '}' && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

int sim_eval_text(struct sim_ctx *c, const char *tmpl, struct sim_val *out)
{
    size_t total = strlen(tmpl);
    size_t n = tmpl[0] == '{' && tmpl[1] != '{' ? brace_len(tmpl) : 0;
    const char *acc = "";
    const char *p = tmpl;

    if (n == total && n > 0) {
        return sim_eval(c, tmpl + 1, n - 2, out); /* "{expr}" alone keeps its type */
    }
    if (!strchr(tmpl, '{')) {
        *out = sim_v_str(tmpl);
        return 0;
    }
    while (*p) {
        size_t lit = strcspn(p, "{");
        const char *piece;

        if (p[lit] == '{' && p[lit + 1] == '{') {
            lit++; /* "{{" stands for "{" */
            piece = sim_arena_strndup(&c->arena, p, lit);
            p += lit + 1;
        } else if (p[lit] == '{') {
            struct sim_val v;

            piece = sim_arena_strndup(&c->arena, p, lit);
            n = brace_len(p + lit);
            if (n == 0) {
                snprintf(c->err, sizeof(c->err), "unclosed '{' in \"%.60s\"", tmpl);
                return -1;
            }
            if (sim_eval(c, p + lit + 1, n - 2, &v) != 0) {
                return -1;
            }
            acc = piece ? sim_arena_printf(&c->arena, "%s%s", acc, piece) : NULL;
            piece = acc ? sim_val_text(c, v) : NULL;
            p += lit + n;
        } else {
            piece = p;
            p += lit;
        }
        acc = acc && piece ? sim_arena_printf(&c->arena, "%s%s", acc, piece) : NULL;
        if (!acc) {
            snprintf(c->err, sizeof(c->err), "out of memory");
            return -1;
        }
    }
    *out = sim_v_str(acc);
    return 0;
}
