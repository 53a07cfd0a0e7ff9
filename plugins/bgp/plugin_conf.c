/* loom-bgp's config, the lease file, and the typed configs built from
 * both: loom-ipam's over the block, and the pod parts (lease_conf.c), each
 * verified by the rules a user's config meets. */
#include "plugin.h"

#include <stdlib.h>
#include <string.h>

/* Our keys, type-checked before anything reads them. */
static const struct loom_lc_key keys[] = {
	{ "mtu", LOOM_LC_MTU },        { "ipMasq", LOOM_LC_BOOL },
	{ "antiSpoof", LOOM_LC_BOOL }, { "stateDir", LOOM_LC_STRING },
	{ "dataDir", LOOM_LC_STRING }, { "bpfPinDir", LOOM_LC_STRING },
	{ "runDir", LOOM_LC_STRING },
};

int loom_bgp_conf_parse(const struct loom_netconf *nc, struct loom_bgp_conf *out,
			struct loom_err *err)
{
	return loom_lease_conf_parse(nc, keys, sizeof(keys) / sizeof(keys[0]), "loom-bgp", "block",
				     &out->lc, err);
}

int loom_bgp_lease_load(const struct loom_bgp_conf *c, struct loom_lease *out, struct loom_err *err)
{
	return loom_lease_conf_load(&c->lc, out, err);
}

/* The whole block as one range.  loom-ipam never hands out a range's
 * gateway, which defaults to the block's second address: name the network
 * address instead (never handed out anyway), so every host address of the
 * block is a pod's.  A /31, /32, /127 or /128 block has no network address
 * and gets no gateway at all (loom-ipam then uses every address).  No
 * routes: the pod's gateway is link-local (plugin_add.c). */
static void add_block(struct loom_ipam_spec *spec, const struct loom_prefix *block)
{
	struct loom_ipam_spec_range *r = &spec->ranges[spec->n_ranges++];

	r->subnet = *block;
	r->has_gateway = loom_ip_bits(&block->ip) - block->len > 1;
	if (r->has_gateway)
		r->gateway = loom_prefix_first(block);
}

void loom_bgp_net_free(struct loom_bgp_net *n)
{
	free(n);
}

int loom_bgp_net_make(const struct loom_cni_ctx *ctx, bool lenient, struct loom_bgp_net **out,
		      struct loom_err *err)
{
	struct loom_ipam_spec spec = { .n_ranges = 0 };
	struct loom_bgp_net *n;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_bgp_conf_parse(&ctx->conf, &n->conf, err) < 0 ||
	    loom_lease_conf_get(&n->conf.lc, ctx, lenient, &n->lease, err) < 0 ||
	    loom_cni_validate_network_name(n->conf.lc.network, err) < 0 ||
	    loom_lease_pod_parse(ctx, &n->lease, &n->pod, err) < 0)
		goto fail;
	add_block(&spec, &n->lease.subnet);
	if (n->lease.has_ipv6)
		add_block(&spec, &n->lease.subnet6);
	if (loom_lease_conf_ipam(ctx, &spec, &n->ipam, err) < 0)
		goto fail;
	n->topo = (struct loom_pod_topology){
		.veth_prefix = LOOM_BGP_VETH_PREFIX,
		.host_routes = true,
		.check = loom_bgp_check_routed,
	};
	n->client = (struct loom_ipam_client){
		.ctx = ctx,
		.layer3 = true,
		.in_process = true,
		.type = "loom-ipam",
		.conf = &n->ipam,
	};
	n->view = (struct loom_pod_conf){
		.network = n->conf.lc.network,
		.state_dir = n->pod.state_dir,
		.mtu = n->pod.mtu,
		.mac = n->pod.has_mac ? n->pod.mac : NULL,
		.layer3 = true,
		.ip_masq = n->pod.ip_masq,
		.n_masq_exempt = n->pod.n_masq_exempt,
		.masq_exempt = n->pod.masq_exempt,
		.anti_spoof = n->pod.anti_spoof,
		.bpf_pin_dir = n->pod.bpf_pin_dir,
		.topo = &n->topo,
		.ipam = &n->client,
	};
	*out = n;
	return 0;
fail:
	free(n);
	return -1;
}
