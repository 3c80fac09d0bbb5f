/* Shared mutable state of segsim: magic-id counters, fault settings, statistics, retry promises.
 * Everything here is reached through one struct sim_state owned by main; all calls are thread-safe.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_STATE_H
#define SIM_STATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct sim_state;

/* Providers are numbered 0..n-1 in the order of the names given to sim_state_new (the loaded
 * profiles); n is the control pseudo-provider (/_sim/) and n + 1 everything else. */

/* The provider with this name (a simulated one), or -1. */
int sim_state_provider(const struct sim_state *st, const char *name);
/* Name of provider p: a simulated one, "control" or "other". */
const char *sim_state_provider_name(const struct sim_state *st, int p);
/* How many simulated providers there are (the number of control, so n + 1 is "other"). */
int sim_state_nprov(const struct sim_state *st);

/* Random fault injection settings for one provider. */
struct sim_fault {
    double rate_503;
    double rate_429;
    double rate_bad_json;
    long retry_after_s;
    long delay_ms;
    unsigned long long seed;
};

enum sim_fault_kind { SIM_FAULT_NONE = 0, SIM_FAULT_503, SIM_FAULT_429, SIM_FAULT_BAD_JSON };

struct sim_fault_draw {
    enum sim_fault_kind kind;
    long retry_after_s;
    long delay_ms;
};

/* @returns a new state or NULL on OOM. names (nprov of them, borrowed for the state's life) are
 * the simulated providers; max_ids bounds the magic-id counter map; grace_ms is how long after a
 * promise an arriving request is still assumed to have been sent before the client saw it. */
struct sim_state *sim_state_new(const char *const *names, int nprov, size_t max_ids, long grace_ms);
void sim_state_free(struct sim_state *st); /* accepts NULL */

/* Count one more request for provider+id; returns the new count (1 for the first), or -1 when the
 * map is full (caller answers 507) or on OOM. */
long sim_state_hit(struct sim_state *st, int provider, const char *id);

/* Install settings for one simulated provider or all of them (-1); reseeds the PRNG. */
void sim_state_set_fault(struct sim_state *st, int provider, const struct sim_fault *f);
void sim_state_clear_faults(struct sim_state *st);
void sim_state_get_fault(struct sim_state *st, int provider, struct sim_fault *out);
/* Defaults: all rates 0, retry_after_s 1, delay_ms 0, seed 1. */
void sim_fault_defaults(struct sim_fault *f);
/* Set one named field (rate_503, rate_429, rate_bad_json, retry_after_s, delay_ms, seed);
 * -1 for an unknown key or a value out of range for that key. */
int sim_fault_set_key(struct sim_fault *f, const char *key, double v);
/* Validate a fault; 0 when usable. */
int sim_fault_check(const struct sim_fault *f);
/* Draw the fault for one request of provider. */
void sim_state_draw_fault(struct sim_state *st, int provider, struct sim_fault_draw *out);

/* A request for provider with credential cred and URL path arrived at now_ms. It is an early retry
 * when an earlier answer told this credential to wait past now_ms (counted after a grace period,
 * see sim_state_new), and a same-path early retry, with no grace, when that answer was for the
 * same path (a job retrying its own request too soon). */
void sim_state_note_arrival(struct sim_state *st, int provider, const char *cred, const char *path,
                            long long now_ms);
/* An answer for cred + path sent at now_ms told the client to wait until until_ms (epoch ms). */
void sim_state_note_promise(struct sim_state *st, int provider, const char *cred, const char *path,
                            long long now_ms, long long until_ms);
/* Count one answered request. */
void sim_state_count(struct sim_state *st, int provider, unsigned status);
/* Monotonic sequence number for ids in error bodies. */
unsigned long long sim_state_next_seq(struct sim_state *st);

/* Session generation of cookie logins (Digital Audience): cookies name the generation they were
 * issued in and stop being valid when it moves on (DELETE /_sim/sessions). */
unsigned long sim_state_session_gen(struct sim_state *st);
void sim_state_expire_sessions(struct sim_state *st);

/* Snapshot of the statistics as JSON (caller deletes), NULL on OOM. */
cJSON *sim_state_stats_json(struct sim_state *st);
void sim_state_reset_stats(struct sim_state *st);

#endif
