/* IPAM for the bridge: loom-ipam runs in this process (no second exec, the
 * point of having it as a library); any other type is exec'd through
 * CNI_PATH with our own stdin, as the spec requires. */
#include "bridge.h"

#include <stdlib.h>

#include "ipam.h"

/* The allocator's config is ~40 KiB: off the stack. */
static struct loom_ipam_conf *load(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_ipam_conf *ic = malloc(sizeof(*ic));

	if (!ic) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (loom_ipam_conf_parse(&ctx->conf, &ctx->args, ic, err) < 0) {
		free(ic);
		return NULL;
	}
	return ic;
}

static int delegate(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, enum loom_cni_cmd cmd,
		    json_t **out, struct loom_err *err)
{
	return loom_delegate(c->ipam_type, cmd, &ctx->env, ctx->stdin_buf, ctx->stdin_len,
			     LOOM_DELEGATE_TIMEOUT_MS, out, err);
}

int loom_br_ipam_add(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     struct loom_result *res, struct loom_err *err)
{
	json_t *out = NULL;
	int r;

	loom_result_init(res);
	if (c->ipam_in_process) {
		struct loom_ipam_conf *ic = load(ctx, err);

		if (!ic)
			return -1;
		r = loom_ipam_add(ic, ctx->env.container_id, ctx->env.ifname, res, err);
		free(ic);
		return r;
	}
	if (delegate(ctx, c, LOOM_CMD_ADD, &out, err) < 0)
		return -1;
	if (!out)
		return loom_err_set(err, LOOM_ERR_DELEGATE, "IPAM plugin %s returned no result",
				    c->ipam_type);
	r = loom_result_from_json(out, "IPAM result", res, err);
	json_decref(out);
	if (r < 0) {
		/* It allocated something we cannot read: give it back. */
		struct loom_err ignored;

		delegate(ctx, c, LOOM_CMD_DEL, NULL, &ignored);
		if (err)
			err->code = LOOM_ERR_DELEGATE;
	}
	return r;
}

int loom_br_ipam_del(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err)
{
	json_t *out = NULL;
	int r;

	if (!c->layer3)
		return 0;
	if (c->ipam_in_process) {
		struct loom_ipam_conf *ic = load(ctx, err);

		if (!ic)
			return -1;
		r = loom_ipam_del(ic, ctx->env.container_id, ctx->env.ifname, err);
		free(ic);
		return r;
	}
	r = delegate(ctx, c, LOOM_CMD_DEL, &out, err);
	json_decref(out);
	return r;
}

int loom_br_ipam_check(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		       struct loom_err *err)
{
	json_t *out = NULL;
	int r;

	if (!c->layer3)
		return 0;
	if (c->ipam_in_process) {
		struct loom_ipam_conf *ic = load(ctx, err);

		if (!ic)
			return -1;
		r = loom_ipam_check(ic, ctx->env.container_id, ctx->env.ifname,
				    ctx->conf.has_prev_result ? &ctx->conf.prev_result : NULL, err);
		free(ic);
		return r;
	}
	r = delegate(ctx, c, LOOM_CMD_CHECK, &out, err);
	json_decref(out);
	return r;
}

int loom_br_ipam_gc(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err)
{
	json_t *out = NULL;
	int r;

	if (!c->layer3)
		return 0;
	if (c->ipam_in_process) {
		struct loom_ipam_conf *ic;

		/* Without the list there is no telling what is in use: keep all. */
		if (!ctx->conf.has_valid_attachments)
			return 0;
		ic = load(ctx, err);
		if (!ic)
			return -1;
		r = loom_ipam_gc(ic, ctx->conf.valid_attachments, ctx->conf.n_valid_attachments, err);
		free(ic);
		return r;
	}
	r = delegate(ctx, c, LOOM_CMD_GC, &out, err);
	json_decref(out);
	return r;
}

int loom_br_ipam_status(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			struct loom_err *err)
{
	json_t *out = NULL;
	int r;

	if (!c->layer3)
		return 0;
	if (c->ipam_in_process) {
		struct loom_ipam_conf *ic = load(ctx, err);

		if (!ic)
			return -1;
		r = loom_ipam_status(ic, err);
		free(ic);
		return r;
	}
	r = delegate(ctx, c, LOOM_CMD_STATUS, &out, err);
	json_decref(out);
	return r;
}

/* GC and STATUS are IPAM's business: the bridge holds nothing else that
 * outlives a pod. */
int loom_br_gc(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	int r = -1;

	if (!c)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_br_conf_parse(&ctx->conf, &ctx->args, c, err) == 0)
		r = loom_br_ipam_gc(ctx, c, err);
	free(c);
	return r;
}

int loom_br_status(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	int r = -1;

	if (!c)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_br_conf_parse(&ctx->conf, &ctx->args, c, err) == 0)
		r = loom_br_ipam_status(ctx, c, err);
	free(c);
	return r;
}
