/* What a simulated cluster needs from the one kernel all its nodes share.
 *
 * A real cluster has one kernel per node; loom-sim puts every node, pod and
 * daemon on one.  Some kernel tables are shared by every network namespace
 * (the IPv4 neighbour table: net.ipv4.neigh.default.gc_thresh*, settable in
 * the root namespace only) and some limits are per user (inotify
 * instances), so a cluster that fits at 20 nodes can silently drop packets
 * or lose its daemons' watches at 50.  This module computes the needs of a
 * cluster of a given size, reads the machine's limits, and says which fall
 * short with the exact sysctl that fixes each.  Pure except for
 * sim_host_read_limits() and sim_host_apply(); no printing. */
#ifndef LOOM_SIM_HOSTCHECK_H
#define LOOM_SIM_HOSTCHECK_H

#include <stdbool.h>
#include <stddef.h>

struct sim_host_needs {
	long neigh;             /* IPv4 neighbour entries the cluster creates */
	long inotify_instances; /* inotify instances its daemons take */
	long inotify_watches;
	long pids;  /* processes (daemons, BIRD, probes in flight) */
	long files; /* open files, machine-wide */
};

/* Read from /proc (or given by a test).  -1 = unknown: not checked. */
struct sim_host_limits {
	long gc_thresh1, gc_thresh2, gc_thresh3;
	long neigh_in_use; /* entries in the table now (every namespace) */
	long inotify_max_instances;
	long inotify_instances_in_use; /* this user's, now */
	long inotify_max_watches;
	long pid_max;
	long pids_in_use;
	long file_max;
	long files_in_use;
};

#define SIM_HOST_FIX_MAX 8

/* One sysctl to raise: `sysctl -w <key>=<want>` (was <have>). */
struct sim_host_fix {
	char key[64]; /* dotted sysctl name */
	long have, want;
	char why[160]; /* for the person reading the refusal */
};

struct sim_host_report {
	struct sim_host_fix fix[SIM_HOST_FIX_MAX];
	int nfix;
};

/* The needs of `nodes` nodes in `mode` (a mode's name, model/mode.h) with the
 * store `store_kind` ("file", "etcd") and about `pods` pods in all. */
void sim_host_needs(int nodes, const char *mode, const char *store_kind, int pods,
		    struct sim_host_needs *out);

/* Compare; fills `rep` with what must be raised.  Returns rep->nfix. */
int sim_host_check(const struct sim_host_needs *need, const struct sim_host_limits *lim,
		   struct sim_host_report *rep);

/* The running machine's limits; fields it cannot read are -1. */
void sim_host_read_limits(struct sim_host_limits *lim);

/* Apply every fix of `rep` through /proc/sys.  Returns 0, or -errno of the
 * first write that failed (the ones before it stay applied). */
int sim_host_apply(const struct sim_host_report *rep);

#endif
