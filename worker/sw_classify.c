/* Outcome classification (see sw_classify.h): the tables live here and nowhere else.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_classify.h"
#include "sw_adapter.h"

#include <stdio.h>

static sw_err_t http_code(long status)
{
    switch (status) {
    case 400:
    case 422:
        return SW_E_INVALID_PARAMS;
    case 401:
        return SW_E_AUTH_FAILED;
    case 403:
        return SW_E_FORBIDDEN;
    case 404:
        return SW_E_NOT_FOUND;
    case 408:
        return SW_E_TIMEOUT;
    case 409:
        return SW_E_CONFLICT;
    case 429:
        return SW_E_RATE_LIMITED;
    default:
        return SW_E_PROVIDER_ERROR;
    }
}

/* The retryable set is librdkafka's and Klaviyo's advice; other 5xx (501, 505, ...) say the
 * request itself will never work, so they end the job. */
static int http_retryable(long status)
{
    switch (status) {
    case 408:
    case 425:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        return 1;
    default:
        return 0;
    }
}

/* 429 and 503 mean "not processed"; 500, 502, 504 and 408 may hide a write that happened. */
static int http_ambiguous(long status)
{
    return status == 500 || status == 502 || status == 504 || status == 408;
}

struct sw_verdict sw_classify_http(long status, int safe_to_repeat)
{
    struct sw_verdict v = {SW_E_OK, SW_CLASS_OK, 0, 0};

    if (status >= 200 && status < 300) {
        return v;
    }
    v.code = http_code(status);
    v.cls = http_retryable(status) ? SW_CLASS_RETRY : SW_CLASS_TERMINAL;
    v.ambiguous = http_ambiguous(status);
    if (v.cls == SW_CLASS_RETRY && v.ambiguous && !safe_to_repeat) {
        /* A write that may have happened is not repeated unless the job says so. */
        v.cls = SW_CLASS_TERMINAL;
    }
    /* The provider's verdict on a job (a 400 included) is the job's answer, not a poison
     * message: it goes to the results topic only. */
    return v;
}

struct sw_verdict sw_classify_transport(sw_err_t transport_err, int reached, int safe_to_repeat)
{
    struct sw_verdict v = {transport_err, SW_CLASS_TERMINAL, reached, 0};

    switch (transport_err) {
    case SW_E_TIMEOUT:
    case SW_E_NETWORK_ERROR:
    case SW_E_NOMEM:
        v.cls = (reached && !safe_to_repeat) ? SW_CLASS_TERMINAL : SW_CLASS_RETRY;
        break;
    case SW_E_CONFIG:
        /* A URL or option curl refused: the provider was never reached. */
        v.code = SW_E_NETWORK_ERROR;
        break;
    case SW_E_RESULT_TOO_LARGE:
        /* The answer was larger than limits.max_response_bytes: asking again gets the same. */
        v.dead_letter = 1;
        break;
    default:
        break;
    }
    return v;
}

struct sw_verdict sw_classify_login(long status, sw_err_t transport_err)
{
    struct sw_verdict v;

    if (!status) {
        v = sw_classify_transport(transport_err, 0, 1);
        v.cls = SW_CLASS_RETRY;
        return v;
    }
    v = sw_classify_http(status, 1);
    if (v.code != SW_E_RATE_LIMITED && v.cls != SW_CLASS_RETRY) {
        v.code = SW_E_AUTH_FAILED; /* the login itself was refused */
    }
    return v;
}

struct sw_verdict sw_classify_ours(sw_err_t code, sw_class_t cls)
{
    struct sw_verdict v = {code, cls, 0, 0};

    switch (code) {
    case SW_E_INVALID_JOB:
    case SW_E_UNKNOWN_PROVIDER:
    case SW_E_UNKNOWN_ACCOUNT:
    case SW_E_UNSUPPORTED_OPERATION:
    case SW_E_INVALID_PARAMS:
    case SW_E_RESPONSE_INVALID:
    case SW_E_RESULT_TOO_LARGE:
        v.dead_letter = 1;
        break;
    default:
        break;
    }
    return v;
}

void sw_verdict_apply(const struct sw_verdict *v, struct sw_status *st)
{
    st->code = v->code;
    st->cls = v->cls;
    st->dead_letter = v->dead_letter;
}

void sw_verdict_apply_answer(const struct sw_verdict *v, const char *provider, long status,
                             const struct sw_provider_error *pe, struct sw_status *st)
{
    sw_verdict_apply(v, st);
    st->http_status = (int)status;
    /* A long provider message is cut at the status's bound; the whole body travels as
     * provider_error. */
    if (snprintf(st->msg, sizeof(st->msg), "%s answered HTTP %ld%s%s%s%s", provider, status,
                 pe->code[0] || pe->message[0] ? ": " : "", pe->code,
                 pe->code[0] && pe->message[0] ? ": " : "", pe->message) >= (int)sizeof(st->msg)) {
        st->msg[sizeof(st->msg) - 1] = '\0';
    }
}
