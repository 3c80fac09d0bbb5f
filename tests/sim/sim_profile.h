/* The provider profiles: one JSON document per provider (profiles/<provider>.json, README
 * "Profile format"), built into segsim or loaded from a directory, with the settings the command
 * line gives them (--key, a profile's own options). Immutable once the server runs.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_PROFILE_H
#define SIM_PROFILE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct sim_profile {
    const char *name;         /* provider name, as in tasks/<provider>/ */
    const char *mount;        /* path prefix, e.g. "/beehiiv" or "/api" */
    const char *content_type; /* of every answer with a body */
    const char *bad_json;     /* the body of a malformed answer, sent as it is */
    const char *key;          /* the credential accepted (profile "key", or --key) */
    int set;                  /* record set of the data (sim_rows.h) */
    int provider;             /* index in the profile set = provider number of sim_state */
    cJSON *doc;               /* the whole profile */
    cJSON *options;           /* values given to the profile's options, bound as variables */
};

struct sim_profiles {
    struct sim_profile *p;
    int n;
    const char **names; /* p[i].name, for sim_state */
};

/* The profiles built into the binary; NULL with a reason in err. */
struct sim_profiles *sim_profiles_builtin(char *err, size_t errn);
/* Every *.json file of dir, in name order; NULL with a reason in err. */
struct sim_profiles *sim_profiles_load_dir(const char *dir, char *err, size_t errn);
void sim_profiles_free(struct sim_profiles *ps); /* accepts NULL */

/* The profile called name, or NULL. */
struct sim_profile *sim_profiles_find(const struct sim_profiles *ps, const char *name);
/* The profile whose mount prefixes url (followed by '/' or the end), or NULL. */
const struct sim_profile *sim_profiles_match(const struct sim_profiles *ps, const char *url);
/* A command-line flag one of the profiles declares under "options" (e.g. --klaviyo-list-size):
 * 0 when set, 1 when no profile has the flag, -1 when the value is out of its range. */
int sim_profiles_set_option(struct sim_profiles *ps, const char *flag, const char *value);
/* Append "  FLAG N  help" lines for the profiles' options to f's usage text. */
void sim_profiles_usage(const struct sim_profiles *ps, void *file);

/* Check one profile document: required members, known step kinds, data set, and that every
 * expression parses. 0, or -1 with a reason in err. */
int sim_profile_check(const cJSON *doc, char *err, size_t errn);

#endif
