/* Golden tests of the compiler: tests/policy/golden/NAME.json (datastore
 * keys -> values, node n1) must compile to exactly NAME.nft.  With
 * LOOM_POLICY_REGEN=1 the .nft files are rewritten instead
 * (tests/policy/regen.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

static const char *const cases[] = { "basic" };

static char *compile(const char *path)
{
	json_error_t jerr;
	json_t *in = json_load_file(path, 0, &jerr), *v;
	struct pol_engine *e = pol_engine_new("n1");
	const char *key;
	char *out;

	if (!in)
		fail_msg("%s: %s", path, jerr.text);
	json_object_foreach(in, key, v) {
		char *s = json_dumps(v, JSON_COMPACT);
		struct loom_err err = { 0 };

		pol_engine_put(e, key, s, &err); /* malformed ones are part of the case */
		free(s);
	}
	out = pol_engine_flush(e);
	pol_engine_free(e);
	json_decref(in);
	return out;
}

static void test_golden(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char in[512], want_path[512], *got = NULL, *want = NULL;
		FILE *f;
		size_t n = 0;

		snprintf(in, sizeof(in), "%s/%s.json", LOOM_POLICY_GOLDEN, cases[i]);
		snprintf(want_path, sizeof(want_path), "%s/%s.nft", LOOM_POLICY_GOLDEN, cases[i]);
		got = compile(in);
		assert_non_null(got);
		if (getenv("LOOM_POLICY_REGEN")) {
			f = fopen(want_path, "w");
			assert_non_null(f);
			fputs(got, f);
			fclose(f);
			free(got);
			continue;
		}
		f = fopen(want_path, "r");
		assert_non_null(f);
		want = calloc(1, 1 << 20);
		n = fread(want, 1, (1 << 20) - 1, f);
		fclose(f);
		want[n] = '\0';
		assert_string_equal(got, want);
		free(got);
		free(want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_golden) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
