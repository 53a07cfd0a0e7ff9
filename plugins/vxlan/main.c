/* loom-vxlan: the CNI plugin of vxlan mode (plugin.h); loomd's overlay
 * controller lives beside it in this folder. */
#include "plugin.h"

/* MAC for the pod's interface; IP for the in-process loom-ipam. */
static const char *const known_args[] = { "MAC", "IP", NULL };

static const struct loom_plugin plugin = {
	.name = "loom-vxlan",
	.known_args = known_args,
	.add = loom_vx_add,
	.del = loom_vx_del,
	.check = loom_vx_check,
	.gc = loom_vx_gc,
	.status = loom_vx_status,
};

int main(void)
{
	return loom_cni_main(&plugin);
}
