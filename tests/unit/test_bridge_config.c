/* loom-bridge's config: every key the reference accepts, the defaults a
 * user relies on, and the combinations refused with a message that names
 * the field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "conf.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const known[] = { "MAC", "IP", NULL };

/* Parse `body` (the keys after name/type/cniVersion) with CNI_ARGS `env`. */
static int parse(const char *body, const char *env, struct loom_br_conf *c, struct loom_err *err)
{
	struct loom_cni_args args;
	struct loom_netconf nc;
	char doc[4096];
	int r;

	snprintf(doc, sizeof(doc),
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"loom-bridge\"%s%s}",
		 body[0] ? "," : "", body);
	loom_err_clear(err);
	memset(&args, 0, sizeof(args));
	if (loom_cni_args_parse(env, known, &args, err) < 0)
		return -1;
	if (loom_netconf_parse(doc, strlen(doc), LOOM_CMD_ADD, &nc, err) < 0)
		fail_msg("test config does not parse: %s", err->msg);
	r = loom_br_conf_parse(&nc, &args, c, err);
	loom_netconf_free(&nc);
	return r;
}

static void test_defaults(void **state)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	struct loom_err err;

	(void)state;
	assert_int_equal(parse("", NULL, c, &err), 0);
	assert_string_equal(c->network, "net1");
	assert_string_equal(c->bridge, "cni0");
	assert_false(c->is_gw);
	assert_false(c->is_default_gw);
	assert_false(c->ip_masq);
	assert_false(c->hairpin);
	assert_false(c->promisc);
	assert_false(c->spoofchk);
	assert_false(c->enable_dad); /* IPv6 addresses get NODAD */
	assert_false(c->disable_container_iface);
	assert_false(c->port_isolation);
	assert_true(c->preserve_default_vlan);
	assert_int_equal(c->mtu, 0);
	assert_int_equal(c->vlan, 0);
	assert_int_equal(c->n_trunk, 0);
	assert_false(c->has_mac);
	assert_false(c->layer3); /* no ipam: layer 2 only */
	assert_false(c->has_dns);
	assert_string_equal(c->state_dir, "/run/loom/endpoints");
	free(c);
}

/* Every boolean key sets its field, and only its field. */
#define FIELD(key, field)                                 \
	{                                                 \
		key, offsetof(struct loom_br_conf, field) \
	}
static const struct {
	const char *key;
	size_t off;
} bools[] = {
	FIELD("isGateway", is_gw),
	FIELD("forceAddress", force_address),
	FIELD("ipMasq", ip_masq),
	FIELD("hairpinMode", hairpin),
	FIELD("promiscMode", promisc),
	FIELD("macspoofchk", spoofchk),
	FIELD("enabledad", enable_dad),
	FIELD("disableContainerInterface", disable_container_iface),
	FIELD("portIsolation", port_isolation),
};

static void test_bools(void **state)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	struct loom_err err;
	char body[128];
	size_t i, k;

	(void)state;
	for (i = 0; i < N(bools); i++) {
		snprintf(body, sizeof(body), "\"%s\": true", bools[i].key);
		assert_int_equal(parse(body, NULL, c, &err), 0);
		for (k = 0; k < N(bools); k++)
			if (*(bool *)((char *)c + bools[k].off) != (k == i))
				fail_msg("%s: field of %s is %d", bools[i].key, bools[k].key,
					 k != i);
		/* null means "not given", as in Go */
		snprintf(body, sizeof(body), "\"%s\": null", bools[i].key);
		assert_int_equal(parse(body, NULL, c, &err), 0);
		assert_false(*(bool *)((char *)c + bools[i].off));
		snprintf(body, sizeof(body), "\"%s\": \"yes\"", bools[i].key);
		assert_int_equal(parse(body, NULL, c, &err), -1);
		assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
		if (strncmp(err.msg, bools[i].key, strlen(bools[i].key)) != 0 ||
		    !strstr(err.msg, "boolean"))
			fail_msg("%s: message \"%s\" does not name the field", bools[i].key,
				 err.msg);
	}
	free(c);
}

static void test_values(void **state)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	struct loom_err err;

	(void)state;
	assert_int_equal(parse("\"isDefaultGateway\": true", NULL, c, &err), 0);
	assert_true(c->is_default_gw);
	assert_true(c->is_gw); /* implied */

	assert_int_equal(parse("\"bridge\": \"br-pods\", \"mtu\": 1400", NULL, c, &err), 0);
	assert_string_equal(c->bridge, "br-pods");
	assert_int_equal(c->mtu, 1400);

	assert_int_equal(parse("\"ipam\": {}", NULL, c, &err), 0);
	assert_false(c->layer3);
	assert_int_equal(parse("\"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.1.0.0/16\"}",
			       NULL, c, &err),
			 0);
	assert_true(c->layer3);
	assert_false(c->ipam_in_process);
	assert_string_equal(c->ipam_type, "host-local");
	assert_int_equal(parse("\"ipam\": {\"type\": \"loom-ipam\"}", NULL, c, &err), 0);
	assert_true(c->layer3);
	assert_true(c->ipam_in_process);

	assert_int_equal(parse("\"ipMasq\": true, \"ipMasqBackend\": \"iptables\"", NULL, c, &err),
			 0);
	assert_true(c->ip_masq);
	assert_int_equal(parse("\"ipMasqBackend\": \"nftables\"", NULL, c, &err), 0);

	assert_int_equal(parse("\"stateDir\": \"/run/loom/ep\"", NULL, c, &err), 0);
	assert_string_equal(c->state_dir, "/run/loom/ep");

	assert_int_equal(
		parse("\"dns\": {\"nameservers\": [\"10.96.0.10\"], \"domain\": \"cluster.local\","
		      " \"search\": [\"a.svc\", \"svc\"], \"options\": [\"ndots:5\"]}",
		      NULL, c, &err),
		0);
	assert_true(c->has_dns);
	assert_int_equal(c->dns.n_nameservers, 1);
	assert_string_equal(c->dns.nameservers[0], "10.96.0.10");
	assert_string_equal(c->dns.domain, "cluster.local");
	assert_int_equal(c->dns.n_search, 2);
	assert_string_equal(c->dns.search[1], "svc");
	assert_string_equal(c->dns.options[0], "ndots:5");
	/* An empty list still replaces IPAM's DNS, as in the reference. */
	assert_int_equal(parse("\"dns\": {\"nameservers\": []}", NULL, c, &err), 0);
	assert_true(c->has_dns);
	assert_int_equal(parse("\"dns\": {}", NULL, c, &err), 0);
	assert_false(c->has_dns);

	assert_int_equal(parse("\"vlan\": 100, \"preserveDefaultVlan\": false", NULL, c, &err), 0);
	assert_int_equal(c->vlan, 100);
	assert_false(c->preserve_default_vlan);
	assert_int_equal(
		parse("\"vlanTrunk\": [{\"minID\": 10, \"maxID\": 12}, {\"id\": 11}, {\"id\": 4}]",
		      NULL, c, &err),
		0);
	assert_int_equal(c->n_trunk, 4); /* sorted and unique */
	assert_int_equal(c->trunk[0], 4);
	assert_int_equal(c->trunk[1], 10);
	assert_int_equal(c->trunk[3], 12);
	free(c);
}

/* The MAC: runtimeConfig.mac wins over args.cni.mac, which wins over
 * CNI_ARGS MAC=; an empty one does not count. */
static const struct {
	const char *body, *env, *mac, *from;
} macs[] = {
	{ "", "MAC=0a:58:0a:16:00:05", "0a:58:0a:16:00:05", "CNI_ARGS MAC" },
	{ "", "IgnoreUnknown=1;K8S_POD_NAME=x;MAC=0A-58-0A-16-00-06", "0a:58:0a:16:00:06",
	  "CNI_ARGS MAC" },
	{ "\"args\": {\"cni\": {\"mac\": \"0a:58:0a:16:00:07\"}}", "MAC=0a:58:0a:16:00:05",
	  "0a:58:0a:16:00:07", "args.cni.mac" },
	{ "\"args\": {\"cni\": {\"mac\": \"0a:58:0a:16:00:07\"}}, \"runtimeConfig\": {\"mac\": "
	  "\"0a:58:0a:16:00:08\"}",
	  "MAC=0a:58:0a:16:00:05", "0a:58:0a:16:00:08", "runtimeConfig.mac" },
	{ "\"runtimeConfig\": {\"mac\": \"\"}", "MAC=0a:58:0a:16:00:05", "0a:58:0a:16:00:05",
	  "CNI_ARGS MAC" },
};

static void test_mac(void **state)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	char buf[LOOM_MAC_STRLEN];
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(macs); i++) {
		if (parse(macs[i].body, macs[i].env, c, &err) < 0)
			fail_msg("mac case %zu: %s", i, err.msg);
		assert_true(c->has_mac);
		assert_string_equal(loom_mac_fmt(c->mac, buf), macs[i].mac);
		assert_string_equal(c->mac_from, macs[i].from);
	}
	free(c);
}

/* Refused configs: the code and the start of the message (the field). */
static const struct {
	const char *body, *env;
	int code;
	const char *msg;
} bad[] = {
	{ "\"hairpinMode\": true, \"promiscMode\": true", NULL, LOOM_ERR_INVALID_CONFIG,
	  "hairpinMode, promiscMode: cannot set hairpin mode and promiscuous mode" },
	{ "\"bridge\": \"\"", NULL, LOOM_ERR_INVALID_CONFIG, "bridge: is empty" },
	{ "\"bridge\": \"a-very-long-bridge\"", NULL, LOOM_ERR_INVALID_CONFIG,
	  "bridge: longer than 15" },
	{ "\"bridge\": \"br/0\"", NULL, LOOM_ERR_INVALID_CONFIG, "bridge: \"br/0\" contains" },
	{ "\"bridge\": \"br 0\"", NULL, LOOM_ERR_INVALID_CONFIG, "bridge: \"br 0\" contains" },
	{ "\"bridge\": 7", NULL, LOOM_ERR_INVALID_CONFIG, "bridge: must be a string" },
	{ "\"mtu\": 50", NULL, LOOM_ERR_INVALID_CONFIG, "mtu: 50 is out of range" },
	{ "\"mtu\": -1", NULL, LOOM_ERR_INVALID_CONFIG, "mtu: -1 is out of range" },
	{ "\"mtu\": 70000", NULL, LOOM_ERR_INVALID_CONFIG, "mtu: 70000 is out of range" },
	{ "\"mtu\": 1500.5", NULL, LOOM_ERR_INVALID_CONFIG, "mtu: must be an integer" },
	{ "\"mtu\": \"1500\"", NULL, LOOM_ERR_INVALID_CONFIG, "mtu: must be an integer" },
	{ "\"vlan\": 4095", NULL, LOOM_ERR_INVALID_CONFIG, "vlan: invalid VLAN ID 4095" },
	{ "\"vlan\": -2", NULL, LOOM_ERR_INVALID_CONFIG, "vlan: invalid VLAN ID -2" },
	{ "\"vlan\": 5, \"vlanTrunk\": [{\"id\": 6}]", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlan, vlanTrunk: cannot set both" },
	{ "\"vlanTrunk\": {\"id\": 6}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlanTrunk: must be an array" },
	{ "\"vlanTrunk\": [{\"id\": 6}, 7]", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlanTrunk[1]: must be an object" },
	{ "\"vlanTrunk\": [{\"id\": 0}]", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlanTrunk[0].id: 0 is not a VLAN ID" },
	{ "\"vlanTrunk\": [{\"minID\": 5}]", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlanTrunk[0]: minID and maxID must be given together, maxID is missing" },
	{ "\"vlanTrunk\": [{\"id\": 1}, {\"maxID\": 5}]", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlanTrunk[1]: minID and maxID must be given together, minID is missing" },
	{ "\"vlanTrunk\": [{\"minID\": 9, \"maxID\": 5}]", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlanTrunk[0]: minID 9 is greater than maxID 5" },
	{ "\"vlanTrunk\": [{\"minID\": 1, \"maxID\": 4095}]", NULL, LOOM_ERR_INVALID_CONFIG,
	  "vlanTrunk[0].maxID: 4095 is not a VLAN ID" },
	{ "\"ipam\": {\"type\": \"host-local\"}, \"disableContainerInterface\": true", NULL,
	  LOOM_ERR_INVALID_CONFIG, "disableContainerInterface: cannot be used with IPAM" },
	{ "\"ipam\": {\"type\": 3}", NULL, LOOM_ERR_INVALID_CONFIG, "ipam.type: must be a string" },
	{ "\"ipam\": {\"type\": \"../sbin/x\"}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.type: \"../sbin/x\" must be a plugin name" },
	{ "\"ipMasqBackend\": \"pf\"", NULL, LOOM_ERR_INVALID_CONFIG, "ipMasqBackend: must be" },
	{ "\"stateDir\": \"relative/dir\"", NULL, LOOM_ERR_INVALID_CONFIG,
	  "stateDir: \"relative/dir\" must be an absolute path" },
	{ "\"runtimeConfig\": {\"mac\": \"0a:58:0a:16:00\"}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "runtimeConfig.mac: \"0a:58:0a:16:00\" is not a MAC address" },
	{ "\"runtimeConfig\": {\"mac\": \"01:00:5e:00:00:01\"}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "runtimeConfig.mac: 01:00:5e:00:00:01 is a multicast address" },
	{ "\"args\": {\"cni\": {\"mac\": \"00:00:00:00:00:00\"}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "args.cni.mac: 00:00:00:00:00:00 is not a usable address" },
	{ "\"args\": {\"cni\": \"x\"}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "args.cni: must be an object" },
	{ "", "MAC=zz:58:0a:16:00:05", LOOM_ERR_INVALID_ENV,
	  "CNI_ARGS MAC: \"zz:58:0a:16:00:05\" is not a MAC address" },
	{ "", "MAC=0a:58:0a:16-00-05", LOOM_ERR_INVALID_ENV, "CNI_ARGS MAC: " },
	{ "\"dns\": {\"nameservers\": [\"1.1.1.1\", 2]}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "dns.nameservers[1]: must be a string" },
	{ "\"dns\": {\"search\": \"a\"}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "dns.search: must be an array" },
	{ "\"dns\": {\"domain\": 1}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "dns.domain: must be a string" },
};

static void test_refused(void **state)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad); i++) {
		if (parse(bad[i].body, bad[i].env, c, &err) == 0)
			fail_msg("accepted: %s", bad[i].body);
		if (err.code != bad[i].code ||
		    strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("case %zu (%s): got code %d \"%s\", want %d \"%s...\"", i,
				 bad[i].body, err.code, err.msg, bad[i].code, bad[i].msg);
	}
	free(c);
}

/* verify() on hand-filled structs: what parse cannot produce must still
 * be refused before anything acts on it. */
static void test_verify(void **state)
{
	struct loom_br_conf *c = malloc(sizeof(*c));
	struct loom_err err;

	(void)state;
	assert_int_equal(parse("", NULL, c, &err), 0);
	assert_int_equal(loom_br_conf_verify(c, &err), 0);
	c->is_default_gw = true;
	assert_int_equal(loom_br_conf_verify(c, &err), -1);
	assert_non_null(strstr(err.msg, "isDefaultGateway"));
	c->is_default_gw = false;
	c->mtu = 10;
	assert_int_equal(loom_br_conf_verify(c, &err), -1);
	assert_non_null(strstr(err.msg, "mtu"));
	free(c);
}

static void test_mac_syntax(void **state)
{
	static const struct {
		const char *s;
		int r;
	} v[] = {
		{ "aa:bb:cc:dd:ee:ff", 0 },
		{ "AA-BB-CC-DD-EE-FF", 0 },
		{ "aa:bb:cc:dd:ee:f", -1 },
		{ "aa:bb:cc:dd:ee:fff", -1 },
		{ "aa:bb-cc:dd:ee:ff", -1 },
		{ "aabb.ccdd.eeff", -1 },
		{ "", -1 },
		{ "gg:bb:cc:dd:ee:ff", -1 },
	};
	uint8_t mac[LOOM_MAC_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < N(v); i++)
		if ((loom_mac_parse(v[i].s, mac) < 0 ? -1 : 0) != v[i].r)
			fail_msg("\"%s\": want %d", v[i].s, v[i].r);
	assert_int_equal(loom_mac_parse(NULL, mac), -EINVAL);
}

/* Host veth names: stable for an attachment, different across
 * attachments and salts, always a valid interface name. */
static void test_veth_names(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ], d[IFNAMSIZ];

	(void)state;
	loom_pod_veth_name(NULL, "3f2a9c", "eth0", 0, a);
	loom_pod_veth_name(NULL, "3f2a9c", "eth0", 0, b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 12);
	assert_memory_equal(a, "veth", 4);
	loom_pod_veth_name(NULL, "3f2a9c", "eth1", 0, c);
	assert_string_not_equal(a, c);
	loom_pod_veth_name(NULL, "3f2a9c", "eth0", 1, d);
	assert_string_not_equal(a, d);
	/* "<id>/<if>" is hashed as a whole: moving the split changes it */
	loom_pod_veth_name(NULL, "3f2a9ce", "th0", 0, b);
	assert_string_not_equal(a, b);
}

/* The endpoint record DEL depends on: written, read back field by field,
 * found by any network, refused when it is not a record, removed twice. */
static void test_record(void **state)
{
	struct loom_endpoint_record *r = calloc(1, sizeof(*r)), *back = calloc(1, sizeof(*back));
	char dir[] = "/tmp/loom-bridge-test-XXXXXX", sub[64], path[PATH_MAX];
	struct loom_err err;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/eps", dir); /* made on first write */
	snprintf(r->network, sizeof(r->network), "net1");
	snprintf(r->container_id, sizeof(r->container_id), "3f2a");
	snprintf(r->ifname, sizeof(r->ifname), "eth0");
	snprintf(r->host_veth, sizeof(r->host_veth), "veth0011aabb");
	snprintf(r->mac, sizeof(r->mac), "0a:58:0a:16:00:05");
	snprintf(r->netns, sizeof(r->netns), "/var/run/netns/p");
	snprintf(r->pod_namespace, sizeof(r->pod_namespace), "default");
	snprintf(r->pod_name, sizeof(r->pod_name), "web-0");
	r->n_ips = 2;
	assert_int_equal(loom_prefix_parse("10.22.0.5/24", &r->ips[0]), 0);
	assert_int_equal(loom_prefix_parse("fd00::5/64", &r->ips[1]), 0);
	r->masq = true;

	assert_int_equal(loom_endpoint_record_read(sub, "net1", "3f2a", "eth0", back, &err),
			 -ENOENT);
	assert_false(loom_endpoint_record_any(sub, "3f2a", "eth0"));
	assert_int_equal(loom_endpoint_record_write(sub, r, &err), 0);
	assert_int_equal(loom_endpoint_record_read(sub, "net1", "3f2a", "eth0", back, &err), 0);
	assert_string_equal(back->host_veth, "veth0011aabb");
	assert_string_equal(back->mac, "0a:58:0a:16:00:05");
	assert_string_equal(back->pod_name, "web-0");
	assert_int_equal(back->n_ips, 2);
	assert_true(loom_ip_eq(&back->ips[1].ip, &r->ips[1].ip));
	assert_int_equal(back->ips[0].len, 24);
	assert_true(back->masq);
	assert_false(back->spoofchk);
	assert_true(loom_endpoint_record_any(sub, "3f2a", "eth0"));
	assert_false(loom_endpoint_record_any(sub, "3f2", "eth0"));
	assert_false(loom_endpoint_record_any(sub, "3f2a", "eth1"));
	assert_int_equal(loom_endpoint_record_read(sub, "net2", "3f2a", "eth0", back, &err),
			 -ENOENT);

	/* Garbage under a record's name is not a record. */
	assert_int_equal(loom_endpoint_record_path(sub, "net1", "bad", "eth0", path, sizeof(path)),
			 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"network\": 1}", f);
	fclose(f);
	assert_int_equal(loom_endpoint_record_read(sub, "net1", "bad", "eth0", back, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not a loom-bridge record"));

	assert_int_equal(loom_endpoint_record_remove(sub, "net1", "3f2a", "eth0", &err), 0);
	assert_int_equal(loom_endpoint_record_remove(sub, "net1", "3f2a", "eth0", &err), 0);
	assert_int_equal(loom_endpoint_record_read(sub, "net1", "3f2a", "eth0", back, &err),
			 -ENOENT);
	assert_int_equal(loom_endpoint_record_remove(sub, "net1", "bad", "eth0", &err), 0);
	assert_int_equal(rmdir(sub), 0); /* nothing else was left behind */
	assert_int_equal(rmdir(dir), 0);
	free(r);
	free(back);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_defaults), cmocka_unit_test(test_bools),
	       cmocka_unit_test(test_values), cmocka_unit_test(test_mac),
	       cmocka_unit_test(test_refused), cmocka_unit_test(test_verify),
	       cmocka_unit_test(test_mac_syntax), cmocka_unit_test(test_veth_names),
	       cmocka_unit_test(test_record))
