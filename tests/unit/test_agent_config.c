/* loomd's parsers: the command line, the Network object from the store,
 * and the plugins' endpoint records (file names and contents). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "agent.h"
#include "../../plugins/vxlan/mode.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAXARGS 32

static int parse(const char *line, const char *env, struct loomd_config *c, struct loom_err *err)
{
	char buf[1024], *argv[MAXARGS], *tok, *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "loomd %s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAXARGS - 1;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	memset(err, 0, sizeof(*err));
	return loomd_config_parse(argc, argv, env, c, err);
}

static void test_config_defaults(void **state)
{
	struct loomd_config c;
	struct loom_err err;
	char buf[LOOM_IP_STRLEN];

	(void)state;
	assert_int_equal(parse("--node n1 --address 192.0.2.11", NULL, &c, &err), 0);
	assert_string_equal(c.node, "n1");
	assert_string_equal(loom_ip_fmt(&c.address, buf), "192.0.2.11");
	assert_string_equal(c.network, "default");
	assert_string_equal(c.store_url, "file:/var/lib/loom/store");
	assert_string_equal(c.run_dir, "/run/loom");
	assert_string_equal(c.state_dir, "/run/loom/endpoints");
	assert_int_equal(c.ttl, 20);
	assert_false(c.once);
	assert_false(c.release_on_exit);
	assert_string_equal(c.metrics_address, ""); /* no HTTP endpoints unless asked */

	/* LOOM_STORE when --store is absent; --store over LOOM_STORE. */
	assert_int_equal(parse("--node n1 --address 192.0.2.11", "etcd:http://h:2379", &c, &err),
			 0);
	assert_string_equal(c.store_url, "etcd:http://h:2379");
	assert_int_equal(parse("--node n1 --address 192.0.2.11 --store file:/x",
			       "etcd:http://h:2379", &c, &err),
			 0);
	assert_string_equal(c.store_url, "file:/x");
}

static void test_config_all(void **state)
{
	struct loomd_config c;
	struct loom_err err;

	(void)state;
	assert_int_equal(
		parse("--node node-b --address 2001:db8::2 --network blue --store file:/s "
		      "--run-dir /tmp/r --state-dir /tmp/e --ttl 2 --once --release-on-exit "
		      "--metrics-address [::1]:9650",
		      NULL, &c, &err),
		0);
	assert_string_equal(c.metrics_address, "[::1]:9650");
	assert_string_equal(c.network, "blue");
	assert_string_equal(c.run_dir, "/tmp/r");
	assert_string_equal(c.state_dir, "/tmp/e");
	assert_int_equal(c.ttl, 2);
	assert_true(c.once);
	assert_true(c.release_on_exit);
	assert_int_equal(c.address.family, AF_INET6);
	assert_int_equal(parse("--help", NULL, &c, &err), 1);
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *line;
		const char *msg;
	} t[] = {
		{ "--address 192.0.2.1", "--node: required" },
		{ "--node n1", "--address: required" },
		{ "--node n1 --address 192.0.2.300",
		  "--address: \"192.0.2.300\" is not an IP address" },
		{ "--node a/b --address 192.0.2.1", "--node: \"a/b\" must be" },
		{ "--node n1 --address 192.0.2.1 --network x:y", "--network: \"x:y\" must be" },
		{ "--node n1 --address 192.0.2.1 --ttl 0", "--ttl: 0 is not a number of seconds" },
		{ "--node n1 --address 192.0.2.1 --ttl 5s", "--ttl: 5s is not" },
		{ "--node n1 --address 192.0.2.1 --run-dir run",
		  "--run-dir: run must be an absolute path" },
		{ "--node n1 --address 192.0.2.1 --state-dir x",
		  "--state-dir: x must be an absolute" },
		{ "--node n1 --address 192.0.2.1 --bogus", "--bogus: unknown option" },
		{ "--node n1 --address 192.0.2.1 extra", "unexpected argument \"extra\"" },
	};
	struct loomd_config c;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		assert_int_equal(parse(t[i].line, NULL, &c, &err), -1);
		assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
		if (strncmp(err.msg, t[i].msg, strlen(t[i].msg)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", t[i].line, err.msg, t[i].msg);
	}
}

static void test_network_ok(void **state)
{
	static const char doc[] =
		"{\"apiVersion\":\"loom.dev/v1\",\"kind\":\"Network\",\"metadata\":{\"name\":\"default\"},"
		"\"spec\":{\"cidr\":\"10.244.0.0/16\",\"cidr6\":\"fd00:10:244::/56\",\"subnetLength\":25,"
		"\"mtu\":1400,\"backend\":{\"type\":\"bgp\"}}}";
	struct loom_network n;
	struct loom_err err = { 0 };
	char buf[LOOM_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(loomd_network_parse(doc, strlen(doc), &n, &err), 0);
	assert_string_equal(loom_prefix_fmt(&n.cidr, buf), "10.244.0.0/16");
	assert_int_equal(n.subnet_len, 25);
	assert_true(n.has_cidr6);
	assert_string_equal(loom_prefix_fmt(&n.cidr6, buf), "fd00:10:244::/56");
	assert_int_equal(n.subnet_len6, 64);
	assert_int_equal(n.mtu, 1400);
	assert_ptr_equal(n.mode, loom_mode_by_name("bgp"));

	static const char min[] = "{\"spec\":{\"cidr\":\"10.0.0.0/8\"}}";
	assert_int_equal(loomd_network_parse(min, strlen(min), &n, &err), 0);
	assert_int_equal(n.subnet_len, 24);
	assert_false(n.has_cidr6);
	assert_int_equal(n.mtu, 0);
	assert_ptr_equal(n.mode, loom_mode_by_name("vxlan"));
	assert_int_equal(loom_vxlan_section(&n)->vni, 1);
	assert_int_equal(loom_vxlan_section(&n)->port, 8472);
}

static void test_network_errors(void **state)
{
	static const struct {
		const char *doc;
		const char *msg;
	} t[] = {
		{ "[", "not JSON" },
		{ "[]", "must be an object, not an array" },
		{ "{\"kind\":\"Pod\",\"spec\":{}}", "kind: must be \"Network\"" },
		{ "{}", "spec: required" },
		{ "{\"spec\":{}}", "spec.cidr: required" },
		{ "{\"spec\":{\"cidr\":7}}", "spec.cidr: must be a string" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.0\"}}",
		  "spec.cidr: \"10.0.0.0\": must be an IPv4 CIDR" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.1/8\"}}",
		  "spec.cidr: \"10.0.0.1/8\": has host bits set (the network is 10.0.0.0/8)" },
		{ "{\"spec\":{\"cidr\":\"fd00::/48\"}}",
		  "spec.cidr: \"fd00::/48\": must be an IPv4 CIDR" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.0/16\",\"subnetLength\":8}}",
		  "spec.subnetLength: must be between 16 (the prefix length of spec.cidr) and 30" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.0/16\",\"subnetLength\":\"24\"}}",
		  "spec.subnetLength: must be an integer, not a string" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.0/16\",\"cidr6\":\"10.1.0.0/16\"}}",
		  "spec.cidr6: \"10.1.0.0/16\": must be an IPv6 CIDR" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.0/16\",\"mtu\":20}}",
		  "spec.mtu: must be between 576" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.0/16\",\"backend\":{\"type\":\"gre\"}}}",
		  "spec.backend.type: unsupported value \"gre\": supported values: \"vxlan\", \"bgp\", \"none\"" },
		{ "{\"spec\":{\"cidr\":\"10.0.0.0/16\",\"backend\":{\"vxlan\":{\"vni\":0}}}}",
		  "spec.backend.vxlan.vni: must be between 1 and 16777215" },
		/* the model takes an IPv6-only Network; loomd cannot lease from it */
		{ "{\"spec\":{\"cidr6\":\"fd00::/48\"}}",
		  "spec.cidr: required: loomd leases IPv4 blocks" },
	};
	struct loom_network n;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(loomd_network_parse(t[i].doc, strlen(t[i].doc), &n, &err), -1);
		if (strncmp(err.msg, t[i].msg, strlen(t[i].msg)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", t[i].doc, err.msg, t[i].msg);
	}
}

static void test_record_names(void **state)
{
	static const struct {
		const char *name;
		int ret;
		const char *net, *cid, *ifn;
	} t[] = {
		{ "default:abc123:eth0.json", 0, "default", "abc123", "eth0" },
		{ "blue:c-1.x_y:net1.json", 0, "blue", "c-1.x_y", "net1" },
		{ ".default:abc:eth0.12.tmp", -EINVAL, 0, 0, 0 }, /* the plugin's temp file */
		{ ".default:abc:eth0.json", -EINVAL, 0, 0, 0 },
		{ "default:abc:eth0.txt", -EINVAL, 0, 0, 0 },
		{ "default:abc.json", -EINVAL, 0, 0, 0 },
		{ "default::eth0.json", -EINVAL, 0, 0, 0 },
		{ "default:abc:.json", -EINVAL, 0, 0, 0 },
		{ "default:abc:eth:0.json", -EINVAL, 0, 0, 0 },
		{ "default:..:eth0.json", -EINVAL, 0, 0, 0 },
		{ ".json", -EINVAL, 0, 0, 0 },
	};
	struct loomd_record_id id;
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		int r = loomd_record_name_parse(t[i].name, &id);

		if (r != t[i].ret)
			fail_msg("%s: got %d want %d", t[i].name, r, t[i].ret);
		if (r == 0) {
			assert_string_equal(id.network, t[i].net);
			assert_string_equal(id.container_id, t[i].cid);
			assert_string_equal(id.ifname, t[i].ifn);
		}
	}
}

static void test_endpoint_value(void **state)
{
	/* What loom-bridge writes (plugins/bridge/record.c). */
	static const char rec[] =
		"{\"plugin\":\"loom-bridge\",\"network\":\"default\",\"containerID\":\"abc\","
		"\"ifname\":\"eth0\",\"hostVeth\":\"veth1234\",\"bridge\":\"cni0\","
		"\"mac\":\"0a:58:0a:f4:03:05\",\"ips\":[\"10.244.3.5/24\"],\"netns\":\"/run/netns/x\","
		"\"podNamespace\":\"ns1\",\"podName\":\"web\",\"ipMasq\":true,\"macspoofchk\":false}";
	struct loomd_record_id id;
	struct loom_err err = { 0 };
	char key[256];
	json_t *v;
	char *text;

	(void)state;
	assert_int_equal(loomd_record_name_parse("default:abc:eth0.json", &id), 0);
	v = loomd_endpoint_from_record("node-a", &id, rec, strlen(rec), &err);
	assert_non_null(v);
	text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(
		text, "{\"containerID\":\"abc\",\"hostVeth\":\"veth1234\",\"ifname\":\"eth0\","
		      "\"ips\":[\"10.244.3.5/24\"],\"mac\":\"0a:58:0a:f4:03:05\","
		      "\"network\":\"default\",\"node\":\"node-a\",\"podName\":\"web\","
		      "\"podNamespace\":\"ns1\"}");
	free(text);
	json_decref(v);
	assert_int_equal(loomd_endpoint_key("node-a", &id, key, sizeof(key)), 0);
	assert_string_equal(key, "/loom/endpoints/node-a/abc/eth0");
	assert_int_equal(loomd_endpoint_prefix_key("node-a", key, sizeof(key)), 0);
	assert_string_equal(key, "/loom/endpoints/node-a/");
}

static void test_endpoint_bad_records(void **state)
{
	static const struct {
		const char *rec;
		const char *msg;
	} t[] = {
		{ "{", "not JSON" },
		{ "[]", "must be a JSON object" },
		{ "{\"containerID\":\"abc\",\"ifname\":\"eth0\"}", "network: required" },
		{ "{\"network\":\"default\",\"containerID\":\"other\",\"ifname\":\"eth0\"}",
		  "network, containerID and ifname do not match the file name" },
		{ "{\"network\":\"default\",\"containerID\":\"abc\",\"ifname\":\"eth0\",\"ips\":[\"x\"]}",
		  "ips[0]: must be a CIDR" },
		{ "{\"network\":\"default\",\"containerID\":\"abc\",\"ifname\":\"eth0\",\"mac\":5}",
		  "mac: must be a string" },
	};
	struct loomd_record_id id;
	struct loom_err err;
	size_t i;

	(void)state;
	assert_int_equal(loomd_record_name_parse("default:abc:eth0.json", &id), 0);
	for (i = 0; i < N(t); i++) {
		memset(&err, 0, sizeof(err));
		assert_null(loomd_endpoint_from_record("n", &id, t[i].rec, strlen(t[i].rec), &err));
		if (strncmp(err.msg, t[i].msg, strlen(t[i].msg)) != 0)
			fail_msg("%s: got \"%s\", want \"%s...\"", t[i].rec, err.msg, t[i].msg);
	}
}

static void test_name_valid(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{ "node-1.example_x", true },
		{ "", false },
		{ "..", false },
		{ "a b", false },
		{ "a:b", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (loomd_name_valid(cases[i].name) != cases[i].valid)
			fail_msg("loomd_name_valid(\"%s\") is not %d", cases[i].name,
				 cases[i].valid);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_config_defaults), cmocka_unit_test(test_config_all),
	       cmocka_unit_test(test_config_errors), cmocka_unit_test(test_network_ok),
	       cmocka_unit_test(test_network_errors), cmocka_unit_test(test_record_names),
	       cmocka_unit_test(test_endpoint_value), cmocka_unit_test(test_endpoint_bad_records),
	       cmocka_unit_test(test_name_valid))
