/* loom-ipam's configuration: the "ipam" object of a network config, the
 * requested addresses (args, runtimeConfig, CNI_ARGS) and resolv.conf.
 *
 * Accepts everything host-local accepts, in the same order of range sets
 * (runtimeConfig.ipRanges, the legacy single range, ipam.ranges), and checks
 * more: host bits in a subnet, a gateway outside its subnet and overlaps
 * anywhere are errors.  Parsing fills defaults as host-local does; verify
 * then checks each range and the cross-range rules.  Every error names its
 * path ("ipam.ranges[0][1].rangeStart: ..."). */
#include "base/json_util.h"
#include "ipam.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESOLV_CONF_MAX (64 * 1024)

static int unsupported(const char *where, const char *key, const json_t *v, struct loom_err *err)
{
	char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	int rc = loom_err_set(err, LOOM_ERR_UNSUPPORTED_FIELD,
			      "%s: unsupported field \"%.64s\" (value %.64s)", where, key,
			      dump ? dump : "?");

	free(dump);
	return rc;
}

/* An optional string member: 0 with *out NULL when absent. */
static int opt_string(const json_t *obj, const char *where, const char *key, const char **out,
		      struct loom_err *err)
{
	json_t *j = loom_json_member(obj, key);

	*out = NULL;
	if (!j)
		return 0;
	if (!json_is_string(j))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.%s must be a string, not %s",
				    where, key, loom_json_kind(j));
	*out = json_string_value(j);
	return 0;
}

/* An optional address member.  "" counts as absent, as Go's net.IP decodes
 * it.  Returns 1 when present, 0 when absent, -1 on error. */
static int opt_ip(const json_t *obj, const char *where, const char *key, struct loom_ip *out,
		  struct loom_err *err)
{
	const char *s;

	if (opt_string(obj, where, key, &s, err) < 0)
		return -1;
	if (!s || !s[0])
		return 0;
	if (loom_ip_parse(s, out) < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s.%s: \"%.64s\" is not an IP address", where, key, s);
	return 1;
}

/* "<base>[i]" into a path buffer.  Paths are bounded by the limits on
 * sets and ranges, so a cut one only shortens a message. */
static void where_fmt(char *buf, size_t len, const char *base, size_t i)
{
	if (snprintf(buf, len, "%s[%zu]", base, i) >= (int)len)
		buf[len - 1] = '\0';
}

/* ---- ranges ---- */

static bool small_subnet(const struct loom_prefix *p)
{
	/* /31 and /127 (point-to-point, RFC 3021 / RFC 6164) and host
	 * prefixes: every address is a host, none is network or broadcast. */
	return loom_ip_bits(&p->ip) - p->len <= 1;
}

static void range_defaults(struct loom_ipam_range *r, bool has_start, bool has_end)
{
	struct loom_ip first = loom_prefix_first(&r->subnet);
	struct loom_ip last = loom_prefix_last(&r->subnet);

	if (small_subnet(&r->subnet)) {
		if (!has_start)
			r->start = first;
		if (!has_end)
			r->end = last;
		return;
	}
	if (!has_start) {
		r->start = first;
		loom_ip_next(&r->start);
	}
	if (!has_end) {
		r->end = last;
		if (r->end.family == AF_INET)
			loom_ip_prev(&r->end); /* the broadcast */
	}
	if (!r->has_gateway) {
		r->gateway = first;
		loom_ip_next(&r->gateway);
		r->has_gateway = true;
	}
}

static int check_in_subnet(const struct loom_ipam_range *r, const char *key,
			   const struct loom_ip *ip, struct loom_err *err)
{
	char a[LOOM_IP_STRLEN], p[LOOM_PREFIX_STRLEN];

	if (ip->family != r->subnet.ip.family)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s.%s: %s is not of the same family as subnet %s", r->where,
				    key, loom_ip_fmt(ip, a), loom_prefix_fmt(&r->subnet, p));
	if (!loom_prefix_contains(&r->subnet, ip))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.%s: %s is outside subnet %s",
				    r->where, key, loom_ip_fmt(ip, a),
				    loom_prefix_fmt(&r->subnet, p));
	return 0;
}

static uint64_t count_usable(const struct loom_ipam_range *r)
{
	struct loom_ip excl[3];
	uint64_t n = loom_ip_span(&r->start, &r->end);
	size_t i, j, k = 0;

	if (r->has_gateway)
		excl[k++] = r->gateway;
	if (!small_subnet(&r->subnet)) {
		excl[k++] = loom_prefix_first(&r->subnet);
		if (r->subnet.ip.family == AF_INET)
			excl[k++] = loom_prefix_last(&r->subnet);
	}
	for (i = 0; i < k; i++) {
		bool dup = false;

		for (j = 0; j < i; j++)
			dup = dup || loom_ip_eq(&excl[i], &excl[j]);
		if (!dup && n != UINT64_MAX && loom_ip_cmp(&excl[i], &r->start) >= 0 &&
		    loom_ip_cmp(&excl[i], &r->end) <= 0)
			n--;
	}
	return n;
}

/* A range whose subnet (host bits clear), optional bounds and optional
 * gateway (has_gateway) are set: check them, fill the defaults, count. */
static int range_finish(struct loom_ipam_range *r, bool has_start, bool has_end,
			struct loom_err *err)
{
	char a[LOOM_IP_STRLEN], b[LOOM_IP_STRLEN];

	if (has_start && check_in_subnet(r, "rangeStart", &r->start, err) < 0)
		return -1;
	if (has_end && check_in_subnet(r, "rangeEnd", &r->end, err) < 0)
		return -1;
	if (r->has_gateway && check_in_subnet(r, "gateway", &r->gateway, err) < 0)
		return -1;
	range_defaults(r, has_start, has_end);

	if (loom_ip_cmp(&r->start, &r->end) > 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: rangeStart %s is after rangeEnd %s", r->where,
				    loom_ip_fmt(&r->start, a), loom_ip_fmt(&r->end, b));
	r->usable = count_usable(r);
	if (r->usable == 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: no usable address from %s to %s (the gateway, network and "
				    "broadcast addresses are never handed out)",
				    r->where, loom_ip_fmt(&r->start, a), loom_ip_fmt(&r->end, b));
	return 0;
}

static int parse_range(const json_t *obj, const char *where, struct loom_ipam_range *r, bool legacy,
		       struct loom_err *err)
{
	static const char *const keys[] = { "subnet", "rangeStart", "rangeEnd", "gateway" };
	const char *key, *s;
	json_t *v;
	int has_start, has_end, has_gw;
	size_t i;

	memset(r, 0, sizeof(*r));
	snprintf(r->where, sizeof(r->where), "%s", where);
	if (!json_is_object(obj))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s must be an object, not %s",
				    where, loom_json_kind(obj));
	/* The legacy range shares its object with the rest of ipam, whose
	 * other keys are not the range's business. */
	if (!legacy) {
		json_object_foreach((json_t *)obj, key, v) {
			bool known = false;

			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				known = known || strcmp(key, keys[i]) == 0;
			if (!known)
				return unsupported(where, key, v, err);
		}
	}

	if (opt_string(obj, where, "subnet", &s, err) < 0)
		return -1;
	if (!s)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.subnet is missing", where);
	if (loom_prefix_parse(s, &r->subnet) < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s.subnet: \"%.64s\" is not an address/prefix-length", where,
				    s);
	if (!loom_prefix_is_network(&r->subnet)) {
		struct loom_prefix net = r->subnet;
		char p[LOOM_PREFIX_STRLEN];

		net.ip = loom_prefix_first(&r->subnet);
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s.subnet: \"%.64s\" has host bits set (did you mean %s?)",
				    where, s, loom_prefix_fmt(&net, p));
	}

	if ((has_start = opt_ip(obj, where, "rangeStart", &r->start, err)) < 0 ||
	    (has_end = opt_ip(obj, where, "rangeEnd", &r->end, err)) < 0 ||
	    (has_gw = opt_ip(obj, where, "gateway", &r->gateway, err)) < 0)
		return -1;
	r->has_gateway = has_gw;

	return range_finish(r, has_start, has_end, err);
}

static int parse_rangeset(const json_t *arr, const char *where, struct loom_ipam_rangeset *set,
			  struct loom_err *err)
{
	char rw[LOOM_IPAM_WHERE_MAX];
	size_t i, n;

	if (!json_is_array(arr))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s must be a list of ranges, not %s", where,
				    loom_json_kind(arr));
	n = json_array_size(arr);
	if (n == 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: empty range set", where);
	if (n > LOOM_IPAM_MAX_RANGES)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s has %zu ranges, more than loom's limit of %d", where, n,
				    LOOM_IPAM_MAX_RANGES);
	for (i = 0; i < n; i++) {
		where_fmt(rw, sizeof(rw), where, i);
		if (parse_range(json_array_get(arr, i), rw, &set->r[i], false, err) < 0)
			return -1;
		if (set->r[i].subnet.ip.family != set->r[0].subnet.ip.family)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: mixed address families in one range set (%s is "
					    "IPv%d, %s is IPv%d)",
					    where, set->r[0].where,
					    set->r[0].subnet.ip.family == AF_INET ? 4 : 6, rw,
					    set->r[i].subnet.ip.family == AF_INET ? 4 : 6);
	}
	set->n = n;
	return 0;
}

/* Append the range sets of `list` (a list of lists), naming them `where`. */
static int parse_rangesets(const json_t *list, const char *where, struct loom_ipam_conf *out,
			   struct loom_err *err)
{
	char sw[LOOM_IPAM_WHERE_MAX];
	size_t i, n;

	if (!json_is_array(list))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s must be a list of range sets, not %s", where,
				    loom_json_kind(list));
	n = json_array_size(list);
	for (i = 0; i < n; i++) {
		if (out->n_sets == LOOM_IPAM_MAX_SETS)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s: more than loom's limit of %d range sets", where,
					    LOOM_IPAM_MAX_SETS);
		where_fmt(sw, sizeof(sw), where, i);
		if (parse_rangeset(json_array_get(list, i), sw, &out->sets[out->n_sets], err) < 0)
			return -1;
		out->n_sets++;
	}
	return 0;
}

static int parse_legacy(const json_t *ipam, struct loom_ipam_conf *out, struct loom_err *err)
{
	static const char *const others[] = { "rangeStart", "rangeEnd", "gateway" };
	size_t i;

	if (!loom_json_member(ipam, "subnet")) {
		/* host-local silently ignores these without a subnet; a user
		 * who wrote them meant something, so say what is missing. */
		for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
			if (loom_json_member(ipam, others[i]))
				return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
						    "ipam.%s is set but ipam.subnet is missing",
						    others[i]);
		}
		return 0;
	}
	if (out->n_sets == LOOM_IPAM_MAX_SETS)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam: more than loom's limit of %d range sets",
				    LOOM_IPAM_MAX_SETS);
	if (parse_range(ipam, "ipam", &out->sets[out->n_sets].r[0], true, err) < 0)
		return -1;
	out->sets[out->n_sets].n = 1;
	out->n_sets++;
	return 0;
}

static bool ranges_overlap(const struct loom_ipam_range *a, const struct loom_ipam_range *b)
{
	return a->start.family == b->start.family && loom_ip_cmp(&a->start, &b->end) <= 0 &&
	       loom_ip_cmp(&b->start, &a->end) <= 0;
}

/* No two ranges anywhere may share an address: one address would belong to
 * two sets (two reservations for one pod) or be counted twice in one. */
static int verify_overlaps(const struct loom_ipam_conf *c, struct loom_err *err)
{
	size_t s1, r1, s2, r2;

	for (s1 = 0; s1 < c->n_sets; s1++) {
		for (r1 = 0; r1 < c->sets[s1].n; r1++) {
			const struct loom_ipam_range *a = &c->sets[s1].r[r1];

			for (s2 = s1; s2 < c->n_sets; s2++) {
				for (r2 = s2 == s1 ? r1 + 1 : 0; r2 < c->sets[s2].n; r2++) {
					const struct loom_ipam_range *b = &c->sets[s2].r[r2];
					char a1[LOOM_IP_STRLEN], a2[LOOM_IP_STRLEN];
					char b1[LOOM_IP_STRLEN], b2[LOOM_IP_STRLEN];

					if (!ranges_overlap(a, b))
						continue;
					return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
							    "%s (%s-%s) overlaps %s (%s-%s)",
							    a->where, loom_ip_fmt(&a->start, a1),
							    loom_ip_fmt(&a->end, a2), b->where,
							    loom_ip_fmt(&b->start, b1),
							    loom_ip_fmt(&b->end, b2));
				}
			}
		}
	}
	return 0;
}

/* ---- routes ---- */

static int route_int(const json_t *v, const char *where, const char *key, int min, int *out,
		     struct loom_err *err)
{
	json_int_t n;

	if (!json_is_integer(v))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s.%s must be an integer, not %s", where, key,
				    loom_json_kind(v));
	n = json_integer_value(v);
	if (n < min || n > INT32_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.%s: %lld is out of range",
				    where, key, (long long)n);
	*out = (int)n;
	return 0;
}

static int parse_route(const json_t *obj, const char *where, struct loom_route *r,
		       struct loom_err *err)
{
	const char *key, *s;
	json_t *v;
	int rc;

	memset(r, 0, sizeof(*r));
	r->scope = -1;
	if (!json_is_object(obj))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s must be an object, not %s",
				    where, loom_json_kind(obj));
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "dst") == 0 || strcmp(key, "gw") == 0)
			continue;
		if (json_is_null(v))
			continue;
		if (strcmp(key, "mtu") == 0)
			rc = route_int(v, where, key, 0, &r->mtu, err);
		else if (strcmp(key, "advmss") == 0)
			rc = route_int(v, where, key, 0, &r->advmss, err);
		else if (strcmp(key, "priority") == 0)
			rc = route_int(v, where, key, 0, &r->priority, err);
		else if (strcmp(key, "table") == 0)
			rc = route_int(v, where, key, 0, &r->table, err);
		else if (strcmp(key, "scope") == 0)
			rc = route_int(v, where, key, 0, &r->scope, err);
		else
			rc = unsupported(where, key, v, err);
		if (rc < 0)
			return -1;
	}
	if (opt_string(obj, where, "dst", &s, err) < 0)
		return -1;
	if (!s)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.dst is missing", where);
	if (loom_prefix_parse(s, &r->dst) < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s.dst: \"%.64s\" is not an address/prefix-length", where, s);
	rc = opt_ip(obj, where, "gw", &r->gw, err);
	if (rc < 0)
		return -1;
	r->has_gw = rc;
	if (r->has_gw && r->gw.family != r->dst.ip.family)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: gw and dst are of different address families", where);
	return 0;
}

static int parse_routes(const json_t *ipam, struct loom_ipam_conf *out, struct loom_err *err)
{
	json_t *list = loom_json_member(ipam, "routes");
	char where[LOOM_IPAM_WHERE_MAX];
	size_t i, n;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam.routes must be a list, not %s", loom_json_kind(list));
	n = json_array_size(list);
	if (n > LOOM_IPAM_MAX_ROUTES)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam.routes has %zu routes, more than loom's limit of %d", n,
				    LOOM_IPAM_MAX_ROUTES);
	for (i = 0; i < n; i++) {
		where_fmt(where, sizeof(where), "ipam.routes", i);
		if (parse_route(json_array_get(list, i), where, &out->routes[i], err) < 0)
			return -1;
	}
	out->n_routes = n;
	return 0;
}

/* ---- requested addresses ---- */

/* "ip" or "ip/len" (host-local's ip.IP accepts both; the length is
 * ignored: the range decides it). */
static int add_requested(struct loom_ipam_conf *out, const char *where, const char *s, int code,
			 struct loom_err *err)
{
	struct loom_prefix p;
	struct loom_ip ip;
	size_t i;

	if (strchr(s, '/')) {
		if (loom_prefix_parse(s, &p) < 0)
			return loom_err_set(err, code, "%s: \"%.64s\" is not an IP address", where,
					    s);
		ip = p.ip;
	} else if (loom_ip_parse(s, &ip) < 0) {
		return loom_err_set(err, code, "%s: \"%.64s\" is not an IP address", where, s);
	}
	for (i = 0; i < out->n_requested; i++) {
		if (loom_ip_eq(&out->requested[i], &ip))
			return 0;
	}
	if (out->n_requested == LOOM_IPAM_MAX_REQUESTED)
		return loom_err_set(err, code,
				    "%s: more than loom's limit of %d requested addresses", where,
				    LOOM_IPAM_MAX_REQUESTED);
	out->requested[out->n_requested++] = ip;
	return 0;
}

static int requested_list(const json_t *list, const char *where, struct loom_ipam_conf *out,
			  struct loom_err *err)
{
	char w[LOOM_IPAM_WHERE_MAX];
	json_t *v;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s must be a list of addresses, not %s", where,
				    loom_json_kind(list));
	json_array_foreach(list, i, v) {
		where_fmt(w, sizeof(w), where, i);
		if (!json_is_string(v))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s must be a string, not %s", w, loom_json_kind(v));
		if (add_requested(out, w, json_string_value(v), LOOM_ERR_INVALID_CONFIG, err) < 0)
			return -1;
	}
	return 0;
}

/* CNI_ARGS IP=: host-local takes one address; a comma-separated list is
 * accepted as well (what static IPAM and Multus users write). */
static int requested_env(const struct loom_cni_args *args, struct loom_ipam_conf *out,
			 struct loom_err *err)
{
	const char *v = args ? loom_cni_args_get(args, "IP") : NULL;
	char buf[LOOM_CNI_ARG_MAX], *tok, *save = NULL;

	if (!v || !v[0])
		return 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		/* CNI_ARGS is environment: a bad value there is code 4. */
		if (add_requested(out, "CNI_ARGS IP", tok, LOOM_ERR_INVALID_ENV, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_requested(const struct loom_netconf *nc, const struct loom_cni_args *args,
			   struct loom_ipam_conf *out, struct loom_err *err)
{
	json_t *cni = nc->args ? loom_json_member(nc->args, "cni") : NULL;

	if (requested_env(args, out, err) < 0)
		return -1;
	if (cni) {
		if (!json_is_object(cni))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "args.cni must be an object, not %s",
					    loom_json_kind(cni));
		if (requested_list(loom_json_member(cni, "ips"), "args.cni.ips", out, err) < 0)
			return -1;
	}
	if (nc->runtime_config && requested_list(loom_json_member(nc->runtime_config, "ips"),
						 "runtimeConfig.ips", out, err) < 0)
		return -1;
	return 0;
}

/* ---- the whole ipam object ---- */

static int set_data_dir(struct loom_ipam_conf *out, const char *s, size_t name_len,
			struct loom_err *err)
{
	if (!s || !s[0])
		s = LOOM_IPAM_DEFAULT_DATA_DIR;
	if (s[0] != '/')
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam.dataDir: \"%.64s\" is not an absolute path", s);
	/* Room for "/<name>/.loom-by-id/<255-byte entry>" under PATH_MAX. */
	if (strlen(s) + name_len + 300 >= sizeof(out->data_dir))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "ipam.dataDir is too long");
	snprintf(out->data_dir, sizeof(out->data_dir), "%s", s);
	return 0;
}

static int parse_paths(const json_t *ipam, struct loom_ipam_conf *out, size_t name_len,
		       struct loom_err *err)
{
	const char *s;

	if (opt_string(ipam, "ipam", "dataDir", &s, err) < 0 ||
	    set_data_dir(out, s, name_len, err) < 0)
		return -1;

	if (opt_string(ipam, "ipam", "resolvConf", &s, err) < 0)
		return -1;
	if (s && s[0]) {
		if (strlen(s) >= sizeof(out->resolv_conf))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "ipam.resolvConf is too long");
		snprintf(out->resolv_conf, sizeof(out->resolv_conf), "%s", s);
	}
	return 0;
}

/* The network's name: the store's directory. */
static int conf_init(const struct loom_netconf *nc, struct loom_ipam_conf *out,
		     struct loom_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!nc->name || loom_cni_validate_network_name(nc->name, err) < 0) {
		if (!nc->name)
			loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "name is missing");
		else
			loom_err_prefix(err, "name");
		return -1;
	}
	snprintf(out->name, sizeof(out->name), "%s", nc->name);
	return 0;
}

/* runtimeConfig.ipRanges: the runtime's ranges come before the config's. */
static int runtime_ranges(const struct loom_netconf *nc, struct loom_ipam_conf *out,
			  struct loom_err *err)
{
	json_t *j = nc->runtime_config ? loom_json_member(nc->runtime_config, "ipRanges") : NULL;

	return j ? parse_rangesets(j, "runtimeConfig.ipRanges", out, err) : 0;
}

int loom_ipam_conf_parse(const struct loom_netconf *nc, const struct loom_cni_args *args,
			 struct loom_ipam_conf *out, struct loom_err *err)
{
	const json_t *ipam = nc->ipam;
	json_t *j;

	if (conf_init(nc, out, err) < 0)
		return -1;
	if (!ipam)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "ipam is missing");
	if (!json_is_object(ipam))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "ipam must be an object, not %s",
				    loom_json_kind(ipam));

	if (parse_paths(ipam, out, strlen(out->name), err) < 0)
		return -1;

	if (runtime_ranges(nc, out, err) < 0 || parse_legacy(ipam, out, err) < 0)
		return -1;
	j = loom_json_member(ipam, "ranges");
	if (j && parse_rangesets(j, "ipam.ranges", out, err) < 0)
		return -1;
	if (out->n_sets == 0)
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"ipam: no IP ranges specified (set ipam.ranges or ipam.subnet)");
	if (verify_overlaps(out, err) < 0)
		return -1;

	if (parse_routes(ipam, out, err) < 0)
		return -1;
	return parse_requested(nc, args, out, err);
}

int loom_ipam_conf_build(const struct loom_netconf *nc, const struct loom_cni_args *args,
			 const struct loom_ipam_spec *spec, struct loom_ipam_conf *out,
			 struct loom_err *err)
{
	size_t i;

	if (conf_init(nc, out, err) < 0 ||
	    set_data_dir(out, spec->data_dir, strlen(out->name), err) < 0 ||
	    runtime_ranges(nc, out, err) < 0)
		return -1;
	for (i = 0; i < spec->n_ranges; i++) {
		const struct loom_ipam_spec_range *sr = &spec->ranges[i];
		struct loom_ipam_range *r = &out->sets[out->n_sets].r[0];

		if (out->n_sets == LOOM_IPAM_MAX_SETS)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "ipam.ranges: more than loom's limit of %d range sets",
					    LOOM_IPAM_MAX_SETS);
		memset(r, 0, sizeof(*r));
		snprintf(r->where, sizeof(r->where), "ipam.ranges[%zu][0]", i);
		r->subnet = sr->subnet;
		r->start = sr->start;
		r->has_gateway = sr->has_gateway;
		r->gateway = sr->gateway;
		if (range_finish(r, sr->has_start, false, err) < 0)
			return -1;
		out->sets[out->n_sets++].n = 1;
	}
	if (out->n_sets == 0)
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"ipam: no IP ranges specified (set ipam.ranges or ipam.subnet)");
	if (verify_overlaps(out, err) < 0)
		return -1;
	if (spec->n_routes > LOOM_IPAM_MAX_ROUTES)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "ipam.routes has %zu routes, more than loom's limit of %d",
				    spec->n_routes, LOOM_IPAM_MAX_ROUTES);
	for (i = 0; i < spec->n_routes; i++)
		out->routes[i] = spec->routes[i];
	out->n_routes = spec->n_routes;
	return parse_requested(nc, args, out, err);
}

/* ---- resolv.conf ---- */

static void dns_add(char list[][LOOM_DNS_STRLEN], size_t *n, const char *s)
{
	if (*n < LOOM_DNS_MAX && strlen(s) < LOOM_DNS_STRLEN)
		snprintf(list[(*n)++], LOOM_DNS_STRLEN, "%s", s);
}

static void dns_line(char *line, struct loom_dns *dns)
{
	static const char ws[] = " \t\r\f\v";
	char *save = NULL, *key, *tok;

	key = strtok_r(line, ws, &save);
	if (!key || key[0] == '#' || key[0] == ';')
		return;
	tok = strtok_r(NULL, ws, &save);
	if (!tok)
		return; /* a keyword alone, as host-local: ignored */
	if (strcmp(key, "nameserver") == 0) {
		dns_add(dns->nameservers, &dns->n_nameservers, tok);
	} else if (strcmp(key, "domain") == 0) {
		if (strlen(tok) < sizeof(dns->domain))
			snprintf(dns->domain, sizeof(dns->domain), "%s", tok);
	} else if (strcmp(key, "search") == 0) {
		for (; tok; tok = strtok_r(NULL, ws, &save))
			dns_add(dns->search, &dns->n_search, tok);
	} else if (strcmp(key, "options") == 0) {
		for (; tok; tok = strtok_r(NULL, ws, &save))
			dns_add(dns->options, &dns->n_options, tok);
	}
}

int loom_ipam_dns_load(const char *path, struct loom_dns *dns, struct loom_err *err)
{
	char *buf, *line, *save = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, e;

	memset(dns, 0, sizeof(*dns));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		return loom_err_errno(err, LOOM_ERR_IO, e, "ipam.resolvConf: cannot open %s: %s",
				      path, strerror(e));
	}
	buf = malloc(RESOLV_CONF_MAX + 1);
	if (!buf) {
		close(fd);
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory reading %s", path);
	}
	/* Bounded: a resolv.conf is a few lines; more is not read. */
	while (len < RESOLV_CONF_MAX) {
		n = read(fd, buf + len, RESOLV_CONF_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(fd);
			free(buf);
			return loom_err_errno(err, LOOM_ERR_IO, e,
					      "ipam.resolvConf: cannot read %s: %s", path,
					      strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		dns_line(line, dns);
	free(buf);
	return 0;
}
