/* libnftables wrapper: see nft.h for the netns and atomicity contract.
 *
 * libnftables is dlopen()ed on first use rather than linked: linked, it
 * drags libmnl, libnftnl, libxtables and libgmp into every exec of every
 * binary (0.3-0.4 ms of dynamic loading per pod), while most pods never
 * need a firewall rule. */
#include "kernel/nft.h"

#include <dlfcn.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#define NFT_SONAME "libnftables.so.1"

/* Pointer types taken from the real prototypes, so a libnftables header
 * whose signature differs from our calls is a compile error. */
#define NFT_FN(name) __typeof__(&name) name
struct nft_api {
	NFT_FN(nft_ctx_new);
	NFT_FN(nft_ctx_free);
	NFT_FN(nft_ctx_output_set_flags);
	NFT_FN(nft_ctx_buffer_output);
	NFT_FN(nft_ctx_buffer_error);
	NFT_FN(nft_ctx_get_output_buffer);
	NFT_FN(nft_ctx_get_error_buffer);
	NFT_FN(nft_run_cmd_from_buffer);
};
#undef NFT_FN

static struct nft_api lib;
static bool lib_loaded;
static const char *lib_name = NFT_SONAME;

struct loom_nft {
	struct nft_ctx *ctx;
	const char *output; /* libnftables' buffer, owned by ctx */
};

/* nft_ctx_new() runs a one-time init behind an unlocked static flag and
 * nft_ctx_free()/runs reset a process-wide interface cache; the lock also
 * covers loading the library. */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

/* With nft_lock held.  A failure is not remembered: a later call (after
 * the package is installed) tries again.  The handle is never closed:
 * libnftables keeps process-wide state, and live contexts use `lib`. */
static int load_lib(struct loom_err *err)
{
	struct nft_api api;
	const char *why;
	void *h;

	if (lib_loaded)
		return 0;
	h = dlopen(lib_name, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		why = dlerror();
		loom_err_set(err, LOOM_ERR_INTERNAL,
			     "nftables: %s not found: install the nftables package (libnftables1), "
			     "needed for ipMasq/macspoofchk",
			     lib_name);
		if (err)
			snprintf(err->details, sizeof(err->details), "%s", why ? why : "");
		return -1;
	}
	/* POSIX guarantees a dlsym() result converts to a function pointer */
#define NFT_LOAD(name)                                                                     \
	do {                                                                               \
		api.name = (__typeof__(api.name))dlsym(h, #name);                          \
		if (!api.name)                                                             \
			return loom_err_set(err, LOOM_ERR_INTERNAL,                        \
					    "nftables: %s has no %s: libnftables too old", \
					    lib_name, #name);                              \
	} while (0)
	NFT_LOAD(nft_ctx_new);
	NFT_LOAD(nft_ctx_free);
	NFT_LOAD(nft_ctx_output_set_flags);
	NFT_LOAD(nft_ctx_buffer_output);
	NFT_LOAD(nft_ctx_buffer_error);
	NFT_LOAD(nft_ctx_get_output_buffer);
	NFT_LOAD(nft_ctx_get_error_buffer);
	NFT_LOAD(nft_run_cmd_from_buffer);
#undef NFT_LOAD
	lib = api;
	lib_loaded = true;
	return 0;
}

void loom_nft_set_library(const char *soname)
{
	pthread_mutex_lock(&nft_lock);
	lib_name = soname ? soname : NFT_SONAME;
	lib_loaded = false;
	pthread_mutex_unlock(&nft_lock);
}

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
	if (load_lib(err) < 0) {
		pthread_mutex_unlock(&nft_lock);
		free(n);
		return -1;
	}
	n->ctx = lib.nft_ctx_new(NFT_CTX_DEFAULT);
	pthread_mutex_unlock(&nft_lock);
	if (!n->ctx) {
		free(n);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "nftables: cannot create a context");
	}
	if (flags & LOOM_NFT_JSON)
		lib.nft_ctx_output_set_flags(n->ctx, NFT_CTX_OUTPUT_JSON);
	/* stdout of a plugin is the CNI result: nothing else may reach it */
	if (lib.nft_ctx_buffer_output(n->ctx) != 0 || lib.nft_ctx_buffer_error(n->ctx) != 0) {
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
		lib.nft_ctx_free(n->ctx);
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
	int r, saved;

	if (!n || !batch)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "nftables: no context or no commands");
	pthread_mutex_lock(&nft_lock);
	errno = 0;
	r = lib.nft_run_cmd_from_buffer(n->ctx, batch);
	/* errno is the kernel's answer only when the kernel refused; after a
	 * parse or evaluation error it is whatever libnftables left behind */
	saved = errno;
	/* each get rewinds its buffer: read both after every run */
	otext = lib.nft_ctx_get_output_buffer(n->ctx);
	etext = lib.nft_ctx_get_error_buffer(n->ctx);
	pthread_mutex_unlock(&nft_lock);
	n->output = r ? "" : otext;
	if (r == 0)
		return 0;
	if (!etext || !*etext)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, saved, "nftables: the batch failed");
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
			return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM,
					      "nftables: out of memory");
	}
	return 0;
}
