/* Scope-bound cleanup, systemd style.
 *
 *   _cleanup_close_ int fd = -1;       closed on scope exit when >= 0
 *   _cleanup_free_ char *s = NULL;     free()d on scope exit
 *   _cleanup_fclose_ FILE *f = NULL;   fclose()d when not NULL
 *
 * Ownership leaves the scope explicitly: `return LOOM_TAKE_FD(fd);`,
 * `*out = LOOM_TAKE_PTR(p);`.  Every destructor accepts the "empty" value,
 * so variables must be initialised (-1 / NULL) before the first return. */
#ifndef LOOM_CLEANUP_H
#define LOOM_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void loom_closep(int *fd)
{
	if (*fd >= 0) {
		/* close() must not clobber the errno a caller is about to read */
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void loom_freep(void *p)
{
	free(*(void **)p);
}

static inline void loom_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(fn) __attribute__((cleanup(fn)))
#define _cleanup_close_ _cleanup_(loom_closep)
#define _cleanup_free_ _cleanup_(loom_freep)
#define _cleanup_fclose_ _cleanup_(loom_fclosep)

#define LOOM_TAKE_PTR(p)                       \
	({                                     \
		__typeof__(p) _take_tmp = (p); \
		(p) = NULL;                    \
		_take_tmp;                     \
	})
#define LOOM_TAKE_FD(fd)              \
	({                            \
		int _take_tmp = (fd); \
		(fd) = -1;            \
		_take_tmp;            \
	})

#endif
