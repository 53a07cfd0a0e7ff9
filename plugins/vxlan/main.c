/* loom-vxlan: the CNI plugin of vxlan mode (plugin.h); loomd's overlay
 * controller lives beside it in this folder. */
#include "plugin.h"

/* MAC for the pod's interface; IP for the in-process loom-ipam. */
LOOM_CNI_PLUGIN_MAIN("loom-vxlan", loom_vx, "MAC", "IP")
