/* Child processes (see kit_proc.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "kit.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

pid_t kit_spawn(char *const argv[], char *const env_extra[], const char *out_path,
                const char *err_path)
{
    return kit_spawn_in(argv, env_extra, NULL, out_path, err_path);
}

pid_t kit_spawn_in(char *const argv[], char *const env_extra[], const char *in_path,
                   const char *out_path, const char *err_path)
{
    posix_spawn_file_actions_t fa;
    char **env;
    size_t n = 0, m = 0, i;
    pid_t pid = -1;

    while (environ[n]) {
        n++;
    }
    while (env_extra && env_extra[m]) {
        m++;
    }
    env = calloc(n + m + 1, sizeof(*env));
    if (!env) {
        return -1;
    }
    for (i = 0; i < m; i++) {
        env[i] = env_extra[i]; /* first match wins in getenv, so extras override */
    }
    for (i = 0; i < n; i++) {
        env[m + i] = environ[i];
    }
    posix_spawn_file_actions_init(&fa);
    if (in_path) {
        posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    }
    if (out_path) {
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (err_path && out_path && err_path == out_path) {
        posix_spawn_file_actions_adddup2(&fa, 1, 2); /* one file, one offset: nothing overwritten */
    } else if (err_path) {
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, env) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    return pid;
}

int kit_wait(pid_t pid, int64_t timeout_ms)
{
    int64_t end = kit_now_ms() + timeout_ms;
    int status;

    if (pid <= 0) {
        return -1;
    }
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (r < 0 || kit_now_ms() >= end) {
            return -1;
        }
        kit_nap_ms(20);
    }
}

void kit_signal(pid_t pid, int sig)
{
    /* Never kill(-1) or kill(0): a failed spawn must not signal every process we may reach. */
    if (pid > 0) {
        kill(pid, sig);
    }
}

void kit_kill(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

int kit_stop(pid_t pid, int64_t timeout_ms)
{
    int rc;

    kit_signal(pid, SIGTERM);
    rc = kit_wait(pid, timeout_ms);
    if (rc < 0 && pid > 0) {
        fprintf(stderr, "kit: process %d did not exit within %lld ms of SIGTERM\n", (int)pid,
                (long long)timeout_ms);
        kit_kill(pid);
    }
    return rc;
}

int kit_run(char *const argv[], const char *err_path, int64_t timeout_ms)
{
    pid_t pid = kit_spawn(argv, NULL, err_path, err_path);
    int rc;

    if (pid <= 0) {
        return -1;
    }
    rc = kit_wait(pid, timeout_ms);
    if (rc < 0) {
        fprintf(stderr, "kit: %s did not finish in %lld ms\n", argv[0], (long long)timeout_ms);
        kit_kill(pid);
    }
    return rc;
}
