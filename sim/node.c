/* loom-sim node add | stop | kill | start: a cluster that changes while it
 * runs, for the tests and benchmarks of joins, departures and crashes. */
#include "sim.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int node_usage(void)
{
	sim_err("usage: loom-sim node add [--tune-host] | stop NODE | kill NODE | start NODE");
	return 2;
}

/* A new node n(N+1), made exactly as `up` makes one. */
static int node_add(struct sim *s, bool tune)
{
	char path[512];
	int i = s->nodes + 1;
	json_t *pods;
	int npods;

	if (i > SIM_NODES_MAX)
		return sim_err("a cluster has at most %d nodes", SIM_NODES_MAX), 1;
	pods = sim_pods(s);
	npods = (int)json_array_size(pods);
	json_decref(pods);
	if (npods < SIM_PODS_PER_NODE_PLAN * i)
		npods = SIM_PODS_PER_NODE_PLAN * i;
	if (sim_host_gate(i, s->mode, s->store_kind, npods, tune) < 0)
		return 2;
	sim_node_dirs(s, i);
	snprintf(path, sizeof(path), "%s/bpf/n%d", s->dir, i);
	mkdir(path, 0700);
	/* state first: a half-made node is still found by `down` (by prefix
	 * anyway) and its number is never handed out twice */
	s->nodes = i;
	json_object_set_new(s->state, "nodes", json_integer(i));
	sim_state_add_node(s, i);
	if (sim_write_state(s) < 0)
		return sim_err("cannot write %s/state.json", s->dir), 1;
	if (sim_make_node(s, i) < 0 || sim_write_conflist(s, i) < 0 ||
	    sim_start_node_daemons(s, i) < 0)
		return 1;
	printf("n%d\n", i);
	return 0;
}

/* SIGKILL, as a crash: no lease release, no cleanup by loomd itself. */
static int node_kill(const struct sim *s, int i)
{
	char tag[32], path[512];
	pid_t pid;

	snprintf(tag, sizeof(tag), "loomd-n%d", i);
	pid = sim_read_pid(s, tag);
	if (!sim_pid_alive(pid))
		return sim_err("loomd on n%d is not running", i), 1;
	kill(pid, SIGKILL);
	for (int k = 0; k < 100 && sim_pid_alive(pid); k++)
		nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
	if (sim_pid_alive(pid))
		return sim_err("loomd on n%d (pid %d) survived SIGKILL", i, (int)pid), 1;
	snprintf(path, sizeof(path), "%s/pids/%s.pid", s->dir, tag);
	unlink(path);
	printf("n%d: loomd killed\n", i);
	return 0;
}

int sim_node(struct sim *s, int argc, char **argv)
{
	int i;

	if (argc == 2 && !strcmp(argv[1], "add"))
		return node_add(s, false);
	if (argc == 3 && !strcmp(argv[1], "add") && !strcmp(argv[2], "--tune-host"))
		return node_add(s, true);
	if (argc != 3)
		return node_usage();
	i = sim_node_index(s, argv[2]);
	if (i < 0)
		return sim_err("no node \"%s\" (n1..n%d)", argv[2], s->nodes), 1;
	if (!strcmp(argv[1], "stop")) {
		char tag[32];

		/* TERM: loomd releases its lease, as on a node drained and shut down */
		snprintf(tag, sizeof(tag), "policyd-n%d", i);
		sim_stop_tag(s, tag);
		snprintf(tag, sizeof(tag), "loomd-n%d", i);
		sim_stop_tag(s, tag);
		printf("n%d: stopped\n", i);
		return 0;
	}
	if (!strcmp(argv[1], "kill"))
		return node_kill(s, i);
	if (!strcmp(argv[1], "start")) {
		if (sim_start_node_daemons(s, i) < 0)
			return 1;
		printf("n%d: started\n", i);
		return 0;
	}
	return node_usage();
}
