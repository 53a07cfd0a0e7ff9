/* Network namespaces: open, check, enter and always come back.
 *
 * A netns switch (setns) affects the calling thread only, so everything here
 * uses /proc/thread-self, never /proc/self.  Rule of the house: code that
 * enters a netns holds an fd of the one it came from and returns to it on
 * every path; loom_netns_run() is the only way the rest of loom should do it.
 *
 * Remember that /sys/class/net shows the netns sysfs was mounted in, not the
 * thread's: ask netlink (lib/kernel/nl.h) for interface facts.  /proc/sys/net, on
 * the other hand, follows the thread (see lib/kernel/nl.h, loom_sysctl_*).
 *
 * All functions return 0 (or an fd) on success and -errno on failure. */
#ifndef LOOM_NETNS_H
#define LOOM_NETNS_H

#include <stdbool.h>
#include <sys/types.h>

/* Open a network namespace by path (/var/run/netns/NAME, /proc/PID/ns/net,
 * ...) O_RDONLY|O_CLOEXEC.  Returns the fd (the caller closes it) or
 * -ENOENT, -EACCES, ..., or -EINVAL when the path is not a network netns
 * (a plain file, a mount point left behind by a deleted netns, another
 * namespace type). */
int loom_netns_open(const char *path);

/* An fd of the calling thread's current netns (caller closes), or -errno. */
int loom_netns_current(void);

/* 0 when fd refers to a network namespace, -EINVAL when not, -errno when it
 * cannot be told (bad fd). */
int loom_netns_check_fd(int fd);

/* Same for a path: 0, -EINVAL (exists but not a netns), -ENOENT, ... */
int loom_netns_check(const char *path);

/* Identity of the netns behind fd (the nsfs inode, as `ls -iL` and
 * `ip netns identify` use): two fds are the same netns iff equal ids. */
int loom_netns_id(int fd, ino_t *out);

/* True when fd is the calling thread's current netns.  False on error. */
bool loom_netns_is_current(int fd);

/* Run fn(arg) with the calling thread inside the netns `fd`, then return to
 * the netns it was in, whatever fn returned.  Returns fn's return value,
 * or -errno when entering failed (fn not called).  If going back fails the
 * thread is stranded in the wrong netns: that is reported as -ENOTRECOVERABLE
 * (which wins over fn's value) and the caller must stop using this thread
 * for network work (a plugin exits). */
typedef int (*loom_netns_fn)(void *arg);
int loom_netns_run_fd(int fd, loom_netns_fn fn, void *arg);

/* loom_netns_run_fd() on a netns opened (and checked) by path. */
int loom_netns_run(const char *path, loom_netns_fn fn, void *arg);

#endif
