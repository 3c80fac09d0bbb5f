/* libFuzzer target: the job parser (bounded size, depth, every field's validation).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_job.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sw_job_limits lim = {4096, 32, 1024};
    struct sw_job *job = NULL;
    struct sw_status st;
    char buf[32];

    sw_status_clear(&st);
    sw_job_parse((const char *)data, size, &lim, &job, &st);
    if (job && job->params) {
        sw_job_param_str(job, "id", buf, sizeof(buf));
    }
    sw_job_destroy(job);
    return 0;
}
