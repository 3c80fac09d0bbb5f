/* Account store (see sw_accounts.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_accounts.h"
#include "sw_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRET_BYTES 8192
#define MAX_STORE_BYTES  (4 * 1024 * 1024)

static void account_free(struct sw_account *acct)
{
    size_t i;

    free(acct->name);
    free(acct->provider);
    free(acct->base_url);
    cJSON_Delete(acct->settings);
    for (i = 0; i < acct->ncreds; i++) {
        if (acct->creds[i].value) {
            /* Scrub before free so a core dump or reused page holds less. */
            memset(acct->creds[i].value, 0, strlen(acct->creds[i].value));
        }
        free(acct->creds[i].key);
        free(acct->creds[i].value);
        free(acct->creds[i].ref);
    }
    free(acct->creds);
}

void sw_accounts_destroy(struct sw_accounts *a)
{
    size_t i;

    if (!a || --a->refs > 0) {
        return;
    }
    for (i = 0; i < a->n; i++) {
        account_free(&a->v[i]);
    }
    free(a->v);
    free(a);
}

static char *read_file(const char *path, size_t max, size_t *len, struct sw_status *st)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    size_t cap = 0;

    if (!f) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t r;

        if (n + 4096 + 1 > cap) {
            char *nb;

            cap = cap ? cap * 2 : 8192;
            nb = realloc(buf, cap);
            if (!nb) {
                sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory reading %s", path);
                goto fail;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n > max) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "%s is larger than %zu bytes", path,
                          max);
            goto fail;
        }
        if (r == 0) {
            break;
        }
    }
    if (ferror(f)) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "cannot read %s", path);
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

char *sw_secret_resolve(const char *what, const char *ref, struct sw_status *st)
{
    char *v = NULL;
    size_t len = 0;

    if (!strncmp(ref, "env:", 4)) {
        const char *e = getenv(ref + 4);

        if (!e || !*e) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "%s: environment variable %s is not set",
                          what, ref + 4);
            return NULL;
        }
        v = strdup(e);
    } else if (!strncmp(ref, "file:", 5)) {
        struct sw_status fst;

        v = read_file(ref + 5, MAX_SECRET_BYTES, &len, &fst);
        if (!v) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "%s: %s", what, fst.msg);
            return NULL;
        }
        /* Secret files conventionally end with a newline that is not part of the secret. */
        while (len && (v[len - 1] == '\n' || v[len - 1] == '\r')) {
            v[--len] = '\0';
        }
        if (!len) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "%s: file %s is empty", what, ref + 5);
            free(v);
            return NULL;
        }
    } else {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                      "%s must be an env:NAME or file:/path reference (inline secrets are refused)",
                      what);
        return NULL;
    }
    if (!v) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
    }
    return v;
}

static char *resolve_secret(const char *acct, const char *key, const char *ref,
                            struct sw_status *st)
{
    char what[512];

    snprintf(what, sizeof(what), "account %s: credential %s", acct, key);
    return sw_secret_resolve(what, ref, st);
}

static int valid_base_url(const char *u)
{
    return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

static int load_account(struct sw_account *acct, const cJSON *item, struct sw_status *st)
{
    const char *name = item->string;
    const cJSON *c;
    const cJSON *creds = cJSON_GetObjectItemCaseSensitive(item, "credentials");
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(item, "settings");
    const char *provider = sw_json_str(item, "provider");
    const char *base = sw_json_str(item, "base_url");
    size_t i = 0;

    cJSON_ArrayForEach(c, item)
    {
        if (strcmp(c->string, "provider") && strcmp(c->string, "base_url") &&
            strcmp(c->string, "credentials") && strcmp(c->string, "settings")) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "account %s: unknown key \"%s\"", name,
                          c->string);
            return -1;
        }
    }
    if (!provider || !*provider) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "account %s: \"provider\" is required",
                      name);
        return -1;
    }
    if (cJSON_GetObjectItemCaseSensitive(item, "base_url") && (!base || !valid_base_url(base))) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                      "account %s: base_url must be an http:// or https:// URL", name);
        return -1;
    }
    if (creds && !cJSON_IsObject(creds)) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "account %s: credentials must be an object",
                      name);
        return -1;
    }
    if (settings && !cJSON_IsObject(settings)) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "account %s: settings must be an object",
                      name);
        return -1;
    }
    acct->name = strdup(name);
    acct->provider = strdup(provider);
    acct->base_url = base ? strdup(base) : NULL;
    acct->settings = settings ? cJSON_Duplicate(settings, 1) : cJSON_CreateObject();
    if (!acct->name || !acct->provider || (base && !acct->base_url) || !acct->settings) {
        sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
        return -1;
    }
    /* Strip one trailing slash so base + "/path" never doubles it. */
    if (acct->base_url) {
        size_t bl = strlen(acct->base_url);

        if (bl > 8 && acct->base_url[bl - 1] == '/') {
            acct->base_url[bl - 1] = '\0';
        }
    }
    acct->ncreds = (size_t)cJSON_GetArraySize(creds);
    if (acct->ncreds) {
        acct->creds = calloc(acct->ncreds, sizeof(*acct->creds));
        if (!acct->creds) {
            acct->ncreds = 0;
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
            return -1;
        }
    }
    cJSON_ArrayForEach(c, creds)
    {
        struct sw_credential *cr = &acct->creds[i++];

        if (!cJSON_IsString(c)) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                          "account %s: credential %s must be a string reference", name, c->string);
            return -1;
        }
        cr->key = strdup(c->string);
        cr->ref = strdup(c->valuestring);
        if (!cr->key || !cr->ref) {
            sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
            return -1;
        }
        cr->value = resolve_secret(name, c->string, c->valuestring, st);
        if (!cr->value) {
            return -1;
        }
    }
    return 0;
}

/* The store in text. With report set, an account that does not load is reported and left out;
 * without, it fails the store. */
static struct sw_accounts *parse_store(const char *text, size_t len, sw_accounts_report_fn report,
                                       void *arg, struct sw_status *st)
{
    struct sw_accounts *a = NULL;
    cJSON *root;
    const cJSON *accts;
    const cJSON *item;
    char err[128];
    size_t i = 0;

    root = sw_json_parse(text, len, 16, err, sizeof(err));
    if (!root) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "account store: %s", err);
        return NULL;
    }
    accts = cJSON_GetObjectItemCaseSensitive(root, "accounts");
    if (!cJSON_IsObject(accts) || cJSON_GetArraySize(root) != 1) {
        sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL,
                      "account store: expected {\"accounts\": {name: {...}}} and nothing else");
        goto fail;
    }
    a = calloc(1, sizeof(*a));
    if (!a) {
        goto nomem;
    }
    a->refs = 1;
    a->n = (size_t)cJSON_GetArraySize(accts);
    if (a->n) {
        a->v = calloc(a->n, sizeof(*a->v));
        if (!a->v) {
            a->n = 0;
            goto nomem;
        }
    }
    cJSON_ArrayForEach(item, accts)
    {
        int bad = !cJSON_IsObject(item);

        if (bad) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "account %s: must be an object",
                          item->string);
        } else if (load_account(&a->v[i++], item, st) != 0) {
            bad = 1;
            account_free(&a->v[--i]);
            memset(&a->v[i], 0, sizeof(a->v[i]));
        }
        if (bad && !report) {
            goto fail;
        }
        if (bad) {
            report(arg, st->msg);
        }
    }
    a->n = i;
    cJSON_Delete(root);
    return a;
nomem:
    sw_status_set(st, SW_E_NOMEM, SW_CLASS_FATAL, "out of memory");
fail:
    cJSON_Delete(root);
    sw_accounts_destroy(a);
    return NULL;
}

struct sw_accounts *sw_accounts_parse(const char *text, size_t len, struct sw_status *st)
{
    return parse_store(text, len, NULL, NULL, st);
}

struct sw_accounts *sw_accounts_load_report(const char *path, sw_accounts_report_fn report,
                                            void *arg, struct sw_status *st)
{
    struct sw_accounts *a;
    size_t len = 0;
    char *text = read_file(path, MAX_STORE_BYTES, &len, st);

    if (!text) {
        return NULL;
    }
    a = parse_store(text, len, report, arg, st);
    free(text);
    return a;
}

struct sw_accounts *sw_accounts_load(const char *path, struct sw_status *st)
{
    return sw_accounts_load_report(path, NULL, NULL, st);
}

struct sw_accounts *sw_accounts_ref(const struct sw_accounts *a)
{
    struct sw_accounts *m = (struct sw_accounts *)a;

    if (m) {
        m->refs++;
    }
    return m;
}

const struct sw_account *sw_accounts_find(const struct sw_accounts *a, const char *name)
{
    size_t i;

    for (i = 0; a && name && i < a->n; i++) {
        if (!strcmp(a->v[i].name, name)) {
            return &a->v[i];
        }
    }
    return NULL;
}

const char *sw_account_cred(const struct sw_account *acct, const char *key)
{
    size_t i;

    for (i = 0; i < acct->ncreds; i++) {
        if (!strcmp(acct->creds[i].key, key)) {
            return acct->creds[i].value;
        }
    }
    return NULL;
}

void sw_accounts_each_secret(const struct sw_accounts *a, void (*fn)(void *, const char *),
                             void *arg)
{
    size_t i, j;

    for (i = 0; a && i < a->n; i++) {
        for (j = 0; j < a->v[i].ncreds; j++) {
            fn(arg, a->v[i].creds[j].value);
        }
    }
}
