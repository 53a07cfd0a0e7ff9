/* Network namespaces: open, check, enter and return.
 *
 * A netns fd is checked twice: statfs says it lives on nsfs (a bind mount of
 * a netns, or a /proc/.../ns/ magic link), and NS_GET_NSTYPE says it is a
 * network one, since /proc/PID/ns/ holds mnt, uts, ... on the same fs. */
#include "kernel/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "base/cleanup.h"

#define THREAD_NETNS "/proc/thread-self/ns/net"

int loom_netns_check_fd(int fd)
{
	struct statfs sfs;
	int type;

	if (fd < 0)
		return -EBADF;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if ((unsigned long)sfs.f_type != (unsigned long)NSFS_MAGIC)
		return -EINVAL;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return errno == ENOTTY ? -EINVAL : -errno;
	return type == CLONE_NEWNET ? 0 : -EINVAL;
}

int loom_netns_open(const char *path)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!path || !*path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = loom_netns_check_fd(fd);
	if (r < 0)
		return r;
	return LOOM_TAKE_FD(fd);
}

int loom_netns_check(const char *path)
{
	_cleanup_close_ int fd = loom_netns_open(path);

	return fd < 0 ? fd : 0;
}

int loom_netns_current(void)
{
	int fd = open(THREAD_NETNS, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int loom_netns_id(int fd, ino_t *out)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*out = st.st_ino;
	return 0;
}

bool loom_netns_is_current(int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0 || stat(THREAD_NETNS, &b) < 0)
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int loom_netns_run_fd(int fd, loom_netns_fn fn, void *arg)
{
	_cleanup_close_ int orig = -1;
	int r;

	if (!fn)
		return -EINVAL;
	r = loom_netns_check_fd(fd);
	if (r < 0)
		return r;
	orig = loom_netns_current();
	if (orig < 0)
		return orig;
	if (setns(fd, CLONE_NEWNET) < 0)
		return -errno;
	r = fn(arg);
	/* Going back can only fail on memory pressure or a seccomp policy;
	 * the thread would then keep working in the pod's netns, which must
	 * never go unnoticed. */
	if (setns(orig, CLONE_NEWNET) < 0)
		return -ENOTRECOVERABLE;
	return r;
}

int loom_netns_run(const char *path, loom_netns_fn fn, void *arg)
{
	_cleanup_close_ int fd = loom_netns_open(path);

	if (fd < 0)
		return fd;
	return loom_netns_run_fd(fd, fn, arg);
}
