/* loom-ipam: the host-local compatible IPAM plugin as an executable.
 * Everything of substance lives in the library (ipam.h); this maps each
 * CNI command onto it. */
#include <stdlib.h>

#include "base/cleanup.h"
#include "cni/cni.h"
#include "ipam.h"

/* The config is ~40 KiB: keep it off the stack of every callback. */
static int load(const struct loom_cni_ctx *ctx, struct loom_ipam_conf **conf, struct loom_err *err)
{
	*conf = malloc(sizeof(**conf));
	if (!*conf)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_ipam_conf_parse(&ctx->conf, &ctx->args, *conf, err) < 0) {
		free(*conf);
		*conf = NULL;
		return -1;
	}
	return 0;
}

static int cmd_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err)
{
	_cleanup_free_ struct loom_ipam_conf *conf = NULL;

	if (load(ctx, &conf, err) < 0)
		return -1;
	return loom_ipam_add(conf, ctx->env.container_id, ctx->env.ifname, res, err);
}

static int cmd_del(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	_cleanup_free_ struct loom_ipam_conf *conf = NULL;

	if (load(ctx, &conf, err) < 0)
		return -1;
	return loom_ipam_del(conf, ctx->env.container_id, ctx->env.ifname, err);
}

static int cmd_check(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	_cleanup_free_ struct loom_ipam_conf *conf = NULL;

	if (load(ctx, &conf, err) < 0)
		return -1;
	return loom_ipam_check(conf, ctx->env.container_id, ctx->env.ifname,
			       ctx->conf.has_prev_result ? &ctx->conf.prev_result : NULL, err);
}

static int cmd_gc(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	_cleanup_free_ struct loom_ipam_conf *conf = NULL;

	if (load(ctx, &conf, err) < 0)
		return -1;
	/* Without the list there is no telling what is in use: keep all. */
	return ctx->conf.has_valid_attachments ? loom_ipam_gc(conf, ctx->conf.valid_attachments,
							      ctx->conf.n_valid_attachments, err)
					       : 0;
}

static int cmd_status(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	_cleanup_free_ struct loom_ipam_conf *conf = NULL;

	if (load(ctx, &conf, err) < 0)
		return -1;
	return loom_ipam_status(conf, err);
}

/* IP: the address the runtime asks for. */
LOOM_CNI_PLUGIN_MAIN("loom-ipam", cmd, "IP")
