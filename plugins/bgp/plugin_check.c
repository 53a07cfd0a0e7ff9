/* CHECK: is the pod still wired as prevResult says?  IPAM's own check,
 * the container interface (a veth, prevResult's MAC) and its host end,
 * every address and route of prevResult in the pod, the gateway
 * neighbours, and a host route of ours to each address over the host end.
 * The first difference is the error, named precisely. */
#include "plugin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "kernel/netns.h"

static int differs(struct loom_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int differs(struct loom_err *err, const char *fmt, ...)
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

struct check {
	const struct loom_result *prev;
	const char *netns;
	struct loom_nl *host, *pod;
	int iface;                   /* prevResult's container interface */
	struct loom_link cl, hl;     /* container end, host end */
};

static int links(struct check *k, struct loom_err *err)
{
	const struct loom_result_iface *want = &k->prev->ifaces[k->iface];
	uint8_t mac[LOOM_MAC_LEN];
	char buf[LOOM_MAC_STRLEN];
	int r;

	r = loom_link_get(k->pod, want->name, &k->cl);
	if (r == -ENODEV)
		return differs(err, "%s: not found in the pod's netns %s", want->name, k->netns);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s: cannot look it up in %s",
				      want->name, k->netns);
	if (strcmp(k->cl.kind, "veth") != 0)
		return differs(err, "%s: is a %s link, not a veth", want->name,
			       k->cl.kind[0] ? k->cl.kind : "plain");
	if (want->mac[0] && loom_br_mac_parse(want->mac, mac) == 0 &&
	    (k->cl.mac_len != LOOM_MAC_LEN || memcmp(mac, k->cl.mac, LOOM_MAC_LEN) != 0))
		return differs(err, "%s: MAC is %s, prevResult says %s", want->name,
			       k->cl.mac_len == LOOM_MAC_LEN ? loom_br_mac_fmt(k->cl.mac, buf) : "none",
			       want->mac);
	r = k->cl.link > 0 ? loom_link_get_index(k->host, k->cl.link, &k->hl) : -ENODEV;
	if (r == -ENODEV ||
	    (r == 0 && (strcmp(k->hl.kind, "veth") != 0 || k->hl.link != k->cl.ifindex)))
		return differs(err, "%s: its host-side veth is missing", want->name);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s: cannot look up its host side",
				      want->name);
	return 0;
}

static int addrs(struct check *k, struct loom_err *err)
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
			return differs(err, "%s: address %s from prevResult is missing", k->cl.name,
				       loom_prefix_fmt(p, buf));
	}
	return 0;
}

static bool route_matches(const struct loom_nl_route *have, const struct loom_route *want)
{
	struct loom_ip a = loom_prefix_first(&have->dst), b = loom_prefix_first(&want->dst);

	return have->dst.len == want->dst.len && loom_ip_eq(&a, &b) &&
	       (!want->has_gw || loom_ip_eq(&have->gw, &want->gw));
}

static int pod_routes(struct check *k, struct loom_err *err)
{
	struct loom_route_filter f = { .family = AF_UNSPEC, .oif = k->cl.ifindex };
	_cleanup_free_ struct loom_nl_route *have = NULL;
	char dst[LOOM_PREFIX_STRLEN], gw[LOOM_IP_STRLEN];
	size_t i;
	int n, m;

	n = loom_route_list(k->pod, &f, &have);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n, "%s: cannot list the pod's routes",
				      k->cl.name);
	for (i = 0; i < k->prev->n_routes; i++) {
		const struct loom_route *want = &k->prev->routes[i];

		for (m = 0; m < n; m++)
			if (route_matches(&have[m], want))
				break;
		if (m == n)
			return differs(err, "route %s%s%s from prevResult is missing in the pod's netns",
				       loom_prefix_fmt(&want->dst, dst), want->has_gw ? " via " : "",
				       want->has_gw ? loom_ip_fmt(&want->gw, gw) : "");
	}
	return 0;
}

/* The pod reaches its gateways through static entries naming the host
 * end's MAC (plugin_add.c): without them it reaches nothing. */
static int gateway_neighbours(struct check *k, struct loom_err *err)
{
	_cleanup_free_ struct loom_neigh *have = NULL;
	bool fam[2] = { false, false };
	size_t i;
	int f, n, m;

	for (i = 0; i < k->prev->n_ips; i++)
		fam[k->prev->ips[i].address.ip.family == AF_INET6] = true;
	n = loom_neigh_list(k->pod, k->cl.ifindex, AF_UNSPEC, &have);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n, "%s: cannot list its neighbours",
				      k->cl.name);
	for (f = 0; f < 2; f++) {
		const char *gw = f ? LOOM_BGP_GW6 : LOOM_BGP_GW4;
		struct loom_ip ip;

		if (!fam[f])
			continue;
		loom_ip_parse(gw, &ip);
		for (m = 0; m < n; m++)
			if (loom_ip_eq(&have[m].ip, &ip) && have[m].has_mac &&
			    memcmp(have[m].mac, k->hl.mac, LOOM_MAC_LEN) == 0)
				break;
		if (m == n)
			return differs(err, "%s: the neighbour entry of gateway %s (%s's MAC) is missing",
				       k->cl.name, gw, k->hl.name);
	}
	return 0;
}

static int host_routes(struct check *k, struct loom_err *err)
{
	struct loom_route_filter f = { .family = AF_UNSPEC, .oif = k->hl.ifindex,
				       .protocol = LOOM_RTPROT };
	_cleanup_free_ struct loom_nl_route *have = NULL;
	char buf[LOOM_IP_STRLEN];
	size_t i;
	int n, m;

	n = loom_route_list(k->host, &f, &have);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n, "%s: cannot list the host's routes",
				      k->hl.name);
	for (i = 0; i < k->prev->n_ips; i++) {
		const struct loom_ip *ip = &k->prev->ips[i].address.ip;

		if (k->prev->ips[i].iface >= 0 && k->prev->ips[i].iface != k->iface)
			continue;
		for (m = 0; m < n; m++)
			if (have[m].dst.len == loom_ip_bits(ip) && loom_ip_eq(&have[m].dst.ip, ip))
				break;
		if (m == n)
			return differs(err, "host route to %s via %s is missing", loom_ip_fmt(ip, buf),
				       k->hl.name);
	}
	return 0;
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

static int run(struct loom_bgp_delegate *d, struct loom_err *err)
{
	struct loom_cni_ctx *ctx = &d->ctx;
	struct check k = { .prev = &ctx->conf.prev_result, .netns = ctx->env.netns };
	_cleanup_close_ int fd = -1;
	int r;

	if (!ctx->conf.has_prev_result)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "prevResult: required for CHECK");
	if (!k.netns || !k.netns[0])
		return loom_err_set(err, LOOM_ERR_INVALID_ENV, "CNI_NETNS is required for CHECK");
	if (loom_br_ipam_check(ctx, &d->br, err) < 0)
		return -1;
	k.iface = find_container_iface(k.prev, ctx->env.ifname, k.netns);
	if (k.iface < 0)
		return differs(err,
			       "prevResult: no interface %s with sandbox %s (the pod's CNI_IFNAME and "
			       "CNI_NETNS)",
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
	else if (links(&k, err) < 0 || addrs(&k, err) < 0 || pod_routes(&k, err) < 0 ||
		 gateway_neighbours(&k, err) < 0 || host_routes(&k, err) < 0)
		r = -1;
	loom_nl_close(k.pod);
	loom_nl_close(k.host);
	return r;
}

int loom_bgp_check(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_bgp_delegate *d;
	int r;

	if (loom_bgp_delegate_make(ctx, false, &d, err) < 0)
		return -1;
	r = run(d, err);
	loom_bgp_delegate_free(d);
	return r;
}
