/* CHECK's routed part, after the pod library's (lib/pod/check.c): the
 * gateway neighbours in the pod and a host route of ours to each address
 * over the host end.  The first difference is the error, named
 * precisely. */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"

/* The pod reaches its gateways through static entries naming the host
 * end's MAC (plugin_add.c): without them it reaches nothing. */
static int gateway_neighbours(const struct loom_pod_check *k, struct loom_err *err)
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
			return loom_pod_differs(
				err,
				"%s: the neighbour entry of gateway %s (%s's MAC) is "
				"missing",
				k->cl.name, gw, k->hl.name);
	}
	return 0;
}

static int host_routes(const struct loom_pod_check *k, struct loom_err *err)
{
	struct loom_route_filter f = { .family = AF_UNSPEC,
				       .oif = k->hl.ifindex,
				       .protocol = LOOM_RTPROT };
	_cleanup_free_ struct loom_nl_route *have = NULL;
	char buf[LOOM_IP_STRLEN];
	size_t i;
	int n, m;

	n = loom_route_list(k->host, &f, &have);
	if (n < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -n,
				      "%s: cannot list the host's routes", k->hl.name);
	for (i = 0; i < k->prev->n_ips; i++) {
		const struct loom_ip *ip = &k->prev->ips[i].address.ip;

		if (k->prev->ips[i].iface >= 0 && k->prev->ips[i].iface != k->iface)
			continue;
		for (m = 0; m < n; m++)
			if (have[m].dst.len == loom_ip_bits(ip) && loom_ip_eq(&have[m].dst.ip, ip))
				break;
		if (m == n)
			return loom_pod_differs(err, "host route to %s via %s is missing",
						loom_ip_fmt(ip, buf), k->hl.name);
	}
	return 0;
}

int loom_bgp_check_routed(const struct loom_pod_check *k, struct loom_err *err)
{
	if (gateway_neighbours(k, err) < 0 || host_routes(k, err) < 0)
		return -1;
	return 0;
}

static int check(struct loom_cni_ctx *ctx, const struct loom_bgp_net *n, struct loom_err *err)
{
	return loom_pod_check(ctx, &n->view, err);
}

int loom_bgp_check(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return loom_bgp_run(ctx, false, check, 0, err);
}
