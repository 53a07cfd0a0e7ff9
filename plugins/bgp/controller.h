/* bgp mode's controller in loomd (see agent/controller.h), named by bgp's
 * entry of the mode table (mode.c): renders BIRD's configuration from the
 * Network's bgp section and the node list loomd hands it, keeps one BIRD
 * running per node (or
 * drives an existing one through --bird-socket) and publishes its session
 * state to /loom/bgpstatus/<node>. */
#ifndef LOOM_BGP_CONTROLLER_H
#define LOOM_BGP_CONTROLLER_H

#include "../../agent/controller.h"
#include "bird.h"

#define LOOM_BGPSTATUS_PREFIX "/loom/bgpstatus/"

extern const struct loomd_controller_ops loom_bgp_controller;

/* The status value published for a node: {"node", "peers": [{"name",
 * "node"?, "address", "asNumber", "state", "imported", "exported"}]}.
 * Only BGP protocols are listed.  A new reference or NULL (ENOMEM). */
json_t *loom_bgp_status_json(const char *node, const struct loom_bird_proto *p, size_t n,
			     const struct loom_bird_neighbor *nbrs, size_t n_nbrs);

#endif
