/* Top-level members of an object that cannot be parsed whole (see sw_peek.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_peek.h"

#include <string.h>

/* Longest key compared; longer ones match no name. */
#define KEY_MAX 64

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* p is just past an opening quote: the position past the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    while (p < end) {
        if (*p == '\\') {
            if (end - p < 2) {
                return NULL;
            }
            p += 2;
        } else if (*p++ == '"') {
            return p;
        }
    }
    return NULL;
}

static int hex4(const char *p, const char *end)
{
    int v = 0;
    int i;

    if (end - p < 4) {
        return -1;
    }
    for (i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return v;
}

/* The key between p and its closing quote at q, unescaped into buf (NUL-terminated). -1 when it
 * is longer than buf or escapes something no name contains (then it matches no name). */
static int unescape_key(const char *p, const char *q, char *buf, size_t cap)
{
    size_t n = 0;

    while (p < q) {
        char c = *p++;

        if (c == '\\') {
            int u;

            if (p >= q) {
                return -1;
            }
            c = *p++;
            switch (c) {
            case '"':
            case '\\':
            case '/':
                break;
            case 'u':
                u = hex4(p, q);
                if (u <= 0 || u >= 0x80) {
                    return -1; /* names are ASCII */
                }
                c = (char)u;
                p += 4;
                break;
            default:
                return -1; /* control characters: in no name */
            }
        }
        if (n + 1 >= cap) {
            return -1;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    return (int)n;
}

/* p at a value: the position past it, or NULL. Containers are skipped by counting brackets
 * (strings aside), however deep, without recursing; the caller's parser validates a span. */
static const char *skip_value(const char *p, const char *end)
{
    size_t depth = 0;

    if (p >= end) {
        return NULL;
    }
    if (*p == '"') {
        return skip_string(p + 1, end);
    }
    if (*p != '{' && *p != '[') {
        const char *s = p;

        while (p < end && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                           (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '+' || *p == '.')) {
            p++;
        }
        return p > s ? p : NULL;
    }
    while (p < end) {
        char c = *p++;

        if (c == '"') {
            p = skip_string(p, end);
            if (!p) {
                return NULL;
            }
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return p;
        }
    }
    return NULL;
}

int sw_peek_members(const char *buf, size_t len, const char *const *names, struct sw_peek_span *out,
                    int n)
{
    const char *end = buf + len;
    const char *p;
    int found = 0;
    int i;

    for (i = 0; i < n; i++) {
        out[i].p = NULL;
        out[i].len = 0;
    }
    if (!buf) {
        return 0;
    }
    p = skip_ws(buf, end);
    if (p >= end || *p != '{') {
        return 0;
    }
    p++;
    while (found < n) {
        char key[KEY_MAX];
        const char *kend;
        const char *v;
        int klen;

        p = skip_ws(p, end);
        if (p >= end || *p != '"') {
            break; /* '}' (the end) or a syntax error */
        }
        kend = skip_string(p + 1, end);
        if (!kend) {
            break;
        }
        klen = unescape_key(p + 1, kend - 1, key, sizeof(key));
        p = skip_ws(kend, end);
        if (p >= end || *p != ':') {
            break;
        }
        p = skip_ws(p + 1, end);
        v = p;
        p = skip_value(p, end);
        if (!p) {
            break;
        }
        for (i = 0; klen >= 0 && i < n; i++) {
            if (!out[i].p && !strcmp(names[i], key)) {
                out[i].p = v;
                out[i].len = (size_t)(p - v);
                found++;
                break;
            }
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ',') {
            break;
        }
        p++;
    }
    return found;
}
