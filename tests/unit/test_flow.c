/* Unit tests of flow control: the rate limiter (sliding logs, shares, header learning, 429
 * closing, FIFO wake-ups) and the per-key ordering gate. Time is a fake clock.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_test.h"

#include "sw_http.h"
#include "sw_order.h"
#include "sw_ratelimit.h"
#include "sw_timer.h"

#include <stdint.h>
#include <stdlib.h>

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

static int woke[64];
static int nwoke;
static void on_grant(void *arg)
{
    if (nwoke < 64) {
        woke[nwoke++] = (int)(intptr_t)arg;
    }
}

/* Advance the fake clock in 1 ms steps, firing timers, until `until`; returns grants seen. */
static void run_until(struct sw_timers *ts, int64_t until)
{
    while (fake_now < until) {
        fake_now++;
        sw_timers_run(ts, fake_now);
    }
}

static void test_limit_header_parse(void)
{
    struct sw_rl_limit l[4];

    CHECK_INT(sw_rl_parse_limit_header("75, 75;w=1, 750;w=60", l, 4), 2);
    CHECK_INT(l[0].requests, 75);
    CHECK_INT(l[0].per_ms, 1000);
    CHECK_INT(l[1].requests, 750);
    CHECK_INT(l[1].per_ms, 60000);
    CHECK_INT(sw_rl_parse_limit_header("1, 1;w=1, 15;w=60, 100;w=86400", l, 4), 3);
    CHECK_INT(l[2].per_ms, 86400000);
    CHECK_INT(sw_rl_parse_limit_header("100", l, 4), 0); /* no window: nothing learned */
    CHECK_INT(sw_rl_parse_limit_header("", l, 4), 0);
    CHECK_INT(sw_rl_parse_limit_header("x;w=1, 5;w=0, 5;w=-3", l, 4), 0);
    CHECK_INT(sw_rl_parse_limit_header("1;w=1,2;w=2,3;w=3,4;w=4,5;w=5", l, 4), 4); /* bounded */
}

/* 3 per second: never a 4th in any 1 s span, FIFO wake-ups, and the margin on top. */
static void test_sliding_window(void)
{
    struct sw_timers ts;
    struct sw_ratelimit rl;
    struct sw_rl_limit lim = {3, 1000};
    struct sw_rl_waiter w[6];
    struct sw_rl_bucket *b;
    int i;

    memset(w, 0, sizeof(w));
    sw_timers_init(&ts);
    sw_rl_init(&rl, &ts, SW_RL_SPEC);
    rl.clock = fake_clock;
    fake_now = 1000;
    nwoke = 0;
    b = sw_rl_bucket(&rl, "p", "a", "read", &lim, 1);
    CHECK(b != NULL);
    CHECK(sw_rl_bucket(&rl, "p", "a", "read", &lim, 1) == b);
    CHECK(sw_rl_bucket(&rl, "p", "b", "read", &lim, 1) != b);
    for (i = 0; i < 3; i++) {
        CHECK_INT(sw_rl_acquire(b, &w[i], on_grant, (void *)(intptr_t)i, fake_now), 1);
    }
    for (i = 3; i < 6; i++) {
        CHECK_INT(sw_rl_acquire(b, &w[i], on_grant, (void *)(intptr_t)i, fake_now), 0);
    }
    CHECK_INT((int)b->waiting, 3);
    /* The window is 1000 ms plus a margin of 1000/50 + 10 = 30 ms. */
    run_until(&ts, 1000 + 1029);
    CHECK_INT(nwoke, 0);
    run_until(&ts, 1000 + 1030);
    CHECK_INT(nwoke, 3);
    CHECK_INT(woke[0], 3);
    CHECK_INT(woke[1], 4);
    CHECK_INT(woke[2], 5);
    sw_rl_free(&rl);
    sw_timers_free(&ts);
}

/* A third of the partitions: 3/s becomes 1 per 1/(3*1/3) s = one per second. 1/s at a third
 * becomes one per 3 s. */
static void test_share(void)
{
    struct sw_timers ts;
    struct sw_ratelimit rl;
    struct sw_rl_limit lim = {1, 1000};
    struct sw_rl_waiter w[2];
    struct sw_rl_bucket *b;

    memset(w, 0, sizeof(w));
    sw_timers_init(&ts);
    sw_rl_init(&rl, &ts, SW_RL_SPEC);
    rl.clock = fake_clock;
    fake_now = 0;
    nwoke = 0;
    b = sw_rl_bucket(&rl, "p", "a", "write", &lim, 1);
    sw_rl_set_share(&rl, 1.0 / 3.0);
    CHECK_INT(b->w[0].n, 1);
    CHECK(b->w[0].w_ms >= 3000 && b->w[0].w_ms <= 3040);
    CHECK_INT(sw_rl_acquire(b, &w[0], on_grant, (void *)1, fake_now), 1);
    CHECK_INT(sw_rl_acquire(b, &w[1], on_grant, (void *)2, fake_now), 0);
    run_until(&ts, 2999);
    CHECK_INT(nwoke, 0);
    run_until(&ts, 3100);
    CHECK_INT(nwoke, 1);
    sw_rl_set_share(&rl, 5.0); /* out of range: whole */
    CHECK(rl.share == 1.0);
    sw_rl_free(&rl);
    sw_timers_free(&ts);
}

/* Unknown limits are learned from RateLimit-Limit; a 429 closes the bucket for its Retry-After;
 * Remaining 0 closes it until the reset; a cancelled waiter is never woken. */
static void test_learn_and_close(void)
{
    struct sw_timers ts;
    struct sw_ratelimit rl;
    struct sw_http_headers h;
    struct sw_rl_waiter w[3];
    struct sw_rl_bucket *b;
    struct sw_rl_limit lim = {1000, 1000};

    memset(w, 0, sizeof(w));
    memset(&h, 0, sizeof(h));
    sw_timers_init(&ts);
    sw_rl_init(&rl, &ts, SW_RL_ADAPTIVE);
    rl.clock = fake_clock;
    fake_now = 0;
    nwoke = 0;
    b = sw_rl_bucket(&rl, "klaviyo", "a", "read", &lim, 1);
    CHECK_INT(b->nw, 0); /* adaptive: the stated limit is ignored */
    sw_http_headers_add(&h, "RateLimit-Limit", "2, 2;w=1, 750;w=60", 0);
    sw_rl_observe(b, 200, &h, 0, 0, fake_now, 0);
    CHECK_INT(b->nw, 2);
    CHECK_INT(b->w[0].n, 2);
    CHECK_INT(b->w[1].n, 750);
    sw_http_headers_free(&h);

    sw_rl_observe(b, 429, &h, 5000, 1, fake_now, 0);
    CHECK_INT(sw_rl_acquire(b, &w[0], on_grant, (void *)1, fake_now), 0);
    CHECK_INT(sw_rl_acquire(b, &w[1], on_grant, (void *)2, fake_now), 0);
    CHECK_INT(sw_rl_acquire(b, &w[2], on_grant, (void *)3, fake_now), 0);
    sw_rl_cancel(&w[1]);
    CHECK_INT((int)b->waiting, 2);
    run_until(&ts, 4999);
    CHECK_INT(nwoke, 0);
    run_until(&ts, 5000);
    CHECK_INT(nwoke, 2);
    CHECK_INT(woke[0], 1);
    CHECK_INT(woke[1], 3);

    /* Reset as a Unix time (SendGrid, beehiiv) ... */
    memset(&h, 0, sizeof(h));
    sw_http_headers_add(&h, "X-RateLimit-Remaining", "0", 0);
    sw_http_headers_add(&h, "X-RateLimit-Reset", "1800000010", 0);
    sw_rl_observe(b, 200, &h, 0, 0, fake_now, 1800000000000LL);
    CHECK(b->closed_until_ms == fake_now + 10000);
    sw_http_headers_free(&h);
    /* ... or as seconds to go (Klaviyo, Truto). */
    memset(&h, 0, sizeof(h));
    sw_http_headers_add(&h, "RateLimit-Remaining", "0", 0);
    sw_http_headers_add(&h, "RateLimit-Reset", "30", 0);
    sw_rl_observe(b, 200, &h, 0, 0, fake_now, 1800000000000LL);
    CHECK(b->closed_until_ms == fake_now + 30000);
    sw_http_headers_free(&h);
    sw_rl_free(&rl);
    sw_timers_free(&ts);
}

struct item {
    struct sw_order_link link;
    int id;
};

static int id_of(struct sw_order_link *l)
{
    return l ? ((struct item *)(void *)l)->id : -1;
}

static void test_order_gate(void)
{
    struct sw_order o;
    struct item it[200];
    char key[16];
    int i;

    sw_order_init(&o);
    for (i = 0; i < 6; i++) {
        it[i].id = i;
    }
    CHECK_INT(sw_order_admit(&o, "a", 1, &it[0].link), 1);
    CHECK_INT(sw_order_admit(&o, "b", 1, &it[1].link), 1);
    CHECK_INT(sw_order_admit(&o, "a", 1, &it[2].link), 0);
    CHECK_INT(sw_order_admit(&o, "a", 1, &it[3].link), 0);
    CHECK_INT(sw_order_admit(&o, "", 0, &it[4].link), 1);
    CHECK_INT((int)sw_order_keys(&o), 3);
    CHECK_INT(id_of(sw_order_release(&o, "a", 1)), 2);
    CHECK_INT(id_of(sw_order_release(&o, "b", 1)), -1);
    CHECK_INT(id_of(sw_order_release(&o, "a", 1)), 3);
    CHECK_INT(id_of(sw_order_release(&o, "a", 1)), -1);
    CHECK_INT(sw_order_admit(&o, "a", 1, &it[5].link), 1); /* free again */
    CHECK_INT(id_of(sw_order_release(&o, "zz", 2)), -1);   /* unknown key: nothing */
    /* Many keys: growth and deletion keep every key findable. */
    for (i = 0; i < 200; i++) {
        it[i].id = 1000 + i;
        snprintf(key, sizeof(key), "k%d", i);
        CHECK_INT(sw_order_admit(&o, key, strlen(key), &it[i].link), 1);
    }
    for (i = 0; i < 200; i += 2) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK_INT(id_of(sw_order_release(&o, key, strlen(key))), -1);
    }
    for (i = 1; i < 200; i += 2) {
        snprintf(key, sizeof(key), "k%d", i);
        CHECK_INT(sw_order_admit(&o, key, strlen(key), &it[0].link), 0); /* still held */
        CHECK_INT(id_of(sw_order_release(&o, key, strlen(key))), 1000);
    }
    sw_order_free(&o);
}

static const struct sw_test_case tests[] = {
    {"limit_header_parse", test_limit_header_parse},
    {"sliding_window", test_sliding_window},
    {"share", test_share},
    {"learn_and_close", test_learn_and_close},
    {"order_gate", test_order_gate},
    {NULL, NULL},
};

TEST_MAIN(tests)
