/* The sorted string set behind the watches' "keys reported" and
 * loom-policyd's "keys fed": order, update, delete, and a caller taking
 * keys out before clearing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/strset.h"
#include "test_main.h"

static void test_order_update_delete(void **state)
{
	static const char *const in[] = { "/b", "/a", "/c", "/a/x", "/" };
	struct loom_strset s = { 0 };
	bool found;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_int_equal(loom_strset_put(&s, in[i], (int64_t)i), 0);
	assert_int_equal(s.n, 5);
	for (i = 1; i < s.n; i++)
		assert_true(strcmp(s.keys[i - 1], s.keys[i]) < 0);
	assert_int_equal(loom_strset_put(&s, "/a", 42), 0); /* update, no duplicate */
	assert_int_equal(s.n, 5);
	i = loom_strset_pos(&s, "/a", &found);
	assert_true(found);
	assert_int_equal(s.vals[i], 42);
	assert_string_equal(s.keys[i], "/a");
	loom_strset_del(&s, "/a");
	loom_strset_del(&s, "/missing");
	assert_false(loom_strset_has(&s, "/a"));
	assert_true(loom_strset_has(&s, "/a/x"));
	assert_int_equal(s.n, 4);
	i = loom_strset_pos(&s, "/bb", &found);
	assert_false(found);
	assert_string_equal(s.keys[i], "/c"); /* where it would go */
	/* a caller may take a key out before clearing */
	free(s.keys[0]);
	s.keys[0] = NULL;
	loom_strset_clear(&s);
	assert_int_equal(s.n, 0);
	assert_int_equal(loom_strset_put(&s, "again", 1), 0);
	loom_strset_clear(&s);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_order_update_delete))
