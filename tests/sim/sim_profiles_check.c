/* Unit check of the simulator profiles: every file of the profiles directory loads and passes
 * sim_profile_check, the set built into segsim is the same, and every provider spec
 * (tasks/<provider>/<provider>.json) has a profile.
 * usage: sim_profiles_check PROFILES_DIR TASKS_DIR
 * SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_profile.h"

/* Each tasks/<p>/<p>.json needs a profile called p. Returns the number missing (-1 on error). */
static int missing_profiles(const struct sim_profiles *ps, const char *tasks)
{
    DIR *d = opendir(tasks);
    struct dirent *e;
    char path[4096];
    struct stat sb;
    int missing = 0;

    if (!d) {
        fprintf(stderr, "cannot read %s\n", tasks);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            snprintf(path, sizeof(path), "%s/%s/%s.json", tasks, e->d_name, e->d_name) >=
                (int)sizeof(path) ||
            stat(path, &sb) != 0) {
            continue;
        }
        if (!sim_profiles_find(ps, e->d_name)) {
            fprintf(stderr, "FAIL: provider spec %s has no simulator profile\n", path);
            missing++;
        }
    }
    closedir(d);
    return missing;
}

/* The built-in set holds the same documents as the directory. */
static int same_sets(const struct sim_profiles *a, const struct sim_profiles *b)
{
    int i;

    if (a->n != b->n) {
        fprintf(stderr, "FAIL: %d built-in profiles, %d in the directory\n", a->n, b->n);
        return 0;
    }
    for (i = 0; i < a->n; i++) {
        if (strcmp(a->p[i].name, b->p[i].name) != 0 ||
            !cJSON_Compare(a->p[i].doc, b->p[i].doc, 1)) {
            fprintf(stderr, "FAIL: built-in profile %s differs from the file (rebuild)\n",
                    a->p[i].name);
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    char err[512];
    struct sim_profiles *dir = NULL;
    struct sim_profiles *builtin = NULL;
    int failed = 1;
    int missing;

    if (argc != 3) {
        fprintf(stderr, "usage: sim_profiles_check PROFILES_DIR TASKS_DIR\n");
        return 2;
    }
    dir = sim_profiles_load_dir(argv[1], err, sizeof(err));
    if (!dir) {
        fprintf(stderr, "FAIL: %s\n", err);
        goto out;
    }
    builtin = sim_profiles_builtin(err, sizeof(err));
    if (!builtin) {
        fprintf(stderr, "FAIL: built-in profiles: %s\n", err);
        goto out;
    }
    missing = missing_profiles(dir, argv[2]);
    if (missing == 0 && same_sets(builtin, dir)) {
        printf("%d profiles load and check; every provider spec has one\n", dir->n);
        failed = 0;
    }
out:
    sim_profiles_free(dir);
    sim_profiles_free(builtin);
    printf("%d passed, %d failed\n", !failed, failed);
    return failed;
}
