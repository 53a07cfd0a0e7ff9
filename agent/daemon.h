/* loomd's running state and the steps of its event loop that talk to the
 * datastore (lease.c: node and subnet; publish.c: endpoints).  These steps
 * log the events they decide on (a subnet leased, an endpoint published);
 * failures are returned with err filled, and the loop (main.c) decides how
 * to say and retry them.  err->code LOOM_ERR_STORE always means "the store
 * did not answer": the loop backs off and redoes the whole sync. */
#ifndef LOOMD_DAEMON_H
#define LOOMD_DAEMON_H

#include "agent.h"
#include "controller.h"
#include "store/store.h"

struct loomd {
	struct loomd_config cfg;
	struct loom_store *store;       /* owned */
	int64_t lease;                  /* the node's lease, 0 = none yet */
	struct loom_network net;        /* valid once a sync found the Network */
	bool have_subnet, have_subnet6; /* the blocks held (kept across lease loss) */
	struct loom_prefix subnet, subnet6;
	uint32_t underlay_mtu; /* 0 = unknown */
	bool has_vtep_mac;     /* published in the node key as "vtepMAC" */
	uint8_t vtep_mac[6];
};

/* Everything but endpoints: find the Network, hold a live lease (reusing
 * the node key's lease while it lives), claim the node's blocks, put the
 * node key, write the lease file.  Errors: LOOM_ERR_STORE, LOOM_ERR_NOT_FOUND
 * (no Network yet), LOOM_ERR_IPAM_EXHAUSTED (no free block), others for a
 * bad Network or an unwritable run dir. */
int loomd_register(struct loomd *d, struct loom_err *err);

/* Renew the lease: 0, or -1 (LOOM_ERR_NOT_FOUND: the lease expired, d->lease
 * is reset and the caller registers again). */
int loomd_keepalive(struct loomd *d, struct loom_err *err);

/* Make /loom/endpoints/<node>/ match the records in the state dir: put what
 * is missing or different, delete what has no record (diff, no flush). */
int loomd_endpoints_reconcile(struct loomd *d, struct loom_err *err);

/* One record file appeared, changed or went away (fname: its name in the
 * state dir).  Files of other networks and temp files are ignored. */
int loomd_endpoint_changed(struct loomd *d, const char *fname, struct loom_err *err);

/* ---- nodes.c: other nodes -> the backend's controller ---- */

struct loomd_nodes {
	const struct loomd_controller_ops *ops; /* the running controller, NULL: none */
	void *state;
	struct loom_network net; /* what it runs with (ctx->net) */
	struct loom_prefix subnet;
	bool started; /* start() done for net/subnet (ops may be NULL) */
	bool synced;  /* listed, reconciled and watching */
	struct loom_watch *watch;
	struct loom_watch *config_watch; /* /loom/config/<network> */
	bool network_stale;              /* the Network changed beyond the mode's
					     * section: the loop registers again */
	struct loomd_node *known;        /* remote nodes of our network, as last seen */
	size_t n_known;
};

/* After a register: a Network or block that changed since the controller
 * started restarts it (and the sync). */
void loomd_nodes_check(struct loomd *d, struct loomd_nodes *s);
/* Start the controller if needed, list /loom/nodes/, reconcile, watch from
 * the list's revision + 1.  0, or -1 with err (LOOM_ERR_STORE for the store;
 * others: the controller failed). */
int loomd_nodes_sync(struct loomd *d, struct loomd_nodes *s, struct loom_err *err);
/* Hand the watches' pending events to the controller, without waiting: a
 * node's to node_added/changed/removed, the Network's to network_changed
 * (or s->network_stale, for the loop to register again).  On -1 the sync
 * is undone (s->synced false): call loomd_nodes_sync again. */
int loomd_nodes_poll(struct loomd *d, struct loomd_nodes *s, struct loom_err *err);
/* Close the watch, stop the controller (the dataplane stays). */
void loomd_nodes_stop(struct loomd_nodes *s);

/* ---- sysctl.c ---- */

/* The mode's sysctls (its entry of the mode table); best effort, logs
 * what it cannot set. */
void loomd_sysctls(const struct loom_mode *m);

#endif
