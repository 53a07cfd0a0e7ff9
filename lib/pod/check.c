/* CHECK, for every topology: is the pod still wired as prevResult says?
 * IPAM's own check, the container interface in its netns (a veth,
 * prevResult's MAC), the bridge when bridged, its host end (on the bridge),
 * every address and route of prevResult, then the topology's own part.
 * The first difference is the error, named precisely. */
#include "pod/pod.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "kernel/netns.h"

int loom_pod_differs(struct loom_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	loom_err_clear(err);
	err->code = LOOM_ERR_NOT_FOUND;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int find_container_iface(const struct loom_result *prev, const char *ifname,
				const char *netns)
{
	size_t i;

	for (i = 0; i < prev->n_ifaces; i++)
		if (strcmp(prev->ifaces[i].name, ifname) == 0 &&
		    strcmp(prev->ifaces[i].sandbox, netns) == 0)
			return (int)i;
	return -1;
}

static int check_bridge(struct loom_pod_check *k, const struct loom_pod_topology *t,
			struct loom_link *br, struct loom_err *err)
{
	int r = loom_link_get(k->host, t->bridge, br);

	if (r == -ENODEV)
		return loom_pod_differs(err, "bridge %s: not found", t->bridge);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "bridge %s: cannot look it up",
				      t->bridge);
	if (strcmp(br->kind, "bridge") != 0)
		return loom_pod_differs(err, "bridge %s: is a %s link, not a bridge", t->bridge,
					br->kind[0] ? br->kind : "plain");
	if (!!(br->flags & IFF_PROMISC) != t->promisc)
		return loom_pod_differs(err,
					"bridge %s: promiscuous mode is %s, promiscMode says %s",
					t->bridge, (br->flags & IFF_PROMISC) ? "on" : "off",
					t->promisc ? "on" : "off");
	return 0;
}

static int check_links(struct loom_pod_check *k, const struct loom_pod_topology *t,
		       struct loom_err *err)
{
	const struct loom_result_iface *want = &k->prev->ifaces[k->iface];
	struct loom_link br;
	uint8_t mac[LOOM_MAC_LEN];
	char buf[LOOM_MAC_STRLEN];
	int r;

	r = loom_link_get(k->pod, want->name, &k->cl);
	if (r == -ENODEV)
		return loom_pod_differs(err, "%s: not found in the pod's netns %s", want->name,
					k->netns);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s: cannot look it up in %s",
				      want->name, k->netns);
	if (strcmp(k->cl.kind, "veth") != 0)
		return loom_pod_differs(err, "%s: is a %s link, not a veth", want->name,
					k->cl.kind[0] ? k->cl.kind : "plain");
	if (want->mac[0] && loom_mac_parse(want->mac, mac) == 0 &&
	    (k->cl.mac_len != LOOM_MAC_LEN || memcmp(mac, k->cl.mac, LOOM_MAC_LEN) != 0))
		return loom_pod_differs(err, "%s: MAC is %s, prevResult says %s", want->name,
					k->cl.mac_len == LOOM_MAC_LEN ? loom_mac_fmt(k->cl.mac, buf)
								      : "none",
					want->mac);
	if (t->bridge && check_bridge(k, t, &br, err) < 0)
		return -1;

	r = k->cl.link > 0 ? loom_link_get_index(k->host, k->cl.link, &k->hl) : -ENODEV;
	if (r == -ENODEV ||
	    (r == 0 && (strcmp(k->hl.kind, "veth") != 0 || k->hl.link != k->cl.ifindex)))
		return loom_pod_differs(err, "%s: its host-side veth is missing", want->name);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
				      "%s: cannot look up its host side", want->name);
	if (t->bridge && k->hl.master != br.ifindex)
		return loom_pod_differs(err,
					"%s: its host-side veth %s is not attached to bridge %s",
					want->name, k->hl.name, t->bridge);
	return 0;
}

static int check_addrs(struct loom_pod_check *k, struct loom_err *err)
{
	_cleanup_free_ struct loom_addr *have = NULL;
	char buf[LOOM_PREFIX_STRLEN];
	size_t i;
	int n, m;

	n = loom_addr_list(k->pod, k->cl.ifindex, AF_UNSPEC, &have);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n, "%s: cannot list its addresses",
				      k->cl.name);
	for (i = 0; i < k->prev->n_ips; i++) {
		const struct loom_prefix *p = &k->prev->ips[i].address;

		if (k->prev->ips[i].iface >= 0 && k->prev->ips[i].iface != k->iface)
			continue;
		for (m = 0; m < n; m++)
			if (have[m].prefix.len == p->len && loom_ip_eq(&have[m].prefix.ip, &p->ip))
				break;
		if (m == n)
			return loom_pod_differs(err, "%s: address %s from prevResult is missing",
						k->cl.name, loom_prefix_fmt(p, buf));
	}
	return 0;
}

static bool route_matches(const struct loom_nl_route *have, const struct loom_route *want)
{
	struct loom_ip a = loom_prefix_first(&have->dst), b = loom_prefix_first(&want->dst);

	return have->dst.len == want->dst.len && have->dst.ip.family == want->dst.ip.family &&
	       loom_ip_eq(&a, &b) && (!want->has_gw || loom_ip_eq(&have->gw, &want->gw));
}

/* A bridged pod's routes may name any table; a routed pod's all leave by
 * its one interface. */
static int check_routes(struct loom_pod_check *k, const struct loom_pod_topology *t,
			struct loom_err *err)
{
	struct loom_route_filter f = { .family = AF_UNSPEC };
	_cleanup_free_ struct loom_nl_route *have = NULL;
	char dst[LOOM_PREFIX_STRLEN], gw[LOOM_IP_STRLEN];
	size_t i;
	int n, m;

	if (k->prev->n_routes == 0)
		return 0;
	if (t->bridge)
		f.table = LOOM_TABLE_ANY;
	else
		f.oif = k->cl.ifindex;
	n = loom_route_list(k->pod, &f, &have);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n,
				      "%s: cannot list the pod's routes", k->cl.name);
	for (i = 0; i < k->prev->n_routes; i++) {
		const struct loom_route *want = &k->prev->routes[i];

		for (m = 0; m < n; m++)
			if (route_matches(&have[m], want))
				break;
		if (m == n)
			return loom_pod_differs(
				err, "route %s%s%s from prevResult is missing in the pod's netns",
				loom_prefix_fmt(&want->dst, dst), want->has_gw ? " via " : "",
				want->has_gw ? loom_ip_fmt(&want->gw, gw) : "");
	}
	return 0;
}

int loom_pod_check(const struct loom_cni_ctx *ctx, const struct loom_pod_conf *c,
		   struct loom_err *err)
{
	const struct loom_pod_topology *t = c->topo;
	struct loom_pod_check k = { .prev = &ctx->conf.prev_result, .netns = ctx->env.netns };
	_cleanup_close_ int fd = -1;
	int r;

	if (!ctx->conf.has_prev_result)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "prevResult: required for CHECK");
	if (!k.netns || !k.netns[0])
		return loom_err_set(err, LOOM_ERR_INVALID_ENV, "CNI_NETNS is required for CHECK");
	if (loom_ipam_client_check(c->ipam, err) < 0)
		return -1;
	k.iface = find_container_iface(k.prev, ctx->env.ifname, k.netns);
	if (k.iface < 0)
		return loom_pod_differs(err,
					"prevResult: no interface %s with sandbox %s (the pod's "
					"CNI_IFNAME and CNI_NETNS)",
					ctx->env.ifname, k.netns);
	fd = loom_netns_open(k.netns);
	if (fd < 0)
		return loom_err_errno(err, LOOM_ERR_INVALID_ENV, -fd,
				      "CNI_NETNS: cannot open %s as a network namespace", k.netns);
	r = loom_nl_open(&k.host);
	if (r == 0)
		r = loom_nl_open_netns(fd, &k.pod);
	if (r < 0)
		r = loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot open a netlink socket");
	else if (check_links(&k, t, err) < 0 || check_addrs(&k, err) < 0 ||
		 check_routes(&k, t, err) < 0 || (t->check && t->check(&k, err) < 0))
		r = -1;
	loom_nl_close(k.pod);
	loom_nl_close(k.host);
	return r;
}
