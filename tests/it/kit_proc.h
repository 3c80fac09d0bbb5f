/* Child processes of integration tests: spawn with extra environment and redirected output, wait
 * with a deadline, stop (SIGTERM, then SIGKILL past the deadline), kill and reap.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_PROC_H
#define SW_KIT_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* Spawn argv (argv[0] a path: no PATH search) with extra environment entries ("K=V",
 * NULL-terminated, may be NULL; they override the test's own); stdin from in_path, stdout and
 * stderr to out_path and err_path (each NULL: inherited; out and err may be the same file).
 * Returns the pid or -1. */
pid_t kit_spawn_in(char *const argv[], char *const env_extra[], const char *in_path,
                   const char *out_path, const char *err_path);
/* kit_spawn_in without standard input. */
pid_t kit_spawn(char *const argv[], char *const env_extra[], const char *out_path,
                const char *err_path);
/* Wait up to timeout_ms for the child; returns its exit status (0-255), 128+signal, or -1 on
 * timeout (the child is left running) or when pid is not a child. */
int kit_wait(pid_t pid, int64_t timeout_ms);
/* Send sig to pid, only when pid is a real child (> 0). Tests use this, never kill(). */
void kit_signal(pid_t pid, int sig);
/* SIGKILL and reap; nothing for pid <= 0. */
void kit_kill(pid_t pid);
/* SIGTERM and wait up to timeout_ms: the exit status as kit_wait; -1 when it did not exit in
 * time (then it is killed, so nothing outlives the test). */
int kit_stop(pid_t pid, int64_t timeout_ms);
/* Run argv to completion (output to err_path, NULL: inherit) within timeout_ms; returns its exit
 * status, or -1 when it could not start or did not finish (then it is killed). */
int kit_run(char *const argv[], const char *err_path, int64_t timeout_ms);

#endif
