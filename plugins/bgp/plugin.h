/* loom-bgp, the CNI plugin of bgp mode: a routed veth per pod, no bridge
 * (Calico's shape).  BIRD, driven by loomd (bird*.c, controller*.c),
 * announces the node's block; this plugin only wires pods to the host.
 *
 *   plugin_conf.c   our config keys; the node's lease file; the typed
 *                   configs built from both (loom-ipam's over the block, the
 *                   pod parts the pod library runs with)
 *   plugin_add.c    ADD: the pod library's steps and the routed ones
 *   plugin_del.c    DEL (the pod library's), GC, STATUS
 *   plugin_check.c  CHECK: the pod library's, then the routed part
 *   main.c          maps CNI onto them
 *
 * The wiring of one pod (eth0 in the pod, lbgXXXXXXXX on the host):
 *
 *   pod:   10.245.7.5/32 dev eth0
 *          169.254.1.1 dev eth0 scope link
 *          default via 169.254.1.1 dev eth0
 *          neigh 169.254.1.1 lladdr <host veth MAC> PERMANENT
 *          (IPv6: addr/128, default via fe80::1, neigh fe80::1 the same MAC)
 *   host:  10.245.7.5 dev lbgXXXXXXXX scope link proto 76
 *
 * What it runs with: loom-ipam over the whole block (the gateway is not inside
 * it: the pod's gateway is link-local), ipMasq exempting the cluster CIDR,
 * the lease's MTU, antiSpoof as loom-bridge; over the pod library's
 * (lib/pod) undo stack, veth, IPAM client, firewall, record, DEL and CHECK,
 * with the routed topology below. */
#ifndef LOOM_BGP_PLUGIN_H
#define LOOM_BGP_PLUGIN_H

#include <limits.h>

#include "ipam.h"
#include "cni/cni.h"
#include "base/err.h"
#include "lease_conf.h"
#include "pod/leasefile.h"
#include "pod/pod.h"

/* Host veth names: "lbg" + 8 hex digits of the attachment's hash. */
#define LOOM_BGP_VETH_PREFIX "lbg"
/* The pod's gateways: answered by a static neighbour (plugin_add.c). */
#define LOOM_BGP_GW4 "169.254.1.1"
#define LOOM_BGP_GW6 "fe80::1"

struct loom_bgp_conf {
	struct loom_lease_conf lc; /* name, runDir, the lease file, stateDir */
};

/* Type-check loom-bgp's keys ("mtu", "ipMasq", "antiSpoof", "stateDir",
 * "dataDir", "bpfPinDir", "runDir") and fill *out.  An "ipam" section is
 * refused: the node's block is the range.  LOOM_ERR_INVALID_CONFIG naming
 * the key. */
int loom_bgp_conf_parse(const struct loom_netconf *nc, struct loom_bgp_conf *out,
			struct loom_err *err);

/* Read and parse the lease file.  Missing: LOOM_ERR_TRY_AGAIN (loomd has
 * not leased a block yet); unreadable LOOM_ERR_IO; malformed
 * LOOM_ERR_INVALID_CONFIG. */
int loom_bgp_lease_load(const struct loom_bgp_conf *c, struct loom_lease *out,
			struct loom_err *err);

/* What the commands run with, on the heap (~60 KiB). */
struct loom_bgp_net {
	struct loom_bgp_conf conf;
	struct loom_lease lease;       /* the lease it was made from (or a stand-in) */
	struct loom_lease_pod pod;     /* MTU, ipMasq, antiSpoof, dirs, MAC, DNS, cluster CIDRs */
	struct loom_ipam_conf ipam;    /* loom-ipam over the whole block */
	struct loom_pod_topology topo; /* routed, "lbg" veths */
	struct loom_ipam_client client;
	struct loom_pod_conf view; /* the pod library's view of all of it */
};

/* Build and verify it for ctx's command; with `lenient` (DEL, GC) a lost
 * lease file is replaced by what the endpoint record remembers, or a
 * stand-in.  -1 with err (nothing to free). */
int loom_bgp_net_make(const struct loom_cni_ctx *ctx, bool lenient, struct loom_bgp_net **out,
		      struct loom_err *err);
void loom_bgp_net_free(struct loom_bgp_net *n);

/* Make the net (lenient as above), run fn on it, free it.  make_code
 * (nonzero) replaces LOOM_ERR_TRY_AGAIN when the net cannot be made. */
typedef int (*loom_bgp_cmd)(struct loom_cni_ctx *ctx, const struct loom_bgp_net *n,
			    struct loom_err *err);
int loom_bgp_run(struct loom_cni_ctx *ctx, bool lenient, loom_bgp_cmd fn, int make_code,
		 struct loom_err *err);

/* The commands (loom_plugin callbacks). */
int loom_bgp_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err);
int loom_bgp_del(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_bgp_check(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_bgp_gc(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_bgp_status(struct loom_cni_ctx *ctx, struct loom_err *err);

/* CHECK's routed part (the topology's check hook). */
int loom_bgp_check_routed(const struct loom_pod_check *k, struct loom_err *err);

#endif
