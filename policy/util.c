/* The engine's containers (util.h): a string hash map, a growable string,
 * a string vector. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

uint64_t pol_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: stable names across runs */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static size_t slot(const struct pm_map *m, const char *key)
{
	return (size_t)(pol_hash(key) & (m->nb - 1));
}

void *pm_get(const struct pm_map *m, const char *key)
{
	if (!m->nb)
		return NULL;
	for (struct pm_ent *x = m->b[slot(m, key)]; x; x = x->next)
		if (!strcmp(x->key, key))
			return x->val;
	return NULL;
}

static int grow(struct pm_map *m)
{
	size_t nb = m->nb ? m->nb * 2 : 16;
	struct pm_ent **b = calloc(nb, sizeof(*b));
	struct pm_map nm = { .b = b, .nb = nb, .n = m->n };

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < m->nb; i++) {
		struct pm_ent *x = m->b[i], *next;

		for (; x; x = next) {
			size_t s = slot(&nm, x->key);

			next = x->next;
			x->next = b[s];
			b[s] = x;
		}
	}
	free(m->b);
	*m = nm;
	return 0;
}

int pm_put(struct pm_map *m, const char *key, void *val)
{
	struct pm_ent *x;
	size_t s;

	if (m->nb) {
		for (x = m->b[slot(m, key)]; x; x = x->next)
			if (!strcmp(x->key, key)) {
				x->val = val;
				return 0;
			}
	}
	if (m->n + 1 > m->nb && grow(m) < 0)
		return -ENOMEM;
	x = malloc(sizeof(*x));
	if (!x || !(x->key = strdup(key))) {
		free(x);
		return -ENOMEM;
	}
	s = slot(m, key);
	x->val = val;
	x->next = m->b[s];
	m->b[s] = x;
	m->n++;
	return 0;
}

void *pm_del(struct pm_map *m, const char *key)
{
	struct pm_ent **pp;

	if (!m->nb)
		return NULL;
	for (pp = &m->b[slot(m, key)]; *pp; pp = &(*pp)->next) {
		struct pm_ent *x = *pp;

		if (!strcmp(x->key, key)) {
			void *v = x->val;

			*pp = x->next;
			free(x->key);
			free(x);
			m->n--;
			return v;
		}
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **pm_keys(const struct pm_map *m, size_t *n)
{
	const char **k = malloc((m->n + 1) * sizeof(*k));
	size_t j = 0;

	*n = 0;
	if (!k)
		return NULL;
	pm_each(m, x, i)
		k[j++] = x->key;
	qsort(k, j, sizeof(*k), cmp_str);
	*n = j;
	return k;
}

void pm_clear(struct pm_map *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->nb; i++) {
		struct pm_ent *x = m->b[i], *next;

		for (; x; x = next) {
			next = x->next;
			if (free_val)
				free_val(x->val);
			free(x->key);
			free(x);
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

int sv_push(struct strv *s, char *str)
{
	if (!str)
		return -ENOMEM;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			free(str);
			return -ENOMEM;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = str;
	return 0;
}

void sv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

char *pol_fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}
