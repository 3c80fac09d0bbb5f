/* Two referees for reliability tests, both off unless asked for:
 *  - limits: enforce a provider's documented fixed-window rate limits ("75, 75;w=1, 750;w=60")
 *    and answer 429 with Retry-After past them, as the real provider does;
 *  - sequence: ids "sim-seq-<key>-<n>" anywhere in a path record per-key arrival order, so a
 *    test can check that requests of one key arrived in job order (n never goes down).
 * Thread-safe; owned by main.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_WATCH_H
#define SIM_WATCH_H

#include <cjson/cJSON.h>

struct sim_watch;

/* enforce: whether rate limits are enforced. max_keys bounds the sequence table. */
struct sim_watch *sim_watch_new(int enforce, long max_keys);
void sim_watch_free(struct sim_watch *w); /* accepts NULL */

/* Take one request of provider under limit (RateLimit-Limit syntax). Returns 1 when allowed
 * (*remaining and *reset_s: what is left of the tightest window and when it ends), 0 when
 * throttled (*retry_after_s: until the fullest window resets). Always 1 (with -1s) when
 * enforcement is off. */
int sim_watch_take(struct sim_watch *w, const char *provider, const char *limit, long long now_ms,
                   long *remaining, long *reset_s, long *retry_after_s);
int sim_watch_enforcing(const struct sim_watch *w);

/* Note a request path; ignores paths without a sim-seq id. */
void sim_watch_path(struct sim_watch *w, const char *path);

/* {"limits":{"enforced","allowed","throttled"},"sequence":{"checked","violations","keys",
 * "first_violation"}} (caller deletes); NULL on OOM. */
cJSON *sim_watch_json(struct sim_watch *w);
void sim_watch_reset(struct sim_watch *w);

#endif
