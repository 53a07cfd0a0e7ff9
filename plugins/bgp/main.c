/* loom-bgp: the CNI plugin of bgp mode (plugin.h); loomd's BGP controller
 * lives beside it in this folder. */
#include "plugin.h"

/* MAC for the pod's interface; IP for the in-process loom-ipam. */
static const char *const known_args[] = { "MAC", "IP", NULL };

static const struct loom_plugin plugin = {
	.name = "loom-bgp",
	.known_args = known_args,
	.add = loom_bgp_add,
	.del = loom_bgp_del,
	.check = loom_bgp_check,
	.gc = loom_bgp_gc,
	.status = loom_bgp_status,
};

int main(void)
{
	return loom_cni_main(&plugin);
}
