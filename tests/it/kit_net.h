/* Network faults for integration tests: a network namespace joined to this one by a veth pair,
 * and a netem-like packet shaper on it (added delay with jitter, random loss, a full partition).
 *
 * The shaper is in user space: iptables sends every packet crossing the veth inside the
 * namespace to an NFQUEUE, and a thread of the test holds each packet for its delay, or drops it,
 * before giving the verdict. tc's netem would do the same in the kernel, but kernels built
 * without CONFIG_NET_SCH_NETEM (this project's CI machine among them) have no netem; netfilter
 * queueing is there on any kernel that runs iptables. Needs root (CAP_NET_ADMIN), ip(8) and
 * iptables(8).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_KIT_NET_H
#define SW_KIT_NET_H

#include <stdint.h>

struct kit_netns {
    char name[32];    /* "<prefix>-<pid>", also the key for reaping a crashed run's leftovers */
    char host_if[16]; /* veth end in the test's namespace */
    char ns_if[16];   /* veth end inside */
    char host_ip[20]; /* this side's address */
    char ns_ip[20];   /* the namespace's address: bind servers there */
    int up;
};

/* Create the namespace and the veth pair with two link-local addresses (169.254.0.0/16, never
 * routed off the machine). First removes namespaces of this prefix left by runs whose process is
 * gone. Returns 0, 1 when namespaces cannot be made here (not root: the caller skips), -1 on any
 * other failure. Command output goes to log (NULL: inherit). */
int kit_netns_up(struct kit_netns *ns, const char *prefix, const char *log);
/* Kill every process still inside, delete the namespace (which deletes the veth pair).
 * Idempotent. */
void kit_netns_down(struct kit_netns *ns, const char *log);

struct kit_netem;

struct kit_netem_stats {
    uint64_t packets;  /* seen */
    uint64_t dropped;  /* by loss or partition */
    uint64_t delayed;  /* held for a delay > 0 */
    uint64_t overflow; /* dropped because the hold queue was full */
};

/* Start shaping every packet that crosses the namespace's veth end (both directions), with no
 * fault yet. Returns NULL on failure. */
struct kit_netem *kit_netem_start(const struct kit_netns *ns, int queue_num, const char *log);
/* Each packet, each direction: dropped with probability loss_pct/100, else held
 * delay_ms +- jitter_ms (uniform; order kept). loss_pct 100 is a partition; 0,0,0 heals. */
void kit_netem_set(struct kit_netem *ne, int delay_ms, int jitter_ms, int loss_pct);
void kit_netem_stats(struct kit_netem *ne, struct kit_netem_stats *out);
/* Release what is held, stop the thread, close the queue. NULL is fine. */
void kit_netem_stop(struct kit_netem *ne);

#endif
