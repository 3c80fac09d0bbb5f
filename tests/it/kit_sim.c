/* The provider simulator and account stores (see kit_sim.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_ARGS 64

/* The simulator's profiles (tests/sim/README.md): where each is mounted, the credential fields
 * an account needs, and the settings it expects. */
struct profile {
    const char *provider;
    const char *path;
    const char *creds[5];    /* field, env reference, ..., NULL */
    const char *settings[5]; /* key, value, ..., NULL */
};

static const struct profile profiles[] = {
    {"activecampaign", "/activecampaign", {"api_key", "env:KIT_ACTIVECAMPAIGN_KEY"}, {NULL}},
    {"beehiiv", "/beehiiv", {"api_key", "env:KIT_BEEHIIV_KEY"}, {"publication_id", "pub_sim"}},
    {"customerio", "/customerio", {"api_key", "env:KIT_CUSTOMERIO_KEY"}, {NULL}},
    {"digitalaudience",
     "/digitalaudience",
     {"username", "env:KIT_DA_USER", "password", "env:KIT_DA_PASS"},
     {NULL}},
    {"flodesk", "/flodesk", {"api_key", "env:KIT_FLODESK_KEY"}, {NULL}},
    {"hubspot", "/hubspot", {"api_key", "env:KIT_HUBSPOT_KEY"}, {NULL}},
    {"klaviyo", "", {"api_key", "env:KIT_KLAVIYO_KEY"}, {NULL}},
    {"mailchimp",
     "/mailchimp",
     {"api_key", "env:KIT_MAILCHIMP_KEY"},
     {"list_id", "sim-list", "dc", "us1"}},
    {"sendgrid", "", {"api_key", "env:KIT_SENDGRID_KEY"}, {NULL}},
    {"truto", "/truto", {"api_key", "env:KIT_TRUTO_KEY"}, {"integrated_account_id", "sim-ia"}},
};
#define NPROFILES ((int)(sizeof(profiles) / sizeof(profiles[0])))

static char *const sim_env[] = {
    "KIT_ACTIVECAMPAIGN_KEY=sim-activecampaign-key",
    "KIT_BEEHIIV_KEY=sim-beehiiv-key",
    "KIT_CUSTOMERIO_KEY=sim-customerio-key",
    "KIT_DA_USER=sim-da-user",
    "KIT_DA_PASS=sim-digitalaudience-key",
    "KIT_FLODESK_KEY=sim-flodesk-key",
    "KIT_HUBSPOT_KEY=sim-hubspot-key",
    "KIT_KLAVIYO_KEY=sim-klaviyo-key",
    "KIT_MAILCHIMP_KEY=sim-mailchimp-key",
    "KIT_SENDGRID_KEY=sim-sendgrid-key",
    "KIT_TRUTO_KEY=sim-truto-key",
    NULL,
};

char *const *kit_sim_env(void)
{
    return sim_env;
}

const char *kit_sim_provider(int i)
{
    return i >= 0 && i < NPROFILES ? profiles[i].provider : NULL;
}

static const struct profile *profile_of(const char *provider)
{
    int i;

    for (i = 0; i < NPROFILES; i++) {
        if (!strcmp(profiles[i].provider, provider)) {
            return &profiles[i];
        }
    }
    return NULL;
}

/* The command line: prefix, segsim, the port options, the caller's options. argv[0] is made a
 * path when the prefix names a tool (posix_spawn does not search PATH). */
static int sim_argv(const struct kit_args *a, const struct kit_sim_opts *o, const char *portfile,
                    char *argv[SIM_ARGS], char *tool, size_t tool_n)
{
    int n = 0, i;

    for (i = 0; o->prefix && o->prefix[i] && n < SIM_ARGS / 2; i++) {
        argv[n++] = o->prefix[i];
    }
    argv[n++] = (char *)a->sim;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = (char *)portfile;
    if (o->request_log) {
        argv[n++] = "--request-log";
        argv[n++] = (char *)o->request_log;
    }
    if (o->bind) {
        argv[n++] = "--bind";
        argv[n++] = (char *)o->bind;
    }
    for (i = 0; o->args && o->args[i]; i++) {
        if (n >= SIM_ARGS - 1) {
            return -1;
        }
        argv[n++] = o->args[i];
    }
    argv[n] = NULL;
    if (o->prefix && o->prefix[0] && !strchr(o->prefix[0], '/')) {
        snprintf(tool, tool_n, "/usr/sbin/%s", o->prefix[0]);
        if (access(tool, X_OK) != 0) {
            snprintf(tool, tool_n, "/usr/bin/%s", o->prefix[0]);
        }
        argv[0] = tool;
    }
    return 0;
}

static int read_port(const char *portfile, int *port)
{
    FILE *f = fopen(portfile, "r");
    int ok;

    if (!f) {
        return -1;
    }
    ok = fscanf(f, "%d", port) == 1;
    fclose(f);
    return ok ? 0 : -1;
}

int kit_sim_start(struct kit_sim *s, const struct kit_args *a, const struct kit_sim_opts *opts)
{
    static const struct kit_sim_opts none;
    const struct kit_sim_opts *o = opts ? opts : &none;
    const char *dir = o->dir ? o->dir : a->work;
    const char *tag = o->tag ? o->tag : "sim";
    char portfile[1100], name[96], tool[256];
    char *argv[SIM_ARGS];
    int64_t end = kit_now_ms() + kit_deadline_ms(10000);

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    snprintf(s->host, sizeof(s->host), "%s", o->bind ? o->bind : "127.0.0.1");
    snprintf(name, sizeof(name), "%s.port", tag);
    kit_path(portfile, sizeof(portfile), dir, name);
    snprintf(name, sizeof(name), "%s.log", tag);
    kit_path(s->log, sizeof(s->log), dir, name);
    if (sim_argv(a, o, portfile, argv, tool, sizeof(tool)) != 0) {
        fprintf(stderr, "kit: too many simulator arguments\n");
        return -1;
    }
    unlink(portfile);
    s->pid = kit_spawn(argv, NULL, s->log, s->log);
    while (s->pid > 0 && kit_now_ms() < end) {
        if (read_port(portfile, &s->port) == 0) {
            return 0;
        }
        if (kit_wait(s->pid, 0) >= 0) {
            fprintf(stderr, "kit: the simulator exited during start-up (see %s)\n", s->log);
            s->pid = -1;
            return -1;
        }
        kit_nap_ms(20);
    }
    fprintf(stderr, "kit: the simulator did not start (see %s)\n", s->log);
    kit_sim_kill(s);
    return -1;
}

int kit_sim_stop(struct kit_sim *s)
{
    int rc = 0;

    if (s->pid > 0) {
        rc = kit_stop(s->pid, kit_deadline_ms(10000));
        s->pid = -1;
    }
    return rc;
}

void kit_sim_kill(struct kit_sim *s)
{
    kit_kill(s->pid);
    s->pid = -1;
}

void kit_sim_url(const struct kit_sim *s, const char *provider, char *buf, size_t n)
{
    const struct profile *p = provider ? profile_of(provider) : NULL;

    snprintf(buf, n, "http://%s:%d%s", s->host, s->port, p ? p->path : "");
}

cJSON *kit_sim_json(const struct kit_sim *s, const char *path)
{
    char *buf = malloc(1 << 16);
    cJSON *doc = NULL;

    if (buf && kit_http_get(s->port, path, buf, 1 << 16) == 200) {
        doc = cJSON_Parse(buf);
    }
    free(buf);
    return doc;
}

int kit_accounts_init(struct kit_accounts *a)
{
    memset(a, 0, sizeof(*a));
    a->doc = cJSON_CreateObject();
    a->accounts = a->doc ? cJSON_AddObjectToObject(a->doc, "accounts") : NULL;
    a->broken = !a->accounts;
    return a->broken ? -1 : 0;
}

cJSON *kit_account(struct kit_accounts *a, const char *name, const char *provider,
                   const char *base_url)
{
    cJSON *acct = a->accounts ? cJSON_AddObjectToObject(a->accounts, name) : NULL;

    if (!acct || !cJSON_AddStringToObject(acct, "provider", provider) ||
        !cJSON_AddStringToObject(acct, "base_url", base_url) ||
        !cJSON_AddObjectToObject(acct, "credentials")) {
        a->broken = 1;
        return NULL;
    }
    return acct;
}

void kit_account_set(struct kit_accounts *a, cJSON *acct, const char *section, const char *key,
                     const char *value)
{
    cJSON *sec = acct ? cJSON_GetObjectItemCaseSensitive(acct, section) : NULL;

    if (acct && !sec) {
        sec = cJSON_AddObjectToObject(acct, section);
    }
    if (sec && cJSON_GetObjectItemCaseSensitive(sec, key)) {
        cJSON *v = cJSON_CreateString(value);

        if (!v || !cJSON_ReplaceItemInObjectCaseSensitive(sec, key, v)) {
            cJSON_Delete(v);
            a->broken = 1;
        }
    } else if (!sec || !cJSON_AddStringToObject(sec, key, value)) {
        a->broken = 1;
    }
}

cJSON *kit_account_sim(struct kit_accounts *a, const char *name, const char *provider,
                       const struct kit_sim *s)
{
    const struct profile *p = profile_of(provider);
    char url[128];
    cJSON *acct;
    int i;

    if (!p) {
        fprintf(stderr, "kit: the simulator has no profile of %s\n", provider);
        a->broken = 1;
        return NULL;
    }
    kit_sim_url(s, provider, url, sizeof(url));
    acct = kit_account(a, name, provider, url);
    for (i = 0; p->creds[i]; i += 2) {
        kit_account_set(a, acct, "credentials", p->creds[i], p->creds[i + 1]);
    }
    for (i = 0; p->settings[i]; i += 2) {
        kit_account_set(a, acct, "settings", p->settings[i], p->settings[i + 1]);
    }
    return acct;
}

int kit_accounts_write(struct kit_accounts *a, const char *path)
{
    char *text = a->broken ? NULL : cJSON_PrintUnformatted(a->doc);
    int rc = -1;

    if (text) {
        size_t n = strlen(text);
        char *line = malloc(n + 2);

        if (line) {
            memcpy(line, text, n);
            memcpy(line + n, "\n", 2);
            rc = kit_write_file(path, line);
            free(line);
        }
        cJSON_free(text);
    }
    if (rc != 0) {
        fprintf(stderr, "kit: could not write the account store %s\n", path);
    }
    kit_accounts_free(a);
    return rc;
}

void kit_accounts_free(struct kit_accounts *a)
{
    cJSON_Delete(a->doc);
    a->doc = NULL;
    a->accounts = NULL;
}
