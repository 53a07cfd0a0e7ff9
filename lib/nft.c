/* libnftables wrapper: see nft.h for the netns and atomicity contract. */
#include "nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

struct loom_nft {
	struct nft_ctx *ctx;
	const char *output;   /* libnftables' buffer, owned by ctx */
	int err_no;
};

/* nft_ctx_new() runs a one-time init behind an unlocked static flag and
 * nft_ctx_free()/runs reset a process-wide interface cache. */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

int loom_nft_new(unsigned flags, struct loom_nft **out, struct loom_err *err)
{
	struct loom_nft *n;
	int fd;

	*out = NULL;
	/* libnftables calls exit() when it cannot open this socket (no
	 * nfnetlink in this kernel, a seccomp filter): find out first. */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno,
				      "nftables: cannot open a netfilter netlink socket");
	close(fd);

	n = calloc(1, sizeof(*n));
	if (!n)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "nftables: out of memory");
	pthread_mutex_lock(&nft_lock);
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	pthread_mutex_unlock(&nft_lock);
	if (!n->ctx) {
		free(n);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "nftables: cannot create a context");
	}
	if (flags & LOOM_NFT_JSON)
		nft_ctx_output_set_flags(n->ctx, NFT_CTX_OUTPUT_JSON);
	/* stdout of a plugin is the CNI result: nothing else may reach it */
	if (nft_ctx_buffer_output(n->ctx) != 0 || nft_ctx_buffer_error(n->ctx) != 0) {
		loom_nft_free(n);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "nftables: cannot capture output");
	}
	n->output = "";
	*out = n;
	return 0;
}

void loom_nft_free(struct loom_nft *n)
{
	if (!n)
		return;
	if (n->ctx) {
		pthread_mutex_lock(&nft_lock);
		nft_ctx_free(n->ctx);
		pthread_mutex_unlock(&nft_lock);
	}
	free(n);
}

/* The first non-empty line of libnftables' error text, without the
 * "Error: " prefix it puts on each record. */
static void first_line(const char *text, char *buf, size_t len)
{
	const char *s = text, *e;

	while (*s == '\n')
		s++;
	if (strncmp(s, "Error: ", 7) == 0)
		s += 7;
	e = strchr(s, '\n');
	if (!e)
		e = s + strlen(s);
	if ((size_t)(e - s) >= len)
		e = s + len - 1;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
}

int loom_nft_run(struct loom_nft *n, const char *batch, struct loom_err *err)
{
	const char *etext, *otext;
	char line[256];
	int r;

	if (!n || !batch)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "nftables: no context or no commands");
	pthread_mutex_lock(&nft_lock);
	errno = 0;
	r = nft_run_cmd_from_buffer(n->ctx, batch);
	n->err_no = r ? errno : 0;
	/* each get rewinds its buffer: read both after every run */
	otext = nft_ctx_get_output_buffer(n->ctx);
	etext = nft_ctx_get_error_buffer(n->ctx);
	pthread_mutex_unlock(&nft_lock);
	n->output = r ? "" : otext;
	if (r == 0)
		return 0;
	if (!etext || !*etext) {
		if (n->err_no > 0)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, n->err_no, "nftables: the batch failed");
		return loom_err_set(err, LOOM_ERR_INTERNAL, "nftables: the batch failed");
	}
	first_line(etext, line, sizeof(line));
	loom_err_set(err, LOOM_ERR_INTERNAL, "nftables: %s", line);
	if (err)
		snprintf(err->details, sizeof(err->details), "%s", etext);
	return -1;
}

const char *loom_nft_output(const struct loom_nft *n)
{
	return n && n->output ? n->output : "";
}

int loom_nft_errno(const struct loom_nft *n)
{
	return n ? n->err_no : 0;
}

int loom_nft_exec(unsigned flags, const char *batch, char **output, struct loom_err *err)
{
	_cleanup_nft_ struct loom_nft *n = NULL;

	if (output)
		*output = NULL;
	if (loom_nft_new(flags, &n, err) < 0)
		return -1;
	if (loom_nft_run(n, batch, err) < 0)
		return -1;
	if (output) {
		*output = strdup(loom_nft_output(n));
		if (!*output)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "nftables: out of memory");
	}
	return 0;
}
