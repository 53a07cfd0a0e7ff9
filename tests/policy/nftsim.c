/* The table stand-in: batch text -> IR, packet -> verdict (nftsim.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ip.h"
#include "nftsim.h"

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- reading a batch ---- */

static const char *word(const char *s, char *out, size_t len)
{
	size_t n = 0;

	while (*s == ' ')
		s++;
	while (*s && *s != ' ' && n + 1 < len)
		out[n++] = *s++;
	out[n] = '\0';
	while (*s == ' ')
		s++;
	return s;
}

/* "10.0.0.1 : jump X" -> key length */
static size_t key_len(const char *e)
{
	const char *v = strstr(e, " : ");

	return v ? (size_t)(v - e) : strlen(e);
}

/* does any rule or map element refer to chain/set `name`? */
static bool referenced(const struct pir *ir, const char *name, bool chain)
{
	char pat[300];
	size_t pl;

	snprintf(pat, sizeof(pat), chain ? "jump %s" : "@%s", name);
	pl = strlen(pat);
	pm_each(&ir->chains, x, i) {
		const struct pir_chain *c = x->val;

		for (size_t k = 0; k < c->nrules; k++) {
			const char *r = c->rules[k], *h;

			for (h = strstr(r, pat); h; h = strstr(h + 1, pat))
				if (h[pl] == '\0' || h[pl] == ' ')
					return true;
		}
	}
	if (!chain)
		return false;
	pm_each(&ir->sets, x, i) {
		const struct pir_set *s = x->val;

		if (s->map)
			pm_each(&s->elems, y, j) {
				const char *v = strstr(y->key, " : jump ");

				if (v && !strcmp(v + 8, name))
					return true;
			}
	}
	return false;
}

/* every @set and jump target of a rule exists */
static int check_refs(const struct pir *ir, const char *rule, char *why, size_t len)
{
	char w[300];
	const char *s = rule;
	bool jump = false;

	while (*s) {
		s = word(s, w, sizeof(w));
		if (w[0] == '@' && !pm_get(&ir->sets, w + 1))
			return fail(why, len, "set %s does not exist", w + 1);
		if (jump && !pm_get(&ir->chains, w))
			return fail(why, len, "chain %s does not exist", w);
		jump = !strcmp(w, "jump");
	}
	return 0;
}

static int elements(struct pir *ir, const char *verb, const char *name, const char *rest, char *why,
		    size_t len)
{
	struct pir_set *s = pm_get(&ir->sets, name);
	char *list, *e, *save = NULL;
	size_t l;

	if (!s)
		return fail(why, len, "set %s does not exist", name);
	if (rest[0] != '{' || (l = strlen(rest)) < 2 || rest[l - 1] != '}')
		return fail(why, len, "element list not in braces");
	list = strndup(rest + 1, l - 2);
	if (!list)
		return fail(why, len, "out of memory");
	for (e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		size_t el;

		while (*e == ' ')
			e++;
		el = strlen(e);
		while (el && e[el - 1] == ' ')
			e[--el] = '\0';
		if (!strcmp(verb, "add")) {
			const char *v = strstr(e, " : jump ");

			if (s->map != (v != NULL))
				return free(list),
				       fail(why, len, "element %s does not fit %s", e, name);
			if (v && !pm_get(&ir->chains, v + 8))
				return free(list), fail(why, len, "chain %s does not exist", v + 8);
			/* the compiler adds each element once: a second add is a bug */
			pm_each(&s->elems, x, i)
				if (key_len(x->key) == key_len(e) &&
				    !strncmp(x->key, e, key_len(e)))
					return free(list),
					       fail(why, len, "element %s already in %s", e, name);
			if (pm_put(&s->elems, e, (void *)1) < 0)
				return free(list), fail(why, len, "out of memory");
			ir->nelems++;
		} else {
			const char *found = NULL;

			pm_each(&s->elems, x, i)
				if (key_len(x->key) == strlen(e) && !strncmp(x->key, e, strlen(e)))
					found = x->key;
			if (!found)
				return free(list),
				       fail(why, len, "element %s not in %s (ENOENT)", e, name);
			pm_del(&s->elems, found);
			ir->nelems--;
		}
	}
	free(list);
	return 0;
}

static int rank_of(const char *name, const char *decl)
{
	if (strstr(decl, " hook "))
		return PIR_BASE;
	return strncmp(name, "pods/", 5) ? PIR_POLICY : PIR_DISPATCH;
}

static int line(struct pir *ir, const char *ln, char *why, size_t len)
{
	char verb[16], kind[16], fam[16], table[16], name[300];
	const char *rest;

	rest = word(ln, verb, sizeof(verb));
	rest = word(rest, kind, sizeof(kind));
	rest = word(rest, fam, sizeof(fam));
	rest = word(rest, table, sizeof(table));
	if (strcmp(fam, "inet") || strcmp(table, "loom"))
		return fail(why, len, "not table inet loom");
	if (!strcmp(kind, "table")) {
		if (!strcmp(verb, "delete"))
			pir_clear(ir);
		else if (strcmp(verb, "add"))
			return fail(why, len, "unknown verb");
		return 0;
	}
	rest = word(rest, name, sizeof(name));
	if (!strcmp(kind, "set") || !strcmp(kind, "map")) {
		struct pir_set *s = pm_get(&ir->sets, name);

		if (!strcmp(verb, "add")) {
			if (s)
				return fail(why, len, "set %s exists", name);
			s = pir_set_new(name, rest, !strcmp(kind, "map"));
			if (!s || pm_put(&ir->sets, name, s) < 0)
				return pir_set_free(s), fail(why, len, "out of memory");
			return 0;
		}
		if (strcmp(verb, "delete"))
			return fail(why, len, "unknown verb");
		if (!s)
			return fail(why, len, "set %s does not exist", name);
		if (referenced(ir, name, false))
			return fail(why, len, "set %s in use (EBUSY)", name);
		ir->nelems -= s->elems.n;
		pir_set_free(pm_del(&ir->sets, name));
		return 0;
	}
	if (!strcmp(kind, "element"))
		return elements(ir, verb, name, rest, why, len);
	if (!strcmp(kind, "chain")) {
		struct pir_chain *c = pm_get(&ir->chains, name);

		if (!strcmp(verb, "add")) {
			if (c)
				return fail(why, len, "chain %s exists", name);
			c = calloc(1, sizeof(*c));
			if (!c || !(c->name = strdup(name)) || !(c->decl = strdup(rest)) ||
			    pm_put(&ir->chains, name, c) < 0)
				return pir_chain_free(c), fail(why, len, "out of memory");
			c->rank = rank_of(name, rest);
			return 0;
		}
		if (!c)
			return fail(why, len, "chain %s does not exist", name);
		ir->nrules -= c->nrules;
		if (!strcmp(verb, "flush")) {
			for (size_t i = 0; i < c->nrules; i++)
				free(c->rules[i]);
			c->nrules = 0;
			return 0;
		}
		if (strcmp(verb, "delete"))
			return fail(why, len, "unknown verb");
		pm_del(&ir->chains, name);
		if (referenced(ir, name, true)) {
			pm_put(&ir->chains, name, c);
			return fail(why, len, "chain %s in use (EBUSY)", name);
		}
		pir_chain_free(c);
		return 0;
	}
	if (!strcmp(kind, "rule")) {
		struct pir_chain *c = pm_get(&ir->chains, name);

		if (strcmp(verb, "add"))
			return fail(why, len, "unknown verb");
		if (!c)
			return fail(why, len, "chain %s does not exist", name);
		if (check_refs(ir, rest, why, len) < 0)
			return -1;
		if (pir_chain_add_rule(c, strdup(rest)) < 0)
			return fail(why, len, "out of memory");
		ir->nrules++;
		return 0;
	}
	return fail(why, len, "unknown object %s", kind);
}

int nftsim_apply(struct pir *ir, const char *batch, char *why, size_t len)
{
	const char *s = batch;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t l = nl ? (size_t)(nl - s) : strlen(s);
		char *ln = strndup(s, l), msg[512];

		if (!ln)
			return fail(why, len, "out of memory");
		if (l && line(ir, ln, msg, sizeof(msg)) < 0) {
			fail(why, len, "%s: %s", ln, msg);
			free(ln);
			return -1;
		}
		free(ln);
		s += l + (nl ? 1 : 0);
	}
	return 0;
}

/* ---- evaluating a packet ---- */

enum {
	V_NONE,
	V_ACCEPT,
	V_DROP,
	V_ERR
};

static bool addr_match(const char *spec, const char *addr)
{
	struct loom_ip ip, a;
	struct loom_prefix p;

	if (loom_ip_parse(addr, &a) < 0)
		return false;
	if (strchr(spec, '/'))
		return loom_prefix_parse(spec, &p) == 0 && loom_prefix_contains(&p, &a);
	return loom_ip_parse(spec, &ip) == 0 && loom_ip_eq(&ip, &a);
}

static const char *proto_name(int p)
{
	return p == 17 ? "udp" : p == 132 ? "sctp" : "tcp";
}

/* the element of set s matching addr (proto NULL) or "addr . proto .
 * port"; NULL when none */
static const char *lookup(const struct pir_set *s, const char *addr, const char *proto, int port)
{
	pm_each(&s->elems, x, i) {
		char k[256], *d1, *d2;
		size_t kl = key_len(x->key);

		if (kl >= sizeof(k))
			continue;
		memcpy(k, x->key, kl);
		k[kl] = '\0';
		d1 = strstr(k, " . "); /* addresses hold '.' themselves: split at " . " */
		if (!proto) {
			if (!d1 && addr_match(k, addr))
				return x->key;
			continue;
		}
		d2 = d1 ? strstr(d1 + 3, " . ") : NULL;
		if (!d2)
			continue;
		*d1 = *d2 = '\0';
		if (addr_match(k, addr) && !strcmp(d1 + 3, proto) && atoi(d2 + 3) == port)
			return x->key;
	}
	return NULL;
}

static int chain_eval(const struct pir *ir, const char *name, const struct nftsim_pkt *p, int depth,
		      char *why, size_t len);

/* a rule: V_NONE when it does not match (or matches without a verdict) */
static int rule_eval(const struct pir *ir, const char *rule, const struct nftsim_pkt *p, int depth,
		     char *why, size_t len)
{
	int fam = strchr(p->saddr, ':') ? 6 : 4;
	const char *s = rule;
	char w[300], w2[300];

	while (*s) {
		s = word(s, w, sizeof(w));
		if (!strcmp(w,
			    "ct")) { /* ct state established,related: a new connection is neither */
			return V_NONE;
		} else if (!strcmp(w, "icmpv6")) {
			return V_NONE; /* the packets evaluated are TCP, UDP or SCTP */
		} else if (!strcmp(w, "ip") || !strcmp(w, "ip6")) {
			const char *addr;

			if ((w[2] == '6') != (fam == 6))
				return V_NONE;
			s = word(s, w, sizeof(w));
			if (strcmp(w, "saddr") && strcmp(w, "daddr"))
				return fail(why, len, "%s: unknown selector %s", rule, w), V_ERR;
			addr = w[0] == 's' ? p->saddr : p->daddr;
			s = word(s, w, sizeof(w));
			if (!strcmp(w, "vmap")) {
				const struct pir_set *m;
				const char *el;

				s = word(s, w, sizeof(w));
				m = pm_get(&ir->sets, w + 1);
				if (!m || !m->map)
					return fail(why, len, "%s: no map %s", rule, w), V_ERR;
				el = lookup(m, addr, NULL, 0);
				if (!el)
					return V_NONE;
				el = strstr(el, " : jump ");
				if (!el)
					return fail(why, len, "%s: verdict not a jump", rule),
					       V_ERR;
				return chain_eval(ir, el + 8, p, depth + 1, why, len);
			} else if (w[0] == '@') {
				const struct pir_set *set = pm_get(&ir->sets, w + 1);

				if (!set)
					return fail(why, len, "%s: no set %s", rule, w), V_ERR;
				if (!lookup(set, addr, NULL, 0))
					return V_NONE;
			} else if (!strcmp(w, "!=")) {
				s = word(s, w, sizeof(w));
				if (strcmp(w, "{"))
					return fail(why, len, "%s: want {", rule), V_ERR;
				for (;;) {
					size_t l;

					s = word(s, w, sizeof(w));
					if (!strcmp(w, "}") || !w[0])
						break;
					l = strlen(w);
					if (w[l - 1] == ',')
						w[l - 1] = '\0';
					if (addr_match(w, addr))
						return V_NONE;
				}
			} else if (!strcmp(w, ".")) {
				/* ip daddr . meta l4proto . th dport @set */
				const struct pir_set *set;

				for (int i = 0; i < 5; i++)
					s = word(s, w2, sizeof(w2));
				s = word(s, w, sizeof(w));
				set = w[0] == '@' ? pm_get(&ir->sets, w + 1) : NULL;
				if (!set)
					return fail(why, len, "%s: no set %s", rule, w), V_ERR;
				if (!lookup(set, addr, proto_name(p->proto), p->dport))
					return V_NONE;
			} else if (!addr_match(w, addr)) {
				return V_NONE;
			}
		} else if (!strcmp(w, "meta")) {
			s = word(s, w, sizeof(w));
			s = word(s, w2, sizeof(w2));
			if (strcmp(w, "l4proto"))
				return fail(why, len, "%s: meta %s", rule, w), V_ERR;
			if (strcmp(w2, proto_name(p->proto)))
				return V_NONE;
		} else if (!strcmp(w, "th")) {
			int lo, hi;

			s = word(s, w, sizeof(w));
			s = word(s, w2, sizeof(w2));
			if (strcmp(w, "dport"))
				return fail(why, len, "%s: th %s", rule, w), V_ERR;
			if (sscanf(w2, "%d-%d", &lo, &hi) != 2)
				hi = lo = atoi(w2);
			if (p->dport < lo || p->dport > hi)
				return V_NONE;
		} else if (!strcmp(w, "accept")) {
			return V_ACCEPT;
		} else if (!strcmp(w, "drop")) {
			return V_DROP;
		} else if (!strcmp(w, "jump")) {
			s = word(s, w, sizeof(w));
			return chain_eval(ir, w, p, depth + 1, why, len);
		} else {
			return fail(why, len, "%s: cannot read %s", rule, w), V_ERR;
		}
	}
	return V_NONE;
}

/* V_NONE: fell off the end (a jumped-to chain returns) */
static int chain_eval(const struct pir *ir, const char *name, const struct nftsim_pkt *p, int depth,
		      char *why, size_t len)
{
	const struct pir_chain *c = pm_get(&ir->chains, name);

	if (!c || depth > 16)
		return fail(why, len, "no chain %s (or a loop)", name), V_ERR;
	for (size_t i = 0; i < c->nrules; i++) {
		int v = rule_eval(ir, c->rules[i], p, depth, why, len);

		if (v != V_NONE)
			return v;
	}
	return V_NONE;
}

int nftsim_eval(const struct pir *ir, const struct nftsim_pkt *p, char *why, size_t len)
{
	/* the base chains by priority (egress hooks at filter + 1, ingress at
	 * filter + 2); each must accept (policy accept) */
	static const char *const base[] = { "egress", "ingress" };

	for (size_t i = 0; i < 2; i++) {
		int v;

		if (!pm_get(&ir->chains, base[i]))
			continue; /* no table: everything passes */
		v = chain_eval(ir, base[i], p, 0, why, len);
		if (v == V_ERR)
			return -1;
		if (v == V_DROP)
			return 0;
	}
	return 1;
}
