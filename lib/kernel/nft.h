/* nftables through libnftables, thinly: one batch in, errors out as a
 * struct loom_err.
 *
 * Netns: libnftables opens its NETLINK_NETFILTER socket inside
 * nft_ctx_new() (1.0.6: nft_ctx_new -> nft_ctx_netlink_init) and keeps it
 * for the context's whole life, so a context acts on the netns its thread
 * was in at loom_nft_new(), whatever the thread does afterwards (a netlink
 * socket belongs to the netns it was created in).  To work in another
 * netns, create the context there (inside loom_netns_run()); loom_nft_exec()
 * creates and frees one per call, so it always acts on the calling
 * thread's current netns.
 *
 * Atomicity: all commands of one loom_nft_run() go to the kernel as one
 * nfnetlink batch, which the kernel applies whole or not at all.
 *
 * Nothing is printed: libnftables' stdout (list results) and stderr (error
 * records) are captured.  libnftables keeps some global state (an interface
 * cache, one-time init), so every call here is serialised by one lock; a
 * context is still for one thread at a time.  The netlink socket is not
 * CLOEXEC (libmnl opens it without): free the context before an exec.
 *
 * libnftables.so.1 is dlopen()ed by the first loom_nft_new(), not linked,
 * so binaries and pods that need no firewall do not pay for loading it
 * and its dependencies.  Without it, loom_nft_new() fails with a message
 * naming the library and the package to install. */
#ifndef LOOM_NFT_H
#define LOOM_NFT_H

#include "base/err.h"

/* Input is libnftables' JSON schema ({"nftables": [...]}) and list
 * output is JSON; without it, both are nft's text syntax. */
#define LOOM_NFT_JSON 0x1u

struct loom_nft;

/* A context in the calling thread's current netns.  -1 with err filled
 * (LOOM_ERR_INTERNAL) when no netfilter netlink socket can be opened here:
 * that is checked first because libnftables exit()s the process on it. */
int loom_nft_new(unsigned flags, struct loom_nft **out, struct loom_err *err);
void loom_nft_free(struct loom_nft *n); /* NULL-safe */
static inline void loom_nft_freep(struct loom_nft **n)
{
	loom_nft_free(*n);
}
#define _cleanup_nft_ __attribute__((cleanup(loom_nft_freep)))

/* Parse, evaluate and commit `batch` (one or more commands, newline or ';'
 * separated in text) as one transaction.  0, or -1 with err filled:
 * code LOOM_ERR_INTERNAL, msg "nftables: " + libnftables' first error
 * line, details its full error text (the command with a caret under the
 * culprit; libnftables 1.0.6 shows the batch's first line there whatever
 * line failed, so write a batch whose errors matter on one line, commands
 * separated by ';'). */
int loom_nft_run(struct loom_nft *n, const char *batch, struct loom_err *err);

/* What the last successful run printed (list commands), "" for none.
 * Valid until the next run or free. */
const char *loom_nft_output(const struct loom_nft *n);

/* Load `soname` instead of libnftables.so.1 from the next loom_nft_new()
 * on (NULL: back to the default); contexts already made are unaffected.
 * For tests of the missing-library path. */
void loom_nft_set_library(const char *soname);

/* loom_nft_new + loom_nft_run + loom_nft_free.  With `output` non-NULL it
 * receives a malloc()ed copy of what the run printed (caller frees). */
int loom_nft_exec(unsigned flags, const char *batch, char **output, struct loom_err *err);

#endif
