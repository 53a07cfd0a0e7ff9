/* loom-bgp, the CNI plugin of bgp mode: a routed veth per pod, no bridge
 * (Calico's shape).  BIRD, driven by loomd (bird*.c, controller*.c),
 * announces the node's block; this plugin only wires pods to the host.
 *
 *   plugin_conf.c   our config keys; the node's lease file; the loom-bridge
 *                   config (the "delegate") whose IPAM, firewall, antiSpoof
 *                   and endpoint record parts we reuse
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
 * The delegate: loom-ipam over the whole block (the gateway is not inside
 * it: the pod's gateway is link-local), ipMasq exempting the cluster CIDR,
 * the lease's MTU, antiSpoof as loom-bridge. */
#ifndef LOOM_BGP_PLUGIN_H
#define LOOM_BGP_PLUGIN_H

#include <limits.h>

#include "bridge.h"
#include "cni/cni.h"
#include "base/err.h"
#include "lease_conf.h"
#include "pod/leasefile.h"

/* Host veth names: "lbg" + 8 hex digits of the attachment's hash. */
#define LOOM_BGP_VETH_PREFIX "lbg"
/* The pod's gateways: answered by a static neighbour (plugin_add.c). */
#define LOOM_BGP_GW4 "169.254.1.1"
#define LOOM_BGP_GW6 "fe80::1"

struct loom_bgp_conf {
	struct loom_lease_conf lc;  /* name, runDir, the lease file, stateDir */
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

/* The loom-bridge config (new reference) from the user's config and the
 * lease: loom-ipam over each block with no gateway handed out inside it. */
json_t *loom_bgp_delegate_json(const struct loom_netconf *nc, const struct loom_lease *l,
			       struct loom_err *err);

/* Everything the commands need, on the heap (results are large). */
struct loom_bgp_delegate {
	struct loom_cni_ctx ctx;    /* the caller's env and args, the delegate's netconf */
	char *text;                 /* the delegate's JSON (ctx.stdin_buf) */
	struct loom_br_conf br;     /* parsed, masq_exempt = the cluster CIDRs */
	struct loom_lease lease;    /* the lease it was made from (or a stand-in) */
	struct loom_br_view view;   /* the pod library's view: routed, "lbg" veths */
};

/* Build and parse the delegate for ctx's command; with `lenient` (DEL, GC)
 * a lost lease file is replaced by what the endpoint record remembers, or a
 * stand-in.  -1 with err. */
int loom_bgp_delegate_make(const struct loom_cni_ctx *ctx, bool lenient,
			   struct loom_bgp_delegate **out, struct loom_err *err);
void loom_bgp_delegate_free(struct loom_bgp_delegate *d);

/* The commands (loom_plugin callbacks). */
int loom_bgp_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err);
int loom_bgp_del(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_bgp_check(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_bgp_gc(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_bgp_status(struct loom_cni_ctx *ctx, struct loom_err *err);

/* CHECK's routed part (the topology's check hook). */
int loom_bgp_check_routed(const struct loom_pod_check *k, struct loom_err *err);

#endif
