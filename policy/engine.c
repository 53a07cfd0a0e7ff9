/* The engine: datastore keys in, dirty marks, one nft batch out.
 *
 * A flush compiles only what is dirty (compile.c) into a change set,
 * diffs it against the IR of the last flush and renders one batch
 * (ir.c); only a batch rendered whole is applied to the IR.  Every pod
 * keeps the elements it contributed at the last flush, and each element
 * counts its users, so a relabel costs the groups of its namespace plus
 * the namespaceSelector groups, never a rescan of policies or pods, and
 * an address leaves a set only when no pod wants it there.  Changed
 * policies rewrite their own chains (flush + fill) and their namespace's
 * dispatch chain.  Any allocation failure resets the engine: the next
 * flush compiles everything into a whole-table replace. */
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

struct pol_engine *pol_engine_new(const char *node)
{
	struct pol_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (node && !(e->node = strdup(node))) {
		free(e);
		return NULL;
	}
	e->rebuild = true;
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
	pm_each(&e->policies, x, i)
		pol_policy_free(e, x->val);
	pm_clear(&e->policies, NULL);
	pm_each(&e->pods, x, i)
		pod_free(x->val);
	pm_clear(&e->pods, NULL);
	pm_each(&e->eps, x, i)
		ep_free(x->val);
	pm_clear(&e->eps, NULL);
	pm_clear(&e->groups, pol_group_free);
	pm_clear(&e->nsgroups, NULL);
	pm_clear(&e->nps, free);
	pm_clear(&e->nss, ns_free);
	pm_clear(&e->dirty_pods, NULL);
	pm_clear(&e->dirty_ns, NULL);
	pm_clear(&e->dirty_pol, NULL);
	pm_clear(&e->dirty_groups, NULL);
	pm_clear(&e->dirty_nps, NULL);
	pir_clear(&e->ir);
	free(e->node);
	free(e);
}

static void mark_pod(struct pol_engine *e, struct pol_pod *p)
{
	pol_mark(e, &e->dirty_pods, p->key, p);
}

static void mark_ns_pods(struct pol_engine *e, struct pol_ns *n)
{
	if (n)
		pm_each(&n->pods, x, i)
			mark_pod(e, x->val);
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
	if (!(p->ns = strdup(ns)) || !(p->name = strdup(name)) || pm_put(&e->pods, key, p) < 0) {
		pod_free(p);
		return NULL;
	}
	if (pm_put(&n->pods, key, p) < 0) {
		pm_del(&e->pods, key);
		pod_free(p);
		return NULL;
	}
	return p;
}

/* ---- input ---- */

/* obj NULL: the Pod object is gone.  -ENOMEM leaves the pod as it was. */
static int pod_set_object(struct pol_pod *p, json_t *obj)
{
	json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	json_t *cs = json_object_get(json_object_get(obj, "spec"), "containers"), *c, *po;
	json_t *nl = obj ? (labels ? json_incref(labels) : json_object()) : NULL;
	struct pol_cport *ports = NULL;
	size_t i, k, n = 0, np = 0;

	if (obj && !nl)
		return -ENOMEM;
	json_array_foreach(cs, i, c)
		n += json_array_size(json_object_get(c, "ports"));
	if (n && !(ports = calloc(n, sizeof(*ports))))
		goto oom;
	json_array_foreach(cs, i, c)
		json_array_foreach(json_object_get(c, "ports"), k, po) {
			const char *name = json_string_value(json_object_get(po, "name"));
			int proto =
				pol_proto_parse(json_string_value(json_object_get(po, "protocol")));

			if (!name || proto < 0)
				continue;
			if (!(ports[np].name = strdup(name)))
				goto oom;
			ports[np].proto = proto;
			ports[np].port =
				(int)json_integer_value(json_object_get(po, "containerPort"));
			np++;
		}
	json_decref(p->labels);
	for (i = 0; i < p->nports; i++)
		free(p->ports[i].name);
	free(p->ports);
	p->labels = nl;
	p->ports = ports;
	p->nports = np;
	return 0;
oom:
	for (i = 0; i < np; i++)
		free(ports[i].name);
	free(ports);
	json_decref(nl);
	return -ENOMEM;
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

static struct pol_ep *ep_parse(const char *key, const char *node, size_t nodelen, const char *ns,
			       const char *name, json_t *ips)
{
	struct pol_ep *ep = calloc(1, sizeof(*ep));
	json_t *ip;
	size_t i;

	if (!ep || !(ep->key = strdup(key)) || !(ep->node = strndup(node, nodelen)) ||
	    !(ep->podkey = pol_fmt("%s/%s", ns, name)) ||
	    !(ep->addrs = calloc(json_array_size(ips) + 1, sizeof(char *)))) {
		ep_free(ep);
		return NULL;
	}
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
		if (!(ep->addrs[ep->naddrs] = strdup(buf))) {
			ep_free(ep);
			return NULL;
		}
		ep->naddrs++;
	}
	return ep;
}

/* Out of memory leaves the model as it was (the old endpoint, if any). */
static int ep_put(struct pol_engine *e, const char *key, json_t *obj, struct loom_err *err)
{
	const char *ns = json_string_value(json_object_get(obj, "podNamespace"));
	const char *name = json_string_value(json_object_get(obj, "podName"));
	json_t *ips = json_object_get(obj, "ips");
	const char *rest = key + strlen(P_EP), *slash = strchr(rest, '/');
	struct pol_ep *ep, *old, **v;
	struct pol_pod *p;

	if (!ns || !name || !json_is_array(ips) || !slash)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "%s: needs podNamespace, podName and ips", key);
	ep = ep_parse(key, rest, (size_t)(slash - rest), ns, name, ips);
	p = ep ? pod_get(e, ns, name) : NULL;
	v = p ? realloc(p->eps, (p->neps + 1) * sizeof(*v)) : NULL;
	if (v)
		p->eps = v;
	old = pm_get(&e->eps, key);
	if (!v || pm_put(&e->eps, key, ep) < 0) {
		ep_free(ep);
		if (p)
			mark_pod(e, p); /* collected at the flush if it stays empty */
		return loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", key);
	}
	if (old) {
		ep_detach(e, old);
		ep_free(old);
	}
	p->eps[p->neps++] = ep;
	mark_pod(e, p);
	return 0;
}

/* np NULL: the policy is gone.  -ENOMEM: it could not be stored and is
 * gone too (never half of it). */
static int policy_replace(struct pol_engine *e, const char *key, const char *ns,
			  struct pol_policy *np)
{
	struct pol_policy *old = pm_get(&e->policies, key);
	struct pol_ns *n = pol_ns_get(e, ns, true);
	int rc = 0;

	if (np && (!n || pm_put(&e->policies, key, np) < 0 || pm_put(&n->policies, key, np) < 0)) {
		pm_del(&e->policies, key);
		pol_policy_free(e, np);
		np = NULL;
		rc = -ENOMEM;
	}
	if (!np) {
		pm_del(&e->policies, key);
		if (n)
			pm_del(&n->policies, key);
	}
	pol_policy_free(e, old); /* after the new one took its refs */
	pol_mark(e, &e->dirty_pol, key, (void *)1);
	if (n) {
		pol_mark(e, &e->dirty_ns, ns, n);
		mark_ns_pods(e, n); /* isolation of its pods may change */
	} else {
		e->rebuild = true; /* its namespace's chain may still jump to it */
	}
	return rc;
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

int pol_engine_put(struct pol_engine *e, const char *key, const char *value, struct loom_err *err)
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
			loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "%s: a %s under %s", key,
				     kind->name, loom_kind_get(want)->prefix);
		else
			loom_err_prefix(err, key);
		json_decref(obj);
		pol_engine_del(e, key); /* invalid = absent: never half of it */
		return -1;
	}
	if (want == LOOM_KIND_NAMESPACE) {
		struct pol_ns *n = pol_ns_get(e, key + strlen(P_NS), true);
		json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");

		json_t *nl = labels ? json_deep_copy(labels) : json_object();

		if (!n || !nl ||
		    json_object_set_new(nl, "kubernetes.io/metadata.name", json_string(n->name)) <
			    0) {
			json_decref(nl);
			json_decref(obj);
			return loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", key);
		}
		json_decref(n->labels);
		n->labels = nl;
		n->stored = true;
		mark_ns_pods(e, n);
	} else if (want == LOOM_KIND_POD) {
		json_t *md = json_object_get(obj, "metadata");
		struct pol_pod *p = pod_get(e, json_string_value(json_object_get(md, "namespace")),
					    json_string_value(json_object_get(md, "name")));

		if (!p || pod_set_object(p, obj) < 0)
			rc = loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", key);
		if (p)
			mark_pod(e, p);
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
			loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				     "%s: metadata.namespace is not \"%s\"", key, ns);
			p = NULL;
		} else {
			p = pol_policy_parse(e, key, obj, err);
		}
		if (!p)
			rc = -1;
		if (policy_replace(e, key, ns, p) < 0)
			rc = loom_err_set(err, LOOM_ERR_INTERNAL, "%s: out of memory", key);
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
			pod_set_object(p, NULL); /* allocates nothing */
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

/* ---- flush: compile what is dirty, diff against the IR, render ---- */

struct pod_next {
	struct pol_pod *p;
	char **v; /* its elements after this flush */
	size_t n;
};

struct flush {
	bool all; /* compile everything: the table is replaced */
	struct pir_changes c;
	struct pm_map redo; /* pods a set birth or death makes recompile */
	struct pod_next *pods;
	size_t npods, cap;
};

static void flush_free(struct flush *f)
{
	for (size_t i = 0; i < f->npods; i++)
		strv_free(f->pods[i].v, f->pods[i].n);
	free(f->pods);
	pir_changes_free(&f->c);
	pm_clear(&f->redo, NULL);
}

static int redo_ns(struct flush *f, const struct pol_ns *n)
{
	if (n)
		pm_each(&n->pods, x, i)
			if (pm_put(&f->redo, x->key, x->val) < 0)
				return -ENOMEM;
	return 0;
}

static int redo_group(const struct pol_engine *e, struct flush *f, const struct pol_group *g)
{
	if (g->ns)
		return redo_ns(f, pm_get(&e->nss, g->ns));
	pm_each(&e->nss, x, i) {
		const struct pol_ns *n = x->val;

		/* a dying group's members are in namespaces that matched once:
		 * every namespace then */
		if ((g->refs <= 0 || pol_selector_match(g->nssel, n->labels)) && redo_ns(f, n) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* the _4 and _6 sets named base, added or deleted */
static int set_pair(struct flush *f, const char *base, const char *type4, const char *type6,
		    bool add)
{
	char name[2][200], decl[2][96];

	snprintf(name[0], sizeof(name[0]), "%s_4", base);
	snprintf(name[1], sizeof(name[1]), "%s_6", base);
	snprintf(decl[0], sizeof(decl[0]), "{ type %s; }", type4);
	snprintf(decl[1], sizeof(decl[1]), "{ type %s; }", type6);
	for (int i = 0; i < 2; i++)
		if (add ? pir_changes_add_set(&f->c, pir_set_new(name[i], decl[i], false))
			: pir_changes_del_set(&f->c, strdup(name[i])) < 0)
			return -ENOMEM;
	return 0;
}

static bool ir_has_set(const struct pol_engine *e, const char *base)
{
	char name[200];

	snprintf(name, sizeof(name), "%s_4", base);
	return pm_get(&e->ir.sets, name) != NULL;
}

static int compile_groups(struct pol_engine *e, struct flush *f)
{
	pm_each(f->all ? &e->groups : &e->dirty_groups, x, i) {
		const struct pol_group *g = pm_get(&e->groups, x->key);
		bool have = !f->all && g && ir_has_set(e, g->name);

		if (!g || (g->refs > 0) == have)
			continue;
		if (set_pair(f, g->name, "ipv4_addr", "ipv6_addr", g->refs > 0) < 0 ||
		    (!f->all && redo_group(e, f, g) < 0))
			return -ENOMEM;
	}
	return 0;
}

static int compile_nps(struct pol_engine *e, struct flush *f)
{
	pm_each(f->all ? &e->nps : &e->dirty_nps, x, i) {
		const struct pol_np *np = pm_get(&e->nps, x->key);
		char base[160];
		bool have;

		if (!np || snprintf(base, sizeof(base), "np_%s", x->key) >= (int)sizeof(base))
			continue;
		have = !f->all && ir_has_set(e, base);
		if ((np->refs > 0) == have)
			continue;
		if (set_pair(f, base, "ipv4_addr . inet_proto . inet_service",
			     "ipv6_addr . inet_proto . inet_service", np->refs > 0) < 0)
			return -ENOMEM;
		if (f->all)
			continue;
		pm_each(&e->pods, y, j) {
			struct pol_pod *p = y->val;

			for (size_t k = 0; k < p->nports; k++)
				if (!strcmp(p->ports[k].name, x->key) &&
				    pm_put(&f->redo, p->key, p) < 0)
					return -ENOMEM;
		}
	}
	return 0;
}

/* chain `name` (taken) goes when it exists and is not wanted */
static int drop_chain(const struct pol_engine *e, struct flush *f, char *name, int rank)
{
	if (!name)
		return -ENOMEM;
	if (f->all || !pm_get(&e->ir.chains, name)) {
		free(name);
		return 0;
	}
	return pir_changes_del_chain(&f->c, name, rank);
}

static int compile_policies(struct pol_engine *e, struct flush *f)
{
	pm_each(f->all ? &e->policies : &e->dirty_pol, x, i) {
		const struct pol_policy *p = pm_get(&e->policies, x->key);

		for (int d = 0; d < 2; d++) {
			struct pir_chain *ch;

			if (!p || !p->dir[d]) {
				if (drop_chain(e, f,
					       pol_policy_chain_name(x->key + strlen(P_POL), d),
					       PIR_POLICY) < 0)
					return -ENOMEM;
			} else if (pol_compile_policy(p, d, &ch) < 0 ||
				   pir_changes_chain(&f->c, ch) < 0) {
				return -ENOMEM;
			}
		}
	}
	return 0;
}

static int compile_nss(struct pol_engine *e, struct flush *f)
{
	pm_each(f->all ? &e->nss : &e->dirty_ns, x, i) {
		const struct pol_ns *n = pm_get(&e->nss, x->key);

		for (int d = 0; n && d < 2; d++) {
			struct pir_chain *ch;

			if (pol_compile_ns(n, d, &ch) < 0)
				return -ENOMEM;
			if (ch ? pir_changes_chain(&f->c, ch) < 0
			       : drop_chain(e, f, pol_ns_chain_name(n->name, d), PIR_DISPATCH) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* "set\telem" -> its user count changes by delta */
static int elem_delta(struct flush *f, const char *s, long delta)
{
	size_t l = strcspn(s, "\t");

	if (!s[l])
		return 0;
	return pir_changes_elem(&f->c, strndup(s, l), strdup(s + l + 1), delta);
}

static int compile_pod(struct pol_engine *e, struct flush *f, struct pol_pod *p)
{
	struct pod_next *pn;
	char **old = f->all ? NULL : p->contrib;
	size_t nold = f->all ? 0 : p->ncontrib, a = 0, b = 0;

	if (f->npods == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct pod_next *v = realloc(f->pods, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->pods = v;
		f->cap = cap;
	}
	pn = &f->pods[f->npods];
	pn->p = p;
	if (pol_compile_pod(e, p, &pn->v, &pn->n) < 0)
		return -ENOMEM;
	f->npods++;
	/* a sorted merge of before and after */
	while (a < nold || b < pn->n) {
		int c = a == nold ? 1 : b == pn->n ? -1 : strcmp(old[a], pn->v[b]);

		if (c < 0 && elem_delta(f, old[a], -1) < 0)
			return -ENOMEM;
		if (c > 0 && elem_delta(f, pn->v[b], 1) < 0)
			return -ENOMEM;
		a += c <= 0;
		b += c >= 0;
	}
	return 0;
}

static int compile_pods(struct pol_engine *e, struct flush *f)
{
	if (f->all) {
		pm_each(&e->pods, x, i)
			if (compile_pod(e, f, x->val) < 0)
				return -ENOMEM;
		return 0;
	}
	pm_each(&f->redo, x, i)
		if (compile_pod(e, f, x->val) < 0)
			return -ENOMEM;
	pm_each(&e->dirty_pods, x, i) {
		struct pol_pod *p = pm_get(&e->pods, x->key);

		if (p && !pm_get(&f->redo, x->key) && compile_pod(e, f, p) < 0)
			return -ENOMEM;
	}
	return 0;
}

#define pm_each_safe(m, e, nx, i)            \
	for (size_t i = 0; i < (m)->nb; i++) \
		for (struct pm_ent *e = (m)->b[i], *nx; e && (nx = e->next, 1); e = nx)

/* Frees what no one uses any more: groups and named ports without refs,
 * pods with neither object nor endpoint.  Allocates nothing. */
static void collect(struct pol_engine *e, bool all)
{
	pm_each_safe(all ? &e->groups : &e->dirty_groups, x, nx, i)
	{
		struct pol_group *g = pm_get(&e->groups, x->key);

		if (!g || g->refs > 0)
			continue;
		if (g->ns) {
			struct pol_ns *n = pm_get(&e->nss, g->ns);

			if (n)
				pm_del(&n->groups, g->key);
		} else {
			pm_del(&e->nsgroups, g->key);
		}
		pm_del(&e->groups, g->key);
		pol_group_free(g);
	}
	pm_each_safe(all ? &e->nps : &e->dirty_nps, x, nx, i)
	{
		struct pol_np *np = pm_get(&e->nps, x->key);

		if (np && np->refs <= 0)
			free(pm_del(&e->nps, x->key));
	}
	pm_each_safe(all ? &e->pods : &e->dirty_pods, x, nx, i)
	{
		struct pol_pod *p = pm_get(&e->pods, x->key);
		struct pol_ns *n;

		if (!p || p->labels || p->neps)
			continue;
		n = pm_get(&e->nss, p->ns);
		if (n)
			pm_del(&n->pods, p->key);
		pm_del(&e->pods, p->key);
		pod_free(p);
	}
}

static void clear_dirty(struct pol_engine *e)
{
	pm_clear(&e->dirty_pods, NULL);
	pm_clear(&e->dirty_ns, NULL);
	pm_clear(&e->dirty_pol, NULL);
	pm_clear(&e->dirty_groups, NULL);
	pm_clear(&e->dirty_nps, NULL);
}

void pol_engine_reset(struct pol_engine *e)
{
	pir_clear(&e->ir);
	clear_dirty(e);
	pm_each(&e->pods, x, i) {
		struct pol_pod *p = x->val;

		strv_free(p->contrib, p->ncontrib);
		p->contrib = NULL;
		p->ncontrib = 0;
	}
	e->rebuild = true;
}

void pol_mark(struct pol_engine *e, struct pm_map *dirty, const char *key, void *val)
{
	/* a change that cannot be remembered is remembered as "everything" */
	if (pm_put(dirty, key, val) < 0)
		e->rebuild = true;
}

char *pol_engine_flush(struct pol_engine *e)
{
	struct flush f = { .all = e->rebuild };
	char *out = NULL;
	int rc;

	f.c.replace = f.all;
	rc = f.all ? pol_compile_table(&f.c) : 0;
	if (rc == 0)
		rc = compile_groups(e, &f);
	if (rc == 0)
		rc = compile_nps(e, &f);
	if (rc == 0)
		rc = compile_policies(e, &f);
	if (rc == 0)
		rc = compile_nss(e, &f);
	if (rc == 0)
		rc = compile_pods(e, &f);
	if (rc == 0) {
		pir_diff(&e->ir, &f.c);
		rc = pir_render(&f.c, &out);
	}
	if (rc == 0)
		rc = pir_apply(&e->ir, &f.c);
	if (rc < 0) {
		flush_free(&f);
		free(out);
		pol_engine_reset(e);
		return NULL;
	}
	for (size_t i = 0; i < f.npods; i++) {
		struct pol_pod *p = f.pods[i].p;

		strv_free(p->contrib, p->ncontrib);
		p->contrib = f.pods[i].v;
		p->ncontrib = f.pods[i].n;
		f.pods[i].v = NULL;
		f.pods[i].n = 0;
	}
	collect(e, f.all);
	clear_dirty(e);
	e->rebuild = false;
	flush_free(&f);
	return out;
}

char *pol_engine_ruleset(const struct pol_engine *e)
{
	return pir_dump(&e->ir);
}

void pol_engine_counts(const struct pol_engine *e, struct pol_counts *c)
{
	c->chains = e->ir.chains.n;
	c->rules = e->ir.nrules;
	c->elements = e->ir.nelems;
	c->policies = e->policies.n;
	c->pods = e->pods.n;
}
