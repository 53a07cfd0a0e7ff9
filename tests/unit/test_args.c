/* CNI_ARGS parsing: the pairs runtimes really send, IgnoreUnknown, and the
 * errors for pairs loom cannot read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const plugin_keys[] = { "IP", "MAC", NULL };

/* What containerd sends for a pod. */
static void test_containerd(void **state)
{
	struct loom_cni_args a;
	struct loom_err err;

	(void)state;
	assert_int_equal(loom_cni_args_parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
					     "K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=3f2a;"
					     "K8S_POD_UID=1b4e-77",
					     NULL, &a, &err),
			 0);
	assert_true(a.ignore_unknown);
	assert_int_equal(a.n, 5);
	assert_string_equal(a.k8s_pod_namespace, "default");
	assert_string_equal(a.k8s_pod_name, "web-0");
	assert_string_equal(a.k8s_pod_infra_container_id, "3f2a");
	assert_string_equal(a.k8s_pod_uid, "1b4e-77");
	assert_string_equal(loom_cni_args_get(&a, "K8S_POD_NAME"), "web-0");
	assert_null(loom_cni_args_get(&a, "k8s_pod_name"));
	assert_null(loom_cni_args_get(&a, "MISSING"));
	assert_null(loom_cni_args_get(NULL, "K8S_POD_NAME"));
}

static const struct {
	const char *s;
	const char *const *known;
	size_t n;
	bool ignore;
	const char *key, *value; /* one pair to look up, or NULL */
} good[] = {
	{ NULL, NULL, 0, false, NULL, NULL },
	{ "", NULL, 0, false, NULL, NULL },
	{ ";", NULL, 0, false, NULL, NULL },
	{ "K8S_POD_NAME=a;", NULL, 1, false, "K8S_POD_NAME", "a" },
	{ "K8S_POD_NAME=", NULL, 1, false, "K8S_POD_NAME", "" },
	{ "IP=10.1.2.3;MAC=aa:bb:cc:dd:ee:ff", plugin_keys, 2, false, "MAC", "aa:bb:cc:dd:ee:ff" },
	/* IgnoreUnknown applies wherever it stands. */
	{ "FOO=bar;IgnoreUnknown=true", NULL, 2, true, "FOO", "bar" },
	{ "IgnoreUnknown=True;FOO=bar", NULL, 2, true, "FOO", "bar" },
	{ "IgnoreUnknown=TRUE;FOO=bar", NULL, 2, true, NULL, NULL },
	{ "IgnoreUnknown=0", NULL, 1, false, NULL, NULL },
	{ "IgnoreUnknown=false;IP=1.2.3.4", plugin_keys, 2, false, "IP", "1.2.3.4" },
	/* A repeated key keeps its last value, as in the reference. */
	{ "K8S_POD_NAME=a;K8S_POD_NAME=b", NULL, 1, false, "K8S_POD_NAME", "b" },
};

static void test_good(void **state)
{
	struct loom_cni_args a;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(good); i++) {
		loom_err_clear(&err);
		if (loom_cni_args_parse(good[i].s, good[i].known, &a, &err) != 0)
			fail_msg("\"%s\": %s", good[i].s, err.msg);
		assert_int_equal(a.n, good[i].n);
		assert_int_equal(a.ignore_unknown, good[i].ignore);
		if (good[i].key)
			assert_string_equal(loom_cni_args_get(&a, good[i].key), good[i].value);
	}
}

static const struct {
	const char *s;
	const char *want; /* substring of the message besides "CNI_ARGS" */
} bad[] = {
	{ "FOO", "\"FOO\"" },
	{ "K8S_POD_NAME=a;FOO", "pair 2 \"FOO\"" },
	{ "A=b=c", "exactly one '='" },
	{ "=x", "empty key" },
	{ "FOO=bar", "unknown key in pair \"FOO=bar\"" },
	{ "IP=1.2.3.4;FOO=bar", "\"FOO=bar\"" },
	{ "IgnoreUnknown=yes", "IgnoreUnknown=yes is not a boolean" },
	{ "IgnoreUnknown=", "IgnoreUnknown= is not a boolean" },
	{ "IgnoreUnknown=1;IgnoreUnknown=2", "not a boolean" },
	{ "IgnoreUnknown=0;FOO=bar", "unknown key" },
};

static void test_bad(void **state)
{
	struct loom_cni_args a;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad); i++) {
		loom_err_clear(&err);
		assert_int_equal(loom_cni_args_parse(bad[i].s, plugin_keys, &a, &err), -1);
		assert_int_equal(err.code, LOOM_ERR_INVALID_ENV);
		if (!strstr(err.msg, "CNI_ARGS") || !strstr(err.msg, bad[i].want))
			fail_msg("\"%s\": \"%s\"", bad[i].s, err.msg);
		/* A failed parse leaves nothing half-filled behind. */
		assert_int_equal(a.n, 0);
		assert_null(a.k8s_pod_name);
	}
}

static void test_bounds(void **state)
{
	char s[LOOM_CNI_ARG_MAX * 4];
	char *big;
	struct loom_cni_args a;
	struct loom_err err;
	size_t i, len = 0;

	(void)state;
	/* 255-byte key and value fit; 256 do not. */
	memset(s, 0, sizeof(s));
	memset(s, 'k', LOOM_CNI_ARG_MAX - 1);
	s[LOOM_CNI_ARG_MAX - 1] = '=';
	memset(s + LOOM_CNI_ARG_MAX, 'v', LOOM_CNI_ARG_MAX - 1);
	assert_int_equal(loom_cni_args_parse(s, NULL, &a, &err), -1); /* unknown key */
	memcpy(s, "IgnoreUnknown=1;", 16);
	memset(s + 16, 'k', LOOM_CNI_ARG_MAX - 1);
	s[16 + LOOM_CNI_ARG_MAX - 1] = '=';
	memset(s + 16 + LOOM_CNI_ARG_MAX, 'v', LOOM_CNI_ARG_MAX - 1);
	s[16 + 2 * LOOM_CNI_ARG_MAX - 1] = '\0';
	assert_int_equal(loom_cni_args_parse(s, NULL, &a, &err), 0);
	assert_int_equal(strlen(a.kv[1].value), LOOM_CNI_ARG_MAX - 1);
	strcat(s, "v");
	assert_int_equal(loom_cni_args_parse(s, NULL, &a, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_ENV);
	assert_non_null(strstr(err.msg, "longer than 255 bytes"));
	assert_non_null(strstr(err.msg, "CNI_ARGS"));

	/* LOOM_CNI_ARGS_MAX distinct keys fit; one more does not. */
	big = malloc(LOOM_CNI_ARGS_MAX * 16 + 64);
	assert_non_null(big);
	len = (size_t)sprintf(big, "IgnoreUnknown=1");
	for (i = 1; i < LOOM_CNI_ARGS_MAX; i++)
		len += (size_t)sprintf(big + len, ";K%zu=%zu", i, i);
	assert_int_equal(loom_cni_args_parse(big, NULL, &a, &err), 0);
	assert_int_equal(a.n, LOOM_CNI_ARGS_MAX);
	assert_string_equal(loom_cni_args_get(&a, "K31"), "31");
	sprintf(big + len, ";K%d=x", LOOM_CNI_ARGS_MAX);
	assert_int_equal(loom_cni_args_parse(big, NULL, &a, &err), -1);
	assert_non_null(strstr(err.msg, "more than 32 pairs"));
	free(big);
}

LOOM_TEST_MAIN(cmocka_unit_test(test_containerd), cmocka_unit_test(test_good),
	       cmocka_unit_test(test_bad), cmocka_unit_test(test_bounds))
