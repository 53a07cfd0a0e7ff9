/* The mode table: what a mode (bridge, vxlan, bgp, ...) is to the rest of
 * loom.  One `struct loom_mode` per mode, defined in the mode's own folder
 * (plugins/<mode>/mode.c; bridge's in plugins/bridge/mode/, outside the
 * CNI plugin's sources) and listed once in plugins/modes.c.  loomd, loomctl
 * (apply validation, `get`), loom-sim and the Network model (network.h)
 * read this table; nothing else names a mode.  docs/ARCHITECTURE.md lists
 * what adding a mode touches.
 *
 * The entries and the table are compiled into the model layer (they use
 * base and model only).  The controller ops are loomd's: an entry refers to
 * them weakly, so a binary that does not link the controllers (loomctl,
 * loom-sim, the model's tests) reads NULL there and carries no netlink or
 * BIRD code.  loomd links every controller (CMakeLists.txt). */
#ifndef LOOM_MODEL_MODE_H
#define LOOM_MODEL_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

struct loomd_controller_ops; /* agent/controller.h */

/* Room for the largest mode section (bgp's, some 5 KiB) in a Network. */
#define LOOM_MODE_SECTION_MAX 8192

/* A sysctl loomd sets on the node for the mode, best effort.  Keys with a
 * hint may be missing on some hosts: the first failure of a hint is logged
 * once with it, and later keys of the same hint are skipped. */
struct loom_sysctl {
	const char *key; /* "net/ipv4/ip_forward" */
	const char *value;
	const char *hint; /* NULL: always present */
};

/* The bridge-nf keys exist only while br_netfilter is loaded, and loading
 * a kernel module is the host's decision, not loom's. */
#define LOOM_SYSCTL_HINT_BR_NETFILTER \
	"is br_netfilter loaded? NetworkPolicy will not see bridged traffic"

/* The sysctls modes share (plugins/modes.c), NULL-key terminated: a routed
 * mode forwards; a bridged one also sends bridged pod-to-pod traffic
 * through netfilter, for loom-policyd. */
extern const struct loom_sysctl loom_sysctls_routed[];
extern const struct loom_sysctl loom_sysctls_bridged[];

struct loom_mode {
	const char *name;    /* the mode: plugins/<name>/, loom-sim --mode */
	const char *backend; /* its spec.backend.type in a Network */
	const char *cni;     /* its CNI plugin binary ("loom-vxlan") */
	/* The plugin loomd's conflist (--write-conflist) names for the node's
	 * pods: one that reads loomd's lease file. */
	const char *node_cni;
	/* Its plugin reads the node's block from loomd's lease file
	 * (<run dir>/<network>.env); otherwise the conflist carries a subnet. */
	bool lease_file;

	/* spec.backend.<backend>, the mode's own section; all NULL/0 when it
	 * takes none (the key is then refused). */
	size_t section_size; /* of the typed section, <= LOOM_MODE_SECTION_MAX */
	/* Parse and verify the section (sec NULL: absent, all defaults) into
	 * out (section_size bytes, zeroed).  path: "spec.backend.vxlan". */
	int (*section_parse)(const json_t *sec, void *out, const char *path, struct loom_err *err);
	/* Write into the section object the defaults section_parse applied
	 * that `loomctl get` shows.  0, or -1 on ENOMEM. */
	int (*section_default)(json_t *sec, const void *section);
	/* `loomctl get networks -o wide`'s BACKEND cell: "vxlan(vni=1,port=8472)". */
	void (*summary)(const void *section, char *buf, size_t len);

	/* What its dataplane is made of (loom-sim sizes a cluster by it). */
	bool bridged;     /* pods share a Linux bridge per node */
	bool joins_nodes; /* it carries traffic between nodes */
	unsigned helpers; /* processes per node beside loomd (BIRD) */

	/* Bytes the encapsulation adds to a packet, over an IPv4 / IPv6 underlay. */
	uint32_t mtu_overhead4, mtu_overhead6;
	const struct loom_sysctl *sysctls; /* ended by a NULL key */
	/* What loom-sim's throwaway clusters put in the section (JSON, short
	 * timers), or NULL. */
	const char *sim_section;

	/* loomd's controller for the mode, NULL: none (see the top). */
	const struct loomd_controller_ops *controller;
};

/* Every mode, NULL-terminated (plugins/modes.c); the first is the default. */
extern const struct loom_mode *const loom_modes[];

/* The mode named `name` (loom-sim's --mode) or with spec.backend.type
 * `backend`; NULL when none. */
const struct loom_mode *loom_mode_by_name(const char *name);
const struct loom_mode *loom_mode_by_backend(const char *backend);
/* The mode spec.backend.type defaults to. */
const struct loom_mode *loom_mode_default(void);
/* The modes' names (or backends) joined for a message, in table order:
 * ("\"vxlan\", \"bgp\", \"none\"", "vxlan|bgp|bridge").  Truncated to len. */
void loom_mode_list(bool backends, bool quoted, const char *sep, const char *last_sep, char *buf,
		    size_t len);

#endif
