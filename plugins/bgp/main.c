/* loom-bgp: the CNI plugin of bgp mode (plugin.h); loomd's BGP controller
 * lives beside it in this folder. */
#include "plugin.h"

/* MAC for the pod's interface; IP for the in-process loom-ipam. */
LOOM_CNI_PLUGIN_MAIN("loom-bgp", loom_bgp, "MAC", "IP")
