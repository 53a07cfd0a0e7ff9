/* DEL, GC and STATUS.
 *
 * DEL is idempotent and completes whatever is already gone.  The endpoint
 * record says what the ADD made (host veth, addresses, firewall elements,
 * antiSpoof element), so DEL needs neither the pod's netns nor the lease
 * file.  Without a record (an ADD that crashed, a DEL repeated) it falls
 * back to the pod's interface by name, or to the host veth's derived
 * names, and to the firewall's purge by comment.  The record goes last, so
 * a DEL that fails half way can be retried with everything it needs. */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

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

/* No record and no netns: our derived names, only for a veth that is no
 * bridge port (a name collision must not cost another pod its link). */
static int del_by_derived_name(struct loom_nl *host, const char *container_id, const char *ifname,
			       struct loom_err *err)
{
	struct loom_link l;
	char name[IFNAMSIZ];
	unsigned salt;
	int r;

	for (salt = 0; salt < LOOM_BR_NAME_SALTS; salt++) {
		loom_br_host_veth_name_pfx(LOOM_BGP_VETH_PREFIX, container_id, ifname, salt, name);
		r = loom_link_get(host, name, &l);
		if (r == -ENODEV)
			continue;
		if (r < 0)
			return nl_fail(err, host, r, "look up", name);
		if (strcmp(l.kind, "veth") != 0 || l.master != 0)
			continue;
		r = loom_link_del(host, l.ifindex, true);
		if (r < 0)
			return nl_fail(err, host, r, "delete", name);
	}
	return 0;
}

/* The veth's deletion took its routes along; removing the record's by
 * address as well (ours only: protocol LOOM_RTPROT) makes DEL's promise
 * independent of that kernel behaviour. */
static int del_routes(struct loom_nl *host, const struct loom_br_record *rec, struct loom_err *err)
{
	char buf[LOOM_PREFIX_STRLEN];
	size_t i;
	int r;

	for (i = 0; i < rec->n_ips; i++) {
		struct loom_nl_route nr = { .protocol = LOOM_RTPROT, .scope = RT_SCOPE_LINK };

		nr.dst.ip = rec->ips[i].ip;
		nr.dst.len = (uint8_t)loom_ip_bits(&rec->ips[i].ip);
		r = loom_route_del(host, &nr, true);
		if (r < 0 && r != -ENODEV)
			return nl_fail(err, host, r, "delete the host route to",
				       loom_prefix_fmt(&nr.dst, buf));
	}
	return 0;
}

static int del_link(const struct loom_cni_ctx *ctx, const struct loom_br_record *rec,
		    struct loom_err *err)
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
		return del_routes(host, rec, err);
	}
	if (ns && ns[0]) {
		_cleanup_nl_ struct loom_nl *pod = NULL;
		_cleanup_close_ int fd = loom_netns_open(ns);

		/* A netns already gone took the pair with it. */
		if (fd == -ENOENT || fd == -EINVAL)
			return del_by_derived_name(host, ctx->env.container_id, ctx->env.ifname, err);
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
	}
	return del_by_derived_name(host, ctx->env.container_id, ctx->env.ifname, err);
}

/* The rules go before the veth; their nftables context is closed after
 * it (see loom_fw_del_deferred()). */
static int del_fw(const struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		  const struct loom_br_record *rec, struct loom_nft **pending, struct loom_err *err)
{
	struct loom_fw_pod p;

	*pending = NULL;
	if (!rec)
		return c->ip_masq ? loom_fw_purge_deferred(c->network, ctx->env.container_id,
							   ctx->env.ifname, pending, err)
				  : 0;
	if (!rec->masq)
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
	};
	return loom_fw_del_deferred(&p, pending, err);
}

/* The map element is keyed by the ifindex the record kept; without a
 * record, the elements of every interface gone from this netns. */
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
		return 0;
	if (r < 0)
		return -1;
	r = rec ? loom_antispoof_forget(as, rec->antispoof_ifindex) : loom_antispoof_forget_stale(as);
	loom_antispoof_close(as);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
				      "antiSpoof: cannot delete the map elements in %s", dir);
	return 0;
}

int loom_bgp_del(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_bgp_delegate *d = NULL;
	struct loom_br_record *rec = NULL;
	_cleanup_nft_ struct loom_nft *pending = NULL;
	struct loom_err ignored;
	const struct loom_br_conf *c;
	int r = -1;

	if (loom_bgp_delegate_make(ctx, true, &d, err) < 0)
		return -1;
	c = &d->br;
	rec = malloc(sizeof(*rec));
	if (!rec) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* An unreadable record is as good as none: the fallbacks cover it,
	 * and removing it at the end clears the way for the next ADD. */
	if (loom_br_record_read(c->state_dir, c->network, ctx->env.container_id, ctx->env.ifname,
				rec, &ignored) < 0) {
		free(rec);
		rec = NULL;
	}
	if (del_fw(ctx, c, rec, &pending, err) < 0 || del_link(ctx, rec, err) < 0)
		goto out;
	loom_nft_free(LOOM_TAKE_PTR(pending));
	if (del_antispoof(c, rec, err) < 0 || loom_br_ipam_del(&d->ctx, c, err) < 0 ||
	    loom_br_record_remove(c->state_dir, c->network, ctx->env.container_id, ctx->env.ifname,
				  err) < 0)
		goto out;
	r = 0;
out:
	free(rec);
	loom_bgp_delegate_free(d);
	return r;
}

int loom_bgp_gc(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_bgp_delegate *d;
	int r;

	if (loom_bgp_delegate_make(ctx, true, &d, err) < 0)
		return -1;
	r = loom_br_ipam_gc(&d->ctx, &d->br, err);
	loom_bgp_delegate_free(d);
	return r;
}

/* Without a lease no ADD can succeed: say so (code 50), as STATUS asks. */
int loom_bgp_status(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_bgp_delegate *d;
	int r;

	if (loom_bgp_delegate_make(ctx, false, &d, err) < 0) {
		if (err && err->code == LOOM_ERR_TRY_AGAIN)
			err->code = LOOM_ERR_UNAVAILABLE;
		return -1;
	}
	r = loom_br_ipam_status(&d->ctx, &d->br, err);
	loom_bgp_delegate_free(d);
	return r;
}
