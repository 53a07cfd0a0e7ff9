/* The Network model (network.h): the common fields here, the backend
 * section by the mode table.  The rules and their wording are loomctl's
 * (kubectl-like "path: rule"); loomd reads the same through
 * loom_network_parse. */
#include <stdio.h>
#include <string.h>

#include "base/json_util.h"
#include "model/fields.h"
#include "model/network.h"

/* spec.<key> (a CIDR of `family`) and spec.<lenkey>, its block length. */
static int parse_cidr(const json_t *spec, const char *key, int family, const char *lenkey,
		      int deflen, int maxlen, bool *has, struct loom_prefix *out, int *len,
		      struct loom_err *err)
{
	json_t *c;
	json_int_t v = deflen;
	char fmt[LOOM_PREFIX_STRLEN];
	LOOM_FIELD_CHILD(cp, "spec", "%s", key);
	LOOM_FIELD_CHILD(lp, "spec", "%s", lenkey);

	if (loom_field_member(spec, key, JSON_STRING, "spec", &c, err) < 0)
		return -1;
	*has = c != NULL;
	if (!c) {
		if (loom_json_member(spec, lenkey))
			return loom_field_bad(err, lp, "requires spec.%s", key);
		return 0;
	}
	if (loom_prefix_parse(json_string_value(c), out) < 0 || out->ip.family != family)
		return loom_field_bad(err, cp, "\"%s\": must be an IPv%d CIDR",
				      json_string_value(c), family == AF_INET ? 4 : 6);
	if (!loom_prefix_is_network(out)) {
		struct loom_prefix n = { loom_prefix_first(out), out->len };

		return loom_field_bad(err, cp, "\"%s\": has host bits set (the network is %s)",
				      json_string_value(c), loom_prefix_fmt(&n, fmt));
	}
	if (loom_field_member(spec, lenkey, JSON_INTEGER, "spec", &c, err) < 0)
		return -1;
	if (c)
		v = json_integer_value(c);
	if (v < out->len || v > maxlen)
		return loom_field_bad(err, lp,
				      "must be between %d (the prefix length of spec.%s) and %d",
				      out->len, key, maxlen);
	*len = (int)v;
	return 0;
}

static int parse_backend(const json_t *spec, struct loom_network *n, struct loom_err *err)
{
	const char *allowed[16] = { "type" };
	const json_t *b = loom_json_member(spec, "backend"), *t;
	const struct loom_mode *m;
	char path[LOOM_FIELD_PATH_MAX], list[256];
	size_t i, k = 1;

	for (i = 0; loom_modes[i] && k + 1 < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (loom_modes[i]->section_parse)
			allowed[k++] = loom_modes[i]->backend;
	allowed[k] = NULL;
	if (b && (loom_field_type(b, JSON_OBJECT, "spec.backend", err) < 0 ||
		  loom_field_known(b, allowed, "spec.backend", err) < 0))
		return -1;
	t = loom_json_member(b, "type");
	if (!t) {
		m = loom_mode_default();
	} else {
		if (loom_field_type(t, JSON_STRING, "spec.backend.type", err) < 0)
			return -1;
		m = loom_mode_by_backend(json_string_value(t));
		if (!m) {
			loom_mode_list(true, true, ", ", ", ", list, sizeof(list));
			return loom_field_bad(err, "spec.backend.type",
					      "unsupported value \"%s\": supported values: %s",
					      json_string_value(t), list);
		}
	}
	for (i = 0; loom_modes[i]; i++)
		if (loom_modes[i] != m && loom_modes[i]->section_parse &&
		    loom_json_member(b, loom_modes[i]->backend)) {
			loom_field_path(path, "spec.backend", "%s", loom_modes[i]->backend);
			return loom_field_bad(err, path,
					      "must not be set when spec.backend.type is \"%s\"",
					      m->backend);
		}
	n->mode = m;
	if (!m->section_parse)
		return 0;
	loom_field_path(path, "spec.backend", "%s", m->backend);
	return m->section_parse(loom_json_member(b, m->backend), n->section.bytes, path, err);
}

int loom_network_spec_parse(const json_t *spec, struct loom_network *out, struct loom_err *err)
{
	static const char *const allowed[] = {
		"cidr", "cidr6", "subnetLength", "subnetLength6", "mtu", "backend", NULL
	};
	json_int_t v = 0;

	memset(out, 0, sizeof(*out));
	if (loom_field_type(spec, JSON_OBJECT, "spec", err) < 0 ||
	    loom_field_known(spec, allowed, "spec", err) < 0)
		return -1;
	if (!loom_json_member(spec, "cidr") && !loom_json_member(spec, "cidr6"))
		return loom_field_bad(err, "spec.cidr", "required");
	if (parse_cidr(spec, "cidr", AF_INET, "subnetLength", LOOM_NETWORK_SUBNET_LEN, 30,
		       &out->has_cidr, &out->cidr, &out->subnet_len, err) < 0 ||
	    parse_cidr(spec, "cidr6", AF_INET6, "subnetLength6", LOOM_NETWORK_SUBNET_LEN6, 126,
		       &out->has_cidr6, &out->cidr6, &out->subnet_len6, err) < 0)
		return -1;
	/* IPv6 needs links of at least 1280 (RFC 8200), IPv4 hosts 576. */
	if (loom_field_int(spec, "mtu", out->has_cidr6 ? 1280 : 576, 65535, "spec", &v, err) < 0)
		return -1;
	out->mtu = (uint32_t)v;
	return parse_backend(spec, out, err);
}

int loom_network_spec_default(json_t *spec, const struct loom_network *n, struct loom_err *err)
{
	const struct loom_mode *m = n->mode;
	json_t *b;

	if ((n->has_cidr &&
	     loom_field_default(spec, "subnetLength", json_integer(n->subnet_len)) < 0) ||
	    (n->has_cidr6 &&
	     loom_field_default(spec, "subnetLength6", json_integer(n->subnet_len6)) < 0) ||
	    loom_field_default(spec, "backend", json_object()) < 0)
		goto nomem;
	b = json_object_get(spec, "backend");
	if (loom_field_default(b, "type", json_string(m->backend)) < 0)
		goto nomem;
	if (m->section_default &&
	    (loom_field_default(b, m->backend, json_object()) < 0 ||
	     m->section_default(json_object_get(b, m->backend), n->section.bytes) < 0))
		goto nomem;
	return 0;
nomem:
	return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
}

int loom_network_parse(const char *text, size_t len, struct loom_network *out, struct loom_err *err)
{
	json_error_t jerr;
	const json_t *kind;
	json_t *j;
	int r;

	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return loom_err_set(err, LOOM_ERR_DECODE, "not JSON: %s (line %d)", jerr.text,
				    jerr.line);
	kind = json_object_get(j, "kind");
	if (!json_is_object(j))
		r = loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "must be an object, not %s",
				 loom_json_kind(j));
	else if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), "Network") != 0))
		r = loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "kind: must be \"Network\"");
	else if (!json_is_object(json_object_get(j, "spec")))
		r = loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "spec: required, must be an object");
	else
		r = loom_network_spec_parse(json_object_get(j, "spec"), out, err);
	json_decref(j);
	return r < 0 ? -1 : 0;
}

uint32_t loom_network_pod_mtu(const struct loom_network *n, uint32_t underlay_mtu, bool underlay_v6)
{
	uint32_t base = underlay_mtu ? underlay_mtu : 1500, overhead = 0;

	if (n->mtu)
		return n->mtu;
	if (n->mode)
		overhead = underlay_v6 ? n->mode->mtu_overhead6 : n->mode->mtu_overhead4;
	return base > overhead + 68 ? base - overhead : 68;
}

static bool prefix_eq(const struct loom_prefix *a, const struct loom_prefix *b)
{
	return a->len == b->len && loom_ip_eq(&a->ip, &b->ip);
}

bool loom_network_same_common(const struct loom_network *a, const struct loom_network *b)
{
	return a->has_cidr == b->has_cidr && (!a->has_cidr || prefix_eq(&a->cidr, &b->cidr)) &&
	       a->subnet_len == b->subnet_len && a->has_cidr6 == b->has_cidr6 &&
	       (!a->has_cidr6 || prefix_eq(&a->cidr6, &b->cidr6)) &&
	       a->subnet_len6 == b->subnet_len6 && a->mtu == b->mtu && a->mode == b->mode;
}

bool loom_network_same(const struct loom_network *a, const struct loom_network *b)
{
	return loom_network_same_common(a, b) &&
	       (!a->mode || memcmp(a->section.bytes, b->section.bytes, a->mode->section_size) == 0);
}
