/* A growable byte buffer with a hard maximum; exceeding it is reported, never truncated silently.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_BUF_H
#define SW_BUF_H

#include <stddef.h>

struct sw_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;   /* hard limit on len */
    int overflow; /* set once an append would have passed max */
};

void sw_buf_init(struct sw_buf *b, size_t max);
void sw_buf_free(struct sw_buf *b);
void sw_buf_reset(struct sw_buf *b);
/* 0 on success, -1 when it would pass max (overflow set) or on allocation failure. */
int sw_buf_append(struct sw_buf *b, const void *p, size_t n);
int sw_buf_appends(struct sw_buf *b, const char *s);
int sw_buf_printf(struct sw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes to the caller (free with free()); the buffer is left empty. */
char *sw_buf_steal(struct sw_buf *b, size_t *len);

#endif
