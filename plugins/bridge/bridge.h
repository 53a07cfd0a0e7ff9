/* loom-bridge internals shared between its files.
 *
 *   conf.c     the config (conf.h)
 *   undo.c     the rollback stack a failed ADD unwinds
 *   names.c    host veth names derived from (container ID, ifname)
 *   veth.c     the veth pair, leftovers of a crashed ADD, bridge port flags
 *   vlan.c     VLANs of the pod's bridge port
 *   pod.c      addresses, link state and routes inside the pod's netns
 *   gateway.c  gateway addresses on the bridge, forwarding
 *   ipamc.c    IPAM: loom-ipam in-process, anything else through CNI_PATH
 *   record.c   the endpoint record DEL (and loomd) read
 *   add.c, del.c, check.c   the commands; main.c maps CNI onto them */
#ifndef LOOM_BRIDGE_H
#define LOOM_BRIDGE_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "cni/cni.h"
#include "conf.h"
#include "base/err.h"
#include "base/ip.h"
#include "kernel/nl.h"

/* ---- commands (loom_plugin callbacks) ---- */

int loom_br_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err);
int loom_br_del(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_br_check(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_br_gc(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_br_status(struct loom_cni_ctx *ctx, struct loom_err *err);

/* The same commands on a config already parsed (and possibly completed,
 * e.g. masq_exempt) by the caller: what loom-vxlan runs in-process.  ctx's
 * netconf must still hold the config's ipam section (IPAM reads it). */
int loom_br_add_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     struct loom_result *res, struct loom_err *err);
int loom_br_del_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err);
int loom_br_check_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		       struct loom_err *err);

/* ---- rollback ---- */

#define LOOM_BR_UNDO_MAX 16

/* An undo step: returns 0, or -1 with `why` filled (or -errno) when it
 * could not undo.  `what` names the step in the error's details ("release
 * the address"). */
typedef int (*loom_br_undo_fn)(void *arg, struct loom_err *why);
struct loom_br_undo {
	size_t n;
	struct {
		loom_br_undo_fn fn;
		void *arg;
		const char *what;
	} s[LOOM_BR_UNDO_MAX];
};

void loom_br_undo_init(struct loom_br_undo *u);
/* -1 (with err) when the stack is full: a programming error, but then the
 * step must not be taken. */
int loom_br_undo_push(struct loom_br_undo *u, loom_br_undo_fn fn, void *arg, const char *what,
		      struct loom_err *err);
/* Run every step, newest first, and empty the stack.  Failures are noted in
 * err->details (the caller's own message stays). */
void loom_br_undo_run(struct loom_br_undo *u, struct loom_err *err);
/* Success: forget the steps. */
void loom_br_undo_commit(struct loom_br_undo *u);

/* ---- names ---- */

#define LOOM_BR_NAME_SALTS 4

/* "veth" + 8 hex digits of a hash of "<containerID>/<ifname>" (salt 0), or
 * of the same with "#<salt>" appended (the next names tried when the first
 * is taken by someone else's link). */
void loom_br_host_veth_name(const char *container_id, const char *ifname, unsigned salt,
			    char out[IFNAMSIZ]);
/* The same with another prefix (at most 6 bytes; NULL: "veth"), for
 * plugins whose host veths must not pass for loom-bridge's (loom-bgp). */
void loom_br_host_veth_name_pfx(const char *prefix, const char *container_id, const char *ifname,
				unsigned salt, char out[IFNAMSIZ]);

/* ---- veth ---- */

struct loom_br_veth_req {
	const char *container_id;
	const char *ifname;          /* the pod side's name */
	int netns_fd;                /* the pod's netns */
	uint32_t mtu;                /* 0: default */
	const uint8_t *peer_mac;     /* the pod side's MAC */
	int master;                  /* the bridge */
	const char *state_dir;       /* records: a completed attachment is no leftover */
	const char *name_prefix;     /* host end's name prefix, NULL: "veth" */
};

/* Create the pair, host end enslaved and up.  A leftover pair of an earlier
 * ADD of the same attachment (the host end named from it, the pod end its
 * peer) is deleted first; a name taken by another link moves on to the
 * next salt.  *host receives the host end; host->link is the pod end's
 * ifindex in the pod's netns. */
int loom_br_veth_create(struct loom_nl *host, struct loom_nl *pod,
			const struct loom_br_veth_req *req, struct loom_link *out,
			struct loom_err *err);

/* Hairpin, isolation, and the VLAN settings of the host end. */
int loom_br_port_setup(struct loom_nl *host, const struct loom_br_conf *c,
		       const struct loom_link *port, struct loom_err *err);

/* The port's VLANs (vlan.c); nothing to do without vlan or vlanTrunk. */
int loom_br_vlan_setup(const struct loom_br_conf *c, const struct loom_link *port,
		       struct loom_err *err);

/* ---- pod ---- */

/* Addresses (IPv6 without DAD unless enabledad), link up, routes of `res`
 * (ips whose iface is `res_iface`) on ifindex in the pod. */
int loom_br_pod_configure(struct loom_nl *pod, int netns_fd, const struct loom_br_conf *c,
			  const char *ifname, int ifindex, const struct loom_result *res,
			  int res_iface, struct loom_err *err);

/* ---- gateway ---- */

/* Put gw (the gateway with its subnet's length) on the bridge, honouring
 * forceAddress like the reference: an IPv4 bridge holds one address per
 * config, an IPv6 one any number of non-overlapping ones. */
int loom_br_gateway_ensure(struct loom_nl *host, const struct loom_link *br,
			   const struct loom_prefix *gw, bool force, struct loom_err *err);
/* net.ipv4.ip_forward / net.ipv6.conf.all.forwarding = 1 in the calling
 * thread's netns. */
int loom_br_forwarding_enable(int family, struct loom_err *err);

/* ---- IPAM ---- */

/* loom_br_ipam_add, and on LOOM_ERR_DUPLICATE with no record of the
 * attachment (a crashed ADD), release and allocate again. */
int loom_br_ipam_add_reclaim(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			     struct loom_result *res, struct loom_err *err);
/* A random locally administered unicast MAC. */
int loom_br_random_mac(uint8_t mac[LOOM_MAC_LEN], struct loom_err *err);
/* The IPAM answer for ADD, initialised here; `res` is the bridge's result. */
int loom_br_ipam_add(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     struct loom_result *res, struct loom_err *err);
int loom_br_ipam_del(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err);
int loom_br_ipam_check(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		       struct loom_err *err);
int loom_br_ipam_gc(struct loom_cni_ctx *ctx, const struct loom_br_conf *c, struct loom_err *err);
int loom_br_ipam_status(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			struct loom_err *err);

/* ---- endpoint record ---- */

struct loom_br_record {
	char network[256];
	char container_id[256];
	char ifname[IFNAMSIZ];
	char host_veth[IFNAMSIZ];
	char bridge[IFNAMSIZ];
	char mac[LOOM_MAC_STRLEN];   /* the pod side's */
	char netns[PATH_MAX];
	char pod_namespace[256];     /* from CNI_ARGS K8S_POD_NAMESPACE, "" when absent */
	char pod_name[256];
	size_t n_ips;
	struct loom_prefix ips[LOOM_RESULT_MAX_IPS];
	bool masq, spoofchk;         /* firewall elements the ADD made */
	size_t n_masq_exempt;        /* ipMasq: the conf's masq_exempt at ADD */
	struct loom_prefix masq_exempt[LOOM_BR_MASQ_EXEMPT_MAX];
	int as_ifindex;              /* antiSpoof: the host veth's map key, 0 = none */
	char as_pin_dir[PATH_MAX - 64]; /* antiSpoof: where the maps are pinned */
};

/* <dir>/<network>:<containerID>:<ifname>.json (':' is in none of the three). */
int loom_br_record_path(const char *dir, const char *network, const char *container_id,
			const char *ifname, char *buf, size_t len);
/* Write atomically (temp file + rename), creating dir when missing. */
int loom_br_record_write(const char *dir, const struct loom_br_record *r, struct loom_err *err);
/* 0 and *out filled, -ENOENT when there is none, -EINVAL (err filled) when
 * the file is unreadable or not a record. */
int loom_br_record_read(const char *dir, const char *network, const char *container_id,
			const char *ifname, struct loom_br_record *out, struct loom_err *err);
/* True when any network holds a record of (container_id, ifname): an ADD
 * of it completed and its links are not leftovers. */
bool loom_br_record_any(const char *dir, const char *container_id, const char *ifname);
/* A missing record is success. */
int loom_br_record_remove(const char *dir, const char *network, const char *container_id,
			  const char *ifname, struct loom_err *err);

#endif
