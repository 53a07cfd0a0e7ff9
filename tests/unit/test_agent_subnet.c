/* loomd's pure parts around the pod subnet: carving the cluster CIDR into
 * node blocks, the subnet keys, the lease file text and the pod MTU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct loom_prefix pfx(const char *s)
{
	struct loom_prefix p;

	assert_int_equal(loom_prefix_parse(s, &p), 0);
	return p;
}

static void test_count(void **state)
{
	static const struct {
		const char *cidr;
		int len;
		uint64_t want;
	} t[] = {
		{ "10.244.0.0/16", 24, 256 },
		{ "10.0.0.0/24", 25, 2 },
		{ "10.0.0.0/24", 24, 1 },
		{ "10.0.0.0/24", 23, 0 }, /* block bigger than the cidr */
		{ "10.0.0.0/24", 33, 0 },
		{ "0.0.0.0/0", 32, 1ull << 32 },
		{ "fd00::/56", 64, 256 },
		{ "fd00::/48", 128, UINT64_MAX }, /* saturates */
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		struct loom_prefix c = pfx(t[i].cidr);

		assert_true(loomd_subnet_count(&c, t[i].len) == t[i].want);
	}
}

static void test_nth(void **state)
{
	static const struct {
		const char *cidr;
		int len;
		uint64_t i;
		const char *want;
	} t[] = {
		{ "10.244.0.0/16", 24, 0, "10.244.0.0/24" },
		{ "10.244.0.0/16", 24, 3, "10.244.3.0/24" },
		{ "10.244.0.0/16", 24, 255, "10.244.255.0/24" },
		{ "10.0.0.0/24", 25, 1, "10.0.0.128/25" },
		{ "10.0.0.0/8", 26, 5, "10.0.1.64/26" }, /* crosses a byte boundary */
		{ "10.0.0.0/8", 30, 0x3ffff, "10.15.255.252/30" },
		{ "10.1.2.3/16", 24, 1, "10.1.1.0/24" }, /* host bits of the cidr ignored */
		{ "fd00:10:244::/56", 64, 0, "fd00:10:244::/64" },
		{ "fd00:10:244::/56", 64, 255, "fd00:10:244:ff::/64" },
		{ "fd00::/32", 80, 0x10001, "fd00:0:0:1:1::/80" },
		{ "fd00::/64", 128, 0x1234, "fd00::1234/128" },
	};
	char buf[LOOM_PREFIX_STRLEN];
	struct loom_prefix out;
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		struct loom_prefix c = pfx(t[i].cidr);

		assert_int_equal(loomd_subnet_nth(&c, t[i].len, t[i].i, &out), 0);
		assert_string_equal(loom_prefix_fmt(&out, buf), t[i].want);
	}
}

static void test_nth_out_of_range(void **state)
{
	struct loom_prefix c = pfx("10.0.0.0/24"), out;

	(void)state;
	assert_int_equal(loomd_subnet_nth(&c, 25, 2, &out), -ERANGE);
	assert_int_equal(loomd_subnet_nth(&c, 23, 0, &out), -ERANGE);
}

/* Every block of a cidr, walked in order, is distinct, inside and fits. */
static void test_walk_covers(void **state)
{
	struct loom_prefix c = pfx("172.16.0.0/20"), prev, cur;
	uint64_t i, n = loomd_subnet_count(&c, 26);

	(void)state;
	assert_true(n == 64);
	for (i = 0; i < n; i++) {
		assert_int_equal(loomd_subnet_nth(&c, 26, i, &cur), 0);
		assert_true(loomd_subnet_fits(&c, 26, &cur));
		if (i)
			assert_true(loom_ip_cmp(&prev.ip, &cur.ip) < 0);
		prev = cur;
	}
	/* the last block ends where the cidr ends */
	{
		struct loom_ip a = loom_prefix_last(&cur), b = loom_prefix_last(&c);

		assert_true(loom_ip_eq(&a, &b));
	}
}

static void test_fits(void **state)
{
	static const struct {
		const char *cidr;
		int len;
		const char *s;
		bool want;
	} t[] = {
		{ "10.244.0.0/16", 24, "10.244.3.0/24", true },
		{ "10.244.0.0/16", 24, "10.244.3.0/25", false }, /* wrong length */
		{ "10.244.0.0/16", 24, "10.245.3.0/24", false }, /* outside */
		{ "10.244.0.0/16", 24, "10.244.3.1/24", false }, /* host bits */
		{ "10.244.0.0/16", 24, "fd00::/24", false },     /* family */
		{ "fd00::/56", 64, "fd00:0:0:7::/64", true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		struct loom_prefix c = pfx(t[i].cidr), s = pfx(t[i].s);

		assert_int_equal(loomd_subnet_fits(&c, t[i].len, &s), t[i].want);
	}
}

static void test_keys(void **state)
{
	struct loom_prefix s = pfx("10.244.3.0/24"), s6 = pfx("fd00:10:244:3::/64"), back;
	char buf[LOOM_PREFIX_STRLEN], key[256];

	(void)state;
	assert_int_equal(loomd_subnet_prefix_key("default", key, sizeof(key)), 0);
	assert_string_equal(key, "/loom/subnets/default/");
	assert_int_equal(loomd_subnet_key("default", &s, key, sizeof(key)), 0);
	assert_string_equal(key, "/loom/subnets/default/10.244.3.0_24");
	assert_int_equal(loomd_subnet_key_parse("10.244.3.0_24", &back), 0);
	assert_string_equal(loom_prefix_fmt(&back, buf), "10.244.3.0/24");
	assert_int_equal(loomd_subnet_key("net2", &s6, key, sizeof(key)), 0);
	assert_string_equal(key, "/loom/subnets/net2/fd00:10:244:3::_64");
	assert_int_equal(loomd_subnet_key_parse("fd00:10:244:3::_64", &back), 0);
	assert_string_equal(loom_prefix_fmt(&back, buf), "fd00:10:244:3::/64");
	assert_int_equal(loomd_subnet_key("default", &s, key, 20), -ENAMETOOLONG);

	static const char *const bad[] = { "10.244.3.0", "10.244.3.1_24", "x_24", "10.244.3.0_33",
					   "" };
	for (size_t i = 0; i < N(bad); i++)
		assert_int_equal(loomd_subnet_key_parse(bad[i], &back), -EINVAL);
}

static void test_value_owner(void **state)
{
	struct loom_prefix s = pfx("10.244.3.0/24");
	char *v = loomd_subnet_value("node-a", "default", &s), owner[64];

	(void)state;
	assert_non_null(v);
	assert_string_equal(
		v, "{\"network\":\"default\",\"node\":\"node-a\",\"subnet\":\"10.244.3.0/24\"}");
	assert_int_equal(loomd_subnet_value_owner(v, strlen(v), owner, sizeof(owner)), 0);
	assert_string_equal(owner, "node-a");
	free(v);
	assert_int_equal(loomd_subnet_value_owner("{\"node\":1}", 10, owner, sizeof(owner)),
			 -EINVAL);
	assert_int_equal(loomd_subnet_value_owner("nope", 4, owner, sizeof(owner)), -EINVAL);
}

static void test_leasefile(void **state)
{
	struct loom_network n = { .cidr = pfx("10.244.0.0/16"), .subnet_len = 24 };
	struct loomd_lease_info li = {
		.net = &n, .subnet = pfx("10.244.3.0/24"), .mtu = 1450, .ipmasq = true
	};
	struct loom_prefix got;
	char buf[512], p[LOOM_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(loomd_leasefile_format(&li, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n"
				 "LOOM_MTU=1450\nLOOM_IPMASQ=true\n");
	assert_int_equal(loomd_leasefile_get_prefix(buf, "LOOM_SUBNET", &got), 0);
	assert_string_equal(loom_prefix_fmt(&got, p), "10.244.3.0/24");
	assert_int_equal(loomd_leasefile_get_prefix(buf, "LOOM_NETWORK", &got), 0);
	assert_string_equal(loom_prefix_fmt(&got, p), "10.244.0.0/16");
	assert_int_equal(loomd_leasefile_get_prefix(buf, "LOOM_SUB", &got), -ENOENT);
	assert_int_equal(loomd_leasefile_get_prefix("LOOM_SUBNET=garbage\n", "LOOM_SUBNET", &got),
			 -EINVAL);
	assert_int_equal(loomd_leasefile_format(&li, buf, 20), -ENOSPC);

	n.has_cidr6 = true;
	n.cidr6 = pfx("fd00:10:244::/56");
	li.has_subnet6 = true;
	li.subnet6 = pfx("fd00:10:244:3::/64");
	assert_int_equal(loomd_leasefile_format(&li, buf, sizeof(buf)), 0);
	assert_int_equal(loomd_leasefile_get_prefix(buf, "LOOM_IPV6_SUBNET", &got), 0);
	assert_string_equal(loom_prefix_fmt(&got, p), "fd00:10:244:3::/64");
	assert_int_equal(loomd_leasefile_get_prefix(buf, "LOOM_SUBNET", &got), 0);
	assert_string_equal(loom_prefix_fmt(&got, p), "10.244.3.0/24");
}

static void test_pod_mtu(void **state)
{
	static const struct {
		uint32_t spec;
		const char *mode;
		uint32_t under;
		bool v6;
		uint32_t want;
	} t[] = {
		{ 0, "vxlan", 1500, false, 1450 },
		{ 0, "vxlan", 9000, false, 8950 },
		{ 0, "vxlan", 1500, true, 1430 },
		{ 0, "vxlan", 0, false, 1450 },  /* underlay unknown: 1500 assumed */
		{ 0, "bgp", 9000, false, 9000 }, /* no encapsulation */
		{ 0, "bridge", 0, false, 1500 },
		{ 1400, "vxlan", 9000, false, 1400 }, /* spec.mtu wins */
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		struct loom_network n = { .mtu = t[i].spec, .mode = loom_mode_by_name(t[i].mode) };

		assert_non_null(n.mode);

		assert_int_equal(loom_network_pod_mtu(&n, t[i].under, t[i].v6), t[i].want);
	}
}

LOOM_TEST_MAIN(cmocka_unit_test(test_count), cmocka_unit_test(test_nth),
	       cmocka_unit_test(test_nth_out_of_range), cmocka_unit_test(test_walk_covers),
	       cmocka_unit_test(test_fits), cmocka_unit_test(test_keys),
	       cmocka_unit_test(test_value_owner), cmocka_unit_test(test_leasefile),
	       cmocka_unit_test(test_pod_mtu))
