/* Network namespaces and the NFQUEUE packet shaper (see kit_net.h).
 * SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "kit_net.h"
#include "kit.h"

/* glibc's socket headers before the kernel's, so linux/ headers defer to them. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IP_BIN         "/usr/sbin/ip"
#define IPTABLES_BIN   "/usr/sbin/iptables"
#define CMD_MS         15000
#define VERDICT_DROP   0 /* NF_DROP, NF_ACCEPT of linux/netfilter.h, which clashes with glibc */
#define VERDICT_ACCEPT 1
#define HOLD_MAX       16384 /* packets held at once; past it a packet is dropped (and counted) */

/* ---- namespace ---- */

static int ip_cmd(const char *log, char *const argv[])
{
    return kit_run(argv, log, kit_deadline_ms(CMD_MS));
}

/* Kill the processes left inside a namespace: only ever ones an earlier run of a test started. */
static void kill_inside(const char *name)
{
    FILE *f;
    int pid;
    char cmd[160];

    snprintf(cmd, sizeof(cmd), IP_BIN " netns pids %s 2>/dev/null", name);
    f = popen(cmd, "r");
    if (!f) {
        return;
    }
    while (fscanf(f, "%d", &pid) == 1) {
        if (pid > 1 && pid != getpid()) {
            kill(pid, SIGKILL);
        }
    }
    pclose(f);
}

static void reap_stale(const char *prefix, const char *log)
{
    DIR *d = opendir("/run/netns");
    struct dirent *e;
    size_t n = strlen(prefix);

    while (d && (e = readdir(d)) != NULL) {
        int pid;
        char *end = NULL;

        if (strncmp(e->d_name, prefix, n) || e->d_name[n] != '-') {
            continue;
        }
        pid = (int)strtol(e->d_name + n + 1, &end, 10);
        if (!end || *end || pid <= 0 || (kill(pid, 0) == 0 || errno == EPERM)) {
            continue; /* not ours, or its test is still running */
        }
        {
            struct kit_netns old;

            memset(&old, 0, sizeof(old));
            if (strlen(e->d_name) >= sizeof(old.name)) {
                continue;
            }
            memcpy(old.name, e->d_name, strlen(e->d_name) + 1);
            old.up = 1;
            fprintf(stderr, "kit: removing namespace %s left by a run that died\n", old.name);
            kit_netns_down(&old, log);
        }
    }
    if (d) {
        closedir(d);
    }
}

int kit_netns_up(struct kit_netns *ns, const char *prefix, const char *log)
{
    unsigned id = (unsigned)getpid() % 16000u;
    char host_cidr[32], ns_cidr[32];

    memset(ns, 0, sizeof(*ns));
    if (geteuid() != 0 || access(IP_BIN, X_OK) != 0) {
        return 1;
    }
    reap_stale(prefix, log);
    snprintf(ns->name, sizeof(ns->name), "%s-%d", prefix, (int)getpid());
    snprintf(ns->host_if, sizeof(ns->host_if), "swh%d", (int)getpid());
    snprintf(ns->ns_if, sizeof(ns->ns_if), "sws%d", (int)getpid());
    /* One /30 per pid in 169.254.1.0 - 169.254.250.255: concurrent runs never collide. */
    snprintf(ns->host_ip, sizeof(ns->host_ip), "169.254.%u.%u", (1 + id / 64) & 255u,
             ((id % 64) * 4 + 1) & 255u);
    snprintf(ns->ns_ip, sizeof(ns->ns_ip), "169.254.%u.%u", (1 + id / 64) & 255u,
             ((id % 64) * 4 + 2) & 255u);
    snprintf(host_cidr, sizeof(host_cidr), "%s/30", ns->host_ip);
    snprintf(ns_cidr, sizeof(ns_cidr), "%s/30", ns->ns_ip);
    {
        char *add[] = {IP_BIN, "netns", "add", ns->name, NULL};

        if (ip_cmd(log, add) != 0) {
            /* Root without CAP_SYS_ADMIN/NET_ADMIN (an unprivileged container): cannot run. */
            return 1;
        }
    }
    ns->up = 1;
    {
        char *veth[] = {IP_BIN, "link", "add",  ns->host_if, "type",
                        "veth", "peer", "name", ns->ns_if,   NULL};
        char *move[] = {IP_BIN, "link", "set", ns->ns_if, "netns", ns->name, NULL};
        char *haddr[] = {IP_BIN, "addr", "add", host_cidr, "dev", ns->host_if, NULL};
        char *hup[] = {IP_BIN, "link", "set", ns->host_if, "up", NULL};
        char *naddr[] = {IP_BIN, "-n", ns->name, "addr", "add", ns_cidr, "dev", ns->ns_if, NULL};
        char *nup[] = {IP_BIN, "-n", ns->name, "link", "set", ns->ns_if, "up", NULL};
        char *lo[] = {IP_BIN, "-n", ns->name, "link", "set", "lo", "up", NULL};

        if (ip_cmd(log, veth) || ip_cmd(log, move) || ip_cmd(log, haddr) || ip_cmd(log, hup) ||
            ip_cmd(log, naddr) || ip_cmd(log, nup) || ip_cmd(log, lo)) {
            kit_netns_down(ns, log);
            return -1;
        }
    }
    return 0;
}

void kit_netns_down(struct kit_netns *ns, const char *log)
{
    if (!ns->up) {
        return;
    }
    kill_inside(ns->name);
    {
        char *del[] = {IP_BIN, "netns", "del", ns->name, NULL};

        ip_cmd(log, del);
    }
    if (ns->host_if[0]) {
        /* Normally gone with its peer; only a half-made pair is left. */
        char path[64];

        snprintf(path, sizeof(path), "/sys/class/net/%s", ns->host_if);
        if (access(path, F_OK) == 0) {
            char *del[] = {IP_BIN, "link", "del", ns->host_if, NULL};

            ip_cmd(log, del);
        }
    }
    ns->up = 0;
}

/* ---- NFQUEUE over raw netlink ---- */

struct held {
    uint32_t id;
    int64_t release_ms;
};

struct kit_netem {
    int fd;
    int queue;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    int stop;
    int delay_ms, jitter_ms, loss_pct;
    uint64_t rng;
    struct held *ring;
    size_t head, count;
    int64_t last_release_ms;
    struct kit_netem_stats st;
};

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void put_attr(char *buf, size_t *off, uint16_t type, const void *data, size_t len)
{
    struct nlattr *a = (struct nlattr *)(buf + *off);

    a->nla_type = type;
    a->nla_len = (uint16_t)(NLA_HDRLEN + len);
    memcpy(buf + *off + NLA_HDRLEN, data, len);
    *off += NLA_ALIGN(NLA_HDRLEN + len);
}

/* One nfqueue message: netlink header, nfgenmsg, then the attributes the caller adds. */
static size_t msg_begin(char *buf, uint8_t type, uint16_t queue, uint16_t flags)
{
    struct nlmsghdr *nh = (struct nlmsghdr *)buf;
    struct nfgenmsg *g = (struct nfgenmsg *)NLMSG_DATA(nh);

    memset(buf, 0, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*g)));
    nh->nlmsg_type = (uint16_t)((NFNL_SUBSYS_QUEUE << 8) | type);
    nh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(queue);
    return NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*g));
}

static int msg_send(int fd, char *buf, size_t len)
{
    struct sockaddr_nl to;

    memset(&to, 0, sizeof(to));
    to.nl_family = AF_NETLINK;
    ((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
    return sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len ? 0 : -1;
}

/* Send a config message and wait for its acknowledgement; returns the kernel's errno or 0. */
static int config(int fd, uint16_t queue, uint16_t attr, const void *data, size_t len)
{
    char buf[256];
    char ack[1024];
    size_t off = msg_begin(buf, NFQNL_MSG_CONFIG, queue, NLM_F_ACK);
    ssize_t n;

    put_attr(buf, &off, attr, data, len);
    if (msg_send(fd, buf, off) != 0) {
        return errno;
    }
    n = recv(fd, ack, sizeof(ack), 0);
    if (n >= (ssize_t)NLMSG_HDRLEN) {
        struct nlmsghdr *nh = (struct nlmsghdr *)ack;

        if (nh->nlmsg_type == NLMSG_ERROR) {
            return -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
        }
        return 0;
    }
    return n < 0 ? errno : EIO;
}

static void verdict(struct kit_netem *ne, uint32_t id, uint32_t v)
{
    char buf[64];
    size_t off = msg_begin(buf, NFQNL_MSG_VERDICT, (uint16_t)ne->queue, 0);
    struct nfqnl_msg_verdict_hdr vh;

    vh.verdict = htonl(v);
    vh.id = htonl(id);
    put_attr(buf, &off, NFQA_VERDICT_HDR, &vh, sizeof(vh));
    msg_send(ne->fd, buf, off);
}

/* Decide one packet under the lock; the verdict itself is sent by the caller (drop) or later
 * by release (accept). Returns 1 to drop now. */
static int admit(struct kit_netem *ne, uint32_t id, int64_t now)
{
    int64_t d = ne->delay_ms;

    ne->st.packets++;
    if (ne->loss_pct > 0 && (int)(next_rand(&ne->rng) % 100) < ne->loss_pct) {
        ne->st.dropped++;
        return 1;
    }
    if (ne->jitter_ms > 0) {
        d += (int64_t)(next_rand(&ne->rng) % (uint64_t)(2 * ne->jitter_ms + 1)) - ne->jitter_ms;
    }
    if (d < 0) {
        d = 0;
    }
    if (ne->count == HOLD_MAX) {
        ne->st.overflow++;
        ne->st.dropped++;
        return 1;
    }
    if (d > 0) {
        ne->st.delayed++;
    }
    /* Keep order, as netem does without reordering: never before the packet ahead. */
    if (now + d < ne->last_release_ms) {
        d = ne->last_release_ms - now;
    }
    ne->last_release_ms = now + d;
    ne->ring[(ne->head + ne->count) % HOLD_MAX] = (struct held){id, now + d};
    ne->count++;
    return 0;
}

static void on_packets(struct kit_netem *ne, const char *buf, ssize_t len)
{
    const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
    int64_t now = kit_now_ms();

    for (; NLMSG_OK(nh, (unsigned)len); nh = NLMSG_NEXT(nh, len)) {
        const char *p;
        size_t rest;
        uint32_t id = 0;
        int have = 0;

        if ((nh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET ||
            nh->nlmsg_type >> 8 != NFNL_SUBSYS_QUEUE) {
            continue;
        }
        p = (const char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
        rest = nh->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(struct nfgenmsg));
        while (rest >= NLA_HDRLEN) {
            const struct nlattr *a = (const struct nlattr *)p;
            size_t al = NLA_ALIGN(a->nla_len);

            if (a->nla_len < NLA_HDRLEN || al > rest) {
                break;
            }
            if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR) {
                const struct nfqnl_msg_packet_hdr *ph =
                    (const struct nfqnl_msg_packet_hdr *)(p + NLA_HDRLEN);

                id = ntohl(ph->packet_id);
                have = 1;
            }
            p += al;
            rest -= al;
        }
        if (have) {
            int drop;

            pthread_mutex_lock(&ne->mu);
            drop = admit(ne, id, now);
            pthread_mutex_unlock(&ne->mu);
            if (drop) {
                verdict(ne, id, VERDICT_DROP);
            }
        }
    }
}

/* Accept every held packet whose time has come (all of them when all is set); returns the ms
 * until the next one is due, or -1 when none is held. */
static int release(struct kit_netem *ne, int all)
{
    int64_t now = kit_now_ms();
    int wait = -1;

    for (;;) {
        struct held h;

        pthread_mutex_lock(&ne->mu);
        if (!ne->count) {
            pthread_mutex_unlock(&ne->mu);
            break;
        }
        h = ne->ring[ne->head];
        if (!all && h.release_ms > now) {
            wait = (int)(h.release_ms - now);
            pthread_mutex_unlock(&ne->mu);
            break;
        }
        ne->head = (ne->head + 1) % HOLD_MAX;
        ne->count--;
        pthread_mutex_unlock(&ne->mu);
        verdict(ne, h.id, VERDICT_ACCEPT);
    }
    return wait;
}

static void *shaper(void *arg)
{
    struct kit_netem *ne = arg;
    static char buf[1 << 16];

    for (;;) {
        struct pollfd pfd = {ne->fd, POLLIN, 0};
        int stop, wait;

        pthread_mutex_lock(&ne->mu);
        stop = ne->stop;
        pthread_mutex_unlock(&ne->mu);
        if (stop) {
            break;
        }
        wait = release(ne, 0);
        if (wait < 0 || wait > 20) {
            wait = 20; /* also bounds how late a stop request is seen */
        }
        if (poll(&pfd, 1, wait) > 0) {
            ssize_t n;

            while ((n = recv(ne->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
                on_packets(ne, buf, n);
            }
        }
    }
    release(ne, 1);
    return NULL;
}

/* A netlink socket inside the namespace: created there, used from here (a socket keeps the
 * namespace it was made in). */
static int socket_in(const char *nsname)
{
    char path[128];
    int nsfd, self, fd = -1;

    snprintf(path, sizeof(path), "/run/netns/%s", nsname);
    nsfd = open(path, O_RDONLY | O_CLOEXEC);
    self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (nsfd >= 0 && self >= 0 && setns(nsfd, CLONE_NEWNET) == 0) {
        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (setns(self, CLONE_NEWNET) != 0) {
            /* This thread would stay in the namespace; nothing sane follows. */
            fprintf(stderr, "kit: cannot return to the original network namespace\n");
            abort();
        }
    }
    if (nsfd >= 0) {
        close(nsfd);
    }
    if (self >= 0) {
        close(self);
    }
    return fd;
}

struct kit_netem *kit_netem_start(const struct kit_netns *ns, int queue_num, const char *log)
{
    struct kit_netem *ne = calloc(1, sizeof(*ne));
    char q[16];
    struct sockaddr_nl sa;
    struct nfqnl_msg_config_cmd cmd;
    struct nfqnl_msg_config_params params;
    uint32_t maxlen = htonl(8192);
    int one = 1, rcvbuf = 8 << 20, err;

    if (!ne) {
        return NULL;
    }
    ne->fd = -1;
    ne->queue = queue_num;
    ne->rng = 0x5eedULL + (uint64_t)queue_num;
    ne->ring = calloc(HOLD_MAX, sizeof(*ne->ring));
    pthread_mutex_init(&ne->mu, NULL);
    snprintf(q, sizeof(q), "%d", queue_num);
    {
        /* Both directions through the queue; --queue-bypass lets packets pass while no one
         * listens, so a stopped shaper never blackholes the namespace. */
        char *in[] = {IP_BIN,    "netns",       "exec", (char *)ns->name,  IPTABLES_BIN,
                      "-A",      "INPUT",       "-i",   (char *)ns->ns_if, "-j",
                      "NFQUEUE", "--queue-num", q,      "--queue-bypass",  NULL};
        char *out[] = {IP_BIN,    "netns",       "exec", (char *)ns->name,  IPTABLES_BIN,
                       "-A",      "OUTPUT",      "-o",   (char *)ns->ns_if, "-j",
                       "NFQUEUE", "--queue-num", q,      "--queue-bypass",  NULL};

        if (!ne->ring || access(IPTABLES_BIN, X_OK) != 0 || ip_cmd(log, in) != 0 ||
            ip_cmd(log, out) != 0) {
            fprintf(stderr, "kit: cannot install the NFQUEUE rules in %s (iptables missing?)\n",
                    ns->name);
            goto fail;
        }
    }
    ne->fd = socket_in(ns->name);
    if (ne->fd < 0) {
        fprintf(stderr, "kit: no netfilter netlink socket in %s: %s\n", ns->name, strerror(errno));
        goto fail;
    }
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    setsockopt(ne->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    setsockopt(ne->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
    if (bind(ne->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        goto fail;
    }
    memset(&cmd, 0, sizeof(cmd));
    cmd.command = NFQNL_CFG_CMD_BIND;
    cmd.pf = htons(AF_INET);
    memset(&params, 0, sizeof(params));
    params.copy_mode = NFQNL_COPY_META; /* the verdict needs only the id */
    params.copy_range = htonl(0);
    if ((err = config(ne->fd, (uint16_t)queue_num, NFQA_CFG_CMD, &cmd, sizeof(cmd))) != 0 ||
        (err = config(ne->fd, (uint16_t)queue_num, NFQA_CFG_PARAMS, &params, sizeof(params))) !=
            0 ||
        (err = config(ne->fd, (uint16_t)queue_num, NFQA_CFG_QUEUE_MAXLEN, &maxlen,
                      sizeof(maxlen))) != 0) {
        fprintf(stderr, "kit: NFQUEUE %d configuration refused: %s\n", queue_num, strerror(err));
        goto fail;
    }
    if (pthread_create(&ne->thread, NULL, shaper, ne) != 0) {
        goto fail;
    }
    ne->started = 1;
    return ne;
fail:
    kit_netem_stop(ne);
    return NULL;
}

void kit_netem_set(struct kit_netem *ne, int delay_ms, int jitter_ms, int loss_pct)
{
    pthread_mutex_lock(&ne->mu);
    ne->delay_ms = delay_ms;
    ne->jitter_ms = jitter_ms;
    ne->loss_pct = loss_pct;
    pthread_mutex_unlock(&ne->mu);
}

void kit_netem_stats(struct kit_netem *ne, struct kit_netem_stats *out)
{
    pthread_mutex_lock(&ne->mu);
    *out = ne->st;
    pthread_mutex_unlock(&ne->mu);
}

void kit_netem_stop(struct kit_netem *ne)
{
    if (!ne) {
        return;
    }
    if (ne->started) {
        pthread_mutex_lock(&ne->mu);
        ne->stop = 1;
        pthread_mutex_unlock(&ne->mu);
        pthread_join(ne->thread, NULL);
    }
    if (ne->fd >= 0) {
        close(ne->fd);
    }
    pthread_mutex_destroy(&ne->mu);
    free(ne->ring);
    free(ne);
}
