/* DEL: idempotent, and complete whatever is already gone.
 *
 * The endpoint record says what the ADD made (host veth, MAC, addresses,
 * firewall elements), so DEL needs neither the pod's netns nor its
 * interface: deleting the host end of the veth deletes the pair.  Without a
 * record (an ADD that crashed, or a DEL repeated) it falls back to the
 * pod's interface by name and to the firewall's slow purge.  Order:
 * firewall rules, veth, then the firewall's nftables context is closed
 * (see del_fw), the antiSpoof map element, the address, the record.  The
 * record goes last, so a DEL that fails half way can be retried with
 * everything it needs. */
#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/bpf_antispoof.h"
#include "base/cleanup.h"
#include "firewall.h"
#include "kernel/netns.h"
#include "kernel/nft.h"

static int nl_fail(struct loom_err *err, struct loom_nl *nl, int r, const char *what,
		   const char *name)
{
	const char *kmsg = loom_nl_last_msg(nl);

	return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot %s %s%s%s", what, name,
			      kmsg && kmsg[0] ? ": " : "", kmsg ? kmsg : "");
}

/* No record and no usable netns: the derived host name, only when it is a
 * veth on our bridge (a name collision must not cost another pod its link). */
static int del_by_derived_name(struct loom_nl *host, const struct loom_br_conf *c,
			       const char *container_id, const char *ifname, struct loom_err *err)
{
	struct loom_link br, l;
	char name[IFNAMSIZ];
	unsigned salt;
	int r;

	if (loom_link_get(host, c->bridge, &br) < 0)
		return 0;
	for (salt = 0; salt < LOOM_BR_NAME_SALTS; salt++) {
		loom_br_host_veth_name(container_id, ifname, salt, name);
		r = loom_link_get(host, name, &l);
		if (r == -ENODEV)
			continue;
		if (r < 0)
			return nl_fail(err, host, r, "look up", name);
		if (strcmp(l.kind, "veth") != 0 || l.master != br.ifindex)
			continue;
		r = loom_link_del(host, l.ifindex, true);
		if (r < 0)
			return nl_fail(err, host, r, "delete", name);
	}
	return 0;
}

static int del_link(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		    const struct loom_br_record *rec, struct loom_err *err)
{
	const char *ns = ctx->env.netns;
	_cleanup_nl_ struct loom_nl *host = NULL;
	int r;

	r = loom_nl_open(&host);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot open a netlink socket");
	if (rec) {
		r = loom_link_del_name(host, rec->host_veth, true);
		if (r < 0)
			return nl_fail(err, host, r, "delete", rec->host_veth);
		return 0;
	}
	if (ns && ns[0]) {
		_cleanup_nl_ struct loom_nl *pod = NULL;
		_cleanup_close_ int fd = loom_netns_open(ns);

		/* A netns already gone took the pair with it. */
		if (fd == -ENOENT || fd == -EINVAL)
			return del_by_derived_name(host, c, ctx->env.container_id, ctx->env.ifname,
						   err);
		if (fd < 0)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, -fd, "CNI_NETNS: cannot open %s",
					      ns);
		r = loom_nl_open_netns(fd, &pod);
		if (r < 0)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
					      "cannot open a netlink socket in %s", ns);
		r = loom_link_del_name(pod, ctx->env.ifname, true);
		if (r < 0)
			return nl_fail(err, pod, r, "delete", ctx->env.ifname);
		return 0;
	}
	return del_by_derived_name(host, c, ctx->env.container_id, ctx->env.ifname, err);
}

/* The pod's rules go before the veth, and the nftables context that
 * removed them is handed back in *pending to be closed after it: closing it
 * waits for the kernel's deferred cleanup of the deleted elements (an RCU
 * grace period, see firewall.h), which the veth deletion's own waits cover
 * when it comes in between. */
static int del_fw(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		  const struct loom_br_record *rec, struct loom_nft **pending, struct loom_err *err)
{
	struct loom_fw_pod p;

	*pending = NULL;
	if (!rec) {
		/* The reference leaks its rules here (plugins#810). */
		if (!c->ip_masq && !c->spoofchk)
			return 0;
		return loom_fw_purge_deferred(c->network, ctx->env.container_id, ctx->env.ifname, pending,
					      err);
	}
	if (!rec->masq && !rec->spoofchk)
		return 0;
	p = (struct loom_fw_pod){
		.network = rec->network,
		.container_id = rec->container_id,
		.ifname = rec->ifname,
		.host_veth = rec->host_veth,
		.mac = rec->mac[0] ? rec->mac : NULL,
		.n_ips = rec->n_ips,
		.ips = rec->ips,
		.masq = rec->masq,
		.n_exempt = rec->n_masq_exempt,
		.exempt = rec->masq_exempt,
		.spoofchk = rec->spoofchk,
	};
	return loom_fw_del_deferred(&p, pending, err);
}

/* The tc filter went with the veth; the map element is keyed by the
 * ifindex the record kept, so it goes even when the veth was already gone.
 * Without a record, the elements of every interface gone from this netns. */
static int del_antispoof(const struct loom_br_conf *c, const struct loom_br_record *rec,
			 struct loom_err *err)
{
	const char *dir = rec ? rec->antispoof_pin_dir : c->bpf_pin_dir;
	struct loom_antispoof *as = NULL;
	int r;

	if (rec ? rec->antispoof_ifindex <= 0 : !c->anti_spoof)
		return 0;
	r = loom_antispoof_open_maps(dir, &as, err);
	if (r == -ENOENT)
		return 0; /* nothing was ever pinned here */
	if (r < 0)
		return -1;
	r = rec ? loom_antispoof_forget(as, rec->antispoof_ifindex) : loom_antispoof_forget_stale(as);
	loom_antispoof_close(as);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
				      "antiSpoof: cannot delete the map elements in %s", dir);
	return 0;
}

/* conf NULL: parse it from ctx. */
static int del(struct loom_cni_ctx *ctx, const struct loom_br_conf *conf, struct loom_err *err)
{
	struct loom_br_conf *c = NULL;
	struct loom_br_record *rec = NULL;
	_cleanup_nft_ struct loom_nft *pending = NULL;
	struct loom_err ignored;
	int r = -1;

	c = malloc(sizeof(*c));
	rec = malloc(sizeof(*rec));
	if (!c || !rec) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (conf)
		*c = *conf;
	else if (loom_br_conf_parse(&ctx->conf, &ctx->args, c, err) < 0)
		goto out;
	/* An unreadable record is as good as none: the fallbacks cover it,
	 * and removing it at the end clears the way for the next ADD. */
	if (loom_br_record_read(c->state_dir, c->network, ctx->env.container_id, ctx->env.ifname,
				rec, &ignored) < 0) {
		free(rec);
		rec = NULL;
	}
	if (del_fw(ctx, c, rec, &pending, err) < 0 || del_link(ctx, c, rec, err) < 0)
		goto out;
	loom_nft_free(LOOM_TAKE_PTR(pending));
	if (del_antispoof(c, rec, err) < 0 || loom_br_ipam_del(ctx, c, err) < 0 ||
	    loom_br_record_remove(c->state_dir, c->network, ctx->env.container_id, ctx->env.ifname,
				  err) < 0)
		goto out;
	r = 0;
out:
	free(rec);
	free(c);
	return r;
}

int loom_br_del(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return del(ctx, NULL, err);
}

int loom_br_del_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err)
{
	return del(ctx, c, err);
}
