/* DEL, for every topology: idempotent, and complete whatever is already
 * gone.
 *
 * The endpoint record says what the ADD made (host veth, MAC, addresses,
 * firewall and antiSpoof elements), so DEL needs neither the pod's netns
 * nor its interface (nor a routed plugin's lease file): deleting the host
 * end of the veth deletes the pair.  Without a record (an ADD that
 * crashed, or a DEL repeated) it falls back to the pod's interface by
 * name, to the host veth's derived names, and to the firewall's slow
 * purge.  Order: firewall rules, veth (and a routed pod's host routes),
 * then the firewall's nftables context is closed (see del_fw), the
 * antiSpoof map element, the address, the temp files of killed writers
 * of the record, the record.  The record goes last, so a DEL that fails
 * half way can be retried with everything it needs.
 *
 * Also here: the same fallbacks for a second ADD that finds a crashed
 * one's address (loom_pod_del_orphans), and GC. */
#include "pod/pod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "base/cleanup.h"
#include "kernel/bpf_antispoof.h"
#include "kernel/netns.h"
#include "kernel/nft.h"

/* The veth's deletion took its routes along; removing the record's by
 * address as well (ours only: protocol LOOM_RTPROT) makes DEL's promise
 * independent of that kernel behaviour. */
static int del_host_routes(struct loom_nl *host, const struct loom_endpoint_record *rec,
			   struct loom_err *err)
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
			return loom_pod_nl_err(err, host, r, "cannot delete the host route to %s",
					       loom_prefix_fmt(&nr.dst, buf));
	}
	return 0;
}

static int del_link(const struct loom_cni_ctx *ctx, const struct loom_pod_topology *topo,
		    const struct loom_endpoint_record *rec, struct loom_err *err)
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
			return loom_pod_nl_err(err, host, r, "cannot delete %s", rec->host_veth);
		return topo->host_routes ? del_host_routes(host, rec, err) : 0;
	}
	if (ns && ns[0]) {
		_cleanup_nl_ struct loom_nl *pod = NULL;
		_cleanup_close_ int fd = loom_netns_open(ns);

		/* A netns already gone took the pair with it. */
		if (fd == -ENOENT || fd == -EINVAL)
			return loom_pod_veth_del_derived(host, topo, ctx->env.container_id,
							 ctx->env.ifname, err);
		if (fd < 0)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, -fd,
					      "CNI_NETNS: cannot open %s", ns);
		r = loom_nl_open_netns(fd, &pod);
		if (r < 0)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
					      "cannot open a netlink socket in %s", ns);
		r = loom_link_del_name(pod, ctx->env.ifname, true);
		if (r < 0)
			return loom_pod_nl_err(err, pod, r, "cannot delete %s", ctx->env.ifname);
		/* A bridge port's pair is gone with the pod's end; a routed
		 * plugin also sweeps its derived names (no bridge to tell its
		 * veths from others' but the name). */
		if (topo->bridge)
			return 0;
	}
	return loom_pod_veth_del_derived(host, topo, ctx->env.container_id, ctx->env.ifname, err);
}

/* The pod's rules go before the veth, and the nftables context that
 * removed them is handed back in *pending to be closed after it: closing it
 * waits for the kernel's deferred cleanup of the deleted elements (an RCU
 * grace period, see firewall.h), which the veth deletion's own waits cover
 * when it comes in between. */
static int del_fw(const struct loom_cni_ctx *ctx, const struct loom_pod_conf *c,
		  const struct loom_endpoint_record *rec, struct loom_nft **pending,
		  struct loom_err *err)
{
	struct loom_fw_pod p;

	*pending = NULL;
	if (!rec) {
		/* The reference leaks its rules here (plugins#810). */
		if (!c->ip_masq && !c->spoofchk)
			return 0;
		return loom_fw_purge_deferred(c->network, ctx->env.container_id, ctx->env.ifname,
					      pending, err);
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
static int del_antispoof(const struct loom_pod_conf *c, const struct loom_endpoint_record *rec,
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
	r = rec ? loom_antispoof_forget(as, rec->antispoof_ifindex)
		: loom_antispoof_forget_stale(as);
	loom_antispoof_close(as);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
				      "antiSpoof: cannot delete the map elements in %s", dir);
	return 0;
}

int loom_pod_del(const struct loom_cni_ctx *ctx, const struct loom_pod_conf *c,
		 struct loom_err *err)
{
	const char *cid = ctx->env.container_id, *ifname = ctx->env.ifname;
	struct loom_endpoint_record *rec = malloc(sizeof(*rec));
	_cleanup_nft_ struct loom_nft *pending = NULL;
	struct loom_err ignored;
	int r = -1;

	if (!rec)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	/* An unreadable record is as good as none: the fallbacks cover it,
	 * and removing it at the end clears the way for the next ADD. */
	if (loom_endpoint_record_read(c->state_dir, c->network, cid, ifname, rec, &ignored) < 0) {
		free(rec);
		rec = NULL;
	}
	if (del_fw(ctx, c, rec, &pending, err) < 0 || del_link(ctx, c->topo, rec, err) < 0)
		goto out;
	loom_nft_free(LOOM_TAKE_PTR(pending));
	if (del_antispoof(c, rec, err) < 0 || loom_ipam_client_del(c->ipam, err) < 0 ||
	    loom_endpoint_record_remove_temps(c->state_dir, c->network, cid, ifname, err) < 0 ||
	    loom_endpoint_record_remove(c->state_dir, c->network, cid, ifname, err) < 0)
		goto out;
	r = 0;
out:
	free(rec);
	return r;
}

int loom_pod_del_orphans(const struct loom_cni_ctx *ctx, const struct loom_pod_conf *c,
			 struct loom_err *err)
{
	_cleanup_nft_ struct loom_nft *pending = NULL;

	if (del_fw(ctx, c, NULL, &pending, err) < 0 || del_antispoof(c, NULL, err) < 0)
		return -1;
	return loom_endpoint_record_remove_temps(c->state_dir, c->network, ctx->env.container_id,
						 ctx->env.ifname, err);
}

int loom_pod_gc(const struct loom_pod_conf *c, struct loom_err *err)
{
	if (loom_endpoint_record_sweep_temps(c->state_dir, err) < 0)
		return -1;
	return loom_ipam_client_gc(c->ipam, err);
}
