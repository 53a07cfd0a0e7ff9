/* Backoff with jitter: every delay within [base/2, base], the base doubling
 * up to the cap, a reset starting over, and the delays of two daemons
 * (different seeds) not moving in step. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/daemon.h"
#include "test_main.h"

static void test_bounds(void **state)
{
	struct loom_backoff b;
	int64_t base = 200;
	int i;

	(void)state;
	loom_backoff_init(&b, 200, 5000, 42);
	for (i = 0; i < 20; i++) {
		int64_t d = loom_backoff_next(&b);

		assert_true(d >= base / 2);
		assert_true(d <= base);
		assert_int_equal(b.base_ms, base);
		base = base * 2 > 5000 ? 5000 : base * 2;
	}
	assert_int_equal(b.failures, 20);
	loom_backoff_reset(&b);
	assert_int_equal(b.failures, 0);
	assert_true(loom_backoff_next(&b) <= 200);
}

/* Randomised: many draws at the cap spread over the range, and two seeds
 * give different sequences. */
static void test_jitter(void **state)
{
	struct loom_backoff a, b;
	int64_t lo = INT64_MAX, hi = 0;
	int i, same = 0;

	(void)state;
	loom_backoff_init(&a, 1000, 1000, 1);
	loom_backoff_init(&b, 1000, 1000, 2);
	for (i = 0; i < 200; i++) {
		int64_t x = loom_backoff_next(&a), y = loom_backoff_next(&b);

		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
		same += x == y;
	}
	assert_true(lo >= 500 && lo < 600);
	assert_true(hi <= 1000 && hi > 900);
	assert_true(same < 20);
}

/* Odd arguments are made sane: no zero or negative delays. */
static void test_sane(void **state)
{
	struct loom_backoff b;

	(void)state;
	loom_backoff_init(&b, 0, -5, 0);
	assert_true(loom_backoff_next(&b) >= 0);
	assert_true(loom_backoff_next(&b) <= 1);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_bounds), cmocka_unit_test(test_jitter),
	       cmocka_unit_test(test_sane))
