/* The compiler: model objects -> IR pieces (chains with rules, set
 * elements).  Nothing here changes the engine; every allocation failure
 * is returned as -ENOMEM.
 *
 * Table shape: packets through the forward hook meet `egress` then
 * `ingress`; each looks the pod address up in a verdict map (vout4/6 by
 * source, vin4/6 by destination) holding the node's isolated pods, which
 * jump to their namespace's chain `pods/<ns>/<direction>`; that jumps to
 * `policy/<ns>/<name>/<direction>` for each policy selecting the pod and
 * ends in drop; a policy chain accepts what its rules allow. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_priv.h"

static const char *const DIR_NAME[2] = { "ingress", "egress" };
static const char *const VMAP[2] = { "vin", "vout" };
#define ESTABLISHED "ct state established,related accept"
#define NEIGHBOUR_DISCOVERY "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept"

/* Kubernetes names ([a-z0-9.-], at most 63 for a namespace) are nft
 * identifiers as they are, and cannot hold the '/' that separates them, so
 * two objects never share a chain.  Anything else (too long for a
 * readable line, or characters nft would not take) is cut and marked with
 * its hash after a '_', which no Kubernetes name contains: deterministic,
 * distinct, and far below nft's 256-byte name limit.  "pods/" and
 * "policy/" keep the two kinds apart; a policy's id is "<ns>/<name>" from
 * its store key, whose namespace part holds no '/'. */
#define NAME_MAX_READABLE 120
#define NAME_CUT 60

static bool plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '/';
}

static bool plain(const char *s)
{
	for (; *s; s++)
		if (!plain_char(*s))
			return false;
	return true;
}

static char *chain_name(const char *kind, const char *id, int d)
{
	char cut[NAME_CUT + 1];
	size_t i;

	if (strlen(id) <= NAME_MAX_READABLE && plain(id) && id[0] != '/')
		return pol_fmt("%s/%s/%s", kind, id, DIR_NAME[d]);
	for (i = 0; id[i] && i < NAME_CUT; i++)
		cut[i] = plain_char(id[i]) ? id[i] : '_';
	cut[i] = '\0';
	return pol_fmt("%s/%s_%016" PRIx64 "/%s", kind, cut, pol_hash(id), DIR_NAME[d]);
}

char *pol_policy_chain_name(const char *ns_name, int d)
{
	return chain_name("policy", ns_name, d);
}

char *pol_ns_chain_name(const char *ns, int d)
{
	return chain_name("pods", ns, d);
}

static struct pir_chain *chain_new(const char *decl, int rank)
{
	struct pir_chain *c = calloc(1, sizeof(*c));

	if (!c || !(c->decl = strdup(decl))) {
		free(c);
		return NULL;
	}
	c->rank = rank;
	return c;
}

int pol_compile_table(struct pir_changes *c)
{
	for (int d = 0; d < 2; d++)
		for (int f = 4; f <= 6; f += 2) {
			char name[16], decl[64];

			snprintf(name, sizeof(name), "%s%d", VMAP[d], f);
			snprintf(decl, sizeof(decl), "{ type ipv%d_addr : verdict; }", f);
			if (pir_changes_add_set(c, pir_set_new(name, decl, true)) < 0)
				return -ENOMEM;
		}
	/* egress at a lower priority: both base chains must accept a packet */
	for (int d = 0; d < 2; d++) {
		const char *a = d ? "saddr" : "daddr";
		char decl[96];
		struct pir_chain *ch;

		snprintf(decl, sizeof(decl),
			 "{ type filter hook forward priority filter + %d; policy accept; }",
			 d ? 1 : 2);
		ch = chain_new(decl, PIR_BASE);
		if (!ch || !(ch->name = strdup(DIR_NAME[d]))) {
			pir_chain_free(ch);
			return -ENOMEM;
		}
		/* replies pass; neighbour discovery is not policy's business */
		if (pir_chain_add_rule(ch, strdup(ESTABLISHED)) < 0 ||
		    pir_chain_add_rule(ch, strdup(NEIGHBOUR_DISCOVERY)) < 0 ||
		    pir_chain_add_rule(ch, pol_fmt("ip %s vmap @%s4", a, VMAP[d])) < 0 ||
		    pir_chain_add_rule(ch, pol_fmt("ip6 %s vmap @%s6", a, VMAP[d])) < 0) {
			pir_chain_free(ch);
			return -ENOMEM;
		}
		if (pir_changes_chain(c, ch) < 0)
			return -ENOMEM;
	}
	return 0;
}

int pol_compile_policy(const struct pol_policy *p, int d, struct pir_chain **out)
{
	/* named by its store key, as its chain is */
	const char *id = p->key + strlen(P_POL);
	char *comment = pol_fmt("{ comment \"%s %s\"; }", id, DIR_NAME[d]);
	struct pir_chain *c = comment ? chain_new(comment, PIR_POLICY) : NULL;

	free(comment);
	*out = NULL;
	if (!c || !(c->name = pol_policy_chain_name(id, d)) || pol_rules_compile(c, p, d) < 0) {
		pir_chain_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int pol_compile_ns(const struct pol_ns *n, int d, struct pir_chain **out)
{
	const char *a = d ? "saddr" : "daddr";
	const char **keys;
	size_t nk;
	struct pir_chain *c = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	keys = pm_keys(&n->policies, &nk);
	if (!keys)
		return -ENOMEM;
	for (size_t k = 0; k < nk; k++) {
		const struct pol_policy *p = pm_get(&n->policies, keys[k]);
		char *target;

		if (!p->dir[d])
			continue;
		if (!c) {
			char *comment =
				pol_fmt("{ comment \"pods of namespace %s isolated for %s\"; }",
					n->name, DIR_NAME[d]);

			c = comment ? chain_new(comment, PIR_DISPATCH) : NULL;
			free(comment);
			if (!c || !(c->name = pol_ns_chain_name(n->name, d)))
				goto out;
		}
		target = pol_policy_chain_name(p->key + strlen(P_POL), d);
		if (!target)
			goto out;
		if (pir_chain_add_rule(c, pol_fmt("ip %s @%s_4 jump %s", a, p->target->name,
						  target)) < 0 ||
		    pir_chain_add_rule(c, pol_fmt("ip6 %s @%s_6 jump %s", a, p->target->name,
						  target)) < 0) {
			free(target);
			goto out;
		}
		free(target);
	}
	if (c && pir_chain_add_rule(c, strdup("drop")) < 0)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	pir_chain_free(c);
	free(keys);
	return rc;
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

static int group_elems(struct strv *out, const struct pol_group *g, const struct pol_pod *p)
{
	for (size_t k = 0; k < p->neps; k++)
		for (size_t a = 0; a < p->eps[k]->naddrs; a++) {
			const char *ad = p->eps[k]->addrs[a];

			if (sv_push(out, pol_fmt("%s_%d\t%s", g->name, pol_family(ad), ad)) < 0)
				return -ENOMEM;
		}
	return 0;
}

static int groups_elems(const struct pol_engine *e, const struct pm_map *groups,
			const struct pol_pod *p, struct strv *out)
{
	pm_each(groups, x, i) {
		const struct pol_group *g = x->val;

		if (g->refs > 0 && pol_group_match(e, g, p) && group_elems(out, g, p) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int contrib(const struct pol_engine *e, const struct pol_pod *p, struct strv *out)
{
	static const char *const pn[] = { [6] = "tcp", [17] = "udp", [132] = "sctp" };
	struct pol_ns *n = pm_get(&e->nss, p->ns);

	if (n && groups_elems(e, &n->groups, p, out) < 0)
		return -ENOMEM;
	if (groups_elems(e, &e->nsgroups, p, out) < 0)
		return -ENOMEM;
	for (size_t k = 0; k < p->nports; k++) {
		struct pol_np *np = pm_get(&e->nps, p->ports[k].name);

		if (!np || np->refs <= 0)
			continue;
		for (size_t q = 0; q < p->neps; q++)
			for (size_t a = 0; a < p->eps[q]->naddrs; a++) {
				const char *ad = p->eps[q]->addrs[a];

				if (sv_push(out, pol_fmt("np_%s_%d\t%s . %s . %d", p->ports[k].name,
							 pol_family(ad), ad, pn[p->ports[k].proto],
							 p->ports[k].port)) < 0)
					return -ENOMEM;
			}
	}
	if (!pol_pod_local(e, p))
		return 0;
	for (int d = 0; d < 2; d++) {
		char *chain;

		if (!pod_isolated(e, p, d))
			continue;
		chain = pol_ns_chain_name(p->ns, d);
		if (!chain)
			return -ENOMEM;
		for (size_t q = 0; q < p->neps; q++) {
			if (strcmp(p->eps[q]->node, e->node))
				continue;
			for (size_t a = 0; a < p->eps[q]->naddrs; a++) {
				const char *ad = p->eps[q]->addrs[a];

				if (sv_push(out, pol_fmt("%s%d\t%s : jump %s", VMAP[d],
							 pol_family(ad), ad, chain)) < 0) {
					free(chain);
					return -ENOMEM;
				}
			}
		}
		free(chain);
	}
	return 0;
}

int pol_compile_pod(const struct pol_engine *e, const struct pol_pod *p, char ***out, size_t *n)
{
	struct strv v = { 0 };
	size_t w = 0;

	*out = NULL;
	*n = 0;
	if (!p->labels || !p->neps)
		return 0;
	if (contrib(e, p, &v) < 0) {
		sv_free(&v);
		return -ENOMEM;
	}
	if (v.n)
		qsort(v.v, v.n, sizeof(*v.v), cmp_str);
	for (size_t r = 0; r < v.n; r++) {
		if (w && !strcmp(v.v[w - 1], v.v[r])) {
			free(v.v[r]);
			continue;
		}
		v.v[w++] = v.v[r];
	}
	*out = v.v;
	*n = w;
	return 0;
}
