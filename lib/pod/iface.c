/* Inside the pod: addresses, link up, routes, all over the netlink socket
 * that lives in the pod's netns (no setns per step).  The only setns is the
 * rare one that re-enables IPv6 on a netns that has it disabled. */
#include "pod/pod.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel/netns.h"

struct ipv6_on {
	const char *ifname;
};

/* Runs inside the pod's netns: /proc/sys/net follows the thread. */
static int ipv6_enable(void *arg)
{
	const struct ipv6_on *a = arg;
	int r = loom_sysctl_write_if(AF_INET6, "lo", "disable_ipv6", "0");

	if (r < 0)
		return r;
	return loom_sysctl_write_if(AF_INET6, a->ifname, "disable_ipv6", "0");
}

static int add_addr(struct loom_nl *pod, int netns_fd, const struct loom_pod_conf *c,
		    const char *ifname, int ifindex, const struct loom_prefix *p,
		    struct loom_err *err)
{
	unsigned flags = (p->ip.family == AF_INET6 && !c->enable_dad) ? LOOM_ADDR_NODAD : 0;
	char buf[LOOM_PREFIX_STRLEN];
	int r;

	r = loom_addr_add(pod, ifindex, p, flags);
	/* IPv6 disabled in the pod's netns: the kernel refuses with EACCES.
	 * The reference turns it on for lo and the interface; so do we. */
	if (r == -EACCES && p->ip.family == AF_INET6) {
		struct ipv6_on a = { .ifname = ifname };
		int s = loom_netns_run_fd(netns_fd, ipv6_enable, &a);

		if (s < 0)
			return loom_err_errno(
				err, LOOM_ERR_INTERNAL, -s,
				"%s: IPv6 is disabled in the pod's netns and cannot be "
				"enabled (net.ipv6.conf.%s.disable_ipv6)",
				ifname, ifname);
		r = loom_addr_add(pod, ifindex, p, flags);
	}
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return loom_pod_nl_err(err, pod, r, "%s: cannot add address %s", ifname,
				       loom_prefix_fmt(p, buf));
	return 0;
}

/* The gateway of the first address of a family, as the reference's
 * ConfigureIface uses it for routes that name none. */
static const struct loom_ip *family_gw(const struct loom_result *res, int res_iface, int family)
{
	size_t i;

	for (i = 0; i < res->n_ips; i++)
		if (res->ips[i].iface == res_iface && res->ips[i].has_gateway &&
		    res->ips[i].address.ip.family == family)
			return &res->ips[i].gateway;
	return NULL;
}

static int add_route(struct loom_nl *pod, const char *ifname, int ifindex,
		     const struct loom_route *rt, const struct loom_ip *gw, struct loom_err *err)
{
	struct loom_nl_route nr;
	char dst[LOOM_PREFIX_STRLEN], gbuf[LOOM_IP_STRLEN], what[LOOM_PREFIX_STRLEN + 64];
	int r;

	memset(&nr, 0, sizeof(nr));
	nr.dst = rt->dst;
	nr.oif = ifindex;
	if (gw)
		nr.gw = *gw;
	if (rt->table > 0)
		nr.table = (uint32_t)rt->table;
	if (rt->priority > 0)
		nr.metric = (uint32_t)rt->priority;
	if (rt->mtu > 0)
		nr.mtu = (uint32_t)rt->mtu;
	if (rt->scope >= 0)
		nr.scope = (uint8_t)rt->scope;
	r = loom_route_add(pod, &nr, 0);
	/* A route IPAM lists twice, or one the kernel made for an address:
	 * the first one wins, as in the reference. */
	if (r == -EEXIST)
		return 0;
	if (r < 0) {
		snprintf(what, sizeof(what), "%s%s%s", loom_prefix_fmt(&rt->dst, dst),
			 gw ? " via " : "", gw ? loom_ip_fmt(gw, gbuf) : "");
		return loom_pod_nl_err(err, pod, r, "%s: cannot add route %s", ifname, what);
	}
	return 0;
}

int loom_pod_iface_configure(struct loom_nl *pod, int netns_fd, const struct loom_pod_conf *c,
			     const char *ifname, int ifindex, const struct loom_result *res,
			     int res_iface, struct loom_err *err)
{
	size_t i;
	int r;

	/* Addresses before the link comes up, so that it comes up with them
	 * (IPv4 routes need it up, addresses do not). */
	for (i = 0; i < res->n_ips; i++) {
		if (res->ips[i].iface != res_iface)
			continue;
		if (add_addr(pod, netns_fd, c, ifname, ifindex, &res->ips[i].address, err) < 0)
			return -1;
	}
	if (!c->disable_container_iface) {
		r = loom_link_set_up(pod, ifindex, true);
		if (r < 0)
			return loom_pod_nl_err(err, pod, r, "%s: cannot bring up the link", ifname);
	}
	for (i = 0; i < res->n_routes; i++) {
		const struct loom_route *rt = &res->routes[i];
		const struct loom_ip *gw =
			rt->has_gw ? &rt->gw : family_gw(res, res_iface, rt->dst.ip.family);

		if (add_route(pod, ifname, ifindex, rt, gw, err) < 0)
			return -1;
	}
	return 0;
}
