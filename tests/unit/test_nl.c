/* The kernel seam against the real kernel: netns entry and return, links,
 * veth into a pod, bridge and port flags, addresses, routes, neighbours,
 * FDB, sysctl.
 *
 * Each test gets two fresh network namespaces, "host" and "pod", held only
 * by file descriptors (unshare, then back): nothing is mounted under
 * /run/netns, and closing the fds in teardown (or the process dying) is
 * all the cleanup there is.  The machine's own netns is never written.
 * Without root, or where namespaces cannot be made, the binary skips (77).
 *
 * Where a fact can be read independently of loom, `ip`/`bridge` run inside
 * the namespace (nsenter) confirm it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/ip.h"
#include "kernel/netns.h"
#include "kernel/nl.h"

#define LOOM_TEST_KERNEL
#include "helpers.h"

struct fx {
	int host, pod; /* netns fds */
	struct loom_nl *hnl, *pnl;
	ino_t orig_ns; /* the thread's netns when the test began */
};

static const uint8_t MAC_A[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x05 };
static const uint8_t MAC_B[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x06 };

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	open_netns(&f->orig_ns, (int *const[]){ &f->host, &f->pod }, 2);
	assert_int_equal(loom_nl_open_netns(f->host, &f->hnl), 0);
	assert_int_equal(loom_nl_open_netns(f->pod, &f->pnl), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	loom_nl_close(f->hnl);
	loom_nl_close(f->pnl);
	close_netns(f->orig_ns, (int[]){ f->host, f->pod }, 2);
	free(f);
	return 0;
}

static struct fx *fx_of(void **state)
{
	return *state;
}

/* host: bridge br0 (up); veth "vh0" on it, peer "eth0" in the pod, both up.
 * Returns the pod end's ifindex. */
static int wire_pod(struct fx *f, struct loom_link *br, struct loom_link *host)
{
	struct loom_veth_req req = {
		.name = "vh0",
		.peer_name = "eth0",
		.peer_netns_fd = f->pod,
		.mtu = 1400,
		.peer_mac = MAC_A,
		.up = true,
	};
	struct loom_link l;

	assert_int_equal(loom_bridge_ensure(f->hnl, "br0", NULL, br), 0);
	req.master = br->ifindex;
	assert_int_equal(loom_veth_create(f->hnl, &req, host), 0);
	assert_int_equal(loom_link_get(f->pnl, "eth0", &l), 0);
	assert_int_equal(loom_link_set_up(f->pnl, l.ifindex, true), 0);
	return l.ifindex;
}

/* ---- netns ---- */

struct probe {
	int target;
	bool inside;
	int ret;
};

static int probe_fn(void *arg)
{
	struct probe *p = arg;

	p->inside = loom_netns_is_current(p->target);
	return p->ret;
}

static void test_netns_run_returns(void **state)
{
	struct fx *f = fx_of(state);
	ino_t before = current_ns();
	int rets[] = { 0, 7, -EIO };
	char path[64];
	size_t i;

	for (i = 0; i < N(rets); i++) {
		struct probe p = { .target = f->pod, .ret = rets[i] };

		assert_int_equal(loom_netns_run_fd(f->pod, probe_fn, &p), rets[i]);
		assert_true(p.inside);
		assert_true(current_ns() == before);
	}
	/* by path, as a runtime hands it over (CNI_NETNS) */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), f->host);
	{
		struct probe p = { .target = f->host, .ret = 3 };

		assert_int_equal(loom_netns_run(path, probe_fn, &p), 3);
		assert_true(p.inside);
		assert_true(current_ns() == before);
	}
	/* entering fails: fn not called, still home */
	{
		struct probe p = { .target = f->pod, .ret = 0 };

		assert_int_equal(loom_netns_run("/nonexistent/netns", probe_fn, &p), -ENOENT);
		assert_false(p.inside);
		assert_int_equal(loom_netns_run_fd(-1, probe_fn, &p), -EBADF);
		assert_true(current_ns() == before);
	}
}

static void test_netns_check(void **state)
{
	struct fx *f = fx_of(state);
	char tmpl[] = "/tmp/loom-nl-XXXXXX", pod[64];
	ino_t a, b;
	int tmp, fd;
	struct {
		const char *path;
		int want;
	} cases[] = {
		{ "/proc/self/ns/net", 0 },
		{ "/proc/thread-self/ns/net", 0 },
		{ pod, 0 },
		{ "/proc/self/ns/uts", -EINVAL }, /* a namespace, not a network one */
		{ tmpl, -EINVAL }, /* a plain file: a netns mount point left behind */
		{ "/proc", -EINVAL },
		{ "/nonexistent/netns", -ENOENT },
		{ "", -EINVAL },
	};
	size_t i;

	snprintf(pod, sizeof(pod), "/proc/%d/fd/%d", (int)getpid(), f->pod);
	tmp = mkstemp(tmpl);
	assert_true(tmp >= 0);
	for (i = 0; i < N(cases); i++) {
		int r = loom_netns_check(cases[i].path);

		if (r != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].path, r, cases[i].want);
	}
	close(tmp);
	unlink(tmpl);

	fd = loom_netns_open(pod);
	assert_true(fd >= 0);
	assert_int_equal(loom_netns_id(fd, &a), 0);
	assert_int_equal(loom_netns_id(f->pod, &b), 0);
	assert_true(a == b);
	assert_int_equal(loom_netns_id(f->host, &b), 0);
	assert_true(a != b);
	assert_false(loom_netns_is_current(fd));
	close(fd);
	fd = loom_netns_current();
	assert_true(loom_netns_is_current(fd));
	close(fd);
}

/* A socket opened for a netns works there, wherever the thread is. */
static void test_socket_per_netns(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_veth_req req = { .name = "only-host",
				     .peer_name = "only-host-p",
				     .peer_netns_fd = -1 };
	struct loom_link l;
	ino_t before = current_ns();

	assert_int_equal(loom_veth_create(f->hnl, &req, &l), 0);
	assert_string_equal(l.name, "only-host");
	assert_int_equal(loom_link_get(f->pnl, "only-host", &l), -ENODEV);
	assert_int_equal(loom_link_get(f->pnl, "lo", &l), 0);
	assert_int_equal(l.ifindex, 1);
	assert_string_equal(l.kind, "");
	assert_true(current_ns() == before);
}

/* ---- links ---- */

static void test_veth_into_pod(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_link br, host, pod, peer_seen_by_host;

	wire_pod(f, &br, &host);
	assert_string_equal(br.kind, "bridge");
	assert_true(br.flags & IFF_UP);

	assert_string_equal(host.kind, "veth");
	assert_int_equal(host.mtu, 1400);
	assert_int_equal(host.master, br.ifindex);
	assert_true(host.flags & IFF_UP);
	assert_true(host.is_bridge_port);

	assert_int_equal(loom_link_get(f->pnl, "eth0", &pod), 0);
	assert_string_equal(pod.kind, "veth");
	assert_int_equal(pod.mtu, 1400);
	assert_int_equal(pod.mac_len, 6);
	assert_memory_equal(pod.mac, MAC_A, 6);
	assert_true(pod.flags & IFF_UP);
	assert_int_equal(pod.master, 0);
	assert_int_equal(pod.link, host.ifindex); /* each end names the other */
	assert_int_equal(host.link, pod.ifindex);
	assert_int_equal(loom_link_get_index(f->pnl, pod.ifindex, &peer_seen_by_host), 0);
	assert_string_equal(peer_seen_by_host.name, "eth0");

	/* the pod end is not in the host, nor the host end in the pod */
	assert_int_equal(loom_link_get(f->hnl, "eth0", NULL), -ENODEV);
	assert_int_equal(loom_link_get(f->pnl, "vh0", NULL), -ENODEV);

	assert_sh_contains(f->pod, "ip -o link show dev eth0", "mtu 1400");
	assert_sh_contains(f->pod, "ip -o link show dev eth0", "link/ether 02:42:ac:11:00:05");
	assert_sh_contains(f->host, "ip -o link show dev vh0", "master br0");

	/* a retried ADD meets its own leftovers: a clear EEXIST either side */
	{
		struct loom_veth_req again = { .name = "vh0",
					       .peer_name = "eth1",
					       .peer_netns_fd = f->pod };
		struct loom_veth_req again_peer = { .name = "vh1",
						    .peer_name = "eth0",
						    .peer_netns_fd = f->pod };

		assert_int_equal(loom_veth_create(f->hnl, &again, NULL), -EEXIST);
		assert_int_equal(loom_veth_create(f->hnl, &again_peer, NULL), -EEXIST);
		assert_int_equal(loom_link_get(f->hnl, "vh1", NULL), -ENODEV);
	}
}

static void test_bad_arguments(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_veth_req huge = {
		.name = "vbig", .peer_name = "vbig-p", .peer_netns_fd = -1, .mtu = 1u << 20
	};
	struct loom_veth_req longname = { .name = "a-name-too-long-for-linux",
					  .peer_name = "p",
					  .peer_netns_fd = -1 };

	assert_int_equal(loom_link_get(f->hnl, "a-name-too-long-for-linux", NULL), -EINVAL);
	assert_int_equal(loom_link_get(f->hnl, "", NULL), -EINVAL);
	assert_int_equal(loom_link_get(f->hnl, "nosuch", NULL), -ENODEV);
	assert_int_equal(loom_link_get_index(f->hnl, 4242, NULL), -ENODEV);
	assert_int_equal(loom_veth_create(f->hnl, &longname, NULL), -EINVAL);
	struct loom_veth_req ok = { .name = "vok", .peer_name = "vok-p", .peer_netns_fd = -1 };
	struct loom_link l;

	assert_int_equal(loom_veth_create(f->hnl, &huge, NULL), -EINVAL);
	assert_int_equal(loom_link_get(f->hnl, "vbig", NULL), -ENODEV);
	/* the kernel refuses, and says why */
	assert_int_equal(loom_veth_create(f->hnl, &ok, &l), 0);
	assert_int_equal(loom_link_set_mtu(f->hnl, l.ifindex, 1u << 20), -EINVAL);
	assert_string_equal(loom_nl_last_msg(f->hnl), "mtu greater than device maximum");
	/* and the next request starts clean */
	assert_int_equal(loom_link_set_mtu(f->hnl, l.ifindex, 1280), 0);
	assert_string_equal(loom_nl_last_msg(f->hnl), "");
}

static void test_link_change(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_veth_req req = { .name = "va", .peer_name = "vb", .peer_netns_fd = -1 };
	struct loom_link_change all = { .set = LOOM_LINK_SET_MTU | LOOM_LINK_SET_MAC |
					       LOOM_LINK_SET_UP | LOOM_LINK_SET_PROMISC,
					.mtu = 1300,
					.up = true,
					.promisc = true };
	struct loom_link br, l;

	assert_int_equal(loom_veth_create(f->hnl, &req, &l), 0);
	assert_false(l.flags & IFF_UP);
	memcpy(all.mac, MAC_B, 6);
	assert_int_equal(loom_link_change(f->hnl, l.ifindex, &all), 0);
	assert_int_equal(loom_link_get_index(f->hnl, l.ifindex, &l), 0);
	assert_int_equal(l.mtu, 1300);
	assert_memory_equal(l.mac, MAC_B, 6);
	assert_true(l.flags & IFF_UP);
	assert_true(l.flags & IFF_PROMISC);

	assert_int_equal(loom_link_set_promisc(f->hnl, l.ifindex, false), 0);
	assert_int_equal(loom_link_set_mtu(f->hnl, l.ifindex, 1450), 0);
	assert_int_equal(loom_link_set_mac(f->hnl, l.ifindex, MAC_A), 0);
	assert_int_equal(loom_bridge_ensure(f->hnl, "br0", NULL, &br), 0);
	assert_int_equal(loom_link_set_master(f->hnl, l.ifindex, br.ifindex), 0);
	assert_int_equal(loom_link_get_index(f->hnl, l.ifindex, &l), 0);
	assert_false(l.flags & IFF_PROMISC);
	assert_int_equal(l.mtu, 1450);
	assert_memory_equal(l.mac, MAC_A, 6);
	assert_int_equal(l.master, br.ifindex);
	assert_int_equal(loom_link_set_master(f->hnl, l.ifindex, 0), 0);
	assert_int_equal(loom_link_get_index(f->hnl, l.ifindex, &l), 0);
	assert_int_equal(l.master, 0);

	/* rename (down: kernels before 6.2 refuse to rename an up link) */
	assert_int_equal(loom_link_set_up(f->hnl, l.ifindex, false), 0);
	assert_int_equal(loom_link_rename(f->hnl, l.ifindex, "renamed"), 0);
	assert_int_equal(loom_link_get(f->hnl, "renamed", &l), 0);
	assert_false(l.flags & IFF_UP);
	assert_int_equal(loom_link_get(f->hnl, "va", NULL), -ENODEV);
}

static void test_delete_twice(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_link br, host;

	wire_pod(f, &br, &host);
	assert_int_equal(loom_link_del(f->hnl, host.ifindex, false), 0);
	/* one end gone takes the other with it, in the pod too */
	assert_int_equal(loom_link_get(f->pnl, "eth0", NULL), -ENODEV);
	assert_int_equal(loom_link_del(f->hnl, host.ifindex, false), -ENODEV);
	assert_int_equal(loom_link_del(f->hnl, host.ifindex, true), 0);
	assert_int_equal(loom_link_del_name(f->hnl, "vh0", false), -ENODEV);
	assert_int_equal(loom_link_del_name(f->hnl, "vh0", true), 0);
	assert_int_equal(loom_link_del_name(f->hnl, "br0", true), 0);
	assert_int_equal(loom_link_get(f->hnl, "br0", NULL), -ENODEV);
}

static void test_bridge_ensure(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_bridge_conf conf = { .mtu = 1450 };
	struct loom_veth_req squat = { .name = "cni0", .peer_name = "cni0-p", .peer_netns_fd = -1 };
	struct loom_link a, b;

	assert_int_equal(loom_bridge_ensure(f->hnl, "brx", &conf, &a), 0);
	assert_int_equal(a.mtu, 1450);
	assert_true(a.flags & IFF_UP);
	/* existing and down: used as is, brought up */
	assert_int_equal(loom_link_set_up(f->hnl, a.ifindex, false), 0);
	assert_int_equal(loom_bridge_ensure(f->hnl, "brx", NULL, &b), 0);
	assert_int_equal(b.ifindex, a.ifindex);
	assert_true(b.flags & IFF_UP);
	/* a name held by something else is never taken over */
	assert_int_equal(loom_veth_create(f->hnl, &squat, NULL), 0);
	assert_int_equal(loom_bridge_ensure(f->hnl, "cni0", NULL, NULL), -EEXIST);
	assert_int_equal(loom_link_get(f->hnl, "cni0", &b), 0);
	assert_string_equal(b.kind, "veth");
}

/* Many plugins at once on a bridge that does not exist yet: all succeed,
 * one bridge. */
static void test_bridge_ensure_concurrent(void **state)
{
	struct fx *f = fx_of(state);
	enum {
		KIDS = 6
	};
	pid_t pids[KIDS];
	int i, status, ok = 0;
	struct loom_link l;

	for (i = 0; i < KIDS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct loom_nl *nl;
			struct loom_link got;

			if (loom_nl_open_netns(f->host, &nl) < 0)
				_exit(2);
			if (loom_bridge_ensure(nl, "cni0", NULL, &got) < 0 ||
			    strcmp(got.kind, "bridge") != 0)
				_exit(1);
			loom_nl_close(nl);
			_exit(0);
		}
	}
	for (i = 0; i < KIDS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	}
	assert_int_equal(ok, KIDS);
	assert_int_equal(loom_link_get(f->hnl, "cni0", &l), 0);
	assert_string_equal(l.kind, "bridge");
	assert_sh_contains(f->host, "sh -c 'ip -o link show type bridge | wc -l'", "1");
}

static void test_bridge_port_flags(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_link br, host, l;
	struct {
		unsigned mask, values, want_set, want_clear;
		const char *ip_shows;
	} steps[] = {
		{ LOOM_BRPORT_HAIRPIN, LOOM_BRPORT_HAIRPIN, LOOM_BRPORT_HAIRPIN, 0, "hairpin on" },
		{ LOOM_BRPORT_ISOLATED, LOOM_BRPORT_ISOLATED,
		  LOOM_BRPORT_HAIRPIN | LOOM_BRPORT_ISOLATED, 0, "isolated on" },
		{ LOOM_BRPORT_HAIRPIN | LOOM_BRPORT_LEARNING, 0, LOOM_BRPORT_ISOLATED,
		  LOOM_BRPORT_HAIRPIN | LOOM_BRPORT_LEARNING, "hairpin off" },
	};
	size_t i;

	wire_pod(f, &br, &host);
	assert_false(host.brport_flags & LOOM_BRPORT_HAIRPIN);
	assert_true(host.brport_flags & LOOM_BRPORT_LEARNING); /* the kernel's default */
	for (i = 0; i < N(steps); i++) {
		assert_int_equal(loom_bridge_port_set(f->hnl, host.ifindex, steps[i].mask,
						      steps[i].values),
				 0);
		assert_int_equal(loom_link_get_index(f->hnl, host.ifindex, &l), 0);
		assert_true(l.is_bridge_port);
		assert_int_equal(l.brport_flags & steps[i].want_set, steps[i].want_set);
		assert_int_equal(l.brport_flags & steps[i].want_clear, 0);
		assert_sh_contains(f->host, "ip -d -o link show dev vh0", steps[i].ip_shows);
	}
	/* not a port */
	assert_int_equal(loom_link_set_master(f->hnl, host.ifindex, 0), 0);
	assert_int_equal(loom_bridge_port_set(f->hnl, host.ifindex, LOOM_BRPORT_HAIRPIN,
					      LOOM_BRPORT_HAIRPIN),
			 -EOPNOTSUPP);
}

/* ---- addresses ---- */

/* Is p the prefix written as text? */
static bool prefix_is(const struct loom_prefix *p, const char *text)
{
	struct loom_prefix want = pfx_of(text);

	return loom_ip_eq(&p->ip, &want.ip) && p->len == want.len;
}

static const struct loom_addr *find_addr(const struct loom_addr *a, int n, const char *pfx)
{
	for (int i = 0; i < n; i++)
		if (prefix_is(&a[i].prefix, pfx))
			return &a[i];
	return NULL;
}

static void test_addresses(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_prefix v4 = pfx_of("10.1.0.5/24"), v6 = pfx_of("2001:db8::5/64"),
			   v6dad = pfx_of("2001:db8:1::5/64");
	_cleanup_free_ struct loom_addr *a = NULL;
	struct loom_link br, host;
	const struct loom_addr *got;
	int ifi, n;

	ifi = wire_pod(f, &br, &host);
	assert_int_equal(loom_addr_add(f->pnl, ifi, &v4, 0), 0);
	assert_int_equal(loom_addr_add(f->pnl, ifi, &v4, 0), -EEXIST);
	assert_int_equal(loom_addr_add(f->pnl, ifi, &v4, LOOM_ADDR_REPLACE), 0);
	assert_int_equal(loom_addr_add(f->pnl, ifi, &v6, LOOM_ADDR_NODAD), 0);
	assert_int_equal(loom_addr_add(f->pnl, ifi, &v6dad, 0), 0);
	assert_sh_contains(f->pod, "ip -o -4 addr show dev eth0",
			   "inet 10.1.0.5/24 brd 10.1.0.255");

	n = loom_addr_list(f->pnl, ifi, AF_UNSPEC, &a);
	assert_true(n >= 3); /* and the link-local fe80:: */
	got = find_addr(a, n, "10.1.0.5/24");
	assert_non_null(got);
	assert_int_equal(got->ifindex, ifi);
	got = find_addr(a, n, "2001:db8::5/64");
	assert_non_null(got);
	assert_true(got->flags & IFA_F_NODAD);
	assert_false(got->flags & IFA_F_TENTATIVE); /* usable at once */
	got = find_addr(a, n, "2001:db8:1::5/64");
	assert_non_null(got);
	assert_false(got->flags & IFA_F_NODAD);
	free(a);
	a = NULL;

	/* family and interface filters */
	n = loom_addr_list(f->pnl, ifi, AF_INET, &a);
	assert_int_equal(n, 1);
	free(a);
	a = NULL;
	n = loom_addr_list(f->pnl, 1, AF_UNSPEC, &a); /* lo, down, no address */
	assert_int_equal(n, 0);
	assert_null(a);

	assert_int_equal(loom_addr_del(f->pnl, ifi, &v4), 0);
	assert_int_equal(loom_addr_del(f->pnl, ifi, &v4), -EADDRNOTAVAIL);
	n = loom_addr_list(f->pnl, ifi, AF_INET, &a);
	assert_int_equal(n, 0);
	assert_sh_lacks(f->pod, "ip -o addr show dev eth0", "10.1.0.5");
}

/* ---- routes ---- */

static const struct loom_nl_route *find_route(const struct loom_nl_route *rt, int n,
					      const char *dst)
{
	for (int i = 0; i < n; i++)
		if (prefix_is(&rt[i].dst, dst))
			return &rt[i];
	return NULL;
}

static void test_routes(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_prefix v4 = pfx_of("10.1.0.5/24"), v6 = pfx_of("2001:db8::5/64");
	struct loom_nl_route def = { .dst = pfx_of("0.0.0.0/0"), .gw = ip_of("10.1.0.1") };
	struct loom_nl_route own = { .dst = pfx_of("192.0.2.0/24"),
				     .gw = ip_of("10.9.9.9"),
				     .onlink = true,
				     .protocol = LOOM_RTPROT,
				     .metric = 100,
				     .mtu = 1300 };
	struct loom_nl_route unreach = { .dst = pfx_of("198.51.100.0/24"),
					 .gw = ip_of("10.9.9.9") };
	struct loom_nl_route v6r = { .dst = pfx_of("2001:db8:77::/64"),
				     .gw = ip_of("2001:db8::1"),
				     .table = 100,
				     .protocol = LOOM_RTPROT };
	struct loom_route_filter mine = { .family = AF_UNSPEC,
					  .table = LOOM_TABLE_ANY,
					  .protocol = LOOM_RTPROT };
	_cleanup_free_ struct loom_nl_route *rt = NULL;
	const struct loom_nl_route *got;
	struct loom_link br, host;
	int ifi, n;

	ifi = wire_pod(f, &br, &host);
	own.oif = ifi;
	assert_int_equal(loom_addr_add(f->pnl, ifi, &v4, 0), 0);
	assert_int_equal(loom_addr_add(f->pnl, ifi, &v6, LOOM_ADDR_NODAD), 0);

	assert_int_equal(loom_route_add(f->pnl, &def, 0), 0);
	assert_int_equal(loom_route_add(f->pnl, &def, 0), -EEXIST);
	assert_int_equal(loom_route_add(f->pnl, &def, LOOM_ROUTE_REPLACE), 0);
	assert_int_equal(loom_route_add(f->pnl, &own, 0), 0);
	assert_int_equal(loom_route_add(f->pnl, &unreach, 0), -ENETUNREACH);
	assert_int_equal(loom_route_add(f->pnl, &v6r, 0), 0);
	assert_sh_contains(f->pod, "ip route show default", "default via 10.1.0.1 dev eth0");
	assert_sh_contains(f->pod, "ip route show 192.0.2.0/24",
			   "via 10.9.9.9 dev eth0 proto 76 metric 100 onlink");
	assert_sh_contains(f->pod, "ip -6 route show table 100",
			   "2001:db8:77::/64 via 2001:db8::1 dev eth0 proto 76");

	/* main table, IPv4: the default, the connected /24, ours */
	n = loom_route_list(f->pnl, &(struct loom_route_filter){ .family = AF_INET }, &rt);
	assert_int_equal(n, 3);
	got = find_route(rt, n, "0.0.0.0/0");
	assert_non_null(got);
	assert_true(loom_ip_eq(&got->gw, &def.gw));
	assert_int_equal(got->oif, ifi);
	assert_int_equal(got->protocol, RTPROT_BOOT);
	got = find_route(rt, n, "10.1.0.0/24");
	assert_non_null(got);
	assert_int_equal(got->scope, RT_SCOPE_LINK);
	assert_int_equal(got->protocol, RTPROT_KERNEL);
	assert_true(loom_ip_eq(&got->prefsrc, &v4.ip));
	free(rt);
	rt = NULL;

	/* only loom's own, any table, both families */
	n = loom_route_list(f->pnl, &mine, &rt);
	assert_int_equal(n, 2);
	got = find_route(rt, n, "192.0.2.0/24");
	assert_non_null(got);
	assert_true(got->onlink);
	assert_int_equal(got->metric, 100);
	assert_int_equal(got->mtu, 1300);
	assert_int_equal(got->table, RT_TABLE_MAIN);
	got = find_route(rt, n, "2001:db8:77::/64");
	assert_non_null(got);
	assert_int_equal(got->table, 100);
	assert_true(loom_ip_eq(&got->gw, &v6r.gw));
	free(rt);
	rt = NULL;

	assert_int_equal(loom_route_del(f->pnl, &own, false), 0);
	assert_int_equal(loom_route_del(f->pnl, &own, false), -ESRCH);
	assert_int_equal(loom_route_del(f->pnl, &own, true), 0);
	assert_int_equal(loom_route_del(f->pnl, &v6r, false), 0);
	assert_int_equal(loom_route_del(f->pnl, &v6r, true), 0);
	n = loom_route_list(f->pnl, &mine, &rt);
	assert_int_equal(n, 0);
	assert_sh_lacks(f->pod, "ip route show", "192.0.2.0");
}

/* ---- neighbours and FDB ---- */

static void test_neigh(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_ip n4 = ip_of("10.1.0.7"), n6 = ip_of("2001:db8::7");
	struct loom_link br, host;
	int ifi = wire_pod(f, &br, &host);

	assert_int_equal(loom_neigh_add(f->pnl, ifi, &n4, MAC_B), 0);
	assert_int_equal(loom_neigh_add(f->pnl, ifi, &n4, MAC_A), 0); /* replaced */
	assert_int_equal(loom_neigh_add(f->pnl, ifi, &n6, MAC_B), 0);
	assert_sh_contains(f->pod, "ip neigh show dev eth0",
			   "10.1.0.7 lladdr 02:42:ac:11:00:05 PERMANENT");
	assert_sh_contains(f->pod, "ip neigh show dev eth0",
			   "2001:db8::7 lladdr 02:42:ac:11:00:06 PERMANENT");
	assert_int_equal(loom_neigh_del(f->pnl, ifi, &n4, false), 0);
	assert_int_equal(loom_neigh_del(f->pnl, ifi, &n4, false), -ENOENT);
	assert_int_equal(loom_neigh_del(f->pnl, ifi, &n4, true), 0);
	assert_sh_lacks(f->pod, "ip neigh show dev eth0", "10.1.0.7");
}

static void test_fdb(void **state)
{
	struct fx *f = fx_of(state);
	static const uint8_t zero[6] = { 0 };
	struct loom_ip r1 = ip_of("192.0.2.2"), r2 = ip_of("192.0.2.3");
	struct loom_link br, host, vx;
	_cleanup_free_ char *out = NULL;

	wire_pod(f, &br, &host);
	out = sh_in(f->host, "ip link add vx0 type vxlan id 42 dstport 4789 nolearning");
	assert_int_equal(loom_link_get(f->hnl, "vx0", &vx), 0);
	assert_string_equal(vx.kind, "vxlan");

	/* vxlan flooding list: two remotes for the all-zero mac */
	assert_int_equal(loom_fdb_add(f->hnl, vx.ifindex, zero, &r1, LOOM_FDB_APPEND), 0);
	assert_int_equal(loom_fdb_add(f->hnl, vx.ifindex, zero, &r2, LOOM_FDB_APPEND), 0);
	assert_int_equal(loom_fdb_add(f->hnl, vx.ifindex, MAC_B, &r1, 0), 0);
	assert_sh_contains(f->host, "bridge fdb show dev vx0",
			   "00:00:00:00:00:00 dst 192.0.2.2 self permanent");
	assert_sh_contains(f->host, "bridge fdb show dev vx0",
			   "00:00:00:00:00:00 dst 192.0.2.3 self permanent");
	assert_sh_contains(f->host, "bridge fdb show dev vx0",
			   "02:42:ac:11:00:06 dst 192.0.2.2 self permanent");
	assert_int_equal(loom_fdb_del(f->hnl, vx.ifindex, zero, &r1, 0, false), 0);
	/* vxlan: a missing remote of a known mac is no error, a missing mac is */
	assert_int_equal(loom_fdb_del(f->hnl, vx.ifindex, zero, &r1, 0, false), 0);
	assert_int_equal(loom_fdb_del(f->hnl, vx.ifindex, MAC_A, &r1, 0, false), -ENOENT);
	assert_int_equal(loom_fdb_del(f->hnl, vx.ifindex, MAC_A, &r1, 0, true), 0);
	assert_sh_lacks(f->host, "bridge fdb show dev vx0", "00:00:00:00:00:00 dst 192.0.2.2");
	assert_sh_contains(f->host, "bridge fdb show dev vx0", "00:00:00:00:00:00 dst 192.0.2.3");

	/* a static entry in the bridge's own table, towards a port */
	assert_int_equal(loom_fdb_add(f->hnl, host.ifindex, MAC_B, NULL, LOOM_FDB_MASTER), 0);
	assert_sh_contains(f->host, "bridge fdb show dev vh0",
			   "02:42:ac:11:00:06 master br0 static");
	assert_int_equal(loom_fdb_del(f->hnl, host.ifindex, MAC_B, NULL, LOOM_FDB_MASTER, false),
			 0);
	assert_int_equal(loom_fdb_del(f->hnl, host.ifindex, MAC_B, NULL, LOOM_FDB_MASTER, false),
			 -ENOENT);
	assert_int_equal(loom_fdb_del(f->hnl, host.ifindex, MAC_B, NULL, LOOM_FDB_MASTER, true), 0);
	assert_sh_lacks(f->host, "bridge fdb show dev vh0", "02:42:ac:11:00:06");
}

/* ---- sysctl ---- */

struct sysctl_step {
	const char *key, *value;
};

static int sysctl_write_fn(void *arg)
{
	const struct sysctl_step *s = arg;

	return loom_sysctl_write(s->key, s->value);
}

static int sysctl_dad_fn(void *arg)
{
	(void)arg;
	return loom_sysctl_write_if(AF_INET6, "eth0", "accept_dad", "0");
}

struct sysctl_read {
	const char *key;
	char buf[32];
};

static int sysctl_read_fn(void *arg)
{
	struct sysctl_read *s = arg;

	return loom_sysctl_read(s->key, s->buf, sizeof(s->buf));
}

static void test_sysctl(void **state)
{
	struct fx *f = fx_of(state);
	struct sysctl_step fwd = { "net/ipv4/ip_forward", "1" };
	/* A new netns inherits its IPv4 settings from the machine's root netns
	 * (podman, for one, turns ip_forward on there): set the host netns's
	 * value ourselves instead of assuming the kernel default. */
	struct sysctl_step host_off = { "net/ipv4/ip_forward", "0" };
	struct sysctl_read rd = { .key = "net/ipv4/ip_forward" };
	struct loom_link br, host;
	const char *bad[] = { "../../etc/passwd", "net/../../etc/passwd",
			      "/proc/sys/net/ipv4/ip_forward", "" };
	char buf[4];
	size_t i;

	wire_pod(f, &br, &host);
	assert_int_equal(loom_netns_run_fd(f->host, sysctl_write_fn, &host_off), 0);
	assert_int_equal(loom_netns_run_fd(f->pod, sysctl_write_fn, &fwd), 0);
	assert_int_equal(loom_netns_run_fd(f->pod, sysctl_read_fn, &rd), 0);
	assert_string_equal(rd.buf, "1");
	/* the other netns is untouched */
	assert_int_equal(loom_netns_run_fd(f->host, sysctl_read_fn, &rd), 0);
	assert_string_equal(rd.buf, "0");

	assert_int_equal(loom_netns_run_fd(f->pod, sysctl_dad_fn, NULL), 0);
	rd.key = "net/ipv6/conf/eth0/accept_dad";
	assert_int_equal(loom_netns_run_fd(f->pod, sysctl_read_fn, &rd), 0);
	assert_string_equal(rd.buf, "0");
	assert_sh_contains(f->pod, "cat /proc/sys/net/ipv6/conf/eth0/accept_dad", "0");
	/* eth0 does not exist in the host netns */
	assert_int_equal(loom_netns_run_fd(f->host, sysctl_read_fn, &rd), -ENOENT);

	for (i = 0; i < N(bad); i++)
		assert_int_equal(loom_sysctl_read(bad[i], buf, sizeof(buf)), -EINVAL);
	assert_int_equal(loom_sysctl_write_if(AF_INET, "../x", "forwarding", "1"), -EINVAL);
	assert_int_equal(loom_sysctl_read("net/ipv4/no_such_key", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(loom_sysctl_read("net/ipv4/tcp_rmem", buf, sizeof(buf)), -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST_ST(test_netns_run_returns),
		TEST_ST(test_netns_check),
		TEST_ST(test_socket_per_netns),
		TEST_ST(test_veth_into_pod),
		TEST_ST(test_bad_arguments),
		TEST_ST(test_link_change),
		TEST_ST(test_delete_twice),
		TEST_ST(test_bridge_ensure),
		TEST_ST(test_bridge_ensure_concurrent),
		TEST_ST(test_bridge_port_flags),
		TEST_ST(test_addresses),
		TEST_ST(test_routes),
		TEST_ST(test_neigh),
		TEST_ST(test_fdb),
		TEST_ST(test_sysctl),
	};

	return run_kernel_tests(tests);
}
