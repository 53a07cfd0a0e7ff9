/* The Network model and the mode table: every mode is complete and found
 * by its names, defaults are written once and read back the same, and a
 * change is told apart from a change of the mode's section alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model/network.h"
#include "test_main.h"

static void test_table(void **state)
{
	size_t i, j;

	(void)state;
	assert_non_null(loom_modes[0]);
	assert_string_equal(loom_mode_default()->backend, "vxlan");
	for (i = 0; loom_modes[i]; i++) {
		const struct loom_mode *m = loom_modes[i];

		assert_non_null(m->name);
		assert_non_null(m->backend);
		assert_non_null(m->cni);
		assert_non_null(m->sysctls);
		assert_true(m->section_size <= LOOM_MODE_SECTION_MAX);
		/* a section is parsed, defaulted and summarised, or not at all */
		assert_int_equal(m->section_parse != NULL, m->section_size != 0);
		assert_int_equal(m->section_parse != NULL, m->summary != NULL);
		assert_ptr_equal(loom_mode_by_name(m->name), m);
		assert_ptr_equal(loom_mode_by_backend(m->backend), m);
		for (j = 0; j < i; j++) {
			assert_string_not_equal(loom_modes[j]->name, m->name);
			assert_string_not_equal(loom_modes[j]->backend, m->backend);
		}
	}
	assert_null(loom_mode_by_name("ipip"));
	assert_null(loom_mode_by_backend(NULL));
}

static void test_list(void **state)
{
	char buf[128];

	(void)state;
	loom_mode_list(true, true, ", ", ", ", buf, sizeof(buf));
	assert_string_equal(buf, "\"vxlan\", \"bgp\", \"none\"");
	loom_mode_list(false, false, ", ", " or ", buf, sizeof(buf));
	assert_string_equal(buf, "vxlan, bgp or bridge");
	loom_mode_list(false, false, "|", "|", buf, 6);
	assert_string_equal(buf, "vxlan");
}

static struct loom_network *parse(const char *text)
{
	struct loom_network *n = malloc(sizeof(*n));
	struct loom_err err = { 0 };

	assert_non_null(n);
	if (loom_network_parse(text, strlen(text), n, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	return n;
}

/* Defaults written into the object parse back to the same Network. */
static void test_defaults_round_trip(void **state)
{
	static const char *const specs[] = {
		"{\"cidr\":\"10.244.0.0/16\"}",
		"{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\"}}",
		"{\"cidr6\":\"fd00::/48\",\"backend\":{\"type\":\"none\"}}",
		"{\"cidr\":\"10.0.0.0/8\",\"backend\":{\"vxlan\":{\"vni\":42}}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		json_t *spec = json_loads(specs[i], 0, NULL);
		struct loom_network *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
		struct loom_err err = { 0 };
		char *text;

		assert_non_null(spec);
		assert_int_equal(loom_network_spec_parse(spec, a, &err), 0);
		assert_int_equal(loom_network_spec_default(spec, a, &err), 0);
		assert_int_equal(loom_network_spec_parse(spec, b, &err), 0);
		assert_true(loom_network_same(a, b));
		/* and defaulting again changes nothing */
		text = json_dumps(spec, JSON_SORT_KEYS);
		assert_int_equal(loom_network_spec_default(spec, b, &err), 0);
		{
			char *again = json_dumps(spec, JSON_SORT_KEYS);

			assert_string_equal(text, again);
			free(again);
		}
		free(text);
		free(a);
		free(b);
		json_decref(spec);
	}
}

static void test_same(void **state)
{
	struct loom_network *a =
		parse("{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\"}}}");
	struct loom_network *b =
		parse("{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\","
		      "\"bgp\":{\"asNumber\":65000}}}}");
	struct loom_network *c =
		parse("{\"spec\":{\"cidr\":\"10.245.0.0/16\",\"backend\":{\"type\":\"bgp\"}}}");
	struct loom_network *d =
		parse("{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\","
		      "\"bgp\":{\"asNumber\":64512,\"nodeToNodeMesh\":true}}}}");

	(void)state;
	assert_true(loom_network_same(a, d)); /* defaults spelt out */
	assert_false(loom_network_same(a, b));
	assert_true(loom_network_same_common(a, b)); /* the section alone */
	assert_false(loom_network_same_common(a, c));
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_summary(void **state)
{
	struct loom_network *n = parse("{\"spec\":{\"cidr\":\"10.244.0.0/16\"}}");
	char buf[64];

	(void)state;
	n->mode->summary(n->section.bytes, buf, sizeof(buf));
	assert_string_equal(buf, "vxlan(vni=1,port=8472)");
	free(n);
	n = parse("{\"spec\":{\"cidr\":\"10.244.0.0/16\",\"backend\":{\"type\":\"bgp\"}}}");
	n->mode->summary(n->section.bytes, buf, sizeof(buf));
	assert_string_equal(buf, "bgp(as=64512)");
	free(n);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_table), cmocka_unit_test(test_list),
	       cmocka_unit_test(test_defaults_round_trip), cmocka_unit_test(test_same),
	       cmocka_unit_test(test_summary))
