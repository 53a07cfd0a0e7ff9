/* loom-bgp's config, the lease file, and the loom-bridge config built from
 * both.  As loom-vxlan does, the delegate is JSON so that loom-bridge and
 * loom-ipam parse and verify it exactly as a user's config: one set of
 * rules and messages.  Only its IPAM, firewall, antiSpoof and record parts
 * are used; its bridge name is never acted on. */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"

enum kind { K_BOOL, K_STRING, K_MTU };

/* Our keys: type-checked here; all but dataDir and runDir are copied into
 * the delegate under the same name (dataDir goes to ipam.dataDir). */
static const struct {
	const char *key;
	enum kind kind;
} keys[] = {
	{ "mtu", K_MTU },	      { "ipMasq", K_BOOL },	  { "antiSpoof", K_BOOL },
	{ "stateDir", K_STRING }, { "dataDir", K_STRING }, { "bpfPinDir", K_STRING },
	{ "runDir", K_STRING },
};

/* Members of the runtime's config the delegate keeps as they are. */
static const char *const passed[] = {
	"cniVersion", "name", "dns", "runtimeConfig", "args", "prevResult", "capabilities",
	"cni.dev/valid-attachments", "cni.dev/attachments",
};

/* TEST-NET-1: a well-formed block for a DEL or GC whose ranges nobody
 * reads (loom-ipam releases by container ID). */
static const char STANDIN_SUBNET[] = "192.0.2.0/24";

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

int loom_bgp_conf_parse(const struct loom_netconf *nc, struct loom_bgp_conf *out,
			struct loom_err *err)
{
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!nc || !nc->root || !nc->name)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "name: missing");
	if (nc->ipam)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam: loom-bgp allocates from the node's block in the lease "
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

int loom_bgp_lease_load(const struct loom_bgp_conf *c, struct loom_lease *out,
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
	size_t i;
	int e = 0;

	/* Defaults first; the user's keys below override them.  No
	 * isGateway: the pod's gateway is link-local, not in the block. */
	out = json_pack("{s:s, s:b, s:I}", "type", "loom-bridge", "ipMasq", l->ipmasq, "mtu",
			(json_int_t)l->mtu);
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
	loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory building the delegate config");
	return NULL;
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
 * the record keeps each address with its block's length and the cluster
 * CIDRs it exempted from masquerading. */
static void lease_from_record(const struct loom_br_record *rec, struct loom_lease *l)
{
	bool have4 = false;
	size_t i;

	standin_lease(l);
	for (i = 0; i < rec->n_ips; i++) {
		struct loom_prefix blk = { .ip = loom_prefix_first(&rec->ips[i]),
					   .len = rec->ips[i].len };

		if (blk.ip.family == AF_INET && !have4) {
			l->subnet = l->network = blk;
			have4 = true;
		} else if (blk.ip.family == AF_INET6 && !l->has_ipv6) {
			l->subnet6 = l->network6 = blk;
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

static int lease_get(const struct loom_cni_ctx *ctx, bool lenient, struct loom_lease *out,
		     struct loom_err *err)
{
	struct loom_bgp_conf bc;
	struct loom_br_record *rec;
	struct loom_err ignored;

	if (loom_bgp_conf_parse(&ctx->conf, &bc, err) < 0)
		return -1;
	if (loom_bgp_lease_load(&bc, out, lenient ? &ignored : err) == 0)
		return 0;
	if (!lenient)
		return -1;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (ctx->env.container_id && ctx->env.ifname &&
	    loom_br_record_read(bc.state_dir, bc.network, ctx->env.container_id, ctx->env.ifname,
				rec, &ignored) == 0)
		lease_from_record(rec, out);
	else
		standin_lease(out);
	free(rec);
	return 0;
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
	struct loom_bgp_delegate *d;
	json_t *j;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (lease_get(ctx, lenient, &d->lease, err) < 0) {
		free(d);
		return -1;
	}
	j = loom_bgp_delegate_json(&ctx->conf, &d->lease, err);
	if (!j) {
		free(d);
		return -1;
	}
	d->text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!d->text) {
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
		loom_bgp_delegate_free(d);
		return -1;
	}
	/* Traffic between pods of the cluster keeps its source: a pod on
	 * another node must see who talks to it (and NetworkPolicy match it). */
	d->br.masq_exempt[d->br.n_masq_exempt++] = d->lease.network;
	if (d->lease.has_ipv6)
		d->br.masq_exempt[d->br.n_masq_exempt++] = d->lease.network6;
	*out = d;
	return 0;
}
