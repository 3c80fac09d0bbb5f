/* libFuzzer target: the operator-side parsers, the configuration file and the account store.
 * SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* memmem */
#include "sw_accounts.h"
#include "sw_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sw_config cfg;
    struct sw_status st;
    struct sw_accounts *a;

    sw_status_clear(&st);
    if (sw_config_load(&cfg, NULL, &st) == 0) {
        sw_config_apply_text(&cfg, (const char *)data, size, "fuzz", &st);
    }
    sw_config_free(&cfg);
    /* file: references would make the harness read whatever path the input names (a FIFO or
     * /dev/stdin would hang it): those are exercised by the unit tests instead. */
    if (!memmem(data, size, "file:", 5)) {
        sw_status_clear(&st);
        a = sw_accounts_parse((const char *)data, size, &st);
        sw_accounts_destroy(a);
    }
    return 0;
}
