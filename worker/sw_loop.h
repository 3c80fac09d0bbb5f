/* Shared setup of the engine on an event loop (curl multi + timer heap), used by `run` and
 * `exec` alike so both execute jobs the same way.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_LOOP_H
#define SW_LOOP_H

#include "sw_config.h"
#include "sw_exec.h"
#include "sw_http.h"
#include "sw_job.h"
#include "sw_timer.h"

struct sw_loop {
    int64_t woke_us; /* when the last wait for events ended (0: none yet) */
    struct sw_http *http;
    struct sw_timers timers;
    struct sw_ratelimit rl;
    struct sw_engine eng;
};

int sw_loop_init(struct sw_loop *loop, const struct sw_config *cfg, const struct sw_registry *reg,
                 const struct sw_accounts *accounts, sw_emit_fn emit, void *emit_arg);
void sw_loop_free(struct sw_loop *loop);
/* One turn: wait for sockets/extra fds/timers up to max_wait_ms, then run what is ready. */
void sw_loop_turn(struct sw_loop *loop, struct curl_waitfd *extra, unsigned nextra,
                  int max_wait_ms);
/* Load an account store and check that every account names a loaded provider. NULL on error
 * (st says why, never with a secret). */
struct sw_accounts *sw_accounts_load_checked(const char *path, const struct sw_registry *reg,
                                             struct sw_status *st);
/* Replace the engine's account store with the one at path (SIGHUP). Runs already started keep
 * the store they started with until they end. On error the current store stays; -1 and st. */
int sw_loop_reload_accounts(struct sw_loop *loop, const char *path, struct sw_status *st);
void sw_job_limits_from(const struct sw_config *cfg, struct sw_job_limits *lim);

#endif
