/* Inside the Kafka worker: the state its files share.
 *
 *   sw_worker.c     lifecycle: setup, the main loop, draining, shutdown
 *   sw_kafka.c      the librdkafka clients: configuration, callbacks, subscription
 *   sw_intake.c     consumed messages: tracking, parsing, the per-key gate, starting jobs
 *   sw_window.c     backpressure: the in-flight windows and pausing partitions
 *   sw_publish.c    results, dead letters and parked jobs to Kafka, without ever waiting
 *   sw_txn.c        transactional delivery: outputs held for their offsets, commits off the loop
 *   sw_rebalance.c  partitions arriving and leaving
 *   sw_lookup.c     broker lookups off the loop (retry topic, partition count for the share)
 *
 * Threads: everything here runs on the loop thread, except what sw_bg tasks do on the helper
 * thread (blocking broker calls, see sw_bg.h) and librdkafka's callbacks that it may serve from
 * inside such a call (errors, logs), which touch only atomics.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_WORKER_INT_H
#define SW_WORKER_INT_H

#include "sw_admin.h"
#include "sw_bg.h"
#include "sw_exec.h"
#include "sw_job.h"
#include "sw_loop.h"
#include "sw_metrics.h"
#include "sw_offsets.h"
#include "sw_worker.h"

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>

enum sw_ordering { SW_ORDER_KEY, SW_ORDER_PARTITION, SW_ORDER_NONE };

struct sw_msg;

/* What one of a job's messages is: a delivery report finds it through the message's opaque,
 * which points at m->tag[kind] (so no allocation per message). */
enum sw_out_kind {
    SW_OUT_PART,
    SW_OUT_FINAL,
    SW_OUT_DLQ,
    SW_OUT_PARK,
    SW_OUT_REPLACEMENT, /* the small failed result that replaced a refused one */
    SW_OUT__COUNT
};

/* A message to publish that is not in librdkafka's queue yet: held for its transaction, waiting
 * for room in the producer's queue, or refused by the broker and waiting to be repaired. Owns
 * its copies. */
struct sw_out {
    struct sw_out *next;
    struct sw_msg *m; /* whose output it is (NULL once its job was dropped) */
    enum sw_out_kind kind;
    rd_kafka_resp_err_t err; /* why the broker refused it (sw_refused.c) */
    int alone;               /* refused when produced: surely for its own sake */
    char *topic;
    void *key;
    size_t key_len;
    char *value;
    size_t len;
    rd_kafka_headers_t *hdrs;
};

/* One consumed message, from poll until its last result (and DLQ entry) is acknowledged. */
struct sw_msg {
    struct sw_worker *w;
    struct sw_msg *prev, *next; /* every live message, so shutdown frees abandoned ones */
    char *topic;
    int32_t partition;
    int64_t offset;
    void *key;
    size_t key_len;
    char *raw; /* the original value, kept for a dead letter or the retry topic */
    size_t raw_len;
    char *traceparent;
    const char *reply_topic; /* borrowed from the config or job-validated */
    char reply_buf[256];
    struct sw_job *job;         /* parsed, not started yet (waiting for its key or its time) */
    struct sw_order_link olink; /* in its partition's gate while waiting behind its key */
    struct sw_msg *ready_next;  /* released by the gate, to start on this loop turn */
    struct sw_timer hold;       /* a parked job waiting for its not-before time */
    int64_t received_wall_ms;
    int64_t received_wall_us; /* the same, in microseconds (the results' timing) */
    int64_t not_before_wall_ms;
    int gated;         /* holds its key in the gate */
    int started;       /* handed to the engine */
    int orphan;        /* its partition was handed over: complete without touching offsets */
    int pending;       /* published (or waiting for queue room), not yet acknowledged */
    int final_emitted; /* the job's last result (or DLQ entry, or park) was produced */
    int delivery_failed;
    int refusals;                     /* its messages the broker refused (sw_refused.c) */
    int repaired;                     /* answered again after a refusal (sw_refused.c) */
    unsigned char tag[SW_OUT__COUNT]; /* tag[k] == k: the opaque of its messages */
    int done;                         /* transactional: finished, outputs held in out */
    struct sw_out *out, **out_tail;   /* transactional: held outputs, in emit order */
    size_t out_bytes;
};

/* A broker lookup done on the helper thread: whether a topic exists, and its partitions. */
struct sw_lookup {
    struct sw_bg_task task;
    struct sw_worker *w;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt; /* created on the loop thread, used by the helper */
    int reached;           /* a broker answered the request */
    int exists;
    int partitions;
    char err[128];
};

/* The group's committed offsets of the current assignment, read on the helper thread after each
 * assignment change so that every assigned partition has its lag, position and committed series
 * from the first scrape, not only once a message arrives or a commit is made (metrics only). */
struct sw_committed_lookup {
    struct sw_bg_task task;
    struct sw_worker *w;
    rd_kafka_topic_partition_list_t *parts; /* owned; filled in by the helper */
    rd_kafka_resp_err_t err;
};

/* A transaction call done on the helper thread. */
struct sw_txn_task {
    struct sw_bg_task task;
    struct sw_worker *w;
    int init; /* init_transactions + begin, else send offsets + commit + begin */
    rd_kafka_topic_partition_list_t *offsets;
    rd_kafka_consumer_group_metadata_t *gm;
    int ok;
    int open; /* a transaction is open afterwards */
    char err[512];
};

struct sw_worker {
    const struct sw_config *cfg;
    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_queue_t *cq;
    rd_kafka_queue_t *pq;
    int pipefd[2];
    struct curl_waitfd wfd;
    struct sw_loop loop;
    struct sw_bg *bg;
    struct sw_job_limits job_lim;
    struct sw_offsets offsets;
    struct sw_msg *msgs;
    struct sw_msg *ready, *ready_tail;
    enum sw_ordering ordering;

    /* Publishing that waits for room in librdkafka's queue, in order. */
    struct sw_out *backlog, **backlog_tail;
    size_t backlog_bytes;
    /* Messages the broker refused for a reason of their own, repaired after each poll. */
    struct sw_out *refused, **refused_tail;
    size_t acked_max; /* the largest message the broker acknowledged */

    /* Transactions */
    int transactional;
    int txn_open;
    int txn_dirty;         /* offsets moved or messages produced since the last commit */
    int txn_release_later; /* finished jobs wait for the commit in flight to end */
    int64_t txn_next_ms;   /* monotonic time of the next commit */
    size_t txn_buffered;   /* bytes of outputs held back for their offsets */
    struct sw_txn_task txn;

    long in_flight;
    int paused;
    int64_t full_since; /* when the window filled up (monotonic ms); 0 while it is not full */
    int draining;
    long abandoned;            /* jobs whose provider call the end of the grace period cut */
    int closing;               /* past the main loop: revokes only commit */
    rd_kafka_queue_t *final_q; /* the last commit's result, while draining */
    int final_pending;         /* that commit is in flight */
    atomic_int fatal;

    /* Lookups */
    int share_dirty; /* the assignment changed: recompute the rate-limit share */
    int64_t share_next_ms;
    struct sw_lookup share;
    struct sw_lookup jobs; /* whether a broker answers and the jobs topic exists, for /readyz */
    int64_t jobs_next_ms;
    int jobs_warned; /* what jobs_done last logged (sw_lookup.c) */
    int retry_ok;    /* topics.retry exists: long waits may be parked there */
    int retry_warned;
    int64_t retry_next_ms;
    struct sw_lookup retry;
    struct sw_committed_lookup committed;
    int committed_dirty; /* the assignment changed: read its committed offsets */

    char txn_id[256];
    unsigned long long consumed, results, dead_letters, parked, rewound;
    struct sw_metrics *metrics;
    struct sw_admin *admin;
};

/* ---- sw_kafka.c ---- */
rd_kafka_conf_t *sw_kafka_conf(struct sw_worker *w, int consumer);
int sw_kafka_setup(struct sw_worker *w);
void sw_kafka_free(struct sw_worker *w);

/* ---- sw_intake.c ---- */
void sw_intake_poll(struct sw_worker *w);
void sw_intake_start_ready(struct sw_worker *w);
void sw_msg_free(struct sw_msg *m);
struct sw_partition_ledger *sw_msg_ledger(struct sw_worker *w, const struct sw_msg *m);
/* The job's last output was produced: release its key, complete it once acknowledged. */
void sw_msg_final(struct sw_worker *w, struct sw_msg *m);
/* Every output acknowledged (or held, transactional): the offset may advance. */
void sw_msg_complete(struct sw_worker *w, struct sw_msg *m);

/* ---- sw_window.c ---- */
void sw_window_check(struct sw_worker *w, struct sw_partition_ledger *l);
void sw_window_apply_all(struct sw_worker *w);
/* Whether the worker takes new messages now. */
int sw_window_open(const struct sw_worker *w);
int sw_window_paused_partitions(const struct sw_worker *w);

/* ---- sw_publish.c ---- */
int sw_publish_emit(void *arg, const struct sw_emit *em);
int sw_publish_park(void *arg, void *user, int64_t not_before_wall_ms, int attempts);
int sw_publish_busy(void *arg);
/* Produce now or queue behind the backlog; takes hdrs. 0 when accepted. m is NULL for a message
 * no job waits for (transactional). */
int sw_publish_now(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind, const char *topic,
                   const void *key, size_t key_len, const char *value, size_t len,
                   rd_kafka_headers_t *hdrs);
/* A dead letter for m: its original message (cut to fit), with the reason in its headers. */
int sw_publish_dlq(struct sw_worker *w, struct sw_msg *m, sw_err_t code, const char *job_id,
                   const char *message);
/* Move backlog into librdkafka's queue while it has room. */
void sw_publish_flush_backlog(struct sw_worker *w);
/* A copy of one output; takes hdrs (destroyed on failure). NULL when memory ran out. */
struct sw_out *sw_out_new(struct sw_msg *m, enum sw_out_kind kind, const char *topic,
                          const void *key, size_t key_len, const char *value, size_t len,
                          rd_kafka_headers_t *hdrs);
/* Frees o and every output after it; accepts NULL. */
void sw_out_free(struct sw_out *o);
void sw_publish_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);

/* ---- sw_refused.c ---- */
/* A message librdkafka or the broker refused: 1 when the refusal concerns that one message
 * (its size, an invalid record), which is repaired rather than stopping the worker. */
int sw_refused_own(rd_kafka_resp_err_t err);
/* Keep a delivery report's refused message of job m for repair (its pending count stays until
 * then). 0 when kept. */
int sw_refused_keep(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind,
                    const rd_kafka_message_t *rkm);
/* Refused at produce time (it can only be this message): repair it now; takes hdrs. */
void sw_refused_now(struct sw_worker *w, struct sw_msg *m, enum sw_out_kind kind, const char *topic,
                    const void *key, size_t key_len, const char *value, size_t len,
                    rd_kafka_headers_t *hdrs, rd_kafka_resp_err_t err);
/* Repair the messages refused since the last call (after polling the producer). */
void sw_refused_settle(struct sw_worker *w);

/* ---- sw_txn.c ---- */
/* Hold an output until its job's offset can be committed with it; takes hdrs. */
int sw_txn_hold(struct sw_worker *w, struct sw_msg *m, const char *topic, const void *key,
                size_t key_len, const char *value, size_t len, rd_kafka_headers_t *hdrs);
/* Publish the held outputs of every finished job below l's committable offset. */
void sw_txn_release(struct sw_worker *w, struct sw_partition_ledger *l);
/* Start init_transactions (at start-up) on the helper thread. */
int sw_txn_init(struct sw_worker *w);
/* Commit when it is time (or now when force), on the helper thread; never waits. Returns 1 when
 * a commit is in flight afterwards. */
int sw_txn_tick(struct sw_worker *w, int force);
/* Wait (turning the loop) until no commit is in flight, up to deadline_ms. */
void sw_txn_settle(struct sw_worker *w, int64_t deadline_ms);
/* Abort an open transaction (shutdown, lost partitions). Blocking: only off the main loop. */
void sw_txn_abort(struct sw_worker *w);

/* ---- sw_rebalance.c ---- */
void sw_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                     rd_kafka_topic_partition_list_t *parts, void *opaque);

/* ---- sw_lookup.c ---- */
int sw_lookup_init(struct sw_worker *w);
void sw_lookup_free(struct sw_worker *w);
/* Start the lookups that are due; never waits. */
void sw_lookup_tick(struct sw_worker *w, int64_t now_ms);

/* ---- sw_worker.c ---- */
/* One loop turn plus the producer and helper-thread work around it. It never polls the
 * consumer, so librdkafka callbacks (a revoke draining its jobs) may call it too. */
void sw_worker_turn(struct sw_worker *w, int max_wait_ms);

#endif
