/* Log lines: UTC timestamp with milliseconds, program[instance], level,
 * message on one line; level names parse both ways. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemon/daemon.h"
#include "test_main.h"

static void test_format(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	/* 2026-12-02T19:40:17.123Z */
	n = loom_log_format(buf, sizeof(buf), 1796240417123LL, "loomd", "node-1", LOOM_LOG_WARN,
			    "store unreachable: %s, retrying in %d ms", "refused", 400);
	assert_string_equal(buf, "2026-12-02T19:40:17.123Z loomd[node-1] warn: "
				 "store unreachable: refused, retrying in 400 ms");
	assert_int_equal(n, strlen(buf));
	loom_log_format(buf, sizeof(buf), 1796240417005LL, "loom-policyd", NULL, LOOM_LOG_INFO,
			"in sync");
	assert_string_equal(buf, "2026-12-02T19:40:17.005Z loom-policyd info: in sync");
	/* one event, one line */
	loom_log_format(buf, sizeof(buf), 0, "p", "", LOOM_LOG_ERROR, "a\nb");
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z p error: a b");
}

static void test_truncation(void **state)
{
	char buf[32];
	size_t n;

	(void)state;
	n = loom_log_format(buf, sizeof(buf), 0, "p", "i", LOOM_LOG_DEBUG, "%0100d", 1);
	assert_int_equal(n, sizeof(buf) - 1);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

static void test_levels(void **state)
{
	enum loom_log_level l;

	(void)state;
	assert_int_equal(loom_log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOOM_LOG_DEBUG);
	assert_int_equal(loom_log_level_parse("WARNING", &l), 0);
	assert_int_equal(l, LOOM_LOG_WARN);
	assert_int_equal(loom_log_level_parse("error", &l), 0);
	assert_int_equal(l, LOOM_LOG_ERROR);
	assert_int_equal(loom_log_level_parse("verbose", &l), -22);
	assert_int_equal(loom_log_level_parse(NULL, &l), -22);
	for (l = LOOM_LOG_DEBUG; l <= LOOM_LOG_ERROR; l++) {
		enum loom_log_level back;

		assert_int_equal(loom_log_level_parse(loom_log_level_name(l), &back), 0);
		assert_int_equal(back, l);
	}
	loom_log_set_level(LOOM_LOG_ERROR);
	assert_int_equal(loom_log_get_level(), LOOM_LOG_ERROR);
	loom_log_set_level(LOOM_LOG_INFO);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_format), cmocka_unit_test(test_truncation),
	       cmocka_unit_test(test_levels))
