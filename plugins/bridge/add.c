/* ADD: bridge, then the pod library's steps (IPAM beside the veth pair,
 * antiSpoof, the firewall, the endpoint record) around the bridge's own:
 * the port's flags and VLANs, the gateway calculation, the pod's
 * addresses and routes, the gateway on the bridge, forwarding; then the
 * result.
 *
 * A failure anywhere unwinds to the state before the ADD (the bridge, its
 * gateway address and forwarding stay: they are shared by every pod of the
 * network and were idempotent to make). */
#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The interfaces' indices in the result. */
#define IFACE_BRIDGE 0
#define IFACE_HOST 1
#define IFACE_CONTAINER 2

struct job {
	const struct loom_br_conf *c;
	struct loom_pod_attach *a;
	struct loom_link br;
};

static int bridge_setup(struct job *j, struct loom_err *err)
{
	const struct loom_br_conf *c = j->c;
	struct loom_bridge_conf bc = { .mtu = c->mtu, .vlan_filtering = c->vlan || c->n_trunk };
	int r;

	r = loom_bridge_ensure(j->a->host, c->bridge, &bc, &j->br);
	if (r == -EOPNOTSUPP && bc.vlan_filtering)
		return loom_err_set(err, LOOM_ERR_UNSUPPORTED_FIELD,
				    "%s: this kernel's bridge has no VLAN filtering "
				    "(CONFIG_BRIDGE_VLAN_FILTERING), which %s needs",
				    c->vlan ? "vlan" : "vlanTrunk", c->vlan ? "vlan" : "vlanTrunk");
	if (r == -EEXIST)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "bridge: %s already exists and is not a bridge", c->bridge);
	if (r < 0)
		return loom_pod_nl_err(err, j->a->host, r, "bridge: cannot create %s", c->bridge);
	if (c->promisc && !(j->br.flags & IFF_PROMISC)) {
		r = loom_link_set_promisc(j->a->host, j->br.ifindex, true);
		if (r < 0)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
					      "promiscMode: cannot set %s promiscuous", c->bridge);
	}
	/* The bridge's IPv6 routes are ours to set, not a router's to
	 * advertise (as the reference); a kernel without IPv6 has no key. */
	loom_sysctl_write_if(AF_INET6, c->bridge, "accept_ra", "0");
	return 0;
}

/* The reference's calcGateways: every address belongs to the container
 * interface; with isGateway an address without a gateway gets its subnet's
 * first host; with isDefaultGateway each family gets a default route via
 * its gateway unless IPAM already gave one. */
static int shape_ipam(struct job *j, struct loom_err *err)
{
	struct loom_result *r = &j->a->ipam;
	const struct loom_br_conf *c = j->c;
	bool have_default[2] = { false, false };
	size_t i, k;

	for (i = 0; i < r->n_ips; i++) {
		struct loom_result_ip *ip = &r->ips[i];
		int fam = ip->address.ip.family == AF_INET6;

		ip->iface = IFACE_CONTAINER;
		if (!ip->has_gateway && c->is_gw) {
			ip->gateway = loom_prefix_first(&ip->address);
			loom_ip_next(&ip->gateway);
			ip->has_gateway = true;
		}
		if (!c->is_default_gw || have_default[fam])
			continue;
		for (k = 0; k < r->n_routes; k++)
			if (r->routes[k].dst.len == 0 && r->routes[k].has_gw &&
			    r->routes[k].dst.ip.family == ip->address.ip.family)
				have_default[fam] = true;
		if (have_default[fam])
			continue;
		if (r->n_routes >= LOOM_RESULT_MAX_ROUTES)
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"isDefaultGateway: IPAM returned %d routes, no room for the "
				"default route",
				LOOM_RESULT_MAX_ROUTES);
		memset(&r->routes[r->n_routes], 0, sizeof(r->routes[0]));
		r->routes[r->n_routes].dst.ip.family = ip->address.ip.family;
		r->routes[r->n_routes].has_gw = true;
		r->routes[r->n_routes].gw = ip->gateway;
		r->routes[r->n_routes].scope = -1;
		r->n_routes++;
		have_default[fam] = true;
	}
	return 0;
}

static int gateways(struct job *j, struct loom_err *err)
{
	bool fwd[2] = { false, false };
	size_t i;

	for (i = 0; i < j->a->ipam.n_ips; i++) {
		const struct loom_result_ip *ip = &j->a->ipam.ips[i];
		struct loom_prefix gw;

		if (!ip->has_gateway)
			continue;
		gw.ip = ip->gateway;
		gw.len = ip->address.len;
		if (loom_br_gateway_ensure(j->a->host, &j->br, &gw, j->c->force_address, err) < 0)
			return -1;
		fwd[ip->address.ip.family == AF_INET6] = true;
	}
	return loom_pod_forwarding_enable(fwd, err);
}

static void fill_result(struct job *j, struct loom_result *res)
{
	struct loom_result_iface *f;
	char buf[LOOM_MAC_STRLEN];

	loom_result_init(res);
	res->n_ips = j->a->ipam.n_ips;
	memcpy(res->ips, j->a->ipam.ips, sizeof(res->ips[0]) * res->n_ips);
	res->n_routes = j->a->ipam.n_routes;
	memcpy(res->routes, j->a->ipam.routes, sizeof(res->routes[0]) * res->n_routes);
	res->dns = j->c->has_dns ? j->c->dns : j->a->ipam.dns;

	res->n_ifaces = 3;
	f = &res->ifaces[IFACE_BRIDGE];
	snprintf(f->name, sizeof(f->name), "%s", j->br.name);
	if (j->br.mac_len == LOOM_MAC_LEN)
		snprintf(f->mac, sizeof(f->mac), "%s", loom_mac_fmt(j->br.mac, buf));
	f = &res->ifaces[IFACE_HOST];
	snprintf(f->name, sizeof(f->name), "%s", j->a->veth.name);
	if (j->a->veth.mac_len == LOOM_MAC_LEN)
		snprintf(f->mac, sizeof(f->mac), "%s", loom_mac_fmt(j->a->veth.mac, buf));
	f = &res->ifaces[IFACE_CONTAINER];
	snprintf(f->name, sizeof(f->name), "%s", j->a->ctx->env.ifname);
	snprintf(f->mac, sizeof(f->mac), "%s", j->a->mac_str);
	snprintf(f->sandbox, sizeof(f->sandbox), "%s", j->a->ctx->env.netns);
}

static int port(struct loom_pod_attach *a, void *arg, struct loom_err *err)
{
	const struct job *j = arg;

	return loom_br_port_setup(a->host, j->c, &a->veth, err);
}

static int run(struct job *j, struct loom_err *err)
{
	const struct loom_br_conf *c = j->c;
	struct loom_pod_attach *a = j->a;
	int r;

	/* The reference gives a VLAN's gateway an interface of its own (a
	 * veth named "<bridge>.<vlan>"); loom does not make one. */
	if (c->vlan && c->is_gw)
		return loom_err_set(err, LOOM_ERR_UNSUPPORTED_FIELD,
				    "vlan: a gateway on a VLAN (vlan with isGateway) is not "
				    "available in loom-bridge");
	if (loom_pod_open(a, err) < 0 || bridge_setup(j, err) < 0 ||
	    loom_pod_ipam_and_veth(a, j->br.ifindex, port, j, err) < 0)
		return -1;
	if (c->layer3 && (shape_ipam(j, err) < 0 || loom_pod_antispoof(a, err) < 0))
		return -1;
	if (loom_pod_iface_configure(a->pod, a->netns_fd, a->conf, a->ctx->env.ifname, a->veth.link,
				     &a->ipam, IFACE_CONTAINER, err) < 0)
		return -1;
	if (c->is_gw && gateways(j, err) < 0)
		return -1;
	if (loom_pod_firewall(a, err) < 0)
		return -1;
	/* The bridge's MAC may have changed as the port joined or the gateway
	 * was set: report the one it has now. */
	r = loom_link_get_index(a->host, j->br.ifindex, &j->br);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "bridge: cannot look up %s",
				      c->bridge);
	return loom_pod_record(a, c->bridge, err);
}

int loom_br_add_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     const struct loom_ipam_conf *ic, struct loom_result *res, struct loom_err *err)
{
	struct loom_br_view v;
	struct job j = { .c = c };
	int r;

	loom_br_view_init(&v, ctx, c, ic);
	j.a = loom_pod_attach_new(ctx, &v.pod);
	if (!j.a)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	r = run(&j, err);
	if (r == 0)
		fill_result(&j, res);
	return loom_pod_attach_end(j.a, r, err);
}

int loom_br_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	int r = -1;

	if (!c)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_br_conf_parse(&ctx->conf, &ctx->args, c, err) == 0)
		r = loom_br_add_conf(ctx, c, NULL, res, err);
	free(c);
	return r;
}
