/* The vxlan overlay controller (see controller.h).
 *
 * Each call reads what it needs, asks diff.c what to do, and applies the
 * operations here, in their order: event calls (added/changed/removed)
 * program one node's three entries; reconcile() lists what the device
 * holds and lets loom_vxlan_diff() remove what no node owns and add what
 * is missing: an entry that is already right is never rewritten, so a
 * loomd restart leaves the kernel's tables exactly as they were. */
#include "controller.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"

struct vx {
	struct loom_nl *nl; /* in loomd's netns: the node's */
	char dev[IFNAMSIZ];
	int ifindex;
	int family; /* the underlay's */
};

int loom_vxlan_peer(const struct loomd_node *n, int local_family, struct loom_vxlan_peer *p)
{
	if (!n->has_vtep_mac || n->address.family != local_family || n->subnet.ip.family != AF_INET)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->node = n->name;
	p->subnet = n->subnet;
	p->gw = loom_prefix_first(&n->subnet);
	memcpy(p->mac, n->vtep_mac, LOOM_MAC_LEN);
	p->underlay = n->address;
	return 0;
}

static int vx_vtep_mac(const char *node, uint8_t mac[6])
{
	loom_vtep_mac(node, mac);
	return 0;
}

static int fail(struct vx *v, struct loom_err *err, int r, const char *what, const char *node)
{
	const char *m = loom_nl_last_msg(v->nl);

	return loom_err_set(err, LOOM_ERR_INTERNAL, "%s for node %s on %s: %s%s%s", what, node,
			    v->dev, strerror(-r), m[0] ? ": " : "", m);
}

static struct loom_nl_route peer_route(const struct vx *v, const struct loom_vxlan_peer *p)
{
	return (struct loom_nl_route){
		.dst = p->subnet,
		.gw = p->gw,
		.oif = v->ifindex,
		.protocol = LOOM_RTPROT,
		.onlink = true,
	};
}

/* The neighbour first: the route's first packet must not wait on ARP,
 * which the device (no learning, no remote) could never answer. */
static int peer_add(struct vx *v, const struct loom_vxlan_peer *p, struct loom_err *err)
{
	struct loom_nl_route rt = peer_route(v, p);
	int r;

	if ((r = loom_neigh_add(v->nl, v->ifindex, &p->gw, p->mac)) < 0)
		return fail(v, err, r, "cannot add the neighbour", p->node);
	if ((r = loom_fdb_add(v->nl, v->ifindex, p->mac, &p->underlay, 0)) < 0)
		return fail(v, err, r, "cannot add the fdb entry", p->node);
	if ((r = loom_route_add(v->nl, &rt, LOOM_ROUTE_REPLACE)) < 0)
		return fail(v, err, r, "cannot add the route", p->node);
	return 0;
}

/* The route first, the reverse of peer_add. */
static int peer_del(struct vx *v, const struct loom_vxlan_peer *p, struct loom_err *err)
{
	struct loom_nl_route rt = peer_route(v, p);
	int r;

	if ((r = loom_route_del(v->nl, &rt, true)) < 0)
		return fail(v, err, r, "cannot remove the route", p->node);
	if ((r = loom_neigh_del(v->nl, v->ifindex, &p->gw, true)) < 0)
		return fail(v, err, r, "cannot remove the neighbour", p->node);
	if ((r = loom_fdb_del(v->nl, v->ifindex, p->mac, &p->underlay, 0, true)) < 0)
		return fail(v, err, r, "cannot remove the fdb entry", p->node);
	return 0;
}

/* One operation of diff.c, on the device. */
static int apply_op(struct vx *v, const struct loom_vxlan_op *op, struct loom_err *err)
{
	char a[LOOM_PREFIX_STRLEN], mac[18];
	int r;

	switch (op->type) {
	case LOOM_VXLAN_ADD_PEER:
		return peer_add(v, &op->peer, err);
	case LOOM_VXLAN_DEL_PEER:
		return peer_del(v, &op->peer, err);
	case LOOM_VXLAN_DEL_ROUTE:
		loomd_log("removing stale route %s on %s", loom_prefix_fmt(&op->route.dst, a),
			  v->dev);
		r = loom_route_del(v->nl, &op->route, true);
		return r < 0 ? fail(v, err, r, "cannot remove a stale route", "(none)") : 0;
	case LOOM_VXLAN_DEL_NEIGH:
		loomd_log("removing stale neighbour %s on %s", loom_ip_fmt(&op->ip, a), v->dev);
		r = loom_neigh_del(v->nl, v->ifindex, &op->ip, true);
		return r < 0 ? fail(v, err, r, "cannot remove a stale neighbour", "(none)") : 0;
	case LOOM_VXLAN_DEL_FDB:
		loomd_mac_fmt(op->mac, mac);
		loomd_log("removing stale fdb entry %s dst %s on %s", mac,
			  op->dst.family ? loom_ip_fmt(&op->dst, a) : "-", v->dev);
		r = loom_fdb_del(v->nl, v->ifindex, op->mac, op->dst.family ? &op->dst : NULL, 0,
				 true);
		return r < 0 ? fail(v, err, r, "cannot remove a stale fdb entry", "(none)") : 0;
	}
	return loom_err_set(err, LOOM_ERR_INTERNAL, "unknown vxlan operation %d", (int)op->type);
}

static void vx_stop(void *state)
{
	struct vx *v = state;

	if (!v)
		return;
	loom_nl_close(v->nl);
	free(v);
}

static int vx_start(void **state, const struct loomd_controller_ctx *ctx, struct loom_err *err)
{
	const struct loom_vxlan_section *sec = loom_vxlan_section(ctx->net);
	struct loom_vtep_conf c = {
		.vni = sec->vni,
		.port = sec->port,
		.local = ctx->address,
		.underlay_mtu = ctx->underlay_mtu,
		.gw = loom_prefix_first(&ctx->subnet),
	};
	char mac[18], addr[LOOM_IP_STRLEN];
	struct vx *v;
	bool created;
	int r;

	*state = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if ((r = loom_nl_open(&v->nl)) < 0) {
		free(v);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "cannot open netlink: %s",
				    strerror(-r));
	}
	loom_vtep_mac(ctx->node, c.mac);
	loom_vtep_dev_name(c.vni, v->dev);
	v->family = ctx->address.family;
	r = loom_vtep_ensure(v->nl, &c, &created, err);
	if (r < 0) {
		vx_stop(v);
		return -1;
	}
	v->ifindex = r;
	loomd_mac_fmt(c.mac, mac);
	loomd_log("%s %s: vni %u, local %s, port %u, vtep %s", created ? "created" : "kept", v->dev,
		  c.vni, loom_ip_fmt(&c.local, addr), c.port, mac);
	*state = v;
	return 0;
}

/* A node's peer, or NULL (said) when its record cannot be programmed. */
static const struct loom_vxlan_peer *peer_of(const struct vx *v, const struct loomd_node *n,
					     struct loom_vxlan_peer *p, bool say)
{
	if (n && loom_vxlan_peer(n, v->family, p) == 0)
		return p;
	if (n && say)
		loomd_log("node %s has no usable vtepMAC/address, skipping it", n->name);
	return NULL;
}

static int change(struct vx *v, const struct loomd_node *old, const struct loomd_node *n,
		  struct loom_err *err)
{
	struct loom_vxlan_peer po, pn;
	struct loom_vxlan_op ops[2];
	size_t k, i;

	k = loom_vxlan_change(peer_of(v, old, &po, false), peer_of(v, n, &pn, true), ops);
	for (i = 0; i < k; i++)
		if (apply_op(v, &ops[i], err) < 0)
			return -1;
	return 0;
}

static int vx_node_added(void *state, const struct loomd_node *n, struct loom_err *err)
{
	return change(state, NULL, n, err);
}

static int vx_node_removed(void *state, const struct loomd_node *n, struct loom_err *err)
{
	return change(state, n, NULL, err);
}

static int vx_node_changed(void *state, const struct loomd_node *old, const struct loomd_node *n,
			   struct loom_err *err)
{
	return change(state, old, n, err);
}

/* ---- reconcile: read, diff, apply ---- */

struct current {
	struct loom_nl_route *routes;
	struct loom_neigh *neigh;
	struct loom_fdb *fdb;
};

static void current_free(struct current *c)
{
	free(c->routes);
	free(c->neigh);
	free(c->fdb);
}

static int read_current(struct vx *v, struct current *c, struct loom_vxlan_state *st,
			struct loom_err *err)
{
	struct loom_route_filter f = { .family = AF_INET,
				       .oif = v->ifindex,
				       .protocol = LOOM_RTPROT };
	int n;

	if ((n = loom_route_list(v->nl, &f, &c->routes)) < 0)
		return fail(v, err, n, "cannot list routes", "(all)");
	st->routes = c->routes;
	st->n_routes = (size_t)n;
	if ((n = loom_neigh_list(v->nl, v->ifindex, AF_INET, &c->neigh)) < 0)
		return fail(v, err, n, "cannot list neighbours", "(all)");
	st->neigh = c->neigh;
	st->n_neigh = (size_t)n;
	if ((n = loom_fdb_list(v->nl, v->ifindex, &c->fdb)) < 0)
		return fail(v, err, n, "cannot list fdb entries", "(all)");
	st->fdb = c->fdb;
	st->n_fdb = (size_t)n;
	return 0;
}

static int vx_reconcile(void *state, const struct loomd_node *nodes, size_t n, struct loom_err *err)
{
	struct vx *v = state;
	struct loom_vxlan_peer *peers = calloc(n ? n : 1, sizeof(*peers));
	struct current cur = { 0 };
	struct loom_vxlan_state st = { 0 };
	struct loom_vxlan_op *ops = NULL;
	size_t np = 0, n_ops = 0, added = 0, i;
	int r = -1;

	if (!peers) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (peer_of(v, &nodes[i], &peers[np], true))
			np++;
	if (read_current(v, &cur, &st, err) < 0)
		goto out;
	if (loom_vxlan_diff(peers, np, &st, &ops, &n_ops) < 0) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n_ops; i++) {
		if (apply_op(v, &ops[i], err) < 0)
			goto out;
		added += ops[i].type == LOOM_VXLAN_ADD_PEER;
	}
	loomd_log("%s: %zu remote node(s), %zu programmed, %zu already right", v->dev, np, added,
		  np - added);
	r = 0;
out:
	free(ops);
	current_free(&cur);
	free(peers);
	return r;
}

/* No network_changed: a new vni or port is a new device, so loomd restarts
 * the controller. */
const struct loomd_controller_ops loom_vxlan_controller = {
	.name = "vxlan",
	LOOMD_CONTROLLER_OPS(vx),
	.vtep_mac = vx_vtep_mac,
};
