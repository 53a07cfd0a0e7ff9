/* bridge mode's entry of the mode table (model/mode.h): pods on a Linux
 * bridge, nothing between nodes (single host, or the user's own routes);
 * spec.backend.type "none".  It lives in this subfolder because
 * the .c files of plugins/bridge/ are the loom-bridge plugin, which must not link the
 * model layer. */
#include <stddef.h>

#include "model/mode.h"

const struct loom_mode loom_mode_bridge = {
	.name = "bridge",
	.backend = "none",
	.cni = "loom-bridge",
	/* loom-bridge takes its block from its own config; on a loomd node
	 * loom-vxlan is a bridge on the leased block (no overlay without the
	 * vxlan controller). */
	.node_cni = "loom-vxlan",
	.lease_file = false,
	.bridged = true,
	.sysctls = loom_sysctls_bridged,
};
