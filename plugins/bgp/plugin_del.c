/* DEL, GC and STATUS: the pod library's DEL and GC (lib/pod/del.c) on the
 * routed topology, and IPAM's STATUS.
 *
 * DEL needs neither the pod's netns nor the lease file: the endpoint
 * record says what the ADD made, and without a lease file the configs are
 * built from the record or a stand-in (lease_conf.c). */
#include "plugin.h"

int loom_bgp_run(struct loom_cni_ctx *ctx, bool lenient, loom_bgp_cmd fn, int make_code,
		 struct loom_err *err)
{
	struct loom_bgp_net *n;
	int r;

	if (loom_bgp_net_make(ctx, lenient, &n, err) < 0) {
		if (make_code && err && err->code == LOOM_ERR_TRY_AGAIN)
			err->code = make_code;
		return -1;
	}
	r = fn(ctx, n, err);
	loom_bgp_net_free(n);
	return r;
}

static int del(struct loom_cni_ctx *ctx, const struct loom_bgp_net *n, struct loom_err *err)
{
	return loom_pod_del(ctx, &n->view, err);
}

static int gc(struct loom_cni_ctx *ctx, const struct loom_bgp_net *n, struct loom_err *err)
{
	(void)ctx;
	return loom_pod_gc(&n->view, err);
}

static int status(struct loom_cni_ctx *ctx, const struct loom_bgp_net *n, struct loom_err *err)
{
	(void)ctx;
	return loom_ipam_client_status(&n->client, err);
}

LOOM_POD_LEASE_CMD(loom_bgp_del, loom_bgp_run, true, del, 0)
LOOM_POD_LEASE_CMD(loom_bgp_gc, loom_bgp_run, true, gc, 0)
/* Without a lease no ADD can succeed: say so (code 50), as STATUS asks. */
LOOM_POD_LEASE_CMD(loom_bgp_status, loom_bgp_run, false, status, LOOM_ERR_UNAVAILABLE)
