/* How full a node block is (agent/usage.c): its capacity with the plugins'
 * default range, and the addresses held counted from the IPAM store's
 * address files and from the endpoint records, ignoring what is not an
 * address of that block. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usage.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct loom_prefix pfx(const char *s)
{
	struct loom_prefix p;

	assert_int_equal(loom_prefix_parse(s, &p), 0);
	return p;
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm_tree(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_capacity(void **state)
{
	static const struct {
		const char *block;
		uint64_t want;
	} t[] = {
		{ "10.244.3.0/24", 253 }, /* network, gateway, broadcast */
		{ "10.244.3.0/26", 61 },
		{ "10.244.3.0/31", 2 }, /* point-to-point: every address */
		{ "10.244.3.7/32", 1 },
		{ "fd00:10:244:3::/120", 254 }, /* no broadcast in IPv6 */
		{ "fd00:10:244:3::/64", UINT64_MAX },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		struct loom_prefix p = pfx(t[i].block);

		assert_true(loomd_block_capacity(&p) == t[i].want);
	}
}

static void test_used_ipam(void **state)
{
	char root[] = "/tmp/test_usage.XXXXXX", dir[256];
	struct loom_prefix b = pfx("10.244.3.0/24");
	uint64_t used = 99;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(loomd_block_used_ipam(root, "default", &b, &used), 0);
	assert_true(used == 0); /* no store dir yet: nothing in use */
	snprintf(dir, sizeof(dir), "%s/default", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "10.244.3.2", "c1\r\neth0");
	put(dir, "10.244.3.3", "c2\r\neth0");
	put(dir, "10.244.4.2", "c3\r\neth0"); /* another block */
	put(dir, "lock", "");
	put(dir, "last_reserved_ip.0", "10.244.3.3");
	assert_int_equal(loomd_block_used_ipam(root, "default", &b, &used), 0);
	assert_true(used == 2);
	rm_tree(root);
}

static void test_used_records(void **state)
{
	char dir[] = "/tmp/test_usage.XXXXXX";
	struct loom_prefix b = pfx("10.244.3.0/24");
	uint64_t used = 99;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "default:c1:eth0.json", "{\"ips\":[\"10.244.3.2/24\",\"fd00::2/64\"]}");
	put(dir, "default:c2:eth0.json", "{\"ips\":[\"10.244.3.3/24\"]}");
	put(dir, "other:c3:eth0.json", "{\"ips\":[\"10.244.3.4/24\"]}"); /* another network */
	put(dir, ".default:c4:eth0.json.tmp", "{\"ips\":[\"10.244.3.5/24\"]}");
	put(dir, "default:c5:eth0.json", "not json");
	assert_int_equal(loomd_block_used_records(dir, "default", &b, &used), 0);
	assert_true(used == 2);
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_used_ipam),
		cmocka_unit_test(test_used_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
