/* The result envelope: one JSON message per part of a job's outcome
 * (schemas/result.schema.json).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_RESULT_H
#define SW_RESULT_H

#include "sw_err.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct sw_result_meta {
    const char *job_id;
    const char *operation; /* NULL when the job could not be read that far */
    const char *provider;
    const char *account;
    const char *response_format; /* NULL for unified (the default) */
    const cJSON *correlation;
    int attempts;
    int redelivered;
    int64_t received_wall_ms;
    long queue_ms;
    long http_ms;
};

struct sw_part_info {
    int index;
    int items;
    int last;
    long long total_items;
    int truncated;
    const cJSON *resume; /* a failed list's last message: where a new job can go on (borrowed) */
};

/* Serialize one result message. result, provider_error and debug are borrowed (referenced, not
 * copied). err is NULL on success. Returns a NUL-terminated string to free with cJSON_free, or NULL
 * on allocation failure. */
char *sw_result_build(const struct sw_result_meta *m, const cJSON *result,
                      const struct sw_part_info *part, const struct sw_status *err,
                      const cJSON *provider_error, const cJSON *debug, size_t *len);

#endif
