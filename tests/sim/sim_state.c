/* Shared mutable state of segsim (see sim_state.h). One mutex per concern keeps contention low.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_BUCKETS    65536u
#define ID_MAX_LEN    256u
#define MAX_STATUS    600u
#define MAX_CREDS     256
#define CRED_LEN      160
#define EARLY_DETAILS 16
#define PATH_PROMISES 1024

struct id_entry {
    struct id_entry *next;
    int provider;
    long count;
    char key[]; /* NUL-terminated id */
};

struct cred_promise {
    int used;
    int provider;
    char cred[CRED_LEN];
    long long issued_ms;
    long long until_ms;
};

/* Recent promises per credential + path, in a ring: enough to catch a job retrying itself. */
struct path_promise {
    unsigned long long key; /* hash of provider, credential and path; 0 = empty */
    long long until_ms;
};

struct early_detail {
    int provider;
    int same_path;
    long long arrived_ms;
    long long issued_ms;
    long long until_ms;
};

struct sim_state {
    pthread_mutex_t ids_lock;
    struct id_entry **buckets;
    size_t n_ids;
    size_t max_ids;

    const char *const *names;
    int nprov;

    pthread_mutex_t fault_lock;
    struct sim_fault *fault; /* nprov of each */
    int *fault_on;
    unsigned long long *rng;

    pthread_mutex_t stats_lock;
    unsigned long long seq;
    unsigned long long total;
    unsigned long long (*by_status)[MAX_STATUS]; /* nprov + 2 rows: providers, control, other */
    unsigned long long promises;
    unsigned long long early;
    unsigned long long early_same_path;
    struct path_promise paths[PATH_PROMISES];
    size_t path_next;
    unsigned long long untracked; /* promises dropped because the credential table was full */
    struct cred_promise creds[MAX_CREDS];
    struct early_detail details[EARLY_DETAILS];
    size_t n_details;
    long grace_ms;
    unsigned long session_gen;
};

const char *sim_state_provider_name(const struct sim_state *st, int p)
{
    if (p >= 0 && p < st->nprov) {
        return st->names[p];
    }
    return p == st->nprov ? "control" : "other";
}

int sim_state_provider(const struct sim_state *st, const char *name)
{
    int p;

    for (p = 0; name && p < st->nprov; p++) {
        if (strcmp(name, st->names[p]) == 0) {
            return p;
        }
    }
    return -1;
}

int sim_state_nprov(const struct sim_state *st)
{
    return st->nprov;
}

struct sim_state *sim_state_new(const char *const *names, int nprov, size_t max_ids, long grace_ms)
{
    struct sim_state *st = calloc(1, sizeof(*st));

    if (!st) {
        return NULL;
    }
    st->names = names;
    st->nprov = nprov;
    st->buckets = calloc(ID_BUCKETS, sizeof(*st->buckets));
    st->fault = calloc((size_t)nprov + 1, sizeof(*st->fault));
    st->fault_on = calloc((size_t)nprov + 1, sizeof(*st->fault_on));
    st->rng = calloc((size_t)nprov + 1, sizeof(*st->rng));
    st->by_status = calloc((size_t)nprov + 2, sizeof(*st->by_status));
    if (!st->buckets || !st->fault || !st->fault_on || !st->rng || !st->by_status) {
        free(st->buckets);
        free(st->fault);
        free(st->fault_on);
        free(st->rng);
        free(st->by_status);
        free(st);
        return NULL;
    }
    st->max_ids = max_ids;
    st->grace_ms = grace_ms;
    pthread_mutex_init(&st->ids_lock, NULL);
    pthread_mutex_init(&st->fault_lock, NULL);
    pthread_mutex_init(&st->stats_lock, NULL);
    return st;
}

void sim_state_free(struct sim_state *st)
{
    size_t b;

    if (!st) {
        return;
    }
    for (b = 0; b < ID_BUCKETS; b++) {
        struct id_entry *e = st->buckets[b];

        while (e) {
            struct id_entry *next = e->next;

            free(e);
            e = next;
        }
    }
    free(st->buckets);
    free(st->fault);
    free(st->fault_on);
    free(st->rng);
    free(st->by_status);
    pthread_mutex_destroy(&st->ids_lock);
    pthread_mutex_destroy(&st->fault_lock);
    pthread_mutex_destroy(&st->stats_lock);
    free(st);
}

static unsigned hash_str(int provider, const char *s)
{
    unsigned h = 2166136261u ^ (unsigned)provider; /* FNV-1a */

    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

long sim_state_hit(struct sim_state *st, int provider, const char *id)
{
    size_t len = strlen(id);
    unsigned b = hash_str(provider, id) % ID_BUCKETS;
    struct id_entry *e;
    long rc = -1;

    if (len >= ID_MAX_LEN) {
        return -1;
    }
    pthread_mutex_lock(&st->ids_lock);
    for (e = st->buckets[b]; e; e = e->next) {
        if (e->provider == provider && strcmp(e->key, id) == 0) {
            rc = ++e->count;
            goto out;
        }
    }
    /* Bounded on purpose: a runaway test must see 507, not an ever-growing simulator. */
    if (st->n_ids >= st->max_ids) {
        goto out;
    }
    e = malloc(sizeof(*e) + len + 1);
    if (!e) {
        goto out;
    }
    e->provider = provider;
    e->count = 1;
    memcpy(e->key, id, len + 1);
    e->next = st->buckets[b];
    st->buckets[b] = e;
    st->n_ids++;
    rc = 1;
out:
    pthread_mutex_unlock(&st->ids_lock);
    return rc;
}

static unsigned long long splitmix64(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void sim_fault_defaults(struct sim_fault *f)
{
    memset(f, 0, sizeof(*f));
    f->retry_after_s = 1;
    f->seed = 1;
}

int sim_fault_set_key(struct sim_fault *f, const char *key, double v)
{
    if (v < 0 || v != v) {
        return -1;
    }
    if (strcmp(key, "rate_503") == 0 && v <= 1) {
        f->rate_503 = v;
    } else if (strcmp(key, "rate_429") == 0 && v <= 1) {
        f->rate_429 = v;
    } else if (strcmp(key, "rate_bad_json") == 0 && v <= 1) {
        f->rate_bad_json = v;
    } else if (strcmp(key, "retry_after_s") == 0 && v <= 3600) {
        f->retry_after_s = (long)v;
    } else if (strcmp(key, "delay_ms") == 0 && v <= 600000) {
        f->delay_ms = (long)v;
    } else if (strcmp(key, "seed") == 0 && v <= 9007199254740992.0) {
        f->seed = (unsigned long long)v;
    } else {
        return -1;
    }
    return 0;
}

int sim_fault_check(const struct sim_fault *f)
{
    if (f->rate_503 < 0 || f->rate_429 < 0 || f->rate_bad_json < 0 ||
        f->rate_503 + f->rate_429 + f->rate_bad_json > 1.0) {
        return -1;
    }
    if (f->retry_after_s < 0 || f->retry_after_s > 3600 || f->delay_ms < 0 ||
        f->delay_ms > 600000) {
        return -1;
    }
    return 0;
}

void sim_state_set_fault(struct sim_state *st, int provider, const struct sim_fault *f)
{
    int p;

    pthread_mutex_lock(&st->fault_lock);
    for (p = 0; p < st->nprov; p++) {
        if (provider == -1 || provider == p) {
            st->fault[p] = *f;
            st->fault_on[p] = 1;
            st->rng[p] = f->seed;
        }
    }
    pthread_mutex_unlock(&st->fault_lock);
}

void sim_state_clear_faults(struct sim_state *st)
{
    pthread_mutex_lock(&st->fault_lock);
    memset(st->fault, 0, (size_t)st->nprov * sizeof(*st->fault));
    memset(st->fault_on, 0, (size_t)st->nprov * sizeof(*st->fault_on));
    pthread_mutex_unlock(&st->fault_lock);
}

void sim_state_get_fault(struct sim_state *st, int provider, struct sim_fault *out)
{
    memset(out, 0, sizeof(*out));
    if (provider < 0 || provider >= st->nprov) {
        return;
    }
    pthread_mutex_lock(&st->fault_lock);
    *out = st->fault[provider];
    pthread_mutex_unlock(&st->fault_lock);
}

void sim_state_draw_fault(struct sim_state *st, int provider, struct sim_fault_draw *out)
{
    struct sim_fault *f;
    double u;

    memset(out, 0, sizeof(*out));
    if (provider < 0 || provider >= st->nprov) {
        return;
    }
    pthread_mutex_lock(&st->fault_lock);
    if (!st->fault_on[provider]) {
        goto out;
    }
    f = &st->fault[provider];
    /* 53 random bits -> uniform double in [0, 1). */
    u = (double)(splitmix64(&st->rng[provider]) >> 11) / 9007199254740992.0;
    out->delay_ms = f->delay_ms;
    out->retry_after_s = f->retry_after_s;
    if (u < f->rate_503) {
        out->kind = SIM_FAULT_503;
    } else if (u < f->rate_503 + f->rate_429) {
        out->kind = SIM_FAULT_429;
    } else if (u < f->rate_503 + f->rate_429 + f->rate_bad_json) {
        out->kind = SIM_FAULT_BAD_JSON;
    }
out:
    pthread_mutex_unlock(&st->fault_lock);
}

static struct cred_promise *find_cred(struct sim_state *st, int provider, const char *cred,
                                      int create)
{
    int i;
    struct cred_promise *free_slot = NULL;

    for (i = 0; i < MAX_CREDS; i++) {
        struct cred_promise *c = &st->creds[i];

        if (!c->used) {
            if (!free_slot) {
                free_slot = c;
            }
            continue;
        }
        if (c->provider == provider && strncmp(c->cred, cred, CRED_LEN - 1) == 0) {
            return c;
        }
    }
    if (!create || !free_slot) {
        return NULL;
    }
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = 1;
    free_slot->provider = provider;
    snprintf(free_slot->cred, sizeof(free_slot->cred), "%s", cred);
    return free_slot;
}

static unsigned long long path_key(int provider, const char *cred, const char *path)
{
    unsigned long long h = 1469598103934665603ULL ^ (unsigned long long)provider; /* FNV-1a 64 */
    const char *parts[2];
    int i;

    parts[0] = cred ? cred : "";
    parts[1] = path ? path : "";
    for (i = 0; i < 2; i++) {
        const char *p = parts[i];

        while (*p) {
            h ^= (unsigned char)*p++;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* separator so "ab"+"c" differs from "a"+"bc" */
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static void add_detail(struct sim_state *st, int provider, int same_path, long long now_ms,
                       long long issued_ms, long long until_ms)
{
    struct early_detail *d;

    if (st->n_details >= EARLY_DETAILS) {
        return;
    }
    d = &st->details[st->n_details++];
    d->provider = provider;
    d->same_path = same_path;
    d->arrived_ms = now_ms;
    d->issued_ms = issued_ms;
    d->until_ms = until_ms;
}

void sim_state_note_arrival(struct sim_state *st, int provider, const char *cred, const char *path,
                            long long now_ms)
{
    unsigned long long key = path_key(provider, cred, path);
    struct cred_promise *c;
    size_t i;

    pthread_mutex_lock(&st->stats_lock);
    c = find_cred(st, provider, cred ? cred : "", 0);
    /* Requests that arrive within grace_ms of the promise may have been sent before the client
     * could have read it (other jobs in flight on the same credential), so they do not count. */
    if (c && now_ms < c->until_ms && now_ms >= c->issued_ms + st->grace_ms) {
        st->early++;
        add_detail(st, provider, 0, now_ms, c->issued_ms, c->until_ms);
    }
    for (i = 0; i < PATH_PROMISES; i++) {
        if (st->paths[i].key == key && now_ms < st->paths[i].until_ms) {
            st->early_same_path++;
            add_detail(st, provider, 1, now_ms, 0, st->paths[i].until_ms);
            st->paths[i].key = 0; /* count each promise once */
            break;
        }
    }
    pthread_mutex_unlock(&st->stats_lock);
}

void sim_state_note_promise(struct sim_state *st, int provider, const char *cred, const char *path,
                            long long now_ms, long long until_ms)
{
    struct cred_promise *c;
    struct path_promise *pp;

    pthread_mutex_lock(&st->stats_lock);
    st->promises++;
    c = find_cred(st, provider, cred ? cred : "", 1);
    if (!c) {
        st->untracked++;
    } else if (until_ms > c->until_ms) {
        /* Keep the latest deadline: that is the one a well-behaved client must honour. */
        c->until_ms = until_ms;
        c->issued_ms = now_ms;
    }
    pp = &st->paths[st->path_next];
    st->path_next = (st->path_next + 1) % PATH_PROMISES;
    pp->key = path_key(provider, cred, path);
    pp->until_ms = until_ms;
    pthread_mutex_unlock(&st->stats_lock);
}

void sim_state_count(struct sim_state *st, int provider, unsigned status)
{
    if (provider < 0 || provider > st->nprov + 1) {
        provider = st->nprov + 1; /* other */
    }
    pthread_mutex_lock(&st->stats_lock);
    if (provider != st->nprov) { /* control requests are not counted in total */
        st->total++;
    }
    st->by_status[provider][status < MAX_STATUS ? status : 0]++;
    pthread_mutex_unlock(&st->stats_lock);
}

unsigned long long sim_state_next_seq(struct sim_state *st)
{
    unsigned long long v;

    pthread_mutex_lock(&st->stats_lock);
    v = ++st->seq;
    pthread_mutex_unlock(&st->stats_lock);
    return v;
}

static int add_provider_stats(const struct sim_state *st, int p, cJSON *by)
{
    cJSON *obj = cJSON_AddObjectToObject(by, sim_state_provider_name(st, p));
    cJSON *codes;
    unsigned long long sum = 0;
    unsigned s;
    char key[8];

    if (!obj) {
        return -1;
    }
    codes = cJSON_AddObjectToObject(obj, "status");
    if (!codes) {
        return -1;
    }
    for (s = 0; s < MAX_STATUS; s++) {
        if (!st->by_status[p][s]) {
            continue;
        }
        sum += st->by_status[p][s];
        snprintf(key, sizeof(key), "%u", s);
        if (!cJSON_AddNumberToObject(codes, key, (double)st->by_status[p][s])) {
            return -1;
        }
    }
    return cJSON_AddNumberToObject(obj, "total", (double)sum) ? 0 : -1;
}

static int add_details(const struct sim_state *st, cJSON *root)
{
    cJSON *arr = cJSON_AddArrayToObject(root, "early_retry_details");
    size_t i;

    if (!arr) {
        return -1;
    }
    for (i = 0; i < st->n_details; i++) {
        const struct early_detail *d = &st->details[i];
        cJSON *o = cJSON_CreateObject();

        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            return -1;
        }
        if (!cJSON_AddStringToObject(o, "provider", sim_state_provider_name(st, d->provider)) ||
            !cJSON_AddBoolToObject(o, "same_path", d->same_path) ||
            !cJSON_AddNumberToObject(o, "arrived_ms", (double)d->arrived_ms) ||
            !cJSON_AddNumberToObject(o, "promised_at_ms", (double)d->issued_ms) ||
            !cJSON_AddNumberToObject(o, "wait_until_ms", (double)d->until_ms)) {
            return -1;
        }
    }
    return 0;
}

cJSON *sim_state_stats_json(struct sim_state *st)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *by;
    int p;
    int ok = 0;

    if (!root) {
        return NULL;
    }
    pthread_mutex_lock(&st->stats_lock);
    if (!cJSON_AddNumberToObject(root, "total", (double)st->total) ||
        !cJSON_AddNumberToObject(root, "retry_promises", (double)st->promises) ||
        !cJSON_AddNumberToObject(root, "early_retries", (double)st->early) ||
        !cJSON_AddNumberToObject(root, "early_retries_same_path", (double)st->early_same_path) ||
        !cJSON_AddNumberToObject(root, "untracked_promises", (double)st->untracked) ||
        !cJSON_AddNumberToObject(root, "early_grace_ms", (double)st->grace_ms)) {
        goto out;
    }
    by = cJSON_AddObjectToObject(root, "by_provider");
    if (!by) {
        goto out;
    }
    for (p = 0; p < st->nprov + 2; p++) {
        if (add_provider_stats(st, p, by) != 0) {
            goto out;
        }
    }
    if (add_details(st, root) != 0) {
        goto out;
    }
    ok = 1;
out:
    pthread_mutex_unlock(&st->stats_lock);
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

void sim_state_reset_stats(struct sim_state *st)
{
    pthread_mutex_lock(&st->stats_lock);
    st->total = 0;
    memset(st->by_status, 0, ((size_t)st->nprov + 2) * sizeof(*st->by_status));
    st->promises = 0;
    st->early = 0;
    st->early_same_path = 0;
    memset(st->paths, 0, sizeof(st->paths));
    st->untracked = 0;
    memset(st->creds, 0, sizeof(st->creds));
    st->n_details = 0;
    pthread_mutex_unlock(&st->stats_lock);
}

unsigned long sim_state_session_gen(struct sim_state *st)
{
    unsigned long g;

    pthread_mutex_lock(&st->stats_lock);
    g = st->session_gen;
    pthread_mutex_unlock(&st->stats_lock);
    return g;
}

void sim_state_expire_sessions(struct sim_state *st)
{
    pthread_mutex_lock(&st->stats_lock);
    st->session_gen++;
    pthread_mutex_unlock(&st->stats_lock);
}
