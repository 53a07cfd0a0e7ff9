/* loom-sim check, and the gate `up` and `node add` pass through: a cluster
 * that the machine's one kernel cannot hold is refused with the exact
 * settings to apply, or — only when asked (--tune-host) — the settings are
 * applied and printed with what undoes them. */
#include "sim.h"
#include "hostcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_fixes(FILE *f, const struct sim_host_report *rep, const char *verb)
{
	for (int i = 0; i < rep->nfix; i++)
		fprintf(f, "  %ssysctl -w %s=%ld   # now %ld: %s\n", verb, rep->fix[i].key,
			rep->fix[i].want, rep->fix[i].have, rep->fix[i].why);
}

int sim_host_gate(int nodes, const char *mode, const char *store_kind, int pods, bool tune)
{
	struct sim_host_needs need;
	struct sim_host_limits lim;
	struct sim_host_report rep;
	int r;

	sim_host_needs(nodes, mode, store_kind, pods, &need);
	sim_host_read_limits(&lim);
	if (sim_host_check(&need, &lim, &rep) == 0)
		return 0;
	if (!tune) {
		sim_err("this machine's kernel cannot hold %d %s nodes and about %d pods: every "
			"node of loom-sim shares one kernel, whose tables a real cluster has one "
			"of per node.  Apply (or run with --tune-host to have loom-sim apply):",
			nodes, mode, pods);
		print_fixes(stderr, &rep, "");
		return -ENOSPC;
	}
	r = sim_host_apply(&rep);
	sim_log("--tune-host: changed this machine's settings (undo with the old values):");
	for (int i = 0; i < rep.nfix; i++)
		printf("  sysctl -w %s=%ld   # was %ld; undo: sysctl -w %s=%ld\n", rep.fix[i].key,
		       rep.fix[i].want, rep.fix[i].have, rep.fix[i].key, rep.fix[i].have);
	if (r < 0) {
		sim_err("--tune-host: cannot write a setting: %s", strerror(-r));
		return r;
	}
	return 0;
}

int sim_check(int argc, char **argv)
{
	const char *mode = "vxlan", *store = "file";
	int nodes = 0, pods = -1;
	struct sim_host_needs need;
	struct sim_host_limits lim;
	struct sim_host_report rep;

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		long n;

		if (!v)
			goto usage;
		if (!strcmp(a, "--mode"))
			mode = v;
		else if (!strcmp(a, "--store"))
			store = v;
		else if (!strcmp(a, "--nodes") || !strcmp(a, "--pods")) {
			n = strtol(v, &end, 10);
			if (end == v || *end || n < 0 || n > 100000)
				goto usage;
			*(!strcmp(a, "--nodes") ? &nodes : &pods) = (int)n;
		} else
			goto usage;
	}
	if (nodes < 1)
		goto usage;
	if (pods < 0)
		pods = SIM_PODS_PER_NODE_PLAN * nodes;
	sim_host_needs(nodes, mode, store, pods, &need);
	sim_host_read_limits(&lim);
	printf("%-40s %10s %10s %10s\n", "", "needed", "in use", "limit");
	printf("%-40s %10ld %10ld %10ld\n", "IPv4 neighbour entries (gc_thresh3)", need.neigh,
	       lim.neigh_in_use, lim.gc_thresh3);
	printf("%-40s %10ld %10ld %10ld\n", "inotify instances (this user)", need.inotify_instances,
	       lim.inotify_instances_in_use, lim.inotify_max_instances);
	printf("%-40s %10ld %10s %10ld\n", "inotify watches (this user)", need.inotify_watches, "-",
	       lim.inotify_max_watches);
	printf("%-40s %10ld %10ld %10ld\n", "processes (pid_max)", need.pids, lim.pids_in_use,
	       lim.pid_max);
	printf("%-40s %10ld %10ld %10ld\n", "open files (file-max)", need.files, lim.files_in_use,
	       lim.file_max);
	if (sim_host_check(&need, &lim, &rep) == 0) {
		printf("%d %s nodes with about %d pods fit this machine\n", nodes, mode, pods);
		return 0;
	}
	printf("%d %s nodes with about %d pods do not fit this machine; apply:\n", nodes, mode,
	       pods);
	print_fixes(stdout, &rep, "");
	return 1;
usage:
	sim_err("usage: loom-sim check --nodes N [--mode bridge|vxlan|bgp] [--store file|etcd] [--pods P]");
	return 2;
}
