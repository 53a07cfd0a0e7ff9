/* Golden tests of the compiler: tests/policy/golden/NAME.json must
 * compile to exactly NAME.nft.  A plain case is datastore keys -> values
 * (node n1), compiled once.  A sequence ({"node", "steps": [{"what",
 * "put": {key: value}, "del": [key]}]}) is a series of changes, each
 * flushed: NAME.nft holds every step's batch, exactly, and each batch must
 * go into the stand-in table (tests/policy/nftsim.c) and leave the table
 * the engine believes in.  With LOOM_POLICY_REGEN=1 the .nft files are
 * rewritten instead (tests/policy/regen.sh); review the diff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cluster.h"
#include "nftsim.h"

static const char *const cases[] = { "basic", "seq_pods", "seq_policies", "seq_namespaces" };

static void feed(struct pol_engine *e, json_t *put, json_t *del)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(put, key, v) {
		char *s = json_dumps(v, JSON_COMPACT);
		struct loom_err err = { 0 };

		pol_engine_put(e, key, s, &err); /* malformed ones are part of the case */
		free(s);
	}
	json_array_foreach(del, i, v)
		pol_engine_del(e, json_string_value(v));
}

static char *sequence(json_t *in)
{
	struct pol_engine *e = pol_engine_new(json_string_value(json_object_get(in, "node")));
	struct pir sim = { 0 };
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);
	json_t *st;

	json_array_foreach(json_object_get(in, "steps"), i, st) {
		char why[8192], *b;

		feed(e, json_object_get(st, "put"), json_object_get(st, "del"));
		if (cl_sync(e, &sim, &b, why, sizeof(why)) < 0) {
			fprintf(stderr, "step %zu: %s\n", i + 1, why);
			fail();
		}
		fprintf(f, "# step %zu: %s\n%s", i + 1,
			json_string_value(json_object_get(st, "what")),
			b[0] ? b : "# (nothing to send)\n");
		free(b);
	}
	fclose(f);
	pir_clear(&sim);
	pol_engine_free(e);
	return out;
}

static char *compile(const char *path)
{
	json_error_t jerr;
	json_t *in = json_load_file(path, 0, &jerr);
	struct pol_engine *e;
	char *out;

	if (!in)
		fail_msg("%s: %s", path, jerr.text);
	if (json_object_get(in, "steps")) {
		out = sequence(in);
		json_decref(in);
		return out;
	}
	e = pol_engine_new("n1");
	feed(e, in, NULL);
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
