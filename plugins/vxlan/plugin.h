/* loom-vxlan, the CNI plugin of vxlan mode: a thin layer over loom-bridge,
 * as flannel's plugin is over the reference bridge.
 *
 *   plugin_conf.c  our config keys; the node's lease file; the loom-bridge
 *                  and loom-ipam configs built from both, typed and verified
 *   plugin_cmd.c   ADD/DEL/CHECK/GC/STATUS: build them, run loom-bridge's
 *                  commands in this process
 *   main.c         maps CNI onto plugin_cmd.c
 *
 * What it runs with: bridge "loom0" (config "bridge"), isGateway, the node
 * subnet's second address (x.y.z.1) as gateway, in-process loom-ipam over
 * the node subnet from x.y.z.2 (x.y.z.0 is the VXLAN device's, flannel's
 * convention), routes to the cluster CIDR via the gateway (and the default
 * route with isDefaultGateway), the lease's MTU, and ipMasq exempting the
 * cluster CIDR so pods on other nodes see the pod's own address. */
#ifndef LOOM_VXLAN_PLUGIN_H
#define LOOM_VXLAN_PLUGIN_H

#include <limits.h>

#include "bridge.h"
#include "cni/cni.h"
#include "ipam.h"
#include "base/err.h"
#include "lease_conf.h"
#include "pod/leasefile.h"

#define LOOM_VX_DEFAULT_BRIDGE "loom0"

struct loom_vx_conf {
	struct loom_lease_conf lc; /* name, runDir, the lease file, stateDir */
};

/* Type-check loom-vxlan's keys ("bridge", "mtu", "ipMasq", "hairpinMode",
 * "isDefaultGateway", "antiSpoof", "macspoofchk", "stateDir", "dataDir",
 * "bpfPinDir", "runDir") and fill *out.  An "ipam" section is refused: the
 * node subnet is the range.  LOOM_ERR_INVALID_CONFIG naming the key. */
int loom_vx_conf_parse(const struct loom_netconf *nc, struct loom_vx_conf *out,
		       struct loom_err *err);

/* Read and parse the lease file.  A missing file is LOOM_ERR_TRY_AGAIN
 * (loomd has not leased a subnet yet); unreadable LOOM_ERR_IO; malformed
 * LOOM_ERR_INVALID_CONFIG. */
int loom_vx_lease_load(const struct loom_vx_conf *c, struct loom_lease *out, struct loom_err *err);

/* What loom-bridge's commands run with, on the heap (~60 KiB). */
struct loom_vx_net {
	struct loom_br_conf br;     /* verified, masq_exempt = the cluster CIDRs */
	struct loom_ipam_conf ipam; /* loom-ipam over the node subnet */
};

/* Build and verify both from ctx's config and args and the lease.  -1 with
 * err (nothing to free). */
int loom_vx_net_make(const struct loom_cni_ctx *ctx, const struct loom_lease *l,
		     struct loom_vx_net **out, struct loom_err *err);
void loom_vx_net_free(struct loom_vx_net *n);

/* The commands (loom_plugin callbacks). */
int loom_vx_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err);
int loom_vx_del(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_vx_check(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_vx_gc(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_vx_status(struct loom_cni_ctx *ctx, struct loom_err *err);

#endif
