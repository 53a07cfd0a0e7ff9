/* The IPAM client (ipam_client.h). */
#include "pod/ipam_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "pod/record.h"

/* The allocator's config is ~40 KiB: off the stack.  *owned is what the
 * caller frees (NULL when the client's own config is used). */
static const struct loom_ipam_conf *load(const struct loom_ipam_client *cl,
					 struct loom_ipam_conf **owned, struct loom_err *err)
{
	struct loom_ipam_conf *ic;

	*owned = NULL;
	if (cl->conf)
		return cl->conf;
	ic = malloc(sizeof(*ic));
	if (!ic) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (loom_ipam_conf_parse(&cl->ctx->conf, &cl->ctx->args, ic, err) < 0) {
		free(ic);
		return NULL;
	}
	*owned = ic;
	return ic;
}

static int delegate(const struct loom_ipam_client *cl, enum loom_cni_cmd cmd, json_t **out,
		    struct loom_err *err)
{
	const struct loom_cni_ctx *ctx = cl->ctx;

	return loom_delegate(cl->type, cmd, &ctx->env, ctx->stdin_buf, ctx->stdin_len,
			     LOOM_DELEGATE_TIMEOUT_MS, out, err);
}

int loom_ipam_client_add(const struct loom_ipam_client *cl, struct loom_result *res,
			 struct loom_err *err)
{
	const struct loom_cni_ctx *ctx = cl->ctx;
	json_t *out = NULL;
	int r;

	loom_result_init(res);
	if (cl->in_process) {
		struct loom_ipam_conf *owned;
		const struct loom_ipam_conf *ic = load(cl, &owned, err);

		if (!ic)
			return -1;
		r = loom_ipam_add(ic, ctx->env.container_id, ctx->env.ifname, res, err);
		free(owned);
		return r;
	}
	if (delegate(cl, LOOM_CMD_ADD, &out, err) < 0)
		return -1;
	if (!out)
		return loom_err_set(err, LOOM_ERR_DELEGATE, "IPAM plugin %s returned no result",
				    cl->type);
	r = loom_result_from_json(out, "IPAM result", res, err);
	json_decref(out);
	if (r < 0) {
		/* It allocated something we cannot read: give it back. */
		struct loom_err ignored;

		delegate(cl, LOOM_CMD_DEL, NULL, &ignored);
		if (err)
			err->code = LOOM_ERR_DELEGATE;
	}
	return r;
}

/* A crashed ADD of this same attachment left its address behind: with no
 * record, no ADD of it completed, so the address is ours to take back. */
int loom_ipam_client_add_reclaim(const struct loom_ipam_client *cl, const char *state_dir,
				 const char *network, struct loom_result *res, bool *reclaimed,
				 struct loom_err *err)
{
	const struct loom_cni_ctx *ctx = cl->ctx;
	struct loom_endpoint_record old;
	struct loom_err ignored;

	*reclaimed = false;
	if (loom_ipam_client_add(cl, res, err) == 0)
		return 0;
	if (!err || err->code != LOOM_ERR_DUPLICATE)
		return -1;
	if (loom_endpoint_record_read(state_dir, network, ctx->env.container_id, ctx->env.ifname,
				      &old, &ignored) != -ENOENT) {
		/* An ADD of it completed (a runtime may not ADD twice): say
		 * what to do, IPAM's words as the details. */
		char ipam_msg[sizeof(err->msg)];

		memcpy(ipam_msg, err->msg, sizeof(ipam_msg));
		loom_err_set(err, LOOM_ERR_DUPLICATE,
			     "container %s is attached to network %s on %s already (DEL it first)",
			     ctx->env.container_id, network, ctx->env.ifname);
		snprintf(err->details, sizeof(err->details), "%s", ipam_msg);
		return -1;
	}
	if (loom_ipam_client_del(cl, err) < 0)
		return -1;
	*reclaimed = true;
	loom_err_clear(err);
	return loom_ipam_client_add(cl, res, err);
}

/* The in-process call of one command, on a loaded allocator config. */
typedef int (*ipam_fn)(const struct loom_cni_ctx *ctx, const struct loom_ipam_conf *ic,
		       struct loom_err *err);

/* DEL, CHECK, GC and STATUS: nothing to do without layer 3, loom-ipam in
 * this process, any other type exec'd with its output dropped. */
static int ipam_run(const struct loom_ipam_client *cl, enum loom_cni_cmd cmd, ipam_fn fn,
		    struct loom_err *err)
{
	json_t *out = NULL;
	int r;

	if (!cl->layer3)
		return 0;
	if (cl->in_process) {
		struct loom_ipam_conf *owned;
		const struct loom_ipam_conf *ic = load(cl, &owned, err);

		if (!ic)
			return -1;
		r = fn(cl->ctx, ic, err);
		free(owned);
		return r;
	}
	r = delegate(cl, cmd, &out, err);
	json_decref(out);
	return r;
}

static int del_fn(const struct loom_cni_ctx *ctx, const struct loom_ipam_conf *ic,
		  struct loom_err *err)
{
	return loom_ipam_del(ic, ctx->env.container_id, ctx->env.ifname, err);
}

static int check_fn(const struct loom_cni_ctx *ctx, const struct loom_ipam_conf *ic,
		    struct loom_err *err)
{
	return loom_ipam_check(ic, ctx->env.container_id, ctx->env.ifname,
			       ctx->conf.has_prev_result ? &ctx->conf.prev_result : NULL, err);
}

static int gc_fn(const struct loom_cni_ctx *ctx, const struct loom_ipam_conf *ic,
		 struct loom_err *err)
{
	return loom_ipam_gc(ic, ctx->conf.valid_attachments, ctx->conf.n_valid_attachments, err);
}

static int status_fn(const struct loom_cni_ctx *ctx, const struct loom_ipam_conf *ic,
		     struct loom_err *err)
{
	(void)ctx;
	return loom_ipam_status(ic, err);
}

int loom_ipam_client_del(const struct loom_ipam_client *cl, struct loom_err *err)
{
	return ipam_run(cl, LOOM_CMD_DEL, del_fn, err);
}

int loom_ipam_client_check(const struct loom_ipam_client *cl, struct loom_err *err)
{
	return ipam_run(cl, LOOM_CMD_CHECK, check_fn, err);
}

int loom_ipam_client_gc(const struct loom_ipam_client *cl, struct loom_err *err)
{
	/* Without the list there is no telling what is in use: keep all. */
	if (cl->layer3 && cl->in_process && !cl->ctx->conf.has_valid_attachments)
		return 0;
	return ipam_run(cl, LOOM_CMD_GC, gc_fn, err);
}

int loom_ipam_client_status(const struct loom_ipam_client *cl, struct loom_err *err)
{
	return ipam_run(cl, LOOM_CMD_STATUS, status_fn, err);
}
