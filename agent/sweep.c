/* loomd's start-up sweep of the IPAM store (ipam/sweep.h): reservations a
 * machine crash left behind — their pods died with the machine, and no
 * reservation is synced (docs/durability.md) — are released once, before
 * the node registers, each with a log line.  Only loom's own network is
 * swept: a dataDir shared with other CNI networks (/var/lib/cni/networks)
 * keeps theirs untouched.  An attachment is alive while the plugin's
 * endpoint record is there; a reservation younger than the grace period
 * is kept whatever, since an ADD in flight holds its address before it
 * writes its record. */
#include "agent.h"

#include "daemon/daemon.h"
#include "sweep.h"

/* Longer than any ADD: a plugin holds its address for milliseconds before
 * its record appears, seconds on a loaded node. */
#define LOOMD_SWEEP_GRACE_S 60

static void released(const struct loom_ipam_reservation *r, void *user)
{
	(void)user;
	loom_info("ipam sweep: released %s of %s (container %s, interface %s): no endpoint "
		  "record, its pod is gone",
		  r->address, r->network, r->container_id[0] ? r->container_id : "(none)",
		  r->ifname[0] ? r->ifname : "(any)");
}

void loomd_ipam_sweep(const struct loomd_config *cfg)
{
	struct loom_ipam_sweep sw = {
		.data_dir = cfg->ipam_data_dir,
		.network = cfg->network,
		.grace_s = LOOMD_SWEEP_GRACE_S,
		.in_use = loom_ipam_sweep_has_record,
		.released = released,
		.user = (void *)cfg->state_dir,
	};
	struct loom_err err = { 0 };

	if (!cfg->ipam_data_dir[0])
		return;
	if (loom_ipam_sweep(&sw, &err) < 0) {
		loom_warn("ipam sweep of %s/%s: %s, ignoring", cfg->ipam_data_dir, cfg->network,
			  err.msg);
		return;
	}
	loom_info("ipam sweep of %s/%s: %zu released, %zu kept, %zu temp files removed",
		  cfg->ipam_data_dir, cfg->network, sw.n_released, sw.n_kept, sw.n_temps);
}
