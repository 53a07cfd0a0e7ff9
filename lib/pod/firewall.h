/* The pod's nftables state, for every plugin that masquerades or checks
 * source MACs (loom-bridge, loom-vxlan, loom-bgp): ipMasq and macspoofchk.
 * The tables keep loom-bridge's name, which is what the ruleset shows.
 *
 * Everything lives in loom's own two tables, created once and never
 * flushed as a whole; other tables are never read or written:
 *
 *   table inet loom_bridge     (ipMasq)
 *     set masq4 / masq6        pod addresses whose traffic is masqueraded
 *     set local4 / local6      "pod address . pod subnet" pairs (intervals):
 *                              traffic inside the subnet is not masqueraded;
 *                              also "pod address . exempt prefix" (loom-vxlan's
 *                              cluster CIDR), a prefix covering the subnet
 *                              replacing the subnet's pair (no overlaps)
 *     chain postrouting        nat hook; one rule per family:
 *       ip saddr @masq4 ip daddr != 224.0.0.0/4
 *         ip saddr . ip daddr != @local4 masquerade        (ip6: ff00::/8)
 *
 *   table bridge loom_bridge   (macspoofchk)
 *     set spoof_ifaces         host veths whose source MAC is checked
 *     set allowed              "host veth . pod MAC" pairs
 *     chain prerouting         filter hook, priority -300:
 *       iifname @spoof_ifaces iifname . ether saddr != @allowed counter drop
 *
 * A pod is only set elements, so ADD and DEL are one small transaction
 * each and need no per-pod chain.  Every element carries the comment
 * "<network>/<container_id>/<ifname>" (shortened with a hash when longer
 * than nft's 128-byte comment limit), which is how loom_fw_purge() finds a
 * pod nothing else is known about.
 *
 * Both tables act in the calling thread's current netns (the host's). */
#ifndef LOOM_POD_FIREWALL_H
#define LOOM_POD_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/ip.h"

#define LOOM_FW_EXEMPT_MAX 4

struct loom_fw_pod {
	const char *network; /* network name (config "name") */
	const char *container_id;
	const char *ifname;    /* container-side interface name */
	const char *host_veth; /* host-side veth name */
	const char *mac; /* container interface MAC "aa:bb:..", for macspoofchk; may be NULL */
	size_t n_ips;
	const struct loom_prefix
		*ips;    /* the pod's addresses with their subnet length (lib/base/ip.h) */
	bool masq;       /* ipMasq */
	size_t n_exempt; /* ipMasq: destinations beyond the pod's subnet */
	const struct loom_prefix *exempt; /* not masqueraded to (network prefixes; may be NULL) */
	bool spoofchk;                    /* macspoofchk */
};

/* Install the pod's rules in one transaction (idempotent: a retried ADD
 * with the same pod succeeds).  Creates loom's tables on first use.
 * spoofchk needs host_veth and mac.  -1 with err filled:
 * LOOM_ERR_INVALID_CONFIG for a field nft cannot take (names with quotes
 * or spaces, a bad MAC), LOOM_ERR_INTERNAL when nftables refused. */
int loom_fw_add(const struct loom_fw_pod *p, struct loom_err *err);

/* Remove the pod's rules in one transaction; elements/rules already gone
 * are fine.  Works from what DEL knows (the same struct, as recorded at
 * ADD); needs neither the veth nor the pod's netns.  With spoofchk and no
 * mac, falls back to loom_fw_purge() for the MAC pair. */
int loom_fw_del(const struct loom_fw_pod *p, struct loom_err *err);

/* loom_fw_del(), but the nftables context that carried the transaction is
 * handed back open in *pending (NULL when nothing was sent), for the caller
 * to free with loom_nft_free() (lib/kernel/nft.h) a little later.  Why: closing a
 * netfilter socket whose transaction deleted anything waits for the
 * kernel's deferred cleanup, one RCU grace period (5-20 ms on this kernel,
 * against ~0.3 ms for the transaction).  A DEL that removes the rules
 * first, then deletes the veth (which waits for grace periods of its own),
 * then frees *pending, pays that wait once instead of twice.  The rules
 * are gone when this returns; only the socket is left open. */
struct loom_nft;
int loom_fw_del_deferred(const struct loom_fw_pod *p, struct loom_nft **pending,
			 struct loom_err *err);

/* Slow path for a DEL that has no record of the pod: remove whatever loom
 * holds for (network, container_id, ifname), found by element comments
 * (lists loom's two tables, then one transaction). */
int loom_fw_purge(const char *network, const char *container_id, const char *ifname,
		  struct loom_err *err);

/* loom_fw_purge(), with the context handed back as loom_fw_del_deferred()
 * does (NULL when nothing was deleted). */
int loom_fw_purge_deferred(const char *network, const char *container_id, const char *ifname,
			   struct loom_nft **pending, struct loom_err *err);

#endif
