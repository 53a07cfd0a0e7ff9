/* A sorted set of strings, each with a 64-bit value: the "keys I have
 * reported" of a store watch (for the DELETEs of a resync) and the "keys I
 * have fed, at which revision" of loom-policyd (for the diff of a relist).
 * Binary search; insert and delete move the tail, fine for the thousands
 * of keys a node follows.  Keys are copied in and freed by the set. */
#ifndef LOOM_STRSET_H
#define LOOM_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loom_strset {
	char **keys;   /* sorted by strcmp, owned */
	int64_t *vals; /* vals[i] belongs to keys[i] */
	size_t n, cap;
};

/* Where key is (*found) or would go. */
size_t loom_strset_pos(const struct loom_strset *s, const char *key, bool *found);
bool loom_strset_has(const struct loom_strset *s, const char *key);
/* Add key (a copy) or update its value: 0, or -ENOMEM (the set unchanged). */
int loom_strset_put(struct loom_strset *s, const char *key, int64_t val);
/* Remove key if present. */
void loom_strset_del(struct loom_strset *s, const char *key);
void loom_strset_del_at(struct loom_strset *s, size_t pos);
/* Free everything (keys set to NULL by a caller that took them are fine);
 * the set is empty and usable afterwards. */
void loom_strset_clear(struct loom_strset *s);

#endif
