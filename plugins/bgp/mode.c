/* bgp mode's entry of the mode table (model/mode.h): routed pods, each
 * node's block announced by BIRD, which loomd's controller (controller.c)
 * configures from spec.backend.bgp. */
#include <stdio.h>
#include <string.h>

#include "model/fields.h"
#include "mode.h"

_Static_assert(sizeof(struct loom_bgp_spec) <= LOOM_MODE_SECTION_MAX, "section too big");

static int parse_rr(const json_t *list, struct loom_bgp_spec *s, const char *path,
		    struct loom_err *err)
{
	const json_t *it;
	size_t i;

	json_array_foreach(list, i, it) {
		LOOM_FIELD_CHILD(p, path, "routeReflectors[%zu]", i);
		if (loom_field_type(it, JSON_STRING, p, err) < 0 ||
		    loom_field_name(json_string_value(it), true, p, err) < 0)
			return -1;
		snprintf(s->rr[i], sizeof(s->rr[i]), "%s", json_string_value(it));
	}
	s->n_rr = json_array_size(list);
	return 0;
}

static int parse_peers(const json_t *list, struct loom_bgp_spec *s, const char *path,
		       struct loom_err *err)
{
	static const char *const fields[] = { "address", "asNumber", NULL };
	const json_t *it;
	json_t *a;
	json_int_t as;
	size_t i;
	int r;

	json_array_foreach(list, i, it) {
		LOOM_FIELD_CHILD(p, path, "peers[%zu]", i);
		LOOM_FIELD_CHILD(ap, p, "address");
		LOOM_FIELD_CHILD(asp, p, "asNumber");

		if (loom_field_type(it, JSON_OBJECT, p, err) < 0 ||
		    loom_field_known(it, fields, p, err) < 0 ||
		    loom_field_required(it, "address", JSON_STRING, p, &a, err) < 0)
			return -1;
		if (loom_ip_parse(json_string_value(a), &s->peers[i].address) < 0)
			return loom_field_bad(err, ap, "\"%s\": must be a valid IP address",
					      json_string_value(a));
		/* BIRD's sessions ride the IPv4 underlay (router id, next hops). */
		if (s->peers[i].address.family != AF_INET)
			return loom_field_bad(err, ap, "\"%s\": must be an IPv4 address",
					      json_string_value(a));
		r = loom_field_int(it, "asNumber", 1, 4294967295LL, p, &as, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return loom_field_bad(err, asp, "required");
		s->peers[i].as = (uint32_t)as;
	}
	s->n_peers = json_array_size(list);
	return 0;
}

static int section_parse(const json_t *sec, void *out, const char *path, struct loom_err *err)
{
	static const char *const fields[] = { "asNumber", "nodeToNodeMesh", "routeReflectors",
					      "peers",    "holdTime",       NULL };
	struct loom_bgp_spec *s = out;
	json_int_t as = LOOM_BGP_DEFAULT_AS, hold = LOOM_BGP_DEFAULT_HOLD;
	json_t *mesh, *list;

	s->mesh = true;
	if (sec && (loom_field_type(sec, JSON_OBJECT, path, err) < 0 ||
		    loom_field_known(sec, fields, path, err) < 0 ||
		    loom_field_int(sec, "asNumber", 1, 4294967295LL, path, &as, err) < 0 ||
		    /* BIRD refuses a hold time under 3 s; 0 (no keepalives) is not
		     * offered because a silent peer's routes would then never go. */
		    loom_field_int(sec, "holdTime", 3, 65535, path, &hold, err) < 0 ||
		    loom_field_member(sec, "nodeToNodeMesh", JSON_TRUE, path, &mesh, err) < 0))
		return -1;
	s->as = (uint32_t)as;
	s->hold_time = (unsigned)hold;
	if (!sec)
		return 0;
	if (mesh)
		s->mesh = json_is_true(mesh);
	if (loom_field_list(sec, "routeReflectors", LOOM_BGP_RR_MAX, path, &list, err) < 0 ||
	    (list && parse_rr(list, s, path, err) < 0) ||
	    loom_field_list(sec, "peers", LOOM_BGP_PEERS_MAX, path, &list, err) < 0 ||
	    (list && parse_peers(list, s, path, err) < 0))
		return -1;
	if (!s->mesh && s->n_rr == 0) {
		LOOM_FIELD_CHILD(p, path, "routeReflectors");
		/* No node would learn any route. */
		return loom_field_bad(err, p, "required when nodeToNodeMesh is false");
	}
	return 0;
}

static int section_default(json_t *sec, const void *section)
{
	const struct loom_bgp_spec *s = section;

	return loom_field_default(sec, "asNumber", json_integer(s->as)) < 0 ||
			       loom_field_default(sec, "nodeToNodeMesh", json_boolean(s->mesh)) < 0
		       ? -1
		       : 0;
}

static void summary(const void *section, char *buf, size_t len)
{
	const struct loom_bgp_spec *s = section;

	snprintf(buf, len, "bgp(as=%u)", s->as);
}

/* loomd links it; elsewhere NULL (model/mode.h). */
extern const struct loomd_controller_ops loom_bgp_controller __attribute__((weak));

const struct loom_mode loom_mode_bgp = {
	.name = "bgp",
	.backend = "bgp",
	.cni = "loom-bgp",
	.node_cni = "loom-bgp",
	.lease_file = true,
	.section_size = sizeof(struct loom_bgp_spec),
	.section_parse = section_parse,
	.section_default = section_default,
	.summary = summary,
	.joins_nodes = true,
	.helpers = 1, /* BIRD */
	.sysctls = loom_sysctls_routed,
	/* A short hold time: a silent node's block goes from the others within
	 * seconds, not minutes (keepalives are rendered at a third). */
	.sim_section = "{\"holdTime\": 6}",
	.controller = &loom_bgp_controller,
};
