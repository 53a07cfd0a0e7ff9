/* loom-ipam config: each bad config's code and the path its message names,
 * and the defaults a good one gets (host-local's, plus /31 and /32).
 * Configs are written with ' for " to keep the tables readable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipam.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define HEAD "'cniVersion':'1.0.0','name':'net1','type':'loom-ipam'"

static char *unquote(const char *s)
{
	char *d = strdup(s), *p;

	assert_non_null(d);
	for (p = d; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	return d;
}

/* Parse `conf` (and CNI_ARGS `env`, may be NULL) into *out. */
static int parse(const char *conf, const char *env, struct loom_ipam_conf *out,
		 struct loom_err *err)
{
	static const char *const known[] = { "IP", NULL };
	struct loom_netconf nc;
	struct loom_cni_args args;
	char *buf = unquote(conf);
	int rc;

	rc = loom_netconf_parse(buf, strlen(buf), LOOM_CMD_ADD, &nc, err);
	free(buf);
	if (rc < 0)
		fail_msg("netconf of %s: %s", conf, err->msg);
	memset(&args, 0, sizeof(args));
	if (env)
		assert_int_equal(loom_cni_args_parse(env, known, &args, err), 0);
	rc = loom_ipam_conf_parse(&nc, &args, out, err);
	loom_netconf_free(&nc);
	return rc;
}

static const struct {
	const char *conf;
	const char *env;
	int code;
	const char *want; /* substring of the message */
} bad[] = {
	{ "{" HEAD "}", NULL, LOOM_ERR_INVALID_CONFIG, "ipam is missing" },
	{ "{" HEAD ",'ipam':{'type':'loom-ipam'}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "no IP ranges specified" },
	{ "{" HEAD ",'ipam':{'ranges':[]}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "no IP ranges specified" },
	{ "{" HEAD ",'ipam':{'ranges':{}}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges must be a list of range sets, not an object" },
	{ "{" HEAD ",'ipam':{'ranges':[{}]}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0] must be a list of ranges, not an object" },
	{ "{" HEAD ",'ipam':{'ranges':[[]]}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0]: empty range set" },
	{ "{" HEAD ",'ipam':{'ranges':[['10.0.0.0/24']]}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0] must be an object, not a string" },
	{ "{" HEAD ",'ipam':{'ranges':[[{}]]}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0].subnet is missing" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':24}]]}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0].subnet must be a string, not a number" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0'}]]}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0].subnet: \"10.0.0.0\" is not an address/prefix-length" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.5/24'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0].subnet: \"10.0.0.5/24\" has host bits set (did you mean 10.0.0.0/24?)" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','rangeStart':'10.0.1.5'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0].rangeStart: 10.0.1.5 is outside subnet 10.0.0.0/24" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','rangeEnd':'10.0.1.5'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "ipam.ranges[0][0].rangeEnd: 10.0.1.5 is outside subnet" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','rangeStart':'fd00::1'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0].rangeStart: fd00::1 is not of the same family as subnet 10.0.0.0/24" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','gateway':'10.9.0.1'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0].gateway: 10.9.0.1 is outside subnet 10.0.0.0/24" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','gateway':'ten'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "ipam.ranges[0][0].gateway: \"ten\" is not an IP address" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','rangeStart':'10.0.0.9',"
	  "'rangeEnd':'10.0.0.8'}]]}}",
	  NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0]: rangeStart 10.0.0.9 is after rangeEnd 10.0.0.8" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/32','gateway':'10.0.0.0'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "ipam.ranges[0][0]: no usable address" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','rangeStart':'10.0.0.255'}]]}}",
	  NULL, LOOM_ERR_INVALID_CONFIG, "rangeStart 10.0.0.255 is after rangeEnd 10.0.0.254" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24','foo':[1]}]]}}", NULL,
	  LOOM_ERR_UNSUPPORTED_FIELD, "ipam.ranges[0][0]: unsupported field \"foo\" (value [1])" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24'},{'subnet':'fd00::/64'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "ipam.ranges[0]: mixed address families in one range set" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24'},{'subnet':'10.0.0.0/25'}]]}}",
	  NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0] (10.0.0.1-10.0.0.254) overlaps ipam.ranges[0][1] (10.0.0.1-10.0.0.126)" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24'}],[{'subnet':'10.0.1.0/24'}],"
	  "[{'subnet':'10.0.0.0/16','rangeStart':'10.0.0.200','rangeEnd':'10.0.0.210'}]]}}",
	  NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.ranges[0][0] (10.0.0.1-10.0.0.254) overlaps ipam.ranges[2][0] (10.0.0.200-10.0.0.210)" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24','ranges':[[{'subnet':'10.0.0.0/24'}]]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "ipam (10.0.0.1-10.0.0.254) overlaps ipam.ranges[0][0]" },
	{ "{" HEAD ",'ipam':{'rangeStart':'10.0.0.5'}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.rangeStart is set but ipam.subnet is missing" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24','dataDir':'var/lib/x'}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "ipam.dataDir: \"var/lib/x\" is not an absolute path" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24','dataDir':5}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.dataDir must be a string, not a number" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24','routes':{}}}", NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.routes must be a list, not an object" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24','routes':[{'gw':'10.0.0.1'}]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "ipam.routes[0].dst is missing" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24','routes':[{'dst':'0.0.0.0/0','gateway':'x'}]}}",
	  NULL, LOOM_ERR_UNSUPPORTED_FIELD,
	  "ipam.routes[0]: unsupported field \"gateway\" (value \"x\")" },
	{ "{" HEAD
	  ",'ipam':{'subnet':'10.0.0.0/24','routes':[{'dst':'0.0.0.0/0','gw':'fd00::1'}]}}",
	  NULL, LOOM_ERR_INVALID_CONFIG,
	  "ipam.routes[0]: gw and dst are of different address families" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24'},'args':{'cni':{'ips':['10.0.0.x']}}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "args.cni.ips[0]: \"10.0.0.x\" is not an IP address" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24'},'args':{'cni':{'ips':'10.0.0.5'}}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "args.cni.ips must be a list of addresses, not a string" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24'},'runtimeConfig':{'ips':[5]}}", NULL,
	  LOOM_ERR_INVALID_CONFIG, "runtimeConfig.ips[0] must be a string, not a number" },
	{ "{" HEAD ",'ipam':{'subnet':'10.0.0.0/24'}}", "IP=10.0.0.300", LOOM_ERR_INVALID_ENV,
	  "CNI_ARGS IP: \"10.0.0.300\" is not an IP address" },
	{ "{" HEAD
	  ",'ipam':{'subnet':'10.0.0.0/24'},'runtimeConfig':{'ipRanges':[[{'subnet':'x'}]]}}",
	  NULL, LOOM_ERR_INVALID_CONFIG, "runtimeConfig.ipRanges[0][0].subnet: \"x\" is not" },
	{ "{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/30'}],[{'subnet':'10.0.1.0/30'}],"
	  "[{'subnet':'10.0.2.0/30'}],[{'subnet':'10.0.3.0/30'}],[{'subnet':'10.0.4.0/30'}],"
	  "[{'subnet':'10.0.5.0/30'}],[{'subnet':'10.0.6.0/30'}],[{'subnet':'10.0.7.0/30'}],"
	  "[{'subnet':'10.0.8.0/30'}]]}}",
	  NULL, LOOM_ERR_INVALID_CONFIG, "ipam.ranges: more than loom's limit of 8 range sets" },
};

/* Each test's config (~40 KiB: off the stack). */
static int setup(void **state)
{
	*state = malloc(sizeof(struct loom_ipam_conf));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_bad(void **state)
{
	struct loom_ipam_conf *c = *state;
	struct loom_err err;
	size_t i;

	for (i = 0; i < N(bad); i++) {
		loom_err_clear(&err);
		if (parse(bad[i].conf, bad[i].env, c, &err) == 0)
			fail_msg("bad[%zu] parsed: %s", i, bad[i].conf);
		if (err.code != bad[i].code || !strstr(err.msg, bad[i].want))
			fail_msg("bad[%zu]: got code %d \"%s\", want code %d \"%s\"", i, err.code,
				 err.msg, bad[i].code, bad[i].want);
	}
}

/* What one range turns into. */
static const struct {
	const char *range;                 /* the JSON of one range */
	const char *start, *end, *gateway; /* gateway NULL: none */
	uint64_t usable;
} defaults[] = {
	{ "{'subnet':'10.0.0.0/24'}", "10.0.0.1", "10.0.0.254", "10.0.0.1", 253 },
	{ "{'subnet':'10.0.0.0/24','gateway':'10.0.0.254'}", "10.0.0.1", "10.0.0.254", "10.0.0.254",
	  253 },
	{ "{'subnet':'10.0.0.0/24','rangeStart':'10.0.0.0','rangeEnd':'10.0.0.255'}", "10.0.0.0",
	  "10.0.0.255", "10.0.0.1", 253 },
	{ "{'subnet':'10.0.0.0/24','rangeStart':'','gateway':null}", "10.0.0.1", "10.0.0.254",
	  "10.0.0.1", 253 },
	{ "{'subnet':'10.0.0.0/30'}", "10.0.0.1", "10.0.0.2", "10.0.0.1", 1 },
	{ "{'subnet':'10.0.0.0/31'}", "10.0.0.0", "10.0.0.1", NULL, 2 },
	{ "{'subnet':'10.0.0.0/31','gateway':'10.0.0.0'}", "10.0.0.0", "10.0.0.1", "10.0.0.0", 1 },
	{ "{'subnet':'10.0.0.7/32'}", "10.0.0.7", "10.0.0.7", NULL, 1 },
	{ "{'subnet':'fd00::/120'}", "fd00::1", "fd00::ff", "fd00::1", 254 },
	{ "{'subnet':'fd00::/127'}", "fd00::", "fd00::1", NULL, 2 },
	{ "{'subnet':'fd00::5/128'}", "fd00::5", "fd00::5", NULL, 1 },
	{ "{'subnet':'fd00::/64'}", "fd00::1", "fd00::ffff:ffff:ffff:ffff", "fd00::1", UINT64_MAX },
};

static void test_defaults(void **state)
{
	struct loom_ipam_conf *c = *state;
	char conf[512], a[LOOM_IP_STRLEN];
	struct loom_err err;
	size_t i;

	for (i = 0; i < N(defaults); i++) {
		const struct loom_ipam_range *r;

		snprintf(conf, sizeof(conf), "{" HEAD ",'ipam':{'ranges':[[%s]]}}",
			 defaults[i].range);
		if (parse(conf, NULL, c, &err) < 0)
			fail_msg("defaults[%zu]: %s", i, err.msg);
		assert_int_equal(c->n_sets, 1);
		assert_int_equal(c->sets[0].n, 1);
		r = &c->sets[0].r[0];
		assert_string_equal(loom_ip_fmt(&r->start, a), defaults[i].start);
		assert_string_equal(loom_ip_fmt(&r->end, a), defaults[i].end);
		if (defaults[i].gateway) {
			assert_true(r->has_gateway);
			assert_string_equal(loom_ip_fmt(&r->gateway, a), defaults[i].gateway);
		} else {
			assert_false(r->has_gateway);
		}
		if (r->usable != defaults[i].usable)
			fail_msg("defaults[%zu]: usable %llu, want %llu", i,
				 (unsigned long long)r->usable,
				 (unsigned long long)defaults[i].usable);
		assert_string_equal(r->where, "ipam.ranges[0][0]");
	}
}

/* Range sets come from ipRanges, the legacy range, then ranges (host-local's
 * order: the set index names last_reserved_ip.<N>). */
static void test_order_and_fields(void **state)
{
	struct loom_ipam_conf *c = *state;
	char a[LOOM_PREFIX_STRLEN];
	struct loom_err err;

	assert_int_equal(
		parse("{" HEAD ",'ipam':{'type':'loom-ipam','subnet':'10.1.0.0/24',"
		      "'ranges':[[{'subnet':'10.2.0.0/24'},{'subnet':'10.3.0.0/24'}],"
		      "[{'subnet':'fd00::/64'}]],"
		      "'routes':[{'dst':'0.0.0.0/0','gw':'10.1.0.1'},{'dst':'fd01::/64','mtu':1400}],"
		      "'dataDir':'/run/x','resolvConf':'/etc/r.conf'},"
		      "'runtimeConfig':{'ipRanges':[[{'subnet':'10.9.0.0/24'}]]}}",
		      NULL, c, &err),
		0);
	assert_string_equal(c->name, "net1");
	assert_string_equal(c->data_dir, "/run/x");
	assert_string_equal(c->resolv_conf, "/etc/r.conf");
	assert_int_equal(c->n_sets, 4);
	assert_string_equal(loom_prefix_fmt(&c->sets[0].r[0].subnet, a), "10.9.0.0/24");
	assert_string_equal(c->sets[0].r[0].where, "runtimeConfig.ipRanges[0][0]");
	assert_string_equal(loom_prefix_fmt(&c->sets[1].r[0].subnet, a), "10.1.0.0/24");
	assert_string_equal(c->sets[1].r[0].where, "ipam");
	assert_int_equal(c->sets[2].n, 2);
	assert_string_equal(c->sets[2].r[1].where, "ipam.ranges[0][1]");
	assert_string_equal(loom_prefix_fmt(&c->sets[3].r[0].subnet, a), "fd00::/64");
	assert_int_equal(c->n_routes, 2);
	assert_true(c->routes[0].has_gw);
	assert_string_equal(loom_ip_fmt(&c->routes[0].gw, a), "10.1.0.1");
	assert_false(c->routes[1].has_gw);
	assert_int_equal(c->routes[1].mtu, 1400);
	assert_int_equal(c->routes[1].scope, -1);
	assert_int_equal(c->n_requested, 0);

	assert_int_equal(parse("{" HEAD ",'ipam':{'subnet':'10.1.0.0/24'}}", NULL, c, &err), 0);
	assert_string_equal(c->data_dir, LOOM_IPAM_DEFAULT_DATA_DIR);
	assert_string_equal(c->resolv_conf, "");
}

/* Requested addresses: CNI_ARGS first, then args.cni.ips, then
 * runtimeConfig.ips, as host-local; duplicates collapse, "/len" is dropped. */
static void test_requested(void **state)
{
	struct loom_ipam_conf *c = *state;
	char a[LOOM_IP_STRLEN];
	struct loom_err err;

	assert_int_equal(parse("{" HEAD ",'ipam':{'ranges':[[{'subnet':'10.0.0.0/24'}],"
			       "[{'subnet':'fd00::/64'}]]},"
			       "'args':{'cni':{'ips':['fd00::9/64','10.0.0.6']}},"
			       "'runtimeConfig':{'ips':['10.0.0.5']}}",
			       "IP=10.0.0.5,10.0.0.7;IgnoreUnknown=1", c, &err),
			 0);
	assert_int_equal(c->n_requested, 4);
	assert_string_equal(loom_ip_fmt(&c->requested[0], a), "10.0.0.5");
	assert_string_equal(loom_ip_fmt(&c->requested[1], a), "10.0.0.7");
	assert_string_equal(loom_ip_fmt(&c->requested[2], a), "fd00::9");
	assert_string_equal(loom_ip_fmt(&c->requested[3], a), "10.0.0.6");
}

static void test_resolv_conf(void **state)
{
	char path[] = "/tmp/loom-resolv-XXXXXX";
	struct loom_dns dns;
	struct loom_err err;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# comment\n; other comment\nnameserver 10.0.0.53\n  nameserver   fd00::53 # x\n"
	      "domain a.example\ndomain b.example\nsearch s1.example s2.example\n"
	      "options ndots:5 edns0\nsortlist 10.0.0.0\nnameserver\n",
	      f);
	fclose(f);
	assert_int_equal(loom_ipam_dns_load(path, &dns, &err), 0);
	unlink(path);
	assert_int_equal(dns.n_nameservers, 2);
	assert_string_equal(dns.nameservers[0], "10.0.0.53");
	assert_string_equal(dns.nameservers[1], "fd00::53");
	assert_string_equal(dns.domain, "b.example");
	assert_int_equal(dns.n_search, 2);
	assert_string_equal(dns.search[1], "s2.example");
	assert_int_equal(dns.n_options, 2);
	assert_string_equal(dns.options[0], "ndots:5");

	assert_int_equal(loom_ipam_dns_load(path, &dns, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_IO);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file"));
}

/* A config built from parts (loom-vxlan's, loom-bgp's) is the config the
 * same "ipam" section written as JSON parses to, runtime parts included:
 * the plugins lost nothing when they stopped writing JSON. */
static void test_build_is_parse(void **state)
{
	static const char *const runtime[] = {
		"",
		",'runtimeConfig':{'ipRanges':[[{'subnet':'10.9.0.0/24'}]],'ips':['10.244.3.9']}",
		",'args':{'cni':{'ips':['fd00:1:2:3::7']}}",
	};
	struct loom_ipam_conf *want = malloc(sizeof(*want)), *got = malloc(sizeof(*got));
	struct loom_ipam_spec spec;
	struct loom_netconf nc;
	struct loom_cni_args args;
	struct loom_err err;
	char text[1024], *buf;
	size_t i;

	(void)state;
	assert_non_null(want);
	assert_non_null(got);
	memset(&spec, 0, sizeof(spec));
	spec.data_dir = "/tmp/d";
	spec.n_ranges = 2;
	assert_int_equal(loom_prefix_parse("10.244.3.0/24", &spec.ranges[0].subnet), 0);
	assert_int_equal(loom_ip_parse("10.244.3.2", &spec.ranges[0].start), 0);
	spec.ranges[0].has_start = true;
	assert_int_equal(loom_ip_parse("10.244.3.1", &spec.ranges[0].gateway), 0);
	spec.ranges[0].has_gateway = true;
	assert_int_equal(loom_prefix_parse("fd00:1:2:3::/64", &spec.ranges[1].subnet), 0);
	spec.n_routes = 1;
	assert_int_equal(loom_prefix_parse("10.244.0.0/16", &spec.routes[0].dst), 0);
	assert_int_equal(loom_ip_parse("10.244.3.1", &spec.routes[0].gw), 0);
	spec.routes[0].has_gw = true;
	spec.routes[0].scope = -1;
	memset(&args, 0, sizeof(args));
	for (i = 0; i < N(runtime); i++) {
		snprintf(
			text, sizeof(text),
			"{'cniVersion':'1.0.0','name':'net1','type':'x'%s,'ipam':{'type':'loom-ipam',"
			"'dataDir':'/tmp/d','ranges':[[{'subnet':'10.244.3.0/24','rangeStart':"
			"'10.244.3.2','gateway':'10.244.3.1'}],[{'subnet':'fd00:1:2:3::/64'}]],"
			"'routes':[{'dst':'10.244.0.0/16','gw':'10.244.3.1'}]}}",
			runtime[i]);
		assert_int_equal(parse(text, NULL, want, &err), 0);
		buf = unquote(text);
		assert_int_equal(loom_netconf_parse(buf, strlen(buf), LOOM_CMD_ADD, &nc, &err), 0);
		free(buf);
		if (loom_ipam_conf_build(&nc, &args, &spec, got, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		loom_netconf_free(&nc);
		if (memcmp(want, got, sizeof(*want)) != 0)
			fail_msg("case %zu: the built config differs from the parsed one", i);
	}
	free(want);
	free(got);
}

LOOM_TEST_MAIN(cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_order_and_fields, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_requested, setup, teardown),
	       cmocka_unit_test(test_resolv_conf), cmocka_unit_test(test_build_is_parse))
