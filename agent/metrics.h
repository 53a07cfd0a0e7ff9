/* loomd's Prometheus metrics (served by lib/daemon/serve.c when
 * --metrics-address is given).
 *
 * Counters are bumped by the loop as things happen (main.c); gauges are
 * read from loomd's state at scrape time by loomd_metrics_refresh:
 *   loom_build_info{version}
 *   loom_lease_renewals_total{result="success"|"failure"}
 *   loom_store_watch_restarts_total   node watches set up again after a loss
 *   loom_dataplane_apply_duration_seconds  one full reconcile of the
 *                                     backend's dataplane with the node list
 *   loom_dataplane_apply_errors_total the controller failed to apply a change
 *   loom_overlay_peers                remote nodes the backend programs
 *   loom_ipam_addresses_in_use{range}, loom_ipam_addresses_capacity{range}
 *                                     per node block, from the endpoint records
 *   loom_bgp_peer_up{peer}            1 per Established session, from
 *                                     /loom/bgpstatus/<node> (bgp mode's
 *                                     controller publishes it)
 * Label values are few per node (its blocks, its BGP peers): no
 * per-pod labels. */
#ifndef LOOMD_METRICS_H
#define LOOMD_METRICS_H

#include <stddef.h>

#include "daemon.h"
#include "daemon/metrics.h"

struct loomd_metrics {
	struct loom_metrics *reg; /* owned */
	struct loom_metric *renew_ok, *renew_failed, *watch_restarts, *overlay_peers;
	struct loom_metric *apply_seconds, *apply_errors;
};

/* 0 or -errno (ENOMEM). */
int loomd_metrics_init(struct loomd_metrics *m);
void loomd_metrics_free(struct loomd_metrics *m);
/* Gauges from the state: n_peers remote nodes known to the controller. */
void loomd_metrics_refresh(struct loomd_metrics *m, struct loomd *d, size_t n_peers);

#endif
