/* loom-bridge: the bridge CNI plugin.  Everything lives in the loombridge
 * library (bridge.h); this maps the CNI commands onto it. */
#include "bridge.h"

/* MAC for the pod's interface; IP for the in-process loom-ipam. */
LOOM_CNI_PLUGIN_MAIN("loom-bridge", loom_br, "MAC", "IP")
