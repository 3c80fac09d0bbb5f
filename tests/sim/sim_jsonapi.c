/* JSON:API filter expressions and cursors (see sim_jsonapi.h).
 * The grammar follows the forms equals(name,"x"), equals(name,['x']) and any(id,["a","b"]);
 * several terms, as a top-level comma list or and(...), are ANDed.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_jsonapi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct parser {
    const cJSON *fields; /* the profile's declarations */
    const char *p;
    char *err;
    size_t errn;
};

static int fail(struct parser *ps, const char *msg)
{
    snprintf(ps->err, ps->errn, "%s", msg);
    return -1;
}

static void skip_ws(struct parser *ps)
{
    while (*ps->p == ' ') {
        ps->p++;
    }
}

static int take_char(struct parser *ps, char c)
{
    skip_ws(ps);
    if (*ps->p != c) {
        return -1;
    }
    ps->p++;
    return 0;
}

/* identifier: letters, digits, '_' and '-' (operators like greater-than). */
static int take_ident(struct parser *ps, char *out, size_t n)
{
    size_t len = 0;

    skip_ws(ps);
    while (isalnum((unsigned char)ps->p[len]) || ps->p[len] == '_' || ps->p[len] == '-') {
        len++;
    }
    if (len == 0 || len >= n) {
        return -1;
    }
    memcpy(out, ps->p, len);
    out[len] = '\0';
    ps->p += len;
    return 0;
}

/* A scalar: quoted string ("..." or '...' with backslash escapes) or a bare token. */
static int take_scalar(struct parser *ps, char *out, size_t n, int *quoted)
{
    size_t len = 0;

    skip_ws(ps);
    *quoted = 0;
    if (*ps->p == '"' || *ps->p == '\'') {
        char q = *ps->p++;

        *quoted = 1;
        while (*ps->p && *ps->p != q) {
            if (*ps->p == '\\' && ps->p[1]) {
                ps->p++;
            }
            if (len + 1 >= n) {
                return fail(ps, "filter value too long");
            }
            out[len++] = *ps->p++;
        }
        if (*ps->p != q) {
            return fail(ps, "unterminated string in filter");
        }
        ps->p++;
    } else {
        while (*ps->p && *ps->p != ',' && *ps->p != ')' && *ps->p != ']' && *ps->p != ' ') {
            if (len + 1 >= n) {
                return fail(ps, "filter value too long");
            }
            out[len++] = *ps->p++;
        }
        if (len == 0) {
            return fail(ps, "missing filter value");
        }
    }
    out[len] = '\0';
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(s, "false") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* ISO-8601 date-time with Z or +hh:mm/-hh:mm (seconds optional fraction ignored) -> epoch. */
static int parse_datetime(const char *s, long long *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, n = 0;
    const char *p;
    long off = 0;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) {
        return -1;
    }
    p = s + n;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
        }
    }
    if (*p == '+' || *p == '-') {
        int oh, om;

        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || strlen(p) != 6) {
            return -1;
        }
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
    } else if (strcmp(p, "Z") != 0 && *p != '\0') {
        return -1;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (long long)timegm(&tm) - off;
    return 0;
}

/* The declaration of field: its type and whether op may be used on it. */
static int field_decl(const cJSON *fields, const char *field, const char *op,
                      enum sim_jf_type *type, int *allowed)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(fields, field);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "type"));

    if (!t) {
        return -1;
    }
    *type = !strcmp(t, "bool") ? JF_BOOL : !strcmp(t, "time") ? JF_TIME : JF_STRING;
    *allowed = sim_list_has(cJSON_GetObjectItemCaseSensitive(d, "ops"), op);
    return 0;
}

static int parse_values(struct parser *ps, struct sim_jf_term *t)
{
    int list = 0;
    int quoted;

    skip_ws(ps);
    if (*ps->p == '[') {
        ps->p++;
        list = 1;
    }
    for (;;) {
        if (t->n >= SIM_JF_MAX_VALUES) {
            return fail(ps, "too many filter values");
        }
        if (take_scalar(ps, t->values[t->n], SIM_JF_VALUE_LEN, &quoted) != 0) {
            return -1;
        }
        if (t->type == JF_BOOL) {
            if (quoted || parse_bool(t->values[t->n], &t->bools[t->n]) != 0) {
                return fail(ps, "boolean filter value expected");
            }
        } else if (t->type == JF_TIME) {
            if (parse_datetime(t->values[t->n], &t->epoch) != 0) {
                return fail(ps, "date-time filter value expected");
            }
        } else if (!quoted) {
            return fail(ps, "string filter values must be quoted");
        }
        t->n++;
        if (!list || take_char(ps, ',') != 0) {
            break;
        }
    }
    if (list && take_char(ps, ']') != 0) {
        return fail(ps, "expected ']' in filter");
    }
    if (t->op != JF_ANY && t->n != 1) {
        return fail(ps, "operator takes exactly one value");
    }
    if (t->op == JF_ANY && !list) {
        return fail(ps, "any() takes a list");
    }
    return 0;
}

static int parse_term(struct parser *ps, struct sim_jfilter *out)
{
    char op[24];
    char field[24];
    struct sim_jf_term *t;
    int allowed = 0;

    if (take_ident(ps, op, sizeof(op)) != 0 || take_char(ps, '(') != 0) {
        return fail(ps, "expected operator(field,value)");
    }
    if (strcmp(op, "and") == 0) {
        do {
            if (parse_term(ps, out) != 0) {
                return -1;
            }
        } while (take_char(ps, ',') == 0);
        return take_char(ps, ')') == 0 ? 0 : fail(ps, "expected ')' after and(...)");
    }
    if (out->n >= SIM_JF_MAX_TERMS) {
        return fail(ps, "too many filter terms");
    }
    t = &out->terms[out->n];
    memset(t, 0, sizeof(*t));
    if (strcmp(op, "equals") == 0) {
        t->op = JF_EQUALS;
    } else if (strcmp(op, "any") == 0) {
        t->op = JF_ANY;
    } else if (strcmp(op, "greater-than") == 0) {
        t->op = JF_GREATER_THAN;
    } else {
        return fail(ps, "unsupported filter operator");
    }
    if (take_ident(ps, field, sizeof(field)) != 0 ||
        field_decl(ps->fields, field, op, &t->type, &allowed) != 0) {
        return fail(ps, "unsupported filter field");
    }
    snprintf(t->field, sizeof(t->field), "%s", field);
    if (!allowed) {
        return fail(ps, "operator not allowed on this field");
    }
    if (take_char(ps, ',') != 0) {
        return fail(ps, "expected ',' after filter field");
    }
    if (parse_values(ps, t) != 0) {
        return -1;
    }
    if (take_char(ps, ')') != 0) {
        return fail(ps, "expected ')' in filter");
    }
    out->n++;
    return 0;
}

int sim_jfilter_parse(const char *s, const cJSON *fields, struct sim_jfilter *out, char *err,
                      size_t errn)
{
    struct parser ps = {fields, s, err, errn};

    memset(out, 0, sizeof(*out));
    do {
        if (parse_term(&ps, out) != 0) {
            return -1;
        }
    } while (take_char(&ps, ',') == 0);
    skip_ws(&ps);
    if (*ps.p != '\0') {
        return fail(&ps, "trailing characters in filter");
    }
    return 0;
}

static int term_match(const struct sim_jf_term *t, const struct sim_ctx *c)
{
    const struct sim_val *pv = sim_lookup(c, t->field);
    struct sim_val v = pv ? sim_val_plain(*pv) : sim_v_null();
    int i;

    if (t->type == JF_TIME) {
        return sim_val_num(v) > t->epoch;
    }
    for (i = 0; i < t->n; i++) {
        if (t->type == JF_BOOL ? sim_val_truthy(v) == t->bools[i]
                               : v.t == SIM_V_STR && strcmp(v.s, t->values[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int sim_jfilter_match(const struct sim_jfilter *f, const struct sim_ctx *c)
{
    int i;

    for (i = 0; i < f->n; i++) {
        if (!term_match(&f->terms[i], c)) {
            return 0;
        }
    }
    return 1;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sim_jcursor_encode(long long offset, char *buf, size_t n)
{
    char raw[48];
    int rawlen = snprintf(raw, sizeof(raw), "segsim:%lld", offset);
    size_t o = 0;
    int i;

    if (rawlen < 0 || (size_t)rawlen >= sizeof(raw)) {
        return -1;
    }
    for (i = 0; i < rawlen; i += 3) {
        unsigned v = (unsigned char)raw[i] << 16;
        int k;
        int chars = 2;

        if (i + 1 < rawlen) {
            v |= (unsigned char)raw[i + 1] << 8;
            chars = 3;
        }
        if (i + 2 < rawlen) {
            v |= (unsigned char)raw[i + 2];
            chars = 4;
        }
        for (k = 0; k < chars; k++) {
            if (o + 1 >= n) {
                return -1;
            }
            buf[o++] = b64url[(v >> (18 - 6 * k)) & 63];
        }
    }
    buf[o] = '\0';
    return 0;
}

int sim_jcursor_decode(const char *s, long *offset)
{
    char raw[48];
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    char *end = NULL;
    long off;

    for (; *s; s++) {
        const char *pos = strchr(b64url, *s);

        if (!pos || o + 1 >= sizeof(raw)) {
            return -1;
        }
        v = (v << 6) | (unsigned)(pos - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[o++] = (char)((v >> bits) & 0xff);
        }
    }
    raw[o] = '\0';
    if (strncmp(raw, "segsim:", 7) != 0 || !isdigit((unsigned char)raw[7])) {
        return -1;
    }
    off = strtol(raw + 7, &end, 10);
    if (*end != '\0' || off < 0 || off > 1000000) {
        return -1;
    }
    *offset = off;
    return 0;
}
