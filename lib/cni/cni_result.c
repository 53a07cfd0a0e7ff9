/* CNI results in every supported spec version, and the error JSON.
 *
 * Encoding follows the reference Go types (pkg/types/040 and 100): key order
 * as Go emits it, empty lists omitted but "dns" always present (Go's
 * omitempty does not apply to a struct, so the reference prints "dns":{};
 * runtimes and tests compare results field by field), "version" in each ip
 * only before 1.0.0, the 1.1.0 interface and route extras only for 1.1.0.
 * Decoding accepts any supported version's shape, ignores keys it does not
 * know (as Go does), treats null as absent for optional fields, and checks
 * every type and bound, naming the JSON path of the first problem. */
#include "cni/cni.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define RESULT_ERR LOOM_ERR_INVALID_CONFIG
#define JPATH_LEN 256
#define MTU_MAX 65536 /* the loopback default, the largest MTU Linux uses */

void loom_result_init(struct loom_result *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < LOOM_RESULT_MAX_IPS; i++)
		r->ips[i].iface = -1;
	for (i = 0; i < LOOM_RESULT_MAX_ROUTES; i++)
		r->routes[i].scope = -1;
}

/* ---- encoding ---- */

/* Collects allocation failures so the builders need not check each call. */
struct jb {
	bool ok;
};

static void put(struct jb *b, json_t *o, const char *key, json_t *v)
{
	if (!o || json_object_set_new(o, key, v) != 0)
		b->ok = false;
}

static void append(struct jb *b, json_t *a, json_t *v)
{
	if (!a || json_array_append_new(a, v) != 0)
		b->ok = false;
}

static json_t *str_list(struct jb *b, const char (*items)[LOOM_DNS_STRLEN], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n && i < LOOM_DNS_MAX; i++)
		append(b, a, json_string(items[i]));
	return a;
}

static json_t *iface_to_json(struct jb *b, const struct loom_result_iface *f, bool v110)
{
	json_t *o = json_object();

	put(b, o, "name", json_string(f->name));
	if (f->mac[0])
		put(b, o, "mac", json_string(f->mac));
	if (v110 && f->mtu > 0)
		put(b, o, "mtu", json_integer(f->mtu));
	if (f->sandbox[0])
		put(b, o, "sandbox", json_string(f->sandbox));
	if (v110 && f->socket_path[0])
		put(b, o, "socketPath", json_string(f->socket_path));
	if (v110 && f->pci_id[0])
		put(b, o, "pciID", json_string(f->pci_id));
	return o;
}

static json_t *ip_to_json(struct jb *b, const struct loom_result_ip *ip, bool with_version)
{
	char buf[LOOM_PREFIX_STRLEN];
	json_t *o = json_object();

	if (with_version)
		put(b, o, "version", json_string(ip->address.ip.family == AF_INET ? "4" : "6"));
	if (ip->iface >= 0)
		put(b, o, "interface", json_integer(ip->iface));
	put(b, o, "address", json_string(loom_prefix_fmt(&ip->address, buf)));
	if (ip->has_gateway)
		put(b, o, "gateway", json_string(loom_ip_fmt(&ip->gateway, buf)));
	return o;
}

static json_t *route_to_json(struct jb *b, const struct loom_route *rt, bool v110)
{
	char buf[LOOM_PREFIX_STRLEN];
	json_t *o = json_object();

	put(b, o, "dst", json_string(loom_prefix_fmt(&rt->dst, buf)));
	if (rt->has_gw)
		put(b, o, "gw", json_string(loom_ip_fmt(&rt->gw, buf)));
	if (v110) {
		if (rt->mtu > 0)
			put(b, o, "mtu", json_integer(rt->mtu));
		if (rt->advmss > 0)
			put(b, o, "advmss", json_integer(rt->advmss));
		if (rt->priority > 0)
			put(b, o, "priority", json_integer(rt->priority));
		if (rt->table > 0)
			put(b, o, "table", json_integer(rt->table));
		if (rt->scope >= 0)
			put(b, o, "scope", json_integer(rt->scope));
	}
	return o;
}

static json_t *dns_to_json(struct jb *b, const struct loom_dns *d)
{
	json_t *o = json_object();

	if (d->n_nameservers)
		put(b, o, "nameservers", str_list(b, d->nameservers, d->n_nameservers));
	if (d->domain[0])
		put(b, o, "domain", json_string(d->domain));
	if (d->n_search)
		put(b, o, "search", str_list(b, d->search, d->n_search));
	if (d->n_options)
		put(b, o, "options", str_list(b, d->options, d->n_options));
	return o;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

json_t *loom_result_to_json(const struct loom_result *r, enum loom_cni_version v)
{
	const char *vs = loom_cni_version_str(v);
	bool v110 = v == LOOM_CNI_V110, with_version = v < LOOM_CNI_V100;
	size_t i, n;
	struct jb b = { true };
	json_t *o, *a;

	if (!r || !vs)
		return NULL;
	o = json_object();
	put(&b, o, "cniVersion", json_string(vs));

	n = min_sz(r->n_ifaces, LOOM_RESULT_MAX_IFACES);
	if (n) {
		a = json_array();
		for (i = 0; i < n; i++)
			append(&b, a, iface_to_json(&b, &r->ifaces[i], v110));
		put(&b, o, "interfaces", a);
	}
	n = min_sz(r->n_ips, LOOM_RESULT_MAX_IPS);
	if (n) {
		a = json_array();
		for (i = 0; i < n; i++)
			append(&b, a, ip_to_json(&b, &r->ips[i], with_version));
		put(&b, o, "ips", a);
	}
	n = min_sz(r->n_routes, LOOM_RESULT_MAX_ROUTES);
	if (n) {
		a = json_array();
		for (i = 0; i < n; i++)
			append(&b, a, route_to_json(&b, &r->routes[i], v110));
		put(&b, o, "routes", a);
	}
	put(&b, o, "dns", dns_to_json(&b, &r->dns));

	if (!b.ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *loom_err_to_json(const struct loom_err *e, const char *cni_version)
{
	struct jb b = { true };
	json_t *o = json_object();

	if (!cni_version)
		cni_version = loom_cni_version_str(LOOM_CNI_VERSION_LATEST);
	put(&b, o, "cniVersion", json_string(cni_version));
	if (e) {
		put(&b, o, "code", json_integer(e->code));
		put(&b, o, "msg", json_string(e->msg));
		if (e->details[0])
			put(&b, o, "details", json_string(e->details));
	} else {
		put(&b, o, "code", json_integer(LOOM_ERR_INTERNAL));
		put(&b, o, "msg", json_string("unknown error"));
	}
	if (!b.ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- decoding ---- */

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

static const char *want_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	default:
		return "a value";
	}
}

/* Look up obj[key] and check its type.  Returns 1 when present, 0 when
 * absent or null (an error if required), -1 on error. */
static int field(const json_t *obj, const char *path, const char *key, json_type type,
		 bool required, json_t **out, struct loom_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return loom_err_set(err, RESULT_ERR, "%s.%s: required field is missing",
					    path, key);
		return 0;
	}
	if (json_typeof(v) != type)
		return loom_err_set(err, RESULT_ERR, "%s.%s: must be %s, not %s", path, key,
				    want_name(type), type_name(v));
	*out = v;
	return 1;
}

/* Copy a JSON string into a fixed buffer; too long or holding a NUL is an
 * error (a NUL would silently cut the value). */
static int copy_str(const json_t *v, const char *path, const char *key, char *dst, size_t size,
		    struct loom_err *err)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (strlen(s) != len)
		return loom_err_set(err, RESULT_ERR, "%s.%s: must not contain a NUL character",
				    path, key);
	if (len >= size)
		return loom_err_set(err, RESULT_ERR,
				    "%s.%s: \"%.40s...\" is too long (at most %zu characters)",
				    path, key, s, size - 1);
	memcpy(dst, s, len + 1);
	return 0;
}

static int str_field(const json_t *obj, const char *path, const char *key, bool required, char *dst,
		     size_t size, struct loom_err *err)
{
	json_t *v;
	int r = field(obj, path, key, JSON_STRING, required, &v, err);

	if (r <= 0)
		return r;
	return copy_str(v, path, key, dst, size, err) < 0 ? -1 : 1;
}

static int int_field(const json_t *obj, const char *path, const char *key, long long min,
		     long long max, int *dst, struct loom_err *err)
{
	json_t *v;
	json_int_t n;
	int r = field(obj, path, key, JSON_INTEGER, false, &v, err);

	if (r <= 0)
		return r;
	n = json_integer_value(v);
	if (n < min || n > max)
		return loom_err_set(err, RESULT_ERR, "%s.%s: %lld is out of range (%lld to %lld)",
				    path, key, (long long)n, min, max);
	*dst = (int)n;
	return 1;
}

/* An array field of at most `max` elements; *n = 0 when absent. */
static int array_field(const json_t *obj, const char *path, const char *key, size_t max,
		       const char *noun, json_t **out, size_t *n, struct loom_err *err)
{
	int r = field(obj, path, key, JSON_ARRAY, false, out, err);

	*n = 0;
	if (r <= 0)
		return r;
	*n = json_array_size(*out);
	if (*n > max)
		return loom_err_set(err, RESULT_ERR, "%s.%s: too many %s (%zu), at most %zu", path,
				    key, noun, *n, max);
	return 1;
}

/* Element i of an array must be an object; fills its path. */
static int array_object(const json_t *a, size_t i, const char *path, const char *key,
			char elem_path[JPATH_LEN], json_t **out, struct loom_err *err)
{
	*out = json_array_get(a, i);
	snprintf(elem_path, JPATH_LEN, "%s.%s[%zu]", path, key, i);
	if (!json_is_object(*out))
		return loom_err_set(err, RESULT_ERR, "%s: must be an object, not %s", elem_path,
				    type_name(*out));
	return 0;
}

static int prefix_field(const json_t *obj, const char *path, const char *key,
			struct loom_prefix *dst, struct loom_err *err)
{
	json_t *v;

	if (field(obj, path, key, JSON_STRING, true, &v, err) < 0)
		return -1;
	if (loom_prefix_parse(json_string_value(v), dst) < 0)
		return loom_err_set(err, RESULT_ERR,
				    "%s.%s: \"%.64s\" is not an IP address with prefix length",
				    path, key, json_string_value(v));
	return 0;
}

/* An optional IP of the same family as `peer` (a gateway of its subnet). */
static int gw_field(const json_t *obj, const char *path, const char *key,
		    const struct loom_prefix *peer, bool *has, struct loom_ip *dst,
		    struct loom_err *err)
{
	char buf[LOOM_PREFIX_STRLEN];
	json_t *v;
	int r = field(obj, path, key, JSON_STRING, false, &v, err);

	*has = false;
	if (r <= 0)
		return r;
	if (loom_ip_parse(json_string_value(v), dst) < 0)
		return loom_err_set(err, RESULT_ERR, "%s.%s: \"%.64s\" is not an IP address", path,
				    key, json_string_value(v));
	if (dst->family != peer->ip.family)
		return loom_err_set(err, RESULT_ERR, "%s.%s: %s is not of the same IP family as %s",
				    path, key, json_string_value(v), loom_prefix_fmt(peer, buf));
	*has = true;
	return 1;
}

static int decode_ifaces(const json_t *j, const char *path, struct loom_result *out,
			 struct loom_err *err)
{
	char p[JPATH_LEN];
	json_t *a, *o;
	size_t i, n;

	if (array_field(j, path, "interfaces", LOOM_RESULT_MAX_IFACES, "interfaces", &a, &n, err) <
	    0)
		return -1;
	for (i = 0; i < n; i++) {
		struct loom_result_iface *f = &out->ifaces[i];

		if (array_object(a, i, path, "interfaces", p, &o, err) < 0 ||
		    str_field(o, p, "name", true, f->name, sizeof(f->name), err) < 0 ||
		    str_field(o, p, "mac", false, f->mac, sizeof(f->mac), err) < 0 ||
		    str_field(o, p, "sandbox", false, f->sandbox, sizeof(f->sandbox), err) < 0 ||
		    int_field(o, p, "mtu", 0, MTU_MAX, &f->mtu, err) < 0 ||
		    str_field(o, p, "socketPath", false, f->socket_path, sizeof(f->socket_path),
			      err) < 0 ||
		    str_field(o, p, "pciID", false, f->pci_id, sizeof(f->pci_id), err) < 0)
			return -1;
		if (!f->name[0])
			return loom_err_set(err, RESULT_ERR, "%s.name: must not be empty", p);
	}
	out->n_ifaces = n;
	return 0;
}

static int decode_ips(const json_t *j, const char *path, struct loom_result *out,
		      struct loom_err *err)
{
	char p[JPATH_LEN], buf[LOOM_PREFIX_STRLEN];
	json_t *a, *o, *v;
	size_t i, n;

	if (array_field(j, path, "ips", LOOM_RESULT_MAX_IPS, "ips", &a, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct loom_result_ip *ip = &out->ips[i];
		int r;

		if (array_object(a, i, path, "ips", p, &o, err) < 0 ||
		    prefix_field(o, p, "address", &ip->address, err) < 0 ||
		    gw_field(o, p, "gateway", &ip->address, &ip->has_gateway, &ip->gateway, err) <
			    0)
			return -1;

		/* 0.3.x/0.4.0 only, but harmless in later versions' input. */
		r = field(o, p, "version", JSON_STRING, false, &v, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			const char *s = json_string_value(v);
			const char *want = ip->address.ip.family == AF_INET ? "4" : "6";

			if (strcmp(s, "4") != 0 && strcmp(s, "6") != 0)
				return loom_err_set(err, RESULT_ERR,
						    "%s.version: \"%.16s\" must be \"4\" or \"6\"",
						    p, s);
			if (strcmp(s, want) != 0)
				return loom_err_set(err, RESULT_ERR,
						    "%s.version: \"%s\" does not match address %s",
						    p, s, loom_prefix_fmt(&ip->address, buf));
		}

		ip->iface = -1;
		r = int_field(o, p, "interface", 0, INT_MAX, &ip->iface, err);
		if (r < 0)
			return -1;
		if (r > 0 && (size_t)ip->iface >= out->n_ifaces)
			return loom_err_set(
				err, RESULT_ERR,
				"%s.interface: %d does not point at an interface (the result has %zu)",
				p, ip->iface, out->n_ifaces);
	}
	out->n_ips = n;
	return 0;
}

static int decode_routes(const json_t *j, const char *path, struct loom_result *out,
			 struct loom_err *err)
{
	char p[JPATH_LEN];
	json_t *a, *o;
	size_t i, n;

	if (array_field(j, path, "routes", LOOM_RESULT_MAX_ROUTES, "routes", &a, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct loom_route *rt = &out->routes[i];

		rt->scope = -1;
		if (array_object(a, i, path, "routes", p, &o, err) < 0 ||
		    prefix_field(o, p, "dst", &rt->dst, err) < 0 ||
		    gw_field(o, p, "gw", &rt->dst, &rt->has_gw, &rt->gw, err) < 0 ||
		    int_field(o, p, "mtu", 0, MTU_MAX, &rt->mtu, err) < 0 ||
		    int_field(o, p, "advmss", 0, 65535, &rt->advmss, err) < 0 ||
		    int_field(o, p, "priority", 0, INT_MAX, &rt->priority, err) < 0 ||
		    int_field(o, p, "table", 0, INT_MAX, &rt->table, err) < 0 ||
		    int_field(o, p, "scope", 0, 255, &rt->scope, err) < 0)
			return -1;
	}
	out->n_routes = n;
	return 0;
}

static int decode_str_list(const json_t *d, const char *path, const char *key,
			   char (*dst)[LOOM_DNS_STRLEN], size_t *count, struct loom_err *err)
{
	char p[JPATH_LEN];
	json_t *a, *v;
	size_t i, n;

	if (array_field(d, path, key, LOOM_DNS_MAX, key, &a, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *s;

		v = json_array_get(a, i);
		snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
		if (!json_is_string(v))
			return loom_err_set(err, RESULT_ERR, "%s: must be a string, not %s", p,
					    type_name(v));
		s = json_string_value(v);
		if (strlen(s) != json_string_length(v))
			return loom_err_set(err, RESULT_ERR, "%s: must not contain a NUL character",
					    p);
		if (json_string_length(v) >= LOOM_DNS_STRLEN)
			return loom_err_set(err, RESULT_ERR,
					    "%s: \"%.40s...\" is too long (at most %d characters)",
					    p, s, LOOM_DNS_STRLEN - 1);
		memcpy(dst[i], s, json_string_length(v) + 1);
	}
	*count = n;
	return 0;
}

static int decode_dns(const json_t *j, const char *path, struct loom_result *out,
		      struct loom_err *err)
{
	char p[JPATH_LEN];
	struct loom_dns *d = &out->dns;
	json_t *o;
	int r = field(j, path, "dns", JSON_OBJECT, false, &o, err);

	if (r <= 0)
		return r;
	snprintf(p, sizeof(p), "%s.dns", path);
	if (decode_str_list(o, p, "nameservers", d->nameservers, &d->n_nameservers, err) < 0 ||
	    str_field(o, p, "domain", false, d->domain, sizeof(d->domain), err) < 0 ||
	    decode_str_list(o, p, "search", d->search, &d->n_search, err) < 0 ||
	    decode_str_list(o, p, "options", d->options, &d->n_options, err) < 0)
		return -1;
	return 0;
}

int loom_result_from_json(const json_t *j, const char *what, struct loom_result *out,
			  struct loom_err *err)
{
	json_t *v;
	int r;

	if (!what)
		what = "result";
	loom_result_init(out);
	if (!json_is_object(j))
		return loom_err_set(err, RESULT_ERR, "%s: must be an object, not %s", what,
				    j ? type_name(j) : "missing");

	r = field(j, what, "cniVersion", JSON_STRING, false, &v, err);
	if (r < 0)
		return -1;
	if (r > 0 && loom_cni_version_parse(json_string_value(v), NULL) < 0)
		return loom_err_set(err, RESULT_ERR,
				    "%s.cniVersion: \"%.32s\" is not a supported version "
				    "(0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)",
				    what, json_string_value(v));

	/* Interfaces first: ips refer to them by index. */
	if (decode_ifaces(j, what, out, err) < 0 || decode_ips(j, what, out, err) < 0 ||
	    decode_routes(j, what, out, err) < 0 || decode_dns(j, what, out, err) < 0) {
		loom_result_init(out);
		return -1;
	}
	return 0;
}
