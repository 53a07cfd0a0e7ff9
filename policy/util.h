/* The policy engine's containers: a string hash map, a growable string
 * and a string vector.  Allocation failures are returned, never hidden. */
#ifndef LOOM_POL_UTIL_H
#define LOOM_POL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string-keyed hash map with chaining; keys are copied, values owned by
 * the caller. */
struct pm_ent {
	char *key;
	void *val;
	struct pm_ent *next;
};
struct pm_map {
	struct pm_ent **b;
	size_t nb, n;
};
void *pm_get(const struct pm_map *m, const char *key);
int pm_put(struct pm_map *m, const char *key, void *val); /* replaces; -ENOMEM */
void *pm_del(struct pm_map *m, const char *key);          /* the old value or NULL */
/* The keys, sorted (malloc()ed array of borrowed pointers; *n). */
const char **pm_keys(const struct pm_map *m, size_t *n);
void pm_clear(struct pm_map *m, void (*free_val)(void *));
#define pm_each(m, e, i)                     \
	for (size_t i = 0; i < (m)->nb; i++) \
		for (struct pm_ent *e = (m)->b[i]; e; e = e->next)

/* A growable string: on ENOMEM `oom` is set and later appends are
 * dropped; whoever finishes the string checks `oom`. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

uint64_t pol_hash(const char *s);

/* A vector of malloc()ed strings.  sv_push takes s and frees it on
 * failure: 0 or -ENOMEM (NULL s is -ENOMEM: a failed strdup/asprintf). */
struct strv {
	char **v;
	size_t n, cap;
};
int sv_push(struct strv *s, char *str);
void sv_free(struct strv *s);
char *pol_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
