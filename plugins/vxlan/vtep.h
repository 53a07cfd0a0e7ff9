/* The node's VXLAN tunnel endpoint: the device loom.<VNI>, its MAC and its
 * address.  Used by the overlay controller (controller.c). */
#ifndef LOOM_VXLAN_VTEP_H
#define LOOM_VXLAN_VTEP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ip.h"
#include "kernel/nl.h"

/* "loom.<vni>".  0, or -EINVAL for a vni outside 1..2^24-1. */
int loom_vtep_dev_name(uint32_t vni, char buf[IFNAMSIZ]);

/* The node's VTEP MAC: FNV-1a over the node name (bits mixed), locally administered
 * unicast.  Deterministic, so it survives restarts, a wiped state dir and a
 * recreated device, and other nodes' FDB entries stay right. */
void loom_vtep_mac(const char *node, uint8_t mac[LOOM_MAC_LEN]);

struct loom_vtep_conf {
	uint32_t vni;
	uint16_t port;
	struct loom_ip local;  /* the node's underlay address */
	uint32_t underlay_mtu; /* 0: look it up (1500 when no link holds local) */
	uint8_t mac[LOOM_MAC_LEN];
	struct loom_ip gw; /* the node subnet's first address: the device's /32 */
};

/* Make loom.<vni> exist with exactly conf's vni, local, port and learning
 * off (else delete and create it again), the MAC, MTU (underlay's minus
 * 50, 70 over IPv6), up, and the gateway /32 as its only IPv4 address.
 * A device that is already right is not touched.  Returns its ifindex and
 * *created (true when made anew), or -1 with err. */
int loom_vtep_ensure(struct loom_nl *nl, const struct loom_vtep_conf *conf, bool *created,
		     struct loom_err *err);

#endif
