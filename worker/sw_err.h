/* The one list of error codes a job can end with, and the retry class kept apart from them.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_ERR_H
#define SW_ERR_H

/* Append-only: names appear in result messages that consumers store. Never renumber. */
#define SW_ERR_MAP(X)                                                                              \
    X(OK, "ok", "success")                                                                         \
    X(INVALID_JOB, "invalid_job", "the message is not a valid job")                                \
    X(UNKNOWN_PROVIDER, "unknown_provider", "no such provider")                                    \
    X(UNKNOWN_ACCOUNT, "unknown_account", "no such account in the account store")                  \
    X(UNSUPPORTED_OPERATION, "unsupported_operation",                                              \
      "the provider does not support the operation")                                               \
    X(INVALID_PARAMS, "invalid_params", "the job's parameters are invalid")                        \
    X(AUTH_FAILED, "auth_failed", "the provider rejected the credentials")                         \
    X(FORBIDDEN, "forbidden", "the credentials lack permission")                                   \
    X(NOT_FOUND, "not_found", "the provider has no such resource")                                 \
    X(CONFLICT, "conflict", "the provider reported a conflict")                                    \
    X(RATE_LIMITED, "rate_limited", "the provider's rate limit was exceeded")                      \
    X(PROVIDER_ERROR, "provider_error", "the provider answered with an error")                     \
    X(TIMEOUT, "timeout", "the request timed out")                                                 \
    X(NETWORK_ERROR, "network_error", "the provider could not be reached")                         \
    X(DEADLINE_EXCEEDED, "deadline_exceeded", "the job's deadline passed")                         \
    X(RESPONSE_INVALID, "response_invalid", "the provider's answer could not be understood")       \
    X(RESULT_TOO_LARGE, "result_too_large", "a limit on the result's size was exceeded")           \
    X(INTERNAL_ERROR, "internal_error", "internal error")                                          \
    X(CONFIG, "config_error", "configuration error")                                               \
    X(NOMEM, "out_of_memory", "out of memory")

typedef enum {
#define SW_ERR_ENUM(code, name, msg) SW_E_##code,
    SW_ERR_MAP(SW_ERR_ENUM)
#undef SW_ERR_ENUM
        SW_E__COUNT
} sw_err_t;

/* What the engine should do next; separate from the code (a 503 and a 500 share a code). */
typedef enum {
    SW_CLASS_OK = 0,
    SW_CLASS_RETRY,    /* try again after a back-off */
    SW_CLASS_TERMINAL, /* this job is done; report the error */
    SW_CLASS_FATAL,    /* the worker cannot go on (config, Kafka fatal) */
} sw_class_t;

/* A failure with enough context to publish; fixed buffers so error paths never allocate. */
struct sw_status {
    sw_err_t code;
    sw_class_t cls;
    int http_status; /* 0 when no HTTP answer */
    int dead_letter; /* the message also goes to the dead-letter topic (sw_classify.h decides) */
    char msg[384];
};

const char *sw_err_name(sw_err_t code);
const char *sw_err_str(sw_err_t code);
/* Look a wire name up; returns SW_E__COUNT when unknown. */
sw_err_t sw_err_from_name(const char *name);

/* Fill st and return code; printf-style message. The error is the worker's own finding, and
 * sw_classify_ours() decides whether it is dead-letter worthy; an outcome of a provider exchange
 * is classified by sw_classify.h instead. */
sw_err_t sw_status_set(struct sw_status *st, sw_err_t code, sw_class_t cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sw_status_clear(struct sw_status *st);

#endif
