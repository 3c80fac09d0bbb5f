/* Loading and checking the provider profiles (see sim_profile.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_profile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_expr.h"
#include "sim_http.h"
#include "sim_rows.h"

/* profiles_builtin.c, generated from profiles/ by embed_profiles.cmake. */
extern const char *const sim_builtin_profiles[];
extern const size_t sim_builtin_profile_lens[];
extern const char *const sim_builtin_profile_names[];
extern const size_t sim_builtin_profile_count;

static const char *const step_kinds[] = {"set",   "check",   "error", "fault", "lookup",
                                         "magic", "enforce", "row",   "page",  "fieldset",
                                         "do",    "reply",   NULL};

/* Members whose strings are text, never expressions. */
static const char *const literal_members[] = {"about", "route", "raw", "bad_json", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; s && *list; list++) {
        if (!strcmp(*list, s)) {
            return 1;
        }
    }
    return 0;
}

/* Every expression in v parses (evaluated in check mode: nothing runs, nothing is looked up). */
static int check_exprs(struct sim_ctx *c, const cJSON *v, char *err, size_t errn)
{
    const cJSON *it;
    struct sim_val out;

    if (cJSON_IsString(v) && !in_list(literal_members, v->string)) {
        struct sim_arena_mark m = sim_arena_mark(&c->arena);
        int rc = sim_eval_text(c, v->valuestring, &out);

        sim_arena_release(&c->arena, m);
        if (rc != 0) {
            snprintf(err, errn, "%s: %s", v->string ? v->string : "value", c->err);
            return -1;
        }
        return 0;
    }
    cJSON_ArrayForEach(it, v)
    {
        if (check_exprs(c, it, err, errn) != 0) {
            return -1;
        }
    }
    return 0;
}

static int check_steps(const cJSON *steps, const char *where, char *err, size_t errn)
{
    const cJSON *step;

    if (steps && !cJSON_IsArray(steps)) {
        snprintf(err, errn, "%s: steps must be an array", where);
        return -1;
    }
    cJSON_ArrayForEach(step, steps)
    {
        if (!cJSON_IsObject(step) || !step->child || !in_list(step_kinds, step->child->string)) {
            snprintf(err, errn, "%s: unknown step %.40s", where,
                     step->child ? step->child->string : "{}");
            return -1;
        }
    }
    return 0;
}

static int check_routes(const cJSON *doc, char *err, size_t errn)
{
    const cJSON *rt;
    const cJSON *proc;

    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "routes"))) {
        snprintf(err, errn, "routes must be an array");
        return -1;
    }
    cJSON_ArrayForEach(rt, cJSON_GetObjectItemCaseSensitive(doc, "routes"))
    {
        const char *r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rt, "route"));
        const char *sp = r ? strchr(r, ' ') : NULL;

        if (!sp || sp[1] != '/' ||
            check_steps(cJSON_GetObjectItemCaseSensitive(rt, "do"), r, err, errn) != 0) {
            if (!err[0]) {
                snprintf(err, errn, "route %.60s: want \"METHOD /path\"", r ? r : "?");
            }
            return -1;
        }
    }
    cJSON_ArrayForEach(proc, cJSON_GetObjectItemCaseSensitive(doc, "procedures"))
    {
        if (check_steps(proc, proc->string, err, errn) != 0) {
            return -1;
        }
    }
    return check_steps(cJSON_GetObjectItemCaseSensitive(doc, "before"), "before", err, errn);
}

int sim_profile_check(const cJSON *doc, char *err, size_t errn)
{
    const char *mount = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "mount"));
    const char *data = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "data"));
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(doc, "auth");
    const char *scheme = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(auth, "scheme"));
    struct sim_ctx c;
    int rc;

    err[0] = '\0';
    if (!cJSON_IsObject(doc) ||
        !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "provider"))) {
        snprintf(err, errn, "not an object with a provider name");
        return -1;
    }
    if (!mount || mount[0] != '/' || mount[strlen(mount) - 1] == '/') {
        snprintf(err, errn, "mount must be a path like /name");
        return -1;
    }
    if (data && sim_rows_set(data) < 0) {
        snprintf(err, errn, "unknown data set %.40s", data);
        return -1;
    }
    if (!scheme || !in_list((const char *const[]){"header", "basic", "cookie", NULL}, scheme) ||
        (!strcmp(scheme, "header") && !cJSON_GetObjectItemCaseSensitive(auth, "header"))) {
        snprintf(err, errn, "auth needs a scheme: header (with header and value), basic or cookie");
        return -1;
    }
    if (!cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "errors"),
                                          "body")) {
        snprintf(err, errn, "errors.body (the error template) is required");
        return -1;
    }
    if (check_routes(doc, err, errn) != 0) {
        return -1;
    }
    memset(&c, 0, sizeof(c));
    c.check_only = 1;
    rc = check_exprs(&c, doc, err, errn);
    sim_arena_free(&c.arena);
    free(c.binds);
    return rc;
}

/* Fill p from the text of one profile; origin names it in messages. */
static int load_one(struct sim_profile *p, const char *text, size_t len, const char *origin,
                    char *err, size_t errn)
{
    char why[192];
    const cJSON *d;

    p->doc = cJSON_ParseWithLength(text, len);
    p->options = cJSON_CreateObject();
    if (!p->doc || !p->options) {
        snprintf(err, errn, "%s: not JSON (or out of memory)", origin);
        return -1;
    }
    if (sim_profile_check(p->doc, why, sizeof(why)) != 0) {
        snprintf(err, errn, "%s: %s", origin, why);
        return -1;
    }
    d = p->doc;
    p->name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "provider"));
    p->mount = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "mount"));
    p->content_type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "content_type"));
    p->content_type = p->content_type ? p->content_type : "application/json";
    p->bad_json = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "bad_json"));
    p->bad_json = p->bad_json ? p->bad_json : "{";
    p->key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "key"));
    p->key = p->key ? p->key : "";
    p->set = sim_rows_set(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "data")));
    p->set = p->set < 0 ? sim_rows_set("generated") : p->set;
    return 0;
}

static struct sim_profiles *alloc_set(size_t n)
{
    struct sim_profiles *ps = calloc(1, sizeof(*ps));

    if (!ps) {
        return NULL;
    }
    ps->p = calloc(n ? n : 1, sizeof(*ps->p));
    ps->names = calloc(n ? n : 1, sizeof(*ps->names));
    if (!ps->p || !ps->names) {
        sim_profiles_free(ps);
        return NULL;
    }
    return ps;
}

/* Names and mounts must be unique: they pick the profile of a request and of a fault. */
static int finish_set(struct sim_profiles *ps, char *err, size_t errn)
{
    int i, j;

    for (i = 0; i < ps->n; i++) {
        ps->p[i].provider = i;
        ps->names[i] = ps->p[i].name;
        for (j = 0; j < i; j++) {
            if (!strcmp(ps->p[i].name, ps->p[j].name) || !strcmp(ps->p[i].mount, ps->p[j].mount)) {
                snprintf(err, errn, "profiles %s and %s share a name or a mount", ps->p[j].name,
                         ps->p[i].name);
                return -1;
            }
        }
    }
    if (ps->n == 0) {
        snprintf(err, errn, "no profiles");
        return -1;
    }
    return 0;
}

struct sim_profiles *sim_profiles_builtin(char *err, size_t errn)
{
    struct sim_profiles *ps = alloc_set(sim_builtin_profile_count);
    size_t i;

    if (!ps) {
        snprintf(err, errn, "out of memory");
        return NULL;
    }
    for (i = 0; i < sim_builtin_profile_count; i++, ps->n++) {
        if (load_one(&ps->p[i], sim_builtin_profiles[i], sim_builtin_profile_lens[i],
                     sim_builtin_profile_names[i], err, errn) != 0) {
            ps->n++;
            sim_profiles_free(ps);
            return NULL;
        }
    }
    if (finish_set(ps, err, errn) != 0) {
        sim_profiles_free(ps);
        return NULL;
    }
    return ps;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The whole file, NUL-terminated; NULL on error. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

/* Sorted names of the *.json files of dir; NULL on error. */
static char **json_files(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    if (!d) {
        return NULL;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char **more;

        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) {
            continue;
        }
        more = realloc(names, (n + 1) * sizeof(*names));
        if (!more || !(more[n] = strdup(e->d_name))) {
            names = more ? more : names;
            break;
        }
        names = more;
        n++;
    }
    closedir(d);
    if (e) { /* stopped early: out of memory */
        while (n > 0) {
            free(names[--n]);
        }
        free(names);
        return NULL;
    }
    qsort(names, n, sizeof(*names), by_name);
    *count = n;
    return names ? names : calloc(1, sizeof(*names));
}

struct sim_profiles *sim_profiles_load_dir(const char *dir, char *err, size_t errn)
{
    size_t n = 0, i;
    char **files = json_files(dir, &n);
    struct sim_profiles *ps = files ? alloc_set(n) : NULL;
    char path[4096];
    int ok = ps != NULL;

    if (!files) {
        snprintf(err, errn, "cannot read directory %s", dir);
    } else if (!ps) {
        snprintf(err, errn, "out of memory");
    }
    for (i = 0; ok && i < n; i++, ps->n++) {
        size_t len = 0;
        char *text;

        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        text = read_file(path, &len);
        if (!text) {
            snprintf(err, errn, "cannot read %s", path);
        }
        ok = text && load_one(&ps->p[i], text, len, path, err, errn) == 0;
        free(text);
    }
    for (i = 0; files && i < n; i++) {
        free(files[i]);
    }
    free(files);
    if (ok && finish_set(ps, err, errn) == 0) {
        return ps;
    }
    sim_profiles_free(ps);
    return NULL;
}

void sim_profiles_free(struct sim_profiles *ps)
{
    int i;

    if (!ps) {
        return;
    }
    for (i = 0; ps->p && i < ps->n; i++) {
        cJSON_Delete(ps->p[i].doc);
        cJSON_Delete(ps->p[i].options);
    }
    free(ps->p);
    free(ps->names);
    free(ps);
}

struct sim_profile *sim_profiles_find(const struct sim_profiles *ps, const char *name)
{
    int i;

    for (i = 0; name && i < ps->n; i++) {
        if (!strcmp(ps->p[i].name, name)) {
            return &ps->p[i];
        }
    }
    return NULL;
}

const struct sim_profile *sim_profiles_match(const struct sim_profiles *ps, const char *url)
{
    int i;

    for (i = 0; i < ps->n; i++) {
        size_t n = strlen(ps->p[i].mount);

        if (strncmp(url, ps->p[i].mount, n) == 0 && (url[n] == '/' || !url[n])) {
            return &ps->p[i];
        }
    }
    return NULL;
}

int sim_profiles_set_option(struct sim_profiles *ps, const char *flag, const char *value)
{
    int i;

    for (i = 0; i < ps->n; i++) {
        const cJSON *opt = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ps->p[i].doc, "options"), flag);
        const char *var = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(opt, "var"));
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(opt, "min");
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(opt, "max");
        long v;

        if (!var) {
            continue;
        }
        if (sim_parse_long(value, cJSON_IsNumber(lo) ? (long)lo->valuedouble : 0,
                           cJSON_IsNumber(hi) ? (long)hi->valuedouble : 1000000000L, &v) != 0) {
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(ps->p[i].options, var);
        return cJSON_AddNumberToObject(ps->p[i].options, var, (double)v) ? 0 : -1;
    }
    return 1;
}

void sim_profiles_usage(const struct sim_profiles *ps, void *file)
{
    int i;

    for (i = 0; ps && i < ps->n; i++) {
        const cJSON *opt;

        cJSON_ArrayForEach(opt, cJSON_GetObjectItemCaseSensitive(ps->p[i].doc, "options"))
        {
            const char *help = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(opt, "help"));

            fprintf(file, "  %s N  (%s) %s\n", opt->string, ps->p[i].name, help ? help : "");
        }
    }
}
