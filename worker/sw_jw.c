/* JSON writer (see sw_jw.h). Its output is checked byte for byte against cJSON_PrintUnformatted
 * by tests/unit/test_core.c and the fuzz target tests/fuzz/fuzz_json.c.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_jw.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes cJSON escapes in a string (and the NUL that ends a C string): control characters, the
 * quote and the backslash. */
static const unsigned char special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

void sw_jw_init(struct sw_jw *w, size_t max)
{
    sw_buf_init(&w->b, max);
    w->comma = 0;
    w->err = SW_E_OK;
}

void sw_jw_free(struct sw_jw *w)
{
    if (!w) {
        return;
    }
    sw_buf_free(&w->b);
    w->comma = 0;
    w->err = SW_E_OK;
}

void sw_jw_reset(struct sw_jw *w, size_t keep)
{
    if (w->b.cap > keep) {
        sw_buf_free(&w->b); /* one large message does not pin its memory for good */
    }
    sw_buf_reset(&w->b);
    w->comma = 0;
    w->err = SW_E_OK;
}

/* Room for n more bytes (and the NUL kept after them); NULL once the writer has failed. */
static char *room(struct sw_jw *w, size_t n)
{
    struct sw_buf *b = &w->b;
    size_t cap;
    char *p;

    if (w->err) {
        return NULL;
    }
    if (n > b->max - b->len) {
        b->overflow = 1;
        w->err = SW_E_RESULT_TOO_LARGE;
        return NULL;
    }
    if (b->len + n + 1 <= b->cap) {
        return b->data + b->len;
    }
    cap = b->cap ? b->cap : 512;
    while (cap < b->len + n + 1) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    p = realloc(b->data, cap);
    if (!p) {
        w->err = SW_E_NOMEM;
        return NULL;
    }
    b->data = p;
    b->cap = cap;
    return b->data + b->len;
}

/* n bytes were written at room(): take them. */
static void took(struct sw_jw *w, size_t n)
{
    w->b.len += n;
    w->b.data[w->b.len] = '\0';
}

static void put(struct sw_jw *w, const char *s, size_t n)
{
    char *p = room(w, n);

    if (p) {
        memcpy(p, s, n);
        took(w, n);
    }
}

/* The separator a new member or element needs. */
static void sep(struct sw_jw *w)
{
    if (w->comma) {
        put(w, ",", 1);
    }
}

/* The length of the run at s[0..n) that needs no escape. Eight bytes at a time: most strings in
 * a result (ids, names, timestamps) have nothing to escape, and a byte-by-byte scan of them was
 * the writer's largest cost. A byte needs an escape when it is below 0x20, '"' or '\\'. */
static size_t plain_run(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        uint64_t q;
        uint64_t b;

        memcpy(&v, s + i, 8);
        q = v ^ (ones * '"');
        b = v ^ (ones * '\\');
        /* A zero byte in q or b, or a byte below 0x20 in v, sets that byte's high bit here. */
        if ((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs) {
            break;
        }
    }
    while (i < n && !special[s[i]]) {
        i++;
    }
    return i;
}

/* s[0..n) escaped as cJSON's print_string_ptr does: \" \\ \b \f \n \r \t, other control bytes
 * as \u00xx, everything else (UTF-8 included) as it is. */
static void put_escaped(struct sw_jw *w, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t extra = 0;
    size_t i;
    char *p;

    for (i = plain_run(s, n); i < n; i++) {
        if (special[s[i]]) {
            unsigned char c = s[i];

            extra += c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
                             c == '\t'
                         ? 1
                         : 5;
        }
    }
    p = room(w, n + extra + 2);
    if (!p) {
        return;
    }
    *p++ = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];

        if (!special[c]) {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *p++ = (char)c;
            break;
        case '\b':
            *p++ = 'b';
            break;
        case '\f':
            *p++ = 'f';
            break;
        case '\n':
            *p++ = 'n';
            break;
        case '\r':
            *p++ = 'r';
            break;
        case '\t':
            *p++ = 't';
            break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '"';
    took(w, n + extra + 2);
}

/* A NUL-terminated string, copied as it is unless a byte in it needs an escape. */
static void put_cstr(struct sw_jw *w, const char *s)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)u);
    char *p;

    if (plain_run(u, len) < len) {
        put_escaped(w, u, len);
        return;
    }
    p = room(w, len + 2);
    if (p) {
        p[0] = '"';
        memcpy(p + 1, u, len);
        p[len + 1] = '"';
        took(w, len + 2);
    }
}

/* An object or an array opens (its first member needs no comma) or closes (what follows it
 * does). */
static void open_c(struct sw_jw *w, const char *c)
{
    sep(w);
    put(w, c, 1);
    w->comma = 0;
}

static void close_c(struct sw_jw *w, const char *c)
{
    put(w, c, 1);
    w->comma = 1;
}

void sw_jw_obj(struct sw_jw *w)
{
    open_c(w, "{");
}

void sw_jw_obj_end(struct sw_jw *w)
{
    close_c(w, "}");
}

void sw_jw_arr(struct sw_jw *w)
{
    open_c(w, "[");
}

void sw_jw_arr_end(struct sw_jw *w)
{
    close_c(w, "]");
}

void sw_jw_key(struct sw_jw *w, const char *k)
{
    sep(w);
    put_cstr(w, k);
    put(w, ":", 1);
    w->comma = 0;
}

void sw_jw_null(struct sw_jw *w)
{
    sep(w);
    put(w, "null", 4);
    w->comma = 1;
}

void sw_jw_bool(struct sw_jw *w, int v)
{
    sep(w);
    if (v) {
        put(w, "true", 4);
    } else {
        put(w, "false", 5);
    }
    w->comma = 1;
}

void sw_jw_int(struct sw_jw *w, long long v)
{
    char buf[24];
    char *p = buf + sizeof(buf);
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    sep(w);
    put(w, p, (size_t)(buf + sizeof(buf) - p));
    w->comma = 1;
}

/* cJSON 1.7.15's print_number: "%1.15g" when it reads back within DBL_EPSILON, else "%1.17g". A
 * whole number under 10^15 prints as its digits either way, which is the common case and needs
 * no printf. (The worker never changes the C locale, so the decimal point is '.'.) */
void sw_jw_num(struct sw_jw *w, double d)
{
    char buf[32];
    double back;
    double mag;
    int n;

    if (isnan(d) || isinf(d)) {
        sw_jw_null(w);
        return;
    }
    if (fabs(d) < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
        sw_jw_int(w, (long long)d);
        return;
    }
    n = snprintf(buf, sizeof(buf), "%1.15g", d);
    back = strtod(buf, NULL);
    mag = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
    if (!(fabs(back - d) <= mag * DBL_EPSILON)) {
        n = snprintf(buf, sizeof(buf), "%1.17g", d);
    }
    sep(w);
    put(w, buf, (size_t)n);
    w->comma = 1;
}

void sw_jw_str(struct sw_jw *w, const char *s)
{
    sep(w);
    put_cstr(w, s);
    w->comma = 1;
}

void sw_jw_strn(struct sw_jw *w, const char *s, size_t n)
{
    sep(w);
    put_escaped(w, (const unsigned char *)s, n);
    w->comma = 1;
}

void sw_jw_raw(struct sw_jw *w, const char *json, size_t n)
{
    sep(w);
    put(w, json, n);
    w->comma = 1;
}

void sw_jw_cjson(struct sw_jw *w, const cJSON *v)
{
    const cJSON *c;

    if (!v) {
        sw_jw_null(w);
        return;
    }
    switch (v->type & 0xFF) {
    case cJSON_NULL:
        sw_jw_null(w);
        return;
    case cJSON_False:
        sw_jw_bool(w, 0);
        return;
    case cJSON_True:
        sw_jw_bool(w, 1);
        return;
    case cJSON_Number:
        sw_jw_num(w, v->valuedouble);
        return;
    case cJSON_String:
        sw_jw_str(w, v->valuestring);
        return;
    case cJSON_Raw:
        if (v->valuestring) {
            sw_jw_raw(w, v->valuestring, strlen(v->valuestring));
            return;
        }
        break;
    case cJSON_Array:
        sw_jw_arr(w);
        for (c = v->child; c; c = c->next) {
            sw_jw_cjson(w, c);
        }
        sw_jw_arr_end(w);
        return;
    case cJSON_Object:
        sw_jw_obj(w);
        for (c = v->child; c; c = c->next) {
            sw_jw_key(w, c->string);
            sw_jw_cjson(w, c);
        }
        sw_jw_obj_end(w);
        return;
    default:
        break;
    }
    if (!w->err) {
        w->err = SW_E_INTERNAL_ERROR; /* cJSON_PrintUnformatted gives NULL for it too */
    }
}
