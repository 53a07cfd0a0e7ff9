/* sysctl through /proc/sys.  The path is resolved against the calling
 * thread's netns when the file is opened, so a value written after setns()
 * lands in that netns; an fd opened before keeps pointing at the old one. */
#include "kernel/nl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"

/* Keys come from loom's own code and interface names, but an interface
 * name may hold dots and a config can name anything: no way out of
 * /proc/sys. */
static int sysctl_path(const char *key, char *buf, size_t len)
{
	const char *p;
	int n;

	if (!key || !*key || key[0] == '/')
		return -EINVAL;
	for (p = key; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == key || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return -EINVAL;
	n = snprintf(buf, len, "/proc/sys/%s", key);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The key's file under /proc/sys, opened with flags: an fd or -errno. */
static int sysctl_open(const char *key, int flags)
{
	char path[256];
	int r = sysctl_path(key, path, sizeof(path));

	if (r < 0)
		return r;
	r = open(path, flags | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

int loom_sysctl_write(const char *key, const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len;
	ssize_t n;

	if (!value)
		return -EINVAL;
	fd = sysctl_open(key, O_WRONLY);
	if (fd < 0)
		return fd;
	len = strlen(value);
	/* A sysctl takes the value in one write; a short one is an error. */
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int loom_sysctl_read(const char *key, char *buf, size_t len)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (!buf || len == 0)
		return -EINVAL;
	fd = sysctl_open(key, O_RDONLY);
	if (fd < 0)
		return fd;
	n = read(fd, buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n == len)
		return -ENOBUFS;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

int loom_sysctl_write_if(int family, const char *ifname, const char *key, const char *value)
{
	char k[128];
	int n;

	if ((family != AF_INET && family != AF_INET6) || !ifname || !*ifname ||
	    strchr(ifname, '/') || !key || !*key)
		return -EINVAL;
	n = snprintf(k, sizeof(k), "net/%s/conf/%s/%s", family == AF_INET ? "ipv4" : "ipv6", ifname,
		     key);
	if (n < 0 || (size_t)n >= sizeof(k))
		return -ENAMETOOLONG;
	return loom_sysctl_write(k, value);
}
