/* Redaction of secrets in outgoing text (see sw_redact.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_redact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What follows a secret-bearing name: a credential with its scheme (Authorization), the whole
 * rest of a header line (Cookie: every pair is a credential), or one token (api_key). */
enum span { SPAN_SCHEME_TOKEN, SPAN_LINE, SPAN_TOKEN };

static const struct {
    const char *name;
    size_t len;
    enum span span;
} names[] = {
    {"authorization", 13, SPAN_SCHEME_TOKEN},
    {"cookie", 6, SPAN_LINE}, /* also Set-Cookie */
    {"api_key", 7, SPAN_TOKEN},
    {"api-key", 7, SPAN_TOKEN}, /* also X-Api-Key */
    {"apikey", 6, SPAN_TOKEN},
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

/* A byte that ends a token: a token never swallows a quote, an escape or a separator, so that
 * redacting serialized JSON or a query string leaves it well-formed. */
static int token_end(unsigned char c)
{
    return c <= ' ' || c == 0x7f || strchr("\"'\\&,;)}]<>", c) != NULL;
}

static size_t token(const char *s, size_t n, size_t i)
{
    /* What an earlier pass left is one token, so redacting twice changes nothing. */
    size_t r = sizeof(SW_REDACTED) - 1;

    if (n - i >= r && !memcmp(s + i, SW_REDACTED, r) &&
        (n - i == r || token_end((unsigned char)s[i + r]))) {
        return i + r;
    }
    while (i < n && !token_end((unsigned char)s[i])) {
        i++;
    }
    return i;
}

/* The value after a name ending at i: optional closing quote(s), spaces, ':' or '=', spaces,
 * optional opening quote(s). Sets [*vb, *ve) to the value; returns 0 when no value follows. */
static int value_after(const char *s, size_t n, size_t i, enum span span, size_t *vb, size_t *ve)
{
    size_t k;

    for (k = 0; i < n && k < 3 && (s[i] == '"' || s[i] == '\'' || s[i] == '\\'); k++) {
        i++;
    }
    while (i < n && s[i] == ' ') {
        i++;
    }
    if (i >= n || (s[i] != ':' && s[i] != '=')) {
        return 0;
    }
    i++;
    while (i < n && s[i] == ' ') {
        i++;
    }
    for (k = 0; i < n && k < 3 && (s[i] == '"' || s[i] == '\'' || s[i] == '\\'); k++) {
        i++;
    }
    *vb = i;
    if (span == SPAN_LINE) {
        while (i < n && s[i] != '\r' && s[i] != '\n' && s[i] != '"' && s[i] != '\'' &&
               s[i] != '\\') {
            i++;
        }
    } else {
        i = token(s, n, i);
        /* "Bearer x", "Basic x", "Klaviyo-API-Key x": the scheme and its credential (unless an
         * earlier pass left only "[redacted]"). */
        if (span == SPAN_SCHEME_TOKEN && i - *vb != sizeof(SW_REDACTED) - 1 && i + 1 < n &&
            s[i] == ' ' && !token_end((unsigned char)s[i + 1])) {
            i = token(s, n, i + 1);
        }
    }
    *ve = i;
    return *ve > *vb && !(*ve - *vb == sizeof(SW_REDACTED) - 1 &&
                          !memcmp(s + *vb, SW_REDACTED, sizeof(SW_REDACTED) - 1));
}

/* At s[i]: the length of the secret-bearing text starting there (0: none) and in *keep how many
 * of its first bytes stay (the name and separator). */
static size_t match_at(const char *s, size_t n, size_t i, const struct sw_account *acct,
                       size_t *keep)
{
    size_t k, vb, ve;
    int c;

    for (k = 0; acct && k < acct->ncreds; k++) {
        const char *v = acct->creds[k].value;
        size_t vl;

        /* Called for every byte of every result: the first byte decides before any length. */
        if (!v || !v[0] || s[i] != v[0]) {
            continue;
        }
        vl = strlen(v);
        if (vl <= n - i && !memcmp(s + i, v, vl)) {
            *keep = 0;
            return vl;
        }
    }
    c = tolower((unsigned char)s[i]);
    if (c != 'a' && c != 'c') {
        return 0; /* every name starts with one of these */
    }
    for (k = 0; k < NNAMES; k++) {
        if (names[k].len <= n - i && !strncasecmp(s + i, names[k].name, names[k].len) &&
            value_after(s, n, i + names[k].len, names[k].span, &vb, &ve)) {
            *keep = vb - i;
            return ve - i;
        }
    }
    return 0;
}

/* Write the redacted form of s into out (NULL: only count); returns its length and in *hits how
 * many values were redacted. */
static size_t redact(const char *s, size_t n, const struct sw_account *acct, char *out, int *hits)
{
    size_t i = 0, o = 0, len, keep;

    *hits = 0;
    while (i < n) {
        len = match_at(s, n, i, acct, &keep);
        if (!len) {
            if (out) {
                out[o] = s[i];
            }
            o++;
            i++;
            continue;
        }
        if (out) {
            memcpy(out + o, s + i, keep);
            memcpy(out + o + keep, SW_REDACTED, sizeof(SW_REDACTED) - 1);
        }
        o += keep + sizeof(SW_REDACTED) - 1;
        i += len;
        ++*hits;
    }
    return o;
}

char *sw_redact_dup(const char *s, size_t n, const struct sw_account *acct, size_t *outlen)
{
    int hits;
    size_t len = redact(s, n, acct, NULL, &hits);
    char *out;

    *outlen = 0;
    if (!hits) {
        return NULL;
    }
    out = malloc(len + 1);
    if (!out) {
        *outlen = 1;
        return NULL;
    }
    redact(s, n, acct, out, &hits);
    out[len] = '\0';
    *outlen = len;
    return out;
}

int sw_redact_buf(char *s, size_t cap, const struct sw_account *acct)
{
    size_t len;
    char *r;

    if (!s || !cap) {
        return 0;
    }
    r = sw_redact_dup(s, strlen(s), acct, &len);
    if (!r && len) {
        snprintf(s, cap, "%s", SW_REDACTED);
        return 1;
    }
    if (r) {
        snprintf(s, cap, "%s", r);
        free(r);
    }
    return r != NULL;
}

static int secret_name(const char *name)
{
    size_t k, n = name ? strlen(name) : 0;

    for (k = 0; k < NNAMES; k++) {
        /* "Authorization", "Set-Cookie", "x-api-key", "api_key" */
        if (n >= names[k].len && !strcasecmp(name + n - names[k].len, names[k].name)) {
            return 1;
        }
    }
    return 0;
}

/* A member's name may echo a secret too. */
static int redact_name(cJSON *c, const struct sw_account *acct)
{
    size_t len;
    char *r, *k;

    if (!c->string || (c->type & cJSON_StringIsConst)) {
        return 0;
    }
    r = sw_redact_dup(c->string, strlen(c->string), acct, &len);
    if (!r && !len) {
        return 0;
    }
    k = r ? cJSON_malloc(len + 1) : NULL; /* cJSON frees names with its own allocator */
    if (!k) {
        free(r);
        c->string[0] = '\0';
        return -1;
    }
    memcpy(k, r, len + 1);
    free(r);
    cJSON_free(c->string);
    c->string = k;
    return 0;
}

int sw_redact_json(cJSON *v, const struct sw_account *acct)
{
    cJSON *c;
    int rc = 0;

    if (!v) {
        return 0;
    }
    if (cJSON_IsString(v) && v->valuestring) {
        size_t len = 0;
        char *r;

        if (secret_name(v->string) && v->valuestring[0]) {
            r = strdup(SW_REDACTED);
            len = 1;
        } else {
            r = sw_redact_dup(v->valuestring, strlen(v->valuestring), acct, &len);
        }
        if (!r && !len) {
            return 0;
        }
        /* Out of memory: an empty string rather than the secret. */
        if (!r || !cJSON_SetValuestring(v, r)) {
            v->valuestring[0] = '\0';
            rc = -1;
        }
        free(r);
        return rc;
    }
    cJSON_ArrayForEach(c, v)
    {
        if (sw_redact_json(c, acct) || redact_name(c, acct)) {
            rc = -1;
        }
    }
    return rc;
}
