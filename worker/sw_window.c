/* Backpressure (see sw_worker_int.h): a global in-flight window (worker.max_in_flight), a
 * per-partition one (worker.max_in_flight_per_partition), the bytes held for transactions and
 * results waiting for room in the producer's queue. Partitions are paused and resumed only by
 * what paused them, with hysteresis so a full window does not flap.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_time.h"
#include "sw_worker_int.h"

/* Transactional: results held for their offsets past which consumption pauses. */
#define TXN_BUFFER_MAX (64u * 1024 * 1024)

/* Tell librdkafka the partition's effective state when it changed. Invariant: a partition is
 * only resumed when it was paused — librdkafka 2.0.2 can rewind the fetch position when a
 * partition that is not paused is resumed. */
static void apply_pause(struct sw_worker *w, struct sw_partition_ledger *l)
{
    int want = w->paused || w->draining || l->paused;
    rd_kafka_topic_partition_list_t *p;

    if (want == l->eff_paused || l->revoking) {
        return;
    }
    p = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(p, l->topic, l->partition);
    if (want) {
        rd_kafka_pause_partitions(w->consumer, p);
    } else {
        rd_kafka_resume_partitions(w->consumer, p);
    }
    rd_kafka_topic_partition_list_destroy(p);
    l->eff_paused = want;
}

void sw_window_apply_all(struct sw_worker *w)
{
    size_t i;

    for (i = 0; i < w->offsets.n; i++) {
        apply_pause(w, &w->offsets.v[i]);
    }
}

/* Jobs doing something: a provider call, a login, a back-off, publishing. The others in
 * flight only wait — in the rate limiter, or behind a job of their key that waits there — and
 * hold memory (bounded by worker.max_waiting), not a running slot: otherwise one account over
 * its limit fills the window and every other account waits for it. */
static long active(const struct sw_worker *w)
{
    long rl_waiting = w->loop.eng.rl ? (long)w->loop.eng.rl->waiting : 0;

    return (long)w->loop.eng.running - rl_waiting;
}

static int full(const struct sw_worker *w)
{
    long a = active(w);

    return a >= (long)w->cfg->max_in_flight || w->in_flight - a >= (long)w->cfg->max_waiting ||
           w->txn_buffered > TXN_BUFFER_MAX || w->backlog != NULL;
}

int sw_window_open(const struct sw_worker *w)
{
    return !atomic_load(&w->fatal) && (w->paused || !full(w));
}

/* A full global window first only stops taking messages (sw_intake_poll leaves them in
 * librdkafka's bounded queue); the partitions are paused when it stays full for a second. A
 * pause/resume cycle costs 0.5-1 s in librdkafka 2.0.2 (the resumed partition waits for the
 * broker thread's next fetch round), which held a window of 10 jobs against a 50 ms provider to
 * 20 jobs/s (bench/). Pausing after a second keeps polling, and so rebalances, going while slow
 * jobs hold the window. A partition's own window pauses it at once: its messages cannot be left
 * in the shared queue without holding up the others. */
void sw_window_check(struct sw_worker *w, struct sw_partition_ledger *l)
{
    long max = (long)w->cfg->max_in_flight;
    long pmax = (long)w->cfg->max_in_flight_partition;

    if (l) {
        long n = (long)sw_ledger_in_flight(l);

        if (!l->paused && n >= pmax) {
            l->paused = 1;
        } else if (l->paused && n <= pmax - pmax / 4 - 1) {
            l->paused = 0;
        }
        apply_pause(w, l);
    }
    if (!w->paused && full(w)) {
        int64_t now = sw_now_mono_ms();

        if (!w->full_since) {
            w->full_since = now;
        }
        if (now - w->full_since >= 1000) {
            w->paused = 1;
            sw_window_apply_all(w);
        }
    } else if (!w->paused) {
        w->full_since = 0;
    } else if (active(w) <= max - max / 4 - 1 &&
               w->in_flight - active(w) < (long)w->cfg->max_waiting &&
               w->txn_buffered <= TXN_BUFFER_MAX / 2 && !w->backlog) {
        w->paused = 0;
        w->full_since = 0;
        sw_window_apply_all(w);
    }
}

int sw_window_paused_partitions(const struct sw_worker *w)
{
    size_t i;
    int n = 0;

    for (i = 0; i < w->offsets.n; i++) {
        n += w->offsets.v[i].eff_paused != 0;
    }
    return n;
}
