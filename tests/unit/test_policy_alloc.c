/* Allocation failures in the compiler: for every N, the Nth allocation of
 * a flush fails; the flush must say so (NULL, nothing to send) and the
 * next one must replace the table with exactly what a fresh build of the
 * same state makes.  A failure may cost a whole-table rebuild, never a
 * half-applied change or a dropped element.
 *
 * Linked with -Wl,--wrap for malloc, calloc, realloc, strdup, strndup,
 * asprintf and vasprintf (CMakeLists.txt, the loompolicy section);
 * jansson's allocations go through the same counter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cluster.h"
#include "nftsim.h"

static long fail_at = -1; /* the allocation to fail, counting from 1; -1: none */
static long seen;         /* allocations since armed */

static bool failing(void)
{
	return fail_at > 0 && ++seen == fail_at;
}

/* The linker's --wrap pair for one function: the real one and ours. */
#define WRAPPED(ret, fn, ...)         \
	ret __real_##fn(__VA_ARGS__); \
	ret __wrap_##fn(__VA_ARGS__)

WRAPPED(void *, malloc, size_t n);
WRAPPED(void *, calloc, size_t n, size_t size);
WRAPPED(void *, realloc, void *p, size_t n);
WRAPPED(char *, strdup, const char *s);
WRAPPED(char *, strndup, const char *s, size_t n);
WRAPPED(int, vasprintf, char **s, const char *fmt, va_list ap);
int __wrap_asprintf(char **s, const char *fmt, ...);

void *__wrap_malloc(size_t n)
{
	return failing() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return failing() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return failing() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return failing() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return failing() ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **s, const char *fmt, va_list ap)
{
	if (failing())
		return -1;
	return __real_vasprintf(s, fmt, ap);
}

int __wrap_asprintf(char **s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = __wrap_vasprintf(s, fmt, ap);
	va_end(ap);
	return rc;
}

static void *json_alloc(size_t n)
{
	return __wrap_malloc(n);
}

static void arm(long n)
{
	fail_at = n;
	seen = 0;
}

/* stops failing; seen keeps the count */
static void disarm(void)
{
	fail_at = -1;
}

#define SPEC_WEB                                                                                                                              \
	"{\"podSelector\":{\"matchExpressions\":[{\"key\":\"pod\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]}]},"                           \
	"\"ingress\":[{\"from\":[{\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"y\"}},\"podSelector\":{\"matchLabels\":{\"pod\":\"a\"}}}," \
	"{\"ipBlock\":{\"cidr\":\"192.0.2.0/24\",\"except\":[\"192.0.2.128/25\"]}}],"                                                         \
	"\"ports\":[{\"port\":\"serve-80-tcp\"},{\"port\":81,\"protocol\":\"UDP\"},{\"port\":9000,\"endPort\":9100}]}],"                      \
	"\"egress\":[{\"to\":[{\"namespaceSelector\":{}}]}]}"
#define SPEC_DENY "{\"podSelector\":{},\"policyTypes\":[\"Ingress\",\"Egress\"]}"
#define SPEC_FROM_B \
	"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"pod\":\"b\"}}}]}]}"

/* state 0: two namespaces, five pods, two policies; state 1 changes
 * every kind of thing: a relabel, a new policy, a deleted policy and a
 * deleted pod */
static void state(struct pol_engine *e, int which)
{
	cl_namespace(e, "x", "{\"ns\":\"x\"}");
	cl_namespace(e, "y", "{\"ns\":\"y\"}");
	cl_pod(e, "x", "a", "n1", "{\"pod\":\"a\"}", "10.244.1.2", "fd00:10:244:1::2");
	cl_pod(e, "x", "b", "n1", which ? "{\"pod\":\"c\"}" : "{\"pod\":\"b\"}", "10.244.1.3",
	       NULL);
	cl_pod(e, "y", "a", "n2", "{\"pod\":\"a\"}", "10.244.2.2", "fd00:10:244:2::2");
	cl_pod(e, "y", "b", "n1", "{\"pod\":\"b\"}", "10.244.1.4", NULL);
	if (!which)
		cl_pod(e, "y", "c", "n2", "{\"pod\":\"c\"}", "10.244.2.3", NULL);
	cl_policy(e, "x", "web", SPEC_WEB);
	if (!which)
		cl_policy(e, "x", "deny-all", SPEC_DENY);
	else
		cl_policy(e, "y", "from-b", SPEC_FROM_B);
}

/* from state 0 to state 1 on a live engine */
static void change(struct pol_engine *e)
{
	cl_pod(e, "x", "b", "n1", "{\"pod\":\"c\"}", "10.244.1.3", NULL);
	cl_pod_del(e, "y", "c", "n2");
	cl_policy_del(e, "x", "deny-all");
	cl_policy(e, "y", "from-b", SPEC_FROM_B);
}

static char *fresh_batch(int which, char **ruleset)
{
	struct pol_engine *e = pol_engine_new("n1");
	char *b;

	state(e, which);
	b = pol_engine_flush(e);
	*ruleset = pol_engine_ruleset(e);
	pol_engine_free(e);
	assert_non_null(b);
	assert_non_null(*ruleset);
	return b;
}

enum phase {
	INITIAL_FLUSH,     /* the first flush of state 0 */
	INCREMENTAL_FLUSH, /* the flush from state 0 to state 1 */
	MODEL_UPDATES,     /* the puts and deletes from state 0 to state 1 */
};

/* For N = 1, 2, ... until the phase runs out of allocations: fail the
 * Nth allocation of the phase, then carry on as the daemon does.  A
 * failed flush must say so (NULL) and the next one must be exactly a
 * fresh build's whole-table replace; a failed put is repeated (the daemon
 * re-reads the store).  Either way the table the batches make in the
 * stand-in equals a fresh build of the end state. */
static void each_failure(enum phase ph, const char *what, long at_least)
{
	int end = ph == INITIAL_FLUSH ? 0 : 1;
	char *rules, *want = fresh_batch(end, &rules);
	long n;

	for (n = 1;; n++) {
		struct pol_engine *e = pol_engine_new("n1");
		struct pir sim = { 0 };
		char *b = NULL, *got, why[512];
		bool failed;

		state(e, 0);
		if (ph != INITIAL_FLUSH) {
			b = pol_engine_flush(e);
			assert_int_equal(nftsim_apply(&sim, b, why, sizeof(why)), 0);
			free(b);
		}
		if (ph == INCREMENTAL_FLUSH)
			change(e);
		arm(n);
		if (ph == MODEL_UPDATES)
			change(e);
		else
			b = pol_engine_flush(e);
		disarm();
		failed = seen >= n;
		if (ph == MODEL_UPDATES) {
			if (failed)
				change(e);
			b = pol_engine_flush(e);
		} else if (failed) {
			if (b)
				fail_msg(
					"%s: allocation %ld of %ld failed and the flush still made a batch",
					what, n, seen);
			b = pol_engine_flush(e);
			assert_non_null(b);
			if (strcmp(b, want))
				fail_msg(
					"%s: allocation %ld failed: the next batch is not a fresh build's",
					what, n);
		} else if (ph == INITIAL_FLUSH) {
			assert_string_equal(b, want);
		}
		assert_non_null(b);
		if (nftsim_apply(&sim, b, why, sizeof(why)) < 0)
			fail_msg("%s: allocation %ld failed: the next batch does not apply: %s",
				 what, n, why);
		got = pir_dump(&sim);
		assert_string_equal(got, rules);
		free(got);
		got = pol_engine_ruleset(e);
		assert_string_equal(got, rules);
		free(got);
		free(b);
		pir_clear(&sim);
		pol_engine_free(e);
		if (!failed)
			break;
	}
	print_message("%s: failed each of %ld allocations in turn\n", what, n - 1);
	assert_true(n > at_least);
	free(want);
	free(rules);
}

static void test_initial_flush(void **state_)
{
	(void)state_;
	each_failure(INITIAL_FLUSH, "initial flush", 50);
}

static void test_incremental_flush(void **state_)
{
	(void)state_;
	each_failure(INCREMENTAL_FLUSH, "incremental flush", 20);
}

static void test_model_updates(void **state_)
{
	(void)state_;
	each_failure(MODEL_UPDATES, "model updates", 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_flush),
		cmocka_unit_test(test_incremental_flush),
		cmocka_unit_test(test_model_updates),
	};

	json_set_alloc_funcs(json_alloc, free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
