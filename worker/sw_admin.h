/* The admin listener: GET /metrics (Prometheus text), /healthz and /readyz, served by
 * libmicrohttpd on its own threads (two, polling every connection, so that slow clients never
 * hold a probe) from the metrics registry (which is safe to read there).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_ADMIN_H
#define SW_ADMIN_H

#include "sw_err.h"

#include <stdint.h>

struct sw_metrics;
struct sw_admin;

/* Listen on addr ("host:port", "[v6]:port" or ":port" for every interface; port 0 picks a free
 * one). max_stall_ms: /healthz fails when the loop has not turned for longer. NULL on error
 * (st says why). The registry must outlive the listener. */
struct sw_admin *sw_admin_start(const char *addr, struct sw_metrics *m, int64_t max_stall_ms,
                                struct sw_status *st);
/* Check an address as sw_admin_start would (syntax and resolution), without listening; for
 * `segworker validate`. 0 when usable. */
int sw_admin_check_addr(const char *addr, struct sw_status *st);
/* The bound port (useful with port 0). */
int sw_admin_port(const struct sw_admin *a);
/* Stop serving and free; accepts NULL. */
void sw_admin_stop(struct sw_admin *a);

#endif
