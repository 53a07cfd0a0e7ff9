/* The engine: datastore keys in, dirty marks, one nft batch out.
 *
 * Every pod keeps the list of set/map elements it contributed at the last
 * flush; a flush recomputes only dirty pods and emits the difference, so
 * a relabel costs the groups of its namespace plus the namespaceSelector
 * groups, never a rescan of policies or pods.  Changed policies rewrite
 * their own chains (flush + fill) and their namespace's dispatch chain. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/k8s_validate.h"
#include "pol_priv.h"

#define P_NS "/loom/namespaces/"
#define P_POD "/loom/pods/"
#define P_EP "/loom/endpoints/"
#define P_POL "/loom/networkpolicies/"

static const char *const CH[2] = { "pi_", "pe_" };
static const char *const NSCH[2] = { "ni_", "ne_" };
static const char *const VMAP[2] = { "vin", "vout" };

struct pol_engine *pol_engine_new(const char *node)
{
	struct pol_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (node && !(e->node = strdup(node))) {
		free(e);
		return NULL;
	}
	e->fresh = true;
	return e;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void ep_free(struct pol_ep *ep)
{
	if (!ep)
		return;
	free(ep->key);
	free(ep->podkey);
	free(ep->node);
	strv_free(ep->addrs, ep->naddrs);
	free(ep);
}

static void pod_free(struct pol_pod *p)
{
	if (!p)
		return;
	json_decref(p->labels);
	for (size_t i = 0; i < p->nports; i++)
		free(p->ports[i].name);
	free(p->ports);
	free(p->eps);
	strv_free(p->contrib, p->ncontrib);
	free(p->key);
	free(p->ns);
	free(p->name);
	free(p);
}

static void group_free(void *v)
{
	struct pol_group *g = v;

	free(g->key);
	free(g->ns);
	json_decref(g->podsel);
	json_decref(g->nssel);
	free(g);
}

static void ns_free(void *v)
{
	struct pol_ns *n = v;

	json_decref(n->labels);
	pm_clear(&n->pods, NULL);
	pm_clear(&n->policies, NULL);
	pm_clear(&n->groups, NULL);
	free(n->name);
	free(n);
}

void pol_engine_free(struct pol_engine *e)
{
	if (!e)
		return;
	pm_each(&e->policies, x, i) pol_policy_free(e, x->val);
	pm_clear(&e->policies, NULL);
	pm_each(&e->pods, x, i) pod_free(x->val);
	pm_clear(&e->pods, NULL);
	pm_each(&e->eps, x, i) ep_free(x->val);
	pm_clear(&e->eps, NULL);
	pm_clear(&e->groups, group_free);
	pm_clear(&e->nsgroups, NULL);
	pm_clear(&e->nps, free);
	pm_clear(&e->nss, ns_free);
	pm_clear(&e->dirty_pods, NULL);
	pm_clear(&e->dirty_ns, NULL);
	pm_clear(&e->dirty_pol, NULL);
	pm_clear(&e->dirty_groups, NULL);
	pm_clear(&e->dirty_nps, NULL);
	pm_clear(&e->pol_emitted, NULL);
	pm_clear(&e->pol_rules, NULL);
	pm_clear(&e->ns_rules, NULL);
	free(e->node);
	free(e);
}

static void mark_pod(struct pol_engine *e, struct pol_pod *p)
{
	pm_put(&e->dirty_pods, p->key, p);
}

static void mark_ns_pods(struct pol_engine *e, struct pol_ns *n)
{
	if (n)
		pm_each(&n->pods, x, i) mark_pod(e, x->val);
}

static struct pol_pod *pod_get(struct pol_engine *e, const char *ns, const char *name)
{
	char *key = NULL;
	struct pol_pod *p;
	struct pol_ns *n;

	if (asprintf(&key, "%s/%s", ns, name) < 0)
		return NULL;
	p = pm_get(&e->pods, key);
	if (p) {
		free(key);
		return p;
	}
	n = pol_ns_get(e, ns, true);
	p = calloc(1, sizeof(*p));
	if (!n || !p) {
		free(p);
		free(key);
		return NULL;
	}
	p->key = key;
	p->ns = strdup(ns);
	p->name = strdup(name);
	pm_put(&e->pods, key, p);
	pm_put(&n->pods, key, p);
	return p;
}

void pol_engine_reset(struct pol_engine *e)
{
	e->fresh = true;
	e->elements = e->rules = e->chains = 0;
	pm_each(&e->groups, x, i) {
		((struct pol_group *)x->val)->emitted = false;
		pm_put(&e->dirty_groups, x->key, x->val);
	}
	pm_each(&e->nps, x, i) {
		((struct pol_np *)x->val)->emitted = false;
		pm_put(&e->dirty_nps, x->key, x->val);
	}
	pm_each(&e->pods, x, i) {
		struct pol_pod *p = x->val;

		strv_free(p->contrib, p->ncontrib);
		p->contrib = NULL;
		p->ncontrib = 0;
		mark_pod(e, p);
	}
	pm_each(&e->nss, x, i) {
		struct pol_ns *n = x->val;

		n->chains_emitted[0] = n->chains_emitted[1] = 0;
		pm_put(&e->dirty_ns, x->key, n);
	}
	pm_clear(&e->pol_emitted, NULL);
	pm_clear(&e->pol_rules, NULL);
	pm_clear(&e->ns_rules, NULL);
	pm_each(&e->policies, x, i) pm_put(&e->dirty_pol, x->key, (void *)1);
}

/* ---- input ---- */

static void pod_set_object(struct pol_pod *p, json_t *obj)
{
	json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	json_t *cs = json_object_get(json_object_get(obj, "spec"), "containers"), *c, *po;
	size_t i, k, n = 0;

	json_decref(p->labels);
	for (i = 0; i < p->nports; i++)
		free(p->ports[i].name);
	free(p->ports);
	p->ports = NULL;
	p->nports = 0;
	p->labels = obj ? (labels ? json_incref(labels) : json_object()) : NULL;
	json_array_foreach(cs, i, c) n += json_array_size(json_object_get(c, "ports"));
	if (!n || !(p->ports = calloc(n, sizeof(*p->ports))))
		return;
	json_array_foreach(cs, i, c) json_array_foreach(json_object_get(c, "ports"), k, po) {
		const char *name = json_string_value(json_object_get(po, "name"));
		int proto = pol_proto_parse(json_string_value(json_object_get(po, "protocol")));

		if (!name || proto < 0)
			continue;
		p->ports[p->nports].name = strdup(name);
		p->ports[p->nports].proto = proto;
		p->ports[p->nports].port = (int)json_integer_value(json_object_get(po, "containerPort"));
		p->nports++;
	}
}

static void ep_detach(struct pol_engine *e, struct pol_ep *ep)
{
	struct pol_pod *p = pm_get(&e->pods, ep->podkey);

	if (!p)
		return;
	for (size_t i = 0; i < p->neps; i++)
		if (p->eps[i] == ep) {
			p->eps[i] = p->eps[--p->neps];
			break;
		}
	mark_pod(e, p);
}

static int ep_put(struct pol_engine *e, const char *key, json_t *obj, struct loom_err *err)
{
	const char *ns = json_string_value(json_object_get(obj, "podNamespace"));
	const char *name = json_string_value(json_object_get(obj, "podName"));
	json_t *ips = json_object_get(obj, "ips"), *ip;
	const char *rest = key + strlen(P_EP), *slash = strchr(rest, '/');
	struct pol_ep *ep, *old;
	struct pol_pod *p;
	size_t i;

	if (!ns || !name || !json_is_array(ips) || !slash)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: needs podNamespace, podName and ips", key);
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	ep->key = strdup(key);
	ep->node = strndup(rest, (size_t)(slash - rest));
	if (asprintf(&ep->podkey, "%s/%s", ns, name) < 0)
		ep->podkey = NULL;
	ep->addrs = calloc(json_array_size(ips) + 1, sizeof(char *));
	json_array_foreach(ips, i, ip) {
		const char *s = json_string_value(ip);
		char buf[64];
		unsigned char bin[16];

		if (!s || strlen(s) >= sizeof(buf))
			continue;
		strcpy(buf, s);
		buf[strcspn(buf, "/")] = '\0';
		if (inet_pton(pol_family(buf) == 6 ? AF_INET6 : AF_INET, buf, bin) != 1)
			continue;
		ep->addrs[ep->naddrs++] = strdup(buf);
	}
	old = pm_get(&e->eps, key);
	if (old) {
		ep_detach(e, old);
		ep_free(old);
	}
	pm_put(&e->eps, key, ep);
	p = pod_get(e, ns, name);
	if (!p)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	struct pol_ep **v = realloc(p->eps, (p->neps + 1) * sizeof(*v));
	if (!v)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	p->eps = v;
	p->eps[p->neps++] = ep;
	mark_pod(e, p);
	return 0;
}

static void policy_replace(struct pol_engine *e, const char *key, const char *ns,
			   struct pol_policy *np)
{
	struct pol_policy *old = pm_get(&e->policies, key);
	struct pol_ns *n = pol_ns_get(e, ns, true);

	if (np)
		pm_put(&e->policies, key, np);
	else
		pm_del(&e->policies, key);
	if (n) {
		if (np)
			pm_put(&n->policies, key, np);
		else
			pm_del(&n->policies, key);
	}
	pol_policy_free(e, old); /* after the new one took its refs */
	pm_put(&e->dirty_pol, key, (void *)1);
	if (n) {
		pm_put(&e->dirty_ns, ns, n);
		mark_ns_pods(e, n); /* isolation of its pods may change */
	}
}

/* key's ns (and name) parts after prefix */
static int key_parts(const char *key, const char *prefix, char *ns, size_t len)
{
	const char *rest = key + strlen(prefix), *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

	if (!n || n >= len)
		return -1;
	memcpy(ns, rest, n);
	ns[n] = '\0';
	return 0;
}

int pol_engine_put(struct pol_engine *e, const char *key, const char *value,
		   struct loom_err *err)
{
	bool is_ep = !strncmp(key, P_EP, strlen(P_EP));
	enum loom_kind want = LOOM_KIND_NAMESPACE;
	const struct loom_kind_info *kind = NULL;
	json_error_t jerr;
	json_t *obj;
	char ns[256];
	int rc = 0;

	if (!strncmp(key, P_NS, strlen(P_NS)))
		want = LOOM_KIND_NAMESPACE;
	else if (!strncmp(key, P_POD, strlen(P_POD)))
		want = LOOM_KIND_POD;
	else if (!strncmp(key, P_POL, strlen(P_POL)))
		want = LOOM_KIND_NETWORKPOLICY;
	else if (!is_ep)
		return 0;
	obj = json_loads(value, 0, &jerr);
	if (!obj || !json_is_object(obj)) {
		json_decref(obj);
		loom_err_set(err, LOOM_ERR_DECODE, "%s: not a JSON object: %s", key, jerr.text);
		pol_engine_del(e, key);
		return -1;
	}
	if (is_ep) {
		rc = ep_put(e, key, obj, err);
		json_decref(obj);
		if (rc < 0)
			pol_engine_del(e, key);
		return rc;
	}
	if (loom_k8s_validate(obj, &kind, err) < 0 || kind->kind != want) {
		if (kind && kind->kind != want)
			loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: a %s under %s", key, kind->name,
				     loom_kind_get(want)->prefix);
		else
			loom_err_prefix(err, key);
		json_decref(obj);
		pol_engine_del(e, key); /* invalid = absent: never half of it */
		return -1;
	}
	if (want == LOOM_KIND_NAMESPACE) {
		struct pol_ns *n = pol_ns_get(e, key + strlen(P_NS), true);
		json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");

		if (n) {
			json_decref(n->labels);
			n->labels = labels ? json_deep_copy(labels) : json_object();
			json_object_set_new(n->labels, "kubernetes.io/metadata.name", json_string(n->name));
			n->stored = true;
			mark_ns_pods(e, n);
		}
	} else if (want == LOOM_KIND_POD) {
		json_t *md = json_object_get(obj, "metadata");
		struct pol_pod *p = pod_get(e, json_string_value(json_object_get(md, "namespace")),
					    json_string_value(json_object_get(md, "name")));

		if (p) {
			pod_set_object(p, obj);
			mark_pod(e, p);
		}
	} else {
		struct pol_policy *p;

		if (key_parts(key, P_POL, ns, sizeof(ns)) < 0) {
			json_decref(obj);
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: bad key", key);
		}
		const char *mns = json_string_value(
			json_object_get(json_object_get(obj, "metadata"), "namespace"));

		/* the key files it under one namespace, the object would select
		 * pods of another: trust neither */
		if (!mns || strcmp(mns, ns)) {
			loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: metadata.namespace is not \"%s\"",
				     key, ns);
			p = NULL;
		} else {
			p = pol_policy_parse(e, key, obj, err);
		}
		if (!p)
			rc = -1;
		policy_replace(e, key, ns, p);
	}
	json_decref(obj);
	return rc;
}

void pol_engine_del(struct pol_engine *e, const char *key)
{
	char ns[256];

	if (!strncmp(key, P_NS, strlen(P_NS))) {
		struct pol_ns *n = pol_ns_get(e, key + strlen(P_NS), false);

		if (n) {
			json_decref(n->labels);
			n->labels = json_pack("{ss}", "kubernetes.io/metadata.name", n->name);
			n->stored = false;
			mark_ns_pods(e, n);
		}
	} else if (!strncmp(key, P_POD, strlen(P_POD))) {
		struct pol_pod *p = pm_get(&e->pods, key + strlen(P_POD));

		if (p) {
			pod_set_object(p, NULL);
			mark_pod(e, p);
		}
	} else if (!strncmp(key, P_EP, strlen(P_EP))) {
		struct pol_ep *ep = pm_del(&e->eps, key);

		if (ep) {
			ep_detach(e, ep);
			ep_free(ep);
		}
	} else if (!strncmp(key, P_POL, strlen(P_POL))) {
		if (key_parts(key, P_POL, ns, sizeof(ns)) == 0 && pm_get(&e->policies, key))
			policy_replace(e, key, ns, NULL);
	}
}

/* ---- output ---- */

struct strv {
	char **v;
	size_t n, cap;
};

static void sv_add(struct strv *s, char *str)
{
	if (!str)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			free(str);
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = str;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool pod_isolated(const struct pol_engine *e, const struct pol_pod *p, int d)
{
	struct pol_ns *n = pm_get(&e->nss, p->ns);

	if (!n)
		return false;
	pm_each(&n->policies, x, i) {
		const struct pol_policy *po = x->val;

		if (po->dir[d] && pol_group_match(e, po->target, p))
			return true;
	}
	return false;
}

static void group_elems(struct strv *out, const struct pol_group *g, const struct pol_pod *p)
{
	for (size_t k = 0; k < p->neps; k++)
		for (size_t a = 0; a < p->eps[k]->naddrs; a++) {
			const char *ad = p->eps[k]->addrs[a];

			sv_add(out, fmt("%s_%d\t%s", g->name, pol_family(ad), ad));
		}
}

/* Every element this pod puts in the table, sorted, without duplicates. */
static void pod_contrib(const struct pol_engine *e, const struct pol_pod *p, struct strv *out)
{
	struct pol_ns *n = pm_get(&e->nss, p->ns);

	if (!p->labels || !p->neps)
		return;
	if (n)
		pm_each(&n->groups, x, i) {
			const struct pol_group *g = x->val;

			if (g->refs > 0 && pol_group_match(e, g, p))
				group_elems(out, g, p);
		}
	pm_each(&e->nsgroups, x, i) {
		const struct pol_group *g = x->val;

		if (g->refs > 0 && pol_group_match(e, g, p))
			group_elems(out, g, p);
	}
	for (size_t k = 0; k < p->nports; k++) {
		struct pol_np *np = pm_get(&e->nps, p->ports[k].name);
		static const char *const pn[] = { [6] = "tcp", [17] = "udp" };
		int pr = p->ports[k].proto;

		if (!np || np->refs <= 0)
			continue;
		for (size_t q = 0; q < p->neps; q++)
			for (size_t a = 0; a < p->eps[q]->naddrs; a++) {
				const char *ad = p->eps[q]->addrs[a];

				sv_add(out, fmt("np_%s_%d\t%s . %s . %d", p->ports[k].name, pol_family(ad), ad,
						pr == 132 ? "sctp" : pn[pr], p->ports[k].port));
			}
	}
	for (int d = 0; d < 2; d++) {
		if (!pol_pod_local(e, p) || !pod_isolated(e, p, d))
			continue;
		for (size_t q = 0; q < p->neps; q++) {
			if (strcmp(p->eps[q]->node, e->node))
				continue;
			for (size_t a = 0; a < p->eps[q]->naddrs; a++) {
				const char *ad = p->eps[q]->addrs[a];

				sv_add(out, fmt("%s%d\t%s\tjump %s%s", VMAP[d], pol_family(ad), ad, NSCH[d], p->ns));
			}
		}
	}
	if (out->n) /* qsort(NULL, 0) is undefined */
		qsort(out->v, out->n, sizeof(char *), cmp_str);
	size_t w = 0;
	for (size_t r = 0; r < out->n; r++) {
		if (w && !strcmp(out->v[w - 1], out->v[r])) {
			free(out->v[r]);
			continue;
		}
		out->v[w++] = out->v[r];
	}
	out->n = w;
}

/* set name of an element string */
static size_t set_len(const char *s)
{
	return strcspn(s, "\t");
}

/* one "add/delete element" command per set, from a sorted list */
static void emit_elems(struct sbuf *b, const char *verb, struct strv *s, bool keys_only)
{
	if (s->n)
		qsort(s->v, s->n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < s->n;) {
		size_t sl = set_len(s->v[i]), j;

		sb_printf(b, "%s element inet loom %.*s {", verb, (int)sl, s->v[i]);
		for (j = i; j < s->n && set_len(s->v[j]) == sl && !strncmp(s->v[j], s->v[i], sl); j++) {
			const char *el = s->v[j] + sl + 1, *val = strchr(el, '\t');

			if (val && keys_only)
				sb_printf(b, "%s %.*s", j > i ? "," : "", (int)(val - el), el);
			else if (val)
				sb_printf(b, "%s %.*s : %s", j > i ? "," : "", (int)(val - el), el, val + 1);
			else
				sb_printf(b, "%s %s", j > i ? "," : "", el);
		}
		sb_printf(b, " }\n");
		i = j;
	}
}

static void header(struct sbuf *b)
{
	/* add+delete+add: replaces a table left by an earlier run, in the
	 * same transaction as the new content */
	sb_printf(b, "add table inet loom\ndelete table inet loom\nadd table inet loom\n");
	for (int d = 0; d < 2; d++)
		sb_printf(b,
			  "add map inet loom %s4 { type ipv4_addr : verdict; }\n"
			  "add map inet loom %s6 { type ipv6_addr : verdict; }\n",
			  VMAP[d], VMAP[d]);
	/* egress first: both base chains must accept a packet */
	sb_printf(b, "add chain inet loom egress { type filter hook forward priority filter + 1; policy accept; }\n"
		     "add chain inet loom ingress { type filter hook forward priority filter + 2; policy accept; }\n");
	for (int d = 1; d >= 0; d--) {
		const char *c = d ? "egress" : "ingress", *a = d ? "saddr" : "daddr";

		sb_printf(b,
			  "add rule inet loom %s ct state established,related accept\n"
			  "add rule inet loom %s icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
			  "add rule inet loom %s ip %s vmap @%s4\n"
			  "add rule inet loom %s ip6 %s vmap @%s6\n",
			  c, c, c, a, VMAP[d], c, a, VMAP[d]);
	}
}

static bool set_dead(struct pm_map *dead, const char *el)
{
	char name[160];
	size_t l = set_len(el);

	if (l >= sizeof(name))
		return false;
	memcpy(name, el, l);
	name[l] = '\0';
	return pm_get(dead, name) != NULL;
}

static void mark_group_pods(struct pol_engine *e, struct pol_group *g)
{
	if (g->ns) {
		mark_ns_pods(e, pm_get(&e->nss, g->ns));
		return;
	}
	pm_each(&e->nss, x, i) {
		struct pol_ns *n = x->val;

		/* a dying group's members are in namespaces that matched once:
		 * mark every namespace then */
		if (g->refs <= 0 || pol_selector_match(g->nssel, n->labels))
			mark_ns_pods(e, n);
	}
}

char *pol_engine_flush(struct pol_engine *e)
{
	struct sbuf A = { 0 }, D = { 0 }, E = { 0 }, NF = { 0 }, F = { 0 }, G = { 0 }, out = { 0 };
	struct strv adds = { 0 }, dels = { 0 };
	struct pm_map dead = { 0 };
	const char **keys;
	size_t n;

	if (e->fresh)
		header(&out);
	/* sets of groups */
	keys = pm_keys(&e->dirty_groups, &n);
	for (size_t i = 0; keys && i < n; i++) {
		struct pol_group *g = pm_get(&e->groups, keys[i]);

		if (!g)
			continue;
		if (g->refs > 0 && !g->emitted) {
			sb_printf(&A, "add set inet loom %s_4 { type ipv4_addr; }\n"
				      "add set inet loom %s_6 { type ipv6_addr; }\n", g->name, g->name);
			g->emitted = true;
			mark_group_pods(e, g);
		} else if (g->refs <= 0) {
			if (g->emitted) {
				sb_printf(&G, "delete set inet loom %s_4\ndelete set inet loom %s_6\n", g->name,
					  g->name);
				char *d4 = fmt("%s_4", g->name), *d6 = fmt("%s_6", g->name);
				if (d4)
					pm_put(&dead, d4, (void *)1);
				if (d6)
					pm_put(&dead, d6, (void *)1);
				free(d4);
				free(d6);
			}
			mark_group_pods(e, g);
			pm_del(&e->groups, g->key);
			if (g->ns) {
				struct pol_ns *gn = pm_get(&e->nss, g->ns);
				if (gn)
					pm_del(&gn->groups, g->key);
			} else {
				pm_del(&e->nsgroups, g->key);
			}
			group_free(g);
		}
	}
	free(keys);
	pm_clear(&e->dirty_groups, NULL);
	/* named port sets */
	keys = pm_keys(&e->dirty_nps, &n);
	for (size_t i = 0; keys && i < n; i++) {
		struct pol_np *np = pm_get(&e->nps, keys[i]);
		bool birth = np && np->refs > 0 && !np->emitted, death = np && np->refs <= 0;

		if (birth) {
			sb_printf(&A,
				  "add set inet loom np_%s_4 { type ipv4_addr . inet_proto . inet_service; }\n"
				  "add set inet loom np_%s_6 { type ipv6_addr . inet_proto . inet_service; }\n",
				  keys[i], keys[i]);
			np->emitted = true;
		} else if (death && np->emitted) {
			sb_printf(&G, "delete set inet loom np_%s_4\ndelete set inet loom np_%s_6\n", keys[i],
				  keys[i]);
			char *d4 = fmt("np_%s_4", keys[i]), *d6 = fmt("np_%s_6", keys[i]);
			if (d4)
				pm_put(&dead, d4, (void *)1);
			if (d6)
				pm_put(&dead, d6, (void *)1);
			free(d4);
			free(d6);
		}
		if (birth || death) {
			pm_each(&e->pods, x, j) {
				struct pol_pod *p = x->val;

				for (size_t k = 0; k < p->nports; k++)
					if (!strcmp(p->ports[k].name, keys[i]))
						mark_pod(e, p);
			}
		}
		if (death)
			free(pm_del(&e->nps, keys[i]));
	}
	free(keys);
	pm_clear(&e->dirty_nps, NULL);
	/* policy chains */
	keys = pm_keys(&e->dirty_pol, &n);
	for (size_t i = 0; keys && i < n; i++) {
		struct pol_policy *p = pm_get(&e->policies, keys[i]);
		char id[24], chain[32];
		uintptr_t prev, now = 0;

		snprintf(id, sizeof(id), "%016llx", (unsigned long long)pol_hash(keys[i]));
		prev = (uintptr_t)pm_get(&e->pol_emitted, id);
		e->rules -= (uintptr_t)pm_get(&e->pol_rules, id);
		for (int d = 0; d < 2; d++) {
			bool want = p && p->dir[d], had = prev & (1u << d);

			snprintf(chain, sizeof(chain), "%s%s", CH[d], id);
			if (want && !had) {
				sb_printf(&A, "add chain inet loom %s { comment \"%s %s\"; }\n", chain, keys[i] + strlen(P_POL),
					  d ? "egress" : "ingress");
				e->chains++;
			}
			if (want) {
				if (had)
					sb_printf(&D, "flush chain inet loom %s\n", chain);
				now |= 1u << d;
			} else if (had) {
				sb_printf(&F, "delete chain inet loom %s\n", chain);
				e->chains--;
			}
		}
		size_t nr = 0;
		for (int d = 0; d < 2; d++)
			if (now & (1u << d)) {
				snprintf(chain, sizeof(chain), "%s%s", CH[d], id);
				nr += pol_rules_emit(&D, chain, p, d);
			}
		e->rules += nr;
		if (now) {
			pm_put(&e->pol_emitted, id, (void *)now);
			pm_put(&e->pol_rules, id, (void *)(uintptr_t)nr);
		} else {
			pm_del(&e->pol_emitted, id);
			pm_del(&e->pol_rules, id);
		}
	}
	free(keys);
	pm_clear(&e->dirty_pol, NULL);
	/* namespace dispatch chains */
	keys = pm_keys(&e->dirty_ns, &n);
	for (size_t i = 0; keys && i < n; i++) {
		struct pol_ns *ns = pm_get(&e->nss, keys[i]);
		size_t np;
		const char **pk = pm_keys(&ns->policies, &np);
		size_t nr = 0;

		e->rules -= (uintptr_t)pm_get(&e->ns_rules, keys[i]);
		for (int d = 0; d < 2; d++) {
			bool want = false;

			for (size_t k = 0; pk && k < np; k++)
				want |= ((struct pol_policy *)pm_get(&ns->policies, pk[k]))->dir[d];
			if (want && !ns->chains_emitted[d]) {
				sb_printf(&A, "add chain inet loom %s%s { comment \"namespace %s\"; }\n", NSCH[d],
					  ns->name, ns->name);
				e->chains++;
			} else if (want) {
				sb_printf(&E, "flush chain inet loom %s%s\n", NSCH[d], ns->name);
			} else if (ns->chains_emitted[d]) {
				/* before the policy chains it jumps to: a chain still
				 * referenced cannot be deleted (EBUSY) */
				sb_printf(&NF, "delete chain inet loom %s%s\n", NSCH[d], ns->name);
				e->chains--;
			}
			ns->chains_emitted[d] = want;
			if (!want)
				continue;
			for (size_t k = 0; pk && k < np; k++) {
				struct pol_policy *p = pm_get(&ns->policies, pk[k]);

				if (!p->dir[d])
					continue;
				sb_printf(&E,
					  "add rule inet loom %s%s ip %s @%s_4 jump %s%s\n"
					  "add rule inet loom %s%s ip6 %s @%s_6 jump %s%s\n",
					  NSCH[d], ns->name, d ? "saddr" : "daddr", p->target->name, CH[d], p->id,
					  NSCH[d], ns->name, d ? "saddr" : "daddr", p->target->name, CH[d], p->id);
				nr += 2;
			}
			sb_printf(&E, "add rule inet loom %s%s drop\n", NSCH[d], ns->name);
			nr++;
		}
		free(pk);
		e->rules += nr;
		if (nr)
			pm_put(&e->ns_rules, keys[i], (void *)(uintptr_t)nr);
		else
			pm_del(&e->ns_rules, keys[i]);
	}
	free(keys);
	pm_clear(&e->dirty_ns, NULL);
	/* pods: element differences */
	keys = pm_keys(&e->dirty_pods, &n);
	for (size_t i = 0; keys && i < n; i++) {
		struct pol_pod *p = pm_get(&e->pods, keys[i]);
		struct strv now = { 0 };
		size_t a = 0, b = 0;

		if (!p)
			continue;
		pod_contrib(e, p, &now);
		while (a < p->ncontrib || b < now.n) {
			int c = a == p->ncontrib ? 1 : b == now.n ? -1 : strcmp(p->contrib[a], now.v[b]);

			if (c < 0) {
				if (!set_dead(&dead, p->contrib[a]))
					sv_add(&dels, strdup(p->contrib[a]));
				e->elements--;
				a++;
			} else if (c > 0) {
				sv_add(&adds, strdup(now.v[b]));
				e->elements++;
				b++;
			} else {
				a++;
				b++;
			}
		}
		strv_free(p->contrib, p->ncontrib);
		p->contrib = now.v;
		p->ncontrib = now.n;
		if (!p->labels && !p->neps) {
			struct pol_ns *pn = pm_get(&e->nss, p->ns);

			if (pn)
				pm_del(&pn->pods, p->key);
			pm_del(&e->pods, p->key);
			pod_free(p);
		}
	}
	free(keys);
	pm_clear(&e->dirty_pods, NULL);

	if (e->fresh)
		e->chains += 2;
	e->fresh = false;
	sb_printf(&out, "%s", A.s ? A.s : "");
	emit_elems(&out, "delete", &dels, true);
	emit_elems(&out, "add", &adds, false);
	sb_printf(&out, "%s%s%s%s%s", D.s ? D.s : "", E.s ? E.s : "", NF.s ? NF.s : "", F.s ? F.s : "",
		  G.s ? G.s : "");
	strv_free(adds.v, adds.n);
	strv_free(dels.v, dels.n);
	pm_clear(&dead, NULL);
	bool oom = A.oom || D.oom || E.oom || NF.oom || F.oom || G.oom || out.oom;
	sb_free(&A);
	sb_free(&D);
	sb_free(&E);
	sb_free(&NF);
	sb_free(&F);
	sb_free(&G);
	if (oom) {
		sb_free(&out);
		return NULL;
	}
	return out.s ? out.s : strdup("");
}

void pol_engine_counts(const struct pol_engine *e, struct pol_counts *c)
{
	c->chains = e->chains;
	c->rules = e->rules + (e->chains ? 8 : 0);
	c->elements = e->elements;
	c->policies = e->policies.n;
	c->pods = e->pods.n;
}
