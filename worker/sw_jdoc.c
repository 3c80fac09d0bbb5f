/* JSON documents in an arena (see sw_jdoc.h). The grammar is cJSON 1.7.15's as Debian ships it,
 * quirks included (whitespace is any byte up to 0x20, numbers are what strtod reads of a run of
 * [0-9+-eE.], "\u" escapes with a bad hex digit decode to 0), so that moving a parse here
 * changes no answer; tests/fuzz/fuzz_json.c holds the two parsers to the same results. A text
 * this parser refuses is handed to sw_json_parse, whose message (and, should they ever disagree,
 * whose tree, copied here) is the answer.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_jdoc.h"
#include "sw_json.h"

#include <limits.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cJSON's own nesting limit (CJSON_NESTING_LIMIT), which bounds the recursion below too. */
#define NESTING_LIMIT 1000

#define MIN_CHUNK 1024

struct sw_jdoc_chunk {
    struct sw_jdoc_chunk *next;
    size_t cap;
    max_align_t data[];
};

void sw_jdoc_init(struct sw_jdoc *d, size_t first)
{
    memset(d, 0, sizeof(*d));
    d->next_cap = first;
}

void sw_jdoc_free(struct sw_jdoc *d)
{
    struct sw_jdoc_chunk *c;

    if (!d) {
        return;
    }
    while ((c = d->head) != NULL) {
        d->head = c->next;
        free(c);
    }
    d->cur = d->end = NULL;
}

void sw_jdoc_reset(struct sw_jdoc *d, size_t keep)
{
    struct sw_jdoc_chunk *c;
    size_t total = 0;

    for (c = d->head; c; c = c->next) {
        total += c->cap;
    }
    if (d->head && !d->head->next && d->head->cap <= keep) {
        d->cur = (char *)d->head->data;
        return;
    }
    sw_jdoc_free(d);
    d->next_cap = total < keep ? total : keep;
}

/* A new chunk with room for at least n bytes. */
static int grow(struct sw_jdoc *d, size_t n)
{
    size_t cap = d->next_cap > MIN_CHUNK ? d->next_cap : MIN_CHUNK;
    struct sw_jdoc_chunk *c;

    if (d->head && d->head->cap * 2 > cap) {
        cap = d->head->cap * 2; /* a document larger than guessed: fewer, larger chunks */
    }
    if (cap < n + alignof(max_align_t)) {
        cap = n + alignof(max_align_t);
    }
    c = malloc(sizeof(*c) + cap);
    if (!c) {
        return -1;
    }
    c->cap = cap;
    c->next = d->head;
    d->head = c;
    d->cur = (char *)c->data;
    d->end = d->cur + cap;
    d->next_cap = 0;
    return 0;
}

/* n bytes, unaligned (strings). */
static char *carve(struct sw_jdoc *d, size_t n)
{
    char *p;

    if ((size_t)(d->end - d->cur) < n && grow(d, n) != 0) {
        return NULL;
    }
    p = d->cur;
    d->cur += n;
    return p;
}

void *sw_jdoc_alloc(struct sw_jdoc *d, size_t n)
{
    const size_t a = alignof(max_align_t);
    uintptr_t at = ((uintptr_t)d->cur + a - 1) & ~(uintptr_t)(a - 1);
    char *p;

    if (!d->cur || (uintptr_t)d->end < at || (size_t)((uintptr_t)d->end - at) < n) {
        if (grow(d, n) != 0) {
            return NULL;
        }
        at = (uintptr_t)d->cur; /* a chunk's data is aligned */
    }
    p = (char *)at;
    d->cur = p + n;
    memset(p, 0, n);
    return p;
}

static cJSON *node(struct sw_jdoc *d)
{
    return sw_jdoc_alloc(d, sizeof(cJSON));
}

cJSON *sw_jdoc_object(struct sw_jdoc *d)
{
    cJSON *o = node(d);

    if (o) {
        o->type = cJSON_Object;
    }
    return o;
}

/* ---- the parser ---- */

struct parser {
    struct sw_jdoc *d;
    const unsigned char *p, *end;
    int depth, max_depth;
    int nomem;
};

/* What cJSON copies into a number before strtod reads it. */
static const unsigned char numchar[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['+'] = 1, ['-'] = 1, ['e'] = 1, ['E'] = 1, ['.'] = 1,
};

static int parse_value(struct parser *ps, cJSON *item);

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && *ps->p <= 32) {
        ps->p++;
    }
}

/* cJSON's parse_hex4: any bad digit makes the whole value 0. */
static unsigned hex4(const unsigned char *s)
{
    unsigned h = 0;
    int i;

    for (i = 0; i < 4; i++) {
        unsigned c = s[i];

        if (c >= '0' && c <= '9') {
            h = (h << 4) | (c - '0');
        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            h = (h << 4) | ((c | 0x20) - 'a' + 10);
        } else {
            return 0;
        }
    }
    return h;
}

/* A "\u" escape at in (q: the closing quote) as UTF-8 at *o; the bytes it took, 0 when bad. */
static int utf16(const unsigned char *in, const unsigned char *q, char **o)
{
    unsigned long cp;
    unsigned first;
    int took = 6;
    unsigned char *u = (unsigned char *)*o;

    if (q - in < 6) {
        return 0;
    }
    first = hex4(in + 2);
    if (first >= 0xDC00 && first <= 0xDFFF) {
        return 0;
    }
    if (first >= 0xD800 && first <= 0xDBFF) {
        const unsigned char *s2 = in + 6;
        unsigned second;

        if (q - s2 < 6 || s2[0] != '\\' || s2[1] != 'u') {
            return 0;
        }
        second = hex4(s2 + 2);
        if (second < 0xDC00 || second > 0xDFFF) {
            return 0;
        }
        cp = 0x10000 + (((first & 0x3FFUL) << 10) | (second & 0x3FF));
        took = 12;
    } else {
        cp = first;
    }
    if (cp < 0x80) {
        *u++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *u++ = (unsigned char)(0xC0 | (cp >> 6));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *u++ = (unsigned char)(0xE0 | (cp >> 12));
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *u++ = (unsigned char)(0xF0 | (cp >> 18));
        *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *u++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *o = (char *)u;
    return took;
}

/* The escapes from in up to the closing quote q, decoded into o (room enough: an escape never
 * decodes to more bytes than it takes). 0, or -1 on a bad escape. */
static int unescape(const unsigned char *in, const unsigned char *q, char *o)
{
    while (in < q) {
        const unsigned char *bs = memchr(in, '\\', (size_t)(q - in));
        size_t run = bs ? (size_t)(bs - in) : (size_t)(q - in);
        int took = 2;

        memcpy(o, in, run);
        o += run;
        in += run;
        if (!bs) {
            break;
        }
        /* A backslash right before q would have escaped it: in[1] is inside the string. */
        switch (in[1]) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case '"':
        case '\\':
        case '/':
            *o++ = (char)in[1];
            break;
        case 'u':
            took = utf16(in, q, &o);
            if (!took) {
                return -1;
            }
            break;
        default:
            return -1;
        }
        in += took;
    }
    *o = '\0';
    return 0;
}

/* The string at ps->p (a quote), decoded into the arena; NULL when malformed or out of memory. */
static char *parse_string(struct parser *ps)
{
    const unsigned char *s = ps->p + 1;
    const unsigned char *q = s;
    const unsigned char *bs;
    size_t n;
    char *out;

    /* The closing quote: the first one after an even run of backslashes (cJSON skips the byte
     * after each backslash). */
    for (;;) {
        const unsigned char *b;

        q = memchr(q, '"', (size_t)(ps->end - q));
        if (!q) {
            return NULL;
        }
        for (b = q; b > s && b[-1] == '\\'; b--) {
        }
        if (!((q - b) & 1)) {
            break;
        }
        q++;
    }
    n = (size_t)(q - s);
    out = carve(ps->d, n + 1);
    if (!out) {
        ps->nomem = 1;
        return NULL;
    }
    bs = memchr(s, '\\', n);
    if (!bs) {
        memcpy(out, s, n);
        out[n] = '\0';
    } else {
        memcpy(out, s, (size_t)(bs - s));
        if (unescape(bs, q, out + (bs - s)) != 0) {
            return NULL;
        }
    }
    ps->p = q + 1;
    return out;
}

static void set_number(cJSON *item, double v)
{
    item->type = cJSON_Number;
    item->valuedouble = v;
    item->valueint = v >= INT_MAX ? INT_MAX : v <= (double)INT_MIN ? INT_MIN : (int)v;
}

static int parse_number(struct parser *ps, cJSON *item)
{
    const unsigned char *p = ps->p;
    const unsigned char *e = p;
    const unsigned char *q = p + (*p == '-');
    char small[64];
    char *buf = small;
    char *endp;
    long long v = 0;
    double d;
    size_t n;

    while (e < ps->end && numchar[*e]) {
        e++;
    }
    /* The common case, an integer of up to 15 digits, is exact without strtod. */
    if (e > q && e - q <= 15) {
        const unsigned char *c;

        for (c = q; c < e && *c >= '0' && *c <= '9'; c++) {
            v = v * 10 + (*c - '0');
        }
        if (c == e) {
            set_number(item, q > p ? -(double)v : (double)v); /* "-0" stays -0.0 */
            ps->p = e;
            return 0;
        }
    }
    n = (size_t)(e - p);
    if (n >= sizeof(small)) {
        buf = malloc(n + 1);
        if (!buf) {
            ps->nomem = 1;
            return -1;
        }
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    d = strtod(buf, &endp);
    n = (size_t)(endp - buf);
    if (buf != small) {
        free(buf);
    }
    if (n == 0) {
        return -1;
    }
    set_number(item, d);
    ps->p = p + n;
    return 0;
}

/* An array or an object (close: its closing bracket); members have names. */
static int parse_container(struct parser *ps, cJSON *item, unsigned char close)
{
    cJSON *head = NULL;
    cJSON *tail = NULL;

    if (++ps->depth > ps->max_depth) {
        return -1;
    }
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            cJSON *kid = node(ps->d);

            if (!kid) {
                ps->nomem = 1;
                return -1;
            }
            if (tail) {
                tail->next = kid;
                kid->prev = tail;
            } else {
                head = kid;
            }
            tail = kid;
            skip_ws(ps);
            if (close == '}') {
                if (ps->p >= ps->end || *ps->p != '"' || !(kid->string = parse_string(ps))) {
                    return -1;
                }
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') {
                    return -1;
                }
                ps->p++;
                skip_ws(ps);
            }
            if (parse_value(ps, kid) != 0) {
                return -1;
            }
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p >= ps->end || *ps->p != close) {
                return -1;
            }
            ps->p++;
            break;
        }
        head->prev = tail; /* cJSON keeps the last element in the first one's prev */
    }
    ps->depth--;
    item->type = close == '}' ? cJSON_Object : cJSON_Array;
    item->child = head;
    return 0;
}

static int literal(struct parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        return -1;
    }
    ps->p += n;
    return 0;
}

static int parse_value(struct parser *ps, cJSON *item)
{
    if (ps->p >= ps->end) {
        return -1;
    }
    switch (*ps->p) {
    case 'n':
        item->type = cJSON_NULL;
        return literal(ps, "null", 4);
    case 'f':
        item->type = cJSON_False;
        return literal(ps, "false", 5);
    case 't':
        item->type = cJSON_True;
        item->valueint = 1;
        return literal(ps, "true", 4);
    case '"':
        item->type = cJSON_String;
        item->valuestring = parse_string(ps);
        return item->valuestring ? 0 : -1;
    case '[':
        return parse_container(ps, item, ']');
    case '{':
        return parse_container(ps, item, '}');
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return parse_number(ps, item);
    default:
        return -1;
    }
}

/* v copied into d (the fallback's tree); NULL when out of memory. */
static cJSON *copy_tree(struct sw_jdoc *d, const cJSON *v)
{
    cJSON *o = node(d);
    const cJSON *c;
    cJSON *tail = NULL;

    if (!o) {
        return NULL;
    }
    o->type = v->type;
    o->valueint = v->valueint;
    o->valuedouble = v->valuedouble;
    if (v->valuestring && !(o->valuestring = carve(d, strlen(v->valuestring) + 1))) {
        return NULL;
    }
    if (v->valuestring) {
        strcpy(o->valuestring, v->valuestring);
    }
    if (v->string && !(o->string = carve(d, strlen(v->string) + 1))) {
        return NULL;
    }
    if (v->string) {
        strcpy(o->string, v->string);
    }
    for (c = v->child; c; c = c->next) {
        cJSON *k = copy_tree(d, c);

        if (!k) {
            return NULL;
        }
        if (tail) {
            tail->next = k;
            k->prev = tail;
        } else {
            o->child = k;
        }
        tail = k;
    }
    if (o->child) {
        o->child->prev = tail;
    }
    return o;
}

/* The slow path for a text the fast parser refused: sw_json_parse's verdict and message. */
static cJSON *fallback(struct sw_jdoc *d, const char *s, size_t len, int max_depth, char *errbuf,
                       size_t errlen, int *nomem)
{
    cJSON *t = sw_json_parse(s, len, max_depth, errbuf, errlen);
    cJSON *root = t ? copy_tree(d, t) : NULL;

    cJSON_Delete(t);
    if (t && !root) {
        *nomem = 1;
        if (errbuf) {
            snprintf(errbuf, errlen, "out of memory");
        }
    }
    return root;
}

cJSON *sw_jdoc_parse_fast(struct sw_jdoc *d, const char *s, size_t len, int max_depth, int *nomem)
{
    struct parser ps;
    cJSON *root;

    *nomem = 0;
    if (!d->cur && !d->next_cap) {
        d->next_cap = 4 * len + 512; /* what a typical document needs, nodes and strings */
    }
    memset(&ps, 0, sizeof(ps));
    ps.d = d;
    ps.p = (const unsigned char *)s;
    ps.end = ps.p + len;
    ps.max_depth = max_depth < NESTING_LIMIT ? max_depth : NESTING_LIMIT;
    root = node(d);
    if (!root) {
        *nomem = 1;
        return NULL;
    }
    if (len >= 5 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
        ps.p += 3; /* a UTF-8 byte order mark, as cJSON skips it */
    }
    skip_ws(&ps);
    if (parse_value(&ps, root) != 0) {
        *nomem = ps.nomem;
        return NULL;
    }
    while (ps.p < ps.end && (*ps.p == ' ' || *ps.p == '\n' || *ps.p == '\r' || *ps.p == '\t')) {
        ps.p++;
    }
    /* A NUL ends the text for sw_json_parse; its depth scan still saw what follows. */
    if (ps.p == ps.end || (*ps.p == '\0' && sw_json_depth(s, len) <= max_depth)) {
        return root;
    }
    return NULL;
}

cJSON *sw_jdoc_parse(struct sw_jdoc *d, const char *s, size_t len, int max_depth, char *errbuf,
                     size_t errlen, int *nomem)
{
    cJSON *root;

    if (errbuf && errlen) {
        errbuf[0] = '\0';
    }
    root = sw_jdoc_parse_fast(d, s, len, max_depth, nomem);
    if (root) {
        return root;
    }
    if (*nomem) {
        if (errbuf) {
            snprintf(errbuf, errlen, "out of memory");
        }
        return NULL;
    }
    return fallback(d, s, len, max_depth, errbuf, errlen, nomem);
}
