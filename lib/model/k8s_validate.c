/* Validation and defaulting of Namespace, Pod, NetworkPolicy and Network
 * (see k8s_validate.h).  The rules and their wording follow Kubernetes'
 * apimachinery validation (IsDNS1123Label, IsQualifiedName, IsValidPortName,
 * ValidateNetworkPolicy...), reduced to "path: rule".
 *
 * NetworkPolicy and Network are checked strictly (an unknown field is an
 * error: a typo there would silently open or close traffic); Pod only in
 * the parts loom reads, since a Pod spec has far more than loom cares for. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/ip.h"
#include "base/json_util.h"
#include "model/fields.h"
#include "model/k8s_validate.h"
#include "model/network.h"

#define MAX_ITEMS 1024 /* rules, peers, ports, containers: bounds work and output */

static const struct loom_kind_info kinds[LOOM_KIND_COUNT] = {
	{ LOOM_KIND_NAMESPACE, "Namespace", "v1", "namespaces", "namespace", "ns", "namespace",
	  "/loom/namespaces/", false },
	{ LOOM_KIND_POD, "Pod", "v1", "pods", "pod", "po", "pod", "/loom/pods/", true },
	{ LOOM_KIND_NETWORKPOLICY, "NetworkPolicy", "networking.k8s.io/v1", "networkpolicies",
	  "networkpolicy", "netpol", "networkpolicy.networking.k8s.io", "/loom/networkpolicies/",
	  true },
	{ LOOM_KIND_NETWORK, "Network", "loom.dev/v1", "networks", "network", "net",
	  "network.loom.dev", "/loom/config/", false },
};

const struct loom_kind_info *loom_kind_get(enum loom_kind k)
{
	return (unsigned)k < LOOM_KIND_COUNT ? &kinds[k] : NULL;
}

const struct loom_kind_info *loom_kind_lookup(const char *s)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < LOOM_KIND_COUNT; i++)
		if (!strcasecmp(s, kinds[i].name) || !strcasecmp(s, kinds[i].plural) ||
		    !strcasecmp(s, kinds[i].singular) || !strcasecmp(s, kinds[i].short_name) ||
		    !strcasecmp(s, kinds[i].qualified))
			return &kinds[i];
	return NULL;
}

/* ---- name rules ---- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool label_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

const char *loom_k8s_dns1123_label(const char *s)
{
	size_t n = strlen(s);

	if (n > 63)
		return "must be no more than 63 characters";
	if (!label_ok(s, n))
		return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
		       "'-', and must start and end with an alphanumeric character";
	return NULL;
}

const char *loom_k8s_dns1123_subdomain(const char *s)
{
	const char *p = s, *dot;

	if (strlen(s) > 253)
		return "must be no more than 253 characters";
	for (;;) {
		dot = strchr(p, '.');
		if (!label_ok(p, dot ? (size_t)(dot - p) : strlen(p)))
			return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
			       "characters, '-' or '.', and must start and end with an alphanumeric character";
		if (!dot)
			return NULL;
		p = dot + 1;
	}
}

static bool is_alnum(char c)
{
	return isalnum((unsigned char)c) != 0;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool qualified_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

const char *loom_k8s_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	const char *name = slash ? slash + 1 : s;

	if (slash) {
		char prefix[300];
		size_t plen = (size_t)(slash - s);

		if (plen == 0)
			return "prefix part must be non-empty";
		if (plen >= sizeof(prefix))
			return "prefix part must be no more than 253 characters";
		memcpy(prefix, s, plen);
		prefix[plen] = '\0';
		if (loom_k8s_dns1123_subdomain(prefix))
			return "prefix part must be a lowercase RFC 1123 subdomain";
		if (strchr(name, '/'))
			return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
			       "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
	}
	if (!name[0])
		return "name part must be non-empty";
	if (strlen(name) > 63)
		return "name part must be no more than 63 characters";
	if (!qualified_ok(name, strlen(name)))
		return "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
		       "start and end with an alphanumeric character";
	return NULL;
}

const char *loom_k8s_label_value(const char *s)
{
	size_t n = strlen(s);

	if (n > 63)
		return "must be no more than 63 characters";
	if (n && !qualified_ok(s, n))
		return "a valid label must be an empty string or consist of alphanumeric characters, '-', "
		       "'_' or '.', and must start and end with an alphanumeric character";
	return NULL;
}

/* IANA_SVC_NAME (RFC 6335) */
const char *loom_k8s_port_name(const char *s)
{
	size_t i, n = strlen(s);
	bool letter = false;

	if (n == 0 || n > 15)
		return "must be no more than 15 characters";
	for (i = 0; i < n; i++) {
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
	}
	if (strstr(s, "--"))
		return "must not contain consecutive hyphens";
	if (!letter)
		return "must contain at least one letter (a-z)";
	if (s[0] == '-' || s[n - 1] == '-')
		return "must not begin or end with a hyphen";
	return NULL;
}

static int check_string_map(const json_t *m, bool labels, const char *path, struct loom_err *err)
{
	const char *k, *why;
	json_t *v;
	size_t total = 0;

	if (loom_field_type(m, JSON_OBJECT, path, err) < 0)
		return -1;
	json_object_foreach((json_t *)m, k, v) {
		char p[LOOM_FIELD_PATH_MAX];

		loom_field_path(p, "", "%s[%s]", path, k);
		if ((why = loom_k8s_label_key(k)))
			return loom_field_bad(err, p, "invalid key \"%s\": %s", k, why);
		if (loom_field_type(v, JSON_STRING, p, err) < 0)
			return -1;
		if (labels && (why = loom_k8s_label_value(json_string_value(v))))
			return loom_field_bad(err, p, "invalid value \"%s\": %s",
					      json_string_value(v), why);
		total += strlen(k) + json_string_length(v);
	}
	if (!labels && total > 256 * 1024)
		return loom_field_bad(err, path, "must have at most 262144 bytes");
	return 0;
}

/* ---- metadata ---- */

static int check_metadata(json_t *obj, const struct loom_kind_info *k, struct loom_err *err)
{
	static const char *const allowed[] = { "name", "namespace", "labels", "annotations", NULL };
	/* What a server adds and `kubectl get -o yaml` shows: accepted, dropped. */
	static const char *const dropped[] = { "uid",        "resourceVersion", "creationTimestamp",
					       "generation", "managedFields",   "selfLink",
					       NULL };
	json_t *md, *j;
	size_t i;

	if (loom_field_required(obj, "metadata", JSON_OBJECT, "", &md, err) < 0)
		return -1;
	for (i = 0; dropped[i]; i++)
		json_object_del(md, dropped[i]);
	if (loom_field_known(md, allowed, "metadata", err) < 0)
		return -1;
	if (loom_field_required(md, "name", JSON_STRING, "metadata", &j, err) < 0)
		return -1;
	/* Pods and policies are subdomains in Kubernetes; namespaces, and
	 * networks (a CNI network name, used in file names), are labels. */
	if (loom_field_name(json_string_value(j),
			    k->kind == LOOM_KIND_POD || k->kind == LOOM_KIND_NETWORKPOLICY,
			    "metadata.name", err) < 0)
		return -1;
	if (k->namespaced) {
		if (loom_field_default(md, "namespace", json_string("default")) < 0)
			return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		if (loom_field_required(md, "namespace", JSON_STRING, "metadata", &j, err) < 0 ||
		    loom_field_name(json_string_value(j), false, "metadata.namespace", err) < 0)
			return -1;
	} else if (loom_json_member(md, "namespace")) {
		return loom_field_bad(err, "metadata.namespace",
				      "must not be set: %s is not namespaced", k->name);
	}
	if ((j = loom_json_member(md, "labels")) &&
	    check_string_map(j, true, "metadata.labels", err) < 0)
		return -1;
	if ((j = loom_json_member(md, "annotations")) &&
	    check_string_map(j, false, "metadata.annotations", err) < 0)
		return -1;
	return 0;
}

/* ---- label selectors ---- */

static int check_selector(json_t *sel, const char *path, struct loom_err *err)
{
	static const char *const allowed[] = { "matchLabels", "matchExpressions", NULL };
	json_t *j, *e;
	size_t i;
	int r;

	if (loom_field_type(sel, JSON_OBJECT, path, err) < 0 ||
	    loom_field_known(sel, allowed, path, err) < 0)
		return -1;
	if ((j = loom_json_member(sel, "matchLabels"))) {
		LOOM_FIELD_CHILD(p, path, "matchLabels");
		if (check_string_map(j, true, p, err) < 0)
			return -1;
	}
	if ((r = loom_field_member(sel, "matchExpressions", JSON_ARRAY, path, &j, err)) <= 0)
		return r;
	json_array_foreach(j, i, e) {
		static const char *const efields[] = { "key", "operator", "values", NULL };
		LOOM_FIELD_CHILD(p, path, "matchExpressions[%zu]", i);
		json_t *key, *op, *vals, *v;
		const char *o, *why;
		size_t n = 0, vi;

		if (loom_field_type(e, JSON_OBJECT, p, err) < 0 ||
		    loom_field_known(e, efields, p, err) < 0 ||
		    loom_field_required(e, "key", JSON_STRING, p, &key, err) < 0 ||
		    loom_field_required(e, "operator", JSON_STRING, p, &op, err) < 0 ||
		    loom_field_member(e, "values", JSON_ARRAY, p, &vals, err) < 0)
			return -1;
		if ((why = loom_k8s_label_key(json_string_value(key)))) {
			LOOM_FIELD_CHILD(kp, p, "key");
			return loom_field_bad(err, kp, "\"%s\": %s", json_string_value(key), why);
		}
		if (vals)
			n = json_array_size(vals);
		o = json_string_value(op);
		{
			LOOM_FIELD_CHILD(vp, p, "values");
			LOOM_FIELD_CHILD(opp, p, "operator");

			if (!strcmp(o, "In") || !strcmp(o, "NotIn")) {
				if (n == 0)
					return loom_field_bad(
						err, vp,
						"must be specified when `operator` is 'In' or 'NotIn'");
			} else if (!strcmp(o, "Exists") || !strcmp(o, "DoesNotExist")) {
				if (n > 0)
					return loom_field_bad(
						err, vp,
						"may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
			} else {
				return loom_field_bad(
					err, opp,
					"unsupported value \"%s\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"",
					o);
			}
			if (vals)
				json_array_foreach(vals, vi, v) {
					LOOM_FIELD_CHILD(ip, p, "values[%zu]", vi);

					if (loom_field_type(v, JSON_STRING, ip, err) < 0)
						return -1;
					if ((why = loom_k8s_label_value(json_string_value(v))))
						return loom_field_bad(err, ip, "\"%s\": %s",
								      json_string_value(v), why);
				}
		}
	}
	return 0;
}

/* ---- NetworkPolicy ---- */

static int check_prefix(const json_t *j, const char *path, struct loom_prefix *out,
			struct loom_err *err)
{
	if (loom_field_type(j, JSON_STRING, path, err) < 0)
		return -1;
	if (loom_prefix_parse(json_string_value(j), out) < 0)
		return loom_field_bad(
			err, path, "\"%s\": must be a valid CIDR (like 10.0.0.0/16 or fd00::/64)",
			json_string_value(j));
	return 0;
}

static int check_ipblock(json_t *b, const char *path, struct loom_err *err)
{
	static const char *const allowed[] = { "cidr", "except", NULL };
	struct loom_prefix cidr, ex;
	json_t *c, *exc, *e;
	size_t i;
	int r;

	if (loom_field_type(b, JSON_OBJECT, path, err) < 0 ||
	    loom_field_known(b, allowed, path, err) < 0 ||
	    loom_field_required(b, "cidr", JSON_STRING, path, &c, err) < 0)
		return -1;
	{
		LOOM_FIELD_CHILD(cp, path, "cidr");
		if (check_prefix(c, cp, &cidr, err) < 0)
			return -1;
	}
	if ((r = loom_field_member(b, "except", JSON_ARRAY, path, &exc, err)) <= 0)
		return r;
	json_array_foreach(exc, i, e) {
		LOOM_FIELD_CHILD(ep, path, "except[%zu]", i);
		struct loom_ip first;

		if (check_prefix(e, ep, &ex, err) < 0)
			return -1;
		first = loom_prefix_first(&ex);
		if (ex.ip.family != cidr.ip.family || ex.len <= cidr.len ||
		    !loom_prefix_contains(&cidr, &first))
			return loom_field_bad(err, ep, "must be a strict subset of `cidr`");
	}
	return 0;
}

static int check_peer(json_t *peer, const char *path, struct loom_err *err)
{
	static const char *const allowed[] = { "podSelector", "namespaceSelector", "ipBlock",
					       NULL };
	json_t *j;
	int selectors = 0, blocks = 0;

	if (loom_field_type(peer, JSON_OBJECT, path, err) < 0 ||
	    loom_field_known(peer, allowed, path, err) < 0)
		return -1;
	if ((j = loom_json_member(peer, "podSelector"))) {
		LOOM_FIELD_CHILD(p, path, "podSelector");
		selectors++;
		if (check_selector(j, p, err) < 0)
			return -1;
	}
	if ((j = loom_json_member(peer, "namespaceSelector"))) {
		LOOM_FIELD_CHILD(p, path, "namespaceSelector");
		selectors++;
		if (check_selector(j, p, err) < 0)
			return -1;
	}
	if ((j = loom_json_member(peer, "ipBlock"))) {
		LOOM_FIELD_CHILD(p, path, "ipBlock");
		blocks++;
		if (check_ipblock(j, p, err) < 0)
			return -1;
	}
	if (!selectors && !blocks)
		return loom_field_bad(err, path, "must specify a peer");
	if (selectors && blocks)
		return loom_field_bad(err, path, "may not specify both ipBlock and another peer");
	return 0;
}

static int check_protocol(json_t *o, const char *path, struct loom_err *err)
{
	json_t *j;
	const char *s;

	if (loom_field_default(o, "protocol", json_string("TCP")) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (loom_field_required(o, "protocol", JSON_STRING, path, &j, err) < 0)
		return -1;
	s = json_string_value(j);
	if (strcmp(s, "TCP") && strcmp(s, "UDP") && strcmp(s, "SCTP")) {
		LOOM_FIELD_CHILD(p, path, "protocol");
		return loom_field_bad(
			err, p,
			"unsupported value \"%s\": supported values: \"TCP\", \"UDP\", \"SCTP\"",
			s);
	}
	return 0;
}

static int check_np_port(json_t *port, const char *path, struct loom_err *err)
{
	static const char *const allowed[] = { "protocol", "port", "endPort", NULL };
	json_t *p, *e;
	LOOM_FIELD_CHILD(pp, path, "port");
	LOOM_FIELD_CHILD(ep, path, "endPort");

	if (loom_field_type(port, JSON_OBJECT, path, err) < 0 ||
	    loom_field_known(port, allowed, path, err) < 0 || check_protocol(port, path, err) < 0)
		return -1;
	p = loom_json_member(port, "port");
	e = loom_json_member(port, "endPort");
	if (e && loom_field_type(e, JSON_INTEGER, ep, err) < 0)
		return -1;
	if (!p) {
		if (e)
			return loom_field_bad(err, ep,
					      "may not be specified when `port` is not specified");
		return 0;
	}
	if (json_is_integer(p)) {
		json_int_t v = json_integer_value(p);

		if (v < 1 || v > 65535)
			return loom_field_bad(err, pp, "must be between 1 and 65535");
		if (e) {
			if (json_integer_value(e) < v)
				return loom_field_bad(err, ep,
						      "must be greater than or equal to `port`");
			if (json_integer_value(e) > 65535)
				return loom_field_bad(err, ep, "must be between 1 and 65535");
		}
		return 0;
	}
	if (json_is_string(p)) {
		const char *why = loom_k8s_port_name(json_string_value(p));

		if (why)
			return loom_field_bad(err, pp, "\"%s\": %s", json_string_value(p), why);
		if (e)
			return loom_field_bad(err, ep,
					      "may not be specified when `port` is non-numeric");
		return 0;
	}
	return loom_field_bad(err, pp, "must be a port number or name, not %s", loom_json_kind(p));
}

static int check_np_rules(json_t *spec, const char *dir, const char *peers, struct loom_err *err)
{
	json_t *rules, *rule, *list, *it;
	size_t i, j;

	int r;

	if ((r = loom_field_member(spec, dir, JSON_ARRAY, "spec", &rules, err)) <= 0)
		return r;
	if (json_array_size(rules) > MAX_ITEMS) {
		LOOM_FIELD_CHILD(p, "spec", "%s", dir);
		return loom_field_bad(err, p, "must have at most %d rules", MAX_ITEMS);
	}
	json_array_foreach(rules, i, rule) {
		const char *const allowed[] = { "ports", peers, NULL };
		LOOM_FIELD_CHILD(rp, "spec", "%s[%zu]", dir, i);

		if (loom_field_type(rule, JSON_OBJECT, rp, err) < 0 ||
		    loom_field_known(rule, allowed, rp, err) < 0)
			return -1;
		if (loom_field_member(rule, "ports", JSON_ARRAY, rp, &list, err) < 0)
			return -1;
		if (list)
			json_array_foreach(list, j, it) {
				LOOM_FIELD_CHILD(pp, rp, "ports[%zu]", j);
				if (check_np_port(it, pp, err) < 0)
					return -1;
			}
		if (loom_field_member(rule, peers, JSON_ARRAY, rp, &list, err) < 0)
			return -1;
		if (list)
			json_array_foreach(list, j, it) {
				LOOM_FIELD_CHILD(pp, rp, "%s[%zu]", peers, j);
				if (check_peer(it, pp, err) < 0)
					return -1;
			}
	}
	return 0;
}

static int check_networkpolicy(json_t *spec, struct loom_err *err)
{
	static const char *const allowed[] = { "podSelector", "policyTypes", "ingress", "egress",
					       NULL };
	json_t *types, *t, *egress;
	bool seen_in = false, seen_eg = false;
	size_t i;

	if (loom_field_known(spec, allowed, "spec", err) < 0)
		return -1;
	if (loom_field_default(spec, "podSelector", json_object()) < 0)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (check_selector(json_object_get(spec, "podSelector"), "spec.podSelector", err) < 0 ||
	    check_np_rules(spec, "ingress", "from", err) < 0 ||
	    check_np_rules(spec, "egress", "to", err) < 0)
		return -1;
	if (loom_field_member(spec, "policyTypes", JSON_ARRAY, "spec", &types, err) < 0)
		return -1;
	if (!types || json_array_size(types) == 0) {
		/* the API server's default: Ingress always, Egress when rules exist */
		types = json_array();
		egress = loom_json_member(spec, "egress");
		if (!types || json_array_append_new(types, json_string("Ingress")) < 0 ||
		    (egress && json_array_size(egress) > 0 &&
		     json_array_append_new(types, json_string("Egress")) < 0)) {
			json_decref(types);
			return loom_err_set(err, LOOM_ERR_INTERNAL,
					    "spec.policyTypes: out of memory");
		}
		/* set_new takes types even when it fails: not used after that */
		if (json_object_set_new(spec, "policyTypes", types) < 0)
			return loom_err_set(err, LOOM_ERR_INTERNAL,
					    "spec.policyTypes: out of memory");
	}
	json_array_foreach(types, i, t) {
		LOOM_FIELD_CHILD(p, "spec", "policyTypes[%zu]", i);
		const char *s;

		if (loom_field_type(t, JSON_STRING, p, err) < 0)
			return -1;
		s = json_string_value(t);
		if (!strcmp(s, "Ingress") || !strcmp(s, "Egress")) {
			bool *seen = s[0] == 'I' ? &seen_in : &seen_eg;

			if (*seen)
				return loom_field_bad(err, p, "duplicate value \"%s\"", s);
			*seen = true;
		} else {
			return loom_field_bad(
				err, p,
				"unsupported value \"%s\": supported values: \"Ingress\", \"Egress\"",
				s);
		}
	}
	return 0;
}

/* ---- Pod ---- */

static int check_pod(json_t *spec, struct loom_err *err)
{
	json_t *j, *containers, *c, *ports, *port, *names;
	size_t i, k;
	int r = -1;

	if (loom_field_member(spec, "nodeName", JSON_STRING, "spec", &j, err) < 0 ||
	    (j && loom_field_name(json_string_value(j), true, "spec.nodeName", err) < 0) ||
	    loom_field_required(spec, "containers", JSON_ARRAY, "spec", &containers, err) < 0)
		return -1;
	if (json_array_size(containers) == 0)
		return loom_field_bad(err, "spec.containers", "required");
	if (json_array_size(containers) > MAX_ITEMS)
		return loom_field_bad(err, "spec.containers", "must have at most %d items",
				      MAX_ITEMS);
	names = json_object(); /* container names, then port names: each must be unique */
	json_array_foreach(containers, i, c) {
		LOOM_FIELD_CHILD(cp, "spec", "containers[%zu]", i);
		json_t *name, *img;
		char key[300];

		if (loom_field_type(c, JSON_OBJECT, cp, err) < 0 ||
		    loom_field_required(c, "name", JSON_STRING, cp, &name, err) < 0 ||
		    loom_field_member(c, "image", JSON_STRING, cp, &img, err) < 0)
			goto out;
		{
			LOOM_FIELD_CHILD(np, cp, "name");
			if (loom_field_name(json_string_value(name), false, np, err) < 0)
				goto out;
			snprintf(key, sizeof(key), "c/%s", json_string_value(name));
			if (json_object_get(names, key)) {
				loom_field_bad(err, np, "duplicate value \"%s\"",
					       json_string_value(name));
				goto out;
			}
			json_object_set_new(names, key, json_true());
		}
		if (loom_field_member(c, "ports", JSON_ARRAY, cp, &ports, err) < 0)
			goto out;
		if (!ports)
			continue;
		json_array_foreach(ports, k, port) {
			LOOM_FIELD_CHILD(pp, cp, "ports[%zu]", k);
			json_int_t v;
			json_t *pn, *hip;
			struct loom_ip ip;

			if (loom_field_type(port, JSON_OBJECT, pp, err) < 0)
				goto out;
			if (!loom_json_member(port, "containerPort")) {
				LOOM_FIELD_CHILD(q, pp, "containerPort");
				loom_field_bad(err, q, "required");
				goto out;
			}
			if (loom_field_int(port, "containerPort", 1, 65535, pp, &v, err) < 0 ||
			    loom_field_int(port, "hostPort", 1, 65535, pp, &v, err) < 0 ||
			    check_protocol(port, pp, err) < 0 ||
			    loom_field_member(port, "name", JSON_STRING, pp, &pn, err) < 0 ||
			    loom_field_member(port, "hostIP", JSON_STRING, pp, &hip, err) < 0)
				goto out;
			if (hip && loom_ip_parse(json_string_value(hip), &ip) < 0) {
				LOOM_FIELD_CHILD(q, pp, "hostIP");
				loom_field_bad(err, q, "\"%s\": must be a valid IP address",
					       json_string_value(hip));
				goto out;
			}
			if (pn) {
				LOOM_FIELD_CHILD(q, pp, "name");
				const char *why = loom_k8s_port_name(json_string_value(pn));

				if (why) {
					loom_field_bad(err, q, "\"%s\": %s", json_string_value(pn),
						       why);
					goto out;
				}
				snprintf(key, sizeof(key), "p/%s", json_string_value(pn));
				if (json_object_get(names, key)) {
					loom_field_bad(err, q, "duplicate value \"%s\"",
						       json_string_value(pn));
					goto out;
				}
				json_object_set_new(names, key, json_true());
			}
		}
	}
	r = 0;
out:
	json_decref(names);
	return r;
}

/* ---- Network: the model's (network.c) ---- */

static int check_network(json_t *spec, struct loom_err *err)
{
	struct loom_network n;

	if (loom_network_spec_parse(spec, &n, err) < 0)
		return -1;
	return loom_network_spec_default(spec, &n, err);
}

/* ---- the object ---- */

int loom_k8s_validate(json_t *obj, const struct loom_kind_info **kind, struct loom_err *err)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	const struct loom_kind_info *k = NULL;
	json_t *av, *kd, *spec;
	size_t i;

	if (err)
		loom_err_clear(err);
	if (loom_field_type(obj, JSON_OBJECT, "(object)", err) < 0 ||
	    loom_field_required(obj, "kind", JSON_STRING, "", &kd, err) < 0 ||
	    loom_field_required(obj, "apiVersion", JSON_STRING, "", &av, err) < 0)
		return -1;
	for (i = 0; i < LOOM_KIND_COUNT; i++)
		if (!strcmp(json_string_value(kd), kinds[i].name))
			k = &kinds[i];
	if (!k)
		return loom_field_bad(
			err, "kind",
			"unsupported kind \"%s\": supported kinds: Namespace, Pod, NetworkPolicy, Network",
			json_string_value(kd));
	if (strcmp(json_string_value(av), k->api_version))
		return loom_field_bad(err, "apiVersion", "\"%s\": must be \"%s\" for kind %s",
				      json_string_value(av), k->api_version, k->name);
	json_object_del(obj, "status"); /* the server's part, never the user's */
	if (loom_field_known(obj, top, "", err) < 0 || check_metadata(obj, k, err) < 0)
		return -1;
	if (k->kind == LOOM_KIND_NAMESPACE) {
		if (loom_field_member(obj, "spec", JSON_OBJECT, "", &spec, err) < 0)
			return -1;
	} else {
		if (loom_field_required(obj, "spec", JSON_OBJECT, "", &spec, err) < 0)
			return -1;
		if ((k->kind == LOOM_KIND_POD && check_pod(spec, err) < 0) ||
		    (k->kind == LOOM_KIND_NETWORKPOLICY && check_networkpolicy(spec, err) < 0) ||
		    (k->kind == LOOM_KIND_NETWORK && check_network(spec, err) < 0))
			return -1;
	}
	if (kind)
		*kind = k;
	return 0;
}

int loom_k8s_key(const struct loom_kind_info *k, const char *ns, const char *name, char *buf,
		 size_t len, struct loom_err *err)
{
	int n = k->namespaced ? snprintf(buf, len, "%s%s/%s", k->prefix, ns ? ns : "default", name)
			      : snprintf(buf, len, "%s%s", k->prefix, name);

	if (n < 0 || (size_t)n >= len)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s \"%s\": name too long",
				    k->singular, name);
	return 0;
}
