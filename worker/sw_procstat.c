/* process_* metrics from /proc (see sw_procstat.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sw_procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct procstat {
    double cpu_seconds;  /* utime + stime; < 0: unknown */
    double rss_bytes;    /* < 0: unknown */
    double start_time_s; /* since the epoch; < 0: unknown */
    double open_fds;     /* < 0: unknown */
    double max_fds;      /* < 0: unknown */
};

/* The system's boot time (btime of /proc/stat), in seconds since the epoch; -1 unknown. */
static double boot_time(void)
{
    char line[256];
    double bt = -1;
    FILE *f = fopen("/proc/stat", "r");

    while (f && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "btime ", 6)) {
            bt = strtod(line + 6, NULL);
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return bt;
}

/* utime, stime, starttime and rss of /proc/self/stat (proc(5): fields 14, 15, 22, 24). The
 * command name (field 2) may hold spaces and parentheses: parse after its last ')'. */
static void read_stat(struct procstat *ps)
{
    char buf[1024];
    unsigned long long utime, stime, start;
    long rss;
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    size_t n;
    const char *p;
    FILE *f = fopen("/proc/self/stat", "r");

    if (!f) {
        return;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* After ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime cutime cstime priority nice threads itrealvalue starttime(22) vsize rss. */
    if (!p || tick <= 0 || page <= 0 ||
        sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %*u %ld",
               &utime, &stime, &start, &rss) != 4) {
        return;
    }
    ps->cpu_seconds = (double)(utime + stime) / (double)tick;
    ps->rss_bytes = (double)rss * (double)page;
    if (boot_time() >= 0) {
        ps->start_time_s = boot_time() + (double)start / (double)tick;
    }
}

static void read_fds(struct procstat *ps)
{
    struct rlimit rl;
    struct dirent *e;
    long n = 0;
    DIR *d = opendir("/proc/self/fd");

    if (d) {
        while ((e = readdir(d)) != NULL) {
            n += e->d_name[0] != '.';
        }
        closedir(d);
        ps->open_fds = (double)(n > 0 ? n - 1 : 0); /* the directory's own descriptor */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        ps->max_fds = (double)rl.rlim_cur;
    }
}

static int gauge(struct sw_buf *b, const char *name, const char *type, const char *help, double v)
{
    if (v < 0) {
        return 0;
    }
    return sw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name,
                         v);
}

int sw_procstat_render(struct sw_buf *b)
{
    struct procstat ps = {-1, -1, -1, -1, -1};

    read_stat(&ps);
    read_fds(&ps);
    return gauge(b, "process_cpu_seconds_total", "counter",
                 "Total user and system CPU time spent in seconds.", ps.cpu_seconds) ||
           gauge(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                 ps.rss_bytes) ||
           gauge(b, "process_start_time_seconds", "gauge",
                 "Start time of the process since unix epoch in seconds.", ps.start_time_s) ||
           gauge(b, "process_open_fds", "gauge", "Number of open file descriptors.", ps.open_fds) ||
           gauge(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                 ps.max_fds);
}
