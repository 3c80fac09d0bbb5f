/* URL helpers (see sw_url.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int sw_url_encode(struct sw_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            if (sw_buf_append(b, p, 1)) {
                return -1;
            }
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            if (sw_buf_append(b, e, 3)) {
                return -1;
            }
        }
    }
    return 0;
}

/* Decode the %XX sequences of the n bytes at s in place (a decoded NUL stays a byte); returns
 * the new length, and whether any was decoded in *any. */
static size_t percent_decode(char *s, size_t n, int *any)
{
    size_t i, o = 0;

    *any = 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], '\0'};

            s[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
            *any = 1;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

/* What is wrong with one form of a segment (as given, or decoded): 0 nothing, '.' a dot
 * segment, 'c' a control character, or the forbidden character itself. */
static int segment_fault(const char *s, size_t n)
{
    size_t i;

    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
        return '.';
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f) {
            return 'c';
        }
        if (c == '/' || c == '\\' || c == '?' || c == '#') {
            return c;
        }
    }
    return 0;
}

static const char *fault_why(int fault, int decoded)
{
    switch (fault) {
    case '.':
        return decoded ? "decodes to \".\" or \"..\"" : "must not be \".\" or \"..\"";
    case 'c':
        return decoded ? "holds an encoded control character" : "contains a control character";
    case '/':
        return decoded ? "holds an encoded '/'" : "contains '/'";
    case '\\':
        return decoded ? "holds an encoded '\\'" : "contains '\\'";
    case '?':
        return decoded ? "holds an encoded '?'" : "contains '?'";
    default:
        return decoded ? "holds an encoded '#'" : "contains '#'";
    }
}

const char *sw_url_segment_why(const char *s)
{
    char buf[SW_URL_MAX_SEGMENT];
    size_t n = strlen(s);
    int fault;
    int round;

    if (n == 0) {
        return "must not be empty";
    }
    if (n > SW_URL_MAX_SEGMENT) {
        return "is longer than 512 bytes";
    }
    fault = segment_fault(s, n);
    if (fault) {
        return fault_why(fault, 0);
    }
    /* What a gateway that decodes once, twice or three times would see. */
    memcpy(buf, s, n);
    for (round = 0; round < 3; round++) {
        int any;

        n = percent_decode(buf, n, &any);
        if (!any) {
            break;
        }
        fault = segment_fault(buf, n);
        if (fault) {
            return fault_why(fault, 1);
        }
    }
    return NULL;
}

int sw_url_add_query(struct sw_buf *b, const char *name, const char *value)
{
    const char *sep = (b->data && memchr(b->data, '?', b->len)) ? "&" : "?";

    if (sw_buf_appends(b, sep) || sw_url_encode(b, name) || sw_buf_appends(b, "=") ||
        sw_url_encode(b, value)) {
        return -1;
    }
    return 0;
}

int sw_url_split(const char *url, size_t *origin_len, const char **path)
{
    const char *p;

    if (!strncasecmp(url, "http://", 7)) {
        p = url + 7;
    } else if (!strncasecmp(url, "https://", 8)) {
        p = url + 8;
    } else {
        return -1;
    }
    while (*p && *p != '/' && *p != '?' && *p != '#') {
        p++;
    }
    *origin_len = (size_t)(p - url);
    *path = p;
    return 0;
}

/* True when the segment [s, e) is "." or ".." in any encoding. */
static int dot_segment(const char *s, const char *e)
{
    int dots = 0;

    while (s < e) {
        if (*s == '.') {
            s++;
        } else if (e - s >= 3 && s[0] == '%' && s[1] == '2' && (s[2] == 'e' || s[2] == 'E')) {
            s += 3;
        } else {
            return 0;
        }
        dots++;
    }
    return dots == 1 || dots == 2;
}

static int safe_path(const char *path)
{
    const char *p = path;
    const char *end = path + strcspn(path, "?");

    for (p = path; *p; p++) {
        /* Providers send links percent-encoded; raw spaces, controls, non-ASCII bytes, '#' or
         * '\\' mean a broken or hostile link. */
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#' || *p == '\\') {
            return 0;
        }
    }
    p = path;
    while (p < end) {
        const char *seg;

        if (*p == '/') {
            p++;
            continue;
        }
        seg = p;
        while (p < end && *p != '/') {
            p++;
        }
        if (dot_segment(seg, p)) {
            return 0;
        }
        /* An encoded slash would let a segment smuggle a new path level past this check. */
        for (; seg + 3 <= p; seg++) {
            if (!strncasecmp(seg, "%2f", 3) || !strncasecmp(seg, "%5c", 3)) {
                return 0;
            }
        }
    }
    return 1;
}

sw_err_t sw_url_rebase(const char *base, const char *link, char **out, struct sw_status *st)
{
    size_t olen = 0;
    const char *bpath = NULL;
    const char *lpath = link;
    size_t plen;
    struct sw_buf b;

    *out = NULL;
    if (sw_url_split(base, &olen, &bpath) != 0) {
        return sw_status_set(st, SW_E_CONFIG, SW_CLASS_TERMINAL, "base URL is not http(s)");
    }
    if (!strncasecmp(link, "http://", 7) || !strncasecmp(link, "https://", 8)) {
        size_t lo;

        sw_url_split(link, &lo, &lpath);
    } else if (link[0] == '/' && link[1] == '/') {
        return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                             "pagination link is scheme-relative");
    } else if (link[0] != '/') {
        return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                             "pagination link is neither absolute nor a path");
    }
    if (!*lpath || *lpath == '?') {
        return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                             "pagination link has no path");
    }
    if (!safe_path(lpath)) {
        return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                             "pagination link path has dot segments, an encoded slash or "
                             "forbidden characters");
    }
    /* The base's own path prefix ("/klaviyo" in http://gw/klaviyo). */
    plen = strcspn(bpath, "?#");
    while (plen && bpath[plen - 1] == '/') {
        plen--;
    }
    if (plen && !strncmp(lpath, bpath, plen) && (lpath[plen] == '/' || lpath[plen] == '?')) {
        lpath += plen;
    }
    sw_buf_init(&b, 16384);
    if (sw_buf_append(&b, base, olen) || sw_buf_append(&b, bpath, plen) ||
        sw_buf_appends(&b, lpath)) {
        sw_buf_free(&b);
        return sw_status_set(st, SW_E_RESPONSE_INVALID, SW_CLASS_TERMINAL,
                             "pagination link is too long");
    }
    *out = sw_buf_steal(&b, NULL);
    return SW_E_OK;
}
