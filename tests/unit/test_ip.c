/* IP parsing, Go-compatible formatting and prefix arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/ip.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct loom_ip ip_of(const char *s)
{
	struct loom_ip ip;

	assert_int_equal(loom_ip_parse(s, &ip), 0);
	return ip;
}

static struct loom_prefix pfx_of(const char *s)
{
	struct loom_prefix p;

	assert_int_equal(loom_prefix_parse(s, &p), 0);
	return p;
}

static void assert_ip_str(const struct loom_ip *ip, const char *want)
{
	char buf[LOOM_IP_STRLEN];

	assert_string_equal(loom_ip_fmt(ip, buf), want);
}

/* Input → Go's net.IP.String() of the same input. */
static void test_parse_format(void **state)
{
	static const struct {
		const char *in, *out;
		int family;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1", AF_INET },
		{ "0.0.0.0", "0.0.0.0", AF_INET },
		{ "255.255.255.255", "255.255.255.255", AF_INET },
		{ "::", "::", AF_INET6 },
		{ "::1", "::1", AF_INET6 },
		{ "1::", "1::", AF_INET6 },
		{ "2001:db8::1", "2001:db8::1", AF_INET6 },
		{ "2001:DB8::A", "2001:db8::a", AF_INET6 },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", AF_INET6 },
		{ "2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1", AF_INET6 },
		{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1", AF_INET6 },          /* longer run wins */
		{ "2001:0:0:1:0:0:1:1", "2001::1:0:0:1:1", AF_INET6 },        /* tie: first run */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", AF_INET6 }, /* lone zero kept */
		{ "1:0:0:2:0:0:0:3", "1:0:0:2::3", AF_INET6 },                /* longest run wins */
		{ "0:0:1:0:0:0:0:0", "0:0:1::", AF_INET6 },
		{ "fe80::1:2", "fe80::1:2", AF_INET6 },
		{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", AF_INET6 },
		{ "::ffff:192.0.2.1", "192.0.2.1", AF_INET }, /* mapped → IPv4 */
		{ "::ffff:c000:201", "192.0.2.1", AF_INET },
		{ "::192.0.2.1", "::c000:201", AF_INET6 }, /* compatible: hex, as Go */
		{ "64:ff9b::192.0.2.1", "64:ff9b::c000:201", AF_INET6 },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct loom_ip ip = ip_of(cases[i].in), again;

		assert_int_equal(ip.family, cases[i].family);
		assert_ip_str(&ip, cases[i].out);
		/* the formatted form parses back to the same address */
		again = ip_of(cases[i].out);
		assert_true(loom_ip_eq(&ip, &again));
	}
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"1.2.3",
		"1.2.3.4.5",
		"256.1.1.1",
		"1.2.3.4 ",
		" 1.2.3.4",
		"01.2.3.4",
		"1.2.3.-1",
		"a.b.c.d",
		"1.2.3.4/24",
		":::",
		"1::2::3",
		"12345::",
		"g::1",
		"1:2:3:4:5:6:7:8:9",
		"fe80::1%eth0",
		"::ffff:1.2.3",
		"0x1.2.3.4",
	};
	struct loom_ip ip;

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		if (loom_ip_parse(bad[i], &ip) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(loom_ip_parse(NULL, &ip), -EINVAL);
}

static void test_prefix_parse(void **state)
{
	static const struct {
		const char *in, *out;
		int len;
	} good[] = {
		{ "10.1.2.3/24", "10.1.2.3/24", 24 }, /* host bits kept */
		{ "0.0.0.0/0", "0.0.0.0/0", 0 },
		{ "192.0.2.1/32", "192.0.2.1/32", 32 },
		{ "2001:db8::1/64", "2001:db8::1/64", 64 },
		{ "::/0", "::/0", 0 },
		{ "::1/128", "::1/128", 128 },
		{ "10.0.0.0/08", "10.0.0.0/8", 8 }, /* leading zero, as Go */
		{ "::ffff:10.0.0.1/120", "10.0.0.1/24", 24 },
	};
	static const char *const bad[] = {
		"10.1.2.3",       "10.1.2.3/",          "10.1.2.3/33",
		"2001:db8::/129", "10.1.2/24",          "/24",
		"10.1.2.3/24/1",  "10.1.2.3/-1",        "10.1.2.3/+8",
		"10.1.2.3/ 8",    "10.1.2.3/8 ",        "10.1.2.3/99999999999999999999",
		"10.1.2.3/2a",    "::ffff:10.0.0.1/64", "",
	};
	struct loom_prefix p;
	char buf[LOOM_PREFIX_STRLEN];

	(void)state;
	for (size_t i = 0; i < N(good); i++) {
		p = pfx_of(good[i].in);
		assert_int_equal(p.len, good[i].len);
		assert_string_equal(loom_prefix_fmt(&p, buf), good[i].out);
	}
	for (size_t i = 0; i < N(bad); i++) {
		if (loom_prefix_parse(bad[i], &p) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void test_next_prev(void **state)
{
	static const struct {
		const char *from, *next; /* next == NULL: wraps */
	} cases[] = {
		{ "10.0.0.1", "10.0.0.2" },
		{ "10.0.0.255", "10.0.1.0" },
		{ "10.255.255.255", "11.0.0.0" },
		{ "255.255.255.254", "255.255.255.255" },
		{ "255.255.255.255", NULL },
		{ "2001:db8::ffff", "2001:db8::1:0" },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct loom_ip ip = ip_of(cases[i].from), orig = ip;

		if (!cases[i].next) {
			assert_false(loom_ip_next(&ip));
			assert_true(loom_ip_eq(&ip, &orig));
			continue;
		}
		assert_true(loom_ip_next(&ip));
		assert_ip_str(&ip, cases[i].next);
		assert_true(loom_ip_prev(&ip));
		assert_ip_str(&ip, cases[i].from);
	}

	struct loom_ip z4 = ip_of("0.0.0.0"), z6 = ip_of("::");

	assert_false(loom_ip_prev(&z4));
	assert_ip_str(&z4, "0.0.0.0");
	assert_false(loom_ip_prev(&z6));
	assert_ip_str(&z6, "::");
}

static void test_first_last(void **state)
{
	static const struct {
		const char *prefix, *first, *last;
		bool network;
	} cases[] = {
		{ "10.1.2.3/24", "10.1.2.0", "10.1.2.255", false },
		{ "10.1.2.0/24", "10.1.2.0", "10.1.2.255", true },
		{ "10.1.2.3/0", "0.0.0.0", "255.255.255.255", false },
		{ "10.1.2.3/31", "10.1.2.2", "10.1.2.3", false },
		{ "10.1.2.3/32", "10.1.2.3", "10.1.2.3", true },
		{ "10.1.2.3/19", "10.1.0.0", "10.1.31.255", false },
		{ "2001:db8::5/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", false },
		{ "2001:db8::5/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
		{ "2001:db8::5/127", "2001:db8::4", "2001:db8::5", false },
		{ "2001:db8::5/128", "2001:db8::5", "2001:db8::5", true },
		{ "2001:db8::/121", "2001:db8::", "2001:db8::7f", true },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct loom_prefix p = pfx_of(cases[i].prefix);
		struct loom_ip first = loom_prefix_first(&p), last = loom_prefix_last(&p);

		assert_ip_str(&first, cases[i].first);
		assert_ip_str(&last, cases[i].last);
		assert_int_equal(loom_prefix_is_network(&p), cases[i].network);
	}
}

static void test_contains(void **state)
{
	static const struct {
		const char *prefix, *ip;
		bool in;
	} cases[] = {
		{ "10.1.2.0/24", "10.1.2.0", true },
		{ "10.1.2.0/24", "10.1.2.255", true },
		{ "10.1.2.0/24", "10.1.3.0", false },
		{ "10.1.2.0/24", "10.1.1.255", false },
		{ "10.1.2.77/24", "10.1.2.1", true },
		{ "0.0.0.0/0", "203.0.113.9", true },
		{ "0.0.0.0/0", "::1", false }, /* families never mix */
		{ "::/0", "10.0.0.1", false },
		{ "10.0.0.1/32", "10.0.0.1", true },
		{ "10.0.0.1/32", "10.0.0.2", false },
		{ "2001:db8::/32", "2001:db8:ffff::1", true },
		{ "2001:db8::/32", "2001:db9::", false },
		{ "2001:db8::/33", "2001:db8:8000::", false },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct loom_prefix p = pfx_of(cases[i].prefix);
		struct loom_ip ip = ip_of(cases[i].ip);

		if (loom_prefix_contains(&p, &ip) != cases[i].in)
			fail_msg("%s contains %s: want %d", cases[i].prefix, cases[i].ip,
				 cases[i].in);
	}
}

static void test_overlaps(void **state)
{
	static const struct {
		const char *a, *b;
		bool overlap;
	} cases[] = {
		{ "10.0.0.0/8", "10.1.0.0/16", true },
		{ "10.1.0.0/16", "10.0.0.0/8", true },
		{ "10.1.0.0/16", "10.2.0.0/16", false },
		{ "10.1.0.0/24", "10.1.0.255/32", true },
		{ "10.1.0.0/24", "10.1.1.0/32", false },
		{ "0.0.0.0/0", "192.0.2.0/24", true },
		{ "0.0.0.0/0", "::/0", false },
		{ "2001:db8::/64", "2001:db8::/48", true },
		{ "2001:db8:0:1::/64", "2001:db8::/64", false },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct loom_prefix a = pfx_of(cases[i].a), b = pfx_of(cases[i].b);

		if (loom_prefix_overlaps(&a, &b) != cases[i].overlap)
			fail_msg("%s overlaps %s: want %d", cases[i].a, cases[i].b,
				 cases[i].overlap);
	}
}

static void test_span(void **state)
{
	static const struct {
		const char *a, *b;
		uint64_t n;
	} cases[] = {
		{ "10.0.0.1", "10.0.0.1", 1 },
		{ "10.0.0.1", "10.0.0.10", 10 },
		{ "10.0.0.0", "10.0.1.255", 512 },
		{ "0.0.0.0", "255.255.255.255", 1ULL << 32 },
		{ "10.0.0.2", "10.0.0.1", 0 }, /* b < a */
		{ "10.0.0.1", "::1", 0 },      /* families differ */
		{ "2001:db8::", "2001:db8::ffff", 65536 },
		{ "::", "::ffff:ffff:ffff:fffe", UINT64_MAX }, /* exactly 2^64-1 */
		{ "::", "::ffff:ffff:ffff:ffff", UINT64_MAX }, /* 2^64 saturates */
		{ "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UINT64_MAX },
		{ "2001:db8::ffff", "2001:db8::1:0", 2 }, /* borrow across groups */
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct loom_ip a = ip_of(cases[i].a), b = ip_of(cases[i].b);

		if (loom_ip_span(&a, &b) != cases[i].n)
			fail_msg("span %s..%s = %llu, want %llu", cases[i].a, cases[i].b,
				 (unsigned long long)loom_ip_span(&a, &b),
				 (unsigned long long)cases[i].n);
	}
}

static void test_cmp(void **state)
{
	/* sorted ascending */
	static const char *const order[] = {
		"0.0.0.0", "10.0.0.1", "10.0.0.2",   "255.255.255.255",
		"::",      "::1",      "2001:db8::", "ffff::",
	};

	(void)state;
	for (size_t i = 0; i < N(order); i++) {
		for (size_t j = 0; j < N(order); j++) {
			struct loom_ip a = ip_of(order[i]), b = ip_of(order[j]);
			int want = i < j ? -1 : i > j ? 1 : 0;
			int got = loom_ip_cmp(&a, &b);

			if ((got > 0) - (got < 0) != want)
				fail_msg("cmp(%s, %s) = %d", order[i], order[j], got);
			assert_int_equal(loom_ip_eq(&a, &b), i == j);
		}
	}
}

LOOM_TEST_MAIN(cmocka_unit_test(test_parse_format), cmocka_unit_test(test_parse_rejects),
	       cmocka_unit_test(test_prefix_parse), cmocka_unit_test(test_next_prev),
	       cmocka_unit_test(test_first_last), cmocka_unit_test(test_contains),
	       cmocka_unit_test(test_overlaps), cmocka_unit_test(test_span),
	       cmocka_unit_test(test_cmp))
