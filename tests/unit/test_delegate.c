/* Delegation to a plugin in CNI_PATH, against tiny shell-script plugins
 * written into a temporary directory: results, passed-through errors,
 * timeouts, crashes, garbage, and what the child sees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni/cni.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char dir[] = "/tmp/loom-test-delegate.XXXXXX";
static char dir2[64];
static char cni_path[2 * PATH_MAX + 2];

static const char conf[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"echo\"}";

static const struct {
	const char *name;
	const char *body;
	mode_t mode;
} plugins[] = {
	/* Answers with its environment and the config it read. */
	{ "echo",
	  "printf '{\"cmd\":\"%s\",\"cid\":\"%s\",\"netns\":\"%s\",\"ifname\":\"%s\",\"args\":\"%s\","
	  "\"path\":\"%s\",\"marker\":\"%s\",\"netns_set\":\"%s\",\"stdin\":%s}\\n' "
	  "\"$CNI_COMMAND\" \"$CNI_CONTAINERID\" \"$CNI_NETNS\" \"$CNI_IFNAME\" \"$CNI_ARGS\" "
	  "\"$CNI_PATH\" \"$LOOM_TEST_MARKER\" \"${CNI_NETNS+set}\" \"$(cat)\"\n",
	  0755 },
	{ "fail",
	  "cat >/dev/null\n"
	  "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"store is busy\","
	  "\"details\":\"lock held\"}'\n"
	  "echo 'some log line' >&2\nexit 1\n",
	  0755 },
	{ "fail-nodetails",
	  "echo '{\"code\":102,\"msg\":\"10.1.2.3 is taken\"}'\necho 'why it failed' >&2\nexit 1\n",
	  0755 },
	{ "slow", "exec sleep 60\n", 0755 },
	/* Never pauses writing stderr: the deadline must still hold. */
	{ "spam", "exec yes 'spam' >&2\n", 0755 },
	{ "garbage", "echo 'hello, not json'\necho 'oops' >&2\n", 0755 },
	{ "array", "echo '[1,2]'\n", 0755 },
	{ "empty", "cat >/dev/null\n", 0755 },
	{ "status3", "echo 'something broke' >&2\nexit 3\n", 0755 },
	{ "selfkill", "kill -9 $$\n", 0755 },
	/* Exits without reading a big config: our write must not SIGPIPE us. */
	{ "noread", "exit 0\n", 0755 },
	{ "noexec", "echo '{}'\n", 0644 },
	/* Leaves a grandchild holding stdout open after the plugin exits. */
	{ "bg", "sleep 60 & echo $! > \"$LOOM_TEST_DIR/bg.pid\"\necho '{\"ok\":true}'\n", 0755 },
	{ "chatty", "exec cat /dev/zero\n", 0755 },
};

static void write_file(const char *path, const char *body, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(body, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	char path[PATH_MAX];
	size_t i;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(dir2, sizeof(dir2), "%s/second", dir);
	if (mkdir(dir2, 0755) < 0)
		return -1;
	for (i = 0; i < N(plugins); i++) {
		char body[2048];

		/* The echo plugin lives in the second directory of CNI_PATH. */
		snprintf(path, sizeof(path), "%s/%s", strcmp(plugins[i].name, "echo") ? dir : dir2,
			 plugins[i].name);
		snprintf(body, sizeof(body), "#!/bin/sh\n%s", plugins[i].body);
		write_file(path, body, plugins[i].mode);
	}
	/* A directory named like a plugin is not a plugin. */
	snprintf(path, sizeof(path), "%s/adir", dir);
	mkdir(path, 0755);
	snprintf(cni_path, sizeof(cni_path), "/nonexistent::%s:%s", dir, dir2);
	setenv("LOOM_TEST_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct loom_cni_env test_env(void)
{
	return (struct loom_cni_env){
		.cmd = LOOM_CMD_ADD,
		.container_id = "c0ffee",
		.netns = "/var/run/netns/p1",
		.ifname = "eth0",
		.args = "K8S_POD_NAME=web",
		.path = cni_path,
	};
}

/* No child of ours may be left unreaped. */
static void assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return s;
}

static void test_result_and_env(void **state)
{
	struct loom_cni_env env = test_env();
	struct loom_err err;
	json_t *out = NULL;

	(void)state;
	/* Stale CNI_* in our own environment are replaced, not duplicated;
	 * other variables pass through. */
	setenv("CNI_COMMAND", "VERSION", 1);
	setenv("CNI_NETNS", "/stale", 1);
	setenv("LOOM_TEST_MARKER", "m4rk", 1);
	if (loom_delegate("echo", LOOM_CMD_DEL, &env, conf, strlen(conf), 10000, &out, &err) != 0)
		fail_msg("%s (%s)", err.msg, err.details);
	assert_non_null(out);
	assert_string_equal(str(out, "cmd"), "DEL");
	assert_string_equal(str(out, "cid"), "c0ffee");
	assert_string_equal(str(out, "netns"), "/var/run/netns/p1");
	assert_string_equal(str(out, "ifname"), "eth0");
	assert_string_equal(str(out, "args"), "K8S_POD_NAME=web");
	assert_string_equal(str(out, "path"), cni_path);
	assert_string_equal(str(out, "marker"), "m4rk");
	assert_string_equal(str(json_object_get(out, "stdin"), "name"), "net1");
	json_decref(out);

	/* An absent field is absent in the child, not inherited. */
	env.netns = NULL;
	assert_int_equal(loom_delegate("echo", LOOM_CMD_DEL, &env, conf, strlen(conf), 10000, &out,
				       &err),
			 0);
	assert_string_equal(str(out, "netns_set"), "");
	json_decref(out);
	unsetenv("CNI_COMMAND");
	unsetenv("CNI_NETNS");
	unsetenv("LOOM_TEST_MARKER");
	assert_no_children();
}

static const struct {
	const char *type;
	int code;
	const char *msg;     /* substring of msg */
	const char *details; /* substring of details, or NULL */
} failures[] = {
	{ "fail", LOOM_ERR_TRY_AGAIN, "store is busy", "lock held" },
	{ "fail-nodetails", LOOM_ERR_IP_UNAVAILABLE, "10.1.2.3 is taken", "why it failed" },
	{ "slow", LOOM_ERR_DELEGATE, "did not finish within 300 ms", NULL },
	{ "spam", LOOM_ERR_DELEGATE, "did not finish within 300 ms", "spam spam" },
	{ "garbage", LOOM_ERR_DELEGATE, "not a JSON object", "oops" },
	{ "array", LOOM_ERR_DELEGATE, "not a JSON object", NULL },
	{ "status3", LOOM_ERR_DELEGATE, "exited with status 3", "something broke" },
	{ "selfkill", LOOM_ERR_DELEGATE, "killed by signal 9", NULL },
	{ "missing", LOOM_ERR_DELEGATE, "plugin \"missing\" not found in CNI_PATH", NULL },
	{ "adir", LOOM_ERR_DELEGATE, "not found", NULL },
	{ "noexec", LOOM_ERR_DELEGATE, "not executable", NULL },
	{ "chatty", LOOM_ERR_DELEGATE, "more than 1048576 bytes on stdout", NULL },
	{ "../echo", LOOM_ERR_INVALID_CONFIG, "not a path", NULL },
	{ "", LOOM_ERR_INVALID_CONFIG, "not a path", NULL },
	{ "..", LOOM_ERR_INVALID_CONFIG, "not a path", NULL },
};

static void test_failures(void **state)
{
	struct loom_cni_env env = test_env();
	size_t i;

	(void)state;
	for (i = 0; i < N(failures); i++) {
		struct loom_err err;
		json_t *out = (json_t *)1;
		/* Only "slow" and "spam" are meant to meet the deadline. */
		int timeout = strcmp(failures[i].type, "slow") == 0 ||
					      strcmp(failures[i].type, "spam") == 0
				      ? 300
				      : 10000;

		loom_err_clear(&err);
		if (loom_delegate(failures[i].type, LOOM_CMD_ADD, &env, conf, strlen(conf), timeout,
				  &out, &err) != -1)
			fail_msg("%s succeeded", failures[i].type);
		assert_null(out);
		if (err.code != failures[i].code || !strstr(err.msg, failures[i].msg) ||
		    (failures[i].details && !strstr(err.details, failures[i].details)))
			fail_msg("%s: code %d msg \"%s\" details \"%s\"", failures[i].type,
				 err.code, err.msg, err.details);
		assert_no_children();
	}
}

static void test_empty_answer(void **state)
{
	struct loom_cni_env env = test_env();
	struct loom_err err;
	json_t *out = (json_t *)1;

	(void)state;
	assert_int_equal(loom_delegate("empty", LOOM_CMD_DEL, &env, conf, strlen(conf), 10000, &out,
				       &err),
			 0);
	assert_null(out);
	assert_no_children();
}

/* The child exits without reading 4 MiB of config: EPIPE, no SIGPIPE (the
 * default action would kill this test), the signal mask as it was. */
static void test_no_sigpipe(void **state)
{
	struct loom_cni_env env = test_env();
	struct loom_err err;
	json_t *out = NULL;
	size_t len = 4 * 1024 * 1024;
	char *big = malloc(len);
	sigset_t before, after, pending;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, NULL, &before);
	assert_int_equal(loom_delegate("noread", LOOM_CMD_ADD, &env, big, len, 10000, &out, &err),
			 0);
	assert_null(out);
	sigprocmask(SIG_SETMASK, NULL, &after);
	assert_int_equal(sigismember(&before, SIGPIPE), sigismember(&after, SIGPIPE));
	sigpending(&pending);
	assert_false(sigismember(&pending, SIGPIPE));
	free(big);
	assert_no_children();
}

/* A grandchild holding stdout open must not hold us past the plugin's
 * exit (which would end in a timeout error). */
static void test_grandchild(void **state)
{
	struct loom_cni_env env = test_env();
	struct loom_err err;
	json_t *out = NULL;
	char path[PATH_MAX];
	FILE *f;
	int pid = 0, r;

	(void)state;
	r = loom_delegate("bg", LOOM_CMD_ADD, &env, conf, strlen(conf), 5000, &out, &err);
	snprintf(path, sizeof(path), "%s/bg.pid", dir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	if (pid > 0)
		kill(pid, SIGKILL);
	if (r != 0)
		fail_msg("%s", err.msg);
	assert_true(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
	assert_true(pid > 0);
}

static void test_bad_env(void **state)
{
	struct loom_cni_env env = test_env();
	struct loom_err err;
	json_t *out = NULL;

	(void)state;
	env.path = NULL;
	assert_int_equal(loom_delegate("echo", LOOM_CMD_ADD, &env, conf, strlen(conf), 1000, &out,
				       &err),
			 -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_ENV);
	assert_non_null(strstr(err.msg, "CNI_PATH"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_and_env), cmocka_unit_test(test_failures),
		cmocka_unit_test(test_empty_answer),   cmocka_unit_test(test_no_sigpipe),
		cmocka_unit_test(test_grandchild),     cmocka_unit_test(test_bad_env),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
