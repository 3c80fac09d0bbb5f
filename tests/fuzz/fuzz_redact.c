/* libFuzzer target: redaction of outgoing text and JSON. Whatever the input, the account's secret
 * never survives, and a second pass changes nothing.
 * SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memmem */
#include "sw_redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char key[] = "api_key", val[] = "s3cr3t-KEY", ref[] = "env:X";
    struct sw_credential cred = {key, val, ref};
    struct sw_account acct = {0};
    size_t len, len2;
    char *once, *twice;
    cJSON *j;

    acct.creds = &cred;
    acct.ncreds = 1;
    once = sw_redact_dup((const char *)data, size, &acct, &len);
    if (once) {
        if (memmem(once, len, val, sizeof(val) - 1)) {
            abort();
        }
        twice = sw_redact_dup(once, len, &acct, &len2);
        if (twice && (len2 != len || memcmp(once, twice, len))) {
            abort();
        }
        free(twice);
    } else if (!len && memmem(data, size, val, sizeof(val) - 1)) {
        abort(); /* a secret was there and nothing was redacted */
    }
    free(once);
    j = cJSON_ParseWithLength((const char *)data, size);
    if (j && sw_redact_json(j, &acct) == 0) {
        char *text = cJSON_PrintUnformatted(j);

        if (text && strstr(text, val)) {
            abort();
        }
        cJSON_free(text);
    }
    cJSON_Delete(j);
    return 0;
}
