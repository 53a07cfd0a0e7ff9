/* loom-bridge internals shared between its files: the bridge topology
 * over the pod library (lib/pod: undo, veth, IPAM client, record,
 * firewall, DEL, CHECK).
 *
 *   conf.c     the config (conf.h) and its view for the pod library
 *   port.c     the veth's bridge port flags
 *   vlan.c     VLANs of the pod's bridge port
 *   gateway.c  gateway addresses on the bridge
 *   add.c, del.c (DEL, CHECK, GC, STATUS)   the commands; main.c maps CNI
 *              onto them */
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
#include "pod/pod.h"

/* ---- commands (loom_plugin callbacks) ---- */

int loom_br_add(struct loom_cni_ctx *ctx, struct loom_result *res, struct loom_err *err);
int loom_br_del(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_br_check(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_br_gc(struct loom_cni_ctx *ctx, struct loom_err *err);
int loom_br_status(struct loom_cni_ctx *ctx, struct loom_err *err);

/* The same commands on a config already built (and possibly completed,
 * e.g. masq_exempt) by the caller: what loom-vxlan runs in-process.  `ic`
 * is loom-ipam's config when the caller built it, NULL to have it parsed
 * from ctx's netconf (whose ipam section must then be the config's). */
struct loom_ipam_conf;
int loom_br_add_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     const struct loom_ipam_conf *ic, struct loom_result *res,
		     struct loom_err *err);
int loom_br_del_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		     const struct loom_ipam_conf *ic, struct loom_err *err);
int loom_br_check_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		       const struct loom_ipam_conf *ic, struct loom_err *err);
int loom_br_gc_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
		    const struct loom_ipam_conf *ic, struct loom_err *err);
int loom_br_status_conf(struct loom_cni_ctx *ctx, const struct loom_br_conf *c,
			const struct loom_ipam_conf *ic, struct loom_err *err);

/* ---- the pod library's view of a loom-bridge config ---- */

struct loom_br_view {
	struct loom_pod_topology topo; /* veths on c->bridge */
	struct loom_ipam_client ipam;
	struct loom_pod_conf pod;
};

/* Fill *v from c (which must outlive it); ic as for loom_br_add_conf. */
void loom_br_view_init(struct loom_br_view *v, const struct loom_cni_ctx *ctx,
		       const struct loom_br_conf *c, const struct loom_ipam_conf *ic);

/* ---- the bridge port ---- */

/* Hairpin, isolation, and the VLAN settings of the host end. */
int loom_br_port_setup(struct loom_nl *host, const struct loom_br_conf *c,
		       const struct loom_link *port, struct loom_err *err);

/* The port's VLANs (vlan.c); nothing to do without vlan or vlanTrunk. */
int loom_br_vlan_setup(const struct loom_br_conf *c, const struct loom_link *port,
		       struct loom_err *err);

/* ---- gateway ---- */

/* Put gw (the gateway with its subnet's length) on the bridge, honouring
 * forceAddress like the reference: an IPv4 bridge holds one address per
 * config, an IPv6 one any number of non-overlapping ones. */
int loom_br_gateway_ensure(struct loom_nl *host, const struct loom_link *br,
			   const struct loom_prefix *gw, bool force, struct loom_err *err);

#endif
