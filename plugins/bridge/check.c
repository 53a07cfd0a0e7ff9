/* CHECK: is the pod still wired as prevResult says?  The container
 * interface in its netns (kind, MAC), its host end on our bridge, every
 * address and route of prevResult, and IPAM's own check.  The first
 * difference is the error, named precisely. */
#include "bridge.h"

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

static int check_links(struct loom_nl *host, struct loom_nl *pod, const struct loom_br_conf *c,
		       const struct loom_result_iface *want, const char *netns,
		       struct loom_link *cl, struct loom_err *err)
{
	struct loom_link br, hl;
	uint8_t mac[LOOM_MAC_LEN];
	char buf[LOOM_MAC_STRLEN];
	int r;

	r = loom_link_get(pod, want->name, cl);
	if (r == -ENODEV)
		return differs(err, "%s: not found in the pod's netns %s", want->name, netns);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s: cannot look it up in %s",
				      want->name, netns);
	if (strcmp(cl->kind, "veth") != 0)
		return differs(err, "%s: is a %s link, not a veth", want->name,
			       cl->kind[0] ? cl->kind : "plain");
	if (want->mac[0] && loom_br_mac_parse(want->mac, mac) == 0 &&
	    (cl->mac_len != LOOM_MAC_LEN || memcmp(mac, cl->mac, LOOM_MAC_LEN) != 0))
		return differs(err, "%s: MAC is %s, prevResult says %s", want->name,
			       cl->mac_len == LOOM_MAC_LEN ? loom_br_mac_fmt(cl->mac, buf) : "none",
			       want->mac);

	r = loom_link_get(host, c->bridge, &br);
	if (r == -ENODEV)
		return differs(err, "bridge %s: not found", c->bridge);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "bridge %s: cannot look it up",
				      c->bridge);
	if (strcmp(br.kind, "bridge") != 0)
		return differs(err, "bridge %s: is a %s link, not a bridge", c->bridge,
			       br.kind[0] ? br.kind : "plain");
	if (!!(br.flags & IFF_PROMISC) != c->promisc)
		return differs(err, "bridge %s: promiscuous mode is %s, promiscMode says %s",
			       c->bridge, (br.flags & IFF_PROMISC) ? "on" : "off",
			       c->promisc ? "on" : "off");

	r = cl->link > 0 ? loom_link_get_index(host, cl->link, &hl) : -ENODEV;
	if (r == -ENODEV || (r == 0 && (strcmp(hl.kind, "veth") != 0 || hl.link != cl->ifindex)))
		return differs(err, "%s: its host-side veth is missing", want->name);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s: cannot look up its host side",
				      want->name);
	if (hl.master != br.ifindex)
		return differs(err, "%s: its host-side veth %s is not attached to bridge %s",
			       want->name, hl.name, c->bridge);
	return 0;
}

static int check_addrs(struct loom_nl *pod, const struct loom_result *prev, int iface,
		       const struct loom_link *cl, struct loom_err *err)
{
	_cleanup_free_ struct loom_addr *addrs = NULL;
	char buf[LOOM_PREFIX_STRLEN];
	size_t i;
	int n, k;

	n = loom_addr_list(pod, cl->ifindex, AF_UNSPEC, &addrs);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n, "%s: cannot list its addresses",
				      cl->name);
	for (i = 0; i < prev->n_ips; i++) {
		const struct loom_prefix *p = &prev->ips[i].address;

		if (prev->ips[i].iface >= 0 && prev->ips[i].iface != iface)
			continue;
		for (k = 0; k < n; k++)
			if (addrs[k].prefix.len == p->len && loom_ip_eq(&addrs[k].prefix.ip, &p->ip))
				break;
		if (k == n)
			return differs(err, "%s: address %s from prevResult is missing", cl->name,
				       loom_prefix_fmt(p, buf));
	}
	return 0;
}

static bool route_matches(const struct loom_nl_route *have, const struct loom_route *want)
{
	if (have->dst.len != want->dst.len || have->dst.ip.family != want->dst.ip.family)
		return false;
	if (loom_ip_cmp(&have->dst.ip, &want->dst.ip) != 0) {
		struct loom_ip a = loom_prefix_first(&have->dst), b = loom_prefix_first(&want->dst);

		if (!loom_ip_eq(&a, &b))
			return false;
	}
	return !want->has_gw || loom_ip_eq(&have->gw, &want->gw);
}

static int check_routes(struct loom_nl *pod, const struct loom_result *prev, const char *ifname,
			struct loom_err *err)
{
	struct loom_route_filter f = { .family = AF_UNSPEC, .table = LOOM_TABLE_ANY };
	_cleanup_free_ struct loom_nl_route *routes = NULL;
	char dst[LOOM_PREFIX_STRLEN], gw[LOOM_IP_STRLEN];
	size_t i;
	int n, k;

	if (prev->n_routes == 0)
		return 0;
	n = loom_route_list(pod, &f, &routes);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n, "%s: cannot list the pod's routes",
				      ifname);
	for (i = 0; i < prev->n_routes; i++) {
		const struct loom_route *want = &prev->routes[i];

		for (k = 0; k < n; k++)
			if (route_matches(&routes[k], want))
				break;
		if (k == n)
			return differs(err, "route %s%s%s from prevResult is missing in the pod's netns",
				       loom_prefix_fmt(&want->dst, dst), want->has_gw ? " via " : "",
				       want->has_gw ? loom_ip_fmt(&want->gw, gw) : "");
	}
	return 0;
}

static int run(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err)
{
	const struct loom_result *prev = &ctx->conf.prev_result;
	const char *ns = ctx->env.netns;
	_cleanup_nl_ struct loom_nl *host = NULL, *pod = NULL;
	_cleanup_close_ int fd = -1;
	struct loom_link cl;
	int iface, r;

	if (!ctx->conf.has_prev_result)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "prevResult: required for CHECK");
	if (!ns || !ns[0])
		return loom_err_set(err, LOOM_ERR_INVALID_ENV, "CNI_NETNS is required for CHECK");
	if (loom_br_ipam_check(ctx, c, err) < 0)
		return -1;
	iface = find_container_iface(prev, ctx->env.ifname, ns);
	if (iface < 0)
		return differs(err,
			       "prevResult: no interface %s with sandbox %s (the pod's CNI_IFNAME and "
			       "CNI_NETNS)",
			       ctx->env.ifname, ns);
	fd = loom_netns_open(ns);
	if (fd < 0)
		return loom_err_errno(err, LOOM_ERR_INVALID_ENV, -fd,
				      "CNI_NETNS: cannot open %s as a network namespace", ns);
	r = loom_nl_open(&host);
	if (r == 0)
		r = loom_nl_open_netns(fd, &pod);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot open a netlink socket");
	if (check_links(host, pod, c, &prev->ifaces[iface], ns, &cl, err) < 0 ||
	    check_addrs(pod, prev, iface, &cl, err) < 0 || check_routes(pod, prev, cl.name, err) < 0)
		return -1;
	return 0;
}

int loom_br_check(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	int r = -1;

	if (!c)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_br_conf_parse(&ctx->conf, &ctx->args, c, err) == 0)
		r = run(ctx, c, err);
	free(c);
	return r;
}

int loom_br_check_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		       struct loom_err *err)
{
	return run(ctx, c, err);
}
