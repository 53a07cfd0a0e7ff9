/* CNI results: encoding per spec version, decoding any version, and the
 * located errors a bad prevResult or delegate answer produces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cni/cni.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void set_prefix(struct loom_prefix *p, const char *s)
{
	assert_int_equal(loom_prefix_parse(s, p), 0);
}

static void set_ip(struct loom_ip *ip, const char *s)
{
	assert_int_equal(loom_ip_parse(s, ip), 0);
}

/* What a bridge-like plugin returns: host veth, pod eth0, both families. */
static void sample(struct loom_result *r)
{
	loom_result_init(r);
	r->n_ifaces = 2;
	strcpy(r->ifaces[0].name, "veth1a2b");
	strcpy(r->ifaces[0].mac, "aa:bb:cc:00:00:01");
	strcpy(r->ifaces[1].name, "eth0");
	strcpy(r->ifaces[1].mac, "aa:bb:cc:00:00:02");
	strcpy(r->ifaces[1].sandbox, "/var/run/netns/p1");
	r->ifaces[1].mtu = 1450;
	strcpy(r->ifaces[1].socket_path, "/run/vhost.sock");
	strcpy(r->ifaces[1].pci_id, "0000:00:1f.6");

	r->n_ips = 2;
	set_prefix(&r->ips[0].address, "10.1.2.3/24");
	r->ips[0].has_gateway = true;
	set_ip(&r->ips[0].gateway, "10.1.2.1");
	r->ips[0].iface = 1;
	set_prefix(&r->ips[1].address, "2001:db8:0:1:0:0:0:5/64");
	r->ips[1].iface = 1;

	r->n_routes = 2;
	set_prefix(&r->routes[0].dst, "0.0.0.0/0");
	r->routes[0].has_gw = true;
	set_ip(&r->routes[0].gw, "10.1.2.1");
	r->routes[0].mtu = 1400;
	r->routes[0].table = 100;
	r->routes[0].scope = 0;
	set_prefix(&r->routes[1].dst, "::/0");

	r->dns.n_nameservers = 1;
	strcpy(r->dns.nameservers[0], "10.1.2.1");
	strcpy(r->dns.domain, "cluster.local");
	r->dns.n_search = 2;
	strcpy(r->dns.search[0], "default.svc.cluster.local");
	strcpy(r->dns.search[1], "svc.cluster.local");
	r->dns.n_options = 1;
	strcpy(r->dns.options[0], "ndots:5");
}

static char *encode(const struct loom_result *r, enum loom_cni_version v)
{
	json_t *j = loom_result_to_json(r, v);
	char *s;

	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

#define DNS_JSON                                                                \
	"\"dns\":{\"nameservers\":[\"10.1.2.1\"],\"domain\":\"cluster.local\"," \
	"\"search\":[\"default.svc.cluster.local\",\"svc.cluster.local\"],\"options\":[\"ndots:5\"]}"

/* Byte-exact: key order and omissions as the Go reference types emit. */
static void test_encode_versions(void **state)
{
	static const struct {
		enum loom_cni_version v;
		const char *json;
	} cases[] = {
		{ LOOM_CNI_V030,
		  "{\"cniVersion\":\"0.3.0\",\"interfaces\":[{\"name\":\"veth1a2b\",\"mac\":\"aa:bb:cc:00:00:01\"},"
		  "{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:00:00:02\",\"sandbox\":\"/var/run/netns/p1\"}],"
		  "\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"},"
		  "{\"version\":\"6\",\"interface\":1,\"address\":\"2001:db8:0:1::5/64\"}],"
		  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.2.1\"},{\"dst\":\"::/0\"}]," DNS_JSON
		  "}" },
		{ LOOM_CNI_V040,
		  "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"veth1a2b\",\"mac\":\"aa:bb:cc:00:00:01\"},"
		  "{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:00:00:02\",\"sandbox\":\"/var/run/netns/p1\"}],"
		  "\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"},"
		  "{\"version\":\"6\",\"interface\":1,\"address\":\"2001:db8:0:1::5/64\"}],"
		  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.2.1\"},{\"dst\":\"::/0\"}]," DNS_JSON
		  "}" },
		{ LOOM_CNI_V100,
		  "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"veth1a2b\",\"mac\":\"aa:bb:cc:00:00:01\"},"
		  "{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:00:00:02\",\"sandbox\":\"/var/run/netns/p1\"}],"
		  "\"ips\":[{\"interface\":1,\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"},"
		  "{\"interface\":1,\"address\":\"2001:db8:0:1::5/64\"}],"
		  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.2.1\"},{\"dst\":\"::/0\"}]," DNS_JSON
		  "}" },
		{ LOOM_CNI_V110,
		  "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"veth1a2b\",\"mac\":\"aa:bb:cc:00:00:01\"},"
		  "{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:00:00:02\",\"mtu\":1450,\"sandbox\":\"/var/run/netns/p1\","
		  "\"socketPath\":\"/run/vhost.sock\",\"pciID\":\"0000:00:1f.6\"}],"
		  "\"ips\":[{\"interface\":1,\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.1\"},"
		  "{\"interface\":1,\"address\":\"2001:db8:0:1::5/64\"}],"
		  "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.1.2.1\",\"mtu\":1400,\"table\":100,\"scope\":0},"
		  "{\"dst\":\"::/0\"}]," DNS_JSON "}" },
	};
	struct loom_result r;

	(void)state;
	sample(&r);
	for (size_t i = 0; i < N(cases); i++) {
		char *s = encode(&r, cases[i].v);

		assert_string_equal(s, cases[i].json);
		free(s);
	}
}

/* Encode in each version, decode, encode again: nothing lost or invented. */
static void test_round_trip(void **state)
{
	struct loom_result r, back;
	struct loom_err err;

	(void)state;
	sample(&r);
	for (int v = 0; v < LOOM_CNI_VERSION_COUNT; v++) {
		json_t *j = loom_result_to_json(&r, (enum loom_cni_version)v);
		char *a, *b;

		assert_non_null(j);
		if (loom_result_from_json(j, "prevResult", &back, &err) != 0)
			fail_msg("%s: %s", loom_cni_version_str((enum loom_cni_version)v), err.msg);
		json_decref(j);
		a = encode(&r, (enum loom_cni_version)v);
		b = encode(&back, (enum loom_cni_version)v);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}

	/* the decoded struct, not just its encoding */
	json_t *j = loom_result_to_json(&r, LOOM_CNI_V110);

	assert_int_equal(loom_result_from_json(j, "prevResult", &back, &err), 0);
	json_decref(j);
	assert_int_equal(back.n_ifaces, 2);
	assert_int_equal(back.ifaces[1].mtu, 1450);
	assert_string_equal(back.ifaces[1].pci_id, "0000:00:1f.6");
	assert_int_equal(back.ips[1].iface, 1);
	assert_false(back.ips[1].has_gateway);
	assert_true(loom_ip_eq(&back.ips[0].gateway, &r.ips[0].gateway));
	assert_int_equal(back.routes[0].scope, 0);
	assert_int_equal(back.routes[1].scope, -1);
	assert_int_equal(back.routes[0].table, 100);
	assert_string_equal(back.dns.search[1], "svc.cluster.local");
}

static void test_empty(void **state)
{
	struct loom_result r;
	char *s;

	(void)state;
	loom_result_init(&r);
	assert_int_equal(r.ips[LOOM_RESULT_MAX_IPS - 1].iface, -1);
	assert_int_equal(r.routes[LOOM_RESULT_MAX_ROUTES - 1].scope, -1);
	s = encode(&r, LOOM_CNI_V100);
	assert_string_equal(s, "{\"cniVersion\":\"1.0.0\",\"dns\":{}}");
	free(s);

	/* an ip without interface omits the key */
	r.n_ips = 1;
	set_prefix(&r.ips[0].address, "10.0.0.2/8");
	s = encode(&r, LOOM_CNI_V040);
	assert_string_equal(
		s,
		"{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.2/8\"}],\"dns\":{}}");
	free(s);

	assert_null(loom_result_to_json(&r, LOOM_CNI_VERSION_COUNT));
}

static json_t *parse(const char *text)
{
	json_error_t je;
	/* JSON_ALLOW_NUL: a caller may load that way, so the decoder must cope */
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);

	if (!j)
		fail_msg("test JSON does not parse: %s: %s", je.text, text);
	return j;
}

/* What a 0.3.1 plugin (e.g. an old host-local) prints. */
static void test_decode_031(void **state)
{
	static const char text[] =
		"{\"cniVersion\":\"0.3.1\",\"ips\":[{\"version\":\"4\",\"address\":\"10.22.0.5/16\","
		"\"gateway\":\"10.22.0.1\"},{\"version\":\"6\",\"address\":\"fd00::5/64\",\"gateway\":\"fd00::1\"}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}";
	struct loom_result r;
	struct loom_err err;
	char buf[LOOM_PREFIX_STRLEN];
	json_t *j = parse(text);

	(void)state;
	assert_int_equal(loom_result_from_json(j, "prevResult", &r, &err), 0);
	json_decref(j);
	assert_int_equal(r.n_ifaces, 0);
	assert_int_equal(r.n_ips, 2);
	assert_string_equal(loom_prefix_fmt(&r.ips[0].address, buf), "10.22.0.5/16");
	assert_int_equal(r.ips[0].iface, -1);
	assert_string_equal(loom_ip_fmt(&r.ips[1].gateway, buf), "fd00::1");
	assert_int_equal(r.n_routes, 1);
	assert_false(r.routes[0].has_gw);

	/* and it re-encodes as 1.0.0 without "version"; dns {} stays, as Go prints it */
	char *s = encode(&r, LOOM_CNI_V100);

	assert_string_equal(
		s,
		"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.22.0.5/16\","
		"\"gateway\":\"10.22.0.1\"},{\"address\":\"fd00::5/64\",\"gateway\":\"fd00::1\"}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}");
	free(s);
}

static void test_110_to_040(void **state)
{
	static const char text[] =
		"{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mtu\":9000,\"pciID\":\"x\","
		"\"metadata\":{\"k\":\"v\"}}],"
		"\"ips\":[{\"interface\":0,\"address\":\"2001:db8::7/64\"}],"
		"\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"10.1.1.1\",\"priority\":5,\"advmss\":1360,\"scope\":253}]}";
	struct loom_result r;
	struct loom_err err;
	json_t *j = parse(text);
	char *s;

	(void)state;
	assert_int_equal(loom_result_from_json(j, "prevResult", &r, &err), 0);
	json_decref(j);
	s = encode(&r, LOOM_CNI_V040);
	assert_string_equal(
		s, "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\"}],"
		   "\"ips\":[{\"version\":\"6\",\"interface\":0,\"address\":\"2001:db8::7/64\"}],"
		   "\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"10.1.1.1\"}],\"dns\":{}}");
	free(s);
	s = encode(&r, LOOM_CNI_V110);
	assert_string_equal(
		s,
		"{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mtu\":9000,\"pciID\":\"x\"}],"
		"\"ips\":[{\"interface\":0,\"address\":\"2001:db8::7/64\"}],"
		"\"routes\":[{\"dst\":\"10.0.0.0/8\",\"gw\":\"10.1.1.1\",\"advmss\":1360,"
		"\"priority\":5,\"scope\":253}],\"dns\":{}}");
	free(s);
}

static void test_decode_errors(void **state)
{
	static const struct {
		const char *json, *msg; /* msg: expected start of the message */
	} cases[] = {
		{ "[]", "prevResult: must be an object, not an array" },
		{ "{\"cniVersion\":4}", "prevResult.cniVersion: must be a string, not an integer" },
		{ "{\"cniVersion\":\"0.2.0\"}",
		  "prevResult.cniVersion: \"0.2.0\" is not a supported version" },
		{ "{\"ips\":{}}", "prevResult.ips: must be an array, not an object" },
		{ "{\"ips\":[\"10.1.2.3/24\"]}",
		  "prevResult.ips[0]: must be an object, not a string" },
		{ "{\"ips\":[{}]}", "prevResult.ips[0].address: required field is missing" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\"},{\"address\":\"10.1.2\"}]}",
		  "prevResult.ips[1].address: \"10.1.2\" is not an IP address with prefix length" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3\"}]}",
		  "prevResult.ips[0].address: \"10.1.2.3\" is not an IP address with prefix length" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/33\"}]}",
		  "prevResult.ips[0].address: \"10.1.2.3/33\" is not an IP address with prefix length" },
		{ "{\"ips\":[{\"address\":7}]}",
		  "prevResult.ips[0].address: must be a string, not an integer" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"10.1.2.300\"}]}",
		  "prevResult.ips[0].gateway: \"10.1.2.300\" is not an IP address" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"fd00::1\"}]}",
		  "prevResult.ips[0].gateway: fd00::1 is not of the same IP family as 10.1.2.3/24" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"version\":\"6\"}]}",
		  "prevResult.ips[0].version: \"6\" does not match address 10.1.2.3/24" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"version\":4}]}",
		  "prevResult.ips[0].version: must be a string, not an integer" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"version\":\"5\"}]}",
		  "prevResult.ips[0].version: \"5\" must be \"4\" or \"6\"" },
		{ "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":0}]}",
		  "prevResult.ips[0].interface: 0 does not point at an interface (the result has 0)" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":1}]}",
		  "prevResult.ips[0].interface: 1 does not point at an interface (the result has 1)" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":-1}]}",
		  "prevResult.ips[0].interface: -1 is out of range" },
		{ "{\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":\"10.1.2.3/24\",\"interface\":0.5}]}",
		  "prevResult.ips[0].interface: must be an integer, not a number with a fraction" },
		{ "{\"interfaces\":[{}]}",
		  "prevResult.interfaces[0].name: required field is missing" },
		{ "{\"interfaces\":[{\"name\":\"\"}]}",
		  "prevResult.interfaces[0].name: must not be empty" },
		{ "{\"interfaces\":[{\"name\":\"abcdefghijklmnop\"}]}",
		  "prevResult.interfaces[0].name: \"abcdefghijklmnop...\" is too long (at most 15 characters)" },
		{ "{\"interfaces\":[{\"name\":\"e\\u0000th\"}]}",
		  "prevResult.interfaces[0].name: must not contain a NUL character" },
		{ "{\"interfaces\":[{\"name\":\"eth0\",\"mac\":true}]}",
		  "prevResult.interfaces[0].mac: must be a string, not a boolean" },
		{ "{\"interfaces\":[{\"name\":\"eth0\",\"mtu\":70000}]}",
		  "prevResult.interfaces[0].mtu: 70000 is out of range (0 to 65536)" },
		{ "{\"interfaces\":[{\"name\":\"eth0\",\"mtu\":\"1500\"}]}",
		  "prevResult.interfaces[0].mtu: must be an integer, not a string" },
		{ "{\"routes\":[{\"gw\":\"10.0.0.1\"}]}",
		  "prevResult.routes[0].dst: required field is missing" },
		{ "{\"routes\":[{\"dst\":\"default\"}]}",
		  "prevResult.routes[0].dst: \"default\" is not an IP address with prefix length" },
		{ "{\"routes\":[{\"dst\":\"::/0\",\"gw\":\"10.0.0.1\"}]}",
		  "prevResult.routes[0].gw: 10.0.0.1 is not of the same IP family as ::/0" },
		{ "{\"routes\":[{\"dst\":\"::/0\",\"scope\":256}]}",
		  "prevResult.routes[0].scope: 256 is out of range (0 to 255)" },
		{ "{\"routes\":[{\"dst\":\"::/0\",\"table\":-3}]}",
		  "prevResult.routes[0].table: -3 is out of range" },
		{ "{\"dns\":[]}", "prevResult.dns: must be an object, not an array" },
		{ "{\"dns\":{\"nameservers\":\"10.0.0.1\"}}",
		  "prevResult.dns.nameservers: must be an array, not a string" },
		{ "{\"dns\":{\"nameservers\":[\"10.0.0.1\",1]}}",
		  "prevResult.dns.nameservers[1]: must be a string, not an integer" },
		{ "{\"dns\":{\"domain\":[]}}",
		  "prevResult.dns.domain: must be a string, not an array" },
		{ "{\"dns\":{\"options\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}}",
		  "prevResult.dns.options: too many options (17), at most 16" },
	};
	struct loom_result r;
	struct loom_err err;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *j = parse(cases[i].json);

		loom_err_clear(&err);
		if (loom_result_from_json(j, "prevResult", &r, &err) != -1)
			fail_msg("accepted %s", cases[i].json);
		json_decref(j);
		assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
		if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("for %s\n got: %s\nwant: %s", cases[i].json, err.msg,
				 cases[i].msg);
		/* a failed decode leaves nothing half-filled */
		assert_int_equal(r.n_ifaces + r.n_ips + r.n_routes, 0);
	}
}

/* Bounds: the maximum decodes, one more names the limit. */
static void test_limits(void **state)
{
	static const struct {
		const char *key, *elem, *msg;
		int max;
	} cases[] = {
		{ "ips", "{\"address\":\"10.0.0.1/8\"}",
		  "prevResult.ips: too many ips (17), at most 16", LOOM_RESULT_MAX_IPS },
		{ "interfaces", "{\"name\":\"eth0\"}",
		  "prevResult.interfaces: too many interfaces (9), at most 8",
		  LOOM_RESULT_MAX_IFACES },
		{ "routes", "{\"dst\":\"10.0.0.0/8\"}",
		  "prevResult.routes: too many routes (65), at most 64", LOOM_RESULT_MAX_ROUTES },
	};
	struct loom_result r;
	struct loom_err err;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		for (int n = cases[i].max; n <= cases[i].max + 1; n++) {
			json_t *arr = json_array(), *doc = json_object();

			for (int k = 0; k < n; k++)
				json_array_append_new(arr, parse(cases[i].elem));
			json_object_set_new(doc, cases[i].key, arr);
			int rc = loom_result_from_json(doc, "prevResult", &r, &err);

			json_decref(doc);
			if (n == cases[i].max) {
				assert_int_equal(rc, 0);
			} else {
				assert_int_equal(rc, -1);
				assert_string_equal(err.msg, cases[i].msg);
			}
		}
	}

	/* `what` names the document: a delegate's answer, not a prevResult */
	json_t *j = parse("{\"ips\":[{\"address\":\"x\"}]}");

	assert_int_equal(loom_result_from_json(j, "result of loom-ipam", &r, &err), -1);
	assert_string_equal(
		err.msg,
		"result of loom-ipam.ips[0].address: \"x\" is not an IP address with prefix length");
	json_decref(j);
	assert_int_equal(loom_result_from_json(NULL, "prevResult", &r, &err), -1);
}

static void test_version_and_cmd_names(void **state)
{
	enum loom_cni_version v;
	enum loom_cni_cmd c;

	(void)state;
	/* every enum value has a name that parses back to it */
	for (int i = 0; i < LOOM_CNI_VERSION_COUNT; i++) {
		const char *s = loom_cni_version_str((enum loom_cni_version)i);

		assert_non_null(s);
		assert_int_equal(loom_cni_version_parse(s, &v), 0);
		assert_int_equal(v, i);
	}
	for (int i = LOOM_CMD_ADD; i <= LOOM_CMD_STATUS; i++) {
		const char *s = loom_cni_cmd_str((enum loom_cni_cmd)i);

		assert_non_null(s);
		assert_int_equal(loom_cni_cmd_parse(s, &c), 0);
		assert_int_equal(c, i);
	}
	assert_string_equal(loom_cni_version_str(LOOM_CNI_VERSION_LATEST), "1.1.0");
	assert_string_equal(loom_cni_cmd_str(LOOM_CMD_STATUS), "STATUS");
	assert_int_equal(loom_cni_cmd_parse("CHECK", &c), 0);
	assert_int_equal(c, LOOM_CMD_CHECK);

	static const char *const bad_versions[] = { "0.2.0", "0.1.0",  "1.0",   "1.2.0",
						    "",      " 1.0.0", "1.0.0 " };
	static const char *const bad_cmds[] = { "add", "Add", "", "ADD ", "DELETE", "UPDATE" };

	for (size_t i = 0; i < N(bad_versions); i++)
		assert_int_not_equal(loom_cni_version_parse(bad_versions[i], &v), 0);
	for (size_t i = 0; i < N(bad_cmds); i++)
		assert_int_not_equal(loom_cni_cmd_parse(bad_cmds[i], &c), 0);
	assert_int_not_equal(loom_cni_cmd_parse(NULL, &c), 0);
	assert_null(loom_cni_version_str(LOOM_CNI_VERSION_COUNT));
}

LOOM_TEST_MAIN(cmocka_unit_test(test_encode_versions), cmocka_unit_test(test_round_trip),
	       cmocka_unit_test(test_empty), cmocka_unit_test(test_decode_031),
	       cmocka_unit_test(test_110_to_040), cmocka_unit_test(test_decode_errors),
	       cmocka_unit_test(test_limits), cmocka_unit_test(test_version_and_cmd_names))
