/* loom-vxlan's commands: the lease file and our config make a loom-bridge
 * config, whose commands then run in this process.
 *
 * DEL must work when the lease file is gone (loomd stopped, the node being
 * drained): the endpoint record of the ADD says which veth, addresses and
 * firewall elements to remove, and loom-ipam releases by container ID, so
 * the ranges of a stand-in lease are never consulted. */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TEST-NET-1: a well-formed subnet for a config whose ranges no DEL or GC
 * reads. */
static const char STANDIN_SUBNET[] = "192.0.2.0/24";

static void standin_lease(struct loom_lease *l)
{
	memset(l, 0, sizeof(*l));
	loom_prefix_parse(STANDIN_SUBNET, &l->subnet);
	l->network = l->subnet;
	/* Without a record, the bridge's DEL purges firewall elements by
	 * their comment only when ipMasq is on. */
	l->ipmasq = true;
}

/* The lease an ADD of this attachment saw, as far as its record tells. */
static void lease_from_record(const struct loom_br_record *rec, struct loom_lease *l)
{
	bool have4 = false;
	size_t i;

	standin_lease(l);
	for (i = 0; i < rec->n_ips; i++) {
		struct loom_prefix sub = { .ip = loom_prefix_first(&rec->ips[i]), .len = rec->ips[i].len };

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

/* The delegate from the lease file; with `lenient`, from the attachment's
 * record or a stand-in when the file cannot be had. */
static int make(struct loom_cni_ctx *ctx, bool lenient, struct loom_vx_delegate **d,
		struct loom_err *err)
{
	struct loom_vx_conf vc;
	struct loom_lease lease;
	struct loom_br_record *rec;
	struct loom_err ignored;

	if (loom_vx_conf_parse(&ctx->conf, &vc, err) < 0)
		return -1;
	if (loom_vx_lease_load(&vc, &lease, lenient ? &ignored : err) < 0) {
		if (!lenient)
			return -1;
		rec = malloc(sizeof(*rec));
		if (!rec)
			return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		if (ctx->env.container_id && ctx->env.ifname &&
		    loom_br_record_read(vc.state_dir, vc.network, ctx->env.container_id,
					ctx->env.ifname, rec, &ignored) == 0)
			lease_from_record(rec, &lease);
		else
			standin_lease(&lease);
		free(rec);
	}
	return loom_vx_delegate_make(ctx, &lease, d, err);
}

int loom_vx_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err)
{
	struct loom_vx_delegate *d;
	int r;

	if (make(ctx, false, &d, err) < 0)
		return -1;
	r = loom_br_add_conf(&d->ctx, &d->br, res, err);
	loom_vx_delegate_free(d);
	return r;
}

int loom_vx_del(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_vx_delegate *d;
	int r;

	if (make(ctx, true, &d, err) < 0)
		return -1;
	r = loom_br_del_conf(&d->ctx, &d->br, err);
	loom_vx_delegate_free(d);
	return r;
}

int loom_vx_check(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_vx_delegate *d;
	int r;

	if (make(ctx, false, &d, err) < 0)
		return -1;
	r = loom_br_check_conf(&d->ctx, &d->br, err);
	loom_vx_delegate_free(d);
	return r;
}

int loom_vx_gc(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_vx_delegate *d;
	int r;

	if (make(ctx, true, &d, err) < 0)
		return -1;
	r = loom_br_gc(&d->ctx, err);
	loom_vx_delegate_free(d);
	return r;
}

/* Without a lease no ADD can succeed: say so (code 50), as STATUS asks. */
int loom_vx_status(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_vx_delegate *d;
	int r;

	if (make(ctx, false, &d, err) < 0) {
		if (err && err->code == LOOM_ERR_TRY_AGAIN)
			err->code = LOOM_ERR_UNAVAILABLE;
		return -1;
	}
	r = loom_br_status(&d->ctx, err);
	loom_vx_delegate_free(d);
	return r;
}
