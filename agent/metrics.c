/* loomd's metrics (metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "daemon/serve.h"
#include "usage.h"

#define BGPSTATUS_PREFIX "/loom/bgpstatus/" /* plugins/bgp/controller.h */

static struct loom_metric *add(struct loomd_metrics *m, enum loom_metric_type t, const char *name,
			       const char *help, const char *const *labels)
{
	return loom_metrics_add(m->reg, t, name, help, labels, NULL, 0);
}

int loomd_metrics_init(struct loomd_metrics *m)
{
	static const char *const ok[] = { "result", "success", NULL };
	static const char *const bad[] = { "result", "failure", NULL };
	static const char help_renew[] = "Node lease renewals (keep-alives), by result.";

	memset(m, 0, sizeof(*m));
	m->reg = loom_metrics_new();
	if (!m->reg || loom_serve_build_info(m->reg) < 0)
		goto fail;
	m->renew_ok = add(m, LOOM_METRIC_COUNTER, "loom_lease_renewals_total", help_renew, ok);
	m->renew_failed = add(m, LOOM_METRIC_COUNTER, "loom_lease_renewals_total", help_renew, bad);
	m->watch_restarts = add(m, LOOM_METRIC_COUNTER, "loom_store_watch_restarts_total",
				"Store watches set up again after one was lost or failed.", NULL);
	m->overlay_peers = add(m, LOOM_METRIC_GAUGE, "loom_overlay_peers",
			       "Remote nodes the backend's controller programs (vxlan FDB "
			       "peers, BGP neighbours).",
			       NULL);
	m->apply_seconds =
		loom_metrics_add(m->reg, LOOM_METRIC_HISTOGRAM,
				 "loom_dataplane_apply_duration_seconds",
				 "Time to reconcile the backend's dataplane with the node list.",
				 NULL, loom_apply_seconds_buckets, loom_apply_seconds_n_buckets);
	m->apply_errors = add(m, LOOM_METRIC_COUNTER, "loom_dataplane_apply_errors_total",
			      "Dataplane changes the backend's controller failed to apply.", NULL);
	if (!m->renew_ok || !m->renew_failed || !m->watch_restarts || !m->overlay_peers ||
	    !m->apply_seconds || !m->apply_errors)
		goto fail;
	return 0;
fail:
	loomd_metrics_free(m);
	return -ENOMEM;
}

void loomd_metrics_free(struct loomd_metrics *m)
{
	loom_metrics_free(m->reg);
	memset(m, 0, sizeof(*m));
}

static void block_usage(struct loomd_metrics *m, struct loomd *d, const struct loom_prefix *b)
{
	char range[LOOM_PREFIX_STRLEN];
	const char *labels[] = { "range", loom_prefix_fmt(b, range), NULL };
	uint64_t used = 0;

	if (loomd_block_used_records(d->cfg.state_dir, d->cfg.network, b, &used) < 0)
		return; /* the gauge keeps its last value */
	loom_metric_set(add(m, LOOM_METRIC_GAUGE, "loom_ipam_addresses_in_use",
			    "Pod addresses held in a node block.", labels),
			(double)used);
	loom_metric_set(add(m, LOOM_METRIC_GAUGE, "loom_ipam_addresses_capacity",
			    "Pod addresses a node block can hold.", labels),
			(double)loomd_block_capacity(b));
}

/* Every session the controller last published: up or not.  Sessions
 * that went away keep their series at 0 (the registry never forgets a
 * series; a peer is gone for good only when loomd restarts). */
static void bgp_peers(struct loomd_metrics *m, struct loomd *d)
{
	static const char help[] = "1 when the BGP session to the peer is Established.";
	struct loom_err err = { 0 };
	struct loom_kv kv = { 0 };
	char key[LOOMD_NAME_MAX + 32];
	json_t *o, *p;
	size_t i;

	snprintf(key, sizeof(key), BGPSTATUS_PREFIX "%s", d->cfg.node);
	if (loom_store_get(d->store, key, &kv, &err) != 1)
		return;
	o = json_loadb(kv.value, kv.value_len, 0, NULL);
	loom_kv_clear(&kv);
	json_array_foreach(json_object_get(o, "peers"), i, p) {
		const char *addr = json_string_value(json_object_get(p, "address"));
		const char *state = json_string_value(json_object_get(p, "state"));
		const char *labels[] = { "peer", addr, NULL };

		if (addr)
			loom_metric_set(add(m, LOOM_METRIC_GAUGE, "loom_bgp_peer_up", help, labels),
					state && !strcmp(state, "Established") ? 1 : 0);
	}
	json_decref(o);
}

void loomd_metrics_refresh(struct loomd_metrics *m, struct loomd *d, size_t n_peers)
{
	loom_metric_set(m->overlay_peers, (double)n_peers);
	if (d->have_subnet)
		block_usage(m, d, &d->subnet);
	if (d->have_subnet6)
		block_usage(m, d, &d->subnet6);
	/* only bgp mode's controller publishes a status: no mode named here */
	if (d->store && d->lease)
		bgp_peers(m, d);
}
