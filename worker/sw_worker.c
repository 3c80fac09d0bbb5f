/* The Kafka worker's lifecycle (see sw_worker.h and sw_worker_int.h): setup, the main loop,
 * draining on SIGTERM, and an orderly stop.
 *
 * Threads: librdkafka runs its own broker threads and a helper thread makes the broker calls
 * librdkafka offers only as blocking ones (sw_bg.h); everything else runs on one loop thread.
 * The loop sleeps in curl_multi_poll, with a pipe that librdkafka (and the helper thread) write
 * to when there is something to do, so Kafka events, HTTP sockets and timers all wake the same
 * wait, and nothing on the loop thread waits for the broker.
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_log.h"
#include "sw_time.h"
#include "sw_version.h"
#include "sw_worker_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void drain_pipe(int fd)
{
    char buf[256];

    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

/* Safe inside librdkafka callbacks (rebalance): it never polls the consumer. */
void sw_worker_turn(struct sw_worker *w, int max_wait_ms)
{
    sw_loop_turn(&w->loop, &w->wfd, 1, max_wait_ms);
    drain_pipe(w->pipefd[0]);
    sw_bg_collect(w->bg);
    /* Acknowledgements first: they free room for the backlog and window slots. */
    rd_kafka_poll(w->producer, 0);
    sw_refused_settle(w);
    sw_publish_flush_backlog(w);
    sw_intake_start_ready(w);
}

static void txn_id_default(struct sw_worker *w)
{
    char host[128] = "host";

    if (w->cfg->transactional_id && w->cfg->transactional_id[0]) {
        snprintf(w->txn_id, sizeof(w->txn_id), "%s", w->cfg->transactional_id);
        return;
    }
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(w->txn_id, sizeof(w->txn_id), "%s-%s", w->cfg->group, host);
}

/* SIGHUP: swap the account store between turns; a bad file keeps the current one. */
static void reload_accounts(struct sw_worker *w)
{
    struct sw_status st;

    sw_status_clear(&st);
    if (sw_loop_reload_accounts(&w->loop, w->cfg->accounts, &st) != 0) {
        sw_log_error(NULL, "account store reload failed, keeping the current store: %s", st.msg);
        sw_metrics_accounts_reload(w->metrics, 0);
        return;
    }
    sw_log_info(NULL, "account store reloaded from %s (%zu account(s))", w->cfg->accounts,
                w->loop.eng.accounts->n);
    sw_metrics_accounts_reload(w->metrics, 1);
}

/* Metrics, health, and the admin listener (http_addr). 0 when none is configured. */
static int admin_start(struct sw_worker *w, const struct sw_registry *reg)
{
    struct sw_status st;

    w->metrics = sw_metrics_create(reg);
    w->loop.eng.metrics = w->metrics;
    if (!w->metrics) {
        return -1;
    }
    /* No broker has answered yet: /readyz says so, and /healthz after the bound. */
    sw_metrics_set_kafka(w->metrics, w->cfg->brokers, w->cfg->jobs_topic, w->cfg->retry_topic,
                         w->cfg->health_max_broker_down_ms, sw_now_mono_ms());
    if (!w->cfg->http_addr[0]) {
        return 0;
    }
    sw_status_clear(&st);
    w->admin = sw_admin_start(w->cfg->http_addr, w->metrics, w->cfg->health_max_stall_ms, &st);
    if (!w->admin) {
        sw_log_error(NULL, "%s", st.msg);
        return -1;
    }
    sw_log_info(NULL, "admin endpoints /metrics /healthz /readyz on %s, port %d", w->cfg->http_addr,
                sw_admin_port(w->admin));
    return 0;
}

static int setup(struct sw_worker *w, const struct sw_registry *reg,
                 const struct sw_accounts *accounts)
{
    if (sw_loop_init(&w->loop, w->cfg, reg, accounts, sw_publish_emit, w) != 0 ||
        admin_start(w, reg) != 0 || sw_kafka_setup(w) != 0) {
        return -1;
    }
    w->loop.eng.park = sw_publish_park;
    w->loop.eng.output_busy = sw_publish_busy;
    w->bg = sw_bg_start(w->pipefd[1]);
    if (!w->bg || sw_lookup_init(w) != 0 || sw_txn_init(w) != 0) {
        sw_log_error(NULL, "cannot start the helper thread for broker calls");
        return -1;
    }
    w->wfd.fd = w->pipefd[0];
    w->wfd.events = CURL_WAIT_POLLIN;
    w->wfd.revents = 0;
    w->txn_next_ms = sw_now_mono_ms() + w->cfg->transaction_commit_ms;
    return 0;
}

static void start_draining(struct sw_worker *w)
{
    w->draining = 1;
    sw_window_apply_all(w);
    sw_log_info(NULL, "draining: %ld job(s) in flight, grace %lld ms", w->in_flight,
                w->cfg->shutdown_grace_ms);
    sw_metrics_set_draining(w->metrics, 1);
}

/* A commit refused because the group is rebalancing (another member joined or left at the same
 * moment): this member's generation is stale until it has rejoined, which polling does. */
static int commit_retryable(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
           err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
           err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
           err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

/* The last commit before leaving, made while the loop still turns (and so still serves the
 * group protocol): when the group is rebalancing, it is made again once this member has
 * rejoined, rather than leaving the next owner to redo the last jobs. Returns 1 when done:
 * committed, nothing to commit, or given up at the deadline. Transactions commit in finish(). */
static int commit_before_stop(struct sw_worker *w, int64_t deadline)
{
    rd_kafka_event_t *ev;
    rd_kafka_resp_err_t err;

    if (w->transactional || atomic_load(&w->fatal)) {
        return 1;
    }
    if (!w->final_q) {
        w->final_q = rd_kafka_queue_new(w->consumer);
    }
    if (!w->final_pending) {
        err = rd_kafka_commit_queue(w->consumer, NULL, w->final_q, NULL, NULL);
        if (err) {
            return err == RD_KAFKA_RESP_ERR__NO_OFFSET || !commit_retryable(err) ||
                   sw_now_mono_ms() >= deadline;
        }
        w->final_pending = 1;
    }
    ev = rd_kafka_queue_poll(w->final_q, 0);
    if (!ev) {
        return 0;
    }
    w->final_pending = 0;
    err = rd_kafka_event_error(ev);
    rd_kafka_event_destroy(ev);
    if (!err || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        return 1;
    }
    if (commit_retryable(err) && sw_now_mono_ms() < deadline) {
        sw_log_info(NULL, "commit before stopping: %s; again once the group has settled",
                    rd_kafka_err2str(err));
        return 0;
    }
    sw_log_warn(NULL, "commit before stopping: %s", rd_kafka_err2str(err));
    return 1;
}

/* Nothing left that can end on its own: no provider call under way (jobs that only wait were
 * dropped), no result waiting for its acknowledgement. */
static int drained(struct sw_worker *w, int64_t deadline)
{
    const struct sw_msg *m;

    sw_exec_drop_waiting(&w->loop.eng, deadline); /* they come back to the next owner */
    if (w->in_flight == 0) {
        return 1;
    }
    if (w->loop.eng.running > 0) {
        return 0;
    }
    for (m = w->msgs; m; m = m->next) {
        if (m->pending > 0) {
            return 0;
        }
    }
    return 1;
}

/* The main loop: until a fatal error, or until drained after *stop. */
static void run_loop(struct sw_worker *w, volatile sig_atomic_t *stop,
                     volatile sig_atomic_t *reload)
{
    int64_t drain_deadline = 0;

    for (;;) {
        int64_t now;

        if (*stop && !w->draining) {
            start_draining(w);
            drain_deadline = sw_now_mono_ms() + w->cfg->shutdown_grace_ms;
        }
        if (reload && *reload) {
            *reload = 0;
            reload_accounts(w);
        }
        if (atomic_load(&w->fatal) ||
            (w->draining && (drained(w, drain_deadline) || sw_now_mono_ms() >= drain_deadline) &&
             commit_before_stop(w, drain_deadline + 10000))) {
            break;
        }
        /* 100 ms bounds the latency of any wakeup the io-event pipe might miss. */
        sw_worker_turn(w, w->transactional ? 20 : 100);
        sw_window_check(w, NULL); /* the one-second pause deadline */
        sw_intake_poll(w);
        sw_intake_start_ready(w);
        now = sw_now_mono_ms();
        sw_txn_tick(w, 0);
        sw_lookup_tick(w, now);
        sw_metrics_loop_turned(w->metrics, now);
        sw_metrics_kafka_tick(w->metrics, w->consumer, w->in_flight, sw_window_paused_partitions(w),
                              now);
    }
}

/* After the loop: results already produced still count. Wait for their acknowledgements, which
 * store the offsets, then commit synchronously; transactional: commit what is done. */
static void finish(struct sw_worker *w)
{
    w->abandoned = w->loop.eng.running;
    if (w->abandoned && !atomic_load(&w->fatal)) {
        sw_log_warn(NULL,
                    "grace period over: %ld job(s) abandoned during their provider call, "
                    "uncommitted (they will be redelivered)",
                    w->abandoned);
    }
    if (w->in_flight > w->abandoned && !atomic_load(&w->fatal)) {
        sw_log_info(NULL,
                    "%ld job(s) that were waiting (rate limit, back-off, key order) left "
                    "uncommitted for the next owner",
                    w->in_flight - w->abandoned);
    }
    sw_exec_abort_all(&w->loop.eng);
    w->closing = 1;
    if (w->transactional) {
        int64_t deadline = sw_now_mono_ms() + 30000;

        sw_txn_settle(w, deadline);
        if (!atomic_load(&w->fatal) && sw_txn_tick(w, 1)) {
            sw_txn_settle(w, deadline + 30000);
        }
        sw_bg_stop(w->bg); /* nothing else may call the transaction API from now on */
        w->bg = NULL;
        if (!atomic_load(&w->fatal)) {
            sw_txn_abort(w); /* the empty transaction the last commit opened */
        }
        return;
    }
    sw_publish_flush_backlog(w);
    rd_kafka_flush(w->producer, 10000);
    rd_kafka_poll(w->producer, 0);
    /* Refused messages are repaired and their replacements flushed too: a few rounds at most
     * (sw_refused.c bounds the repairs of one job). */
    for (int round = 0; w->refused && round < 8; round++) {
        sw_refused_settle(w);
        sw_publish_flush_backlog(w);
        rd_kafka_flush(w->producer, 10000);
        rd_kafka_poll(w->producer, 0);
    }
    if (w->refused) {
        sw_log_error(NULL, "refused results were still being repaired at stop");
        atomic_store(&w->fatal, 1);
    }
    if (!atomic_load(&w->fatal)) {
        /* Usually nothing is left to commit (commit_before_stop did it); results acknowledged
         * during the flush above are. */
        rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, NULL, 0);

        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
            sw_log_warn(NULL, "commit at stop: %s", rd_kafka_err2str(err));
        }
    }
}

int sw_worker_run(const struct sw_config *cfg, const struct sw_registry *reg,
                  const struct sw_accounts *accounts, volatile sig_atomic_t *stop,
                  volatile sig_atomic_t *reload)
{
    struct sw_worker w;
    int rc = 1;

    memset(&w, 0, sizeof(w));
    w.cfg = cfg;
    w.pipefd[0] = w.pipefd[1] = -1;
    w.backlog_tail = &w.backlog;
    w.refused_tail = &w.refused;
    atomic_init(&w.fatal, 0);
    w.transactional = !strcmp(cfg->delivery, "transactional");
    w.ordering = !strcmp(cfg->ordering, "none")        ? SW_ORDER_NONE
                 : !strcmp(cfg->ordering, "partition") ? SW_ORDER_PARTITION
                                                       : SW_ORDER_KEY;
    txn_id_default(&w);
    sw_offsets_init(&w.offsets);
    sw_job_limits_from(cfg, &w.job_lim);
    if (setup(&w, reg, accounts) != 0) {
        goto out;
    }
    /* What is true now: the clients exist, no broker need have answered. The rebalance logs
     * the assignment ("consuming ..."), the lookups a missing topic or an unreachable broker. */
    sw_log_info(NULL,
                "segworker %s connecting to %s for %s as group %s, results to %s (%s, ordering %s)",
                SW_VERSION, cfg->brokers, cfg->jobs_topic, cfg->group, cfg->results_topic,
                cfg->delivery, cfg->ordering);
    run_loop(&w, stop, reload);
    finish(&w);
    rc = atomic_load(&w.fatal) ? 1 : w.abandoned ? SW_EXIT_ABANDONED : 0;
    sw_log_info(NULL,
                "stopped: consumed %llu, results %llu, dead letters %llu, parked %llu, "
                "re-fetched and skipped %llu",
                w.consumed, w.results, w.dead_letters, w.parked, w.rewound);
out:
    if (w.final_q) {
        rd_kafka_queue_destroy(w.final_q);
    }
    sw_bg_stop(w.bg); /* before the clients its tasks use */
    sw_lookup_free(&w);
    sw_kafka_free(&w);
    sw_admin_stop(w.admin); /* before the registry it reads */
    sw_exec_abort_all(&w.loop.eng);
    while (w.msgs) {
        sw_msg_free(w.msgs); /* before the timer heap goes: held jobs are on it */
    }
    sw_out_free(w.backlog);
    sw_out_free(w.refused);
    sw_loop_free(&w.loop);
    sw_metrics_destroy(w.metrics);
    sw_offsets_free(&w.offsets);
    return rc;
}
