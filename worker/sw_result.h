/* The result envelope: one JSON message per part of a job's outcome
 * (schemas/result.schema.json).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_RESULT_H
#define SW_RESULT_H

#include "sw_err.h"
#include "sw_jw.h"

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
    int64_t received_wall_us; /* when the job was read, microseconds since the epoch */
    long queue_ms;
    long http_ms;
    long long queue_us;
    long long http_us;
};

struct sw_part_info {
    int index;
    int items;
    int last;
    long long total_items;
    int truncated;
    const cJSON *resume; /* a failed list's last message: where a new job can go on (borrowed) */
};

/* Write one result message into w (which the caller initialized with the message's maximum).
 * result, provider_error and debug are borrowed, written as they are walked. err is NULL on
 * success. Returns SW_E_OK, SW_E_RESULT_TOO_LARGE (the message would pass w's maximum) or
 * SW_E_NOMEM; w then holds no usable message. */
sw_err_t sw_result_write(struct sw_jw *w, const struct sw_result_meta *m, const cJSON *result,
                         const struct sw_part_info *part, const struct sw_status *err,
                         const cJSON *provider_error, const cJSON *debug);

#endif
