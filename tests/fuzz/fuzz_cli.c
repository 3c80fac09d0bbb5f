/* libFuzzer target: the command line's two parsers — argv (sw_cli_parse: the input's lines are
 * the arguments) and the stream of jobs exec and plan read from standard input (sw_cli_input: the
 * input itself, read through a file). Invariants: the splitter never hands out an empty text, a
 * text never starts with white space, and it ends.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_argv(const uint8_t *data, size_t size, FILE *sink)
{
    char *copy = malloc(size + 1);
    char *argv[MAX_ARGS + 2];
    struct sw_cli cli;
    int argc = 1;
    char *p;

    if (!copy) {
        return;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    argv[0] = "segworker";
    for (p = copy; argc <= MAX_ARGS && p;) {
        char *nl = strchr(p, '\n');

        if (nl) {
            *nl = '\0';
        }
        argv[argc++] = p;
        p = nl ? nl + 1 : NULL;
    }
    argv[argc] = NULL;
    sw_cli_parse(argc, argv, &cli, sink);
    sw_cli_free(&cli);
    free(copy);
}

static void split_jobs(const uint8_t *data, size_t size)
{
    struct sw_cli_input in;
    FILE *f = tmpfile();
    const char *text;
    size_t len;
    int rc;
    long steps = 0;

    if (!f || (size && fwrite(data, 1, size, f) != size) || fflush(f) || fseek(f, 0, SEEK_SET)) {
        goto out;
    }
    if (sw_cli_input_init(&in, fileno(f), 256) != 0) {
        goto out;
    }
    while ((rc = sw_cli_input_next(&in, &text, &len)) >= 0) {
        if (rc == 0 && sw_cli_input_fill(&in) < 0) {
            break;
        }
        if (rc == 1 && (len == 0 || strchr(" \t\r\n", text[0]))) {
            abort();
        }
        if (++steps > (long)size * 4 + 16) {
            abort(); /* it must end */
        }
    }
    sw_cli_input_free(&in);
out:
    if (f) {
        fclose(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *sink = fopen("/dev/null", "w");

    if (sink) {
        parse_argv(data, size, sink);
        fclose(sink);
    }
    split_jobs(data, size);
    return 0;
}
