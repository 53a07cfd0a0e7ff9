/* What loom-vxlan and loom-bgp share: both read the node's lease file and
 * turn it, with the user's keys, into a loom-bridge config (the
 * "delegate") that loom-bridge and loom-ipam then parse as a user's.  Each
 * plugin keeps only its own keys and the shape of its IPAM ranges. */
#ifndef LOOM_LEASE_CONF_H
#define LOOM_LEASE_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridge.h"
#include "cni/cni.h"
#include "base/err.h"
#include "pod/leasefile.h"

enum loom_lc_kind { LOOM_LC_BOOL, LOOM_LC_STRING, LOOM_LC_MTU };

/* One of a plugin's own config keys and the type it must have. */
struct loom_lc_key {
	const char *key;
	enum loom_lc_kind kind;
};

struct loom_lease_conf {
	char network[256];          /* "name" */
	char run_dir[PATH_MAX];     /* "runDir", default /run/loom */
	char lease_path[PATH_MAX];  /* <runDir>/<name>.env */
	char state_dir[PATH_MAX];   /* "stateDir", default loom-bridge's */
};

/* Type-check `keys` in nc and fill *out.  An "ipam" section is refused:
 * `plugin` (e.g. "loom-vxlan") allocates from the lease's `range` (e.g.
 * "subnet").  LOOM_ERR_INVALID_CONFIG naming the key. */
int loom_lease_conf_parse(const struct loom_netconf *nc, const struct loom_lc_key *keys,
			  size_t n_keys, const char *plugin, const char *range,
			  struct loom_lease_conf *out, struct loom_err *err);

/* Read and parse the lease file.  Missing: LOOM_ERR_TRY_AGAIN (loomd has
 * not leased yet); unreadable LOOM_ERR_IO; malformed
 * LOOM_ERR_INVALID_CONFIG. */
int loom_lease_conf_load(const struct loom_lease_conf *c, struct loom_lease *out,
			 struct loom_err *err);

/* The lease for ctx's command; with `lenient` (DEL, GC) a lost lease file
 * is replaced by what the attachment's endpoint record remembers, or a
 * stand-in whose ranges nobody reads.  -1 with err. */
int loom_lease_conf_get(const struct loom_lease_conf *c, const struct loom_cni_ctx *ctx,
			bool lenient, struct loom_lease *out, struct loom_err *err);

/* Copy into the delegate `out` the runtime's members it keeps as they are
 * and the user's `keys` (but dataDir, which goes to ipam, and runDir, which
 * is ours).  Nonzero when out of memory. */
int loom_lease_conf_copy(json_t *out, const json_t *root, const struct loom_lc_key *keys,
			 size_t n_keys);

/* Dump the delegate `j` into *text (caller frees) and parse it as ctx's
 * command would: *dctx gets ctx's env and args and the delegate's netconf,
 * *br the loom-bridge config whose masq_exempt gains the lease's cluster
 * CIDRs (traffic between pods of the cluster keeps its source).  On error
 * nothing is left to free. */
int loom_lease_conf_delegate(const struct loom_cni_ctx *ctx, json_t *j,
			     const struct loom_lease *l, char **text, struct loom_cni_ctx *dctx,
			     struct loom_br_conf *br, struct loom_err *err);

#endif
