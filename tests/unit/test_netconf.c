/* Network config parsing: what each bad config is answered with (code and
 * a message naming the field), and what a good one of every version turns
 * into. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define HEAD "\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"loom-bridge\""

static const struct {
	const char *conf;
	enum loom_cni_cmd cmd;
	int code;
	const char *want; /* substring of the message */
} bad[] = {
	{ "", LOOM_CMD_ADD, LOOM_ERR_DECODE, "empty" },
	{ " \n\t", LOOM_CMD_ADD, LOOM_ERR_DECODE, "empty" },
	{ "{\"name\":", LOOM_CMD_ADD, LOOM_ERR_DECODE, "line 1" },
	{ "{\n\"name\": \"a\",\n\"type\" \"b\"}", LOOM_CMD_ADD, LOOM_ERR_DECODE, "line 3" },
	{ "{" HEAD "} trailing", LOOM_CMD_ADD, LOOM_ERR_DECODE, "not valid JSON" },
	{ "[1,2]", LOOM_CMD_ADD, LOOM_ERR_DECODE, "must be a JSON object, not an array" },
	{ "\"net\"", LOOM_CMD_DEL, LOOM_ERR_DECODE, "must be a JSON object" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"a\\u0000b\",\"type\":\"t\"}", LOOM_CMD_ADD,
	  LOOM_ERR_DECODE, "not valid JSON" },
	{ "{\"cniVersion\":\"1.0.0\",\"type\":\"t\"}", LOOM_CMD_ADD, LOOM_ERR_INVALID_CONFIG,
	  "name is missing" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":7,\"type\":\"t\"}", LOOM_CMD_ADD,
	  LOOM_ERR_INVALID_CONFIG, "name must be a string, not a number" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"\",\"type\":\"t\"}", LOOM_CMD_DEL,
	  LOOM_ERR_INVALID_CONFIG, "name is empty" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"my net\",\"type\":\"t\"}", LOOM_CMD_ADD,
	  LOOM_ERR_INVALID_CONFIG, "name: network name \"my net\" contains characters" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"../x\",\"type\":\"t\"}", LOOM_CMD_ADD,
	  LOOM_ERR_INVALID_CONFIG, "must start with a letter or a digit" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", LOOM_CMD_ADD, LOOM_ERR_INVALID_CONFIG,
	  "type is missing" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":[]}", LOOM_CMD_ADD,
	  LOOM_ERR_INVALID_CONFIG, "type must be a string, not an array" },
	{ "{\"name\":\"n\",\"type\":\"t\"}", LOOM_CMD_ADD, LOOM_ERR_INCOMPATIBLE_VERSION,
	  "cniVersion is missing, which means 0.1.0; loom speaks 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0" },
	{ "{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"t\"}", LOOM_CMD_ADD,
	  LOOM_ERR_INCOMPATIBLE_VERSION,
	  "cniVersion \"0.2.0\" is not supported; loom speaks 0.3.0" },
	{ "{\"cniVersion\":\"2.0.0\",\"name\":\"n\",\"type\":\"t\"}", LOOM_CMD_DEL,
	  LOOM_ERR_INCOMPATIBLE_VERSION, "1.1.0" },
	{ "{\"cniVersion\":1.0,\"name\":\"n\",\"type\":\"t\"}", LOOM_CMD_ADD,
	  LOOM_ERR_INVALID_CONFIG, "cniVersion must be a string, not a number" },
	{ "{" HEAD ",\"ipam\":\"host-local\"}", LOOM_CMD_ADD, LOOM_ERR_INVALID_CONFIG,
	  "ipam must be an object, not a string" },
	{ "{" HEAD ",\"dns\":[]}", LOOM_CMD_ADD, LOOM_ERR_INVALID_CONFIG, "dns must be an object" },
	{ "{" HEAD ",\"runtimeConfig\":1}", LOOM_CMD_ADD, LOOM_ERR_INVALID_CONFIG,
	  "runtimeConfig must be an object" },
	{ "{" HEAD ",\"args\":true}", LOOM_CMD_ADD, LOOM_ERR_INVALID_CONFIG,
	  "args must be an object" },
	{ "{" HEAD ",\"capabilities\":\"x\"}", LOOM_CMD_ADD, LOOM_ERR_INVALID_CONFIG,
	  "capabilities must be an object" },
	{ "{" HEAD ",\"prevResult\":[]}", LOOM_CMD_ADD, 0, "prevResult" },
	{ "{" HEAD ",\"prevResult\":{\"ips\":[{\"address\":\"10.1.2.300/24\"}]}}", LOOM_CMD_CHECK,
	  0, "prevResult.ips[0].address" },
	{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
	  "\"cni.dev/valid-attachments\":{}}",
	  LOOM_CMD_GC, LOOM_ERR_INVALID_CONFIG,
	  "cni.dev/valid-attachments must be an array, not an object" },
	{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
	  "\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\"},7]}",
	  LOOM_CMD_GC, LOOM_ERR_INVALID_CONFIG, "cni.dev/valid-attachments[1] must be an object" },
	{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
	  "\"cni.dev/valid-attachments\":[{\"ifname\":\"eth0\"}]}",
	  LOOM_CMD_GC, LOOM_ERR_INVALID_CONFIG,
	  "cni.dev/valid-attachments[0].containerID must be a string" },
	{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
	  "\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":1}]}",
	  LOOM_CMD_GC, LOOM_ERR_INVALID_CONFIG,
	  "cni.dev/valid-attachments[0].ifname must be a string" },
	{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
	  "\"cni.dev/valid-attachments\":[{\"containerID\":\"c 1\",\"ifname\":\"eth0\"}]}",
	  LOOM_CMD_GC, LOOM_ERR_INVALID_CONFIG,
	  "cni.dev/valid-attachments[0]: container ID \"c 1\"" },
	{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
	  "\"cni.dev/attachments\":[{\"containerID\":\"c1\",\"ifname\":\"a/b\"}]}",
	  LOOM_CMD_GC, LOOM_ERR_INVALID_CONFIG, "cni.dev/attachments[0]: interface name \"a/b\"" },
};

static void test_bad(void **state)
{
	struct loom_netconf c;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad); i++) {
		loom_err_clear(&err);
		if (loom_netconf_parse(bad[i].conf, strlen(bad[i].conf), bad[i].cmd, &c, &err) !=
		    -1)
			fail_msg("case %zu parsed: %s", i, bad[i].conf);
		/* Code 0 in the table: whatever loom_result_from_json chose. */
		if ((bad[i].code && err.code != bad[i].code) || err.code == 0 ||
		    !strstr(err.msg, bad[i].want))
			fail_msg("case %zu: code %d \"%s\", want %d \"%s\"", i, err.code, err.msg,
				 bad[i].code, bad[i].want);
		/* Nothing to free after a failure. */
		assert_null(c.root);
		assert_null(c.valid_attachments);
	}
}

/* A minimal config parses in every version loom speaks. */
static void test_every_version(void **state)
{
	struct loom_netconf c;
	struct loom_err err;
	char buf[256];
	int v;

	(void)state;
	for (v = 0; v < LOOM_CNI_VERSION_COUNT; v++) {
		const char *vs = loom_cni_version_str((enum loom_cni_version)v);

		snprintf(buf, sizeof(buf),
			 "{\"cniVersion\":\"%s\",\"name\":\"net-%d\",\"type\":\"loom-ipam\"}", vs,
			 v);
		if (loom_netconf_parse(buf, strlen(buf), LOOM_CMD_ADD, &c, &err) != 0)
			fail_msg("%s: %s", vs, err.msg);
		assert_int_equal(c.version, v);
		assert_string_equal(c.version_str, vs);
		assert_string_equal(c.type, "loom-ipam");
		assert_false(c.has_prev_result);
		assert_null(c.ipam);
		loom_netconf_free(&c);
		assert_null(c.root);
	}
}

static void test_full(void **state)
{
	static const char conf[] =
		"{\"cniVersion\":\"0.4.0\",\"name\":\"pods\",\"type\":\"loom-bridge\","
		"\"bridge\":\"loom0\","
		"\"ipam\":{\"type\":\"loom-ipam\",\"subnet\":\"10.1.2.0/24\"},"
		"\"dns\":{\"nameservers\":[\"10.1.2.1\"]},"
		"\"runtimeConfig\":{\"portMappings\":[]},"
		"\"args\":{\"cni\":{}},"
		"\"capabilities\":null,"
		"\"prevResult\":{\"cniVersion\":\"0.4.0\","
		"\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/p1\"}],"
		"\"ips\":[{\"version\":\"4\",\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\","
		"\"interface\":0}]}}";
	struct loom_netconf c;
	struct loom_err err;
	char ip[LOOM_PREFIX_STRLEN];

	(void)state;
	if (loom_netconf_parse(conf, strlen(conf), LOOM_CMD_CHECK, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c.version, LOOM_CNI_V040);
	assert_string_equal(c.name, "pods");
	assert_string_equal(c.type, "loom-bridge");
	assert_string_equal(json_string_value(json_object_get(c.ipam, "type")), "loom-ipam");
	assert_non_null(c.dns);
	assert_non_null(c.runtime_config);
	assert_non_null(c.args);
	assert_null(c.capabilities); /* null counts as absent */
	assert_string_equal(json_string_value(json_object_get(c.root, "bridge")), "loom0");
	assert_true(c.has_prev_result);
	assert_int_equal(c.prev_result.n_ips, 1);
	assert_string_equal(loom_prefix_fmt(&c.prev_result.ips[0].address, ip), "10.1.2.3/24");
	assert_false(c.has_valid_attachments); /* only read for GC */
	loom_netconf_free(&c);
	loom_netconf_free(&c); /* idempotent */
	loom_netconf_free(NULL);
}

static void test_gc(void **state)
{
	static const char conf[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"pods\",\"type\":\"loom-ipam\","
		"\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\"},"
		"{\"containerID\":\"c2\",\"ifname\":\"net1\"}],"
		"\"cni.dev/attachments\":[{\"containerID\":\"old\",\"ifname\":\"eth0\"}]}";
	static const char old[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"pods\",\"type\":\"loom-ipam\","
		"\"cni.dev/attachments\":[{\"containerID\":\"old\",\"ifname\":\"eth0\"}]}";
	static const char none[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"pods\",\"type\":\"loom-ipam\","
		"\"cni.dev/valid-attachments\":[]}";
	struct loom_netconf c;
	struct loom_err err;

	(void)state;
	assert_int_equal(loom_netconf_parse(conf, strlen(conf), LOOM_CMD_GC, &c, &err), 0);
	assert_true(c.has_valid_attachments);
	assert_int_equal(c.n_valid_attachments, 2);
	assert_string_equal(c.valid_attachments[1].container_id, "c2");
	assert_string_equal(c.valid_attachments[1].ifname, "net1");
	loom_netconf_free(&c);

	assert_int_equal(loom_netconf_parse(old, strlen(old), LOOM_CMD_GC, &c, &err), 0);
	assert_int_equal(c.n_valid_attachments, 1);
	assert_string_equal(c.valid_attachments[0].container_id, "old");
	loom_netconf_free(&c);

	/* An empty list means "nothing is in use", unlike a missing one. */
	assert_int_equal(loom_netconf_parse(none, strlen(none), LOOM_CMD_GC, &c, &err), 0);
	assert_true(c.has_valid_attachments);
	assert_int_equal(c.n_valid_attachments, 0);
	loom_netconf_free(&c);

	assert_int_equal(loom_netconf_parse(none, strlen(none), LOOM_CMD_DEL, &c, &err), 0);
	assert_false(c.has_valid_attachments);
	loom_netconf_free(&c);
}

static void test_gc_bound(void **state)
{
	size_t n = LOOM_MAX_ATTACHMENTS + 1, i, len;
	struct loom_netconf c;
	struct loom_err err;
	char *buf = malloc(n * 48 + 200);

	(void)state;
	assert_non_null(buf);
	len = (size_t)sprintf(buf, "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"t\","
				   "\"cni.dev/valid-attachments\":[");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len,
				       "%s{\"containerID\":\"c%zu\",\"ifname\":\"eth0\"}",
				       i ? "," : "", i);
	strcpy(buf + len, "]}");
	assert_int_equal(loom_netconf_parse(buf, strlen(buf), LOOM_CMD_GC, &c, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
	assert_non_null(strstr(err.msg, "limit of 4096"));
	free(buf);
}

/* VERSION looks at cniVersion only. */
static void test_version_cmd(void **state)
{
	static const struct {
		const char *conf;
		int code;
	} cases[] = {
		{ "{\"cniVersion\":\"1.0.0\"}", 0 },
		{ "{}", 0 },
		{ "{\"cniVersion\":\"0.1.0\"}", LOOM_ERR_INCOMPATIBLE_VERSION },
		{ "{\"cniVersion\":\"9.9.9\",\"name\":\"x y\"}", LOOM_ERR_INCOMPATIBLE_VERSION },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"x y\",\"ipam\":3}", 0 },
		{ "nope", LOOM_ERR_DECODE },
	};
	struct loom_netconf c;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		int r = loom_netconf_parse(cases[i].conf, strlen(cases[i].conf), LOOM_CMD_VERSION,
					   &c, &err);

		if (cases[i].code == 0) {
			if (r != 0)
				fail_msg("%s: %s", cases[i].conf, err.msg);
			loom_netconf_free(&c);
		} else {
			assert_int_equal(r, -1);
			assert_int_equal(err.code, cases[i].code);
		}
	}
}

LOOM_TEST_MAIN(cmocka_unit_test(test_bad), cmocka_unit_test(test_every_version),
	       cmocka_unit_test(test_full), cmocka_unit_test(test_gc),
	       cmocka_unit_test(test_gc_bound), cmocka_unit_test(test_version_cmd))
