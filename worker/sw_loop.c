/* Engine-on-a-loop setup (see sw_loop.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_loop.h"
#include "sw_time.h"

#include <string.h>
#include <unistd.h>

int sw_loop_init(struct sw_loop *loop, const struct sw_config *cfg, const struct sw_registry *reg,
                 const struct sw_accounts *accounts, sw_emit_fn emit, void *emit_arg)
{
    struct sw_http_opts ho;
    struct sw_exec_limits *lim = &loop->eng.lim;
    enum sw_rl_mode mode;

    memset(loop, 0, sizeof(*loop));
    memset(&ho, 0, sizeof(ho));
    ho.connect_timeout_ms = (long)cfg->http_connect_timeout_ms;
    ho.max_body_bytes = (size_t)cfg->max_response_bytes;
    ho.max_headers = (size_t)cfg->max_headers;
    ho.max_host_connections = (long)cfg->http_max_host_connections;
    ho.adaptive = !cfg->http_host_concurrency || strcmp(cfg->http_host_concurrency, "fixed") != 0;
    ho.ca_file = cfg->ca_file;
    loop->http = sw_http_create(&ho);
    if (!loop->http) {
        return -1;
    }
    sw_timers_init(&loop->timers);
    if (sw_rl_mode_parse(cfg->ratelimit_mode ? cfg->ratelimit_mode : "spec", &mode) != 0) {
        mode = SW_RL_SPEC;
    }
    sw_rl_init(&loop->rl, &loop->timers, mode);
    loop->eng.rl = mode == SW_RL_OFF ? NULL : &loop->rl;
    loop->eng.http = loop->http;
    loop->eng.timers = &loop->timers;
    loop->eng.reg = reg;
    loop->eng.accounts = sw_accounts_ref(accounts); /* released in sw_loop_free */
    loop->eng.emit = emit;
    loop->eng.emit_arg = emit_arg;
    /* Seed jitter per process so workers started together do not retry in lock-step. */
    loop->eng.rng =
        (uint64_t)sw_now_wall_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)loop;
    lim->max_depth = (int)cfg->max_json_depth;
    lim->max_pages = cfg->max_pages;
    lim->max_list_items = cfg->max_list_items;
    lim->part_items = cfg->part_items;
    lim->max_result_bytes = (size_t)cfg->max_result_bytes;
    lim->max_attempts = (int)cfg->retry_max_attempts;
    lim->retry_base_ms = cfg->retry_base_ms;
    lim->retry_max_wait_ms = cfg->retry_max_backoff_ms;
    lim->retry_max_inline_ms = cfg->retry_max_inline_ms;
    lim->retry_max_park_ms = cfg->retry_max_park_ms;
    lim->timeout_ms = (long)cfg->http_timeout_ms;
    return 0;
}

void sw_loop_free(struct sw_loop *loop)
{
    if (!loop) {
        return;
    }
    sw_exec_abort_all(&loop->eng);
    sw_accounts_destroy((struct sw_accounts *)loop->eng.accounts);
    loop->eng.accounts = NULL;
    sw_rl_free(&loop->rl);
    sw_http_destroy(loop->http);
    sw_timers_free(&loop->timers);
    loop->http = NULL;
}

void sw_loop_turn(struct sw_loop *loop, struct curl_waitfd *extra, unsigned nextra, int max_wait_ms)
{
    int64_t now = sw_now_mono_ms();
    int64_t next = sw_timers_next_in(&loop->timers, now);
    int wait = max_wait_ms;

    if (next >= 0 && next < wait) {
        wait = (int)next;
    }
    /* Everything since the last wait ended (this turn's work and the caller's between turns,
     * nested turns included) is time the loop was away from its sockets. */
    if (loop->woke_us) {
        sw_metrics_loop_turn(loop->eng.metrics, sw_now_mono_us() - loop->woke_us);
    }
    sw_http_wait(loop->http, extra, nextra, wait);
    loop->woke_us = sw_now_mono_us();
    sw_http_perform(loop->http);
    sw_timers_run(&loop->timers, sw_now_mono_ms());
}

void sw_job_limits_from(const struct sw_config *cfg, struct sw_job_limits *lim)
{
    lim->max_bytes = (size_t)cfg->max_job_bytes;
    lim->max_depth = (int)cfg->max_json_depth;
    /* Copied into every result message: it must leave room for the rest of it. */
    lim->max_correlation_bytes = (size_t)cfg->max_correlation_bytes;
    if (lim->max_correlation_bytes > (size_t)cfg->max_result_bytes / 4) {
        lim->max_correlation_bytes = (size_t)cfg->max_result_bytes / 4;
    }
}

struct sw_accounts *sw_accounts_load_checked(const char *path, const struct sw_registry *reg,
                                             struct sw_status *st)
{
    struct sw_accounts *a = sw_accounts_load(path, st);
    size_t i;

    for (i = 0; a && i < a->n; i++) {
        if (!sw_registry_find(reg, a->v[i].provider)) {
            sw_status_set(st, SW_E_CONFIG, SW_CLASS_FATAL, "account %s: unknown provider %s",
                          a->v[i].name, a->v[i].provider);
            sw_accounts_destroy(a);
            return NULL;
        }
    }
    return a;
}

int sw_loop_reload_accounts(struct sw_loop *loop, const char *path, struct sw_status *st)
{
    struct sw_accounts *fresh = sw_accounts_load_checked(path, loop->eng.reg, st);
    struct sw_accounts *old = (struct sw_accounts *)loop->eng.accounts;

    if (!fresh) {
        return -1;
    }
    /* Runs hold their own references: the old store lives until the last of them ends. */
    loop->eng.accounts = fresh;
    sw_accounts_destroy(old);
    return 0;
}
