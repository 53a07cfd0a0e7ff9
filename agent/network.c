/* The Network object (docs/datastore.md) as loomd needs it: the cluster
 * CIDRs, the block sizes, the MTU and the backend.  loomctl validated it on
 * apply, but the store is a trust boundary: every field is checked again. */
#include "agent.h"

#include <errno.h>
#include <string.h>

#include "base/json_util.h"

static int get_prefix(const json_t *spec, const char *key, struct loom_prefix *out, bool *found,
		      struct loom_err *err)
{
	const json_t *j = loom_json_member(spec, key);

	*found = j != NULL;
	if (!j)
		return 0;
	if (!json_is_string(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec.%s: must be a string, not %s",
				    key, loom_json_kind(j));
	if (loom_prefix_parse(json_string_value(j), out) < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec.%s: \"%s\" is not a CIDR", key,
				    json_string_value(j));
	if (!loom_prefix_is_network(out))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "spec.%s: \"%s\" has host bits set", key, json_string_value(j));
	return 0;
}

static int get_int(const json_t *o, const char *path, const char *key, long long lo, long long hi,
		   long long *out, struct loom_err *err)
{
	const json_t *j = loom_json_member(o, key);

	if (!j)
		return 0;
	if (!json_is_integer(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s%s: must be an integer, not %s",
				    path, key, loom_json_kind(j));
	if (json_integer_value(j) < lo || json_integer_value(j) > hi)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s%s: must be between %lld and %lld",
				    path, key, lo, hi);
	*out = json_integer_value(j);
	return 0;
}

static int check_len(const struct loom_prefix *cidr, int sublen, const char *field,
		     struct loom_err *err)
{
	if (sublen < cidr->len || sublen > loom_ip_bits(&cidr->ip))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "spec.%s: %d must be between the CIDR's length %u and %d", field,
				    sublen, cidr->len, loom_ip_bits(&cidr->ip));
	return 0;
}

static int parse_backend(const json_t *spec, enum loomd_backend *out, struct loom_err *err)
{
	static const struct { const char *name; enum loomd_backend b; } names[] = {
		{ "vxlan", LOOMD_BACKEND_VXLAN },
		{ "bgp", LOOMD_BACKEND_BGP },
		{ "none", LOOMD_BACKEND_NONE },
	};
	const json_t *b = loom_json_member(spec, "backend"), *t = loom_json_member(b, "type");
	size_t i;

	*out = LOOMD_BACKEND_VXLAN;
	if (b && !json_is_object(b))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec.backend: must be an object, not %s",
				    loom_json_kind(b));
	if (!t)
		return 0;
	if (!json_is_string(t))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "spec.backend.type: must be a string, not %s", loom_json_kind(t));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(json_string_value(t), names[i].name) == 0) {
			*out = names[i].b;
			return 0;
		}
	}
	return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
			    "spec.backend.type: \"%s\" must be one of vxlan, bgp, none",
			    json_string_value(t));
}

static int parse_vxlan(const json_t *vx, struct loomd_network *n, struct loom_err *err)
{
	long long vni = 1, port = 8472;

	if (vx && !json_is_object(vx))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "spec.backend.vxlan: must be an object, not %s", loom_json_kind(vx));
	if (vx && (get_int(vx, "spec.backend.vxlan.", "vni", 1, 16777215, &vni, err) < 0 ||
		   get_int(vx, "spec.backend.vxlan.", "port", 1, 65535, &port, err) < 0))
		return -1;
	n->vxlan_vni = (uint32_t)vni;
	n->vxlan_port = (uint16_t)port;
	return 0;
}

static int parse_spec(const json_t *spec, struct loomd_network *n, struct loom_err *err)
{
	long long sublen = 24, sublen6 = 64, mtu = 0;
	bool found;

	if (get_prefix(spec, "cidr", &n->cidr, &found, err) < 0)
		return -1;
	if (!found)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec.cidr: required");
	if (n->cidr.ip.family != AF_INET)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "spec.cidr: must be an IPv4 CIDR (IPv6 goes in spec.cidr6)");
	if (get_prefix(spec, "cidr6", &n->cidr6, &n->has_cidr6, err) < 0)
		return -1;
	if (n->has_cidr6 && n->cidr6.ip.family != AF_INET6)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec.cidr6: must be an IPv6 CIDR");
	if (get_int(spec, "spec.", "subnetLength", 0, 32, &sublen, err) < 0 ||
	    get_int(spec, "spec.", "subnetLength6", 0, 128, &sublen6, err) < 0 ||
	    get_int(spec, "spec.", "mtu", 68, 65535, &mtu, err) < 0)
		return -1;
	n->subnet_len = (int)sublen;
	n->subnet_len6 = (int)sublen6;
	n->mtu = (uint32_t)mtu;
	if (check_len(&n->cidr, n->subnet_len, "subnetLength", err) < 0)
		return -1;
	if (n->has_cidr6 && check_len(&n->cidr6, n->subnet_len6, "subnetLength6", err) < 0)
		return -1;
	if (parse_backend(spec, &n->backend, err) < 0)
		return -1;
	return parse_vxlan(loom_json_member(loom_json_member(spec, "backend"), "vxlan"), n, err);
}

int loomd_network_parse(const char *text, size_t len, struct loomd_network *out,
			struct loom_err *err)
{
	struct loomd_network n;
	json_error_t jerr;
	const json_t *kind, *spec;
	json_t *j;
	int r;

	memset(&n, 0, sizeof(n));
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return loom_err_set(err, LOOM_ERR_DECODE, "not JSON: %s (line %d)", jerr.text,
				    jerr.line);
	kind = json_object_get(j, "kind");
	spec = json_object_get(j, "spec");
	if (!json_is_object(j))
		r = loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "must be an object, not %s",
				 loom_json_kind(j));
	else if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), "Network") != 0))
		r = loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "kind: must be \"Network\"");
	else if (!json_is_object(spec))
		r = loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec: required, must be an object");
	else
		r = parse_spec(spec, &n, err);
	json_decref(j);
	if (r < 0)
		return -1;
	*out = n;
	return 0;
}

uint32_t loomd_pod_mtu(const struct loomd_network *n, uint32_t underlay_mtu, bool underlay_v6)
{
	uint32_t base = underlay_mtu ? underlay_mtu : 1500, overhead = 0;

	if (n->mtu)
		return n->mtu;
	/* VXLAN adds outer Ethernet 14 + IP (20 / 40) + UDP 8 + VXLAN 8. */
	if (n->backend == LOOMD_BACKEND_VXLAN)
		overhead = underlay_v6 ? 70 : 50;
	return base > overhead + 68 ? base - overhead : 68;
}
