/* IPAM for the bridge: loom-ipam runs in this process (no second exec, the
 * point of having it as a library); any other type is exec'd through
 * CNI_PATH with our own stdin, as the spec requires. */
#include "bridge.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

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

/* A crashed ADD of this same attachment left its address behind: with no
 * record, no ADD of it completed, so the address is ours to take back. */
int loom_br_ipam_add_reclaim(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			     struct loom_result *res, struct loom_err *err)
{
	struct loom_br_record old;
	struct loom_err ignored;

	if (loom_br_ipam_add(ctx, c, res, err) == 0)
		return 0;
	if (!err || err->code != LOOM_ERR_DUPLICATE ||
	    loom_br_record_read(c->state_dir, c->network, ctx->env.container_id, ctx->env.ifname,
				&old, &ignored) != -ENOENT)
		return -1;
	if (loom_br_ipam_del(ctx, c, err) < 0)
		return -1;
	loom_err_clear(err);
	return loom_br_ipam_add(ctx, c, res, err);
}

/* Locally administered unicast, as the kernel's own random MACs. */
int loom_br_random_mac(uint8_t mac[LOOM_MAC_LEN], struct loom_err *err)
{
	if (getrandom(mac, LOOM_MAC_LEN, 0) != LOOM_MAC_LEN)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno, "cannot get random bytes for a MAC");
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	return 0;
}

/* The in-process call of one command, on a loaded allocator config. */
typedef int (*ipam_fn)(struct loom_cni_ctx *ctx, struct loom_ipam_conf *ic,
		       struct loom_err *err);

/* DEL, CHECK, GC and STATUS: nothing to do without layer 3, loom-ipam in
 * this process, any other type exec'd with its output dropped. */
static int ipam_run(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		    enum loom_cni_cmd cmd, ipam_fn fn, struct loom_err *err)
{
	json_t *out = NULL;
	int r;

	if (!c->layer3)
		return 0;
	if (c->ipam_in_process) {
		struct loom_ipam_conf *ic = load(ctx, err);

		if (!ic)
			return -1;
		r = fn(ctx, ic, err);
		free(ic);
		return r;
	}
	r = delegate(ctx, c, cmd, &out, err);
	json_decref(out);
	return r;
}

static int del_fn(struct loom_cni_ctx *ctx, struct loom_ipam_conf *ic, struct loom_err *err)
{
	return loom_ipam_del(ic, ctx->env.container_id, ctx->env.ifname, err);
}

static int check_fn(struct loom_cni_ctx *ctx, struct loom_ipam_conf *ic, struct loom_err *err)
{
	return loom_ipam_check(ic, ctx->env.container_id, ctx->env.ifname,
			       ctx->conf.has_prev_result ? &ctx->conf.prev_result : NULL, err);
}

static int gc_fn(struct loom_cni_ctx *ctx, struct loom_ipam_conf *ic, struct loom_err *err)
{
	return loom_ipam_gc(ic, ctx->conf.valid_attachments, ctx->conf.n_valid_attachments, err);
}

static int status_fn(struct loom_cni_ctx *ctx, struct loom_ipam_conf *ic, struct loom_err *err)
{
	(void)ctx;
	return loom_ipam_status(ic, err);
}

int loom_br_ipam_del(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err)
{
	return ipam_run(ctx, c, LOOM_CMD_DEL, del_fn, err);
}

int loom_br_ipam_check(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		       struct loom_err *err)
{
	return ipam_run(ctx, c, LOOM_CMD_CHECK, check_fn, err);
}

int loom_br_ipam_gc(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err)
{
	/* Without the list there is no telling what is in use: keep all. */
	if (c->layer3 && c->ipam_in_process && !ctx->conf.has_valid_attachments)
		return 0;
	return ipam_run(ctx, c, LOOM_CMD_GC, gc_fn, err);
}

int loom_br_ipam_status(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			struct loom_err *err)
{
	return ipam_run(ctx, c, LOOM_CMD_STATUS, status_fn, err);
}

/* GC and STATUS are IPAM's business: the bridge holds nothing else that
 * outlives a pod. */
static int with_conf(struct loom_cni_ctx *ctx,
		     int (*fn)(struct loom_cni_ctx *, const struct loom_br_conf *,
			       struct loom_err *),
		     struct loom_err *err)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	int r = -1;

	if (!c)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_br_conf_parse(&ctx->conf, &ctx->args, c, err) == 0)
		r = fn(ctx, c, err);
	free(c);
	return r;
}

int loom_br_gc(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return with_conf(ctx, loom_br_ipam_gc, err);
}

int loom_br_status(struct loom_cni_ctx *ctx, struct loom_err *err)
{
	return with_conf(ctx, loom_br_ipam_status, err);
}
