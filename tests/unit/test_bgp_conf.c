/* loom-bgp's config (plugins/bgp/plugin_conf.c): lease file + config ->
 * the loom-bridge parts and loom-ipam ranges it runs with (the whole block,
 * no gateway handed out inside it), and every error a user can meet.
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

#define LOOM_TEST_LEASE_DIR "bgpconf"
#include "helpers.h"

static void remove_lease(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/net1.env", dir);
	unlink(path);
}

struct built {
	struct loom_cni_ctx ctx;
	struct loom_bgp_net *d;
	const struct loom_ipam_conf *ic;
	struct loom_err err;
};

/* Parse `conf` ("%s" is our dir, for runDir), build the configs.  -1 with
 * b->err at the first failure. */
static int build(const char *conf, enum loom_cni_cmd cmd, bool lenient, struct built *b)
{
	memset(b, 0, sizeof(*b));
	if (pod_ctx_parse(conf, cmd, &b->ctx, &b->err) < 0 ||
	    loom_bgp_net_make(&b->ctx, lenient, &b->d, &b->err) < 0)
		return -1;
	b->ic = &b->d->ipam;
	return 0;
}

static void build_ok(const char *conf, enum loom_cni_cmd cmd, bool lenient, struct built *b)
{
	if (build(conf, cmd, lenient, b) < 0)
		fail_msg("%s", b->err.msg);
}

static void built_free(struct built *b)
{
	loom_bgp_net_free(b->d);
	loom_netconf_free(&b->ctx.conf);
}

#define BASE "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"loom-bgp\",\"runDir\":\"%s\""

/* The lease's block and what loom-ipam makes of it: the first and last
 * address it may hand out and how many. */
static void test_blocks(void **state)
{
	static const struct {
		const char *lease;
		const char *subnet, *start, *end;
		uint64_t usable;
	} cases[] = {
		/* Every host address: .1 is a pod's, not a gateway's. */
		{ "LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.7.0/26\n", "10.245.7.0/26",
		  "10.245.7.1", "10.245.7.62", 62 },
		{ "LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.8.0/32\n", "10.245.8.0/32",
		  "10.245.8.0", "10.245.8.0", 1 },
		{ "LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.8.0/31\n", "10.245.8.0/31",
		  "10.245.8.0", "10.245.8.1", 2 },
		{ "LOOM_NETWORK=10.0.0.0/8\nLOOM_SUBNET=10.9.0.0/24\n", "10.9.0.0/24", "10.9.0.1",
		  "10.9.0.254", 254 },
	};
	struct built b;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		const struct loom_ipam_range *r;

		write_lease(cases[i].lease);
		if (build(BASE "}", LOOM_CMD_ADD, false, &b) < 0)
			fail_msg("case %zu: %s", i, b.err.msg);
		assert_int_equal(b.ic->n_sets, 1);
		r = &b.ic->sets[0].r[0];
		assert_string_equal(pfx_str(&r->subnet), cases[i].subnet);
		assert_string_equal(ip_str(&r->start), cases[i].start);
		assert_string_equal(ip_str(&r->end), cases[i].end);
		if (r->usable != cases[i].usable)
			fail_msg("case %zu: %llu usable, want %llu", i,
				 (unsigned long long)r->usable,
				 (unsigned long long)cases[i].usable);
		/* No routes from IPAM: the plugin sets the link-local gateway. */
		assert_int_equal(b.ic->n_routes, 0);
		built_free(&b);
	}
}

static void test_defaults(void **state)
{
	const struct loom_pod_conf *c;
	struct built b;

	(void)state;
	write_lease("LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.7.0/26\nLOOM_MTU=1500\n");
	build_ok(BASE "}", LOOM_CMD_ADD, false, &b);
	c = &b.d->view;
	assert_string_equal(c->network, "net1");
	/* Routed: no bridge; host routes per address. */
	assert_null(c->topo->bridge);
	assert_true(c->topo->host_routes);
	assert_string_equal(c->topo->veth_prefix, LOOM_BGP_VETH_PREFIX);
	assert_true(c->ip_masq); /* LOOM_IPMASQ absent means true */
	assert_int_equal(c->mtu, 1500);
	assert_true(c->layer3);
	assert_true(c->ipam->in_process);
	assert_true(c->anti_spoof);
	assert_string_equal(c->bpf_pin_dir, LOOM_POD_DEFAULT_BPF_PIN_DIR);
	assert_string_equal(c->state_dir, LOOM_POD_DEFAULT_STATE_DIR);
	assert_int_equal(c->n_masq_exempt, 1);
	assert_string_equal(pfx_str(&c->masq_exempt[0]), "10.245.0.0/16");
	assert_string_equal(b.ic->data_dir, LOOM_IPAM_DEFAULT_DATA_DIR);
	built_free(&b);
}

/* The user's keys beat the lease's. */
static void test_overrides(void **state)
{
	const struct loom_pod_conf *c;
	struct built b;

	(void)state;
	write_lease("LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.7.0/26\nLOOM_MTU=1500\n"
		    "LOOM_IPMASQ=true\n");
	build_ok(BASE ",\"mtu\":9000,\"ipMasq\":false,\"antiSpoof\":false,\"stateDir\":\"/s\","
		      "\"dataDir\":\"/d\",\"bpfPinDir\":\"/b\"}",
		 LOOM_CMD_ADD, false, &b);
	c = &b.d->view;
	assert_int_equal(c->mtu, 9000);
	assert_false(c->ip_masq);
	assert_false(c->anti_spoof);
	assert_string_equal(c->state_dir, "/s");
	assert_string_equal(c->bpf_pin_dir, "/b");
	assert_string_equal(b.ic->data_dir, "/d");
	built_free(&b);

	write_lease("LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.7.0/26\nLOOM_IPMASQ=false\n");
	build_ok(BASE "}", LOOM_CMD_ADD, false, &b);
	assert_false(b.d->view.ip_masq);
	assert_int_equal(b.d->view.mtu, 0); /* no LOOM_MTU: the kernel's default */
	built_free(&b);
}

static void test_dual_stack(void **state)
{
	const struct loom_ipam_range *r;
	struct built b;

	(void)state;
	write_lease("LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.7.0/26\n"
		    "LOOM_IPV6_NETWORK=fd00:245::/48\nLOOM_IPV6_SUBNET=fd00:245:0:7::/64\n");
	build_ok(BASE "}", LOOM_CMD_ADD, false, &b);
	assert_int_equal(b.ic->n_sets, 2);
	r = &b.ic->sets[1].r[0];
	assert_string_equal(pfx_str(&r->subnet), "fd00:245:0:7::/64");
	assert_string_equal(ip_str(&r->start), "fd00:245:0:7::1");
	assert_int_equal(b.d->view.n_masq_exempt, 2);
	assert_string_equal(pfx_str(&b.d->view.masq_exempt[1]), "fd00:245::/48");
	built_free(&b);
}

static void test_errors(void **state)
{
	static const struct {
		const char *conf;
		int code;
		const char *want; /* the message's start */
	} cases[] = {
		{ BASE ",\"ipam\":{\"type\":\"host-local\"}}", LOOM_ERR_INVALID_CONFIG, "ipam: " },
		{ BASE ",\"mtu\":10}", LOOM_ERR_INVALID_CONFIG, "mtu: " },
		{ BASE ",\"mtu\":\"1500\"}", LOOM_ERR_INVALID_CONFIG, "mtu: " },
		{ BASE ",\"ipMasq\":\"yes\"}", LOOM_ERR_INVALID_CONFIG, "ipMasq: " },
		{ BASE ",\"antiSpoof\":1}", LOOM_ERR_INVALID_CONFIG, "antiSpoof: " },
		{ BASE ",\"stateDir\":\"\"}", LOOM_ERR_INVALID_CONFIG, "stateDir: " },
		{ BASE ",\"dataDir\":5}", LOOM_ERR_INVALID_CONFIG, "dataDir: " },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"loom-bgp\",\"runDir\":\"rel%s\"}",
		  LOOM_ERR_INVALID_CONFIG, "runDir: " },
	};
	struct built b;
	size_t i;

	(void)state;
	write_lease("LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.245.7.0/26\n");
	for (i = 0; i < N(cases); i++) {
		int r = build(cases[i].conf, LOOM_CMD_ADD, false, &b);

		if (r != -1 || b.err.code != cases[i].code ||
		    strncmp(b.err.msg, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got %d, code %d \"%s\"; want code %d with \"%s\"", i, r,
				 b.err.code, b.err.msg, cases[i].code, cases[i].want);
		built_free(&b);
	}
	/* A malformed lease is the operator's to fix, not a retry. */
	write_lease("LOOM_NETWORK=10.245.0.0/16\nLOOM_SUBNET=10.246.7.0/26\n");
	assert_int_equal(build(BASE "}", LOOM_CMD_ADD, false, &b), -1);
	assert_int_equal(b.err.code, LOOM_ERR_INVALID_CONFIG);
	built_free(&b);
}

/* No lease file: ADD is try again later (code 11); DEL carries on with a
 * stand-in (no record in this state dir). */
static void test_no_lease(void **state)
{
	char path[256], want[400];
	struct built b;

	(void)state;
	remove_lease();
	snprintf(path, sizeof(path), "%s/net1.env", dir);
	assert_int_equal(build(BASE "}", LOOM_CMD_ADD, false, &b), -1);
	assert_int_equal(b.err.code, LOOM_ERR_TRY_AGAIN);
	snprintf(want, sizeof(want), "lease file %s not found: is loomd running on this node?",
		 path);
	assert_string_equal(b.err.msg, want);
	assert_null(b.d);
	built_free(&b);

	build_ok(BASE ",\"stateDir\":\"%s\"}", LOOM_CMD_DEL, true, &b);
	assert_true(b.d->view.ip_masq); /* so DEL purges firewall elements by comment */
	built_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),    cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_overrides), cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_errors),    cmocka_unit_test(test_no_lease),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
