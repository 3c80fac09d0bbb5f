/* The authentication schemes a profile can ask for (README "Profile format", auth): a header
 * with an exact value, HTTP Basic with a user and/or password, or a session cookie.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "sim_run.h"
#include "sim_state.h"

static int b64val(char c)
{
    const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(t, c) : NULL;

    return p ? (int)(p - t) : -1;
}

/* Decode "Basic <base64>" into out; 0, or -1 when it is not Basic credentials. */
static int basic_decode(const char *auth, char *out, size_t n)
{
    size_t len = 0;
    const char *s;
    unsigned acc = 0;
    int bits = 0;

    if (strncmp(auth, "Basic ", 6) != 0) {
        return -1;
    }
    for (s = auth + 6; *s && *s != '='; s++) {
        int v = b64val(*s);

        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len + 1 >= n) {
                return -1;
            }
            out[len++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[len] = '\0';
    return 0;
}

/* The spec member key evaluated as text, or NULL (error in run->cx.err when it failed). */
static const char *spec_text(struct sim_run *run, const cJSON *spec, const char *key, int *bad)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(spec, key);
    struct sim_val v;

    if (!cJSON_IsString(t)) {
        return NULL;
    }
    if (sim_eval_text(&run->cx, t->valuestring, &v) != 0) {
        *bad = 1;
        return NULL;
    }
    return sim_val_text(&run->cx, v);
}

static int basic_ok(struct sim_run *run, const cJSON *spec, int *bad)
{
    const char *user = spec_text(run, spec, "user", bad);
    const char *pass = spec_text(run, spec, "password", bad);
    char dec[512];
    char *colon;

    if (*bad || basic_decode(run->rq->auth, dec, sizeof(dec)) != 0 || !(colon = strchr(dec, ':'))) {
        return 0;
    }
    *colon = '\0';
    /* "*" accepts anything (Mailchimp-style "anystring:key"). */
    return (!user || !strcmp(user, "*") || !strcmp(dec, user)) &&
           (!pass || !strcmp(pass, "*") || !strcmp(colon + 1, pass));
}

/* name=VALUE anywhere in the Cookie header: VALUE is the fixed cookie (exactly) or starts with
 * the session prefix of the current login generation. */
static int cookie_ok(struct sim_run *run, const cJSON *spec, int *bad)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "cookie"));
    const char *fixed = spec_text(run, spec, "fixed", bad);
    const char *session = spec_text(run, spec, "session", bad);
    const char *ck = sim_req_header(run->rq, "Cookie");
    char want[128];
    const char *v;

    if (*bad || !name || !ck || snprintf(want, sizeof(want), "%s=", name) >= (int)sizeof(want)) {
        return 0;
    }
    v = strstr(ck, want);
    if (!v) {
        return 0;
    }
    v += strlen(want);
    if (fixed && !strncmp(v, fixed, strlen(fixed)) && strcspn(v, "; ") == strlen(fixed)) {
        return 1;
    }
    return session && !strncmp(v, session, strlen(session));
}

int sim_auth_ok(struct sim_run *run)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(run->p->doc, "auth");
    const char *scheme = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "scheme"));
    const char *rest = run->rq->path + strlen(run->p->mount);
    const char *want;
    const char *have;
    int bad = 0;
    int ok;

    /* Paths such as a login call need no credential. */
    if (sim_list_has(cJSON_GetObjectItemCaseSensitive(spec, "open"), rest)) {
        return 1;
    }
    if (scheme && !strcmp(scheme, "basic")) {
        ok = basic_ok(run, spec, &bad);
    } else if (scheme && !strcmp(scheme, "cookie")) {
        ok = cookie_ok(run, spec, &bad);
    } else {
        const char *header = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "header"));

        want = spec_text(run, spec, "value", &bad);
        have = header ? sim_req_header(run->rq, header) : NULL;
        ok = want && have && !strcmp(want, have);
    }
    return bad ? -1 : ok;
}
