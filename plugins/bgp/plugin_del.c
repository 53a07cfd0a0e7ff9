/* DEL, GC and STATUS: the pod library's DEL (lib/pod/del.c) on the routed
 * topology, and IPAM's GC and STATUS.
 *
 * DEL needs neither the pod's netns nor the lease file: the endpoint
 * record says what the ADD made, and without a lease file the configs are
 * built from the record or a stand-in (lease_conf.c). */
#include "plugin.h"

int loom_bgp_del(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_bgp_net *d;
	int r;

	if (loom_bgp_net_make(ctx, true, &d, err) < 0)
		return -1;
	r = loom_pod_del(ctx, &d->view, err);
	loom_bgp_net_free(d);
	return r;
}

int loom_bgp_gc(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_bgp_net *d;
	int r;

	if (loom_bgp_net_make(ctx, true, &d, err) < 0)
		return -1;
	r = loom_ipam_client_gc(&d->client, err);
	loom_bgp_net_free(d);
	return r;
}

/* Without a lease no ADD can succeed: say so (code 50), as STATUS asks. */
int loom_bgp_status(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_bgp_net *d;
	int r;

	if (loom_bgp_net_make(ctx, false, &d, err) < 0) {
		if (err && err->code == LOOM_ERR_TRY_AGAIN)
			err->code = LOOM_ERR_UNAVAILABLE;
		return -1;
	}
	r = loom_ipam_client_status(&d->client, err);
	loom_bgp_net_free(d);
	return r;
}
