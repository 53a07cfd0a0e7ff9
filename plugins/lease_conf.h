/* What loom-vxlan and loom-bgp share: both read the node's lease file and
 * build, from it and the user's keys, the typed configs they run with
 * (loom-ipam's over the lease's ranges, and the pod parts: MTU, ipMasq,
 * antiSpoof, state and pin directories, MAC, DNS, the cluster CIDRs), each
 * then verified as a user's config would be.  Each plugin keeps only its
 * own keys and the shape of its IPAM ranges. */
#ifndef LOOM_LEASE_CONF_H
#define LOOM_LEASE_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cni/cni.h"
#include "base/err.h"
#include "ipam.h"
#include "pod/leasefile.h"
#include "pod/pod.h"

enum loom_lc_kind {
	LOOM_LC_BOOL,
	LOOM_LC_STRING,
	LOOM_LC_MTU
};

/* One of a plugin's own config keys and the type it must have. */
struct loom_lc_key {
	const char *key;
	enum loom_lc_kind kind;
};

struct loom_lease_conf {
	char network[256];         /* "name" */
	char run_dir[PATH_MAX];    /* "runDir", default /run/loom */
	char lease_path[PATH_MAX]; /* <runDir>/<name>.env */
	char state_dir[PATH_MAX];  /* "stateDir", default LOOM_POD_DEFAULT_STATE_DIR */
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

/* The pod parts both plugins take from the user's keys and the lease. */
struct loom_lease_pod {
	uint32_t mtu;                    /* "mtu", else the lease's (0: the kernel's) */
	bool ip_masq;                    /* "ipMasq", else the lease's */
	bool anti_spoof;                 /* "antiSpoof", default true */
	char state_dir[PATH_MAX];        /* "stateDir", absolute */
	char bpf_pin_dir[PATH_MAX - 64]; /* "bpfPinDir", absolute */
	bool has_mac;                    /* runtimeConfig.mac > args.cni.mac > CNI_ARGS MAC */
	uint8_t mac[LOOM_MAC_LEN];
	char mac_from[LOOM_POD_MAC_FROM_MAX];
	bool has_dns; /* "dns" sets a field: it replaces IPAM's */
	struct loom_dns dns;
	/* The lease's cluster CIDRs: ipMasq leaves traffic to them alone, so
	 * pods on other nodes see the pod's own address. */
	size_t n_masq_exempt;
	struct loom_prefix masq_exempt[2];
};

/* A boolean key of the user's config (type-checked by
 * loom_lease_conf_parse), dflt when absent. */
bool loom_lease_conf_bool(const struct loom_netconf *nc, const char *key, bool dflt);

/* Fill *out from ctx's config and args and the lease, and verify it.
 * LOOM_ERR_INVALID_CONFIG (LOOM_ERR_INVALID_ENV for CNI_ARGS) naming the
 * key. */
int loom_lease_pod_parse(const struct loom_cni_ctx *ctx, const struct loom_lease *l,
			 struct loom_lease_pod *out, struct loom_err *err);

/* loom-ipam's config over `spec`'s ranges and routes (the plugin's shape
 * of the lease), with "dataDir" and the runtime's parts of ctx (ipRanges,
 * requested addresses). */
int loom_lease_conf_ipam(const struct loom_cni_ctx *ctx, struct loom_ipam_spec *spec,
			 struct loom_ipam_conf *out, struct loom_err *err);

#endif
