/* Atomic file replacement and mkdir -p (file_replace.h). */
#include "base/file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"

int loom_file_replace(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	_cleanup_close_ int fd = -1, dfd = -1;
	int e;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	errno = 0;
	/* fsync before rename: otherwise a crash can leave the new name on
	 * an empty file, which a reader would take for a broken one. */
	if (fchmod(fd, mode) < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) < 0 ||
	    rename(tmp, path) < 0) {
		e = errno ? errno : EIO;
		unlink(tmp);
		return -e;
	}
	/* The rename itself lives in the directory. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}

bool loom_file_same(const char *path, const void *data, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;

	if (!f || !(buf = malloc(len + 1)))
		return false;
	return fread(buf, 1, len + 1, f) == len && memcmp(buf, data, len) == 0;
}

int loom_mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	size_t i, len = strlen(path);

	if (len == 0)
		return -ENOENT;
	if (len >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		p[i] = path[i];
	}
	return 0;
}
