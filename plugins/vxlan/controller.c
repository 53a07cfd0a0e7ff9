/* The vxlan overlay controller (see controller.h).
 *
 * Event calls (added/changed/removed) program one node's three entries;
 * reconcile() reads what the device holds, diffs it against every node's
 * entries, removes what no node owns and adds what is missing: an entry
 * that is already right is never rewritten, so a loomd restart leaves the
 * kernel's tables exactly as they were. */
#include "controller.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>

struct vx {
	struct loom_nl *nl;             /* in loomd's netns: the node's */
	char dev[IFNAMSIZ];
	int ifindex;
	int family;                     /* the underlay's */
};

int loom_vxlan_peer(const struct loomd_node *n, int local_family, struct loom_vxlan_peer *p)
{
	if (!n->has_vtep_mac || n->address.family != local_family || n->subnet.ip.family != AF_INET)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
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
		.dst = p->subnet, .gw = p->gw, .oif = v->ifindex, .protocol = LOOM_RTPROT, .onlink = true,
	};
}

/* The neighbour first: the route's first packet must not wait on ARP,
 * which the device (no learning, no remote) could never answer. */
static int peer_add(struct vx *v, const struct loom_vxlan_peer *p, const char *node,
		    struct loom_err *err)
{
	struct loom_nl_route rt = peer_route(v, p);
	int r;

	if ((r = loom_neigh_add(v->nl, v->ifindex, &p->gw, p->mac)) < 0)
		return fail(v, err, r, "cannot add the neighbour", node);
	if ((r = loom_fdb_add(v->nl, v->ifindex, p->mac, &p->underlay, 0)) < 0)
		return fail(v, err, r, "cannot add the fdb entry", node);
	if ((r = loom_route_add(v->nl, &rt, LOOM_ROUTE_REPLACE)) < 0)
		return fail(v, err, r, "cannot add the route", node);
	return 0;
}

/* The route first, the reverse of peer_add. */
static int peer_del(struct vx *v, const struct loom_vxlan_peer *p, const char *node,
		    struct loom_err *err)
{
	struct loom_nl_route rt = peer_route(v, p);
	int r;

	if ((r = loom_route_del(v->nl, &rt, true)) < 0)
		return fail(v, err, r, "cannot remove the route", node);
	if ((r = loom_neigh_del(v->nl, v->ifindex, &p->gw, true)) < 0)
		return fail(v, err, r, "cannot remove the neighbour", node);
	if ((r = loom_fdb_del(v->nl, v->ifindex, p->mac, &p->underlay, 0, true)) < 0)
		return fail(v, err, r, "cannot remove the fdb entry", node);
	return 0;
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
	struct loom_vtep_conf c = {
		.vni = ctx->net->vxlan_vni,
		.port = ctx->net->vxlan_port,
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
		return loom_err_set(err, LOOM_ERR_INTERNAL, "cannot open netlink: %s", strerror(-r));
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

static int vx_added(void *state, const struct loomd_node *n, struct loom_err *err)
{
	struct vx *v = state;
	struct loom_vxlan_peer p;

	if (loom_vxlan_peer(n, v->family, &p) < 0) {
		loomd_log("node %s has no usable vtepMAC/address, skipping it", n->name);
		return 0;
	}
	return peer_add(v, &p, n->name, err);
}

static int vx_removed(void *state, const struct loomd_node *n, struct loom_err *err)
{
	struct vx *v = state;
	struct loom_vxlan_peer p;

	if (loom_vxlan_peer(n, v->family, &p) < 0)
		return 0;
	return peer_del(v, &p, n->name, err);
}

static int vx_changed(void *state, const struct loomd_node *old, const struct loomd_node *n,
		      struct loom_err *err)
{
	struct vx *v = state;
	struct loom_vxlan_peer po, pn;
	bool have_old = loom_vxlan_peer(old, v->family, &po) == 0;
	bool have_new = loom_vxlan_peer(n, v->family, &pn) == 0;

	if (have_old && have_new && memcmp(&po, &pn, sizeof(po)) == 0)
		return 0;
	if (have_old && peer_del(v, &po, old->name, err) < 0)
		return -1;
	return have_new ? peer_add(v, &pn, n->name, err) : 0;
}

/* ---- reconcile ---- */

static bool route_is(const struct loom_nl_route *r, const struct loom_vxlan_peer *p)
{
	return r->dst.len == p->subnet.len && loom_ip_eq(&r->dst.ip, &p->subnet.ip) &&
	       loom_ip_eq(&r->gw, &p->gw) && r->onlink;
}

static int reconcile_neigh(struct vx *v, const struct loom_vxlan_peer *peers, size_t np,
			   bool *ok, struct loom_err *err)
{
	struct loom_neigh *cur = NULL;
	char ip[LOOM_IP_STRLEN];
	size_t j;
	int n, i, r = 0;

	n = loom_neigh_list(v->nl, v->ifindex, AF_INET, &cur);
	if (n < 0)
		return fail(v, err, n, "cannot list neighbours", "(all)");
	for (i = 0; i < n && r == 0; i++) {
		bool owned = false;

		for (j = 0; j < np; j++) {
			if (!loom_ip_eq(&cur[i].ip, &peers[j].gw))
				continue;
			owned = true;
			if ((cur[i].state & NUD_PERMANENT) && cur[i].has_mac &&
			    memcmp(cur[i].mac, peers[j].mac, LOOM_MAC_LEN) == 0)
				ok[j] = true;
		}
		/* The kernel's own entries (ARP attempts) age out by themselves. */
		if (owned || !(cur[i].state & NUD_PERMANENT))
			continue;
		loomd_log("removing stale neighbour %s on %s", loom_ip_fmt(&cur[i].ip, ip), v->dev);
		r = loom_neigh_del(v->nl, v->ifindex, &cur[i].ip, true);
	}
	free(cur);
	if (r < 0)
		return fail(v, err, r, "cannot remove a stale neighbour", "(none)");
	return 0;
}

static int reconcile_fdb(struct vx *v, const struct loom_vxlan_peer *peers, size_t np, bool *ok,
			 struct loom_err *err)
{
	struct loom_fdb *cur = NULL;
	char mac[18], ip[LOOM_IP_STRLEN];
	size_t j;
	int n, i, r = 0;

	n = loom_fdb_list(v->nl, v->ifindex, &cur);
	if (n < 0)
		return fail(v, err, n, "cannot list fdb entries", "(all)");
	for (i = 0; i < n && r == 0; i++) {
		bool owned = false;

		for (j = 0; j < np && !owned; j++) {
			if (memcmp(cur[i].mac, peers[j].mac, LOOM_MAC_LEN) == 0 &&
			    loom_ip_eq(&cur[i].dst, &peers[j].underlay)) {
				owned = true;
				ok[j] = true;
			}
		}
		if (owned)
			continue;
		loomd_mac_fmt(cur[i].mac, mac);
		loomd_log("removing stale fdb entry %s dst %s on %s", mac,
			  cur[i].dst.family ? loom_ip_fmt(&cur[i].dst, ip) : "-", v->dev);
		r = loom_fdb_del(v->nl, v->ifindex, cur[i].mac, cur[i].dst.family ? &cur[i].dst : NULL,
				 0, true);
	}
	free(cur);
	if (r < 0)
		return fail(v, err, r, "cannot remove a stale fdb entry", "(none)");
	return 0;
}

static int reconcile_routes(struct vx *v, const struct loom_vxlan_peer *peers, size_t np,
			    bool *ok, struct loom_err *err)
{
	struct loom_route_filter f = { .family = AF_INET, .oif = v->ifindex, .protocol = LOOM_RTPROT };
	struct loom_nl_route *cur = NULL;
	char dst[LOOM_PREFIX_STRLEN];
	size_t j;
	int n, i, r = 0;

	n = loom_route_list(v->nl, &f, &cur);
	if (n < 0)
		return fail(v, err, n, "cannot list routes", "(all)");
	for (i = 0; i < n && r == 0; i++) {
		bool owned = false;

		for (j = 0; j < np && !owned; j++) {
			if (route_is(&cur[i], &peers[j])) {
				owned = true;
				ok[j] = true;
			}
		}
		if (owned)
			continue;
		loomd_log("removing stale route %s on %s", loom_prefix_fmt(&cur[i].dst, dst), v->dev);
		r = loom_route_del(v->nl, &cur[i], true);
	}
	free(cur);
	if (r < 0)
		return fail(v, err, r, "cannot remove a stale route", "(none)");
	return 0;
}

static int vx_reconcile(void *state, const struct loomd_node *nodes, size_t n,
			struct loom_err *err)
{
	struct vx *v = state;
	struct loom_vxlan_peer *peers = calloc(n ? n : 1, sizeof(*peers));
	bool *ok = calloc(3 * (n ? n : 1), sizeof(*ok));
	bool *ok_neigh = ok, *ok_fdb = ok + n, *ok_route = ok + 2 * n;
	const char **names = calloc(n ? n : 1, sizeof(*names));
	size_t np = 0, i, added = 0;
	int r = -1;

	if (!peers || !ok || !names) {
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (loom_vxlan_peer(&nodes[i], v->family, &peers[np]) < 0) {
			loomd_log("node %s has no usable vtepMAC/address, skipping it", nodes[i].name);
			continue;
		}
		names[np++] = nodes[i].name;
	}
	ok_fdb = ok + np;
	ok_route = ok + 2 * np;
	/* Removals first: a stale entry may hold a key (a gateway address, a
	 * MAC) that a live node is about to need. */
	if (reconcile_routes(v, peers, np, ok_route, err) < 0 ||
	    reconcile_neigh(v, peers, np, ok_neigh, err) < 0 ||
	    reconcile_fdb(v, peers, np, ok_fdb, err) < 0)
		goto out;
	for (i = 0; i < np; i++) {
		if (ok_neigh[i] && ok_fdb[i] && ok_route[i])
			continue;
		if (peer_add(v, &peers[i], names[i], err) < 0)
			goto out;
		added++;
	}
	loomd_log("%s: %zu remote node(s), %zu programmed, %zu already right", v->dev, np, added,
		  np - added);
	r = 0;
out:
	free(peers);
	free(ok);
	free(names);
	return r;
}

const struct loomd_controller_ops loom_vxlan_controller = {
	.name = "vxlan",
	.vtep_mac = vx_vtep_mac,
	.start = vx_start,
	.node_added = vx_added,
	.node_changed = vx_changed,
	.node_removed = vx_removed,
	.reconcile = vx_reconcile,
	.stop = vx_stop,
};
