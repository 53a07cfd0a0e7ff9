/* One plugin exec from start to exit: environment, stdin, config, the
 * version rules of each command, dispatch, and the one JSON document that
 * goes to stdout (a result, the VERSION answer, or an error).
 *
 * This is the only code in lib/ that writes to stdout; the plugin's own
 * callbacks must not. */
#include "cni/cni.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A network config is a few KiB; a conflist with a big prevResult stays far
 * below this.  More is a runaway writer, not a config. */
#define STDIN_MAX (1024 * 1024)

static int print_json(json_t *j)
{
	int r;

	if (!j)
		return -1;
	r = json_dumpf(j, stdout, JSON_COMPACT);
	json_decref(j);
	if (r < 0 || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
		return -1;
	return 0;
}

/* Read all of stdin into a NUL-terminated heap buffer. */
static int read_stdin(char **out, size_t *out_len, struct loom_err *err)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory reading stdin");
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			char *nbuf;

			if (cap > STDIN_MAX) {
				free(buf);
				return loom_err_set(
					err, LOOM_ERR_DECODE,
					"network config on stdin is larger than %d bytes",
					STDIN_MAX);
			}
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				free(buf);
				return loom_err_set(err, LOOM_ERR_INTERNAL,
						    "out of memory reading stdin");
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(STDIN_FILENO, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			return loom_err_errno(err, LOOM_ERR_IO, e,
					      "cannot read the network config from stdin");
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > STDIN_MAX) {
		free(buf);
		return loom_err_set(err, LOOM_ERR_DECODE,
				    "network config on stdin is larger than %d bytes", STDIN_MAX);
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

/* Replace every byte that does not start a valid UTF-8 sequence with '?':
 * JSON strings must be UTF-8, and messages quote environment values and
 * may cut a multibyte character at the buffer's end. */
static void make_utf8(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		unsigned cp, min;
		int n, i;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			n = 1, cp = *p & 0x1f, min = 0x80;
		else if ((*p & 0xf0) == 0xe0)
			n = 2, cp = *p & 0x0f, min = 0x800;
		else if ((*p & 0xf8) == 0xf0)
			n = 3, cp = *p & 0x07, min = 0x10000;
		else
			n = -1, cp = 0, min = 0;
		for (i = 1; n > 0 && i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				n = -1;
				break;
			}
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if (n < 0 || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			*p++ = '?';
			continue;
		}
		p += n + 1;
	}
}

static int print_version(void)
{
	json_t *o = json_object(), *list = json_array();
	int v, r = 0;

	if (!o || !list) {
		json_decref(o);
		json_decref(list);
		return -1;
	}
	r |= json_object_set_new(o, "cniVersion",
				 json_string(loom_cni_version_str(LOOM_CNI_VERSION_LATEST)));
	for (v = 0; v < LOOM_CNI_VERSION_COUNT; v++)
		r |= json_array_append_new(list, json_string(loom_cni_version_str(
							 (enum loom_cni_version)v)));
	r |= json_object_set_new(o, "supportedVersions", list);
	if (r) {
		json_decref(o);
		return -1;
	}
	return print_json(o);
}

/* VERSION needs no config, but a runtime may send {"cniVersion": X} to ask
 * whether X is spoken: refuse an X loom does not speak and ignore anything
 * else, as the reference ignores stdin entirely. */
static int do_version(struct loom_err *err)
{
	struct loom_netconf conf;
	char *buf = NULL;
	size_t len = 0;
	int r;

	/* A closed or unreadable stdin is no reason to refuse VERSION. */
	if (!isatty(STDIN_FILENO) && read_stdin(&buf, &len, err) == 0) {
		r = loom_netconf_parse(buf, len, LOOM_CMD_VERSION, &conf, err);
		free(buf);
		if (r == 0)
			loom_netconf_free(&conf);
		else if (err && err->code == LOOM_ERR_INCOMPATIBLE_VERSION)
			return -1;
	}
	loom_err_clear(err);
	if (print_version() < 0)
		return loom_err_set(err, LOOM_ERR_IO, "cannot write the version answer to stdout");
	return 0;
}

/* CHECK arrived in 0.4.0, GC and STATUS in 1.1.0. */
static int check_floor(enum loom_cni_cmd cmd, const struct loom_netconf *conf, struct loom_err *err)
{
	enum loom_cni_version floor;

	switch (cmd) {
	case LOOM_CMD_CHECK:
		floor = LOOM_CNI_V040;
		break;
	case LOOM_CMD_GC:
	case LOOM_CMD_STATUS:
		floor = LOOM_CNI_V110;
		break;
	default:
		return 0;
	}
	if (conf->version >= floor)
		return 0;
	return loom_err_set(err, LOOM_ERR_INCOMPATIBLE_VERSION,
			    "config version %s does not allow %s (it needs cniVersion %s or later)",
			    conf->version_str, loom_cni_cmd_str(cmd), loom_cni_version_str(floor));
}

static int missing_cb(const struct loom_plugin *p, enum loom_cni_cmd cmd, struct loom_err *err)
{
	return loom_err_set(err, LOOM_ERR_INTERNAL, "%s does not implement %s",
			    p->name ? p->name : "this plugin", loom_cni_cmd_str(cmd));
}

static int dispatch(const struct loom_plugin *p, struct loom_cni_ctx *ctx, struct loom_err *err)
{
	struct loom_result res;

	switch (ctx->env.cmd) {
	case LOOM_CMD_ADD:
		if (!p->add)
			return missing_cb(p, LOOM_CMD_ADD, err);
		loom_result_init(&res);
		if (p->add(ctx, &res, err) < 0)
			return -1;
		if (print_json(loom_result_to_json(&res, ctx->conf.version)) < 0)
			return loom_err_set(err, LOOM_ERR_IO, "cannot write the result to stdout");
		return 0;
	case LOOM_CMD_DEL:
		return p->del ? p->del(ctx, err) : missing_cb(p, LOOM_CMD_DEL, err);
	case LOOM_CMD_CHECK:
		return p->check ? p->check(ctx, err) : missing_cb(p, LOOM_CMD_CHECK, err);
	case LOOM_CMD_GC:
		return p->gc ? p->gc(ctx, err) : 0;
	case LOOM_CMD_STATUS:
		return p->status ? p->status(ctx, err) : 0;
	case LOOM_CMD_VERSION:
		break;
	}
	return loom_err_set(err, LOOM_ERR_INTERNAL, "command %d reached dispatch",
			    (int)ctx->env.cmd);
}

static void about(const struct loom_plugin *p)
{
	int v;

	fprintf(stderr,
		"CNI plugin %s\nCNI protocol versions supported:", p->name ? p->name : "loom");
	for (v = 0; v < LOOM_CNI_VERSION_COUNT; v++)
		fprintf(stderr, "%s %s", v ? "," : "",
			loom_cni_version_str((enum loom_cni_version)v));
	fputc('\n', stderr);
}

static int run(const struct loom_plugin *p, struct loom_cni_ctx *ctx, char **buf,
	       struct loom_err *err)
{
	if (loom_cni_env_read(&ctx->env, err) < 0) {
		/* A person running the binary by hand sees what it is. */
		const char *cmd = getenv("CNI_COMMAND");

		if ((!cmd || !cmd[0]) && isatty(STDERR_FILENO))
			about(p);
		return -1;
	}
	if (ctx->env.cmd == LOOM_CMD_VERSION)
		return do_version(err);

	if (read_stdin(buf, &ctx->stdin_len, err) < 0)
		return -1;
	ctx->stdin_buf = *buf;
	if (loom_netconf_parse(*buf, ctx->stdin_len, ctx->env.cmd, &ctx->conf, err) < 0)
		return -1;
	if (check_floor(ctx->env.cmd, &ctx->conf, err) < 0)
		return -1;
	if (loom_cni_args_parse(ctx->env.args, p->known_args, &ctx->args, err) < 0)
		return -1;
	return dispatch(p, ctx, err);
}

int loom_cni_main(const struct loom_plugin *p)
{
	struct loom_cni_ctx *ctx;
	struct loom_err err;
	char *buf = NULL;
	int r;

	loom_err_clear(&err);
	/* The context holds a result-sized prevResult and the CNI_ARGS table:
	 * too big to be polite on the stack. */
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		loom_err_set(&err, LOOM_ERR_INTERNAL, "out of memory");
		r = -1;
	} else {
		r = run(p, ctx, &buf, &err);
	}

	if (r < 0) {
		/* Answer in the config's version when it was readable. */
		const char *v =
			ctx && ctx->conf.root ? loom_cni_version_str(ctx->conf.version) : NULL;

		if (!err.msg[0])
			loom_err_set(&err, LOOM_ERR_INTERNAL, "%s failed without saying why",
				     p->name ? p->name : "plugin");
		if (err.code == LOOM_OK)
			err.code = LOOM_ERR_INTERNAL;
		make_utf8(err.msg);
		make_utf8(err.details);
		if (print_json(loom_err_to_json(&err, v)) < 0)
			fprintf(stderr, "%s: cannot write the error to stdout: %s\n",
				p->name ? p->name : "plugin", err.msg);
	}
	if (ctx)
		loom_netconf_free(&ctx->conf);
	free(ctx);
	free(buf);
	return r < 0 ? 1 : 0;
}
