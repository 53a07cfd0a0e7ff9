/* loom-sim's host check (sim/hostcheck.c): what a cluster of N nodes needs
 * from the one kernel all its nodes share, against a machine's limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostcheck.h"
#include "test_main.h"

/* A fresh Debian 12 machine: the kernel's defaults, a little in use. */
static const struct sim_host_limits debian_defaults = {
	.gc_thresh1 = 128,
	.gc_thresh2 = 512,
	.gc_thresh3 = 1024,
	.neigh_in_use = 80,
	.inotify_max_instances = 128,
	.inotify_instances_in_use = 12,
	.inotify_max_watches = 8192,
	.pid_max = 32768,
	.pids_in_use = 200,
	.file_max = 1000000,
	.files_in_use = 2000,
};

static const struct sim_host_fix *find_fix(const struct sim_host_report *rep, const char *key)
{
	for (int i = 0; i < rep->nfix; i++)
		if (!strcmp(rep->fix[i].key, key))
			return &rep->fix[i];
	return NULL;
}

static int check(int nodes, const char *mode, const char *store, int pods,
		 const struct sim_host_limits *lim, struct sim_host_report *rep,
		 struct sim_host_needs *need)
{
	sim_host_needs(nodes, mode, store, pods, need);
	return sim_host_check(need, lim, rep);
}

/* 20 nodes with a pod each is what a default machine holds (seen: 400 of
 * 400 pairs reachable): no setting to change. */
static void test_twenty_nodes_fit_defaults(void **state)
{
	struct sim_host_report rep;
	struct sim_host_needs need;

	(void)state;
	assert_int_equal(check(20, "vxlan", "file", 20, &debian_defaults, &rep, &need), 0);
	assert_int_equal(check(2, "bgp", "etcd", 4, &debian_defaults, &rep, &need), 0);
}

/* 50 nodes overflow both the neighbour table (seen: ~3,500 entries against
 * gc_thresh3 = 1024) and the per-user inotify instances (4 per node with the
 * file store, 128 allowed). */
static void test_fifty_nodes_need_tuning(void **state)
{
	struct sim_host_report rep;
	struct sim_host_needs need;
	const struct sim_host_fix *f;

	(void)state;
	assert_true(check(50, "vxlan", "file", 50, &debian_defaults, &rep, &need) >= 4);
	assert_true(need.neigh >= 2500);
	f = find_fix(&rep, "net.ipv4.neigh.default.gc_thresh3");
	assert_non_null(f);
	assert_int_equal(f->have, 1024);
	assert_true(f->want >= need.neigh + debian_defaults.neigh_in_use);
	/* raised together, in the kernel's order */
	assert_non_null(find_fix(&rep, "net.ipv4.neigh.default.gc_thresh1"));
	assert_true(find_fix(&rep, "net.ipv4.neigh.default.gc_thresh1")->want <
		    find_fix(&rep, "net.ipv4.neigh.default.gc_thresh2")->want);
	assert_true(find_fix(&rep, "net.ipv4.neigh.default.gc_thresh2")->want < f->want);
	f = find_fix(&rep, "fs.inotify.max_user_instances");
	assert_non_null(f);
	assert_true(f->want >= need.inotify_instances + debian_defaults.inotify_instances_in_use);
	/* nothing asked that is not short */
	assert_null(find_fix(&rep, "kernel.pid_max"));
	assert_null(find_fix(&rep, "fs.file-max"));
}

/* With etcd the store's watches are HTTP streams: 50 nodes still overflow
 * the neighbour table but not inotify. */
static void test_etcd_takes_fewer_inotify_instances(void **state)
{
	struct sim_host_report rep;
	struct sim_host_needs need;

	(void)state;
	check(50, "vxlan", "etcd", 50, &debian_defaults, &rep, &need);
	assert_null(find_fix(&rep, "fs.inotify.max_user_instances"));
	assert_non_null(find_fix(&rep, "net.ipv4.neigh.default.gc_thresh3"));
}

/* Bridge-mode nodes never talk to each other: no n² neighbour entries. */
static void test_bridge_mode_needs_no_mesh(void **state)
{
	struct sim_host_needs bridge, vxlan;

	(void)state;
	sim_host_needs(50, "bridge", "etcd", 50, &bridge);
	sim_host_needs(50, "vxlan", "etcd", 50, &vxlan);
	assert_true(bridge.neigh < 1024);
	assert_true(vxlan.neigh > 2 * bridge.neigh);
}

/* A machine already tuned beyond the needs is left alone: nothing is ever
 * lowered; a limit that cannot be read is not checked. */
static void test_tuned_or_unknown_is_left_alone(void **state)
{
	struct sim_host_limits lim = debian_defaults;
	struct sim_host_report rep;
	struct sim_host_needs need;

	(void)state;
	lim.gc_thresh1 = 65536;
	lim.gc_thresh2 = 131072;
	lim.gc_thresh3 = 262144;
	lim.inotify_max_instances = 8192;
	assert_int_equal(check(100, "vxlan", "file", 200, &lim, &rep, &need), 0);
	lim = debian_defaults;
	lim.gc_thresh3 = -1;
	lim.inotify_max_instances = -1;
	assert_int_equal(check(100, "vxlan", "file", 200, &lim, &rep, &need), 0);
}

/* Needs grow with the cluster: 100 nodes need more than 50. */
static void test_needs_grow_with_nodes(void **state)
{
	struct sim_host_needs n50, n100;

	(void)state;
	sim_host_needs(50, "vxlan", "file", 100, &n50);
	sim_host_needs(100, "vxlan", "file", 200, &n100);
	assert_true(n100.neigh > 3 * n50.neigh);
	assert_true(n100.inotify_instances > n50.inotify_instances);
	assert_true(n100.pids > n50.pids);
}

/* The real machine's limits read back as numbers. */
static void test_reads_this_machine(void **state)
{
	struct sim_host_limits lim;

	(void)state;
	sim_host_read_limits(&lim);
	assert_true(lim.gc_thresh3 > 0);
	assert_true(lim.inotify_max_instances > 0);
	assert_true(lim.pid_max > 0);
	assert_true(lim.pids_in_use > 0);
	assert_true(lim.neigh_in_use >= 0);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_twenty_nodes_fit_defaults),
	       cmocka_unit_test(test_fifty_nodes_need_tuning),
	       cmocka_unit_test(test_etcd_takes_fewer_inotify_instances),
	       cmocka_unit_test(test_bridge_mode_needs_no_mesh),
	       cmocka_unit_test(test_tuned_or_unknown_is_left_alone),
	       cmocka_unit_test(test_needs_grow_with_nodes),
	       cmocka_unit_test(test_reads_this_machine))
