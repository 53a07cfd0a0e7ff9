/* loom-bridge: the bridge CNI plugin.  Everything lives in the loombridge
 * library (bridge.h); this maps the CNI commands onto it. */
#include "bridge.h"

/* MAC for the pod's interface; IP for loom-ipam running in-process. */
static const char *const known_args[] = { "MAC", "IP", NULL };

static const struct loom_plugin plugin = {
	.name = "loom-bridge",
	.known_args = known_args,
	.add = loom_br_add,
	.del = loom_br_del,
	.check = loom_br_check,
	.gc = loom_br_gc,
	.status = loom_br_status,
};

int main(void)
{
	return loom_cni_main(&plugin);
}
