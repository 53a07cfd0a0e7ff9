/* CNI_* environment: each command's required variables, the validators,
 * and the messages a runtime author reads when one is wrong. */
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

static const char *const all_vars[] = {
	"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH",
};

/* A valid value for every variable. */
static const char *good_value(const char *var)
{
	if (strcmp(var, "CNI_CONTAINERID") == 0)
		return "3f2a9c_pod.1-x";
	if (strcmp(var, "CNI_NETNS") == 0)
		return "/var/run/netns/p1";
	if (strcmp(var, "CNI_IFNAME") == 0)
		return "eth0";
	if (strcmp(var, "CNI_ARGS") == 0)
		return "K8S_POD_NAME=web";
	if (strcmp(var, "CNI_PATH") == 0)
		return "/opt/cni/bin:/usr/lib/cni";
	return NULL;
}

static int clear_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N(all_vars); i++)
		unsetenv(all_vars[i]);
	return 0;
}

static void set_all(const char *cmd)
{
	size_t i;

	for (i = 1; i < N(all_vars); i++)
		setenv(all_vars[i], good_value(all_vars[i]), 1);
	setenv("CNI_COMMAND", cmd, 1);
}

static struct {
	const char *cmd;
	const char *const required[4];
} const req_table[] = {
	{ "ADD", { "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH" } },
	{ "CHECK", { "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH" } },
	{ "DEL", { "CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH" } },
	{ "GC", { "CNI_PATH" } },
	{ "STATUS", { "CNI_PATH" } },
	{ "VERSION", { NULL } },
};

/* Unset or empty, each required variable is code 4 naming it and the
 * command. */
static void test_missing_required(void **state)
{
	size_t i, j;
	int empty;

	(void)state;
	for (i = 0; i < N(req_table); i++) {
		for (j = 0; j < 4 && req_table[i].required[j]; j++) {
			for (empty = 0; empty < 2; empty++) {
				const char *var = req_table[i].required[j];
				struct loom_cni_env env;
				struct loom_err err;

				set_all(req_table[i].cmd);
				if (empty)
					setenv(var, "", 1);
				else
					unsetenv(var);
				loom_err_clear(&err);
				assert_int_equal(loom_cni_env_read(&env, &err), -1);
				assert_int_equal(err.code, LOOM_ERR_INVALID_ENV);
				if (!strstr(err.msg, var) || !strstr(err.msg, req_table[i].cmd))
					fail_msg("%s without %s: \"%s\"", req_table[i].cmd, var,
						 err.msg);
			}
		}
	}
}

/* Every missing variable is named at once. */
static void test_missing_several(void **state)
{
	struct loom_cni_env env;
	struct loom_err err;

	(void)state;
	setenv("CNI_COMMAND", "ADD", 1);
	setenv("CNI_NETNS", "/var/run/netns/p1", 1);
	assert_int_equal(loom_cni_env_read(&env, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_ENV);
	assert_non_null(strstr(err.msg, "CNI_CONTAINERID"));
	assert_non_null(strstr(err.msg, "CNI_IFNAME"));
	assert_non_null(strstr(err.msg, "CNI_PATH"));
	assert_null(strstr(err.msg, "CNI_NETNS"));
}

/* What a command does not need may be absent; what it does not use is not
 * handed on (GC gets no container ID even when one is set). */
static void test_optional_and_unused(void **state)
{
	struct loom_cni_env env;
	struct loom_err err;

	(void)state;
	set_all("DEL");
	unsetenv("CNI_NETNS");
	assert_int_equal(loom_cni_env_read(&env, &err), 0);
	assert_int_equal(env.cmd, LOOM_CMD_DEL);
	assert_null(env.netns);
	assert_string_equal(env.container_id, "3f2a9c_pod.1-x");
	assert_string_equal(env.ifname, "eth0");

	set_all("DEL");
	assert_int_equal(loom_cni_env_read(&env, &err), 0);
	assert_string_equal(env.netns, "/var/run/netns/p1");

	clear_env(NULL);
	setenv("CNI_COMMAND", "GC", 1);
	setenv("CNI_PATH", "/opt/cni/bin", 1);
	setenv("CNI_CONTAINERID", "bad id", 1);
	setenv("CNI_IFNAME", "bad/if", 1);
	assert_int_equal(loom_cni_env_read(&env, &err), 0);
	assert_int_equal(env.cmd, LOOM_CMD_GC);
	assert_null(env.container_id);
	assert_null(env.ifname);
	assert_string_equal(env.path, "/opt/cni/bin");

	clear_env(NULL);
	setenv("CNI_COMMAND", "VERSION", 1);
	assert_int_equal(loom_cni_env_read(&env, &err), 0);
	assert_int_equal(env.cmd, LOOM_CMD_VERSION);
	assert_null(env.path);
	assert_null(env.args);
}

static void test_all_good(void **state)
{
	struct loom_cni_env env;
	struct loom_err err;

	(void)state;
	set_all("ADD");
	assert_int_equal(loom_cni_env_read(&env, &err), 0);
	assert_int_equal(env.cmd, LOOM_CMD_ADD);
	assert_string_equal(env.container_id, "3f2a9c_pod.1-x");
	assert_string_equal(env.netns, "/var/run/netns/p1");
	assert_string_equal(env.ifname, "eth0");
	assert_string_equal(env.args, "K8S_POD_NAME=web");
	assert_string_equal(env.path, "/opt/cni/bin:/usr/lib/cni");
}

static void test_command(void **state)
{
	static const struct {
		const char *value; /* NULL: unset */
		const char *want;  /* substring of the message */
	} bad[] = {
		{ NULL, "CNI_COMMAND" },
		{ "", "CNI_COMMAND" },
		{ "FOO", "unknown CNI_COMMAND: FOO" },
		{ "add", "unknown CNI_COMMAND: add" },
		{ "ADD ", "unknown CNI_COMMAND: ADD " },
	};
	struct loom_cni_env env;
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(bad); i++) {
		set_all("ADD");
		if (bad[i].value)
			setenv("CNI_COMMAND", bad[i].value, 1);
		else
			unsetenv("CNI_COMMAND");
		assert_int_equal(loom_cni_env_read(&env, &err), -1);
		assert_int_equal(err.code, LOOM_ERR_INVALID_ENV);
		if (!strstr(err.msg, bad[i].want))
			fail_msg("CNI_COMMAND=%s: \"%s\"", bad[i].value ? bad[i].value : "(unset)",
				 err.msg);
	}
}

static const char long16[] = "abcdefghijklmnop";

/* Malformed values, for every command that needs the variable. */
static const struct {
	const char *var, *value, *want;
} malformed[] = {
	{ "CNI_CONTAINERID", "a b", "contains characters other than letters, digits" },
	{ "CNI_CONTAINERID", "-abc", "must start with a letter or a digit" },
	{ "CNI_CONTAINERID", "_abc", "must start with a letter or a digit" },
	{ "CNI_CONTAINERID", "abc/def", "contains characters" },
	{ "CNI_CONTAINERID", "ab\xc3\xa9", "contains characters" },
	{ "CNI_IFNAME", long16, "longer than 15" },
	{ "CNI_IFNAME", ".", "not allowed" },
	{ "CNI_IFNAME", "..", "not allowed" },
	{ "CNI_IFNAME", "eth/0", "'/', ':' or whitespace" },
	{ "CNI_IFNAME", "eth:0", "'/', ':' or whitespace" },
	{ "CNI_IFNAME", "eth 0", "'/', ':' or whitespace" },
	{ "CNI_IFNAME", "eth\t0", "'/', ':' or whitespace" },
};

static void test_malformed(void **state)
{
	static const char *const cmds[] = { "ADD", "CHECK", "DEL" };
	struct loom_cni_env env;
	struct loom_err err;
	size_t i, c;

	(void)state;
	for (c = 0; c < N(cmds); c++) {
		for (i = 0; i < N(malformed); i++) {
			set_all(cmds[c]);
			setenv(malformed[i].var, malformed[i].value, 1);
			assert_int_equal(loom_cni_env_read(&env, &err), -1);
			assert_int_equal(err.code, LOOM_ERR_INVALID_ENV);
			if (!strstr(err.msg, malformed[i].var) ||
			    !strstr(err.msg, malformed[i].want) ||
			    !strstr(err.msg, malformed[i].value))
				fail_msg("%s %s=\"%s\": \"%s\"", cmds[c], malformed[i].var,
					 malformed[i].value, err.msg);
		}
	}
}

static void test_validators(void **state)
{
	static const struct {
		int (*fn)(const char *, struct loom_err *);
		const char *value;
		int want; /* 0 or the error code */
	} cases[] = {
		{ loom_cni_validate_container_id, "a", 0 },
		{ loom_cni_validate_container_id,
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0 },
		{ loom_cni_validate_container_id, "A.b_c-D", 0 },
		{ loom_cni_validate_container_id, "", LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_container_id, NULL, LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_container_id, ".abc", LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_container_id, "abc\n", LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_ifname, "eth0", 0 },
		{ loom_cni_validate_ifname, "abcdefghijklmno", 0 }, /* 15 bytes */
		{ loom_cni_validate_ifname, "a.b-c_d@e", 0 },
		{ loom_cni_validate_ifname, "...", 0 },
		{ loom_cni_validate_ifname, "", LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_ifname, NULL, LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_ifname, "abcdefghijklmnop", LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_ifname, "a\nb", LOOM_ERR_INVALID_ENV },
		{ loom_cni_validate_network_name, "loom-net_1.a", 0 },
		{ loom_cni_validate_network_name, "1net", 0 },
		{ loom_cni_validate_network_name, "", LOOM_ERR_INVALID_CONFIG },
		{ loom_cni_validate_network_name, "my net", LOOM_ERR_INVALID_CONFIG },
		{ loom_cni_validate_network_name, "../etc", LOOM_ERR_INVALID_CONFIG },
		{ loom_cni_validate_network_name, "a/b", LOOM_ERR_INVALID_CONFIG },
	};
	struct loom_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(cases); i++) {
		int r;

		loom_err_clear(&err);
		r = cases[i].fn(cases[i].value, &err);
		if (cases[i].want == 0 && r != 0)
			fail_msg("case %zu \"%s\": unexpected error \"%s\"", i, cases[i].value,
				 err.msg);
		if (cases[i].want != 0 && (r != -1 || err.code != cases[i].want))
			fail_msg("case %zu \"%s\": r=%d code=%d", i,
				 cases[i].value ? cases[i].value : "(null)", r, err.code);
	}
	/* Container IDs and network names become file names. */
	{
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(loom_cni_validate_container_id(big, &err), -1);
		assert_non_null(strstr(err.msg, "longer than 255"));
		assert_int_equal(loom_cni_validate_network_name(big, &err), -1);
		big[255] = '\0';
		assert_int_equal(loom_cni_validate_container_id(big, &err), 0);
	}
	/* A NULL context is allowed. */
	assert_int_equal(loom_cni_validate_ifname("a/b", NULL), -1);
}

LOOM_TEST_MAIN(cmocka_unit_test_setup(test_missing_required, clear_env),
	       cmocka_unit_test_setup(test_missing_several, clear_env),
	       cmocka_unit_test_setup(test_optional_and_unused, clear_env),
	       cmocka_unit_test_setup(test_all_good, clear_env),
	       cmocka_unit_test_setup(test_command, clear_env),
	       cmocka_unit_test_setup(test_malformed, clear_env), cmocka_unit_test(test_validators))
