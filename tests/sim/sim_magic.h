/* Magic segment ids that make one request fail, flake, throttle or stall deterministically.
 * The behaviour is carried by the id itself, so tests need no global switches (README "Magic ids").
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_MAGIC_H
#define SIM_MAGIC_H

struct sim_state;

enum sim_outcome {
    SIM_OUT_NOT_MAGIC = 0, /* ordinary id: look it up in the data */
    SIM_OUT_OK,            /* synthetic success: segment 0 carrying the requested id */
    SIM_OUT_BAD_JSON,
    SIM_OUT_404,
    SIM_OUT_429,
    SIM_OUT_500,
    SIM_OUT_503,
    SIM_OUT_507 /* the per-id counter map is full */
};

struct sim_decision {
    enum sim_outcome outcome;
    long retry_after_s; /* for SIM_OUT_429 */
    long delay_ms;      /* for sim-slow-* */
};

/* Decide the answer for id. Counts the request when the id has a counter (flaky, 429).
 * Malformed magic ids (e.g. "sim-flaky-x") are SIM_OUT_NOT_MAGIC and so end up as 404. */
void sim_magic_decide(struct sim_state *st, int provider, const char *id, struct sim_decision *d);

/* Draw the global fault injection (POST /_sim/faults) for one request of a provider, as the
 * same kind of decision: SIM_OUT_NOT_MAGIC when no fault hit, else the forced outcome. The delay
 * applies either way. */
void sim_magic_draw_fault(struct sim_state *st, int provider, struct sim_decision *d);

#endif
