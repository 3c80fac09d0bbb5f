/* Error code names and messages, expanded from the one list in sw_err.h.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_err.h"
#include "sw_classify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
#define SW_ERR_NAME(code, name, msg) name,
    SW_ERR_MAP(SW_ERR_NAME)
#undef SW_ERR_NAME
};

static const char *const msgs[] = {
#define SW_ERR_MSG(code, name, msg) msg,
    SW_ERR_MAP(SW_ERR_MSG)
#undef SW_ERR_MSG
};

const char *sw_err_name(sw_err_t code)
{
    if ((unsigned)code >= SW_E__COUNT) {
        return "internal_error";
    }
    return names[code];
}

const char *sw_err_str(sw_err_t code)
{
    if ((unsigned)code >= SW_E__COUNT) {
        return "unknown error";
    }
    return msgs[code];
}

sw_err_t sw_err_from_name(const char *name)
{
    int i;

    for (i = 0; name && i < SW_E__COUNT; i++) {
        if (!strcmp(names[i], name)) {
            return (sw_err_t)i;
        }
    }
    return SW_E__COUNT;
}

sw_err_t sw_status_set(struct sw_status *st, sw_err_t code, sw_class_t cls, const char *fmt, ...)
{
    va_list ap;

    if (!st) {
        return code;
    }
    st->code = code;
    st->cls = cls;
    st->dead_letter = sw_classify_ours(code, cls).dead_letter;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
    va_end(ap);
    return code;
}

void sw_status_clear(struct sw_status *st)
{
    st->code = SW_E_OK;
    st->cls = SW_CLASS_OK;
    st->http_status = 0;
    st->dead_letter = 0;
    st->msg[0] = '\0';
}
