/* Helpers of the operations tests (it_ops, it_cli, it_inject): a simulator with a request log,
 * reading files and logs with deadlines, the admin port, metric samples, promtool, and the
 * secret scan. Every wait has a deadline.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_OPSKIT_H
#define SW_OPSKIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* segsim on an ephemeral port, logging requests to reqlog (may be NULL), with up to 8 more
 * arguments (NULL-terminated list, may be NULL); tag names its files. */
pid_t ops_start_sim(const char *sim_bin, const char *workdir, const char *tag, const char *reqlog,
                    const char *const *extra, int *port);
/* The whole file, NUL-terminated (caller frees); NULL when it cannot be read. */
char *ops_read_file(const char *path, size_t *len);
int ops_write_file(const char *path, const char *text);
/* Wait until the file contains needle; 0 when it does, -1 at the deadline. */
int ops_wait_file_contains(const char *path, const char *needle, int64_t timeout_ms);
/* The admin port a worker logged ("admin endpoints ... port N"), -1 at the deadline. */
int ops_admin_port(const char *worker_log, int64_t timeout_ms);
/* GET path until it answers want_status or the deadline; returns the last status (-1: none). */
int ops_http_wait_status(int port, const char *path, int want_status, char *buf, size_t n,
                         int64_t timeout_ms);
/* The value of the sample whose name and labels are exactly series (e.g.
 * `segworker_jobs_total{provider="klaviyo",...}`) in a Prometheus text; -1 when absent. */
double ops_metric(const char *text, const char *series);
/* Sum of every sample of a family (name followed by '{' or ' '); 0 when absent. */
double ops_metric_sum(const char *text, const char *name);
/* promtool check metrics < file; its exit status (-1 when it could not run). */
int ops_promtool(const char *file, const char *out_path);
/* Paths of files containing any of the secrets (NULL-terminated list), printed on stderr;
 * returns how many files had one. */
int ops_scan_secrets(const char *const *files, const char *const *secrets);

#endif
