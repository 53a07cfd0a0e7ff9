/* get, nodes, ipam: read the store and print tables like kubectl's, or the
 * objects as JSON or YAML (a List when several, which apply -f reads back). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "model/k8s_validate.h"
#include "model/network.h"

/* ---- a table: rows of strings, columns padded by three spaces ---- */

#define MAX_COLS 10

struct table {
	json_t *rows; /* array of arrays of strings */
};

static void table_row(struct table *t, const char *const *cells, int n)
{
	json_t *row = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(row, json_string(cells[i] ? cells[i] : "<none>"));
	json_array_append_new(t->rows, row);
}

static void table_print(struct table *t)
{
	size_t width[MAX_COLS] = { 0 }, r, c;
	json_t *row, *cell;

	json_array_foreach(t->rows, r, row)
		json_array_foreach(row, c, cell)
			if (c < MAX_COLS && json_string_length(cell) > width[c])
				width[c] = json_string_length(cell);
	json_array_foreach(t->rows, r, row) {
		size_t n = json_array_size(row);

		json_array_foreach(row, c, cell) {
			if (c + 1 == n)
				printf("%s\n", json_string_value(cell));
			else
				printf("%-*s   ", (int)width[c < MAX_COLS ? c : 0],
				       json_string_value(cell));
		}
	}
}

/* ---- cells ---- */

/* Appends s to a growing comma-separated string in *acc (a json string). */
static void join(json_t **acc, const char *sep, const char *s)
{
	if (!*acc || json_string_length(*acc) == 0) {
		json_decref(*acc);
		*acc = json_string(s);
		return;
	}
	{
		char *n;

		if (asprintf(&n, "%s%s%s", json_string_value(*acc), sep, s) < 0)
			return;
		json_decref(*acc);
		*acc = json_string(n);
		free(n);
	}
}

static json_t *labels_cell(const json_t *labels)
{
	json_t *acc = NULL, *v;
	const char *k;

	json_object_foreach((json_t *)labels, k, v) {
		char *kv;

		if (asprintf(&kv, "%s=%s", k, json_string_value(v) ? json_string_value(v) : "") >=
		    0) {
			join(&acc, ",", kv);
			free(kv);
		}
	}
	return acc;
}

static json_t *selector_cell(const json_t *sel)
{
	json_t *acc = labels_cell(json_object_get(sel, "matchLabels")), *e, *v;
	size_t i, j;

	json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
		const char *key = json_string_value(json_object_get(e, "key"));
		const char *op = json_string_value(json_object_get(e, "operator"));
		json_t *vals = NULL;
		char *s = NULL;

		json_array_foreach(json_object_get(e, "values"), j, v)
			join(&vals, ",", json_string_value(v));
		if (!strcmp(op, "Exists"))
			s = strdup(key);
		else if (!strcmp(op, "DoesNotExist"))
			asprintf(&s, "!%s", key) < 0 ? (void)(s = NULL) : (void)0;
		else if (asprintf(&s, "%s %s (%s)", key, !strcmp(op, "In") ? "in" : "notin",
				  vals ? json_string_value(vals) : "") < 0)
			s = NULL;
		if (s)
			join(&acc, ",", s);
		free(s);
		json_decref(vals);
	}
	return acc;
}

static const char *str_at(const json_t *o, const char *a, const char *b, const char *c)
{
	const json_t *j = json_object_get(o, a);

	if (b)
		j = json_object_get(j, b);
	if (c)
		j = json_object_get(j, c);
	return json_string_value(j);
}

/* A Network's BACKEND cell: spec.backend.type, and with -o wide the mode's
 * summary of its section (through the Network model and the mode table). */
static void backend_cell(const json_t *spec, bool wide, char *buf, size_t len)
{
	const char *type = str_at(spec, "backend", "type", NULL);
	struct loom_network *net = wide ? malloc(sizeof(*net)) : NULL;

	snprintf(buf, len, "%s", type ? type : "<none>");
	if (net && loom_network_spec_parse(spec, net, NULL) == 0 && net->mode->summary)
		net->mode->summary(net->section.bytes, buf, len);
	free(net);
}

/* One table row per object; header when obj == NULL. */
static void kind_row(struct table *t, const struct loom_kind_info *k, const json_t *obj,
		     bool all_ns, bool wide)
{
	const char *cells[MAX_COLS];
	json_t *owned[MAX_COLS] = { 0 };
	const json_t *md = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
	int n = 0, o = 0, i;
	char buf[4][64];

	if (k->namespaced && all_ns)
		cells[n++] = obj ? str_at(md, "namespace", NULL, NULL) : "NAMESPACE";
	cells[n++] = obj ? str_at(md, "name", NULL, NULL) : "NAME";
	switch (k->kind) {
	case LOOM_KIND_NAMESPACE:
		break;
	case LOOM_KIND_POD:
		if (!obj) {
			cells[n++] = "NODE";
			cells[n++] = "PORTS";
			break;
		}
		cells[n++] = str_at(spec, "nodeName", NULL, NULL);
		{
			json_t *ports = NULL, *c, *p;
			size_t ci, pi;

			json_array_foreach(json_object_get(spec, "containers"), ci, c)
				json_array_foreach(json_object_get(c, "ports"), pi, p) {
					char *s;
					const char *pn =
						json_string_value(json_object_get(p, "name"));

					if (asprintf(&s, "%s%s%lld/%s", pn ? pn : "", pn ? ":" : "",
						     (long long)json_integer_value(
							     json_object_get(p, "containerPort")),
						     json_string_value(
							     json_object_get(p, "protocol"))) >=
					    0) {
						join(&ports, ",", s);
						free(s);
					}
				}
			owned[o++] = ports;
			cells[n++] = json_string_value(ports);
		}
		break;
	case LOOM_KIND_NETWORKPOLICY:
		if (!obj) {
			cells[n++] = "POD-SELECTOR";
			cells[n++] = "POLICY-TYPES";
			if (wide) {
				cells[n++] = "INGRESS-RULES";
				cells[n++] = "EGRESS-RULES";
			}
			break;
		}
		owned[o] = selector_cell(json_object_get(spec, "podSelector"));
		cells[n++] = json_string_value(owned[o++]);
		{
			json_t *types = NULL, *tv;
			size_t ti;

			json_array_foreach(json_object_get(spec, "policyTypes"), ti, tv)
				join(&types, ",", json_string_value(tv));
			owned[o++] = types;
			cells[n++] = json_string_value(types);
		}
		if (wide) {
			snprintf(buf[0], sizeof(buf[0]), "%zu",
				 json_array_size(json_object_get(spec, "ingress")));
			snprintf(buf[1], sizeof(buf[1]), "%zu",
				 json_array_size(json_object_get(spec, "egress")));
			cells[n++] = buf[0];
			cells[n++] = buf[1];
		}
		break;
	case LOOM_KIND_NETWORK:
		if (!obj) {
			cells[n++] = "CIDR";
			cells[n++] = "SUBNET-LENGTH";
			cells[n++] = "BACKEND";
			if (wide) {
				cells[n++] = "CIDR6";
				cells[n++] = "SUBNET-LENGTH6";
				cells[n++] = "MTU";
			}
			break;
		}
		cells[n++] = str_at(spec, "cidr", NULL, NULL);
		snprintf(buf[0], sizeof(buf[0]), "%lld",
			 (long long)json_integer_value(json_object_get(spec, "subnetLength")));
		cells[n++] = json_object_get(spec, "subnetLength") ? buf[0] : NULL;
		backend_cell(spec, wide, buf[1], sizeof(buf[1]));
		cells[n++] = buf[1];
		if (wide) {
			cells[n++] = str_at(spec, "cidr6", NULL, NULL);
			snprintf(buf[2], sizeof(buf[2]), "%lld",
				 (long long)json_integer_value(
					 json_object_get(spec, "subnetLength6")));
			cells[n++] = json_object_get(spec, "subnetLength6") ? buf[2] : NULL;
			snprintf(buf[3], sizeof(buf[3]), "%lld",
				 (long long)json_integer_value(json_object_get(spec, "mtu")));
			cells[n++] = json_object_get(spec, "mtu") ? buf[3] : "auto";
		}
		break;
	default:
		break;
	}
	if (wide && k->kind != LOOM_KIND_NETWORK) {
		if (obj) {
			owned[o] = labels_cell(json_object_get(md, "labels"));
			cells[n++] = json_string_value(owned[o++]);
		} else {
			cells[n++] = "LABELS";
		}
	}
	table_row(t, cells, n);
	for (i = 0; i < o; i++)
		json_decref(owned[i]);
}

static int print_objects(const struct loom_kind_info *k, json_t *items, bool single,
			 const char *fmt, bool all_ns)
{
	struct loom_err err = { 0 };
	json_t *out, *obj;
	size_t i;

	if (!fmt || !strcmp(fmt, "wide")) {
		struct table t = { json_array() };

		kind_row(&t, k, NULL, all_ns, fmt != NULL);
		json_array_foreach(items, i, obj)
			kind_row(&t, k, obj, all_ns, fmt != NULL);
		table_print(&t);
		json_decref(t.rows);
		return 0;
	}
	if (single) {
		out = json_incref(json_array_get(items, 0));
	} else {
		out = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List", "items",
				items);
	}
	if (!strcmp(fmt, "json")) {
		json_dumpf(out, stdout, JSON_INDENT(4));
		putchar('\n');
	} else if (ctl_yaml_emit(stdout, out, &err) < 0) {
		ctl_error("%s", err.msg);
		json_decref(out);
		return 1;
	}
	json_decref(out);
	return 0;
}

/* Parse stored JSON, or say which key holds garbage (and skip it). */
static json_t *load_value(const struct loom_kv *kv)
{
	json_error_t je;
	json_t *j = json_loadb(kv->value, kv->value_len, 0, &je);

	if (!j || !json_is_object(j)) {
		fprintf(stderr, "warning: %s: not a JSON object (%s), ignoring\n", kv->key,
			j ? "wrong type" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

int ctl_get(struct ctl *c, int argc, char **argv)
{
	const char *kind = NULL, *name = NULL, *ns = "default", *fmt = NULL;
	const struct loom_kind_info *k;
	struct loom_err err = { 0 };
	struct loom_store *s;
	bool all_ns = false;
	json_t *items;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--namespace") ||
		    !strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (i + 1 == argc) {
				ctl_error("%s needs a value", argv[i]);
				return 1;
			}
			if (argv[i][1] == 'n' || argv[i][2] == 'n')
				ns = argv[++i];
			else
				fmt = argv[++i];
		} else if (!strncmp(argv[i], "-o", 2) && argv[i][2]) {
			fmt = argv[i] + 2 + (argv[i][2] == '=');
		} else if (!strncmp(argv[i], "--output=", 9)) {
			fmt = argv[i] + 9;
		} else if (!strcmp(argv[i], "-A") || !strcmp(argv[i], "--all-namespaces")) {
			all_ns = true;
		} else if (!kind) {
			kind = argv[i];
		} else if (!name) {
			name = argv[i];
		} else {
			ctl_error("get: unexpected argument \"%s\"", argv[i]);
			return 1;
		}
	}
	if (fmt && strcmp(fmt, "json") && strcmp(fmt, "yaml") && strcmp(fmt, "wide")) {
		ctl_error("unable to match a printer for output format \"%s\" (json, yaml, wide)",
			  fmt);
		return 1;
	}
	if (!kind) {
		ctl_error("get needs a KIND: namespaces, pods, networkpolicies, networks");
		return 1;
	}
	if (!(k = loom_kind_lookup(kind))) {
		ctl_error("the server doesn't have a resource type \"%s\"", kind);
		return 1;
	}
	if (name && all_ns) {
		ctl_error("a resource cannot be retrieved by name across all namespaces");
		return 1;
	}
	if (!(s = ctl_store(c)))
		return 1;
	items = json_array();
	if (name) {
		char key[LOOM_STORE_KEY_MAX];
		struct loom_kv kv = { 0 };
		json_t *j;
		int got;

		if (loom_k8s_key(k, ns, name, key, sizeof(key), &err) < 0 ||
		    (got = loom_store_get(s, key, &kv, &err)) < 0) {
			ctl_error("%s%s%s", err.msg, err.details[0] ? ": " : "", err.details);
			json_decref(items);
			return 1;
		}
		if (got == 0) {
			ctl_error("%s \"%s\" not found", k->plural, name);
			json_decref(items);
			return 1;
		}
		if ((j = load_value(&kv)))
			json_array_append_new(items, j);
		loom_kv_clear(&kv);
	} else {
		char prefix[LOOM_STORE_KEY_MAX];
		struct loom_kv *kvs = NULL;
		size_t n = 0, j;

		if (k->namespaced && !all_ns)
			snprintf(prefix, sizeof(prefix), "%s%s/", k->prefix, ns);
		else
			snprintf(prefix, sizeof(prefix), "%s", k->prefix);
		if (loom_store_list(s, prefix, &kvs, &n, NULL, &err) < 0) {
			ctl_error("%s%s%s", err.msg, err.details[0] ? ": " : "", err.details);
			json_decref(items);
			return 1;
		}
		for (j = 0; j < n; j++) {
			json_t *o = load_value(&kvs[j]);

			if (o)
				json_array_append_new(items, o);
		}
		loom_kvs_free(kvs, n);
		if (json_array_size(items) == 0 && (!fmt || !strcmp(fmt, "wide"))) {
			if (k->namespaced && !all_ns)
				fprintf(stderr, "No resources found in %s namespace.\n", ns);
			else
				fprintf(stderr, "No resources found\n");
			json_decref(items);
			return 0;
		}
	}
	rc = print_objects(k, items, name != NULL, fmt, all_ns);
	json_decref(items);
	return rc;
}

/* ---- nodes and ipam ---- */

static void fmt_duration(char *buf, size_t len, long long s)
{
	const char *sign = s < 0 ? "-" : "";

	if (s < 0)
		s = -s;
	if (s < 120)
		snprintf(buf, len, "%s%llds", sign, s);
	else if (s < 7200)
		snprintf(buf, len, "%s%lldm%llds", sign, s / 60, s % 60);
	else if (s < 172800)
		snprintf(buf, len, "%s%lldh%lldm", sign, s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%s%lldd", sign, s / 86400);
}

static int list_values(struct ctl *c, const char *prefix, struct loom_kv **kvs, size_t *n)
{
	struct loom_err err = { 0 };
	struct loom_store *s = ctl_store(c);

	if (!s)
		return -1;
	if (loom_store_list(s, prefix, kvs, n, NULL, &err) < 0) {
		ctl_error("%s%s%s", err.msg, err.details[0] ? ": " : "", err.details);
		return -1;
	}
	return 0;
}

/* The lease's time left as "17s" into buf; "expired" when it ran out
 * between the list and now (its keys are about to go). */
static int lease_expiry(struct ctl *c, int64_t lease, char *buf, size_t len)
{
	struct loom_err err = { 0 };
	int64_t left = 0;

	if (loom_store_lease_ttl(ctl_store(c), lease, &left, &err) == 0) {
		fmt_duration(buf, len, left);
		return 0;
	}
	if (err.code == LOOM_ERR_NOT_FOUND) {
		snprintf(buf, len, "expired");
		return 0;
	}
	ctl_error("%s%s%s", err.msg, err.details[0] ? ": " : "", err.details);
	return -1;
}

/* A node's BGP sessions from /loom/bgpstatus/<node> (plugins/bgp's
 * controller): "n2:Established(1/1) n3:Active(0/0)", routes imported/exported;
 * wide adds each peer's address and AS.  NULL when the node has no status. */
static char *peers_cell(const struct loom_kv *st, size_t n_st, const char *node, bool wide)
{
	size_t i, k;
	json_t *o = NULL, *p, *acc = NULL;
	char *out = NULL;

	for (i = 0; i < n_st && !o; i++)
		if (!strcmp(st[i].key + strlen("/loom/bgpstatus/"), node))
			o = load_value(&st[i]);
	if (!o)
		return NULL;
	json_array_foreach(json_object_get(o, "peers"), k, p) {
		const char *who = json_string_value(json_object_get(p, "node"));
		const char *addr = json_string_value(json_object_get(p, "address"));
		const char *state = json_string_value(json_object_get(p, "state"));
		char *e = NULL, extra[96] = "";

		if (!who)
			who = addr ? addr : json_string_value(json_object_get(p, "name"));
		if (wide && addr)
			snprintf(extra, sizeof(extra), "[%s AS%lld]", addr,
				 (long long)json_integer_value(json_object_get(p, "asNumber")));
		if (asprintf(&e, "%s%s:%s(%lld/%lld)", who ? who : "?", extra, state ? state : "?",
			     (long long)json_integer_value(json_object_get(p, "imported")),
			     (long long)json_integer_value(json_object_get(p, "exported"))) >= 0) {
			join(&acc, " ", e);
			free(e);
		}
	}
	out = strdup(acc ? json_string_value(acc) : "-");
	json_decref(acc);
	json_decref(o);
	return out;
}

int ctl_nodes(struct ctl *c, int argc, char **argv)
{
	static const char *const head[] = { "NAME",       "ADDRESS",    "SUBNET",
					    "REGISTERED", "EXPIRES-IN", "PEERS" };
	struct table t = { NULL };
	struct loom_kv *kvs = NULL, *st = NULL;
	size_t n = 0, n_st = 0, i;
	const char *fmt = NULL;
	int rc = 0, cols;

	if (argc == 3 && (!strcmp(argv[1], "-o") || !strcmp(argv[1], "--output")))
		fmt = argv[2];
	else if (argc == 2 && !strncmp(argv[1], "-o", 2) && argv[1][2])
		fmt = argv[1] + 2 + (argv[1][2] == '=');
	else if (argc == 2 && !strncmp(argv[1], "--output=", 9))
		fmt = argv[1] + 9;
	else if (argc > 1) {
		ctl_error("nodes takes no arguments but -o wide");
		return 1;
	}
	if (fmt && strcmp(fmt, "wide")) {
		ctl_error("unable to match a printer for output format \"%s\" (wide)", fmt);
		return 1;
	}
	if (list_values(c, "/loom/nodes/", &kvs, &n) < 0)
		return 1;
	if (list_values(c, "/loom/bgpstatus/", &st, &n_st) < 0) {
		loom_kvs_free(kvs, n);
		return 1;
	}
	/* BGP sessions are shown where there are any (bgp mode), always with -o wide. */
	cols = fmt || n_st ? 6 : 5;
	t.rows = json_array();
	table_row(&t, head, cols);
	for (i = 0; i < n; i++) {
		json_t *o = load_value(&kvs[i]);
		const char *renewed = json_string_value(json_object_get(o, "renewedAt"));
		char age[32] = "<unknown>", exp[32] = "-", *peers = NULL;
		const char *cells[6];
		struct tm tm = { 0 };

		if (!o)
			continue;
		if (renewed && strptime(renewed, "%Y-%m-%dT%H:%M:%S", &tm)) {
			fmt_duration(age, sizeof(age),
				     (long long)time(NULL) - (long long)timegm(&tm));
			strcat(age, " ago");
		}
		/* keep-alives renew the lease, not the record: ask the store */
		if (kvs[i].lease && lease_expiry(c, kvs[i].lease, exp, sizeof(exp)) < 0) {
			json_decref(o);
			rc = 1;
			break;
		}
		cells[0] = json_string_value(json_object_get(o, "name"));
		if (!cells[0])
			cells[0] = kvs[i].key + strlen("/loom/nodes/");
		cells[1] = json_string_value(json_object_get(o, "address"));
		cells[2] = json_string_value(json_object_get(o, "subnet"));
		cells[3] = age;
		cells[4] = exp;
		peers = cols == 6 ? peers_cell(st, n_st, kvs[i].key + strlen("/loom/nodes/"),
					       fmt != NULL)
				  : NULL;
		cells[5] = peers;
		table_row(&t, cells, cols);
		free(peers);
		json_decref(o);
	}
	loom_kvs_free(kvs, n);
	loom_kvs_free(st, n_st);
	if (rc == 0 && n == 0)
		fprintf(stderr, "No nodes registered\n");
	else if (rc == 0)
		table_print(&t);
	json_decref(t.rows);
	return rc;
}

int ctl_ipam(struct ctl *c, int argc, char **argv)
{
	static const char *const head[] = { "NODE", "POD", "IPS" };
	struct table t = { NULL };
	struct loom_kv *kvs = NULL;
	size_t n = 0, i, j;

	(void)argv;
	if (argc > 1) {
		ctl_error("ipam takes no arguments");
		return 1;
	}
	if (list_values(c, "/loom/endpoints/", &kvs, &n) < 0)
		return 1;
	t.rows = json_array();
	table_row(&t, head, 3);
	for (i = 0; i < n; i++) {
		json_t *o = load_value(&kvs[i]), *ips = NULL, *ip;
		const char *pns, *pname, *cells[3];
		char pod[512];

		if (!o)
			continue;
		pns = json_string_value(json_object_get(o, "podNamespace"));
		pname = json_string_value(json_object_get(o, "podName"));
		if (pname)
			snprintf(pod, sizeof(pod), "%s/%s", pns ? pns : "default", pname);
		else
			snprintf(pod, sizeof(pod), "%.12s (container)",
				 json_string_value(json_object_get(o, "containerID")) ?: "?");
		json_array_foreach(json_object_get(o, "ips"), j, ip)
			join(&ips, ",", json_string_value(ip));
		cells[0] = json_string_value(json_object_get(o, "node"));
		cells[1] = pod;
		cells[2] = json_string_value(ips);
		table_row(&t, cells, 3);
		json_decref(ips);
		json_decref(o);
	}
	loom_kvs_free(kvs, n);
	if (n == 0)
		fprintf(stderr, "No endpoints recorded\n");
	else
		table_print(&t);
	json_decref(t.rows);
	return 0;
}
