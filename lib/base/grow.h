/* Growing a heap buffer by doubling, for the byte buffers that collect a
 * child's output, an HTTP response or a rendered page.
 *
 * Part of base: libc only, returns -errno, never prints. */
#ifndef LOOM_GROW_H
#define LOOM_GROW_H

#include <stddef.h>

/* Make *data (of *cap bytes, NULL and 0 at first) hold at least `need`
 * bytes: the capacity doubles from `first` (or from *cap) until it does.
 * 0, or -ENOMEM with *data and *cap as they were. */
int loom_grow(char **data, size_t *cap, size_t need, size_t first);

#endif
