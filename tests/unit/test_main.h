/* LOOM_TEST_MAIN(tests...): a cmocka test binary's main, running the tests
 * listed (cmocka_unit_test(fn), TEST_ST(fn), ...) as one group with no group
 * setup.  Include after <cmocka.h>; helpers.h includes it. */
#ifndef LOOM_TESTS_UNIT_TEST_MAIN_H
#define LOOM_TESTS_UNIT_TEST_MAIN_H

#define LOOM_TEST_MAIN(...)                                         \
	int main(void)                                              \
	{                                                           \
		const struct CMUnitTest tests_[] = { __VA_ARGS__ }; \
		return cmocka_run_group_tests(tests_, NULL, NULL);  \
	}

#endif
