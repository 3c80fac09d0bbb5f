/* Redaction: the one step every string that leaves the worker with text from a provider or an
 * exchange passes (results, dead letters and their headers, log lines, debug output), so that an
 * account's secrets and any Authorization, Cookie or api_key value never leave it, whatever a
 * provider echoes back.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_REDACT_H
#define SW_REDACT_H

#include "sw_accounts.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define SW_REDACTED "[redacted]"

/* Redact the n bytes at s into a fresh NUL-terminated string (its length in *outlen): every
 * occurrence of one of acct's secret values (acct NULL: none), and the value after an
 * Authorization, Cookie or api_key name ("Authorization: Bearer x", "api_key=x",
 * "\"Cookie\":\"a=1; b=2\""), become "[redacted]". Returns NULL with *outlen 0 when nothing is
 * to be redacted (s may be used as it is), else the copy; NULL with *outlen 1 when it could not
 * be allocated (s must not be used). */
char *sw_redact_dup(const char *s, size_t n, const struct sw_account *acct, size_t *outlen);

/* Redact the NUL-terminated string in a buffer of cap bytes in place, cut to fit (when memory
 * is short, the whole string becomes "[redacted]"). Returns whether anything was redacted. */
int sw_redact_buf(char *s, size_t cap, const struct sw_account *acct);

/* Redact every string value and member name in the tree v, and the whole value of a member named
 * like a secret (Authorization, Cookie, api_key). Accepts NULL. Returns -1 when memory ran short
 * (the strings it could not redact were emptied), else 0. */
int sw_redact_json(cJSON *v, const struct sw_account *acct);

#endif
