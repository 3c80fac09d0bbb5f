/* Jobs on standard input for exec and plan: JSON texts one after another — NDJSON, or pretty-
 * printed objects spanning lines — split without parsing them, so each can be handed whole to the
 * job parser and its errors reported by position.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536

int sw_cli_input_init(struct sw_cli_input *in, int fd, size_t max)
{
    memset(in, 0, sizeof(*in));
    in->fd = fd;
    in->max = max;
    in->cap = READ_CHUNK;
    in->buf = malloc(in->cap);
    return in->buf ? 0 : -1;
}

void sw_cli_input_free(struct sw_cli_input *in)
{
    if (in) {
        free(in->buf);
        in->buf = NULL;
    }
}

int sw_cli_input_fill(struct sw_cli_input *in)
{
    ssize_t r;

    if (in->eof) {
        return 0;
    }
    if (in->cap - in->len < READ_CHUNK / 2) {
        char *nb = realloc(in->buf, in->cap * 2);

        if (!nb) {
            return -1;
        }
        in->buf = nb;
        in->cap *= 2;
    }
    do {
        r = read(in->fd, in->buf + in->len, in->cap - in->len);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        in->eof = 1; /* a read error ends the input like its end does */
        return 0;
    }
    in->len += (size_t)r;
    return 1;
}

/* Where the JSON text starting at p ends (one past it), or 0 when the buffer holds only part of
 * it. An object or array ends at its closing bracket; anything else (not a job, but it must be
 * reported as one input) at the end of its line. */
static size_t text_end(const char *p, size_t n, int eof)
{
    size_t i;
    int depth = 0, in_str = 0, esc = 0;

    if (p[0] != '{' && p[0] != '[') {
        const char *nl = memchr(p, '\n', n);

        return nl ? (size_t)(nl - p) : eof ? n : 0;
    }
    for (i = 0; i < n; i++) {
        char c = p[i];

        if (in_str) {
            esc = !esc && c == '\\';
            in_str = esc || c != '"';
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return eof ? n : 0; /* unterminated at the end: the parser says what is wrong */
}

int sw_cli_input_next(struct sw_cli_input *in, const char **text, size_t *len)
{
    size_t skip = 0, end;

    /* Drop what the previous call handed out. */
    if (in->taken) {
        memmove(in->buf, in->buf + in->taken, in->len - in->taken);
        in->len -= in->taken;
        in->taken = 0;
    }
    if (in->overlong) {
        /* The rest of a text cut at max: dropped up to the end of its line. */
        const char *nl = memchr(in->buf, '\n', in->len);

        if (!nl) {
            in->len = 0;
            return in->eof ? -1 : 0;
        }
        in->taken = (size_t)(nl - in->buf) + 1;
        in->overlong = 0;
        return sw_cli_input_next(in, text, len);
    }
    while (skip < in->len && strchr(" \t\r\n", in->buf[skip])) {
        skip++;
    }
    if (skip == in->len) {
        in->len = 0;
        return in->eof ? -1 : 0;
    }
    end = text_end(in->buf + skip, in->len - skip, in->eof);
    if (end == 0 && in->len - skip <= in->max) {
        return 0; /* wait for more */
    }
    in->index++;
    if (end == 0) {
        /* Longer than any job may be: hand out what is here (the parser refuses it as too
         * large) and drop the rest of it up to the next line, so the input goes on after it. */
        end = in->len - skip;
        in->overlong = 1;
    }
    *text = in->buf + skip;
    *len = end;
    in->taken = skip + end;
    return 1;
}
