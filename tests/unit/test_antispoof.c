/* The anti-spoofing BPF program (bpf/antispoof.bpf.c) through the kernel's
 * verifier and BPF_PROG_TEST_RUN: crafted frames from a pod with MAC
 * 02:00:00:00:00:05, 10.1.0.5 and fd00:1::5, each passed or dropped, and the
 * counters that say why.  A private, unpinned instance keyed by the
 * loopback's ifindex (the device test runs use); nothing is pinned or
 * attached.  Without root or BPF the binary skips (77). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/pkt_cls.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "kernel/bpf_antispoof.h"

#define LO_IFINDEX 1
#include "helpers.h"

static const uint8_t POD_MAC[6] = { 0x02, 0, 0, 0, 0, 0x05 };
static const uint8_t OTHER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x06 };

enum kind {
	IP4_UDP,
	IP6_UDP,
	ARP,
	ICMP6,
	MLD,
	VLAN
};

struct pkt_case {
	const char *name;
	enum kind kind;
	const uint8_t *src_mac;
	const char *src, *dst; /* IP addresses (ARP: sender, target) */
	uint16_t sport, dport; /* UDP */
	uint8_t icmp6_type;    /* ICMP6 */
	const char *nd_target; /* ICMP6 NS/NA target */
	int verdict;           /* TC_ACT_OK or TC_ACT_SHOT */
	int reason;            /* drop counter that rises, -1 when passed */
};

static const struct pkt_case cases[] = {
	{ "own IPv4", IP4_UDP, POD_MAC, "10.1.0.5", "10.1.0.7", 1000, 2000, 0, NULL, TC_ACT_OK,
	  -1 },
	{ "own IPv6", IP6_UDP, POD_MAC, "fd00:1::5", "fd00:1::7", 1000, 2000, 0, NULL, TC_ACT_OK,
	  -1 },
	{ "forged IPv4 source", IP4_UDP, POD_MAC, "10.1.0.6", "10.1.0.7", 1000, 2000, 0, NULL,
	  TC_ACT_SHOT, LOOM_ANTISPOOF_DROP_IP4 },
	{ "forged IPv6 source", IP6_UDP, POD_MAC, "fd00:1::6", "fd00:1::7", 1000, 2000, 0, NULL,
	  TC_ACT_SHOT, LOOM_ANTISPOOF_DROP_IP6 },
	{ "forged ARP sender IP", ARP, POD_MAC, "10.1.0.6", "10.1.0.7", 0, 0, 0, NULL, TC_ACT_SHOT,
	  LOOM_ANTISPOOF_DROP_ARP },
	{ "own ARP", ARP, POD_MAC, "10.1.0.5", "10.1.0.7", 0, 0, 0, NULL, TC_ACT_OK, -1 },
	{ "ARP probe from 0.0.0.0", ARP, POD_MAC, "0.0.0.0", "10.1.0.5", 0, 0, 0, NULL, TC_ACT_OK,
	  -1 },
	{ "forged Ethernet source", IP4_UDP, OTHER_MAC, "10.1.0.5", "10.1.0.7", 1000, 2000, 0, NULL,
	  TC_ACT_SHOT, LOOM_ANTISPOOF_DROP_MAC },
	{ "DHCP discover", IP4_UDP, POD_MAC, "0.0.0.0", "255.255.255.255", 68, 67, 0, NULL,
	  TC_ACT_OK, -1 },
	{ "0.0.0.0 but not DHCP", IP4_UDP, POD_MAC, "0.0.0.0", "255.255.255.255", 68, 53, 0, NULL,
	  TC_ACT_SHOT, LOOM_ANTISPOOF_DROP_IP4 },
	{ "NS from link-local", ICMP6, POD_MAC, "fe80::5", "ff02::1:ff00:7", 0, 0, 135, "fd00:1::7",
	  TC_ACT_OK, -1 },
	{ "DAD NS from ::", ICMP6, POD_MAC, "::", "ff02::1:ff00:5", 0, 0, 135, "fd00:1::5",
	  TC_ACT_OK, -1 },
	{ "RS from link-local", ICMP6, POD_MAC, "fe80::5", "ff02::2", 0, 0, 133, NULL, TC_ACT_OK,
	  -1 },
	{ "NA for own address", ICMP6, POD_MAC, "fe80::5", "ff02::1", 0, 0, 136, "fd00:1::5",
	  TC_ACT_OK, -1 },
	{ "NA claiming another address", ICMP6, POD_MAC, "fe80::5", "ff02::1", 0, 0, 136,
	  "fd00:1::6", TC_ACT_SHOT, LOOM_ANTISPOOF_DROP_ND },
	{ "ICMPv6 from a forged global", ICMP6, POD_MAC, "fd00:1::6", "fd00:1::7", 0, 0, 128, NULL,
	  TC_ACT_SHOT, LOOM_ANTISPOOF_DROP_IP6 },
	{ "MLD report from :: (hop-by-hop)", MLD, POD_MAC, "::", "ff02::16", 0, 0, 143, NULL,
	  TC_ACT_OK, -1 },
	{ "hop-by-hop from a forged global", MLD, POD_MAC, "fd00:1::6", "ff02::16", 0, 0, 143, NULL,
	  TC_ACT_SHOT, LOOM_ANTISPOOF_DROP_IP6 },
	{ "VLAN-tagged frame", VLAN, POD_MAC, "10.1.0.5", "10.1.0.7", 0, 0, 0, NULL, TC_ACT_SHOT,
	  LOOM_ANTISPOOF_DROP_PROTO },
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void ip6(const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static void ip4(const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(AF_INET, s, out), 1);
}

/* The frame of a case into buf; its length. */
static size_t build(const struct pkt_case *c, uint8_t *buf)
{
	uint8_t *p = buf + 14;
	size_t len = 14;

	memset(buf, 0, 128);
	memset(buf, 0xff, 6);
	memcpy(buf + 6, c->src_mac, 6);
	switch (c->kind) {
	case VLAN:
		put16(buf + 12, 0x8100);
		put16(buf + 14, 7);
		put16(buf + 16, 0x0800);
		return 64;
	case ARP:
		put16(buf + 12, 0x0806);
		put16(p, 1);
		put16(p + 2, 0x0800);
		p[4] = 6;
		p[5] = 4;
		put16(p + 6, 1);
		memcpy(p + 8, c->src_mac, 6);
		ip4(c->src, p + 14);
		ip4(c->dst, p + 24);
		return len + 28;
	case IP4_UDP:
		put16(buf + 12, 0x0800);
		p[0] = 0x45;
		put16(p + 2, 28);
		p[8] = 64;
		p[9] = 17;
		ip4(c->src, p + 12);
		ip4(c->dst, p + 16);
		put16(p + 20, c->sport);
		put16(p + 22, c->dport);
		put16(p + 24, 8);
		return len + 28;
	case MLD:
		put16(buf + 12, 0x86dd);
		p[0] = 0x60;
		put16(p + 4, 8 + 28);
		p[6] = 0; /* hop-by-hop: router alert */
		p[7] = 1;
		ip6(c->src, p + 8);
		ip6(c->dst, p + 24);
		p[40] = 58;
		p[42] = 5;
		p[43] = 2;
		p[48] = c->icmp6_type;
		return len + 40 + 8 + 28;
	case IP6_UDP:
	case ICMP6:
		put16(buf + 12, 0x86dd);
		p[0] = 0x60;
		put16(p + 4, c->kind == ICMP6 ? 24 : 8);
		p[6] = c->kind == ICMP6 ? 58 : 17;
		p[7] = 255;
		ip6(c->src, p + 8);
		ip6(c->dst, p + 24);
		if (c->kind == IP6_UDP) {
			put16(p + 40, c->sport);
			put16(p + 42, c->dport);
			put16(p + 44, 8);
			return len + 48;
		}
		p[40] = c->icmp6_type;
		if (c->nd_target)
			ip6(c->nd_target, p + 48);
		return len + 64;
	}
	return len;
}

struct fixture {
	struct loom_antispoof *as;
};

static int setup(void **state)
{
	static struct fixture f;
	static struct loom_prefix ips[2];
	struct loom_antispoof_pod pod = { .ifindex = LO_IFINDEX, .n_ips = 2, .ips = ips };
	struct loom_err err;

	memset(&f, 0, sizeof(f));
	loom_err_clear(&err);
	assert_int_equal(loom_prefix_parse("10.1.0.5/24", &ips[0]), 0);
	assert_int_equal(loom_prefix_parse("fd00:1::5/64", &ips[1]), 0);
	memcpy(pod.mac, POD_MAC, 6);
	assert_int_equal(loom_antispoof_open_private(&f.as, &err), 0);
	assert_int_equal(loom_antispoof_set(f.as, &pod, &err), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f)
		loom_antispoof_close(f->as);
	return 0;
}

static int run(struct loom_antispoof *as, const uint8_t *pkt, size_t len)
{
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(loom_antispoof_prog_fd(as), &o), 0);
	return (int)o.retval;
}

static const struct loom_antispoof_stats *lo_stats(struct loom_antispoof *as,
						   struct loom_antispoof_stats **v)
{
	struct loom_err err;
	size_t n = 0, i;

	assert_int_equal(loom_antispoof_stats(as, v, &n, &err), 0);
	for (i = 0; i < n; i++)
		if ((*v)[i].ifindex == LO_IFINDEX)
			return &(*v)[i];
	fail_msg("no counters for ifindex %d", LO_IFINDEX);
	return NULL;
}

static void test_verdicts_and_counters(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < N(cases); i++) {
		const struct pkt_case *c = &cases[i];
		struct loom_antispoof_stats *before = NULL, *after = NULL;
		const struct loom_antispoof_stats *b, *a;
		uint8_t pkt[128];
		size_t len = build(c, pkt);
		int got, d;

		b = lo_stats(f->as, &before);
		got = run(f->as, pkt, len);
		a = lo_stats(f->as, &after);
		if (got != c->verdict)
			fail_msg("%s: verdict %d, want %d (%s)", c->name, got, c->verdict,
				 c->verdict == TC_ACT_OK ? "pass" : "drop");
		for (d = 0; d < LOOM_ANTISPOOF_DROP_MAX; d++)
			if (a->drop[d] != b->drop[d] + (d == c->reason))
				fail_msg("%s: drop counter %s went %llu -> %llu", c->name,
					 loom_antispoof_drop_name(d),
					 (unsigned long long)b->drop[d],
					 (unsigned long long)a->drop[d]);
		assert_int_equal(a->pass_packets, b->pass_packets + (c->reason < 0));
		if (c->reason < 0)
			assert_int_equal(a->pass_bytes, b->pass_bytes + len);
		free(before);
		free(after);
	}
}

/* An interface without an element (a DEL half done, a race with ADD):
 * nothing passes. */
static void test_no_entry_drops(void **state)
{
	struct fixture *f = *state;
	uint8_t pkt[128];
	size_t len;

	len = build(&cases[0], pkt);
	assert_int_equal(run(f->as, pkt, len), TC_ACT_OK);
	assert_int_equal(loom_antispoof_forget(f->as, LO_IFINDEX), 0);
	assert_int_equal(run(f->as, pkt, len), TC_ACT_SHOT);
	assert_int_equal(loom_antispoof_forget(f->as, LO_IFINDEX), 0); /* twice is fine */
}

/* A kernel without bpf(2), simulated with seccomp in a child: the error
 * says what is missing and how to run without it. */
static void test_no_bpf_kernel(void **state)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = N(insns), .filter = insns };
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct loom_antispoof *as = NULL;
		struct loom_err err;

		loom_err_clear(&err);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(3);
		if (loom_antispoof_open_private(&as, &err) == 0)
			_exit(4);
		if (!strstr(err.msg, "no BPF support") ||
		    !strstr(err.msg, "\"antiSpoof\": false")) {
			fprintf(stderr, "unexpected message: %s\n", err.msg);
			_exit(5);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts_and_counters),
		cmocka_unit_test(test_no_entry_drops),
		cmocka_unit_test(test_no_bpf_kernel),
	};

	struct loom_antispoof *as = NULL;
	struct loom_err err;

	loom_err_clear(&err);
	if (getuid() != 0 || loom_antispoof_open_private(&as, &err) < 0) {
		printf("SKIP: cannot load the BPF program (%s)\n", getuid() ? "not root" : err.msg);
		return LOOM_TEST_SKIP_RC;
	}
	loom_antispoof_close(as);
	return cmocka_run_group_tests(tests, setup, teardown);
}
