/* loom-vxlan's config, the lease file, and the loom-bridge config built
 * from both.  The delegate is JSON, not a struct filled by hand, so that
 * loom-bridge and loom-ipam parse and verify it exactly as they would the
 * same config written by a user: one set of rules, one set of messages. */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"

enum kind { K_BOOL, K_STRING, K_MTU };

/* Our keys: type-checked here, copied into the delegate under the same
 * name (dataDir goes to ipam.dataDir, runDir stays ours). */
static const struct {
	const char *key;
	enum kind kind;
} keys[] = {
	{ "bridge", K_STRING },      { "mtu", K_MTU },
	{ "ipMasq", K_BOOL },        { "hairpinMode", K_BOOL },
	{ "isDefaultGateway", K_BOOL }, { "antiSpoof", K_BOOL },
	{ "macspoofchk", K_BOOL },   { "stateDir", K_STRING },
	{ "dataDir", K_STRING },     { "bpfPinDir", K_STRING },
	{ "runDir", K_STRING },
};

/* Members of the runtime's config the delegate keeps as they are. */
static const char *const passed[] = {
	"cniVersion", "name", "dns", "runtimeConfig", "args", "prevResult", "capabilities",
	"cni.dev/valid-attachments", "cni.dev/attachments",
};

static int check_keys(const json_t *root, struct loom_err *err)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *j = loom_json_member(root, keys[i].key);

		if (!j)
			continue;
		switch (keys[i].kind) {
		case K_BOOL:
			if (!json_is_boolean(j))
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "%s: must be a boolean, not %s", keys[i].key,
						    loom_json_kind(j));
			break;
		case K_STRING:
			if (!json_is_string(j) || json_string_length(j) == 0)
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "%s: must be a non-empty string, not %s",
						    keys[i].key, loom_json_kind(j));
			if (json_string_length(j) >= PATH_MAX - 64)
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "%s: longer than %d bytes", keys[i].key,
						    PATH_MAX - 64);
			break;
		case K_MTU:
			if (!json_is_integer(j) || json_integer_value(j) < 68 ||
			    json_integer_value(j) > 65535)
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "mtu: must be an integer in 68..65535");
			break;
		}
	}
	return 0;
}

int loom_vx_conf_parse(const struct loom_netconf *nc, struct loom_vx_conf *out,
		       struct loom_err *err)
{
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!nc || !nc->root || !nc->name)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "name: missing");
	if (nc->ipam)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam: loom-vxlan allocates from the node's subnet in the lease "
				    "file; remove the ipam section (dataDir sets the store)");
	if (check_keys(nc->root, err) < 0)
		return -1;
	snprintf(out->network, sizeof(out->network), "%s", nc->name);
	s = json_string_value(loom_json_member(nc->root, "runDir"));
	snprintf(out->run_dir, sizeof(out->run_dir), "%s", s ? s : LOOM_DEFAULT_RUN_DIR);
	if (out->run_dir[0] != '/')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "runDir: must be an absolute path");
	if (loom_leasefile_path(out->run_dir, out->network, out->lease_path,
				sizeof(out->lease_path)) < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "runDir: too long for the lease file's path");
	s = json_string_value(loom_json_member(nc->root, "stateDir"));
	snprintf(out->state_dir, sizeof(out->state_dir), "%s", s ? s : LOOM_BR_DEFAULT_STATE_DIR);
	return 0;
}

int loom_vx_lease_load(const struct loom_vx_conf *c, struct loom_lease *out,
		       struct loom_err *err)
{
	_cleanup_free_ char *text = NULL;
	int r = loom_leasefile_read(c->lease_path, &text);

	if (r == -ENOENT)
		return loom_err_set(err, LOOM_ERR_TRY_AGAIN,
				    "lease file %s not found: is loomd running on this node?",
				    c->lease_path);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_IO, -r, "cannot read the lease file %s",
				      c->lease_path);
	return loom_lease_parse(text, c->lease_path, out, err);
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
	size_t i;
	int e = 0;

	/* Defaults first; the user's keys below override them. */
	out = json_pack("{s:s, s:s, s:b, s:b, s:b, s:I}", "type", "loom-bridge", "bridge",
			LOOM_VX_DEFAULT_BRIDGE, "isGateway", 1, "isDefaultGateway", 1, "ipMasq",
			l->ipmasq, "mtu", (json_int_t)l->mtu);
	if (!out)
		goto nomem;
	if (!l->mtu)
		json_object_del(out, "mtu");
	for (i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		if ((v = json_object_get(root, passed[i])))
			e |= json_object_set(out, passed[i], v);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!strcmp(keys[i].key, "dataDir") || !strcmp(keys[i].key, "runDir"))
			continue;
		if ((v = loom_json_member(root, keys[i].key)))
			e |= json_object_set(out, keys[i].key, v);
	}
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

	*out = NULL;
	j = loom_vx_bridge_json(&ctx->conf, l, err);
	if (!j)
		return -1;
	d = calloc(1, sizeof(*d));
	if (d)
		d->text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!d || !d->text) {
		if (d)
			free(d);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	}
	d->ctx.env = ctx->env;
	d->ctx.args = ctx->args;
	d->ctx.stdin_buf = d->text;
	d->ctx.stdin_len = strlen(d->text);
	if (loom_netconf_parse(d->text, d->ctx.stdin_len, ctx->env.cmd, &d->ctx.conf, err) < 0) {
		free(d->text);
		free(d);
		return -1;
	}
	if (loom_br_conf_parse(&d->ctx.conf, &d->ctx.args, &d->br, err) < 0) {
		loom_vx_delegate_free(d);
		return -1;
	}
	/* Traffic between pods of the cluster keeps its source: a pod on
	 * another node must see who talks to it (and NetworkPolicy match it). */
	d->br.masq_exempt[d->br.n_masq_exempt++] = l->network;
	if (l->has_ipv6)
		d->br.masq_exempt[d->br.n_masq_exempt++] = l->network6;
	*out = d;
	return 0;
}
