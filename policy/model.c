/* The model: namespaces, pods, selector groups and parsed policies. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_priv.h"

/* Bounds on what one policy may cost (STYLE 7): the API server bounds
 * nothing here, and each rule expands to peers x ports x families nft
 * rules, so one object could otherwise make a batch of millions. */
#define POL_NFT_RULES_MAX 4096 /* nft rules in one policy's chains */
#define POL_EXCEPT_MAX 64      /* except entries of one ipBlock */

int pol_proto_parse(const char *s)
{
	if (!s || !strcasecmp(s, "TCP"))
		return 6;
	if (!strcasecmp(s, "UDP"))
		return 17;
	if (!strcasecmp(s, "SCTP"))
		return 132;
	return -1;
}

int pol_family(const char *addr)
{
	return strchr(addr, ':') ? 6 : 4;
}

static bool in_values(const json_t *vals, const char *v)
{
	size_t i;
	json_t *x;

	json_array_foreach(vals, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), v))
			return true;
	return false;
}

/* A LabelSelector: every matchLabels pair and every expression must hold;
 * an empty (or absent) selector matches everything. */
bool pol_selector_match(const json_t *sel, const json_t *labels)
{
	const json_t *ml, *me, *v, *x;
	const char *k;
	size_t i;

	if (!sel)
		return true;
	ml = json_object_get(sel, "matchLabels");
	json_object_foreach((json_t *)ml, k, v) {
		const json_t *have = json_object_get(labels, k);

		if (!have || !json_is_string(v) ||
		    strcmp(json_string_value(have), json_string_value(v)))
			return false;
	}
	me = json_object_get(sel, "matchExpressions");
	json_array_foreach(me, i, x) {
		const char *key = json_string_value(json_object_get(x, "key"));
		const char *op = json_string_value(json_object_get(x, "operator"));
		const json_t *vals = json_object_get(x, "values");
		const json_t *have = key ? json_object_get(labels, key) : NULL;

		if (!key || !op)
			return false;
		if (!strcmp(op, "In")) {
			if (!have || !in_values(vals, json_string_value(have)))
				return false;
		} else if (!strcmp(op, "NotIn")) {
			if (have && in_values(vals, json_string_value(have)))
				return false;
		} else if (!strcmp(op, "Exists")) {
			if (!have)
				return false;
		} else if (!strcmp(op, "DoesNotExist")) {
			if (have)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

struct pol_ns *pol_ns_get(struct pol_engine *e, const char *name, bool create)
{
	struct pol_ns *n = pm_get(&e->nss, name);

	if (n || !create)
		return n;
	n = calloc(1, sizeof(*n));
	/* Kubernetes labels every namespace with its name (since 1.21) */
	if (!n || !(n->name = strdup(name)) ||
	    !(n->labels = json_pack("{ss}", "kubernetes.io/metadata.name", name)) ||
	    pm_put(&e->nss, name, n) < 0) {
		if (n) {
			free(n->name);
			json_decref(n->labels);
		}
		free(n);
		return NULL;
	}
	return n;
}

const json_t *pol_ns_labels(const struct pol_engine *e, const char *ns)
{
	struct pol_ns *n = pm_get(&e->nss, ns);

	return n ? n->labels : NULL;
}

bool pol_group_match(const struct pol_engine *e, const struct pol_group *g, const struct pol_pod *p)
{
	if (!p->labels)
		return false;
	if (g->ns) {
		if (strcmp(g->ns, p->ns))
			return false;
	} else {
		const json_t *nl = pol_ns_labels(e, p->ns);
		json_t *tmp = NULL;
		bool ok;

		if (!nl)
			nl = tmp = json_pack("{ss}", "kubernetes.io/metadata.name", p->ns);
		ok = pol_selector_match(g->nssel, nl);
		json_decref(tmp);
		if (!ok)
			return false;
	}
	return pol_selector_match(g->podsel, p->labels);
}

bool pol_pod_local(const struct pol_engine *e, const struct pol_pod *p)
{
	if (!e->node)
		return false;
	for (size_t i = 0; i < p->neps; i++)
		if (!strcmp(p->eps[i]->node, e->node))
			return true;
	return false;
}

void pol_group_free(void *v)
{
	struct pol_group *g = v;

	if (!g)
		return;
	free(g->key);
	free(g->ns);
	json_decref(g->podsel);
	json_decref(g->nssel);
	free(g);
}

/* The group for (ns or nssel, podsel), created or shared, refs + 1. */
static struct pol_group *group_ref(struct pol_engine *e, const char *ns, const json_t *podsel,
				   const json_t *nssel)
{
	/* an absent podSelector is the empty one: "{}" */
	char *ps = podsel ? json_dumps(podsel, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	char *nsd = nssel ? json_dumps(nssel, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *key = NULL;
	struct pol_group *g = NULL;

	if (!ps || (nssel && !nsd))
		goto out;
	if (asprintf(&key, "%s%s|%s", nssel ? "nss=" : "ns=", nssel ? nsd : ns, ps) < 0) {
		key = NULL;
		goto out;
	}
	g = pm_get(&e->groups, key);
	if (!g) {
		struct pol_ns *n = nssel ? NULL : pol_ns_get(e, ns, true);

		g = calloc(1, sizeof(*g));
		if (!g)
			goto out;
		g->key = key;
		key = NULL;
		snprintf(g->name, sizeof(g->name), "s_%016" PRIx64, pol_hash(g->key));
		g->ns = nssel ? NULL : strdup(ns);
		g->podsel = podsel ? json_deep_copy(podsel) : json_object();
		g->nssel = nssel ? json_deep_copy(nssel) : NULL;
		if ((!nssel && (!n || !g->ns)) || !g->podsel || (nssel && !g->nssel) ||
		    pm_put(&e->groups, g->key, g) < 0) {
			pol_group_free(g);
			g = NULL;
			goto out;
		}
		if (pm_put(n ? &n->groups : &e->nsgroups, g->key, g) < 0) {
			pm_del(&e->groups, g->key);
			pol_group_free(g);
			g = NULL;
			goto out;
		}
		pol_mark(e, &e->dirty_groups, g->key, g);
	}
	g->refs++;
out:
	free(ps);
	free(nsd);
	free(key);
	return g;
}

/* 0 or -ENOMEM (only when taking a first ref) */
static int np_ref(struct pol_engine *e, const char *name, int delta)
{
	struct pol_np *np = pm_get(&e->nps, name);

	if (!np) {
		np = calloc(1, sizeof(*np));
		if (!np || pm_put(&e->nps, name, np) < 0) {
			free(np);
			return -ENOMEM;
		}
	}
	np->refs += delta;
	pol_mark(e, &e->dirty_nps, name, np);
	return 0;
}

static int parse_peer(struct pol_engine *e, const char *ns, json_t *j, struct pol_peer *pe,
		      struct loom_err *err, const char *path)
{
	json_t *ps = json_object_get(j, "podSelector"),
	       *nss = json_object_get(j, "namespaceSelector");
	json_t *ipb = json_object_get(j, "ipBlock"), *x;
	size_t i;

	if (ipb) {
		const char *cidr = json_string_value(json_object_get(ipb, "cidr"));

		if (!cidr)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s.ipBlock.cidr: required", path);
		pe->kind = PEER_BLOCK;
		pe->cidr = strdup(cidr);
		pe->family = pol_family(cidr);
		json_t *exc = json_object_get(ipb, "except");
		if (json_array_size(exc) > POL_EXCEPT_MAX)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "%s.ipBlock.except: at most %d entries", path,
					    POL_EXCEPT_MAX);
		pe->except = calloc(json_array_size(exc) + 1, sizeof(char *));
		if (!pe->cidr || !pe->except)
			return loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", path);
		json_array_foreach(exc, i, x) {
			const char *s = json_string_value(x);

			if (!s || pol_family(s) != pe->family)
				return loom_err_set(
					err, LOOM_ERR_INVALID_CONFIG,
					"%s.ipBlock.except[%zu]: not in the cidr's family", path,
					i);
			if (!(pe->except[pe->nexcept] = strdup(s)))
				return loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory",
						    path);
			pe->nexcept++;
		}
		return 0;
	}
	pe->kind = PEER_GROUP;
	/* a namespaceSelector alone means every pod of the matching namespaces */
	pe->g = group_ref(e, ns, ps, nss);
	return pe->g ? 0 : loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", path);
}

static int parse_port(struct pol_engine *e, json_t *j, struct pol_port *po, struct loom_err *err,
		      const char *path)
{
	json_t *port = json_object_get(j, "port"), *end = json_object_get(j, "endPort");

	po->proto = pol_proto_parse(json_string_value(json_object_get(j, "protocol")));
	if (po->proto < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.protocol: unsupported", path);
	if (json_is_string(port)) {
		char *name = strdup(json_string_value(port));

		/* named only once referenced: pol_policy_free drops the ref */
		if (!name || np_ref(e, name, 1) < 0) {
			free(name);
			return loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", path);
		}
		po->name = name;
	} else if (json_is_integer(port)) {
		po->port = (int)json_integer_value(port);
		if (json_is_integer(end))
			po->end = (int)json_integer_value(end);
		if (po->port < 1 || po->port > 65535 ||
		    (po->end && (po->end < po->port || po->end > 65535)))
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s.port: out of range",
					    path);
	}
	return 0;
}

void pol_policy_free(struct pol_engine *e, struct pol_policy *p)
{
	if (!p)
		return;
	for (int d = 0; d < 2; d++) {
		for (size_t r = 0; r < p->nrules[d]; r++) {
			struct pol_rule *ru = &p->rules[d][r];

			for (size_t i = 0; i < ru->npeers; i++) {
				if (ru->peers[i].g && --ru->peers[i].g->refs == 0)
					pol_mark(e, &e->dirty_groups, ru->peers[i].g->key,
						 ru->peers[i].g);
				free(ru->peers[i].cidr);
				for (size_t k = 0; k < ru->peers[i].nexcept; k++)
					free(ru->peers[i].except[k]);
				free(ru->peers[i].except);
			}
			for (size_t i = 0; i < ru->nports; i++) {
				if (ru->ports[i].name)
					np_ref(e, ru->ports[i].name, -1);
				free(ru->ports[i].name);
			}
			free(ru->peers);
			free(ru->ports);
		}
		free(p->rules[d]);
	}
	if (p->target && --p->target->refs == 0)
		pol_mark(e, &e->dirty_groups, p->target->key, p->target);
	free(p->key);
	free(p->ns);
	free(p->name);
	free(p);
}

/* `obj` is validated and defaulted.  Groups referenced gain a ref; the
 * caller releases old ones after, so shared sets survive a rewrite. */
struct pol_policy *pol_policy_parse(struct pol_engine *e, const char *key, json_t *obj,
				    struct loom_err *err)
{
	json_t *md = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
	json_t *types = json_object_get(spec, "policyTypes"), *t;
	struct pol_policy *p = calloc(1, sizeof(*p));
	static const char *const dname[2] = { "ingress", "egress" };
	static const char *const pname[2] = { "from", "to" };
	char path[96];
	size_t i;

	if (!p)
		return NULL;
	p->key = strdup(key);
	p->ns = strdup(json_string_value(json_object_get(md, "namespace")));
	p->name = strdup(json_string_value(json_object_get(md, "name")));
	snprintf(p->id, sizeof(p->id), "%016" PRIx64, pol_hash(key));
	json_array_foreach(types, i, t) {
		if (!strcmp(json_string_value(t), "Ingress"))
			p->dir[0] = true;
		else if (!strcmp(json_string_value(t), "Egress"))
			p->dir[1] = true;
	}
	if (!p->key || !p->ns || !p->name)
		goto fail;
	p->target = group_ref(e, p->ns, json_object_get(spec, "podSelector"), NULL);
	if (!p->target)
		goto fail;
	/* the nft rules it would make, bounded before anything is built:
	 * each (peer, port) pair of a rule, per address family */
	size_t cost = 0;
	for (int d = 0; d < 2; d++) {
		json_t *r;
		size_t ri;

		json_array_foreach(json_object_get(spec, dname[d]), ri, r) {
			size_t np = json_array_size(json_object_get(r, pname[d]));
			size_t nq = json_array_size(json_object_get(r, "ports"));

			cost += 2 * (np ? np : 1) * (nq ? nq : 1);
		}
	}
	if (cost > POL_NFT_RULES_MAX) {
		loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
			     "spec: peers x ports over all rules make %zu nft rules, at most %d",
			     cost, POL_NFT_RULES_MAX);
		goto fail;
	}
	for (int d = 0; d < 2; d++) {
		json_t *rules = json_object_get(spec, dname[d]), *r;
		size_t ri;

		if (!p->dir[d])
			continue;
		p->rules[d] = calloc(json_array_size(rules) + 1, sizeof(struct pol_rule));
		if (!p->rules[d])
			goto fail;
		json_array_foreach(rules, ri, r) {
			struct pol_rule *ru = &p->rules[d][p->nrules[d]++];
			json_t *peers = json_object_get(r, pname[d]),
			       *ports = json_object_get(r, "ports"), *x;
			size_t k;

			ru->peers = calloc(json_array_size(peers) + 1, sizeof(*ru->peers));
			ru->ports = calloc(json_array_size(ports) + 1, sizeof(*ru->ports));
			if (!ru->peers || !ru->ports)
				goto fail;
			json_array_foreach(peers, k, x) {
				snprintf(path, sizeof(path), "spec.%s[%zu].%s[%zu]", dname[d], ri,
					 pname[d], k);
				if (parse_peer(e, p->ns, x, &ru->peers[ru->npeers++], err, path) <
				    0)
					goto fail;
			}
			json_array_foreach(ports, k, x) {
				snprintf(path, sizeof(path), "spec.%s[%zu].ports[%zu]", dname[d],
					 ri, k);
				if (parse_port(e, x, &ru->ports[ru->nports++], err, path) < 0)
					goto fail;
			}
		}
	}
	return p;
fail:
	if (!err->msg[0])
		loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	pol_policy_free(e, p);
	return NULL;
}
