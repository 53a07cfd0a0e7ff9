/* ADD: IPAM, the veth pair, antiSpoof, the pod's addresses, gateway
 * neighbours and routes, the host routes, the firewall, the endpoint
 * record; then the result.
 *
 * The pod library's steps (lib/pod/attach.c) around the routed topology's
 * own.  Each step that changes something pushes its undo before the next
 * runs, so a failure anywhere unwinds to the state before the ADD.  Forwarding stays on: it is the node's, shared by every
 * pod, and idempotent to set.
 *
 * The gateway (169.254.1.1, fe80::1) is answered by a permanent neighbour
 * entry in the pod naming the host veth's MAC, not by proxy ARP/NDP on the
 * host.  Why: proxy_arp only answers when the host has a route towards
 * 169.254.1.1 out of another interface (none on a node without a default
 * route) and delays answers by proxy_delay; proxy_ndp needs a proxy entry
 * per address; both are host sysctls per veth.  A static entry is one
 * request, is gone with the pod's netns, and no ARP or NDP ever crosses the
 * veth for the gateway.  The host side gets the same for the pod's
 * addresses (its MAC is ours to choose), so the host needs no address of
 * its own on the veth to resolve the pod either. */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

/* Indices into the result's interfaces. */
#define IFACE_HOST 0
#define IFACE_CONTAINER 1

struct job {
	const struct loom_bgp_net *n;
	struct loom_pod_attach *a;
	struct loom_result pod_res; /* what the pod gets: /32, /128, gateway routes */
	size_t n_routes;            /* host routes installed */
};

static void host_route(const struct job *j, size_t i, struct loom_nl_route *nr)
{
	memset(nr, 0, sizeof(*nr));
	nr->dst.ip = j->a->ips[i].ip;
	nr->dst.len = (uint8_t)loom_ip_bits(&j->a->ips[i].ip);
	nr->oif = j->a->veth.ifindex;
	nr->protocol = LOOM_RTPROT;
	nr->scope = RT_SCOPE_LINK;
}

/* The veth's deletion takes its routes along; this covers a failure after
 * the routes but before the veth's own undo is reached. */
static int undo_routes(void *arg, struct loom_err *why)
{
	struct job *j = arg;
	struct loom_nl_route nr;
	size_t i;
	int r;

	for (i = 0; i < j->n_routes; i++) {
		host_route(j, i, &nr);
		r = loom_route_del(j->a->host, &nr, true);
		if (r < 0 && r != -ENODEV)
			return loom_err_errno(why, LOOM_ERR_INTERNAL, -r,
					      "cannot delete the route to %s", "the pod");
	}
	return 0;
}

static void add_route(struct loom_result *r, const char *dst, const char *gw, int scope)
{
	struct loom_route *rt = &r->routes[r->n_routes++];

	memset(rt, 0, sizeof(*rt));
	loom_prefix_parse(dst, &rt->dst);
	rt->scope = scope;
	if (gw) {
		rt->has_gw = loom_ip_parse(gw, &rt->gw) == 0;
	}
}

/* IPAM's addresses as host addresses, the on-link route to the IPv4
 * gateway and a default route per family. */
static void shape_pod_result(struct job *j)
{
	struct loom_result *r = &j->pod_res;
	bool fam[2] = { false, false };
	size_t i;

	loom_result_init(r);
	r->n_ips = j->a->ipam.n_ips;
	for (i = 0; i < r->n_ips; i++) {
		r->ips[i].address = j->a->ips[i];
		r->ips[i].address.len = (uint8_t)loom_ip_bits(&j->a->ips[i].ip);
		r->ips[i].iface = IFACE_CONTAINER;
		fam[j->a->ips[i].ip.family == AF_INET6] = true;
	}
	if (fam[0]) {
		add_route(r, LOOM_BGP_GW4 "/32", NULL, RT_SCOPE_LINK);
		add_route(r, "0.0.0.0/0", LOOM_BGP_GW4, -1);
	}
	if (fam[1])
		add_route(r, "::/0", LOOM_BGP_GW6, -1);
	r->dns = j->n->pod.has_dns ? j->n->pod.dns : j->a->ipam.dns;
}

/* See the top of the file for why these are static entries. */
static int neighbours(struct job *j, struct loom_err *err)
{
	char buf[LOOM_PREFIX_STRLEN];
	struct loom_ip gw;
	size_t i;
	int r;

	for (i = 0; i < j->a->ipam.n_ips; i++) {
		bool v6 = j->a->ips[i].ip.family == AF_INET6;

		loom_ip_parse(v6 ? LOOM_BGP_GW6 : LOOM_BGP_GW4, &gw);
		r = loom_neigh_add(j->a->pod, j->a->veth.link, &gw, j->a->veth.mac);
		if (r < 0)
			return loom_pod_nl_err(err, j->a->pod, r,
					       "cannot add the gateway neighbour in the pod for %s",
					       v6 ? LOOM_BGP_GW6 : LOOM_BGP_GW4);
		r = loom_neigh_add(j->a->host, j->a->veth.ifindex, &j->a->ips[i].ip, j->a->mac);
		if (r < 0)
			return loom_pod_nl_err(err, j->a->host, r,
					       "cannot add the pod's neighbour entry for %s",
					       loom_prefix_fmt(&j->a->ips[i], buf));
	}
	return 0;
}

static int host_routes(struct job *j, struct loom_err *err)
{
	bool fwd[2] = { false, false };
	struct loom_nl_route nr;
	char buf[LOOM_PREFIX_STRLEN];
	size_t i;
	int r;

	if (loom_pod_undo_push(&j->a->undo, undo_routes, j, "delete the host routes", err) < 0)
		return -1;
	for (i = 0; i < j->a->ipam.n_ips; i++) {
		host_route(j, i, &nr);
		/* IPAM just gave us the address: a route to it is a stale one. */
		r = loom_route_add(j->a->host, &nr, LOOM_ROUTE_REPLACE);
		if (r < 0)
			return loom_pod_nl_err(err, j->a->host, r,
					       "cannot add the host route to %s",
					       loom_prefix_fmt(&nr.dst, buf));
		j->n_routes = i + 1;
		fwd[nr.dst.ip.family == AF_INET6] = true;
	}
	return loom_pod_forwarding_enable(fwd, err);
}

static void fill_result(struct job *j, struct loom_result *res)
{
	struct loom_result_iface *f;

	*res = j->pod_res;
	res->n_ifaces = 2;
	f = &res->ifaces[IFACE_HOST];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", j->a->veth.name);
	loom_mac_fmt(j->a->veth.mac, f->mac);
	f = &res->ifaces[IFACE_CONTAINER];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", j->a->ctx->env.ifname);
	snprintf(f->mac, sizeof(f->mac), "%s", j->a->mac_str);
	snprintf(f->sandbox, sizeof(f->sandbox), "%s", j->a->ctx->env.netns);
}

/* Routes to pods are ours to set, not a router's to advertise. */
static int no_ra(struct loom_pod_attach *a, void *arg, struct loom_err *err)
{
	(void)arg;
	(void)err;
	loom_sysctl_write_if(AF_INET6, a->veth.name, "accept_ra", "0");
	return 0;
}

static int run(struct job *j, struct loom_err *err)
{
	struct loom_pod_attach *a = j->a;

	if (loom_pod_open(a, err) < 0 || loom_pod_ipam_and_veth(a, 0, no_ra, NULL, err) < 0 ||
	    loom_pod_antispoof(a, err) < 0)
		return -1;
	shape_pod_result(j);
	if (loom_pod_iface_configure(a->pod, a->netns_fd, a->conf, a->ctx->env.ifname, a->veth.link,
				     &j->pod_res, IFACE_CONTAINER, err) < 0 ||
	    neighbours(j, err) < 0 || host_routes(j, err) < 0 || loom_pod_firewall(a, err) < 0)
		return -1;
	return loom_pod_record(a, NULL, err);
}

int loom_bgp_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err)
{
	struct loom_bgp_net *d;
	struct job *j;
	int r;

	if (loom_bgp_net_make(ctx, false, &d, err) < 0)
		return -1;
	/* A result-sized table: heap, not stack. */
	j = calloc(1, sizeof(*j));
	if (j)
		j->a = loom_pod_attach_new(ctx, &d->view);
	if (!j || !j->a) {
		free(j);
		loom_bgp_net_free(d);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	j->n = d;
	r = run(j, err);
	if (r == 0)
		fill_result(j, res);
	loom_pod_attach_end(j->a, r, err);
	free(j);
	loom_bgp_net_free(d);
	return r;
}
