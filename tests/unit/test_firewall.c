/* loom-bridge's nftables side (plugins/bridge/firewall.c) and the
 * libnftables wrapper (lib/kernel/nft.c) against the real kernel.
 *
 * Each test gets three fresh network namespaces held by fds only (no
 * /run/netns mount; closing them is all the cleanup there is): "host" with
 * a bridge br0, "pod" behind a veth on it, and "out", reached from the
 * host over a second veth (the world outside, for masquerade):
 *
 *   pod eth0 10.1.0.5/24 fd00:1::5/64 -- vh0 [br0 10.1.0.1 fd00:1::1] (host)
 *   host ho0 192.0.2.1/24 10.1.200.1/24 2001:db8:2::1/64 -- eth0 (out) .2
 *
 * The out netns has no route back to the pod: it only reports the source
 * address each UDP datagram arrived with.  The machine's own netns is
 * never written.  Without root, or without namespaces, the binary skips (77). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "pod/firewall.h"
#include "base/ip.h"
#include "kernel/netns.h"
#include "kernel/nft.h"
#include "kernel/nl.h"

#define LOOM_TEST_KERNEL
#include "helpers.h"

#define PORT 7777

static const uint8_t POD_MAC[6] = { 0x02, 0x42, 0x0a, 0x01, 0x00, 0x05 };
static const uint8_t OTHER_MAC[6] = { 0x02, 0x42, 0x0a, 0x01, 0x00, 0x99 };

struct fx {
	int host, pod, out; /* netns fds */
	ino_t orig_ns;
	struct loom_prefix ips[2]; /* the pod's, as the plugin would pass them */
	struct loom_fw_pod p;
};

/* ---- namespaces and commands ---- */

/* How often `want` shows in the host's ruleset (as `nft list ruleset`
 * prints it: an independent reader of what loom wrote). */
static int ruleset_count(struct fx *f, const char *want)
{
	_cleanup_free_ char *out = sh_in(f->host, "nft list ruleset");

	return count_of(out, want);
}

/* ---- loom_fw_* inside the host netns ---- */

enum op {
	ADD,
	DEL,
	DEL_DEFERRED,
	PURGE,
	PURGE_DEFERRED
};

struct call {
	enum op op;
	const struct loom_fw_pod *p;
	const char *network, *cid, *ifname; /* PURGE */
	struct loom_nft *pending;           /* DEL_DEFERRED, PURGE_DEFERRED */
	struct loom_err err;
};

static int call_fn(void *arg)
{
	struct call *c = arg;

	switch (c->op) {
	case ADD:
		return loom_fw_add(c->p, &c->err);
	case DEL:
		return loom_fw_del(c->p, &c->err);
	case DEL_DEFERRED:
		return loom_fw_del_deferred(c->p, &c->pending, &c->err);
	case PURGE:
		return loom_fw_purge(c->network, c->cid, c->ifname, &c->err);
	case PURGE_DEFERRED:
		return loom_fw_purge_deferred(c->network, c->cid, c->ifname, &c->pending, &c->err);
	}
	return -1;
}

static int fw_in(int ns, struct call *c)
{
	int r = loom_netns_run_fd(ns, call_fn, c);

	if (r < 0 && c->err.msg[0])
		print_message("loom_fw: %s (%s)\n", c->err.msg, c->err.details);
	return r;
}

static int fw_add(struct fx *f, const struct loom_fw_pod *p)
{
	struct call c = { .op = ADD, .p = p };

	return fw_in(f->host, &c);
}

static int fw_del(struct fx *f, const struct loom_fw_pod *p)
{
	struct call c = { .op = DEL, .p = p };

	return fw_in(f->host, &c);
}

static int fw_purge(struct fx *f, const char *net, const char *cid, const char *ifname)
{
	struct call c = { .op = PURGE, .network = net, .cid = cid, .ifname = ifname };

	return fw_in(f->host, &c);
}

/* ---- fixture ---- */

static int sysctl_fn(void *arg)
{
	(void)arg;
	if (loom_sysctl_write("net/ipv4/ip_forward", "1") < 0)
		return -1;
	return loom_sysctl_write("net/ipv6/conf/all/forwarding", "1");
}

static void add_addr(struct loom_nl *nl, int ifindex, const char *p)
{
	struct loom_prefix a = pfx_of(p);

	assert_int_equal(loom_addr_add(nl, ifindex, &a, LOOM_ADDR_NODAD), 0);
}

static void add_default(struct loom_nl *nl, const char *dst, const char *gw)
{
	struct loom_nl_route r = { .dst = pfx_of(dst) };

	assert_int_equal(loom_ip_parse(gw, &r.gw), 0);
	assert_int_equal(loom_route_add(nl, &r, 0), 0);
}

/* The topology drawn at the top of the file. */
static void build_topology(struct fx *f)
{
	_cleanup_nl_ struct loom_nl *h = NULL, *p = NULL, *o = NULL;
	struct loom_veth_req pod_veth = { .name = "vh0",
					  .peer_name = "eth0",
					  .peer_netns_fd = f->pod,
					  .peer_mac = POD_MAC,
					  .up = true };
	struct loom_veth_req out_veth = {
		.name = "ho0", .peer_name = "eth0", .peer_netns_fd = f->out, .up = true
	};
	struct loom_link br, l;

	assert_int_equal(loom_nl_open_netns(f->host, &h), 0);
	assert_int_equal(loom_nl_open_netns(f->pod, &p), 0);
	assert_int_equal(loom_nl_open_netns(f->out, &o), 0);
	assert_int_equal(loom_netns_run_fd(f->host, sysctl_fn, NULL), 0);

	assert_int_equal(loom_bridge_ensure(h, "br0", NULL, &br), 0);
	add_addr(h, br.ifindex, "10.1.0.1/24");
	add_addr(h, br.ifindex, "fd00:1::1/64");
	pod_veth.master = br.ifindex;
	assert_int_equal(loom_veth_create(h, &pod_veth, NULL), 0);
	assert_int_equal(loom_veth_create(h, &out_veth, &l), 0);
	add_addr(h, l.ifindex, "192.0.2.1/24");
	add_addr(h, l.ifindex, "10.1.200.1/24");
	add_addr(h, l.ifindex, "2001:db8:2::1/64");

	assert_int_equal(loom_link_get(p, "eth0", &l), 0);
	assert_int_equal(loom_link_set_up(p, l.ifindex, true), 0);
	add_addr(p, l.ifindex, "10.1.0.5/24");
	add_addr(p, l.ifindex, "fd00:1::5/64");
	add_default(p, "0.0.0.0/0", "10.1.0.1");
	add_default(p, "::/0", "fd00:1::1");

	assert_int_equal(loom_link_get(o, "eth0", &l), 0);
	assert_int_equal(loom_link_set_up(o, l.ifindex, true), 0);
	add_addr(o, l.ifindex, "192.0.2.2/24");
	add_addr(o, l.ifindex, "10.1.200.2/24");
	add_addr(o, l.ifindex, "2001:db8:2::2/64");
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	open_netns(&f->orig_ns, (int *const[]){ &f->host, &f->pod, &f->out }, 3);
	/* The pod's subnet is a /16 here although its interface says /24:
	 * 10.1.200.0/24 behind the host is then "inside the subnet" and must
	 * not be masqueraded, which the traffic test can tell apart. */
	f->ips[0] = pfx_of("10.1.0.5/16");
	f->ips[1] = pfx_of("fd00:1::5/64");
	f->p = (struct loom_fw_pod){
		.network = "net1",
		.container_id = "0123456789abcdef",
		.ifname = "eth0",
		.host_veth = "vh0",
		.mac = "02:42:0A:01:00:05",
		.n_ips = 2,
		.ips = f->ips,
		.masq = true,
		.spoofchk = true,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close_netns(f->orig_ns, (int[]){ f->host, f->pod, f->out }, 3);
	free(f);
	return 0;
}

static struct fx *fx_of(void **state)
{
	return *state;
}

/* ---- UDP probes ---- */

struct sock_req {
	int family;
	const char *bind_ip; /* NULL: unbound sender */
};

static int sock_fn(void *arg)
{
	struct sock_req *r = arg;
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(r->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || !r->bind_ip)
		return fd < 0 ? -errno : fd;
	if (r->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(PORT);
		inet_pton(AF_INET, r->bind_ip, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(PORT);
		inet_pton(AF_INET6, r->bind_ip, &s->sin6_addr);
		len = sizeof(*s);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* A UDP socket living in netns `ns` (a socket stays in the netns it was
 * made in), bound to bind_ip:PORT when given. */
static int udp_in(int ns, int family, const char *bind_ip)
{
	struct sock_req r = { family, bind_ip };
	int fd = loom_netns_run_fd(ns, sock_fn, &r);

	assert_true(fd >= 0);
	return fd;
}

/* Send from the pod to dst:PORT until the listener hears it (bounded:
 * the first datagrams may wait for ARP/ND, IPv6 ones up to seconds), and
 * return the source address it arrived with; "" when nothing arrived
 * within tries * 100 ms. */
static void probe_n(struct fx *f, int listen_ns, const char *dst, char src[LOOM_IP_STRLEN],
		    int tries)
{
	int family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	_cleanup_close_ int rx = udp_in(listen_ns, family, dst);
	_cleanup_close_ int tx = udp_in(f->pod, family, NULL);
	struct sockaddr_storage to = { 0 }, from;
	socklen_t tolen, fromlen;
	int i;

	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&to;

		s->sin_family = AF_INET;
		s->sin_port = htons(PORT);
		inet_pton(AF_INET, dst, &s->sin_addr);
		tolen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&to;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(PORT);
		inet_pton(AF_INET6, dst, &s->sin6_addr);
		tolen = sizeof(*s);
	}
	src[0] = '\0';
	for (i = 0; i < tries; i++) {
		struct pollfd pfd = { .fd = rx, .events = POLLIN };
		char buf[16];

		sendto(tx, "loom", 4, 0, (struct sockaddr *)&to, tolen);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		fromlen = sizeof(from);
		if (recvfrom(rx, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen) < 0)
			continue;
		if (from.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, src,
				  LOOM_IP_STRLEN);
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, src,
				  LOOM_IP_STRLEN);
		return;
	}
}

static void probe(struct fx *f, int listen_ns, const char *dst, char src[LOOM_IP_STRLEN])
{
	probe_n(f, listen_ns, dst, src, 50);
}

/* ---- ruleset ---- */

static void test_add_writes_elements(void **state)
{
	struct fx *f = fx_of(state);
	static const char *const want[] = {
		"10.1.0.5 comment \"net1/0123456789abcdef/eth0\"",
		"fd00:1::5 comment \"net1/0123456789abcdef/eth0\"",
		"10.1.0.5 . 10.1.0.0/16 comment \"net1/0123456789abcdef/eth0\"",
		"fd00:1::5 . fd00:1::/64 comment \"net1/0123456789abcdef/eth0\"",
		"\"vh0\" comment \"net1/0123456789abcdef/eth0\"",
		"\"vh0\" . 02:42:0a:01:00:05 comment \"net1/0123456789abcdef/eth0\"",
	};
	size_t i;

	assert_int_equal(fw_add(f, &f->p), 0);
	/* a retried ADD succeeds and duplicates nothing */
	assert_int_equal(fw_add(f, &f->p), 0);
	for (i = 0; i < N(want); i++)
		if (ruleset_count(f, want[i]) != 1)
			fail_msg("ruleset should hold `%s` once", want[i]);
	assert_int_equal(ruleset_count(f, "masquerade"), 2); /* one rule per family */
	assert_int_equal(ruleset_count(f, "drop"), 1);
	assert_int_equal(ruleset_count(f, "ip daddr != 224.0.0.0/4"), 1);
	assert_int_equal(ruleset_count(f, "ip6 daddr != ff00::/8"), 1);
	/* the machine's own netns and the pod's saw nothing */
	{
		_cleanup_free_ char *pod = sh_in(f->pod, "nft list ruleset");

		assert_int_equal(count_of(pod, "loom_bridge"), 0);
	}
}

/* Only what the pod asked for: no masq, no spoofchk, no table. */
static void test_add_features(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_fw_pod p = f->p;

	p.masq = false;
	assert_int_equal(fw_add(f, &p), 0);
	assert_int_equal(ruleset_count(f, "table inet loom_bridge"), 0);
	assert_int_equal(ruleset_count(f, "table bridge loom_bridge"), 1);
	p.masq = true;
	p.spoofchk = false;
	p.container_id = "c2";
	p.ips = &f->ips[1];
	p.n_ips = 1;
	assert_int_equal(fw_add(f, &p), 0);
	assert_int_equal(ruleset_count(f, "table inet loom_bridge"), 1);
	assert_int_equal(ruleset_count(f, "net1/c2/eth0"), 2); /* masq6 and local6 */
	assert_int_equal(ruleset_count(f, "10.1.0.5"), 0);
	/* both, with both tables there: the rules stay single */
	p.spoofchk = true;
	p.container_id = "c3";
	p.host_veth = "vh3";
	p.ips = &f->ips[0];
	assert_int_equal(fw_add(f, &p), 0);
	assert_int_equal(ruleset_count(f, "net1/c3/eth0"), 4);
	assert_int_equal(ruleset_count(f, "masquerade"), 2);
	assert_int_equal(ruleset_count(f, "drop"), 1);
}

static int nft_drop_fn(void *family)
{
	char cmd[64];
	struct loom_err err;

	snprintf(cmd, sizeof(cmd), "delete table %s loom_bridge", (const char *)family);
	return loom_nft_exec(0, cmd, NULL, &err);
}

/* The first pod with both features after pods with one: the missing
 * table is made, the existing one keeps its elements and single rules. */
static void test_add_second_table(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_fw_pod one = f->p;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct loom_prefix ip = pfx_of(i ? "10.1.0.8/16" : "10.1.0.7/16");
		struct loom_fw_pod both = f->p;

		one.masq = i == 0;
		one.spoofchk = i == 1;
		one.container_id = i ? "one1" : "one0";
		one.network = i ? "netb" : "neta";
		both.network = one.network;
		both.container_id = i ? "both1" : "both0";
		both.host_veth = i ? "vh9" : "vh8";
		both.ips = &ip;
		both.n_ips = 1;
		assert_int_equal(fw_add(f, &one), 0);
		assert_int_equal(fw_add(f, &both), 0);
		assert_int_equal(ruleset_count(f, i ? "netb/one1/eth0" : "neta/one0/eth0"),
				 i ? 2 : 4);
		assert_int_equal(ruleset_count(f, i ? "netb/both1/eth0" : "neta/both0/eth0"), 4);
		assert_int_equal(ruleset_count(f, "masquerade"), 2);
		assert_int_equal(ruleset_count(f, "drop"), 1);
		assert_int_equal(fw_del(f, &both), 0);
		assert_int_equal(fw_del(f, &one), 0);
		assert_int_equal(ruleset_count(f, "comment"), 0);
		/* next round starts from the other table alone */
		assert_int_equal(loom_netns_run_fd(f->host, nft_drop_fn,
						   (void *)(i ? "bridge" : "inet")),
				 0);
	}
}

static void test_bad_input(void **state)
{
	struct fx *f = fx_of(state);
	struct {
		const char *what;
		struct loom_fw_pod p;
	} cases[] = {
		{ "mac", f->p },           { "mac missing", f->p },
		{ "quote in veth", f->p }, { "space in container id", f->p },
		{ "long veth", f->p },     { "no network", f->p },
	};
	size_t i;

	cases[0].p.mac = "02:42:0a:01:00";
	cases[1].p.mac = NULL;
	cases[2].p.host_veth = "vh\"0";
	cases[3].p.container_id = "abc def";
	cases[4].p.host_veth = "veth0123456789abc";
	cases[5].p.network = "";
	for (i = 0; i < N(cases); i++) {
		struct call c = { .op = ADD, .p = &cases[i].p };

		if (loom_netns_run_fd(f->host, call_fn, &c) != -1 ||
		    c.err.code != LOOM_ERR_INVALID_CONFIG)
			fail_msg("%s: accepted (%s)", cases[i].what, c.err.msg);
	}
	assert_int_equal(ruleset_count(f, "loom_bridge"), 0);
}

/* A second pod like f's own: another container, host veth and address. */
static struct loom_fw_pod other_pod(const struct loom_fw_pod *like, const char *container_id,
				    const char *host_veth, const struct loom_prefix *ip)
{
	struct loom_fw_pod p = *like;

	p.container_id = container_id;
	p.host_veth = host_veth;
	p.ips = ip;
	p.n_ips = 1;
	return p;
}

static void test_del(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_prefix other_ip = pfx_of("10.1.0.6/16");
	struct loom_fw_pod other = other_pod(&f->p, "other", "vh1", &other_ip);

	/* nothing there yet: DEL succeeds (and creates nothing it needs not) */
	assert_int_equal(fw_del(f, &f->p), 0);

	other.mac = "02:42:0a:01:00:06";
	assert_int_equal(fw_add(f, &f->p), 0);
	assert_int_equal(fw_add(f, &other), 0);
	/* the veth vh0 never existed in this test, and no pod netns is
	 * involved: DEL works from names and addresses alone */
	assert_int_equal(fw_del(f, &f->p), 0);
	assert_int_equal(ruleset_count(f, "0123456789abcdef"), 0);
	assert_int_equal(ruleset_count(f, "10.1.0.5"), 0);
	assert_int_equal(ruleset_count(f, "\"vh0\""), 0);
	assert_int_equal(ruleset_count(f, "net1/other/eth0"), 4); /* the neighbour keeps its own */
	/* tables and rules stay for the next pod */
	assert_int_equal(ruleset_count(f, "masquerade"), 2);
	assert_int_equal(fw_del(f, &f->p), 0); /* twice */

	/* deferred: the rules are gone before the context is freed */
	{
		struct call c = { .op = DEL_DEFERRED, .p = &other };

		assert_int_equal(fw_in(f->host, &c), 0);
		assert_non_null(c.pending);
		assert_int_equal(ruleset_count(f, "net1/other/eth0"), 0);
		loom_nft_free(c.pending);
	}
	/* a record without the MAC still removes the MAC pair (by comment) */
	assert_int_equal(fw_add(f, &f->p), 0);
	{
		struct loom_fw_pod nomac = f->p;

		nomac.mac = NULL;
		assert_int_equal(fw_del(f, &nomac), 0);
		assert_int_equal(ruleset_count(f, "0123456789abcdef"), 0);
	}
}

static void test_purge(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_prefix b_ip = pfx_of("10.1.0.7/16");
	struct loom_fw_pod b = other_pod(&f->p, "bbbb", "vh7", &b_ip), longp = f->p;
	char longnet[200], longtag[200];

	/* nothing there: fine */
	assert_int_equal(fw_purge(f, "net1", "0123456789abcdef", "eth0"), 0);

	assert_int_equal(fw_add(f, &f->p), 0);
	assert_int_equal(fw_add(f, &b), 0);
	assert_int_equal(fw_purge(f, "net1", "0123456789abcdef", "eth0"), 0);
	assert_int_equal(ruleset_count(f, "net1/0123456789abcdef/eth0"), 0);
	assert_int_equal(ruleset_count(f, "net1/bbbb/eth0"), 4);
	/* same container on another network or interface: not ours to touch */
	assert_int_equal(fw_purge(f, "net2", "bbbb", "eth0"), 0);
	assert_int_equal(fw_purge(f, "net1", "bbbb", "eth1"), 0);
	assert_int_equal(ruleset_count(f, "net1/bbbb/eth0"), 4);
	/* deferred: gone before the context is freed; no context handed
	 * back when there was nothing to delete */
	{
		struct call c = {
			.op = PURGE_DEFERRED, .network = "net1", .cid = "bbbb", .ifname = "eth0"
		};

		assert_int_equal(fw_in(f->host, &c), 0);
		assert_non_null(c.pending);
		assert_int_equal(ruleset_count(f, "comment \"net1"), 0);
		loom_nft_free(c.pending);
		c.pending = NULL;
		assert_int_equal(fw_in(f->host, &c), 0);
		assert_null(c.pending);
	}
	assert_int_equal(fw_purge(f, "net1", "bbbb", "eth0"), 0);
	assert_int_equal(ruleset_count(f, "comment \"net1"), 0);

	/* names too long for an nft comment are shortened the same way by
	 * ADD and purge */
	memset(longnet, 'n', sizeof(longnet) - 1);
	longnet[sizeof(longnet) - 1] = '\0';
	longp.network = longnet;
	longp.container_id = "4c1ee9e5b2a3f0c7d8e9f00112233445566778899aabbccddeeff00112233445";
	assert_int_equal(fw_add(f, &longp), 0);
	snprintf(longtag, sizeof(longtag), "%.60s", longnet);
	assert_int_equal(ruleset_count(f, longtag), 6);
	assert_int_equal(fw_purge(f, longnet, longp.container_id, "eth0"), 0);
	assert_int_equal(ruleset_count(f, longtag), 0);
}

/* loom never reads or writes a table that is not its own. */
static void test_other_tables_untouched(void **state)
{
	struct fx *f = fx_of(state);
	_cleanup_free_ char *before = NULL, *after = NULL, *r = NULL;

	r = sh_in(
		f->host,
		"nft 'add table inet user; add set inet user s { type ipv4_addr; elements = { 10.1.0.5 } }; "
		"add chain inet user c { type nat hook postrouting priority 50; }; "
		"add rule inet user c ip saddr @s counter; add table bridge user; "
		"add chain bridge user c { type filter hook prerouting priority 0; }; "
		"add rule bridge user c counter accept'");
	assert_string_equal(r, "");
	before = sh_in(f->host, "nft list table inet user; nft list table bridge user");
	assert_int_equal(fw_add(f, &f->p), 0);
	assert_int_equal(fw_del(f, &f->p), 0);
	assert_int_equal(fw_add(f, &f->p), 0);
	assert_int_equal(fw_purge(f, "net1", "0123456789abcdef", "eth0"), 0);
	after = sh_in(f->host, "nft list table inet user; nft list table bridge user");
	assert_string_equal(before, after);
}

/* Many ADDs at once on a host without loom's tables: all succeed, each
 * chain holds its rule once, every pod's elements are there. */
static void test_concurrent_add(void **state)
{
	struct fx *f = fx_of(state);
	enum {
		KIDS = 8
	};
	pid_t pids[KIDS];
	int i, status, ok = 0;
	char tag[64];

	for (i = 0; i < KIDS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char cid[16], veth[16], ip[32], mac[18];
			struct loom_prefix pf;
			struct loom_fw_pod p = f->p;
			struct call c = { .op = ADD, .p = &p };

			snprintf(cid, sizeof(cid), "kid%d", i);
			snprintf(veth, sizeof(veth), "vk%d", i);
			snprintf(ip, sizeof(ip), "10.1.1.%d/16", i + 1);
			snprintf(mac, sizeof(mac), "02:00:00:00:00:%02x", i & 0xff);
			if (loom_prefix_parse(ip, &pf) < 0)
				_exit(3);
			p.container_id = cid;
			p.host_veth = veth;
			p.mac = mac;
			p.ips = &pf;
			p.n_ips = 1;
			_exit(loom_netns_run_fd(f->host, call_fn, &c) == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < KIDS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	}
	assert_int_equal(ok, KIDS);
	assert_int_equal(ruleset_count(f, "masquerade"), 2);
	assert_int_equal(ruleset_count(f, "drop"), 1);
	for (i = 0; i < KIDS; i++) {
		snprintf(tag, sizeof(tag), "\"net1/kid%d/eth0\"", i);
		assert_int_equal(ruleset_count(f, tag), 4);
	}
}

/* ---- traffic ---- */

struct masq_case {
	const char *dst, *listen_src_masq, *listen_src_plain;
};

/* Probe each case's destination from the pod: the source it sees is the
 * case's masqueraded one (masq) or the pod's own; `when` names the step. */
static void expect_sources(struct fx *f, const struct masq_case *cases, size_t n, bool masq,
			   const char *when)
{
	char src[LOOM_IP_STRLEN];

	for (size_t i = 0; i < n; i++) {
		const char *want = masq ? cases[i].listen_src_masq : cases[i].listen_src_plain;

		probe(f, f->out, cases[i].dst, src);
		if (strcmp(src, want) != 0)
			fail_msg("%s, to %s: source \"%s\", want %s", when, cases[i].dst, src,
				 want);
	}
}

static void test_masquerade(void **state)
{
	struct fx *f = fx_of(state);
	static const struct masq_case cases[] = {
		{ "192.0.2.2", "192.0.2.1", "10.1.0.5" }, /* outside: the host's address */
		{ "10.1.200.2", "10.1.0.5", "10.1.0.5" }, /* inside the pod's /16: kept */
		{ "2001:db8:2::2", "2001:db8:2::1", "fd00:1::5" },
	};

	build_topology(f);
	/* no rules yet: the pod's own address leaves */
	expect_sources(f, cases, N(cases), false, "without ipMasq");
	assert_int_equal(fw_add(f, &f->p), 0);
	expect_sources(f, cases, N(cases), true, "with ipMasq");
	/* masq off for this pod (spoofchk alone): its address again */
	assert_int_equal(fw_del(f, &f->p), 0);
	f->p.masq = false;
	assert_int_equal(fw_add(f, &f->p), 0);
	expect_sources(f, cases, N(cases), false, "ipMasq off for the pod");
}

/* Exempt prefixes (loom-vxlan's cluster CIDR): not masqueraded to, and
 * never an element overlapping the pod subnet's (the kernel refuses those
 * in a concatenated interval set). */
static void test_masq_exempt(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_prefix ex[] = { pfx_of("192.0.2.0/24"), pfx_of("10.1.5.0/24"),
				    pfx_of("2001:db8::/32") };
	char src[LOOM_IP_STRLEN];

	build_topology(f);
	f->p.exempt = ex;
	f->p.n_exempt = N(ex);
	assert_int_equal(fw_add(f, &f->p), 0);
	assert_int_equal(fw_add(f, &f->p), 0); /* retried */
	assert_int_equal(ruleset_count(f, "10.1.0.5 . 10.1.0.0/16 comment"), 1);
	assert_int_equal(ruleset_count(f, "10.1.0.5 . 192.0.2.0/24 comment"), 1);
	assert_int_equal(ruleset_count(f, "10.1.5.0/24"), 0); /* inside the subnet: covered */
	assert_int_equal(ruleset_count(f, "fd00:1::5 . 2001:db8::/32 comment"), 1);
	probe(f, f->out, "192.0.2.2", src);
	assert_string_equal(src, "10.1.0.5");
	probe(f, f->out, "2001:db8:2::2", src);
	assert_string_equal(src, "fd00:1::5");
	assert_int_equal(fw_del(f, &f->p), 0);
	assert_int_equal(ruleset_count(f, "10.1.0.5"), 0);
	assert_int_equal(ruleset_count(f, "fd00:1::5"), 0);

	/* a prefix covering the subnet replaces the subnet's element */
	ex[0] = pfx_of("10.0.0.0/8");
	f->p.n_exempt = 1;
	assert_int_equal(fw_add(f, &f->p), 0);
	assert_int_equal(ruleset_count(f, "10.1.0.5 . 10.0.0.0/8 comment"), 1);
	assert_int_equal(ruleset_count(f, "10.1.0.5 . 10.1.0.0/16"), 0);
	probe(f, f->out, "10.1.200.2", src);
	assert_string_equal(src, "10.1.0.5");
	probe(f, f->out, "192.0.2.2", src);
	assert_string_equal(src, "192.0.2.1"); /* still masqueraded */
	assert_int_equal(fw_del(f, &f->p), 0);
	assert_int_equal(ruleset_count(f, "10.1.0.5"), 0);

	/* host bits set: refused before nftables sees it */
	ex[0] = pfx_of("10.1.0.5/8");
	{
		struct call c = { .op = ADD, .p = &f->p };

		assert_int_equal(fw_in(f->host, &c), -1);
		assert_int_equal(c.err.code, LOOM_ERR_INTERNAL);
	}
}

static long drop_counter(struct fx *f)
{
	_cleanup_free_ char *out = sh_in(f->host, "nft list chain bridge loom_bridge prerouting");
	const char *s = strstr(out, "counter packets ");

	assert_non_null(s);
	return strtol(s + 16, NULL, 10);
}

static void test_spoofchk(void **state)
{
	struct fx *f = fx_of(state);
	_cleanup_nl_ struct loom_nl *p = NULL;
	struct loom_link l;
	char src[LOOM_IP_STRLEN];
	long before;

	build_topology(f);
	assert_int_equal(loom_nl_open_netns(f->pod, &p), 0);
	assert_int_equal(loom_link_get(p, "eth0", &l), 0);
	assert_int_equal(fw_add(f, &f->p), 0);

	/* the pod's own MAC passes */
	probe(f, f->host, "10.1.0.1", src);
	assert_string_equal(src, "10.1.0.5");
	before = drop_counter(f);

	/* another source MAC is dropped at the bridge, and counted */
	assert_int_equal(loom_link_set_mac(p, l.ifindex, OTHER_MAC), 0);
	probe_n(f, f->host, "10.1.0.1", src, 5); /* ARP is resolved: it would pass at once */
	assert_string_equal(src, "");
	assert_true(drop_counter(f) > before);

	/* the right MAC again: through */
	assert_int_equal(loom_link_set_mac(p, l.ifindex, POD_MAC), 0);
	probe(f, f->host, "10.1.0.1", src);
	assert_string_equal(src, "10.1.0.5");

	/* after DEL the check is gone: any MAC passes */
	assert_int_equal(fw_del(f, &f->p), 0);
	assert_int_equal(loom_link_set_mac(p, l.ifindex, OTHER_MAC), 0);
	probe(f, f->host, "10.1.0.1", src);
	assert_string_equal(src, "10.1.0.5");
}

/* ---- lib/nft ---- */

static int nft_new_fn(void *arg)
{
	return loom_nft_new(0, arg, NULL);
}

struct json_run {
	const char *batch;
	char *out;
	struct loom_err err;
};

static int nft_json_fn(void *arg)
{
	struct json_run *j = arg;

	return loom_nft_exec(LOOM_NFT_JSON, j->batch, &j->out, &j->err);
}

/* A context acts on the netns it was created in, wherever the thread is
 * when it runs; errors come back as text a person can read. */
static void test_nft_wrapper(void **state)
{
	struct fx *f = fx_of(state);
	_cleanup_nft_ struct loom_nft *n = NULL;
	_cleanup_free_ char *out = NULL;
	struct json_run j = {
		.batch =
			"{\"nftables\": [{\"add\": {\"table\": {\"family\": \"inet\", \"name\": \"j\"}}}]}"
	};
	struct loom_err err;

	assert_int_equal(loom_netns_run_fd(f->pod, nft_new_fn, &n), 0);
	/* the thread is back in its own netns: the table still lands in the pod's */
	assert_int_equal(loom_nft_run(n, "add table inet probe", &err), 0);
	out = sh_in(f->pod, "nft list tables");
	assert_non_null(strstr(out, "table inet probe"));
	free(out);
	out = sh_in(f->host, "nft list tables");
	assert_null(strstr(out, "probe"));
	free(out);

	/* the kernel refuses the last command: the error names it, and the
	 * batch is all or nothing */
	assert_int_equal(
		loom_nft_run(n,
			     "add table inet probe2; add set inet probe2 s { type ipv4_addr; }; "
			     "delete element inet probe2 s { 10.0.0.1 }",
			     &err),
		-1);
	assert_int_equal(err.code, LOOM_ERR_INTERNAL);
	assert_string_equal(err.msg, "nftables: Could not process rule: No such file or directory");
	if (!strstr(err.details, "delete element inet probe2 s { 10.0.0.1 }\n") ||
	    !strstr(err.details, "   ^^^^^^^^\n")) /* a caret under the element */
		fail_msg("details: %s", err.details);
	out = sh_in(f->pod, "nft list tables");
	assert_null(strstr(out, "probe2"));
	/* refused before anything is sent */
	assert_int_equal(loom_nft_run(n, "add element inet nosuch s { 10.0.0.1 }", &err), -1);
	assert_string_equal(err.msg, "nftables: No such file or directory");
	assert_int_equal(loom_nft_run(n, "add table inet probe2 x", &err), -1);
	assert_non_null(strstr(err.msg, "syntax error"));
	/* list output is captured, not printed */
	assert_int_equal(loom_nft_run(n, "list tables", &err), 0);
	assert_non_null(strstr(loom_nft_output(n), "table inet probe"));

	/* JSON in, JSON out, in the calling thread's netns */
	assert_int_equal(loom_netns_run_fd(f->host, nft_json_fn, &j), 0);
	free(j.out);
	j.batch = "{\"nftables\": [{\"list\": {\"tables\": null}}]}";
	assert_int_equal(loom_netns_run_fd(f->host, nft_json_fn, &j), 0);
	assert_non_null(strstr(j.out, "\"table\": {\"family\": \"inet\", \"name\": \"j\""));
	free(j.out);
	j.batch =
		"{\"nftables\": [{\"add\": {\"chain\": {\"family\": \"inet\", \"table\": \"nosuch\", \"name\": \"c\"}}}]}";
	assert_int_equal(loom_netns_run_fd(f->host, nft_json_fn, &j), -1);
	assert_null(j.out);
	assert_true(strncmp(j.err.msg, "nftables: ", 10) == 0);
}

/* Without libnftables (loaded at run time), a pod that needs a rule gets
 * an error saying what to install; one that needs none is unaffected, and
 * the library is found again once it is there. */
static void test_missing_library(void **state)
{
	struct fx *f = fx_of(state);
	struct loom_fw_pod none = f->p;
	struct call c = { .op = ADD, .p = &f->p };
	struct loom_err err;

	loom_nft_set_library("libloom-test-no-such-nftables.so.1");
	assert_int_equal(loom_netns_run_fd(f->host, call_fn, &c), -1);
	assert_int_equal(c.err.code, LOOM_ERR_INTERNAL);
	if (!strstr(c.err.msg,
		    "ipMasq/macspoofchk: nftables: libloom-test-no-such-nftables.so.1 not found: "
		    "install the nftables package"))
		fail_msg("msg: %s", c.err.msg);
	assert_non_null(
		strstr(c.err.details, "libloom-test-no-such-nftables.so.1")); /* dlerror() */
	assert_int_equal(loom_nft_exec(0, "list tables", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "not found"));
	none.masq = none.spoofchk = false;
	assert_int_equal(fw_add(f, &none), 0);
	assert_int_equal(fw_del(f, &none), 0);

	loom_nft_set_library(NULL);
	assert_int_equal(fw_add(f, &f->p), 0);
	assert_int_equal(ruleset_count(f, "net1/0123456789abcdef/eth0"), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST_ST(test_add_writes_elements),
		TEST_ST(test_add_features),
		TEST_ST(test_add_second_table),
		TEST_ST(test_bad_input),
		TEST_ST(test_del),
		TEST_ST(test_purge),
		TEST_ST(test_other_tables_untouched),
		TEST_ST(test_concurrent_add),
		TEST_ST(test_masquerade),
		TEST_ST(test_masq_exempt),
		TEST_ST(test_spoofchk),
		TEST_ST(test_nft_wrapper),
		TEST_ST(test_missing_library),
	};

	return run_kernel_tests(tests);
}
