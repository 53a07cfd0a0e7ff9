/* loom-bgp's config, the lease file, and the loom-bridge config built from
 * both.  As loom-vxlan does, the delegate is JSON so that loom-bridge and
 * loom-ipam parse and verify it exactly as a user's config: one set of
 * rules and messages.  Only its IPAM, firewall, antiSpoof and record parts
 * are used; its bridge name is never acted on. */
#include "plugin.h"

#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"

/* Our keys: type-checked here; all but dataDir and runDir are copied into
 * the delegate under the same name (dataDir goes to ipam.dataDir). */
static const struct loom_lc_key keys[] = {
	{ "mtu", LOOM_LC_MTU },	      { "ipMasq", LOOM_LC_BOOL },	  { "antiSpoof", LOOM_LC_BOOL },
	{ "stateDir", LOOM_LC_STRING }, { "dataDir", LOOM_LC_STRING }, { "bpfPinDir", LOOM_LC_STRING },
	{ "runDir", LOOM_LC_STRING },
};

int loom_bgp_conf_parse(const struct loom_netconf *nc, struct loom_bgp_conf *out,
			struct loom_err *err)
{
	return loom_lease_conf_parse(nc, keys, sizeof(keys) / sizeof(keys[0]), "loom-bgp",
				     "block", &out->lc, err);
}

int loom_bgp_lease_load(const struct loom_bgp_conf *c, struct loom_lease *out,
			struct loom_err *err)
{
	return loom_lease_conf_load(&c->lc, out, err);
}

/* The whole block as one range.  loom-ipam never hands out a range's
 * gateway, which defaults to the block's second address: name the network
 * address instead (never handed out anyway), so every host address of the
 * block is a pod's.  A /31, /32, /127 or /128 block has no network address
 * and gets no gateway at all (loom-ipam then uses every address). */
static json_t *range_set(const struct loom_prefix *block)
{
	char sub[LOOM_PREFIX_STRLEN], gw[LOOM_IP_STRLEN];
	struct loom_ip first = loom_prefix_first(block);

	loom_prefix_fmt(block, sub);
	if (loom_ip_bits(&block->ip) - block->len <= 1)
		return json_pack("[{s:s}]", "subnet", sub);
	return json_pack("[{s:s, s:s}]", "subnet", sub, "gateway", loom_ip_fmt(&first, gw));
}

static json_t *ipam_json(const json_t *root, const struct loom_lease *l)
{
	json_t *ipam = json_pack("{s:s, s:[o]}", "type", "loom-ipam", "ranges", range_set(&l->subnet));
	json_t *dd = loom_json_member(root, "dataDir");

	if (!ipam)
		return NULL;
	if (l->has_ipv6 &&
	    json_array_append_new(json_object_get(ipam, "ranges"), range_set(&l->subnet6)) < 0)
		goto fail;
	if (dd && json_object_set(ipam, "dataDir", dd) < 0)
		goto fail;
	return ipam;
fail:
	json_decref(ipam);
	return NULL;
}

json_t *loom_bgp_delegate_json(const struct loom_netconf *nc, const struct loom_lease *l,
			       struct loom_err *err)
{
	const json_t *root = nc->root;
	json_t *out, *v;
	int e;

	/* Defaults first; the user's keys below override them.  No
	 * isGateway: the pod's gateway is link-local, not in the block. */
	out = json_pack("{s:s, s:b, s:I}", "type", "loom-bridge", "ipMasq", l->ipmasq, "mtu",
			(json_int_t)l->mtu);
	if (!out)
		goto nomem;
	if (!l->mtu)
		json_object_del(out, "mtu");
	e = loom_lease_conf_copy(out, root, keys, sizeof(keys) / sizeof(keys[0]));
	v = ipam_json(root, l);
	e |= v ? json_object_set_new(out, "ipam", v) : -1;
	if (!e)
		return out;
	json_decref(out);
nomem:
	loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory building the delegate config");
	return NULL;
}

void loom_bgp_delegate_free(struct loom_bgp_delegate *d)
{
	if (!d)
		return;
	loom_netconf_free(&d->ctx.conf);
	free(d->text);
	free(d);
}

int loom_bgp_delegate_make(const struct loom_cni_ctx *ctx, bool lenient,
			   struct loom_bgp_delegate **out, struct loom_err *err)
{
	struct loom_bgp_conf bc;
	struct loom_bgp_delegate *d;
	json_t *j;
	int r;

	*out = NULL;
	if (loom_bgp_conf_parse(&ctx->conf, &bc, err) < 0)
		return -1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_lease_conf_get(&bc.lc, ctx, lenient, &d->lease, err) < 0) {
		free(d);
		return -1;
	}
	j = loom_bgp_delegate_json(&ctx->conf, &d->lease, err);
	if (!j) {
		free(d);
		return -1;
	}
	r = loom_lease_conf_delegate(ctx, j, &d->lease, &d->text, &d->ctx, &d->br, err);
	json_decref(j);
	if (r < 0) {
		free(d);
		return -1;
	}
	loom_br_view_init(&d->view, &d->ctx, &d->br, NULL);
	d->view.topo = (struct loom_pod_topology){
		.veth_prefix = LOOM_BGP_VETH_PREFIX,
		.host_routes = true,
		.check = loom_bgp_check_routed,
	};
	*out = d;
	return 0;
}
