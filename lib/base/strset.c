/* Sorted string set (strset.h). */
#include "base/strset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t loom_strset_pos(const struct loom_strset *s, const char *key, bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->keys[mid], key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

bool loom_strset_has(const struct loom_strset *s, const char *key)
{
	bool found;

	loom_strset_pos(s, key, &found);
	return found;
}

int loom_strset_put(struct loom_strset *s, const char *key, int64_t val)
{
	bool found;
	size_t i = loom_strset_pos(s, key, &found);
	char *k;

	if (found) {
		s->vals[i] = val;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **nk = realloc(s->keys, cap * sizeof(*nk));
		int64_t *nv;

		if (!nk)
			return -ENOMEM;
		s->keys = nk;
		nv = realloc(s->vals, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->vals = nv;
		s->cap = cap;
	}
	k = strdup(key);
	if (!k)
		return -ENOMEM;
	memmove(&s->keys[i + 1], &s->keys[i], (s->n - i) * sizeof(*s->keys));
	memmove(&s->vals[i + 1], &s->vals[i], (s->n - i) * sizeof(*s->vals));
	s->keys[i] = k;
	s->vals[i] = val;
	s->n++;
	return 0;
}

void loom_strset_del_at(struct loom_strset *s, size_t i)
{
	free(s->keys[i]);
	memmove(&s->keys[i], &s->keys[i + 1], (s->n - i - 1) * sizeof(*s->keys));
	memmove(&s->vals[i], &s->vals[i + 1], (s->n - i - 1) * sizeof(*s->vals));
	s->n--;
}

void loom_strset_del(struct loom_strset *s, const char *key)
{
	bool found;
	size_t i = loom_strset_pos(s, key, &found);

	if (found)
		loom_strset_del_at(s, i);
}

void loom_strset_clear(struct loom_strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->vals);
	memset(s, 0, sizeof(*s));
}
