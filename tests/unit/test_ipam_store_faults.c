/* The IPAM store when the disk fails: a write, link or rename that returns
 * EIO or ENOSPC during ADD; and that neither ADD nor DEL ever syncs (a
 * reservation must outlive the plugin, not the machine: docs/durability.md).
 *
 * The test binary is linked with -Wl,--wrap for those calls (CMakeLists.txt),
 * so every call loom's code makes goes through a __wrap_ function here that
 * fails the Nth call of one kind with a chosen errno.  For each fault:
 *   - ADD fails with LOOM_ERR_STORE and a message naming the cause (or, for
 *     a fault in the index, which is only a hint, succeeds consistently);
 *   - nothing half-made is left: no address file, no temp file, no index
 *     temp file, no index entry pointing at an address nobody holds;
 *   - the store works afterwards: the same ADD gets the first addresses of
 *     the ranges (nothing leaked), and DEL leaves the store empty. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "ipam.h"

/* ---- fault injection ---- */

enum op {
	OP_WRITE,
	OP_FDATASYNC,
	OP_LINKAT,
	OP_RENAMEAT,
	OP_FSYNC,
	OP_N
};

static struct {
	enum op op;
	int at; /* fail the at-th call of op (1-based); 0: no fault armed */
	int err;
	int calls[OP_N];
	int fired;
} fault;

static void arm(enum op op, int at, int err)
{
	memset(&fault, 0, sizeof(fault));
	fault.op = op;
	fault.at = at;
	fault.err = err;
}

static bool fails_now(enum op op)
{
	if (fault.at == 0 || op != fault.op || ++fault.calls[op] != fault.at)
		return false;
	fault.fired++;
	errno = fault.err;
	return true;
}

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
int __real_linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
int __wrap_linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);
int __real_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int __wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int __real_fsync(int fd);
int __wrap_fsync(int fd);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	return fails_now(OP_WRITE) ? -1 : __real_write(fd, buf, n);
}

static int syncs; /* fdatasync and fsync calls, faulted or not */

int __wrap_fdatasync(int fd)
{
	syncs++;
	return fails_now(OP_FDATASYNC) ? -1 : __real_fdatasync(fd);
}

int __wrap_linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	return fails_now(OP_LINKAT) ? -1
				    : __real_linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

int __wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	return fails_now(OP_RENAMEAT) ? -1 : __real_renameat(olddirfd, oldpath, newdirfd, newpath);
}

int __wrap_fsync(int fd)
{
	syncs++;
	return fails_now(OP_FSYNC) ? -1 : __real_fsync(fd);
}

/* ---- fixture ---- */

struct fixture {
	struct loom_ipam_conf conf;
	struct loom_result res;
	struct loom_err err;
	char root[64]; /* dataDir */
	char net[128]; /* root/net1 */
};

static int setup(void **state)
{
	static const char conf_fmt[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"net1\",\"type\":\"loom-ipam\","
		"\"ipam\":{\"dataDir\":\"%s\",\"ranges\":[[{\"subnet\":\"10.9.0.0/24\"}],"
		"[{\"subnet\":\"fd00:9::/64\"}]]}}";
	struct fixture *f = calloc(1, sizeof(*f));
	struct loom_netconf nc;
	char buf[512];

	assert_non_null(f);
	assert_int_equal(make_tmpdir(f->root, sizeof(f->root), "faults"), 0);
	snprintf(f->net, sizeof(f->net), "%s/net1", f->root);
	snprintf(buf, sizeof(buf), conf_fmt, f->root);
	if (loom_netconf_parse(buf, strlen(buf), LOOM_CMD_ADD, &nc, &f->err) < 0 ||
	    loom_ipam_conf_parse(&nc, NULL, &f->conf, &f->err) < 0)
		fail_msg("config: %s", f->err.msg);
	loom_netconf_free(&nc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	arm(OP_WRITE, 0, 0);
	rm_tree(f->root);
	free(f);
	return 0;
}

/* What lies in dir and its subdirectories other than the lock, the
 * last_reserved_ip hints and the index itself: address files and temp
 * files.  ' '-separated names, sorted by readdir order (empty: nothing). */
static void leftovers_in(const char *dir, const char *prefix, char *out, size_t len)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		char sub[1024];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "lock") || !strncmp(e->d_name, "last_reserved_ip.", 17) ||
		    !strcmp(e->d_name, "table"))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			char p[512];

			snprintf(p, sizeof(p), "%s%s/", prefix, e->d_name);
			leftovers_in(sub, p, out, len);
			continue;
		}
		snprintf(out + strlen(out), len - strlen(out), "%s%s%s", *out ? " " : "", prefix,
			 e->d_name);
	}
	closedir(d);
}

static void assert_store_empty(struct fixture *f, const char *when)
{
	char left[1024] = "";

	leftovers_in(f->net, "", left, sizeof(left));
	if (left[0])
		fail_msg("%s: left on disk: %s", when, left);
}

/* The store works: ADD gets one address of each range (a rolled-back
 * reservation may have moved last_reserved_ip on, as host-local's does),
 * CHECK agrees, DEL leaves it empty. */
static void assert_store_works(struct fixture *f, const char *when)
{
	char a[LOOM_PREFIX_STRLEN], b[LOOM_PREFIX_STRLEN];

	if (loom_ipam_add(&f->conf, "ctr-after", "eth0", &f->res, &f->err) < 0)
		fail_msg("%s: ADD after the fault: %s", when, f->err.msg);
	assert_int_equal(f->res.n_ips, 2);
	loom_prefix_fmt(&f->res.ips[0].address, a);
	loom_prefix_fmt(&f->res.ips[1].address, b);
	if (strncmp(a, "10.9.0.", 7) != 0 || strncmp(b, "fd00:9::", 8) != 0)
		fail_msg("%s: ADD after the fault got %s %s", when, a, b);
	assert_int_equal(loom_ipam_check(&f->conf, "ctr-after", "eth0", NULL, &f->err), 0);
	assert_int_equal(loom_ipam_del(&f->conf, "ctr-after", "eth0", &f->err), 0);
	assert_store_empty(f, "after DEL");
}

struct fault_case {
	const char *name;
	enum op op;
	int at, err;
	const char *msg; /* in the error message; NULL: ADD may succeed (index) */
};

static const struct fault_case cases[] = {
	{ "reservation write EIO", OP_WRITE, 1, EIO, "Input/output error" },
	{ "reservation write ENOSPC", OP_WRITE, 1, ENOSPC, "No space left on device" },
	{ "link under the address's name ENOSPC", OP_LINKAT, 1, ENOSPC, "No space left on device" },
	/* the IPv4 address is reserved, the IPv6 one fails: rolled back */
	{ "second set's link EIO", OP_LINKAT, 2, EIO, "allocation rolled back" },
	{ "second set's write ENOSPC", OP_WRITE, 2, ENOSPC, "allocation rolled back" },
	/* the index is a hint: ADD either succeeds without it or fails whole */
	{ "index rename EIO", OP_RENAMEAT, 1, EIO, NULL },
};

static void run_case(struct fixture *f, const struct fault_case *c)
{
	int rc, fired;

	arm(c->op, c->at, c->err);
	rc = loom_ipam_add(&f->conf, "ctr-fault", "eth0", &f->res, &f->err);
	fired = fault.fired;
	arm(c->op, 0, 0);
	if (!fired)
		fail_msg("%s: the fault never fired", c->name);
	if (c->msg) {
		if (rc == 0)
			fail_msg("%s: ADD succeeded", c->name);
		if (f->err.code != LOOM_ERR_STORE || !strstr(f->err.msg, c->msg))
			fail_msg("%s: error %d \"%s\", want %d with \"%s\"", c->name, f->err.code,
				 f->err.msg, LOOM_ERR_STORE, c->msg);
		assert_store_empty(f, c->name);
	} else if (rc == 0) {
		/* consistent: held, checkable and released as usual */
		assert_int_equal(loom_ipam_check(&f->conf, "ctr-fault", "eth0", NULL, &f->err), 0);
		assert_int_equal(loom_ipam_del(&f->conf, "ctr-fault", "eth0", &f->err), 0);
		assert_store_empty(f, c->name);
	} else {
		assert_int_equal(f->err.code, LOOM_ERR_STORE);
		assert_store_empty(f, c->name);
	}
	/* a DEL for the failed attachment finds nothing and succeeds */
	assert_int_equal(loom_ipam_del(&f->conf, "ctr-fault", "eth0", &f->err), 0);
	assert_store_works(f, c->name);
}

/* One test per case, each on a fresh store; and each case again on a store
 * that already holds another attachment (its index exists). */
static void test_fault_on_fresh_store(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < N(cases); i++) {
		rm_tree(f->net);
		run_case(f, &cases[i]);
	}
}

static void test_fault_beside_a_tenant(void **state)
{
	struct fixture *f = *state;
	char a[LOOM_PREFIX_STRLEN];
	size_t i;

	/* a tenant holding 10.9.0.2 and fd00:9::2 stays untouched by every fault */
	for (i = 0; i < N(cases); i++) {
		rm_tree(f->net);
		if (loom_ipam_add(&f->conf, "tenant", "eth0", &f->res, &f->err) < 0)
			fail_msg("tenant ADD: %s", f->err.msg);
		assert_string_equal(loom_prefix_fmt(&f->res.ips[0].address, a), "10.9.0.2/24");
		arm(cases[i].op, cases[i].at, cases[i].err);
		(void)loom_ipam_add(&f->conf, "ctr-fault", "eth0", &f->res, &f->err);
		arm(cases[i].op, 0, 0);
		if (loom_ipam_check(&f->conf, "tenant", "eth0", NULL, &f->err) < 0)
			fail_msg("%s: the tenant lost its addresses: %s", cases[i].name,
				 f->err.msg);
		assert_int_equal(loom_ipam_del(&f->conf, "ctr-fault", "eth0", &f->err), 0);
		assert_int_equal(loom_ipam_del(&f->conf, "tenant", "eth0", &f->err), 0);
		assert_store_empty(f, cases[i].name);
		assert_store_works(f, cases[i].name);
	}
}

/* No fsync on a pod's path: ADD, CHECK and DEL of a dual-stack attachment
 * make no fdatasync or fsync call at all. */
static void test_no_sync_on_the_pod_path(void **state)
{
	struct fixture *f = *state;

	syncs = 0;
	if (loom_ipam_add(&f->conf, "ctr-nosync", "eth0", &f->res, &f->err) < 0)
		fail_msg("ADD: %s", f->err.msg);
	assert_int_equal(loom_ipam_check(&f->conf, "ctr-nosync", "eth0", NULL, &f->err), 0);
	assert_int_equal(loom_ipam_del(&f->conf, "ctr-nosync", "eth0", &f->err), 0);
	assert_int_equal(syncs, 0);
	assert_store_empty(f, "no sync");
}

LOOM_TEST_MAIN(cmocka_unit_test_setup_teardown(test_no_sync_on_the_pod_path, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_fault_on_fresh_store, setup, teardown),
	       cmocka_unit_test_setup_teardown(test_fault_beside_a_tenant, setup, teardown))
