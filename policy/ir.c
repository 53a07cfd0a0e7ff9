/* The IR: storage, canonical dump, diff, render and apply (see ir.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

struct pir_set *pir_set_new(const char *name, const char *decl, bool map)
{
	struct pir_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = strdup(name);
	s->decl = strdup(decl);
	s->map = map;
	if (!s->name || !s->decl) {
		pir_set_free(s);
		return NULL;
	}
	return s;
}

void pir_set_free(struct pir_set *s)
{
	if (!s)
		return;
	pm_clear(&s->elems, NULL);
	free(s->name);
	free(s->decl);
	free(s);
}

void pir_chain_free(struct pir_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrules; i++)
		free(c->rules[i]);
	free(c->rules);
	free(c->name);
	free(c->decl);
	free(c);
}

int pir_chain_add_rule(struct pir_chain *c, char *rule)
{
	char **v;

	if (!rule)
		return -ENOMEM;
	v = realloc(c->rules, (c->nrules + 1) * sizeof(*v));
	if (!v) {
		free(rule);
		return -ENOMEM;
	}
	c->rules = v;
	c->rules[c->nrules++] = rule;
	return 0;
}

bool pir_chain_same_rules(const struct pir_chain *a, const struct pir_chain *b)
{
	if (a->nrules != b->nrules || strcmp(a->decl, b->decl) || a->rank != b->rank)
		return false;
	for (size_t i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i], b->rules[i]))
			return false;
	return true;
}

static void set_free_v(void *v)
{
	pir_set_free(v);
}

static void chain_free_v(void *v)
{
	pir_chain_free(v);
}

void pir_clear(struct pir *ir)
{
	pm_clear(&ir->sets, set_free_v);
	pm_clear(&ir->chains, chain_free_v);
	ir->nrules = ir->nelems = 0;
}

char *pir_dump(const struct pir *ir)
{
	struct sbuf b = { 0 };
	const char **names, **els;
	size_t n, ne;

	names = pm_keys(&ir->sets, &n);
	for (size_t i = 0; names && i < n; i++) {
		const struct pir_set *s = pm_get(&ir->sets, names[i]);

		sb_printf(&b, "%s %s %s\n", s->map ? "map" : "set", s->name, s->decl);
		els = pm_keys(&s->elems, &ne);
		if (!els)
			b.oom = true;
		for (size_t k = 0; els && k < ne; k++)
			sb_printf(&b, "\t%s\n", els[k]);
		free(els);
	}
	if (!names)
		b.oom = true;
	free(names);
	names = pm_keys(&ir->chains, &n);
	for (size_t i = 0; names && i < n; i++) {
		const struct pir_chain *c = pm_get(&ir->chains, names[i]);

		sb_printf(&b, "chain %s %s\n", c->name, c->decl);
		for (size_t k = 0; k < c->nrules; k++)
			sb_printf(&b, "\t%s\n", c->rules[k]);
	}
	if (!names)
		b.oom = true;
	free(names);
	if (b.oom) {
		sb_free(&b);
		return NULL;
	}
	return b.s ? b.s : strdup("");
}

/* ---- the change set ---- */

void pir_changes_free(struct pir_changes *c)
{
	for (size_t i = 0; i < c->nadd_sets; i++)
		pir_set_free(c->add_sets[i]);
	for (size_t i = 0; i < c->ndel_sets; i++)
		free(c->del_sets[i]);
	for (size_t i = 0; i < c->nchains; i++)
		pir_chain_free(c->chains[i]);
	for (size_t i = 0; i < c->ndel_chains; i++)
		free(c->del_chains[i].name);
	for (size_t i = 0; i < c->nelems; i++) {
		free(c->elems[i].set);
		free(c->elems[i].elem);
	}
	free(c->add_sets);
	free(c->del_sets);
	free(c->chains);
	free(c->del_chains);
	free(c->elems);
	memset(c, 0, sizeof(*c));
}

/* room for one more in *v (n used, *cap allocated) */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

int pir_changes_add_set(struct pir_changes *c, struct pir_set *s)
{
	if (!s || grow((void **)&c->add_sets, c->nadd_sets, &c->cadd_sets, sizeof(s)) < 0) {
		pir_set_free(s);
		return -ENOMEM;
	}
	c->add_sets[c->nadd_sets++] = s;
	return 0;
}

int pir_changes_del_set(struct pir_changes *c, char *name)
{
	if (!name || grow((void **)&c->del_sets, c->ndel_sets, &c->cdel_sets, sizeof(name)) < 0) {
		free(name);
		return -ENOMEM;
	}
	c->del_sets[c->ndel_sets++] = name;
	return 0;
}

int pir_changes_chain(struct pir_changes *c, struct pir_chain *ch)
{
	if (!ch || grow((void **)&c->chains, c->nchains, &c->cchains, sizeof(ch)) < 0) {
		pir_chain_free(ch);
		return -ENOMEM;
	}
	c->chains[c->nchains++] = ch;
	return 0;
}

int pir_changes_del_chain(struct pir_changes *c, char *name, int rank)
{
	if (!name || grow((void **)&c->del_chains, c->ndel_chains, &c->cdel_chains,
			  sizeof(*c->del_chains)) < 0) {
		free(name);
		return -ENOMEM;
	}
	c->del_chains[c->ndel_chains].name = name;
	c->del_chains[c->ndel_chains++].rank = rank;
	return 0;
}

int pir_changes_elem(struct pir_changes *c, char *set, char *elem, long delta)
{
	if (!set || !elem ||
	    grow((void **)&c->elems, c->nelems, &c->celems, sizeof(*c->elems)) < 0) {
		free(set);
		free(elem);
		return -ENOMEM;
	}
	c->elems[c->nelems++] = (struct pir_elem_delta){ .set = set, .elem = elem, .delta = delta };
	return 0;
}

/* ---- diff ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_set(const void *a, const void *b)
{
	return strcmp((*(struct pir_set *const *)a)->name, (*(struct pir_set *const *)b)->name);
}

static int cmp_chain(const void *a, const void *b)
{
	const struct pir_chain *x = *(struct pir_chain *const *)a,
			       *y = *(struct pir_chain *const *)b;

	return x->rank != y->rank ? x->rank - y->rank : strcmp(x->name, y->name);
}

static int cmp_chain_ref(const void *a, const void *b)
{
	const struct pir_chain_ref *x = a, *y = b;

	return x->rank != y->rank ? x->rank - y->rank : strcmp(x->name, y->name);
}

static int cmp_elem(const void *a, const void *b)
{
	const struct pir_elem_delta *x = a, *y = b;
	int c = strcmp(x->set, y->set);

	return c ? c : strcmp(x->elem, y->elem);
}

static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n) /* qsort(NULL, 0) is undefined */
		qsort(v, n, size, cmp);
}

static bool in_sorted(char *const *v, size_t n, const char *s)
{
	return n && bsearch(&s, v, n, sizeof(*v), cmp_str);
}

void pir_diff(const struct pir *ir, struct pir_changes *c)
{
	const struct pir *old = c->replace ? NULL : ir;
	size_t w;

	sort(c->add_sets, c->nadd_sets, sizeof(*c->add_sets), cmp_set);
	sort(c->del_sets, c->ndel_sets, sizeof(*c->del_sets), cmp_str);
	sort(c->chains, c->nchains, sizeof(*c->chains), cmp_chain);
	sort(c->del_chains, c->ndel_chains, sizeof(*c->del_chains), cmp_chain_ref);
	sort(c->elems, c->nelems, sizeof(*c->elems), cmp_elem);
	/* chains: unchanged ones drop out, existing ones are flushed */
	w = 0;
	for (size_t i = 0; i < c->nchains; i++) {
		struct pir_chain *ch = c->chains[i];
		const struct pir_chain *was = old ? pm_get(&old->chains, ch->name) : NULL;

		if (was && pir_chain_same_rules(was, ch)) {
			pir_chain_free(ch);
			continue;
		}
		ch->flush = was != NULL;
		c->chains[w++] = ch;
	}
	c->nchains = w;
	/* elements: one delta per element, then whether its users cross zero */
	w = 0;
	for (size_t i = 0; i < c->nelems; i++) {
		struct pir_elem_delta *d = &c->elems[i];

		if (w && !cmp_elem(&c->elems[w - 1], d)) {
			c->elems[w - 1].delta += d->delta;
			free(d->set);
			free(d->elem);
			continue;
		}
		c->elems[w++] = *d;
	}
	c->nelems = w;
	for (size_t i = 0; i < c->nelems; i++) {
		struct pir_elem_delta *d = &c->elems[i];
		const struct pir_set *s = old ? pm_get(&old->sets, d->set) : NULL;
		long had = s ? (long)(uintptr_t)pm_get(&s->elems, d->elem) : 0,
		     now = had + d->delta;

		d->op = 0;
		if (in_sorted(c->del_sets, c->ndel_sets, d->set))
			continue; /* goes with its set */
		if (!had && now > 0)
			d->op = 1;
		else if (had && now <= 0)
			d->op = -1;
	}
}

/* ---- render ---- */

/* "10.0.0.5 : jump X" -> "10.0.0.5": a map element is deleted by key */
static int key_len(const char *elem)
{
	const char *v = strstr(elem, " : ");

	return (int)(v ? (size_t)(v - elem) : strlen(elem));
}

static void render_elems(struct sbuf *b, const struct pir_changes *c, int op)
{
	for (size_t i = 0; i < c->nelems;) {
		const char *set = c->elems[i].set;
		size_t j, k = 0;

		for (j = i; j < c->nelems && !strcmp(c->elems[j].set, set); j++) {
			const struct pir_elem_delta *d = &c->elems[j];

			if (d->op != op)
				continue;
			if (!k++)
				sb_printf(b, "%s element inet loom %s {", op > 0 ? "add" : "delete",
					  set);
			if (op > 0)
				sb_printf(b, "%s %s", k > 1 ? "," : "", d->elem);
			else
				sb_printf(b, "%s %.*s", k > 1 ? "," : "", key_len(d->elem),
					  d->elem);
		}
		if (k)
			sb_printf(b, " }\n");
		i = j;
	}
}

int pir_render(const struct pir_changes *c, char **out)
{
	struct sbuf b = { 0 };

	*out = NULL;
	if (c->replace) /* add+delete+add: replaces a table left by an earlier
			 * run, in the same transaction as the new content */
		sb_printf(&b, "add table inet loom\ndelete table inet loom\nadd table inet loom\n");
	/* what rules and elements refer to exists first */
	for (size_t i = 0; i < c->nadd_sets; i++)
		sb_printf(&b, "add %s inet loom %s %s\n", c->add_sets[i]->map ? "map" : "set",
			  c->add_sets[i]->name, c->add_sets[i]->decl);
	for (size_t i = 0; i < c->nchains; i++)
		if (!c->chains[i]->flush)
			sb_printf(&b, "add chain inet loom %s %s\n", c->chains[i]->name,
				  c->chains[i]->decl);
	render_elems(&b, c, -1);
	render_elems(&b, c, 1);
	for (size_t i = 0; i < c->nchains; i++) {
		const struct pir_chain *ch = c->chains[i];

		if (ch->flush)
			sb_printf(&b, "flush chain inet loom %s\n", ch->name);
		for (size_t k = 0; k < ch->nrules; k++)
			sb_printf(&b, "add rule inet loom %s %s\n", ch->name, ch->rules[k]);
	}
	/* by rank: the chains jumping to a chain go before it (EBUSY) */
	for (size_t i = 0; i < c->ndel_chains; i++)
		sb_printf(&b, "delete chain inet loom %s\n", c->del_chains[i].name);
	/* last: no rule refers to them any more */
	for (size_t i = 0; i < c->ndel_sets; i++)
		sb_printf(&b, "delete set inet loom %s\n", c->del_sets[i]);
	if (b.oom) {
		sb_free(&b);
		return -ENOMEM;
	}
	*out = b.s ? b.s : strdup("");
	return *out ? 0 : -ENOMEM;
}

/* ---- apply ---- */

int pir_apply(struct pir *ir, struct pir_changes *c)
{
	if (c->replace)
		pir_clear(ir);
	for (size_t i = 0; i < c->ndel_chains; i++) {
		struct pir_chain *ch = pm_del(&ir->chains, c->del_chains[i].name);

		if (ch)
			ir->nrules -= ch->nrules;
		pir_chain_free(ch);
	}
	for (size_t i = 0; i < c->ndel_sets; i++) {
		struct pir_set *s = pm_del(&ir->sets, c->del_sets[i]);

		if (s)
			ir->nelems -= s->elems.n;
		pir_set_free(s);
	}
	for (size_t i = 0; i < c->nadd_sets; i++) {
		if (pm_put(&ir->sets, c->add_sets[i]->name, c->add_sets[i]) < 0)
			return -ENOMEM;
		c->add_sets[i] = NULL; /* the IR owns it now */
	}
	for (size_t i = 0; i < c->nchains; i++) {
		struct pir_chain *was = pm_get(&ir->chains, c->chains[i]->name);

		if (pm_put(&ir->chains, c->chains[i]->name, c->chains[i]) < 0)
			return -ENOMEM;
		if (was)
			ir->nrules -= was->nrules;
		ir->nrules += c->chains[i]->nrules;
		c->chains[i]->flush = false;
		c->chains[i] = NULL;
		pir_chain_free(was);
	}
	for (size_t i = 0; i < c->nelems; i++) {
		const struct pir_elem_delta *d = &c->elems[i];
		struct pir_set *s = pm_get(&ir->sets, d->set);
		long had, now;

		if (!s)
			continue;
		had = (long)(uintptr_t)pm_get(&s->elems, d->elem);
		now = had + d->delta;
		if (now <= 0) {
			if (had)
				ir->nelems--;
			pm_del(&s->elems, d->elem);
		} else {
			if (pm_put(&s->elems, d->elem, (void *)(uintptr_t)now) < 0)
				return -ENOMEM;
			if (!had)
				ir->nelems++;
		}
	}
	return 0;
}
