/* The account store: account name -> provider, base URL override, settings and credentials.
 * Credentials are given as env:NAME or file:/path references and resolved at load; the values
 * live only here and in outgoing request headers.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_ACCOUNTS_H
#define SW_ACCOUNTS_H

#include "sw_err.h"

#include <cjson/cJSON.h>
#include <stddef.h>

struct sw_credential {
    char *key;   /* "api_key" */
    char *value; /* the secret itself; never logged */
    char *ref;   /* "env:KLAVIYO_API_KEY": safe to show */
};

struct sw_account {
    char *name;
    char *provider;
    char *base_url;  /* NULL: the spec's default */
    cJSON *settings; /* object, owned; never NULL */
    struct sw_credential *creds;
    size_t ncreds;
};

struct sw_accounts {
    struct sw_account *v;
    size_t n;
    int refs; /* holders (the engine and each run using it); loop thread only */
};

/* Load and resolve a store from a file. NULL on error (st says which account and why, never a
 * secret value). */
struct sw_accounts *sw_accounts_load(const char *path, struct sw_status *st);
typedef void (*sw_accounts_report_fn)(void *arg, const char *problem);
/* Like sw_accounts_load, but (with report set) an account that does not load is reported and
 * left out instead of failing the store, so `segworker validate` lists every broken account at
 * once. NULL, with st, only when the store itself fails (unreadable, not a store). */
struct sw_accounts *sw_accounts_load_report(const char *path, sw_accounts_report_fn report,
                                            void *arg, struct sw_status *st);
/* Same from a JSON text already in memory (used by tests). */
struct sw_accounts *sw_accounts_parse(const char *text, size_t len, struct sw_status *st);
/* Drop one reference; the store (and its secrets, scrubbed) is freed with the last. Accepts NULL.
 */
void sw_accounts_destroy(struct sw_accounts *a);
/* Take one more reference, so a reload can replace the store while runs still use the old one.
 * The count is bookkeeping, not content: a const store may be referenced. Accepts NULL. */
struct sw_accounts *sw_accounts_ref(const struct sw_accounts *a);

const struct sw_account *sw_accounts_find(const struct sw_accounts *a, const char *name);
const char *sw_account_cred(const struct sw_account *acct, const char *key);

/* Every secret value of the store, for redaction: calls fn for each. */
void sw_accounts_each_secret(const struct sw_accounts *a, void (*fn)(void *, const char *),
                             void *arg);

/* Resolve an "env:NAME" or "file:/path" reference into a fresh string (trailing newlines of a
 * file dropped); anything else is refused. what names the setting in error messages. */
char *sw_secret_resolve(const char *what, const char *ref, struct sw_status *st);

#endif
