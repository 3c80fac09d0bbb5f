/* Magic id parsing and per-id counting (see sim_magic.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_magic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_state.h"

/* Read "<digits>-" at *p into *out (bounded); advance *p past the dash. 0 on success. */
static int take_num(const char **p, long max, long *out)
{
    char *end = NULL;
    long v;

    if (**p < '0' || **p > '9') {
        return -1;
    }
    errno = 0;
    v = strtol(*p, &end, 10);
    if (errno || *end != '-' || v < 0 || v > max) {
        return -1;
    }
    *out = v;
    *p = end + 1;
    return 0;
}

void sim_magic_decide(struct sim_state *st, int provider, const char *id, struct sim_decision *d)
{
    const char *p;
    long n = 0;
    long secs = 0;
    long hits;

    memset(d, 0, sizeof(*d));
    if (strncmp(id, "sim-", 4) != 0) {
        return;
    }
    if (strcmp(id, "sim-bad-json") == 0) {
        d->outcome = SIM_OUT_BAD_JSON;
    } else if (strcmp(id, "sim-500") == 0) {
        d->outcome = SIM_OUT_500;
    } else if (strcmp(id, "sim-404") == 0) {
        d->outcome = SIM_OUT_404;
    } else if (strncmp(id, "sim-flaky-", 10) == 0) {
        p = id + 10;
        if (take_num(&p, 1000000, &n) != 0 || !*p) {
            return;
        }
        hits = sim_state_hit(st, provider, id);
        d->outcome = hits < 0 ? SIM_OUT_507 : hits <= n ? SIM_OUT_503 : SIM_OUT_OK;
    } else if (strncmp(id, "sim-429-", 8) == 0) {
        p = id + 8;
        if (take_num(&p, 1000000, &n) != 0 || take_num(&p, 3600, &secs) != 0 || !*p) {
            return;
        }
        hits = sim_state_hit(st, provider, id);
        d->outcome = hits < 0 ? SIM_OUT_507 : hits <= n ? SIM_OUT_429 : SIM_OUT_OK;
        d->retry_after_s = secs;
    } else if (strncmp(id, "sim-seq-", 8) == 0) {
        d->outcome = SIM_OUT_OK; /* order referee ids (sim_watch.h) always exist */
    } else if (strncmp(id, "sim-slow-", 9) == 0) {
        p = id + 9;
        if (take_num(&p, 600000, &n) != 0 || !*p) {
            return;
        }
        d->outcome = SIM_OUT_OK;
        d->delay_ms = n;
    }
}

void sim_magic_draw_fault(struct sim_state *st, int provider, struct sim_decision *d)
{
    struct sim_fault_draw fd;

    sim_state_draw_fault(st, provider, &fd);
    d->delay_ms = fd.delay_ms;
    d->retry_after_s = fd.kind == SIM_FAULT_429 ? fd.retry_after_s : 0;
    switch (fd.kind) {
    case SIM_FAULT_503:
        d->outcome = SIM_OUT_503;
        break;
    case SIM_FAULT_429:
        d->outcome = SIM_OUT_429;
        break;
    case SIM_FAULT_BAD_JSON:
        d->outcome = SIM_OUT_BAD_JSON;
        break;
    default:
        d->outcome = SIM_OUT_NOT_MAGIC;
        break;
    }
}
