/* Gateway addresses on the bridge and forwarding in the host's netns.
 *
 * The common case is a bridge that already holds the gateway: one address
 * add answered EEXIST, no dump.  Only when the add succeeds (the first pod
 * of a network, or a changed config) are the bridge's other addresses
 * listed to apply the reference's rule: IPv4 allows one address per bridge
 * config, IPv6 any number whose subnets do not overlap; a conflicting one is
 * replaced with forceAddress and refused without.
 *
 * `br` must be the bridge as it was before this ADD's port joined (its MAC
 * is pinned when the gateway is first added). */
#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"

static bool conflicts(const struct loom_prefix *have, const struct loom_prefix *want)
{
	if (have->ip.family != want->ip.family)
		return false;
	if (have->len == want->len && loom_ip_eq(&have->ip, &want->ip))
		return false;
	if (want->ip.family == AF_INET)
		return true;
	return loom_prefix_contains(have, &want->ip) || loom_prefix_contains(want, &have->ip);
}

static int nl_fail(struct loom_err *err, struct loom_nl *nl, int r, const char *fmt_what,
		   const char *addr, const char *br)
{
	const char *kmsg = loom_nl_last_msg(nl);

	return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s: cannot %s %s%s%s", br, fmt_what, addr,
			      kmsg && kmsg[0] ? ": " : "", kmsg ? kmsg : "");
}

int loom_br_gateway_ensure(struct loom_nl *host, const struct loom_link *br,
			   const struct loom_prefix *gw, bool force, struct loom_err *err)
{
	unsigned flags = gw->ip.family == AF_INET6 ? LOOM_ADDR_NODAD : 0;
	_cleanup_free_ struct loom_addr *addrs = NULL;
	char want[LOOM_PREFIX_STRLEN], have[LOOM_PREFIX_STRLEN];
	int r, n, i, n_conflicts = 0;

	loom_prefix_fmt(gw, want);
	r = loom_addr_add(host, br->ifindex, gw, flags);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return nl_fail(err, host, r, "add gateway address", want, br->name);

	n = loom_addr_list(host, br->ifindex, gw->ip.family, &addrs);
	if (n < 0)
		return nl_fail(err, host, n, "list the addresses to check", want, br->name);
	for (i = 0; i < n; i++) {
		if (!conflicts(&addrs[i].prefix, gw))
			continue;
		if (!force) {
			loom_addr_del(host, br->ifindex, gw);
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "bridge: %s already has an IP address different from %s "
					    "(%s); set forceAddress to replace it",
					    br->name, want, loom_prefix_fmt(&addrs[i].prefix, have));
		}
		r = loom_addr_del(host, br->ifindex, &addrs[i].prefix);
		if (r < 0 && r != -EADDRNOTAVAIL)
			return nl_fail(err, host, r, "remove the old address",
				       loom_prefix_fmt(&addrs[i].prefix, have), br->name);
		n_conflicts++;
	}
	if (n_conflicts) {
		/* Removing an IPv4 primary takes its secondaries with it, ours
		 * among them. */
		r = loom_addr_add(host, br->ifindex, gw, flags | LOOM_ADDR_REPLACE);
		if (r < 0 && r != -EEXIST)
			return nl_fail(err, host, r, "add gateway address", want, br->name);
	}
	/* Pin the bridge's MAC, as the reference does: otherwise the bridge
	 * takes the lowest MAC of its ports and changes as pods come and go,
	 * and every pod's ARP entry for the gateway goes stale.  `br` was
	 * read before this ADD's port joined: that is the MAC to keep. */
	if (br->mac_len == LOOM_MAC_LEN) {
		r = loom_link_set_mac(host, br->ifindex, br->mac);
		if (r < 0)
			return nl_fail(err, host, r, "pin the MAC address", "of", br->name);
	}
	return 0;
}

int loom_br_forwarding_enable(int family, struct loom_err *err)
{
	const char *key = family == AF_INET ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding";
	char buf[8];
	int r;

	/* A write is a netns-wide event (IPv6 resets every interface's
	 * router state on it): only when needed. */
	if (loom_sysctl_read(key, buf, sizeof(buf)) == 0 && strcmp(buf, "1") == 0)
		return 0;
	r = loom_sysctl_write(key, "1");
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot enable forwarding (%s)", key);
	return 0;
}
