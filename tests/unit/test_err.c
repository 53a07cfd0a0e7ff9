/* struct loom_err helpers and the CNI error JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cni/cni.h"
#include "test_main.h"

static void test_set(void **state)
{
	struct loom_err e;

	(void)state;
	loom_err_clear(&e);
	strcpy(e.details, "stale");
	assert_int_equal(loom_err_set(&e, LOOM_ERR_INVALID_CONFIG, "ipam.subnet: \"%s\" is bad",
				      "x"),
			 -1);
	assert_int_equal(e.code, LOOM_ERR_INVALID_CONFIG);
	assert_string_equal(e.msg, "ipam.subnet: \"x\" is bad");
	assert_string_equal(e.details, ""); /* a new error does not inherit old details */
	assert_int_equal(loom_err_set(NULL, 1, "ignored"), -1);
}

static void test_errno(void **state)
{
	struct loom_err e;

	(void)state;
	assert_int_equal(loom_err_errno(&e, LOOM_ERR_STORE, ENOENT, "open %s", "/x"), -1);
	assert_int_equal(e.code, LOOM_ERR_STORE);
	assert_string_equal(e.msg, "open /x");
	assert_string_equal(e.details, strerror(ENOENT));
	loom_err_errno(&e, LOOM_ERR_IO, 0, "no errno");
	assert_string_equal(e.details, "");
}

static void test_prefix_and_truncation(void **state)
{
	struct loom_err e;
	char longer[2 * LOOM_ERR_MSG_MAX];

	(void)state;
	loom_err_set(&e, 7, "bad address");
	loom_err_prefix(&e, "prevResult");
	assert_string_equal(e.msg, "prevResult: bad address");

	/* Over-long messages are cut, never overflow, and stay terminated. */
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	loom_err_set(&e, 7, "%s", longer);
	assert_int_equal(strlen(e.msg), LOOM_ERR_MSG_MAX - 1);
	loom_err_prefix(&e, "p");
	assert_int_equal(strlen(e.msg), LOOM_ERR_MSG_MAX - 1);
	assert_memory_equal(e.msg, "p: aaa", 6);
	loom_err_prefix(&e, longer);
	assert_int_equal(strlen(e.msg), LOOM_ERR_MSG_MAX - 1);
	loom_err_prefix(NULL, "x");

	loom_err_clear(&e);
	assert_int_equal(e.code, LOOM_OK);
	assert_string_equal(e.msg, "");
}

static void test_to_json(void **state)
{
	struct loom_err e;
	json_t *j;
	char *s;

	(void)state;
	loom_err_set(&e, LOOM_ERR_INVALID_ENV, "CNI_IFNAME is missing");
	j = loom_err_to_json(&e, "1.0.0");
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(
		s, "{\"cniVersion\":\"1.0.0\",\"code\":4,\"msg\":\"CNI_IFNAME is missing\"}");
	free(s);
	json_decref(j);

	loom_err_errno(&e, LOOM_ERR_STORE, EACCES, "cannot lock the store");
	j = loom_err_to_json(&e, "0.4.0");
	assert_int_equal(json_integer_value(json_object_get(j, "code")), 103);
	assert_string_equal(json_string_value(json_object_get(j, "details")), strerror(EACCES));
	json_decref(j);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_set), cmocka_unit_test(test_errno),
	       cmocka_unit_test(test_prefix_and_truncation), cmocka_unit_test(test_to_json))
