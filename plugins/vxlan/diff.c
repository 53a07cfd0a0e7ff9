/* The vxlan controller's decisions (diff.h): pure. */
#include "diff.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <stdlib.h>
#include <string.h>

static bool route_is(const struct loom_nl_route *r, const struct loom_vxlan_peer *p)
{
	return r->dst.len == p->subnet.len && loom_ip_eq(&r->dst.ip, &p->subnet.ip) &&
	       loom_ip_eq(&r->gw, &p->gw) && r->onlink;
}

static bool same_peer(const struct loom_vxlan_peer *a, const struct loom_vxlan_peer *b)
{
	return a->subnet.len == b->subnet.len && loom_ip_eq(&a->subnet.ip, &b->subnet.ip) &&
	       loom_ip_eq(&a->gw, &b->gw) && memcmp(a->mac, b->mac, LOOM_MAC_LEN) == 0 &&
	       loom_ip_eq(&a->underlay, &b->underlay);
}

/* ok[3 * j + k]: peer j's entry k (0 route, 1 neighbour, 2 FDB) is right. */
static void walk_routes(const struct loom_vxlan_peer *want, size_t n,
			const struct loom_vxlan_state *cur, bool *ok, struct loom_vxlan_op *ops,
			size_t *k)
{
	size_t i, j;

	for (i = 0; i < cur->n_routes; i++) {
		bool owned = false;

		for (j = 0; j < n && !owned; j++)
			if (route_is(&cur->routes[i], &want[j]))
				owned = ok[3 * j] = true;
		if (!owned)
			ops[(*k)++] = (struct loom_vxlan_op){ .type = LOOM_VXLAN_DEL_ROUTE,
							      .route = cur->routes[i] };
	}
}

static void walk_neigh(const struct loom_vxlan_peer *want, size_t n,
		       const struct loom_vxlan_state *cur, bool *ok, struct loom_vxlan_op *ops,
		       size_t *k)
{
	size_t i, j;

	for (i = 0; i < cur->n_neigh; i++) {
		const struct loom_neigh *e = &cur->neigh[i];
		bool owned = false;

		for (j = 0; j < n; j++) {
			if (!loom_ip_eq(&e->ip, &want[j].gw))
				continue;
			owned = true;
			if ((e->state & NUD_PERMANENT) && e->has_mac &&
			    memcmp(e->mac, want[j].mac, LOOM_MAC_LEN) == 0)
				ok[3 * j + 1] = true;
		}
		if (!owned && (e->state & NUD_PERMANENT))
			ops[(*k)++] =
				(struct loom_vxlan_op){ .type = LOOM_VXLAN_DEL_NEIGH, .ip = e->ip };
	}
}

static void walk_fdb(const struct loom_vxlan_peer *want, size_t n,
		     const struct loom_vxlan_state *cur, bool *ok, struct loom_vxlan_op *ops,
		     size_t *k)
{
	size_t i, j;

	for (i = 0; i < cur->n_fdb; i++) {
		const struct loom_fdb *e = &cur->fdb[i];
		bool owned = false;

		for (j = 0; j < n && !owned; j++)
			if (memcmp(e->mac, want[j].mac, LOOM_MAC_LEN) == 0 &&
			    loom_ip_eq(&e->dst, &want[j].underlay))
				owned = ok[3 * j + 2] = true;
		if (!owned) {
			ops[*k] =
				(struct loom_vxlan_op){ .type = LOOM_VXLAN_DEL_FDB, .dst = e->dst };
			memcpy(ops[(*k)++].mac, e->mac, LOOM_MAC_LEN);
		}
	}
}

int loom_vxlan_diff(const struct loom_vxlan_peer *want, size_t n_want,
		    const struct loom_vxlan_state *cur, struct loom_vxlan_op **ops, size_t *n_ops)
{
	size_t max = cur->n_routes + cur->n_neigh + cur->n_fdb + n_want, k = 0, j;
	struct loom_vxlan_op *v = calloc(max ? max : 1, sizeof(*v));
	bool *ok = calloc(3 * (n_want ? n_want : 1), sizeof(*ok));

	if (!v || !ok) {
		free(v);
		free(ok);
		return -ENOMEM;
	}
	walk_routes(want, n_want, cur, ok, v, &k);
	walk_neigh(want, n_want, cur, ok, v, &k);
	walk_fdb(want, n_want, cur, ok, v, &k);
	for (j = 0; j < n_want; j++)
		if (!ok[3 * j] || !ok[3 * j + 1] || !ok[3 * j + 2])
			v[k++] = (struct loom_vxlan_op){ .type = LOOM_VXLAN_ADD_PEER,
							 .peer = want[j] };
	free(ok);
	*ops = v;
	*n_ops = k;
	return 0;
}

size_t loom_vxlan_change(const struct loom_vxlan_peer *old, const struct loom_vxlan_peer *new,
			 struct loom_vxlan_op ops[2])
{
	size_t k = 0;

	if (old && new &&same_peer(old, new))
		return 0;
	if (old)
		ops[k++] = (struct loom_vxlan_op){ .type = LOOM_VXLAN_DEL_PEER, .peer = *old };
	if (new)
		ops[k++] = (struct loom_vxlan_op){ .type = LOOM_VXLAN_ADD_PEER, .peer = *new };
	return k;
}
