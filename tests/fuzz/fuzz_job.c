/* libFuzzer target: the job parser (bounded size, depth, every field's validation), and the
 * retry-topic headers that come with a parked job (the input split at its first two NULs).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_job.h"
#include "sw_parked.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parked(const uint8_t *data, size_t size)
{
    struct sw_parked_hdr h[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    const int64_t now = 1700000000000, park = 86400000;
    struct sw_parked pk;
    struct sw_status st;
    size_t i, start = 0;
    int k = 0;

    for (i = 0; i <= size && k < 3; i++) {
        if (i == size || (data[i] == 0 && k < 2)) {
            h[k].value = data + start;
            h[k++].len = i - start;
            start = i + 1;
        }
    }
    sw_status_clear(&st);
    if (sw_parked_parse(&h[0], &h[1], &h[2], now, park, &pk, &st) == SW_E_OK &&
        (pk.not_before_wall_ms > now + park || pk.attempts < 0 ||
         pk.attempts > SW_PARKED_MAX_ATTEMPTS ||
         pk.received_wall_ms > now + SW_PARKED_MAX_SKEW_MS)) {
        abort(); /* what passes is within its bounds */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sw_job_limits lim = {4096, 32};
    struct sw_job *job = NULL;
    struct sw_status st;
    char buf[32];

    sw_status_clear(&st);
    sw_job_parse((const char *)data, size, &lim, &job, &st);
    if (job && job->params) {
        sw_job_param_str(job, "id", buf, sizeof(buf));
    }
    sw_job_destroy(job);
    parked(data, size);
    return 0;
}
