/* File helpers.  Replacing a small file atomically, for files other programs read while
 * we rewrite them (the lease file the plugins read, the conflist a
 * container runtime reads): a reader sees the old text or the new one,
 * never half, and a crash leaves one of them.
 *
 * Part of base: libc only, returns -errno, never prints. */
#ifndef LOOM_FILE_REPLACE_H
#define LOOM_FILE_REPLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write `len` bytes to a temp file in `dir` (".<name>.XXXXXX": hidden, and
 * not ending in a suffix a reader of the folder picks up), fchmod `mode`,
 * fsync, rename over dir/name, fsync dir.  The temp file is removed on
 * failure.  0 or -errno (-ENAMETOOLONG for a path that does not fit). */
int loom_file_replace(const char *dir, const char *name, const void *data, size_t len, mode_t mode);

/* Does `path` hold exactly these bytes?  False when it cannot be read. */
bool loom_file_same(const char *path, const void *data, size_t len);

/* mkdir -p: each missing component of `path` made with `mode` (umask
 * applies); an existing one is fine.  0 or -errno (-ENOENT for "",
 * -ENAMETOOLONG for a path that does not fit PATH_MAX). */
int loom_mkdir_p(const char *path, mode_t mode);

#endif
