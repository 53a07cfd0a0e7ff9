/* The sessions a node opens, from spec.backend.bgp (parsed by mode.c), the
 * configuration they make, and what to do with BIRD next: the controller's
 * decisions, pure. */
#include "bird.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool loom_bgp_is_reflector(const struct loom_bgp_spec *s, const char *node)
{
	size_t i;

	for (i = 0; i < s->n_rr; i++)
		if (strcmp(s->rr[i], node) == 0)
			return true;
	return false;
}

static void proto_name(char *buf, size_t len, const char *kind, const struct loom_ip *a)
{
	char ip[LOOM_IP_STRLEN], *p;

	loom_ip_fmt(a, ip);
	for (p = ip; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '_';
	snprintf(buf, len, "%s_%s", kind, ip);
}

static int by_address(const void *a, const void *b)
{
	const struct loom_bird_neighbor *x = a, *y = b;
	int c = loom_ip_cmp(&x->address, &y->address);

	/* a node before an external peer of the same address */
	return c ? c : (int)(y->node[0] != '\0') - (int)(x->node[0] != '\0');
}

int loom_bird_neighbors(const struct loom_bgp_spec *s, const char *self,
			const struct loom_bird_node *nodes, size_t n,
			struct loom_bird_neighbor **out, size_t *n_out, struct loom_err *err)
{
	bool self_rr = loom_bgp_is_reflector(s, self);
	struct loom_bird_neighbor *v = calloc(n + s->n_peers + 1, sizeof(*v));
	size_t i, k = 0, w;

	if (!v)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		bool peer_rr = loom_bgp_is_reflector(s, nodes[i].name);

		if (strcmp(nodes[i].name, self) == 0 || nodes[i].address.family != AF_INET)
			continue;
		if (!s->mesh && !self_rr && !peer_rr)
			continue;
		proto_name(v[k].proto, sizeof(v[k].proto), "node", &nodes[i].address);
		snprintf(v[k].node, sizeof(v[k].node), "%s", nodes[i].name);
		v[k].address = nodes[i].address;
		v[k].as = s->as;
		v[k].rr_client = !s->mesh && self_rr && !peer_rr;
		k++;
	}
	for (i = 0; i < s->n_peers; i++) {
		proto_name(v[k].proto, sizeof(v[k].proto), "peer", &s->peers[i].address);
		v[k].address = s->peers[i].address;
		v[k].as = s->peers[i].as;
		k++;
	}
	qsort(v, k, sizeof(*v), by_address);
	for (i = 0, w = 0; i < k; i++)
		if (w == 0 || !loom_ip_eq(&v[w - 1].address, &v[i].address))
			v[w++] = v[i];
	*out = v;
	*n_out = w;
	return 0;
}

int loom_bird_desired(const struct loom_bgp_spec *s, const struct loom_bird_self *self,
		      const struct loom_bird_node *nodes, size_t n,
		      struct loom_bird_neighbor **nbrs, size_t *n_nbrs, char **text,
		      struct loom_err *err)
{
	struct loom_bird_conf c;

	if (loom_bird_neighbors(s, self->node, nodes, n, nbrs, n_nbrs, err) < 0)
		return -1;
	c = (struct loom_bird_conf){
		.node = self->node,
		.router_id = self->router_id,
		.as = s->as,
		.hold_time = s->hold_time,
		.pool = self->pool,
		.block = self->block,
		.log_path = self->log_path,
		.nbrs = *nbrs,
		.n_nbrs = *n_nbrs,
	};
	*text = loom_bird_render(&c, err);
	if (*text)
		return 0;
	free(*nbrs);
	*nbrs = NULL;
	*n_nbrs = 0;
	return -1;
}

enum loom_bird_action loom_bird_next(bool external, bool running, bool reload_pending)
{
	if (!external && !running)
		return LOOM_BIRD_START;
	return reload_pending ? LOOM_BIRD_RELOAD : LOOM_BIRD_NOTHING;
}
