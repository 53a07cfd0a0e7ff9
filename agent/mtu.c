/* The underlay MTU: the MTU of the link holding the node's --address, the
 * base from which the pod MTU is derived. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/nl.h"

uint32_t loomd_underlay_mtu(const struct loom_ip *addr, char ifname[16])
{
	_cleanup_nl_ struct loom_nl *nl = NULL;
	struct loom_addr *addrs = NULL;
	struct loom_link link;
	int n, i, ifindex = 0;

	ifname[0] = '\0';
	if (loom_nl_open(&nl) < 0)
		return 0;
	n = loom_addr_list(nl, 0, addr->family, &addrs);
	for (i = 0; i < n && ifindex == 0; i++)
		if (loom_ip_eq(&addrs[i].prefix.ip, addr))
			ifindex = addrs[i].ifindex;
	free(addrs);
	if (ifindex == 0 || loom_link_get_index(nl, ifindex, &link) < 0)
		return 0;
	snprintf(ifname, 16, "%s", link.name);
	return link.mtu;
}
