/* The provider simulator (segsim) as a child process of a test, and account stores pointing at
 * its provider profiles with the credentials it expects.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_SIM_H
#define SW_KIT_SIM_H

#include <cjson/cJSON.h>
#include <sys/types.h>

struct kit_args;

struct kit_sim {
    pid_t pid;
    int port;
    char host[48]; /* the address it listens on, for base URLs */
    char log[1100];
};

/* How to start it; every field may be NULL. */
struct kit_sim_opts {
    const char *dir;         /* where its files go (default: the test's work directory) */
    const char *tag;         /* names them <tag>.port and <tag>.log (default: "sim") */
    const char *request_log; /* --request-log */
    char *const *args;       /* more segsim arguments, NULL-terminated */
    char *const *prefix;     /* run through this command, e.g. {"ip", "netns", "exec", NS, NULL};
                              * a tool without a slash is looked up in /usr/sbin, then /usr/bin */
    const char *bind;        /* --bind ADDR, also the host of its base URLs */
};

/* Start segsim on an ephemeral port and wait (with a deadline) for the port it wrote. 0 when
 * up; -1 when it did not start or exited (its log is named). */
int kit_sim_start(struct kit_sim *s, const struct kit_args *a, const struct kit_sim_opts *o);
/* SIGTERM and wait: 0 when it exited cleanly in time; nonzero else (then it is killed). Nothing
 * when it was never started (returns 0). */
int kit_sim_stop(struct kit_sim *s);
/* Kill it, for the cleanup of a test that already failed. */
void kit_sim_kill(struct kit_sim *s);
/* The base URL of a provider's profile: http://host:port, plus /<provider> for the profiles
 * mounted under a path (every provider but Klaviyo and SendGrid). */
void kit_sim_url(const struct kit_sim *s, const char *provider, char *buf, size_t n);
/* GET a control path (/_sim/stats, /_sim/watch) as JSON; NULL unless it answered 200. */
cJSON *kit_sim_json(const struct kit_sim *s, const char *path);
/* The providers the simulator has a profile of, i < count; NULL past the last. */
const char *kit_sim_provider(int i);
/* Environment entries ("K=V", NULL-terminated) holding the credentials the simulator expects by
 * default; kit_account_sim refers to them, and every worker the kit starts gets them. */
char *const *kit_sim_env(void);

/* An account store being built. Failures are remembered and reported by kit_accounts_write. */
struct kit_accounts {
    cJSON *doc;
    cJSON *accounts;
    int broken;
};

int kit_accounts_init(struct kit_accounts *a);
/* Add an account with no credentials yet; returns it (NULL on failure) for kit_account_set. */
cJSON *kit_account(struct kit_accounts *a, const char *name, const char *provider,
                   const char *base_url);
/* acct.section.key = value, replacing a value it had; section is "credentials" or
 * "settings". */
void kit_account_set(struct kit_accounts *a, cJSON *acct, const char *section, const char *key,
                     const char *value);
/* An account on the simulator's profile of provider: its base URL, the settings the profile
 * expects (publication, list, integrated account) and its default credentials (kit_sim_env). */
cJSON *kit_account_sim(struct kit_accounts *a, const char *name, const char *provider,
                       const struct kit_sim *s);
/* Write the store (atomically) and free it; 0 when it was built and written whole. */
int kit_accounts_write(struct kit_accounts *a, const char *path);
void kit_accounts_free(struct kit_accounts *a);

#endif
