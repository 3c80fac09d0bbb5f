/* Rate-limit and ordering referees (see sim_watch.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_watch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WINDOWS 16 /* distinct (provider, limit, window) triples */
#define KEY_MAX     64

struct window {
    char name[160]; /* provider|limit|w */
    long n;
    long w_s;
    long long idx; /* which fixed window the count belongs to */
    long count;
};

struct seq_key {
    char key[KEY_MAX];
    long long last;
    struct seq_key *next;
};

struct sim_watch {
    pthread_mutex_t lock;
    int enforce;
    struct window win[MAX_WINDOWS];
    int nwin;
    unsigned long long allowed, throttled;
    struct seq_key **tab;
    long cap, nkeys, max_keys;
    unsigned long long checked, violations, untracked;
    char first_violation[160];
};

struct sim_watch *sim_watch_new(int enforce, long max_keys)
{
    struct sim_watch *w = calloc(1, sizeof(*w));

    if (!w) {
        return NULL;
    }
    w->cap = 4096;
    w->tab = calloc((size_t)w->cap, sizeof(*w->tab));
    if (!w->tab) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    w->enforce = enforce;
    w->max_keys = max_keys;
    return w;
}

static void clear_keys(struct sim_watch *w)
{
    long i;

    for (i = 0; i < w->cap; i++) {
        while (w->tab[i]) {
            struct seq_key *k = w->tab[i];

            w->tab[i] = k->next;
            free(k);
        }
    }
    w->nkeys = 0;
}

void sim_watch_free(struct sim_watch *w)
{
    if (!w) {
        return;
    }
    clear_keys(w);
    free(w->tab);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int sim_watch_enforcing(const struct sim_watch *w)
{
    return w && w->enforce;
}

static struct window *window_for(struct sim_watch *w, const char *provider, const char *limit,
                                 long n, long w_s)
{
    char name[160];
    int i;

    snprintf(name, sizeof(name), "%s|%.100s|%ld", provider, limit, w_s);
    for (i = 0; i < w->nwin; i++) {
        if (!strcmp(w->win[i].name, name)) {
            return &w->win[i];
        }
    }
    if (w->nwin == MAX_WINDOWS) {
        return NULL;
    }
    memset(&w->win[w->nwin], 0, sizeof(w->win[0]));
    snprintf(w->win[w->nwin].name, sizeof(w->win[0].name), "%s", name);
    w->win[w->nwin].n = n;
    w->win[w->nwin].w_s = w_s;
    w->win[w->nwin].idx = -1;
    return &w->win[w->nwin++];
}

int sim_watch_take(struct sim_watch *w, const char *provider, const char *limit, long long now_ms,
                   long *remaining, long *reset_s, long *retry_after_s)
{
    struct window *ws[8];
    int nws = 0, i, ok = 1;
    const char *p = limit;

    *remaining = -1;
    *reset_s = -1;
    *retry_after_s = 0;
    if (!w || !w->enforce) {
        return 1;
    }
    pthread_mutex_lock(&w->lock);
    /* "75, 75;w=1, 750;w=60": the "N;w=S" elements are the windows. */
    while (p && *p && nws < 8) {
        const char *comma = strchr(p, ',');
        const char *sw = strstr(p, ";w=");

        if (sw && (!comma || sw < comma)) {
            long n = strtol(p, NULL, 10);
            long s = strtol(sw + 3, NULL, 10);
            struct window *win = n > 0 && s > 0 ? window_for(w, provider, limit, n, s) : NULL;

            if (win) {
                ws[nws++] = win;
            }
        }
        p = comma ? comma + 1 : NULL;
    }
    for (i = 0; i < nws; i++) {
        long long idx = now_ms / (ws[i]->w_s * 1000);

        if (ws[i]->idx != idx) {
            ws[i]->idx = idx;
            ws[i]->count = 0;
        }
        if (ws[i]->count >= ws[i]->n) {
            long wait = (long)(((idx + 1) * ws[i]->w_s * 1000 - now_ms + 999) / 1000);

            ok = 0;
            if (wait > *retry_after_s) {
                *retry_after_s = wait;
            }
        }
    }
    for (i = 0; ok && i < nws; i++) {
        long left = ws[i]->n - ++ws[i]->count;

        /* Remaining and Reset describe the same window: the one closest to its limit. */
        if (*remaining < 0 || left < *remaining) {
            *remaining = left;
            *reset_s = (long)(((ws[i]->idx + 1) * ws[i]->w_s * 1000 - now_ms + 999) / 1000);
        }
    }
    if (ok) {
        w->allowed++;
    } else {
        w->throttled++;
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;

    for (; *s; s++) {
        h = h * 33 + (unsigned char)*s;
    }
    return h;
}

void sim_watch_path(struct sim_watch *w, const char *path)
{
    const char *s = w ? strstr(path, "sim-seq-") : NULL;
    char key[KEY_MAX];
    size_t klen = 0;
    long long n = 0;
    struct seq_key *k;
    unsigned long h;

    if (!s) {
        return;
    }
    s += 8;
    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
           *s == '_') {
        if (klen + 1 >= sizeof(key)) {
            return;
        }
        key[klen++] = *s++;
    }
    key[klen] = '\0';
    if (!klen || *s++ != '-' || *s < '0' || *s > '9') {
        return;
    }
    while (*s >= '0' && *s <= '9' && n < 1000000000LL) {
        n = n * 10 + (*s++ - '0');
    }
    h = hash_str(key) % (unsigned long)w->cap;
    pthread_mutex_lock(&w->lock);
    for (k = w->tab[h]; k && strcmp(k->key, key); k = k->next) {
    }
    if (!k) {
        if (w->nkeys >= w->max_keys || !(k = calloc(1, sizeof(*k)))) {
            w->untracked++;
            pthread_mutex_unlock(&w->lock);
            return;
        }
        snprintf(k->key, sizeof(k->key), "%s", key);
        k->last = -1;
        k->next = w->tab[h];
        w->tab[h] = k;
        w->nkeys++;
    }
    w->checked++;
    /* Equal is a retry of the same job; lower means a later job of the key went first. */
    if (n < k->last) {
        if (!w->violations) {
            snprintf(w->first_violation, sizeof(w->first_violation),
                     "key %s: %lld arrived after %lld", key, n, k->last);
        }
        w->violations++;
    } else {
        k->last = n;
    }
    pthread_mutex_unlock(&w->lock);
}

cJSON *sim_watch_json(struct sim_watch *w)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *l = o ? cJSON_AddObjectToObject(o, "limits") : NULL;
    cJSON *s = o ? cJSON_AddObjectToObject(o, "sequence") : NULL;

    if (!l || !s) {
        cJSON_Delete(o);
        return NULL;
    }
    pthread_mutex_lock(&w->lock);
    cJSON_AddBoolToObject(l, "enforced", w->enforce);
    cJSON_AddNumberToObject(l, "allowed", (double)w->allowed);
    cJSON_AddNumberToObject(l, "throttled", (double)w->throttled);
    cJSON_AddNumberToObject(s, "checked", (double)w->checked);
    cJSON_AddNumberToObject(s, "violations", (double)w->violations);
    cJSON_AddNumberToObject(s, "keys", (double)w->nkeys);
    cJSON_AddNumberToObject(s, "untracked", (double)w->untracked);
    cJSON_AddStringToObject(s, "first_violation", w->first_violation);
    pthread_mutex_unlock(&w->lock);
    return o;
}

void sim_watch_reset(struct sim_watch *w)
{
    pthread_mutex_lock(&w->lock);
    w->nwin = 0;
    w->allowed = w->throttled = 0;
    clear_keys(w);
    w->checked = w->violations = w->untracked = 0;
    w->first_violation[0] = '\0';
    pthread_mutex_unlock(&w->lock);
}
