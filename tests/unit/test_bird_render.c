/* The BIRD configuration loomd renders, per topology, against golden files
 * (tests/bgp/golden/; LOOM_GOLDEN_REGEN=1 rewrites them), BIRD's own parser
 * on each (`bird -p -c`, skipped when BIRD is not installed), the spec's
 * validation, and the status parser on a real `show protocols all`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bird.h"
#include "test_main.h"

static const char *const NODES[][2] = {
	{ "n1", "192.0.2.11" },
	{ "n2", "192.0.2.12" },
	{ "n3", "192.0.2.13" },
};

struct topo {
	const char *golden;
	const char *spec; /* the Network, JSON */
	const char *self;
	size_t want_sessions;
};

static const struct topo TOPOS[] = {
	{ "mesh.conf", "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\"}}}",
	  "n1", 2 },
	{ "rr-reflector.conf",
	  "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"asNumber\":65001,"
	  "\"nodeToNodeMesh\":false,\"routeReflectors\":[\"n1\"],\"holdTime\":6}}}}",
	  "n1", 2 },
	{ "rr-client.conf",
	  "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"asNumber\":65001,"
	  "\"nodeToNodeMesh\":false,\"routeReflectors\":[\"n1\"],\"holdTime\":6}}}}",
	  "n2", 1 },
	{ "external.conf",
	  "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"peers\":[{\"address\":\"198.51.100.1\","
	  "\"asNumber\":64513},{\"address\":\"192.0.2.12\",\"asNumber\":64999}]}}}}",
	  "n1", 3 },
};

/* spec.backend.bgp of a Network's text, through the Network model. */
static int spec_parse(const char *text, size_t len, struct loom_bgp_spec *out, struct loom_err *err)
{
	struct loom_network n;

	if (loom_network_parse(text, len, &n, err) < 0)
		return -1;
	if (strcmp(n.mode->name, "bgp") != 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "not a bgp Network");
	*out = *loom_bgp_section(&n);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static char *render(const struct topo *t, size_t *sessions)
{
	struct loom_bgp_spec spec;
	struct loom_bird_node nodes[3];
	struct loom_bird_neighbor *nb = NULL;
	struct loom_err err = { 0 };
	struct loom_bird_self self = { .node = t->self };
	size_t i, n = 0;
	char *text = NULL;

	assert_int_equal(spec_parse(t->spec, strlen(t->spec), &spec, &err), 0);
	for (i = 0; i < 3; i++) {
		nodes[i].name = NODES[i][0];
		assert_int_equal(loom_ip_parse(NODES[i][1], &nodes[i].address), 0);
		if (strcmp(NODES[i][0], t->self) == 0)
			self.router_id = nodes[i].address;
	}
	assert_int_equal(loom_prefix_parse("10.244.0.0/16", &self.pool), 0);
	assert_int_equal(loom_prefix_parse(strcmp(t->self, "n1") ? "10.244.2.0/24"
								 : "10.244.1.0/24",
					   &self.block),
			 0);
	assert_int_equal(loom_bird_desired(&spec, &self, nodes, 3, &nb, &n, &text, &err), 0);
	assert_non_null(text);
	*sessions = n;
	free(nb);
	return text;
}

static void bird_accepts(const char *path)
{
	char cmd[600];
	int st;

	if (system("command -v bird >/dev/null 2>&1") != 0)
		return; /* no BIRD on this machine: the golden comparison still ran */
	snprintf(cmd, sizeof(cmd), "bird -p -c '%s'", path);
	st = system(cmd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("BIRD refuses %s", path);
}

static void test_golden(void **state)
{
	size_t i, sessions;

	(void)state;
	for (i = 0; i < sizeof(TOPOS) / sizeof(TOPOS[0]); i++) {
		char path[512], *got = render(&TOPOS[i], &sessions), *want;

		snprintf(path, sizeof(path), "%s/%s", LOOM_BGP_GOLDEN, TOPOS[i].golden);
		if (getenv("LOOM_GOLDEN_REGEN")) {
			FILE *f = fopen(path, "we");

			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		}
		want = slurp(path);
		if (!want)
			fail_msg("%s missing (LOOM_GOLDEN_REGEN=1 writes it)", path);
		if (strcmp(got, want) != 0)
			fail_msg("%s differs from the rendered config:\n%s", path, got);
		assert_int_equal(sessions, TOPOS[i].want_sessions);
		bird_accepts(path);
		free(got);
		free(want);
	}
}

static void test_neighbors_rr(void **state)
{
	static const char spec_txt[] =
		"{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"nodeToNodeMesh\":false,"
		"\"routeReflectors\":[\"n1\",\"n2\"]}}}}";
	struct loom_bgp_spec spec;
	struct loom_bird_node nodes[3];
	struct loom_bird_neighbor *nb;
	struct loom_err err = { 0 };
	size_t i, n;

	(void)state;
	assert_int_equal(spec_parse(spec_txt, strlen(spec_txt), &spec, &err), 0);
	for (i = 0; i < 3; i++) {
		nodes[i].name = NODES[i][0];
		loom_ip_parse(NODES[i][1], &nodes[i].address);
	}
	/* a reflector: the other reflector as a plain peer, n3 as client */
	assert_int_equal(loom_bird_neighbors(&spec, "n1", nodes, 3, &nb, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(nb[0].node, "n2");
	assert_false(nb[0].rr_client);
	assert_string_equal(nb[1].node, "n3");
	assert_true(nb[1].rr_client);
	assert_string_equal(nb[1].proto, "node_192_0_2_13");
	free(nb);
	/* a client: only the reflectors */
	assert_int_equal(loom_bird_neighbors(&spec, "n3", nodes, 3, &nb, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(nb[0].node, "n1");
	assert_string_equal(nb[1].node, "n2");
	free(nb);
}

static void test_next_action(void **state)
{
	static const struct {
		bool external, running, pending;
		enum loom_bird_action want;
	} t[] = {
		{ false, false, false, LOOM_BIRD_START }, /* ours died or never ran */
		{ false, false, true, LOOM_BIRD_START },  /* a new one reads the new file */
		{ false, true, true, LOOM_BIRD_RELOAD },  { false, true, false, LOOM_BIRD_NOTHING },
		{ true, false, true, LOOM_BIRD_RELOAD }, /* never start another's BIRD */
		{ true, true, false, LOOM_BIRD_NOTHING },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(loom_bird_next(t[i].external, t[i].running, t[i].pending),
				 t[i].want);
}

static void test_spec_errors(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"asNumber\":0}}}}",
		  "asNumber" },
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"asNumber\":\"x\"}}}}",
		  "asNumber" },
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"nodeToNodeMesh\":false}}}}",
		  "routeReflectors" },
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"nodeToNodeMesh\":1}}}}",
		  "nodeToNodeMesh" },
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"peers\":[{\"address\":\"x\",\"asNumber\":1}]}}}}",
		  "peers[0].address" },
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"peers\":[{\"address\":\"192.0.2.1\"}]}}}}",
		  "peers[0].asNumber" },
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":{\"holdTime\":2}}}}",
		  "holdTime" },
		{ "{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\",\"bgp\":[]}}}",
		  "spec.backend.bgp" },
		{ "not json", "not JSON" },
	};
	struct loom_bgp_spec spec;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct loom_err err = { 0 };

		assert_int_equal(spec_parse(cases[i].json, strlen(cases[i].json), &spec, &err), -1);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: \"%s\" does not name %s", i, err.msg, cases[i].msg);
	}
}

static void test_ipv6_router_id_refused(void **state)
{
	struct loom_bird_conf c = { .node = "n1", .as = 64512, .hold_time = 90 };
	struct loom_err err = { 0 };

	(void)state;
	loom_ip_parse("2001:db8::1", &c.router_id);
	loom_prefix_parse("10.244.0.0/16", &c.pool);
	loom_prefix_parse("10.244.1.0/24", &c.block);
	assert_null(loom_bird_render(&c, &err));
	assert_non_null(strstr(err.msg, "IPv4"));
}

/* `show protocols all` of BIRD 2.0.12, codes stripped. */
static const char STATUS[] =
	"Name       Proto      Table      State  Since         Info\n"
	"device1    Device     ---        up     12:00:00.000  \n"
	"\n"
	"node_192_0_2_12 BGP        ---        up     12:00:04.000  Established   \n"
	"  Description:    node n2\n"
	"  BGP state:          Established\n"
	"    Neighbor address: 192.0.2.12\n"
	"    Neighbor AS:      64512\n"
	"  Channel ipv4\n"
	"    State:          UP\n"
	"    Routes:         1 imported, 2 exported, 1 preferred\n"
	"\n"
	"node_192_0_2_13 BGP        ---        start  12:00:00.000  Active        Socket: Connection refused\n"
	"  BGP state:          Active\n"
	"    Neighbor address: 192.0.2.13\n"
	"    Neighbor AS:      64512\n"
	"\n";

static void test_status_parse(void **state)
{
	struct loom_bird_proto *p;
	size_t n;

	(void)state;
	assert_int_equal(loom_bird_status_parse(STATUS, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].proto, "Device");
	assert_string_equal(p[1].name, "node_192_0_2_12");
	assert_string_equal(p[1].bgp_state, "Established");
	assert_int_equal(p[1].imported, 1);
	assert_int_equal(p[1].exported, 2);
	assert_int_equal(p[1].neighbor_as, 64512);
	assert_true(p[1].has_neighbor);
	assert_string_equal(p[2].state, "start");
	assert_string_equal(p[2].bgp_state, "Active");
	assert_int_equal(p[2].imported, -1);
	free(p);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_golden), cmocka_unit_test(test_neighbors_rr),
	       cmocka_unit_test(test_spec_errors), cmocka_unit_test(test_next_action),
	       cmocka_unit_test(test_ipv6_router_id_refused), cmocka_unit_test(test_status_parse))
