/* The lease file and the typed configs built from it, as loom-vxlan and
 * loom-bgp both use them (lease_conf.h). */
#include "lease_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json_util.h"

/* TEST-NET-1: a well-formed subnet for a DEL or GC whose ranges nobody
 * reads (loom-ipam releases by container ID). */
static const char STANDIN_SUBNET[] = "192.0.2.0/24";

static int check_keys(const json_t *root, const struct loom_lc_key *keys, size_t n,
		      struct loom_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *j = loom_json_member(root, keys[i].key);

		if (!j)
			continue;
		switch (keys[i].kind) {
		case LOOM_LC_BOOL:
			if (!json_is_boolean(j))
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "%s: must be a boolean, not %s", keys[i].key,
						    loom_json_kind(j));
			break;
		case LOOM_LC_STRING:
			if (!json_is_string(j) || json_string_length(j) == 0)
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "%s: must be a non-empty string, not %s",
						    keys[i].key, loom_json_kind(j));
			if (json_string_length(j) >= PATH_MAX - 64)
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "%s: longer than %d bytes", keys[i].key,
						    PATH_MAX - 64);
			break;
		case LOOM_LC_MTU:
			if (!json_is_integer(j) || json_integer_value(j) < 68 ||
			    json_integer_value(j) > 65535)
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "mtu: must be an integer in 68..65535");
			break;
		}
	}
	return 0;
}

int loom_lease_conf_parse(const struct loom_netconf *nc, const struct loom_lc_key *keys,
			  size_t n_keys, const char *plugin, const char *range,
			  struct loom_lease_conf *out, struct loom_err *err)
{
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!nc || !nc->root || !nc->name)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "name: missing");
	if (nc->ipam)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam: %s allocates from the node's %s in the lease "
				    "file; remove the ipam section (dataDir sets the store)",
				    plugin, range);
	if (check_keys(nc->root, keys, n_keys, err) < 0)
		return -1;
	snprintf(out->network, sizeof(out->network), "%s", nc->name);
	s = json_string_value(loom_json_member(nc->root, "runDir"));
	snprintf(out->run_dir, sizeof(out->run_dir), "%s", s ? s : LOOM_DEFAULT_RUN_DIR);
	if (out->run_dir[0] != '/')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "runDir: must be an absolute path");
	if (loom_leasefile_path(out->run_dir, out->network, out->lease_path,
				sizeof(out->lease_path)) < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "runDir: too long for the lease file's path");
	s = json_string_value(loom_json_member(nc->root, "stateDir"));
	snprintf(out->state_dir, sizeof(out->state_dir), "%s", s ? s : LOOM_POD_DEFAULT_STATE_DIR);
	return 0;
}

int loom_lease_conf_load(const struct loom_lease_conf *c, struct loom_lease *out,
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

static void standin_lease(struct loom_lease *l)
{
	memset(l, 0, sizeof(*l));
	loom_prefix_parse(STANDIN_SUBNET, &l->subnet);
	l->network = l->subnet;
	/* Without a record, DEL purges firewall elements by their comment
	 * only when ipMasq is on. */
	l->ipmasq = true;
}

/* The lease an ADD of this attachment saw, as far as its record tells:
 * the record keeps each address with its subnet's length and the cluster
 * CIDRs it exempted from masquerading. */
static void lease_from_record(const struct loom_endpoint_record *rec, struct loom_lease *l)
{
	bool have4 = false;
	size_t i;

	standin_lease(l);
	for (i = 0; i < rec->n_ips; i++) {
		struct loom_prefix sub = { .ip = loom_prefix_first(&rec->ips[i]),
					   .len = rec->ips[i].len };

		if (sub.ip.family == AF_INET && !have4) {
			l->subnet = l->network = sub;
			have4 = true;
		} else if (sub.ip.family == AF_INET6 && !l->has_ipv6) {
			l->subnet6 = l->network6 = sub;
			l->has_ipv6 = true;
		}
	}
	for (i = 0; i < rec->n_masq_exempt; i++) {
		const struct loom_prefix *p = &rec->masq_exempt[i];

		if (p->ip.family == AF_INET && have4 && loom_prefix_contains(p, &l->subnet.ip))
			l->network = *p;
		else if (p->ip.family == AF_INET6 && l->has_ipv6 &&
			 loom_prefix_contains(p, &l->subnet6.ip))
			l->network6 = *p;
	}
	l->ipmasq = rec->masq;
}

int loom_lease_conf_get(const struct loom_lease_conf *c, const struct loom_cni_ctx *ctx,
			bool lenient, struct loom_lease *out, struct loom_err *err)
{
	struct loom_endpoint_record *rec;
	struct loom_err ignored;

	if (loom_lease_conf_load(c, out, lenient ? &ignored : err) == 0)
		return 0;
	if (!lenient)
		return -1;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (ctx->env.container_id && ctx->env.ifname &&
	    loom_endpoint_record_read(c->state_dir, c->network, ctx->env.container_id,
				      ctx->env.ifname, rec, &ignored) == 0)
		lease_from_record(rec, out);
	else
		standin_lease(out);
	free(rec);
	return 0;
}

bool loom_lease_conf_bool(const struct loom_netconf *nc, const char *key, bool dflt)
{
	json_t *j = loom_json_member(nc->root, key);

	return j ? json_is_true(j) : dflt;
}

int loom_lease_pod_parse(const struct loom_cni_ctx *ctx, const struct loom_lease *l,
			 struct loom_lease_pod *out, struct loom_err *err)
{
	const struct loom_netconf *nc = &ctx->conf;
	json_t *mtu = loom_json_member(nc->root, "mtu");

	memset(out, 0, sizeof(*out));
	/* The order loom-bridge's parser met them in, when these plugins
	 * handed it their config as JSON: the same first error. */
	if (loom_pod_conf_mac(nc, &ctx->args, &out->has_mac, out->mac, out->mac_from, err) < 0 ||
	    loom_pod_conf_dns(nc, &out->has_dns, &out->dns, err) < 0 ||
	    loom_pod_conf_dirs(nc->root, out->state_dir, out->bpf_pin_dir, err) < 0)
		return -1;
	/* Range-checked by loom_lease_conf_parse and the lease's parser. */
	out->mtu = mtu ? (uint32_t)json_integer_value(mtu) : l->mtu;
	out->ip_masq = loom_lease_conf_bool(nc, "ipMasq", l->ipmasq);
	out->anti_spoof = loom_lease_conf_bool(nc, "antiSpoof", true);
	out->masq_exempt[out->n_masq_exempt++] = l->network;
	if (l->has_ipv6)
		out->masq_exempt[out->n_masq_exempt++] = l->network6;
	if (out->has_mac && loom_pod_mac_verify(out->mac, out->mac_from, err) < 0)
		return -1;
	return 0;
}

int loom_lease_conf_ipam(const struct loom_cni_ctx *ctx, struct loom_ipam_spec *spec,
			 struct loom_ipam_conf *out, struct loom_err *err)
{
	spec->data_dir = json_string_value(loom_json_member(ctx->conf.root, "dataDir"));
	return loom_ipam_conf_build(&ctx->conf, &ctx->args, spec, out, err);
}
