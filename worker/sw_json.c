/* cJSON helpers (see sw_json.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_json.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sw_json_depth(const char *s, size_t len)
{
    const char *p = s;
    const char *end = s + len;
    int depth = 0;
    int max = 0;

    while (p < end) {
        char c = *p++;

        if (c == '"') {
            /* Strings are most of a document's bytes: jump from quote to quote with memchr. A
             * quote ends the string unless an odd run of backslashes precedes it. */
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                size_t bs = 0;

                if (!q) {
                    return max; /* unterminated: the parser refuses it */
                }
                while (q - bs > p && q[-1 - (ptrdiff_t)bs] == '\\') {
                    bs++;
                }
                p = q + 1;
                if (!(bs & 1)) {
                    break;
                }
            }
        } else if (c == '{' || c == '[') {
            if (++depth > max) {
                max = depth;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

cJSON *sw_json_parse(const char *s, size_t len, int max_depth, char *errbuf, size_t errlen)
{
    const char *end = NULL;
    cJSON *root;
    int depth;

    if (errbuf && errlen) {
        errbuf[0] = '\0';
    }
    if (!s || len == 0) {
        if (errbuf) {
            snprintf(errbuf, errlen, "empty document");
        }
        return NULL;
    }
    depth = sw_json_depth(s, len);
    if (depth > max_depth) {
        if (errbuf) {
            snprintf(errbuf, errlen, "nesting depth %d exceeds the limit %d", depth, max_depth);
        }
        return NULL;
    }
    /* ParseWithLengthOpts reports where it stopped without touching cJSON's global error state. */
    root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (!root) {
        if (errbuf) {
            snprintf(errbuf, errlen, "not valid JSON (at byte %ld)", end ? (long)(end - s) : 0L);
        }
        return NULL;
    }
    while (end && (size_t)(end - s) < len &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) {
        end++;
    }
    if (end && (size_t)(end - s) < len && *end != '\0') {
        if (errbuf) {
            snprintf(errbuf, errlen, "trailing data after JSON (at byte %ld)", (long)(end - s));
        }
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

const cJSON *sw_json_pointer(const cJSON *root, const char *ptr)
{
    char tok[256];
    const cJSON *cur = root;
    const char *p = ptr;

    if (!root || !ptr) {
        return NULL;
    }
    if (!*p) {
        return root;
    }
    if (*p != '/') {
        return NULL;
    }
    while (cur && *p == '/') {
        size_t n = 0;

        p++;
        while (*p && *p != '/') {
            char c = *p++;

            if (c == '~' && (*p == '0' || *p == '1')) {
                c = *p++ == '0' ? '~' : '/';
            }
            if (n + 1 >= sizeof(tok)) {
                return NULL;
            }
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (cJSON_IsArray(cur)) {
            char *endp;
            long idx = strtol(tok, &endp, 10);

            if (!n || *endp || idx < 0) {
                return NULL;
            }
            cur = cJSON_GetArrayItem(cur, (int)idx);
        } else if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        } else {
            return NULL;
        }
    }
    return cur;
}

const char *sw_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int sw_json_is_nullish(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

int sw_json_equal(const cJSON *a, const cJSON *b)
{
    if (sw_json_is_nullish(a) || sw_json_is_nullish(b)) {
        return sw_json_is_nullish(a) && sw_json_is_nullish(b);
    }
    if (cJSON_IsBool(a) && cJSON_IsBool(b)) {
        return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    }
    return cJSON_Compare(a, b, 1);
}

char *sw_json_print(const cJSON *v)
{
    return cJSON_PrintUnformatted(v);
}
