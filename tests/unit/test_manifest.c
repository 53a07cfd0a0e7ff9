/* The manifest parser: YAML typed the way Kubernetes types it, several
 * documents, Lists flattened, JSON, and errors with their place. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model/manifest.h"
#include "test_main.h"

/* Parse, and return the objects as compact sorted JSON joined by '|'. */
static char *parse_to_string(const char *in, struct loom_err *err, char **origins)
{
	struct loom_manifest m = { 0 };
	size_t i, cap = 1;
	char *out, *o;
	json_t *obj;

	if (loom_manifest_parse(in, strlen(in), &m, err) < 0) {
		assert_null(m.objects);
		return NULL;
	}
	out = calloc(1, 1);
	o = calloc(1, 1);
	json_array_foreach(m.objects, i, obj) {
		char *s = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
		const char *where = json_string_value(json_array_get(m.origins, i));

		cap += strlen(s) + 1;
		out = realloc(out, cap);
		if (i)
			strcat(out, "|");
		strcat(out, s);
		o = realloc(o, strlen(o) + strlen(where) + 2);
		if (i)
			strcat(o, "|");
		strcat(o, where);
		free(s);
	}
	loom_manifest_free(&m);
	loom_manifest_free(&m); /* idempotent */
	if (origins)
		*origins = o;
	else
		free(o);
	return out;
}

static const struct {
	const char *in, *json;
} good[] = {
	/* Kubernetes' scalar typing: plain ints, floats, bools, null; quoted stay strings */
	{ "a: 80\nb: \"80\"\nc: '80'\nd: 0x1F\ne: 0o17\nf: -3\ng: 1.5\nh: 1e3\n",
	  "{\"a\":80,\"b\":\"80\",\"c\":\"80\",\"d\":31,\"e\":15,\"f\":-3,\"g\":1.5,\"h\":1000.0}" },
	{ "a: true\nb: False\nc: \"true\"\nd: null\ne: ~\nf:\ng: yes\nh: on\ni: .inf\n",
	  "{\"a\":true,\"b\":false,\"c\":\"true\",\"d\":null,\"e\":null,\"f\":null,\"g\":\"yes\",\"h\":\"on\",\"i\":\".inf\"}" },
	{ "a: !!str 42\nb: !!int \"7\"\nc: 1.2.3\nd: 10.244.0.0/16\ne: 99999999999999999999\n",
	  "{\"a\":\"42\",\"b\":7,\"c\":\"1.2.3\",\"d\":\"10.244.0.0/16\",\"e\":1e20}" },
	{ "80: x\ntrue: y\n", "{\"80\":\"x\",\"true\":\"y\"}" }, /* keys are strings */
	{ "s: |\n  line one\n  line two\nf: >-\n  folded\n  text\n",
	  "{\"f\":\"folded text\",\"s\":\"line one\\nline two\\n\"}" },
	{ "l: [1, two, {x: 3}]\nm: {}\nn: []\n",
	  "{\"l\":[1,\"two\",{\"x\":3}],\"m\":{},\"n\":[]}" },
	/* several documents; empty ones skipped */
	{ "---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n---\n", "{\"a\":1}|{\"b\":2}" },
	{ "", "" },
	/* Lists are flattened */
	{ "kind: List\nitems:\n- {kind: A}\n- {kind: B}\n---\nkind: C\n",
	  "{\"kind\":\"A\"}|{\"kind\":\"B\"}|{\"kind\":\"C\"}" },
	{ "kind: PodList\napiVersion: v1\nitems: [{kind: Pod}]\n", "{\"kind\":\"Pod\"}" },
	{ "kind: List\n", "{\"kind\":\"List\"}" }, /* no items: left alone */
	/* JSON */
	{ "  {\"kind\": \"Pod\", \"n\": 80, \"s\": \"80\", \"t\": true}",
	  "{\"kind\":\"Pod\",\"n\":80,\"s\":\"80\",\"t\":true}" },
	{ "{\"kind\":\"List\",\"items\":[{\"a\":1},{\"b\":[]}]}", "{\"a\":1}|{\"b\":[]}" },
	/* anchors without aliases are harmless */
	{ "a: &x 1\n", "{\"a\":1}" },
};

/* `in` parses to `json` (the documents' JSON joined by '|'); or, json NULL,
 * is refused with LOOM_ERR_DECODE and a message: `msg` (NULL: any). */
static void expect_parse(const char *in, const char *json, const char *msg)
{
	struct loom_err err = { 0 };
	char *got = parse_to_string(in, &err, NULL);

	if (json) {
		if (!got)
			fail_msg("refused %s: %s", in, err.msg);
		if (strcmp(got, json))
			fail_msg("%s\n  want: %s\n  got:  %s", in, json, got);
		free(got);
		return;
	}
	if (got)
		fail_msg("accepted %s as %s", in, got);
	assert_int_equal(err.code, LOOM_ERR_DECODE);
	assert_true(err.msg[0] != '\0');
	if (msg && strcmp(err.msg, msg))
		fail_msg("%s\n  want: %s\n  got:  %s", in, msg, err.msg);
}

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		expect_parse(good[i].in, good[i].json, NULL);
}

static void test_origins(void **state)
{
	struct loom_err err = { 0 };
	char *origins = NULL;
	char *got = parse_to_string("a: 1\n---\n---\nkind: List\nitems: [{b: 1}, {c: 2}]\n", &err,
				    &origins);

	(void)state;
	assert_non_null(got);
	assert_string_equal(origins, "document 1|document 3: items[0]|document 3: items[1]");
	free(got);
	free(origins);
}

static const struct {
	const char *in, *msg;
} bad[] = {
	{ "a: 1\nb: [1, 2\n",
	  "document 1: line 3, column 1: did not find expected ',' or ']' while parsing a flow sequence" },
	{ "a: 1\na: 2\n", "document 1: line 2, column 1: duplicate key \"a\"" },
	{ "a: 1\n---\nb: &x [1]\nc: *x\n",
	  "document 2: line 4, column 4: aliases (*name) are not supported" },
	{ "a: 1\n---\n- 1\n- 2\n", "document 2: must be an object (a mapping), not a list" },
	{ "just a string\n", "document 1: must be an object (a mapping), not a scalar" },
	{ "? [a]\n: 1\n", "document 1: line 1, column 3: mapping keys must be scalars" },
	{ "a: !!int abc\n",
	  "document 1: line 1, column 4: unsupported tag or a value that does not match it: tag:yaml.org,2002:int" },
	{ "a: !custom x\n",
	  "document 1: line 1, column 4: unsupported tag or a value that does not match it: !custom" },
	{ "a: \"nul\\0here\"\n",
	  "document 1: line 1, column 4: strings must not contain NUL characters" },
	{ "kind: List\nitems: [1]\n", "document 1: items[0]: must be an object" },
	{ "kind: List\nitems: {}\n", "document 1: items: must be a list" },
	{ "{\"a\": 1, \"a\": 2}",
	  "document 1: line 1, column 12: duplicate object key near '\"a\"'" },
	{ "{\"a\": ", "document 1: line 1, column 6: unexpected token near end of file" },
	{ "a:\tb\n\t- c\n", NULL }, /* any message, but one */
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_parse(bad[i].in, NULL, bad[i].msg);
}

static void test_bounds(void **state)
{
	struct loom_err err = { 0 };
	char *deep = malloc(4 * 200 + 16), *big;
	size_t i, n = 0;

	(void)state;
	/* nesting: 200 levels of flow sequences */
	for (i = 0; i < 200; i++)
		deep[n++] = '[';
	for (i = 0; i < 200; i++)
		deep[n++] = ']';
	deep[n] = '\0';
	{
		char *doc = malloc(n + 8);

		sprintf(doc, "a: %s\n", deep);
		assert_null(parse_to_string(doc, &err, NULL));
		assert_non_null(strstr(err.msg, "nested too deeply"));
		free(doc);
	}
	assert_null(parse_to_string(deep, &err, NULL)); /* JSON: jansson's parse, then our bound */
	assert_non_null(strstr(err.msg, "nested too deeply"));
	free(deep);

	big = malloc(LOOM_MANIFEST_MAX_BYTES + 2);
	memset(big, '#', LOOM_MANIFEST_MAX_BYTES + 1);
	big[LOOM_MANIFEST_MAX_BYTES + 1] = '\0';
	assert_null(parse_to_string(big, &err, NULL));
	assert_non_null(strstr(err.msg, "larger than"));
	free(big);
}

static void test_plain_scalar(void **state)
{
	static const struct {
		const char *s;
		int type; /* -1: stays a string */
	} v[] = {
		{ "80", JSON_INTEGER }, { "-0", JSON_INTEGER }, { "+7", JSON_INTEGER },
		{ "0x", -1 },           { "1.", JSON_REAL },    { ".5", JSON_REAL },
		{ "1e5", JSON_REAL },   { "1e", -1 },           { ".", -1 },
		{ "true", JSON_TRUE },  { "TRUE", JSON_TRUE },  { "tRUE", -1 },
		{ "null", JSON_NULL },  { "", JSON_NULL },      { "1_000", -1 },
		{ "web", -1 },          { "1e400", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j = loom_manifest_plain_scalar(v[i].s, strlen(v[i].s));

		if (v[i].type < 0 ? j != NULL : (!j || (int)json_typeof(j) != v[i].type))
			fail_msg("\"%s\" typed wrongly", v[i].s);
		json_decref(j);
	}
}

LOOM_TEST_MAIN(cmocka_unit_test(test_good), cmocka_unit_test(test_origins),
	       cmocka_unit_test(test_bad), cmocka_unit_test(test_bounds),
	       cmocka_unit_test(test_plain_scalar))
