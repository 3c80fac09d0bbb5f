/* Bounded growable buffer (see sw_buf.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sw_buf_init(struct sw_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void sw_buf_free(struct sw_buf *b)
{
    if (!b) {
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sw_buf_reset(struct sw_buf *b)
{
    b->len = 0;
    b->overflow = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

static int grow(struct sw_buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 256;
    char *p;

    while (cap < need + 1) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    p = realloc(b->data, cap);
    if (!p) {
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int sw_buf_append(struct sw_buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len) {
        b->overflow = 1;
        return -1;
    }
    if (b->len + n + 1 > b->cap && grow(b, b->len + n) != 0) {
        return -1;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int sw_buf_appends(struct sw_buf *b, const char *s)
{
    return sw_buf_append(b, s, strlen(s));
}

int sw_buf_printf(struct sw_buf *b, const char *fmt, ...)
{
    char small[512];
    char *big = NULL;
    va_list ap;
    int n;
    int rc = -1;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        goto out;
    }
    if ((size_t)n < sizeof(small)) {
        rc = sw_buf_append(b, small, (size_t)n);
        goto out;
    }
    big = malloc((size_t)n + 1);
    if (!big) {
        goto out;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = sw_buf_append(b, big, (size_t)n);
out:
    free(big);
    return rc;
}

char *sw_buf_steal(struct sw_buf *b, size_t *len)
{
    char *p = b->data;

    if (!p) {
        p = calloc(1, 1);
    }
    if (len) {
        *len = b->len;
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
