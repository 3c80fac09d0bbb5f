/* Rate limits (see sw_ratelimit.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_ratelimit.h"
#include "sw_time.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A provider stating an absurd wait (or a reset years away) closes a bucket for a day at most;
 * the job's own deadline and retry limits end it sooner. */
#define MAX_CLOSE_MS (24LL * 3600 * 1000)

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

/* ---- windows ---- */

static void window_free(struct sw_rl_window *w)
{
    free(w->log);
    w->log = NULL;
    w->len = w->head = 0;
}

/* Effective count and window for a share: N*share requests per W, never less than one request,
 * so a small share stretches the window instead (1/s at share 1/3 is 1 per 3 s). A margin covers
 * the spread between our clock and the provider's arrival times. */
static int window_set(struct sw_rl_window *w, const struct sw_rl_limit *def, double share)
{
    double x = (double)def->requests * share;
    long long n = x < 1.0 ? 1 : (long long)floor(x);
    int64_t *log;
    long long i, keep;

    if (n > SW_RL_MAX_LOG) {
        n = SW_RL_MAX_LOG;
    }
    log = malloc((size_t)n * sizeof(*log));
    if (!log) {
        return -1;
    }
    /* Keep the newest grants, so a share change never forgets recent traffic. */
    keep = w->len < n ? w->len : n;
    for (i = 0; i < keep; i++) {
        log[i] = w->log[(w->head + w->len - keep + i) % w->n];
    }
    free(w->log);
    w->log = log;
    w->head = 0;
    w->len = keep;
    w->def = *def;
    w->n = n;
    w->w_ms = (int64_t)ceil((double)def->per_ms * (double)n / x) + def->per_ms / 50 + 10;
    return 0;
}

/* ms until every window has room (0: now). */
static int64_t bucket_wait(const struct sw_rl_bucket *b, int64_t now)
{
    int64_t wait = b->closed_until_ms > now ? b->closed_until_ms - now : 0;
    int i;

    for (i = 0; i < b->nw; i++) {
        const struct sw_rl_window *w = &b->w[i];

        if (w->len == w->n) {
            int64_t free_at = w->log[w->head] + w->w_ms;

            if (free_at - now > wait) {
                wait = free_at - now;
            }
        }
    }
    return wait;
}

static void bucket_take(struct sw_rl_bucket *b, int64_t now)
{
    int i;

    for (i = 0; i < b->nw; i++) {
        struct sw_rl_window *w = &b->w[i];

        if (w->len < w->n) {
            w->log[(w->head + w->len) % w->n] = now;
            w->len++;
        } else {
            w->log[w->head] = now;
            w->head = (w->head + 1) % w->n;
        }
    }
    b->rl->stats.granted++;
}

static int bucket_set_limits(struct sw_rl_bucket *b, const struct sw_rl_limit *lim, int n)
{
    int i, k = 0;

    for (i = 0; i < b->nw; i++) {
        window_free(&b->w[i]);
    }
    b->nw = 0;
    for (i = 0; i < n && k < SW_RL_MAX_WINDOWS; i++) {
        if (lim[i].requests <= 0 || lim[i].per_ms <= 0) {
            continue;
        }
        memset(&b->w[k], 0, sizeof(b->w[k]));
        if (window_set(&b->w[k], &lim[i], b->rl->share) != 0) {
            return -1;
        }
        b->nw = ++k;
    }
    return 0;
}

/* ---- queue ---- */

static void unlink_waiter(struct sw_rl_waiter *w)
{
    struct sw_rl_bucket *b = w->bucket;

    if (w->prev) {
        w->prev->next = w->next;
    } else {
        b->head = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    } else {
        b->tail = w->prev;
    }
    w->prev = w->next = NULL;
    w->bucket = NULL;
    b->waiting--;
    b->rl->waiting--;
}

static void arm(struct sw_rl_bucket *b, int64_t now);

static void on_timer(void *arg)
{
    struct sw_rl_bucket *b = arg;
    struct sw_ratelimit *rl = b->rl;
    int64_t now = rl->clock();

    while (b->head) {
        struct sw_rl_waiter *w = b->head;

        if (bucket_wait(b, now) > 0) {
            break;
        }
        unlink_waiter(w);
        bucket_take(b, now);
        rl->stats.wait_ms_total += (unsigned long long)(now - w->since_ms);
        w->cb(w->arg); /* may queue or cancel other waiters: the loop re-reads b->head */
    }
    if (b->head) {
        arm(b, now);
    }
}

static void arm(struct sw_rl_bucket *b, int64_t now)
{
    int64_t due = now + bucket_wait(b, now);

    if (!sw_timer_armed(&b->timer) || b->timer.due_ms != due) {
        /* On allocation failure the next acquire or observe on this bucket re-arms it. */
        (void)sw_timers_add(b->rl->timers, &b->timer, due, on_timer, b);
    }
}

/* ---- public ---- */

void sw_rl_init(struct sw_ratelimit *rl, struct sw_timers *timers, enum sw_rl_mode mode)
{
    memset(rl, 0, sizeof(*rl));
    rl->timers = timers;
    rl->clock = sw_now_mono_ms;
    rl->mode = mode;
    rl->share = 1.0;
}

static void bucket_free(struct sw_rl_bucket *b)
{
    int i;

    if (!b) {
        return;
    }
    while (b->head) {
        unlink_waiter(b->head);
    }
    sw_timers_cancel(b->rl->timers, &b->timer);
    for (i = 0; i < b->nw; i++) {
        window_free(&b->w[i]);
    }
    free(b->key);
    free(b);
}

void sw_rl_free(struct sw_ratelimit *rl)
{
    size_t i;

    if (!rl) {
        return;
    }
    for (i = 0; i < rl->cap; i++) {
        bucket_free(rl->b ? rl->b[i] : NULL);
    }
    free(rl->b);
    rl->b = NULL;
    rl->n = rl->cap = 0;
}

int sw_rl_mode_parse(const char *s, enum sw_rl_mode *mode)
{
    if (!strcmp(s, "spec")) {
        *mode = SW_RL_SPEC;
    } else if (!strcmp(s, "adaptive")) {
        *mode = SW_RL_ADAPTIVE;
    } else if (!strcmp(s, "off")) {
        *mode = SW_RL_OFF;
    } else {
        return -1;
    }
    return 0;
}

void sw_rl_set_share(struct sw_ratelimit *rl, double share)
{
    size_t i;
    int k;

    if (!(share > 0.0) || share > 1.0) {
        share = 1.0;
    }
    rl->share = share;
    for (i = 0; i < rl->cap; i++) {
        struct sw_rl_bucket *b = rl->b[i];

        for (k = 0; b && k < b->nw; k++) {
            struct sw_rl_limit def = b->w[k].def;

            /* On allocation failure the old (stricter or looser) window stays in force. */
            (void)window_set(&b->w[k], &def, share);
        }
    }
}

static int grow(struct sw_ratelimit *rl)
{
    size_t cap = rl->cap ? rl->cap * 2 : 16;
    struct sw_rl_bucket **nb = calloc(cap, sizeof(*nb));
    size_t i;

    if (!nb) {
        return -1;
    }
    for (i = 0; i < rl->cap; i++) {
        if (rl->b[i]) {
            size_t j = hash_key(rl->b[i]->key) & (cap - 1);

            while (nb[j]) {
                j = (j + 1) & (cap - 1);
            }
            nb[j] = rl->b[i];
        }
    }
    free(rl->b);
    rl->b = nb;
    rl->cap = cap;
    return 0;
}

struct sw_rl_bucket *sw_rl_bucket(struct sw_ratelimit *rl, const char *provider,
                                  const char *account, const char *cls,
                                  const struct sw_rl_limit *limits, int nlimits)
{
    size_t klen = strlen(provider) + strlen(account) + strlen(cls) + 3;
    char *key = NULL;
    struct sw_rl_bucket *b = NULL;
    size_t j;

    if (rl->mode == SW_RL_OFF) {
        return NULL;
    }
    key = malloc(klen);
    if (!key) {
        return NULL;
    }
    snprintf(key, klen, "%s\x1f%s\x1f%s", provider, account, cls);
    if ((rl->n + 1) * 2 > rl->cap && grow(rl) != 0) {
        goto fail;
    }
    for (j = hash_key(key) & (rl->cap - 1); rl->b[j]; j = (j + 1) & (rl->cap - 1)) {
        if (!strcmp(rl->b[j]->key, key)) {
            free(key);
            return rl->b[j];
        }
    }
    b = calloc(1, sizeof(*b));
    if (!b) {
        goto fail;
    }
    b->rl = rl;
    b->key = key;
    key = NULL;
    sw_timer_init(&b->timer);
    if (rl->mode == SW_RL_SPEC && bucket_set_limits(b, limits, nlimits) != 0) {
        goto fail;
    }
    rl->b[j] = b;
    rl->n++;
    return b;
fail:
    free(key);
    bucket_free(b);
    return NULL;
}

int sw_rl_acquire(struct sw_rl_bucket *b, struct sw_rl_waiter *w, sw_timer_cb cb, void *arg,
                  int64_t now_ms)
{
    if (!b) {
        return 1;
    }
    if (!b->head && bucket_wait(b, now_ms) == 0) {
        bucket_take(b, now_ms);
        return 1;
    }
    /* FIFO: nobody overtakes a job that is already waiting. */
    w->bucket = b;
    w->cb = cb;
    w->arg = arg;
    w->since_ms = now_ms;
    w->next = NULL;
    w->prev = b->tail;
    if (b->tail) {
        b->tail->next = w;
    } else {
        b->head = w;
    }
    b->tail = w;
    b->waiting++;
    b->rl->waiting++;
    b->rl->stats.waited++;
    arm(b, now_ms);
    return 0;
}

void sw_rl_cancel(struct sw_rl_waiter *w)
{
    if (w && w->bucket) {
        unlink_waiter(w);
    }
}

/* Parse a non-negative integer prefix; -1 when none. */
static long long leading_int(const char **p)
{
    long long v = 0;
    int any = 0;

    while (**p == ' ' || **p == '\t') {
        (*p)++;
    }
    while (isdigit((unsigned char)**p) && v < 1000000000000LL) {
        v = v * 10 + (**p - '0');
        (*p)++;
        any = 1;
    }
    return any ? v : -1;
}

int sw_rl_parse_limit_header(const char *v, struct sw_rl_limit *out, int max)
{
    int n = 0;
    const char *p = v;

    /* Elements are "N" (the current limit, window unstated) or "N;w=S" (a policy). Only
     * policies teach us anything. */
    while (p && *p && n < max) {
        long long req = leading_int(&p);
        const char *end = strchr(p, ',');
        const char *w = strstr(p, ";w=");

        if (req > 0 && w && (!end || w < end)) {
            const char *q = w + 3;
            long long s = leading_int(&q);

            if (s > 0 && s <= 86400LL * 31) {
                out[n].requests = req;
                out[n].per_ms = s * 1000;
                n++;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return n;
}

static int same_limits(const struct sw_rl_bucket *b, const struct sw_rl_limit *lim, int n)
{
    int i;

    if (b->nw != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (b->w[i].def.requests != lim[i].requests || b->w[i].def.per_ms != lim[i].per_ms) {
            return 0;
        }
    }
    return 1;
}

static void close_until(struct sw_rl_bucket *b, int64_t until, int64_t now)
{
    if (until > now + MAX_CLOSE_MS) {
        until = now + MAX_CLOSE_MS;
    }
    if (until > b->closed_until_ms) {
        b->closed_until_ms = until;
    }
}

/* A reset header is seconds to the window's end (Klaviyo, the IETF draft, Truto) or a Unix time
 * in seconds (SendGrid, beehiiv): no window is 30 years long, so a value past 10^9 is a time.
 * 0 means within the current second. */
static int64_t reset_wait_ms(long long reset, int64_t now_wall_ms)
{
    int64_t ms;

    if (reset >= 1000000000LL) {
        /* Past 2100 is no reset anyone means: the bucket's longest closing instead. */
        if (reset > 4102444800LL) {
            return MAX_CLOSE_MS;
        }
        ms = reset * 1000 - now_wall_ms;
    } else {
        ms = reset * 1000;
    }
    return ms > 0 ? ms : 1000;
}

static int header_ll(const struct sw_http_headers *h, const char *name, long long *v)
{
    const char *s = sw_http_headers_get(h, name);
    char *end;

    if (!s) {
        return 0;
    }
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && end != s && *v >= 0;
}

void sw_rl_observe(struct sw_rl_bucket *b, long status, const struct sw_http_headers *h,
                   int64_t hint_ms, int have_hint, int64_t now_ms, int64_t now_wall_ms)
{
    struct sw_rl_limit lim[SW_RL_MAX_WINDOWS];
    const char *v;
    long long remaining, reset;
    int n;

    if (!b) {
        return;
    }
    if (status == 429 || (status == 503 && have_hint)) {
        /* The provider's word is final: nobody of this bucket asks before it allows. */
        close_until(b, now_ms + (have_hint && hint_ms > 0 ? hint_ms : 1000), now_ms);
        b->rl->stats.closed_by_429++;
    }
    /* Learn the windows when the spec states none (or in adaptive mode, where it is ignored). */
    v = sw_http_headers_get(h, "RateLimit-Limit");
    if (v && (b->from_headers || b->nw == 0)) {
        n = sw_rl_parse_limit_header(v, lim, SW_RL_MAX_WINDOWS);
        if (n > 0 && !same_limits(b, lim, n) && bucket_set_limits(b, lim, n) == 0) {
            b->from_headers = 1;
        }
    }
    if ((header_ll(h, "RateLimit-Remaining", &remaining) && remaining == 0 &&
         header_ll(h, "RateLimit-Reset", &reset)) ||
        (header_ll(h, "X-RateLimit-Remaining", &remaining) && remaining == 0 &&
         header_ll(h, "X-RateLimit-Reset", &reset))) {
        close_until(b, now_ms + reset_wait_ms(reset, now_wall_ms), now_ms);
        b->rl->stats.closed_by_headers++;
    }
    if (b->head) {
        arm(b, now_ms);
    }
}
