/* The vxlan controller's decisions, as pure functions: (desired remote
 * nodes, what the device holds) -> the operations that make the device
 * right.  No kernel, no store: tests/unit/test_vxlan_diff.c runs them on
 * tables; controller.c reads the kernel, calls them and applies the
 * operations in their order. */
#ifndef LOOM_VXLAN_DIFF_H
#define LOOM_VXLAN_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/ip.h"
#include "kernel/nl.h"

/* One remote node's entries on the device: a permanent neighbour (gw ->
 * mac), an FDB entry (mac -> underlay) and a route (subnet via gw,
 * onlink, protocol LOOM_RTPROT). */
struct loom_vxlan_peer {
	const char *node;          /* its name, for the log (borrowed) */
	struct loom_prefix subnet; /* route destination */
	struct loom_ip gw;         /* subnet's first address: neighbour and route gateway */
	uint8_t mac[LOOM_MAC_LEN]; /* its VTEP MAC */
	struct loom_ip underlay;   /* FDB destination */
};

/* What the device holds (every LOOM_RTPROT route on it, its IPv4
 * neighbours, its own FDB). */
struct loom_vxlan_state {
	const struct loom_nl_route *routes;
	size_t n_routes;
	const struct loom_neigh *neigh;
	size_t n_neigh;
	const struct loom_fdb *fdb;
	size_t n_fdb;
};

enum loom_vxlan_op_type {
	LOOM_VXLAN_DEL_ROUTE, /* .route, as the kernel listed it */
	LOOM_VXLAN_DEL_NEIGH, /* .ip */
	LOOM_VXLAN_DEL_FDB,   /* .mac, .dst (family 0: none) */
	LOOM_VXLAN_DEL_PEER,  /* .peer's route, neighbour and FDB entry, in that order */
	LOOM_VXLAN_ADD_PEER,  /* .peer's neighbour, FDB entry and route, in that order */
};

struct loom_vxlan_op {
	enum loom_vxlan_op_type type;
	struct loom_vxlan_peer peer;
	struct loom_nl_route route;
	struct loom_ip ip;
	uint8_t mac[LOOM_MAC_LEN];
	struct loom_ip dst;
};

/* Everything the device holds that no peer owns goes (routes first, then
 * neighbours, then FDB entries: a stale entry may hold a key a live peer
 * is about to need), and every peer missing any of its three entries is
 * added; what is right is left alone.  The kernel's own neighbours (not
 * permanent: ARP attempts) age out by themselves and are left too.
 * *ops malloc()ed in apply order (caller frees); 0, or -ENOMEM. */
int loom_vxlan_diff(const struct loom_vxlan_peer *want, size_t n_want,
		    const struct loom_vxlan_state *cur, struct loom_vxlan_op **ops, size_t *n_ops);

/* One node's record changed from old to new (either NULL: absent, or
 * not programmable): at most a DEL_PEER then an ADD_PEER, none when the
 * entries are the same.  Returns the count written to ops[2]. */
size_t loom_vxlan_change(const struct loom_vxlan_peer *old, const struct loom_vxlan_peer *new,
			 struct loom_vxlan_op ops[2]);

#endif
