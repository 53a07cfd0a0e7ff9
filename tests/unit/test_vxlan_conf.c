/* loom-vxlan's config (plugins/vxlan/plugin_conf.c) and the lease file
 * parser (lib/pod/leasefile.c): lease file + config -> the loom-bridge config
 * and loom-ipam ranges it runs with, and every error a user can meet.
 * Files only (a mktemp dir); no kernel. */
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

#include "ipam.h"
#include "pod/leasefile.h"
#include "plugin.h"

#define LOOM_TEST_LEASE_DIR "vxconf"
#include "helpers.h"

/* ---- the lease file ---- */

static void test_lease_parse(void **state)
{
	struct loom_lease l;
	struct loom_err err;

	(void)state;
	assert_int_equal(loom_lease_parse("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n"
					  "LOOM_MTU=1450\nLOOM_IPMASQ=false\n",
					  "f", &l, &err),
			 0);
	assert_string_equal(pfx_str(&l.network), "10.244.0.0/16");
	assert_string_equal(pfx_str(&l.subnet), "10.244.3.0/24");
	assert_int_equal(l.mtu, 1450);
	assert_false(l.ipmasq);
	assert_false(l.has_ipv6);

	/* defaults: no MTU (kernel's), masquerade on; no trailing newline */
	assert_int_equal(loom_lease_parse("LOOM_SUBNET=10.1.2.0/24\nLOOM_NETWORK=10.1.0.0/16", "f",
					  &l, &err),
			 0);
	assert_int_equal(l.mtu, 0);
	assert_true(l.ipmasq);

	assert_int_equal(loom_lease_parse("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n"
					  "LOOM_IPV6_NETWORK=fd00:10:244::/56\n"
					  "LOOM_IPV6_SUBNET=fd00:10:244:3::/64\nLOOM_MTU=1430\n",
					  "f", &l, &err),
			 0);
	assert_true(l.has_ipv6);
	assert_string_equal(pfx_str(&l.subnet6), "fd00:10:244:3::/64");
}

static void test_lease_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "LOOM_SUBNET=10.244.3.0/24\n", "LOOM_NETWORK is missing" },
		{ "LOOM_NETWORK=10.244.0.0/16\n", "LOOM_SUBNET is missing" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.245.3.0/24\n", "is not inside" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.0.0.0/8\n", "is not inside" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.7/24\n", "host bits" },
		{ "LOOM_NETWORK=garbage\nLOOM_SUBNET=10.244.3.0/24\n",
		  "LOOM_NETWORK is not an IPv4" },
		{ "LOOM_NETWORK=fd00::/16\nLOOM_SUBNET=10.244.3.0/24\n",
		  "LOOM_NETWORK is not an IPv4" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_MTU=0\n",
		  "LOOM_MTU" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_MTU=1450x\n",
		  "LOOM_MTU" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_MTU=-1\n",
		  "LOOM_MTU" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_MTU=70000\n",
		  "LOOM_MTU" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_IPMASQ=yes\n",
		  "LOOM_IPMASQ" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n"
		  "LOOM_IPV6_NETWORK=fd00::/56\n",
		  "go together" },
		{ "LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n"
		  "LOOM_IPV6_NETWORK=fd00::/56\nLOOM_IPV6_SUBNET=fd01::/64\n",
		  "LOOM_IPV6_SUBNET fd01::/64 is not inside" },
	};
	struct loom_lease l;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		loom_err_clear(&err);
		if (loom_lease_parse(cases[i].text, "/run/x.env", &l, &err) != -1 ||
		    err.code != LOOM_ERR_INVALID_CONFIG || !strstr(err.msg, cases[i].want) ||
		    !strstr(err.msg, "/run/x.env"))
			fail_msg("case %zu: got code %d \"%s\", want 7 with \"%s\"", i, err.code,
				 err.msg, cases[i].want);
	}
}

/* ---- config -> delegate ---- */

struct built {
	struct loom_cni_ctx ctx;
	struct loom_vx_net *d;
	const struct loom_ipam_conf *ic;
	struct loom_err err;
};

/* Parse `conf` (with "runDir" pointed at our dir), load the lease, build
 * the loom-bridge and loom-ipam configs.  -1 with b->err at the first
 * failure. */
static int build(const char *conf, enum loom_cni_cmd cmd, struct built *b)
{
	struct loom_vx_conf vc;
	struct loom_lease l;

	memset(b, 0, sizeof(*b));
	if (pod_ctx_parse(conf, cmd, &b->ctx, &b->err) < 0 ||
	    loom_vx_conf_parse(&b->ctx.conf, &vc, &b->err) < 0 ||
	    loom_vx_lease_load(&vc, &l, &b->err) < 0 ||
	    loom_vx_net_make(&b->ctx, &l, &b->d, &b->err) < 0)
		return -1;
	b->ic = &b->d->ipam;
	return 0;
}

static void build_ok(const char *conf, enum loom_cni_cmd cmd, struct built *b)
{
	if (build(conf, cmd, b) < 0)
		fail_msg("%s", b->err.msg);
}

static void built_free(struct built *b)
{
	loom_vx_net_free(b->d);
	loom_netconf_free(&b->ctx.conf);
}

#define BASE "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"loom-vxlan\",\"runDir\":\"%s\""

static void test_defaults(void **state)
{
	struct built b;
	const struct loom_br_conf *c;
	const struct loom_ipam_range *r;

	(void)state;
	write_lease("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_MTU=1450\n"
		    "LOOM_IPMASQ=true\n");
	build_ok(BASE "}", LOOM_CMD_ADD, &b);
	c = &b.d->br;
	assert_string_equal(c->network, "net1");
	assert_string_equal(c->bridge, "loom0");
	assert_true(c->is_gw);
	assert_true(c->is_default_gw);
	assert_true(c->ip_masq);
	assert_false(c->hairpin);
	assert_int_equal(c->mtu, 1450);
	assert_true(c->layer3);
	assert_true(c->ipam_in_process);
	assert_string_equal(c->state_dir, LOOM_BR_DEFAULT_STATE_DIR);
	assert_int_equal(c->n_masq_exempt, 1);
	assert_string_equal(pfx_str(&c->masq_exempt[0]), "10.244.0.0/16");

	/* the node subnet from .2: .0 is the VXLAN device's, .1 the bridge's */
	assert_string_equal(b.ic->name, "net1");
	assert_string_equal(b.ic->data_dir, LOOM_IPAM_DEFAULT_DATA_DIR);
	assert_int_equal(b.ic->n_sets, 1);
	r = &b.ic->sets[0].r[0];
	assert_string_equal(pfx_str(&r->subnet), "10.244.3.0/24");
	assert_string_equal(ip_str(&r->start), "10.244.3.2");
	assert_string_equal(ip_str(&r->end), "10.244.3.254");
	assert_true(r->has_gateway);
	assert_string_equal(ip_str(&r->gateway), "10.244.3.1");
	/* the cluster CIDR via the gateway */
	assert_int_equal(b.ic->n_routes, 1);
	assert_string_equal(pfx_str(&b.ic->routes[0].dst), "10.244.0.0/16");
	assert_true(b.ic->routes[0].has_gw);
	assert_string_equal(ip_str(&b.ic->routes[0].gw), "10.244.3.1");
	built_free(&b);
}

static void test_overrides(void **state)
{
	struct built b;
	const struct loom_br_conf *c;

	(void)state;
	write_lease("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_MTU=1450\n"
		    "LOOM_IPMASQ=true\n");
	build_ok(BASE ",\"bridge\":\"br9\",\"mtu\":1400,\"ipMasq\":false,\"hairpinMode\":true,"
		      "\"isDefaultGateway\":false,\"antiSpoof\":false,\"stateDir\":\"/tmp/st\","
		      "\"dataDir\":\"/tmp/ipam\",\"bpfPinDir\":\"/tmp/bpf\"}",
		 LOOM_CMD_ADD, &b);
	c = &b.d->br;
	assert_string_equal(c->bridge, "br9");
	assert_int_equal(c->mtu, 1400);
	assert_false(c->ip_masq);
	assert_true(c->hairpin);
	assert_false(c->is_default_gw);
	assert_true(c->is_gw);
	assert_false(c->anti_spoof);
	assert_string_equal(c->state_dir, "/tmp/st");
	assert_string_equal(c->bpf_pin_dir, "/tmp/bpf");
	assert_string_equal(b.ic->data_dir, "/tmp/ipam");
	built_free(&b);

	/* LOOM_IPMASQ=false turns the default off; no LOOM_MTU: none set */
	write_lease("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_IPMASQ=false\n");
	build_ok(BASE "}", LOOM_CMD_ADD, &b);
	assert_false(b.d->br.ip_masq);
	assert_int_equal(b.d->br.mtu, 0);
	built_free(&b);
}

static void test_dual_stack(void **state)
{
	struct built b;
	const struct loom_ipam_range *r;

	(void)state;
	write_lease("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n"
		    "LOOM_IPV6_NETWORK=fd00:10:244::/56\nLOOM_IPV6_SUBNET=fd00:10:244:3::/64\n"
		    "LOOM_MTU=1430\nLOOM_IPMASQ=true\n");
	build_ok(BASE "}", LOOM_CMD_ADD, &b);
	assert_int_equal(b.ic->n_sets, 2);
	r = &b.ic->sets[1].r[0];
	assert_string_equal(pfx_str(&r->subnet), "fd00:10:244:3::/64");
	assert_string_equal(ip_str(&r->start), "fd00:10:244:3::2");
	assert_string_equal(ip_str(&r->gateway), "fd00:10:244:3::1");
	assert_int_equal(b.ic->n_routes, 2);
	assert_string_equal(pfx_str(&b.ic->routes[1].dst), "fd00:10:244::/56");
	assert_string_equal(ip_str(&b.ic->routes[1].gw), "fd00:10:244:3::1");
	assert_int_equal(b.d->br.n_masq_exempt, 2);
	assert_string_equal(pfx_str(&b.d->br.masq_exempt[1]), "fd00:10:244::/56");
	assert_int_equal(b.d->br.mtu, 1430);
	built_free(&b);
}

/* runtimeConfig reaches loom-bridge's config; prevResult stays the
 * runtime's, which loom-bridge's CHECK reads. */
static void test_passthrough(void **state)
{
	struct built b;

	(void)state;
	write_lease("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n");
	build_ok(BASE ",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:07\"},"
		      "\"prevResult\":{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":"
		      "\"10.244.3.9/24\"}]}}",
		 LOOM_CMD_CHECK, &b);
	assert_true(b.d->br.has_mac);
	assert_int_equal(b.d->br.mac[5], 7);
	assert_true(b.ctx.conf.has_prev_result);
	assert_string_equal(pfx_str(&b.ctx.conf.prev_result.ips[0].address), "10.244.3.9/24");
	built_free(&b);
}

static void test_errors(void **state)
{
	static const struct {
		const char *conf;
		int code;
		const char *want;
	} cases[] = {
		{ BASE ",\"ipam\":{\"type\":\"loom-ipam\"}}", LOOM_ERR_INVALID_CONFIG, "ipam:" },
		{ BASE ",\"mtu\":\"1450\"}", LOOM_ERR_INVALID_CONFIG, "mtu:" },
		{ BASE ",\"mtu\":20}", LOOM_ERR_INVALID_CONFIG, "mtu:" },
		{ BASE ",\"ipMasq\":\"yes\"}", LOOM_ERR_INVALID_CONFIG,
		  "ipMasq: must be a boolean" },
		{ BASE ",\"bridge\":7}", LOOM_ERR_INVALID_CONFIG,
		  "bridge: must be a non-empty string" },
		{ BASE ",\"dataDir\":\"\"}", LOOM_ERR_INVALID_CONFIG, "dataDir" },
		/* the bridge's own checks, on our keys' values */
		{ BASE ",\"bridge\":\"a-name-too-long-for-linux\"}", LOOM_ERR_INVALID_CONFIG,
		  "bridge" },
		{ BASE ",\"stateDir\":\"relative\"}", LOOM_ERR_INVALID_CONFIG, "stateDir" },
		{ BASE ",\"dataDir\":\"relative\"}", LOOM_ERR_INVALID_CONFIG, "dataDir" },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"loom-vxlan\","
		  "\"runDir\":\"relative%s\"}",
		  LOOM_ERR_INVALID_CONFIG, "runDir" },
	};
	struct built b;
	size_t i;

	(void)state;
	write_lease("LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\n");
	for (i = 0; i < N(cases); i++) {
		int r = build(cases[i].conf, LOOM_CMD_ADD, &b);

		if (r != -1 || b.err.code != cases[i].code || !strstr(b.err.msg, cases[i].want))
			fail_msg("case %zu: got %d, code %d \"%s\"; want code %d with \"%s\"", i, r,
				 b.err.code, b.err.msg, cases[i].code, cases[i].want);
		built_free(&b);
	}
}

/* No lease file: try again later (code 11), naming the file and loomd. */
static void test_no_lease(void **state)
{
	char path[256], want[400];
	struct built b;

	(void)state;
	snprintf(path, sizeof(path), "%s/net1.env", dir);
	unlink(path);
	assert_int_equal(build(BASE "}", LOOM_CMD_ADD, &b), -1);
	assert_int_equal(b.err.code, LOOM_ERR_TRY_AGAIN);
	snprintf(want, sizeof(want), "lease file %s not found: is loomd running on this node?",
		 path);
	assert_string_equal(b.err.msg, want);
	assert_null(b.d);
	built_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_parse), cmocka_unit_test(test_lease_errors),
		cmocka_unit_test(test_defaults),    cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_dual_stack),  cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_errors),      cmocka_unit_test(test_no_lease),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
