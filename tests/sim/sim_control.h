/* The /_sim/ control API of segsim: fault injection, statistics, referees, health.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_CONTROL_H
#define SIM_CONTROL_H

#include "sim_http.h"

/* /_sim/... : control API (faults, stats, health). 0 on success, -1 on OOM. */
int sim_control_handle(const struct sim_req *rq, struct sim_reply *r);

#endif
