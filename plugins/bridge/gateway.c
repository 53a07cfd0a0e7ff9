/* Gateway addresses on the bridge in the host's netns.
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
		return loom_pod_nl_err(err, host, r, "%s: cannot add gateway address %s", br->name,
				       want);

	n = loom_addr_list(host, br->ifindex, gw->ip.family, &addrs);
	if (n < 0)
		return loom_pod_nl_err(err, host, n, "%s: cannot list the addresses to check %s",
				       br->name, want);
	for (i = 0; i < n; i++) {
		if (!conflicts(&addrs[i].prefix, gw))
			continue;
		if (!force) {
			loom_addr_del(host, br->ifindex, gw);
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"bridge: %s already has an IP address different from %s "
				"(%s); set forceAddress to replace it",
				br->name, want, loom_prefix_fmt(&addrs[i].prefix, have));
		}
		r = loom_addr_del(host, br->ifindex, &addrs[i].prefix);
		if (r < 0 && r != -EADDRNOTAVAIL)
			return loom_pod_nl_err(err, host, r, "%s: cannot remove the old address %s",
					       br->name, loom_prefix_fmt(&addrs[i].prefix, have));
		n_conflicts++;
	}
	if (n_conflicts) {
		/* Removing an IPv4 primary takes its secondaries with it, ours
		 * among them. */
		r = loom_addr_add(host, br->ifindex, gw, flags | LOOM_ADDR_REPLACE);
		if (r < 0 && r != -EEXIST)
			return loom_pod_nl_err(err, host, r, "%s: cannot add gateway address %s",
					       br->name, want);
	}
	/* Pin the bridge's MAC, as the reference does: otherwise the bridge
	 * takes the lowest MAC of its ports and changes as pods come and go,
	 * and every pod's ARP entry for the gateway goes stale.  `br` was
	 * read before this ADD's port joined: that is the MAC to keep. */
	if (br->mac_len == LOOM_MAC_LEN) {
		r = loom_link_set_mac(host, br->ifindex, br->mac);
		if (r < 0)
			return loom_pod_nl_err(err, host, r, "%s: cannot pin the MAC address of",
					       br->name);
	}
	return 0;
}
