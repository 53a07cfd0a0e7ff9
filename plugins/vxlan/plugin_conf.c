/* loom-vxlan's config, the lease file, and the loom-bridge config built
 * from both.  The delegate is JSON, not a struct filled by hand, so that
 * loom-bridge and loom-ipam parse and verify it exactly as they would the
 * same config written by a user: one set of rules, one set of messages. */
#include "plugin.h"

#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"

/* Our keys: type-checked, copied into the delegate under the same name
 * (dataDir goes to ipam.dataDir, runDir stays ours). */
static const struct loom_lc_key keys[] = {
	{ "bridge", LOOM_LC_STRING },      { "mtu", LOOM_LC_MTU },
	{ "ipMasq", LOOM_LC_BOOL },        { "hairpinMode", LOOM_LC_BOOL },
	{ "isDefaultGateway", LOOM_LC_BOOL }, { "antiSpoof", LOOM_LC_BOOL },
	{ "macspoofchk", LOOM_LC_BOOL },   { "stateDir", LOOM_LC_STRING },
	{ "dataDir", LOOM_LC_STRING },     { "bpfPinDir", LOOM_LC_STRING },
	{ "runDir", LOOM_LC_STRING },
};

int loom_vx_conf_parse(const struct loom_netconf *nc, struct loom_vx_conf *out,
		       struct loom_err *err)
{
	return loom_lease_conf_parse(nc, keys, sizeof(keys) / sizeof(keys[0]), "loom-vxlan",
				     "subnet", &out->lc, err);
}

int loom_vx_lease_load(const struct loom_vx_conf *c, struct loom_lease *out,
		       struct loom_err *err)
{
	return loom_lease_conf_load(&c->lc, out, err);
}

/* {"subnet": S, "rangeStart": S+2, "gateway": S+1} as a one-range set. */
static json_t *range_set(const struct loom_prefix *subnet)
{
	char sub[LOOM_PREFIX_STRLEN], gw[LOOM_IP_STRLEN], start[LOOM_IP_STRLEN];
	struct loom_ip ip = loom_prefix_first(subnet);

	loom_prefix_fmt(subnet, sub);
	loom_ip_next(&ip);
	loom_ip_fmt(&ip, gw);
	loom_ip_next(&ip);
	loom_ip_fmt(&ip, start);
	return json_pack("[{s:s, s:s, s:s}]", "subnet", sub, "rangeStart", start, "gateway", gw);
}

static json_t *route_via(const struct loom_prefix *dst, const struct loom_prefix *subnet)
{
	char d[LOOM_PREFIX_STRLEN], gw[LOOM_IP_STRLEN];
	struct loom_ip ip = loom_prefix_first(subnet);

	loom_ip_next(&ip);
	return json_pack("{s:s, s:s}", "dst", loom_prefix_fmt(dst, d), "gw", loom_ip_fmt(&ip, gw));
}

static json_t *ipam_json(const json_t *root, const struct loom_lease *l)
{
	json_t *ipam = json_pack("{s:s, s:[o], s:[o]}", "type", "loom-ipam", "ranges",
				 range_set(&l->subnet), "routes", route_via(&l->network, &l->subnet));
	json_t *dd = loom_json_member(root, "dataDir");

	if (!ipam)
		return NULL;
	if (l->has_ipv6 &&
	    (json_array_append_new(json_object_get(ipam, "ranges"), range_set(&l->subnet6)) < 0 ||
	     json_array_append_new(json_object_get(ipam, "routes"),
				   route_via(&l->network6, &l->subnet6)) < 0))
		goto fail;
	if (dd && json_object_set(ipam, "dataDir", dd) < 0)
		goto fail;
	return ipam;
fail:
	json_decref(ipam);
	return NULL;
}

json_t *loom_vx_bridge_json(const struct loom_netconf *nc, const struct loom_lease *l,
			    struct loom_err *err)
{
	const json_t *root = nc->root;
	json_t *out, *v;
	int e;

	/* Defaults first; the user's keys below override them. */
	out = json_pack("{s:s, s:s, s:b, s:b, s:b, s:I}", "type", "loom-bridge", "bridge",
			LOOM_VX_DEFAULT_BRIDGE, "isGateway", 1, "isDefaultGateway", 1, "ipMasq",
			l->ipmasq, "mtu", (json_int_t)l->mtu);
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
	loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory building the loom-bridge config");
	return NULL;
}

void loom_vx_delegate_free(struct loom_vx_delegate *d)
{
	if (!d)
		return;
	loom_netconf_free(&d->ctx.conf);
	free(d->text);
	free(d);
}

int loom_vx_delegate_make(const struct loom_cni_ctx *ctx, const struct loom_lease *l,
			  struct loom_vx_delegate **out, struct loom_err *err)
{
	struct loom_vx_delegate *d;
	json_t *j;
	int r;

	*out = NULL;
	j = loom_vx_bridge_json(&ctx->conf, l, err);
	if (!j)
		return -1;
	d = calloc(1, sizeof(*d));
	if (!d) {
		json_decref(j);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	r = loom_lease_conf_delegate(ctx, j, l, &d->text, &d->ctx, &d->br, err);
	json_decref(j);
	if (r < 0) {
		free(d);
		return -1;
	}
	*out = d;
	return 0;
}
