/* vxlan mode's pure parts: the VTEP MAC and device name, node records as
 * the controller reads them, and a record's entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../plugins/vxlan/controller.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_vtep_mac(void **state)
{
	uint8_t a[6], b[6], all[200][6];
	char name[32];
	int i, j;

	(void)state;
	loom_vtep_mac("node-1", a);
	loom_vtep_mac("node-1", b);
	assert_memory_equal(a, b, 6); /* stable across restarts */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "node-%d", i);
		loom_vtep_mac(name, all[i]);
		assert_int_equal(all[i][0] & 0x03, 0x02); /* local, unicast */
		for (j = 0; j < i; j++)
			assert_memory_not_equal(all[i], all[j], 6);
	}
}

static void test_dev_name(void **state)
{
	char buf[IFNAMSIZ];

	(void)state;
	assert_int_equal(loom_vtep_dev_name(1, buf), 0);
	assert_string_equal(buf, "loom.1");
	assert_int_equal(loom_vtep_dev_name(16777215, buf), 0);
	assert_string_equal(buf, "loom.16777215");
	assert_int_not_equal(loom_vtep_dev_name(0, buf), 0);
	assert_int_not_equal(loom_vtep_dev_name(16777216, buf), 0);
}

static void test_node_parse(void **state)
{
	static const struct {
		const char *json;
		const char *err; /* NULL: valid */
	} t[] = {
		{ "{\"name\":\"n1\",\"network\":\"default\",\"address\":\"192.0.2.11\","
		  "\"subnet\":\"10.244.1.0/24\",\"vtepMAC\":\"02:00:00:00:00:01\"}",
		  NULL },
		{ "{\"name\":\"n1\",\"network\":\"default\",\"address\":\"192.0.2.11\","
		  "\"subnet\":\"10.244.1.0/24\"}",
		  NULL },
		{ "{\"name\":\"n1\",\"network\":\"default\",\"address\":\"192.0.2.11\","
		  "\"subnet\":\"10.244.1.5/24\"}",
		  "subnet: \"10.244.1.5/24\" is not an IPv4 block" },
		{ "{\"name\":\"n1\",\"network\":\"default\",\"address\":\"x\",\"subnet\":\"10.244.1.0/24\"}",
		  "address: \"x\" is not an IP address" },
		{ "{\"name\":\"n1\",\"network\":\"default\",\"address\":\"192.0.2.11\","
		  "\"subnet\":\"10.244.1.0/24\",\"vtepMAC\":\"01:00:00:00:00:01\"}",
		  "vtepMAC: \"01:00:00:00:00:01\" is not a unicast MAC" },
		{ "{\"name\":\"n1\",\"network\":\"default\",\"address\":\"192.0.2.11\","
		  "\"subnet\":\"10.244.1.0/24\",\"vtepMAC\":\"02:00:00:00:00:1\"}",
		  "vtepMAC: \"02:00:00:00:00:1\" is not a unicast MAC" },
		{ "{\"name\":\"../x\",\"network\":\"default\",\"address\":\"192.0.2.11\","
		  "\"subnet\":\"10.244.1.0/24\"}",
		  "name: \"../x\" is not a node name" },
		{ "{\"network\":\"default\"}", "name: required" },
		{ "{\"name\":1}", "name: must be a string, not a number" },
		{ "[]", "must be an object, not an array" },
	};
	struct loomd_node n;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		memset(&err, 0, sizeof(err));
		int r = loomd_node_parse(t[i].json, strlen(t[i].json), &n, &err);

		if (!t[i].err) {
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, -1);
		assert_string_equal(err.msg, t[i].err);
	}
}

static void test_peer(void **state)
{
	static const char rec[] =
		"{\"name\":\"n2\",\"network\":\"default\",\"address\":\"192.0.2.12\","
		"\"subnet\":\"10.244.7.0/24\",\"vtepMAC\":\"02:aa:bb:cc:dd:ee\"}";
	static const char nomac[] =
		"{\"name\":\"n2\",\"network\":\"default\",\"address\":\"192.0.2.12\","
		"\"subnet\":\"10.244.7.0/24\"}";
	struct loomd_node n, m;
	struct loom_vxlan_peer p;
	struct loom_err err = { 0 };
	char buf[LOOM_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(loomd_node_parse(rec, strlen(rec), &n, &err), 0);
	assert_int_equal(loom_vxlan_peer(&n, AF_INET, &p), 0);
	assert_string_equal(loom_ip_fmt(&p.gw, buf), "10.244.7.0");
	assert_string_equal(loom_prefix_fmt(&p.subnet, buf), "10.244.7.0/24");
	assert_string_equal(loom_ip_fmt(&p.underlay, buf), "192.0.2.12");
	assert_int_equal(p.mac[1], 0xaa);
	/* An IPv6 underlay cannot reach an IPv4 one. */
	assert_int_not_equal(loom_vxlan_peer(&n, AF_INET6, &p), 0);
	assert_int_equal(loomd_node_parse(nomac, strlen(nomac), &m, &err), 0);
	assert_int_not_equal(loom_vxlan_peer(&m, AF_INET, &p), 0);
	assert_false(loomd_node_same(&n, &m));
	assert_true(loomd_node_same(&n, &n));
}

LOOM_TEST_MAIN(cmocka_unit_test(test_vtep_mac), cmocka_unit_test(test_dev_name),
	       cmocka_unit_test(test_node_parse), cmocka_unit_test(test_peer))
