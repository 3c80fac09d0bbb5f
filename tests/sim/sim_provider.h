/* Entry points of the segsim request handlers, one per URL prefix.
 * Each fills *r (status, body, headers, delay); none of them blocks or sleeps.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_PROVIDER_H
#define SIM_PROVIDER_H

#include "sim_http.h"

/* /api/... : Klaviyo segments API (providers.md §1). 0 on success, -1 on OOM. */
int sim_klaviyo_handle(const struct sim_req *rq, struct sim_reply *r);
/* /v3/... : SendGrid segments v2 and v1 (providers.md §2). 0 on success, -1 on OOM. */
int sim_sendgrid_handle(const struct sim_req *rq, struct sim_reply *r);
/* /_sim/... : control API (faults, stats, health). 0 on success, -1 on OOM. */
int sim_control_handle(const struct sim_req *rq, struct sim_reply *r);

#endif
