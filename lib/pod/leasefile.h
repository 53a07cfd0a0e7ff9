/* The node's lease file, <run dir>/<network>.env, as loomd writes it
 * (docs/datastore.md): flannel's shell-sourceable subnet.env shape.
 *
 *   LOOM_NETWORK=10.244.0.0/16      the cluster CIDR
 *   LOOM_SUBNET=10.244.3.0/24       this node's block
 *   LOOM_IPV6_NETWORK=...           optional, with LOOM_IPV6_SUBNET
 *   LOOM_MTU=1450
 *   LOOM_IPMASQ=true
 *
 * loomd writes it (agent/leasefile.c) and reads LOOM_SUBNET back at start;
 * the overlay's CNI plugin reads all of it.  Reading and parsing live here so
 * both sides agree on one grammar.  Nothing here prints or exits. */
#ifndef LOOM_LEASEFILE_H
#define LOOM_LEASEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ip.h"

#define LOOM_LEASEFILE_MAX 4096
#define LOOM_DEFAULT_RUN_DIR "/run/loom"

struct loom_lease {
	struct loom_prefix network;  /* LOOM_NETWORK, host bits clear */
	struct loom_prefix subnet;   /* LOOM_SUBNET, inside network */
	bool has_ipv6;               /* both IPv6 lines present */
	struct loom_prefix network6; /* LOOM_IPV6_NETWORK */
	struct loom_prefix subnet6;  /* LOOM_IPV6_SUBNET, inside network6 */
	uint32_t mtu;                /* LOOM_MTU, 0 when absent */
	bool ipmasq;                 /* LOOM_IPMASQ, true when absent */
};

/* "<run_dir>/<network>.env".  0 or -ENAMETOOLONG. */
int loom_leasefile_path(const char *run_dir, const char *network, char *buf, size_t len);

/* Read the whole file (at most LOOM_LEASEFILE_MAX bytes; NUL-terminated,
 * malloc()ed, the caller frees) or -errno (-ENOENT: no such file). */
int loom_leasefile_read(const char *path, char **out);

/* Find `VAR=prefix` in the text.  0, -ENOENT (no such line), -EINVAL. */
int loom_leasefile_get_prefix(const char *text, const char *var, struct loom_prefix *out);

/* Parse the whole text into *out and check it: LOOM_NETWORK and
 * LOOM_SUBNET required, the subnet inside the network, an MTU in
 * 68..65535, LOOM_IPMASQ true or false, IPv6 lines both or neither.
 * -1 with err (LOOM_ERR_INVALID_CONFIG, naming the variable and `path`,
 * which is only used in messages). */
int loom_lease_parse(const char *text, const char *path, struct loom_lease *out,
		     struct loom_err *err);

#endif
