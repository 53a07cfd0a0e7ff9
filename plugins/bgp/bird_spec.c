/* spec.backend.bgp of a Network, and the sessions a node opens from it. */
#include "bird.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define P "spec.backend.bgp."

static int get_as(const json_t *o, const char *path, uint32_t *out, struct loom_err *err)
{
	if (!json_is_integer(o) || json_integer_value(o) < 1 || json_integer_value(o) > 4294967295LL)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: must be an AS number 1..4294967295",
				    path);
	*out = (uint32_t)json_integer_value(o);
	return 0;
}

static int parse_rr(const json_t *a, struct loom_bgp_spec *s, struct loom_err *err)
{
	size_t i;
	const json_t *v;

	if (!json_is_array(a))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, P "routeReflectors: must be an array");
	if (json_array_size(a) > LOOM_BGP_RR_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    P "routeReflectors: at most %d", LOOM_BGP_RR_MAX);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= LOOM_BGP_NAME_MAX)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    P "routeReflectors[%zu]: must be a node name", i);
		memcpy(s->rr[i], json_string_value(v), json_string_length(v) + 1);
	}
	s->n_rr = json_array_size(a);
	return 0;
}

static int parse_peers(const json_t *a, struct loom_bgp_spec *s, struct loom_err *err)
{
	char path[64];
	size_t i;
	const json_t *v, *addr;

	if (!json_is_array(a))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, P "peers: must be an array");
	if (json_array_size(a) > LOOM_BGP_PEERS_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, P "peers: at most %d",
				    LOOM_BGP_PEERS_MAX);
	json_array_foreach(a, i, v) {
		if (!json_is_object(v))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, P "peers[%zu]: must be an object",
					    i);
		addr = json_object_get(v, "address");
		if (!json_is_string(addr) ||
		    loom_ip_parse(json_string_value(addr), &s->peers[i].address) < 0 ||
		    s->peers[i].address.family != AF_INET)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    P "peers[%zu].address: must be an IPv4 address", i);
		snprintf(path, sizeof(path), P "peers[%zu].asNumber", i);
		if (get_as(json_object_get(v, "asNumber"), path, &s->peers[i].as, err) < 0)
			return -1;
	}
	s->n_peers = json_array_size(a);
	return 0;
}

int loom_bgp_spec_parse(const char *text, size_t len, struct loom_bgp_spec *s, struct loom_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je);
	const json_t *b, *v;
	int r = -1;

	memset(s, 0, sizeof(*s));
	s->as = LOOM_BGP_DEFAULT_AS;
	s->mesh = true;
	s->hold_time = LOOM_BGP_DEFAULT_HOLD;
	if (!root)
		return loom_err_set(err, LOOM_ERR_DECODE, "Network: %s (line %d)", je.text, je.line);
	b = json_object_get(json_object_get(json_object_get(root, "spec"), "backend"), "bgp");
	if (!b) {
		r = 0;
		goto out;
	}
	if (!json_is_object(b)) {
		loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec.backend.bgp: must be an object");
		goto out;
	}
	if ((v = json_object_get(b, "asNumber")) && get_as(v, P "asNumber", &s->as, err) < 0)
		goto out;
	if ((v = json_object_get(b, "nodeToNodeMesh"))) {
		if (!json_is_boolean(v)) {
			loom_err_set(err, LOOM_ERR_INVALID_CONFIG, P "nodeToNodeMesh: must be true or false");
			goto out;
		}
		s->mesh = json_is_true(v);
	}
	if ((v = json_object_get(b, "routeReflectors")) && parse_rr(v, s, err) < 0)
		goto out;
	if ((v = json_object_get(b, "peers")) && parse_peers(v, s, err) < 0)
		goto out;
	if ((v = json_object_get(b, "holdTime"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 3 || json_integer_value(v) > 65535) {
			loom_err_set(err, LOOM_ERR_INVALID_CONFIG, P "holdTime: must be seconds 3..65535");
			goto out;
		}
		s->hold_time = (unsigned)json_integer_value(v);
	}
	if (!s->mesh && s->n_rr == 0) {
		loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
			     P "routeReflectors: required when nodeToNodeMesh is false");
		goto out;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

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
