/* Helpers the cmocka unit and kernel tests share: include after <cmocka.h>.
 *
 * Everything here is static, for tests only; no library code may include it.
 *
 *   N(a)                   element count of an array
 *   ip_of / pfx_of         parse an address / prefix, failing the test if bad
 *   LOOM_TEST_SKIP_RC      77: what a test binary exits with when it cannot
 *                          run here (ctest's SKIP_RETURN_CODE)
 *   rm_tree(path)          removes a directory tree a test made (no symlink
 *                          is followed)
 *   TEST_ST(fn)            a cmocka test with the file's setup and teardown
 *   LOOM_TEST_MAIN(tests...)  main() running the tests listed (test_main.h)
 *   make_tmpdir(buf, len, tag)  mkdtemp of /tmp/loom-TAG.XXXXXX: 0 or -1
 *   tmpdir_fixture(type, field, tag)  a calloc'd `type` whose char array
 *                          `field` names a fresh make_tmpdir;
 *   free_tmpdir_fixture(f, dir)  its teardown (rm_tree, free)
 *   write_text(dir, name, text) writes a file, failing the test if it cannot
 *   pfx_str / ip_str       an address or prefix as text (4 rotating buffers,
 *                          so several may appear in one call)
 *
 * The plugins' config tests define LOOM_TEST_LEASE_DIR "tag" and get a
 * temp dir `dir` per test (setup/teardown) and write_lease(text), which
 * writes dir/net1.env as loomd would.
 *
 * Kernel tests (label "kernel": they need root and network namespaces)
 * define LOOM_TEST_KERNEL before including this and also get:
 *
 *   new_netns()            a fresh netns held by an fd only (no /run/netns
 *                          mount); the calling thread ends where it began
 *   current_ns()           inode of the thread's netns
 *   open_netns(orig, fds, n)   *orig = the thread's netns, each *fds[i] a
 *                          new netns (the test fails if one cannot be made)
 *   close_netns(orig, fds, n)  closes a test's netns fds and asserts the
 *                          thread is back in the netns it began in
 *   kernel_test_can_run()  root and unshare(CLONE_NEWNET) work; if not,
 *                          prints why (main() then returns LOOM_TEST_SKIP_RC)
 *   run_kernel_tests(t)    cmocka_run_group_tests, or the skip code
 *   sh_in(fd, cmd)         stdout+stderr of a shell command run in that
 *                          netns (malloc'd): an independent reader of state
 *   assert_sh_contains / assert_sh_lacks
 *   count_of(hay, needle)  occurrences of needle in hay */
#ifndef LOOM_TESTS_UNIT_HELPERS_H
#define LOOM_TESTS_UNIT_HELPERS_H

#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ip.h"
#include "test_main.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define LOOM_TEST_SKIP_RC 77
#define TEST_ST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static inline struct loom_ip ip_of(const char *s)
{
	struct loom_ip ip;

	assert_int_equal(loom_ip_parse(s, &ip), 0);
	return ip;
}

static inline struct loom_prefix pfx_of(const char *s)
{
	struct loom_prefix p;

	assert_int_equal(loom_prefix_parse(s, &p), 0);
	return p;
}

static inline int rm_tree_one_(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void rm_tree(const char *path)
{
	nftw(path, rm_tree_one_, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int make_tmpdir(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/loom-%s.XXXXXX", tag);
	return mkdtemp(buf) ? 0 : -1;
}

/* A zeroed fixture of `size` bytes whose char array at `off` (`len` bytes)
 * names a fresh temp dir; the test fails if either cannot be made. */
static inline void *tmpdir_fixture_(size_t size, size_t off, size_t len, const char *tag)
{
	char *f = calloc(1, size);

	assert_non_null(f);
	assert_int_equal(make_tmpdir(f + off, len, tag), 0);
	return f;
}

/* A tmpdir_fixture's teardown: removes its dir `dir`, frees it; 0. */
static inline int free_tmpdir_fixture(void *f, const char *dir)
{
	rm_tree(dir);
	free(f);
	return 0;
}

#define tmpdir_fixture(type, field, tag)                                                          \
	((type *)tmpdir_fixture_(sizeof(type), offsetof(type, field), sizeof(((type *)0)->field), \
				 tag))

static inline void write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static inline const char *pfx_str(const struct loom_prefix *p)
{
	static char buf[4][LOOM_PREFIX_STRLEN];
	static int i;

	return loom_prefix_fmt(p, buf[i++ % 4]);
}

static inline const char *ip_str(const struct loom_ip *ip)
{
	static char buf[4][LOOM_IP_STRLEN];
	static int i;

	return loom_ip_fmt(ip, buf[i++ % 4]);
}

#ifdef LOOM_TEST_LEASE_DIR
static char dir[64];

static int setup(void **state)
{
	(void)state;
	return make_tmpdir(dir, sizeof(dir), LOOM_TEST_LEASE_DIR);
}

static int teardown(void **state)
{
	(void)state;
	rm_tree(dir);
	return 0;
}

static inline void write_lease(const char *text)
{
	write_text(dir, "net1.env", text);
}

#ifdef LOOM_CNI_H
/* A plugin's context for `conf`, whose "%s" (up to two) stand for `dir`:
 * command cmd, container "c1", ifname "eth0".  -1 with err when the
 * config does not parse. */
static inline int pod_ctx_parse(const char *conf, enum loom_cni_cmd cmd, struct loom_cni_ctx *ctx,
				struct loom_err *err)
{
	char text[2048];

	snprintf(text, sizeof(text), conf, dir, dir);
	ctx->env.cmd = cmd;
	ctx->env.container_id = "c1";
	ctx->env.ifname = "eth0";
	return loom_netconf_parse(text, strlen(text), cmd, &ctx->conf, err);
}
#endif
#endif

#ifdef LOOM_TEST_KERNEL
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "kernel/netns.h"

static inline int new_netns(void)
{
	_cleanup_close_ int orig = loom_netns_current();
	int fd;

	if (orig < 0 || unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = loom_netns_current();
	if (setns(orig, CLONE_NEWNET) < 0)
		abort(); /* the test itself would now run in the wrong netns */
	return fd;
}

static inline ino_t current_ns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static inline void open_netns(ino_t *orig, int *const *fds, size_t n)
{
	size_t i;

	*orig = current_ns();
	for (i = 0; i < n; i++) {
		*fds[i] = new_netns();
		assert_true(*fds[i] >= 0);
	}
}

static inline void close_netns(ino_t orig, const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	/* Whatever failed, the test thread must be back where it began. */
	assert_true(current_ns() == orig);
}

/* Root and a new network namespace: what every kernel test needs.  A
 * machine without them skips the whole binary (exit 77), it does not pass. */
static inline int kernel_test_can_run(void)
{
	int fd;

	if (geteuid() != 0) {
		printf("SKIP: kernel tests need root\n");
		return 0;
	}
	fd = new_netns();
	if (fd < 0) {
		printf("SKIP: cannot create a network namespace here\n");
		return 0;
	}
	close(fd);
	return 1;
}

#define run_kernel_tests(t) \
	(kernel_test_can_run() ? cmocka_run_group_tests(t, NULL, NULL) : LOOM_TEST_SKIP_RC)

static inline char *sh_in(int fd, const char *cmd)
{
	char full[512], *buf;
	size_t len = 0, cap = 1 << 16, n;
	FILE *p;

	snprintf(full, sizeof(full), "nsenter --net=/proc/%d/fd/%d %s 2>&1", (int)getpid(), fd,
		 cmd);
	p = popen(full, "r");
	assert_non_null(p);
	buf = malloc(cap);
	assert_non_null(buf);
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0)
		len += n;
	buf[len] = '\0';
	pclose(p);
	return buf;
}

static inline void assert_sh_contains(int fd, const char *cmd, const char *want)
{
	_cleanup_free_ char *out = sh_in(fd, cmd);

	if (!strstr(out, want))
		fail_msg("`%s` lacks \"%s\":\n%s", cmd, want, out);
}

static inline void assert_sh_lacks(int fd, const char *cmd, const char *unwanted)
{
	_cleanup_free_ char *out = sh_in(fd, cmd);

	if (strstr(out, unwanted))
		fail_msg("`%s` still shows \"%s\":\n%s", cmd, unwanted, out);
}

static inline int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}
#endif /* LOOM_TEST_KERNEL */

#endif
