/* The one place that decides what an outcome means: its error code, whether to retry, whether
 * the request may have taken effect, and whether the job belongs in the dead-letter topic.
 * Everything else asks here (HTTP answers, transport failures, session logins, and the errors the
 * worker itself finds in a job).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_CLASSIFY_H
#define SW_CLASSIFY_H

#include "sw_err.h"

struct sw_verdict {
    sw_err_t code;
    sw_class_t cls;
    int ambiguous;   /* the request may have taken effect at the provider */
    int dead_letter; /* the job itself (or the provider's answer to it) is unusable: keep the
                        message in the dead-letter topic for a human */
};

/* An HTTP answer. safe_to_repeat: the request is idempotent, or the job allows repeating an
 * ambiguous write. 2xx is SW_E_OK. A retryable status that may hide a write that happened
 * (500, 502, 504, 408) ends a write that is not safe to repeat. */
struct sw_verdict sw_classify_http(long status, int safe_to_repeat);

/* No HTTP answer: transport_err is what the HTTP engine reported (timeout, network_error,
 * result_too_large for an oversized body, ...); reached: the request may have reached the
 * provider. */
struct sw_verdict sw_classify_transport(sw_err_t transport_err, int reached, int safe_to_repeat);

/* A session login's outcome (status 0: transport_err applies). A refused login is auth_failed
 * whatever the status said, unless it may pass (429, 5xx, transport). */
struct sw_verdict sw_classify_login(long status, sw_err_t transport_err);

/* An error the worker decided itself (a job it cannot run, an answer it cannot use, a limit). */
struct sw_verdict sw_classify_ours(sw_err_t code, sw_class_t cls);

/* Copy a verdict's decision into st (code, class, dead_letter); the message is the caller's. */
void sw_verdict_apply(const struct sw_verdict *v, struct sw_status *st);

struct sw_provider_error;

/* A provider's non-2xx answer told in st: the verdict, the HTTP status, and the message
 * "<provider> answered HTTP <status>[: <code>][: <message>]" in the provider's own words. */
void sw_verdict_apply_answer(const struct sw_verdict *v, const char *provider, long status,
                             const struct sw_provider_error *pe, struct sw_status *st);

#endif
