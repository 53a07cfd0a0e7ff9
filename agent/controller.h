/* The seam between loomd and a mode's controller (plugins/<mode>/, named
 * by the mode's entry of the mode table, model/mode.h): loomd keeps the
 * node list and the Network in step with the store, a controller turns
 * them into dataplane state.
 *
 * loomd's side (nodes.c): after registering, it lists /loom/nodes/, calls
 * reconcile() with every other node of its network, and follows a watch
 * from the list's revision + 1, calling node_added / node_changed /
 * node_removed per event.  It watches the Network's key too: a change of
 * the mode's own section alone is handed to network_changed(); any other
 * change re-registers the node (new blocks, a new lease file) and restarts
 * the controller.  A watch that fails, or a controller call that
 * fails, makes it list and reconcile again (after a delay), so a controller
 * may treat every call as "make it so" and never needs to retry itself.
 *
 * A controller never undoes its dataplane on stop(): loomd exiting (or
 * killed) leaves pods' traffic flowing; the next start() + reconcile()
 * fixes whatever changed meanwhile. */
#ifndef LOOMD_CONTROLLER_H
#define LOOMD_CONTROLLER_H

#include "agent.h"

/* A node's record (/loom/nodes/<node>, docs/datastore.md), parsed. */
struct loomd_node {
	char name[LOOMD_NAME_MAX];
	char network[LOOMD_NAME_MAX];
	struct loom_ip address;    /* underlay */
	struct loom_prefix subnet; /* the node's IPv4 pod block */
	bool has_subnet6;
	struct loom_prefix subnet6;
	bool has_vtep_mac;
	uint8_t vtep_mac[6];
};

/* Parse a node record: every field checked (the store is a trust
 * boundary).  0, or -1 with LOOM_ERR_DECODE naming the field. */
int loomd_node_parse(const char *text, size_t len, struct loomd_node *out, struct loom_err *err);
/* True when the two records would program the same dataplane. */
bool loomd_node_same(const struct loomd_node *a, const struct loomd_node *b);
/* "aa:bb:cc:dd:ee:ff" <-> bytes.  parse: 0 or -EINVAL. */
int loomd_mac_parse(const char *s, uint8_t mac[6]);
void loomd_mac_fmt(const uint8_t mac[6], char buf[18]);

/* What a controller learns about its own node at start. */
struct loomd_controller_ctx {
	const char *node;               /* this node's name */
	const char *network;            /* the network's name */
	struct loom_ip address;         /* this node's underlay address */
	const struct loom_network *net; /* valid for the controller's life */
	struct loom_prefix subnet;      /* this node's IPv4 block */
	uint32_t underlay_mtu;          /* 0 = unknown */
	const char *state_dir;          /* loomd's --state-dir */
	const char *run_dir;            /* loomd's --run-dir */
	const char *bird_socket;        /* --bird-socket: an existing BIRD's, "" = none */
	struct loom_store *store;       /* loomd's handle; only on loomd's thread */
	const int64_t *lease;           /* loomd's node lease, read at each put (a new
					     * registration changes it); 0 = none */
};

struct loomd_controller_ops {
	const char *name;
	/* This node's VTEP MAC for its node record, before start() (may be
	 * NULL: the backend has none).  Must be stable across restarts. */
	int (*vtep_mac)(const char *node, uint8_t mac[6]);
	/* Build this node's side of the dataplane.  *state is the
	 * controller's, handed back to every other call. */
	int (*start)(void **state, const struct loomd_controller_ctx *ctx, struct loom_err *err);
	/* The mode's section of the Network changed (net: the new Network,
	 * the same object as ctx->net).  May be NULL: loomd then restarts the
	 * controller (stop, start, reconcile). */
	int (*network_changed)(void *state, const struct loom_network *net, struct loom_err *err);
	int (*node_added)(void *state, const struct loomd_node *n, struct loom_err *err);
	/* old: the record as last seen. */
	int (*node_changed)(void *state, const struct loomd_node *old, const struct loomd_node *n,
			    struct loom_err *err);
	int (*node_removed)(void *state, const struct loomd_node *n, struct loom_err *err);
	/* Make the dataplane match exactly these remote nodes: remove what no
	 * node owns, add what is missing, keep what is right. */
	int (*reconcile)(void *state, const struct loomd_node *nodes, size_t n,
			 struct loom_err *err);
	/* Optional (may be NULL): called on every turn of loomd's loop while
	 * the node list is in sync, for work of the controller's own pace
	 * (watching a helper process, publishing status).  Must not block. */
	int (*tick)(void *state, struct loom_err *err);
	/* Free the state; the dataplane stays. */
	void (*stop)(void *state);
};

/* The calls every controller has, named P_start, P_node_added,
 * P_node_changed, P_node_removed, P_reconcile and P_stop; the table adds
 * .name and whichever optional calls it has. */
#define LOOMD_CONTROLLER_OPS(P)                                                             \
	.start = P##_start, .node_added = P##_node_added, .node_changed = P##_node_changed, \
	.node_removed = P##_node_removed, .reconcile = P##_reconcile, .stop = P##_stop

#endif
