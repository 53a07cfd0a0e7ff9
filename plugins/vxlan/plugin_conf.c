/* loom-vxlan's config, the lease file, and the loom-bridge and loom-ipam
 * configs built from both: typed structs filled from our keys and the
 * lease, then verified by loom-bridge's and loom-ipam's own rules (one set
 * of rules, one set of messages for a user's config and ours). */
#include "plugin.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

/* Our keys, type-checked before anything reads them. */
static const struct loom_lc_key keys[] = {
	{ "bridge", LOOM_LC_STRING },         { "mtu", LOOM_LC_MTU },
	{ "ipMasq", LOOM_LC_BOOL },           { "hairpinMode", LOOM_LC_BOOL },
	{ "isDefaultGateway", LOOM_LC_BOOL }, { "antiSpoof", LOOM_LC_BOOL },
	{ "macspoofchk", LOOM_LC_BOOL },      { "stateDir", LOOM_LC_STRING },
	{ "dataDir", LOOM_LC_STRING },        { "bpfPinDir", LOOM_LC_STRING },
	{ "runDir", LOOM_LC_STRING },
};

int loom_vx_conf_parse(const struct loom_netconf *nc, struct loom_vx_conf *out,
		       struct loom_err *err)
{
	return loom_lease_conf_parse(nc, keys, sizeof(keys) / sizeof(keys[0]), "loom-vxlan",
				     "subnet", &out->lc, err);
}

int loom_vx_lease_load(const struct loom_vx_conf *c, struct loom_lease *out, struct loom_err *err)
{
	return loom_lease_conf_load(&c->lc, out, err);
}

/* The node subnet from S+2 with S+1 as gateway (S+0 is the VXLAN
 * device's, flannel's convention), and the cluster CIDR via S+1. */
static void add_range(struct loom_ipam_spec *spec, const struct loom_prefix *subnet,
		      const struct loom_prefix *network)
{
	struct loom_ipam_spec_range *r = &spec->ranges[spec->n_ranges++];
	struct loom_route *rt = &spec->routes[spec->n_routes++];

	r->subnet = *subnet;
	r->gateway = loom_prefix_first(subnet);
	loom_ip_next(&r->gateway);
	r->has_gateway = true;
	r->start = r->gateway;
	loom_ip_next(&r->start);
	r->has_start = true;
	memset(rt, 0, sizeof(*rt));
	rt->dst = *network;
	rt->gw = r->gateway;
	rt->has_gw = true;
	rt->scope = -1;
}

/* The loom-bridge config: "loom0", gateway and default gateway, in-process
 * loom-ipam; the user's keys over the lease's defaults. */
static int bridge_conf(const struct loom_cni_ctx *ctx, const struct loom_lease *l,
		       struct loom_br_conf *c, struct loom_err *err)
{
	const struct loom_netconf *nc = &ctx->conf;
	struct loom_lease_pod *p = malloc(sizeof(*p));
	int r = -1;

	if (!p)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_br_conf_init(nc->name, c, err) < 0 ||
	    loom_br_conf_bridge(nc->root, LOOM_VX_DEFAULT_BRIDGE, c, err) < 0 ||
	    loom_lease_pod_parse(ctx, l, p, err) < 0)
		goto out;
	c->is_gw = true;
	c->is_default_gw = loom_lease_conf_bool(nc, "isDefaultGateway", true);
	c->hairpin = loom_lease_conf_bool(nc, "hairpinMode", false);
	c->spoofchk = loom_lease_conf_bool(nc, "macspoofchk", false);
	c->ip_masq = p->ip_masq;
	c->anti_spoof = p->anti_spoof;
	c->mtu = p->mtu;
	c->has_mac = p->has_mac;
	memcpy(c->mac, p->mac, sizeof(c->mac));
	memcpy(c->mac_from, p->mac_from, sizeof(c->mac_from));
	c->has_dns = p->has_dns;
	c->dns = p->dns;
	memcpy(c->state_dir, p->state_dir, sizeof(c->state_dir));
	memcpy(c->bpf_pin_dir, p->bpf_pin_dir, sizeof(c->bpf_pin_dir));
	c->layer3 = true;
	c->ipam_in_process = true;
	snprintf(c->ipam_type, sizeof(c->ipam_type), "loom-ipam");
	c->n_masq_exempt = p->n_masq_exempt;
	memcpy(c->masq_exempt, p->masq_exempt, sizeof(c->masq_exempt));
	r = loom_br_conf_verify(c, err);
out:
	free(p);
	return r;
}

void loom_vx_net_free(struct loom_vx_net *n)
{
	free(n);
}

int loom_vx_net_make(const struct loom_cni_ctx *ctx, const struct loom_lease *l,
		     struct loom_vx_net **out, struct loom_err *err)
{
	struct loom_ipam_spec spec = { .n_ranges = 0 };
	struct loom_vx_net *n;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	add_range(&spec, &l->subnet, &l->network);
	if (l->has_ipv6)
		add_range(&spec, &l->subnet6, &l->network6);
	if (bridge_conf(ctx, l, &n->br, err) < 0 ||
	    loom_lease_conf_ipam(ctx, &spec, &n->ipam, err) < 0) {
		free(n);
		return -1;
	}
	*out = n;
	return 0;
}
