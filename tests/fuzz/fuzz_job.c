/* libFuzzer target: the job parser (bounded size, depth, every field's validation), what the
 * engine reads of a parsed job's params before any request (the check against an operation's
 * declarations: nested keys, arrays, did-you-mean; params.resume), and the retry-topic headers
 * that come with a parked job (the input split at its first two NULs).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_job.h"
#include "sw_params.h"
#include "sw_parked.h"
#include "sw_resume.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = {"static", "dynamic"};
static const struct sw_param_decl params[] = {
    {"id", SW_PT_STRING | SW_PT_INTEGER, 0, NULL, 0, 0, 0, 0, 0, 0, NULL, "segment id"},
    {"kind", SW_PT_STRING, 0, kinds, 2, 0, 0, 0, 0, 0, NULL, "segment kind"},
    {"page_size", SW_PT_INTEGER, 0, NULL, 0, 1, 1, 1, 100, 0, NULL, "page size"},
    {"fields", SW_PT_ARRAY, SW_PT_STRING, kinds, 2, 0, 0, 0, 0, 0, NULL, "fields"},
    {"workspace.id", SW_PT_STRING, 0, NULL, 0, 0, 0, 0, 0, 1, "workspace_id", "workspace"},
};
static const char *const changes[] = {"kind", "fields"};
static const struct sw_param_set set = {params, 5, NULL, 0, changes, 2, NULL, 0, NULL, 1};

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
    static const struct sw_job_limits lim = {4096, 32, 1024};
    struct sw_job *job = NULL;
    struct sw_status st;
    struct sw_resume rs;
    char buf[32];

    sw_status_clear(&st);
    sw_job_parse((const char *)data, size, &lim, &job, &st);
    if (job && job->params) {
        sw_job_param_str(job, "id", buf, sizeof(buf));
        sw_params_check(&set, job, NULL, "fuzz segments.update", &st);
        sw_resume_decode(cJSON_GetObjectItemCaseSensitive(job->params, "resume"), &rs, &st);
        sw_resume_free(&rs);
    }
    sw_job_destroy(job);
    parked(data, size);
    return 0;
}
