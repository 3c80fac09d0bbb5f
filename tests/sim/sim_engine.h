/* The interpreter that serves any provider profile (README "Profile format"): auth, the
 * profile's "before" steps, route matching and route steps, magic ids and injected faults, error
 * bodies and rate-limit headers.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include "sim_http.h"
#include "sim_profile.h"

/* Answer one request to profile p in *r. 0, or -1 on OOM. */
int sim_engine_handle(const struct sim_profile *p, const struct sim_req *rq, struct sim_reply *r);

#endif
