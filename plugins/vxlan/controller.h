/* The vxlan overlay controller loomd runs (agent/controller.h), named by
 * vxlan's entry of the mode table (mode.c): loom.<VNI> on this node, and
 * for every other node a permanent neighbour (its gateway -> its VTEP
 * MAC), an FDB entry (VTEP MAC -> its underlay address) and a route (its
 * block via its gateway, onlink, protocol LOOM_RTPROT) on the device.
 *
 * The device is loom's alone, so every permanent neighbour, every FDB
 * entry and every LOOM_RTPROT route on it is ours to reconcile; the
 * kernel's own (incomplete, stale ARP) neighbours are left alone.  What
 * to change is decided by diff.c (pure); controller.c reads the kernel and
 * applies. */
#ifndef LOOM_VXLAN_CONTROLLER_H
#define LOOM_VXLAN_CONTROLLER_H

#include "../../agent/controller.h"
#include "diff.h"
#include "vtep.h"

extern const struct loomd_controller_ops loom_vxlan_controller;

/* One remote node's entries, derived from its record (p->node borrows
 * n->name).  0 and *p, or -EINVAL when the record cannot be programmed
 * (no vtepMAC, an underlay family other than local's). */
int loom_vxlan_peer(const struct loomd_node *n, int local_family, struct loom_vxlan_peer *p);

#endif
