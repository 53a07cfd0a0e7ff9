/* What a simulated cluster needs from the machine's one kernel, against what
 * the machine allows (see hostcheck.h for why). */
#include "hostcheck.h"

#include "model/mode.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Needs are estimates of what a cluster creates while a full matrix runs;
 * the margin covers what the estimate leaves out (IPv6 link-local chatter,
 * probes to absent addresses, entries not yet collected). */
#define NEED_MARGIN_NUM 7
#define NEED_MARGIN_DEN 5
#define NEED_SLACK 64

static long with_margin(long v)
{
	return v * NEED_MARGIN_NUM / NEED_MARGIN_DEN + NEED_SLACK;
}

void sim_host_needs(int nodes, const char *mode, const char *store_kind, int pods,
		    struct sim_host_needs *out)
{
	long n = nodes > 0 ? nodes : 0, p = pods > 0 ? pods : 0;
	long per_node_pods = n ? (p + n - 1) / n : 0;
	const struct loom_mode *m = loom_mode_by_name(mode);
	bool file = !store_kind || !strcmp(store_kind, "file");
	long neigh;

	if (!m)
		m = loom_mode_default();

	/* The underlay namespace resolves every node; every node resolves every
	 * other node's underlay address (VXLAN's remote, BGP's next hop) —
	 * unless the mode joins no nodes (bridge).  The
	 * VTEP neighbours vxlan mode installs and bgp mode's gateway are
	 * permanent entries, which the kernel does not count against
	 * gc_thresh3. */
	neigh = n + (m->joins_nodes ? n * (n - 1) : 0);
	/* A pod resolves its gateway and, through a bridge, each pod of its
	 * own node; its node resolves it. */
	neigh += p * (!m->bridged ? 1 : 2 + (per_node_pods > 1 ? per_node_pods - 1 : 0));
	out->neigh = with_margin(neigh);

	/* loomd: endpoint records + two file-store watches (the nodes, its
	 * Network); loom-policyd: a file-store watch.  With etcd the store's
	 * watches are HTTP streams. */
	out->inotify_instances = n * (file ? 4 : 1) + 8;
	out->inotify_watches = n * (file ? 16 : 4) + 64;
	/* loomd, loom-policyd, the mode's helpers (BIRD), the plugins and probes in
	 * flight (loom-sim matrix runs 16 at a time), and their threads. */
	out->pids = n * (2 + (long)m->helpers) * 4 + 64;
	/* Each daemon holds sockets, watches and its logs. */
	out->files = n * (2 + (long)m->helpers) * 64 + 1024;
}

static long pow2_at_least(long v)
{
	long r = 1;

	while (r < v && r < (1L << 40))
		r <<= 1;
	return r;
}

static void add_fix(struct sim_host_report *rep, const char *key, long have, long want,
		    const char *why)
{
	struct sim_host_fix *f;

	if (rep->nfix >= SIM_HOST_FIX_MAX || have < 0 || have >= want)
		return;
	f = &rep->fix[rep->nfix++];
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->have = have;
	f->want = want;
	snprintf(f->why, sizeof(f->why), "%s", why);
}

int sim_host_check(const struct sim_host_needs *need, const struct sim_host_limits *lim,
		   struct sim_host_report *rep)
{
	long in_use;

	memset(rep, 0, sizeof(*rep));

	/* The hard limit is gc_thresh3: past it the kernel refuses new
	 * entries ("neighbor table overflow") and drops the packets waiting
	 * on them.  When it must rise, raise all three together, keeping the
	 * kernel's 1:4:8-ish shape, so garbage collection does not start
	 * evicting live entries at the old gc_thresh2. */
	in_use = lim->neigh_in_use > 0 ? lim->neigh_in_use : 0;
	if (lim->gc_thresh3 >= 0 && need->neigh + in_use > lim->gc_thresh3) {
		long base = pow2_at_least(need->neigh + in_use);

		add_fix(rep, "net.ipv4.neigh.default.gc_thresh1", lim->gc_thresh1, base,
			"garbage collection starts here: keep the cluster's entries below it");
		add_fix(rep, "net.ipv4.neigh.default.gc_thresh2", lim->gc_thresh2, base * 2,
			"the soft maximum of IPv4 neighbour entries");
		add_fix(rep, "net.ipv4.neigh.default.gc_thresh3", lim->gc_thresh3, base * 4,
			"the hard maximum of IPv4 neighbour entries, shared by every namespace");
	}
	in_use = lim->inotify_instances_in_use > 0 ? lim->inotify_instances_in_use : 0;
	if (lim->inotify_max_instances >= 0 &&
	    need->inotify_instances + in_use > lim->inotify_max_instances)
		add_fix(rep, "fs.inotify.max_user_instances", lim->inotify_max_instances,
			pow2_at_least(need->inotify_instances + in_use),
			"inotify instances per user: every node's daemons watch files");
	if (lim->inotify_max_watches >= 0 && need->inotify_watches > lim->inotify_max_watches)
		add_fix(rep, "fs.inotify.max_user_watches", lim->inotify_max_watches,
			pow2_at_least(need->inotify_watches), "inotify watches per user");
	in_use = lim->pids_in_use > 0 ? lim->pids_in_use : 0;
	if (lim->pid_max >= 0 && need->pids + in_use > lim->pid_max)
		add_fix(rep, "kernel.pid_max", lim->pid_max, pow2_at_least(need->pids + in_use),
			"process ids: every node runs its own daemons");
	in_use = lim->files_in_use > 0 ? lim->files_in_use : 0;
	if (lim->file_max >= 0 && need->files + in_use > lim->file_max)
		add_fix(rep, "fs.file-max", lim->file_max, pow2_at_least(need->files + in_use),
			"open files, machine-wide");
	return rep->nfix;
}

static void sysctl_path(const char *key, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "/proc/sys/%s", key);
	for (i = strlen("/proc/sys/"); buf[i]; i++)
		if (buf[i] == '.')
			buf[i] = '/';
}

static long read_long(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static long read_sysctl(const char *key)
{
	char path[128];

	sysctl_path(key, path, sizeof(path));
	return read_long(path);
}

/* The first field of /proc/net/stat/arp_cache's first data line: the
 * table's entries, counted over every namespace (hex). */
static long neigh_entries(void)
{
	char line[512];
	long v = -1;
	FILE *f = fopen("/proc/net/stat/arp_cache", "re");

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f) && fgets(line, sizeof(line), f))
		v = strtol(line, NULL, 16);
	fclose(f);
	return v;
}

/* This user's inotify instances now, and the machine's processes: one
 * walk of /proc. */
static void count_procs(long *inotify, long *pids)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	uid_t me = getuid();

	*inotify = 0;
	*pids = 0;
	if (!d) {
		*inotify = *pids = -1;
		return;
	}
	while ((e = readdir(d))) {
		char path[300], target[64];
		struct stat st;
		DIR *fds;
		struct dirent *fe;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		(*pids)++;
		snprintf(path, sizeof(path), "/proc/%s", e->d_name);
		if (stat(path, &st) < 0 || st.st_uid != me)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", e->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			char link[600];
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(link, sizeof(link), "%s/%s", path, fe->d_name);
			n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (!strcmp(target, "anon_inode:inotify"))
				(*inotify)++;
		}
		closedir(fds);
	}
	closedir(d);
}

void sim_host_read_limits(struct sim_host_limits *lim)
{
	FILE *f;

	lim->gc_thresh1 = read_sysctl("net.ipv4.neigh.default.gc_thresh1");
	lim->gc_thresh2 = read_sysctl("net.ipv4.neigh.default.gc_thresh2");
	lim->gc_thresh3 = read_sysctl("net.ipv4.neigh.default.gc_thresh3");
	lim->neigh_in_use = neigh_entries();
	lim->inotify_max_instances = read_sysctl("fs.inotify.max_user_instances");
	lim->inotify_max_watches = read_sysctl("fs.inotify.max_user_watches");
	lim->pid_max = read_sysctl("kernel.pid_max");
	lim->file_max = read_sysctl("fs.file-max");
	lim->files_in_use = -1;
	f = fopen("/proc/sys/fs/file-nr", "re");
	if (f) {
		if (fscanf(f, "%ld", &lim->files_in_use) != 1)
			lim->files_in_use = -1;
		fclose(f);
	}
	count_procs(&lim->inotify_instances_in_use, &lim->pids_in_use);
}

int sim_host_apply(const struct sim_host_report *rep)
{
	for (int i = 0; i < rep->nfix; i++) {
		char path[128], val[32];
		int fd, len;
		ssize_t n;

		sysctl_path(rep->fix[i].key, path, sizeof(path));
		len = snprintf(val, sizeof(val), "%ld\n", rep->fix[i].want);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = write(fd, val, (size_t)len);
		if (n != len) {
			int e = n < 0 ? errno : EIO;

			close(fd);
			return -e;
		}
		close(fd);
	}
	return 0;
}
