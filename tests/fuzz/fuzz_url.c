/* libFuzzer target: the parsers of provider-controlled text: pagination links (re-based onto the
 * operator's base URL), ISO 8601 / HTTP dates, and Retry-After hints.
 * SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memmem */
#include "sw_http.h"
#include "sw_retry.h"
#include "sw_time.h"
#include "sw_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char *out = NULL;
    struct sw_status st;
    struct sw_http_headers h;
    int64_t ms;

    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    sw_status_clear(&st);
    if (sw_url_rebase("http://127.0.0.1:8080/prefix", s, &out, &st) == SW_E_OK) {
        /* Whatever the link said, the request stays on the operator's origin, under its
         * prefix, with no dot segment in the path. */
        size_t plen = strcspn(out, "?");

        if (strncmp(out, "http://127.0.0.1:8080/prefix", 28) != 0 ||
            (out[28] != '/' && out[28] != '?') ||
            (plen >= 3 && !strncmp(out + plen - 3, "/..", 3)) || memmem(out, plen, "/../", 4) ||
            memmem(out, plen, "/./", 3)) {
            abort();
        }
    }
    free(out);
    sw_time_parse(s, &ms);
    sw_time_parse_http(s, &ms);
    memset(&h, 0, sizeof(h));
    sw_http_headers_add(&h, "Retry-After", s, 0);
    sw_retry_hint_ms(&h, NULL, 429, 0, &ms);
    sw_http_headers_free(&h);
    free(s);
    return 0;
}
