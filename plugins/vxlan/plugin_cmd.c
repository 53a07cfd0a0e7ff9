/* loom-vxlan's commands: the lease file and our config make a loom-bridge
 * and a loom-ipam config, whose commands then run in this process.
 *
 * DEL must work when the lease file is gone (loomd stopped, the node being
 * drained): the endpoint record of the ADD says which veth, addresses and
 * firewall elements to remove, and loom-ipam releases by container ID, so
 * the ranges of a stand-in lease are never consulted. */
#include "plugin.h"

/* The configs from the lease file; with `lenient`, from the attachment's
 * record or a stand-in when the file cannot be had. */
static int make(struct loom_cni_ctx *ctx, bool lenient, struct loom_vx_net **d,
		struct loom_err *err)
{
	struct loom_vx_conf vc;
	struct loom_lease lease;

	if (loom_vx_conf_parse(&ctx->conf, &vc, err) < 0 ||
	    loom_lease_conf_get(&vc.lc, ctx, lenient, &lease, err) < 0)
		return -1;
	return loom_vx_net_make(ctx, &lease, d, err);
}

int loom_vx_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err)
{
	struct loom_vx_net *d;
	int r;

	if (make(ctx, false, &d, err) < 0)
		return -1;
	r = loom_br_add_conf(ctx, &d->br, &d->ipam, res, err);
	loom_vx_net_free(d);
	return r;
}

typedef int (*br_cmd)(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		      const struct loom_ipam_conf *ic, struct loom_err *err);

/* fn over the configs; make_code (nonzero) replaces a failure's code when
 * the configs cannot be made. */
static int run(struct loom_cni_ctx *ctx, bool lenient, br_cmd fn, int make_code,
	       struct loom_err *err)
{
	struct loom_vx_net *d;
	int r;

	if (make(ctx, lenient, &d, err) < 0) {
		if (make_code && err && err->code == LOOM_ERR_TRY_AGAIN)
			err->code = make_code;
		return -1;
	}
	r = fn(ctx, &d->br, &d->ipam, err);
	loom_vx_net_free(d);
	return r;
}

LOOM_POD_LEASE_CMD(loom_vx_del, run, true, loom_br_del_conf, 0)
LOOM_POD_LEASE_CMD(loom_vx_check, run, false, loom_br_check_conf, 0)
LOOM_POD_LEASE_CMD(loom_vx_gc, run, true, loom_br_gc_conf, 0)
/* Without a lease no ADD can succeed: say so (code 50), as STATUS asks. */
LOOM_POD_LEASE_CMD(loom_vx_status, run, false, loom_br_status_conf, LOOM_ERR_UNAVAILABLE)
