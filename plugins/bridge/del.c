/* DEL, CHECK, GC and STATUS: the pod library's (lib/pod/del.c, check.c)
 * and IPAM's, on the bridge topology.  GC is the pod library's (killed
 * writers' record temp files, then IPAM's GC); STATUS is IPAM's. */
#include "bridge.h"

#include <stdlib.h>

int loom_br_del_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     const struct loom_ipam_conf *ic, struct loom_err *err)
{
	struct loom_br_view v;

	loom_br_view_init(&v, ctx, c, ic);
	return loom_pod_del(ctx, &v.pod, err);
}

int loom_br_check_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		       const struct loom_ipam_conf *ic, struct loom_err *err)
{
	struct loom_br_view v;

	loom_br_view_init(&v, ctx, c, ic);
	return loom_pod_check(ctx, &v.pod, err);
}

int loom_br_gc_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		    const struct loom_ipam_conf *ic, struct loom_err *err)
{
	struct loom_br_view v;

	loom_br_view_init(&v, ctx, c, ic);
	return loom_pod_gc(&v.pod, err);
}

int loom_br_status_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			const struct loom_ipam_conf *ic, struct loom_err *err)
{
	struct loom_br_view v;

	loom_br_view_init(&v, ctx, c, ic);
	return loom_ipam_client_status(&v.ipam, err);
}

typedef int (*conf_cmd)(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			const struct loom_ipam_conf *ic, struct loom_err *err);

/* The config is ~16 KiB: off the stack. */
static int with_conf(struct loom_cni_ctx *ctx, conf_cmd fn, struct loom_err *err)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	int r = -1;

	if (!c)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_br_conf_parse(&ctx->conf, &ctx->args, c, err) == 0)
		r = fn(ctx, c, NULL, err);
	free(c);
	return r;
}

int loom_br_del(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return with_conf(ctx, loom_br_del_conf, err);
}

int loom_br_check(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return with_conf(ctx, loom_br_check_conf, err);
}

int loom_br_gc(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return with_conf(ctx, loom_br_gc_conf, err);
}

int loom_br_status(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return with_conf(ctx, loom_br_status_conf, err);
}
