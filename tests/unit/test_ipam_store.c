/* The on-disk store: host-local's layout and byte format, create-or-fail
 * reservations, and what happens to garbage found in the store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam_store.h"

struct fixture {
	char root[64]; /* the mktemp dir: dataDir */
	char net[128]; /* root/net1 */
	struct loom_ipam_store s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct loom_err err;

	assert_non_null(f);
	umask(022);
	snprintf(f->root, sizeof(f->root), "/tmp/loom-store-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->net, sizeof(f->net), "%s/net1", f->root);
	if (loom_ipam_store_open(&f->s, f->root, "net1", &err) < 0)
		fail_msg("open: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	loom_ipam_store_close(&f->s);
	rm_tree(f->root);
	free(f);
	return 0;
}

static void put_file(const struct fixture *f, const char *name, const char *content, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->net, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
}

static size_t get_file(const struct fixture *f, const char *name, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->net, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return (size_t)-1;
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

static mode_t mode_of(const struct fixture *f, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->net, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_layout(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char buf[64];

	assert_int_equal(stat(f->net, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(mode_of(f, "lock"), 0600);

	{
		struct loom_ip a = ip_of("10.0.0.2");

		assert_false(loom_ipam_store_exists(&f->s, &a));
		assert_int_equal(loom_ipam_store_reserve(&f->s, &a, "abc", "eth0", NULL), 1);
	}
	/* host-local's exact bytes: ID, CRLF, ifname, no trailing newline. */
	assert_int_equal(get_file(f, "10.0.0.2", buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "abc\r\neth0", 9);
	assert_int_equal(mode_of(f, "10.0.0.2"), 0600);

	{
		struct loom_ip a = ip_of("fd00::a");

		assert_int_equal(loom_ipam_store_reserve(&f->s, &a, "abc", "eth1", NULL), 1);
		assert_int_equal(get_file(f, "fd00::a", buf, sizeof(buf)), 9);
	}
}

static void test_create_or_fail(void **state)
{
	struct fixture *f = *state;
	struct loom_ip a = ip_of("10.0.0.3");
	struct loom_holder h;
	char buf[64];
	int pass;

	/* Both the O_TMPFILE path and the named-temp fallback. */
	for (pass = 0; pass < 2; pass++) {
		f->s.no_tmpfile = pass == 1;
		assert_false(loom_ipam_store_exists(&f->s, &a));
		assert_int_equal(loom_ipam_store_holder(&f->s, &a, &h), -ENOENT);
		assert_int_equal(loom_ipam_store_reserve(&f->s, &a, "first", "eth0", NULL), 1);
		assert_true(loom_ipam_store_exists(&f->s, &a));
		assert_int_equal(loom_ipam_store_reserve(&f->s, &a, "second", "eth0", NULL), 0);
		assert_int_equal(loom_ipam_store_holder(&f->s, &a, &h), 0);
		assert_true(h.valid);
		assert_string_equal(h.id, "first");
		assert_int_equal(get_file(f, "10.0.0.3", buf, sizeof(buf)), 11);
		assert_int_equal(loom_ipam_store_release(&f->s, &a), 0);
		assert_int_equal(loom_ipam_store_release(&f->s, &a), 0); /* idempotent */
		assert_false(loom_ipam_store_exists(&f->s, &a));
	}
	/* The fallback leaves no temp file behind. */
	assert_int_equal(get_file(f, ".loom-tmp/reserve", buf, sizeof(buf)), (size_t)-1);
}

/* What an address file's content means (host-local compares the trimmed
 * content with "id\r\nifname", or with "id" for old files). */
static void test_holders(void **state)
{
	static const struct {
		const char *content;
		size_t len;
		bool valid, legacy;
		const char *id, *ifname;
	} cases[] = {
		{ "abc\r\neth0", 9, true, false, "abc", "eth0" },
		{ " abc\r\neth0\r\n", 12, true, false, "abc", "eth0" },
		{ "abc", 3, true, true, "abc", "" },
		{ "abc\n", 4, true, true, "abc", "" },
		{ "", 0, false, false, "", "" },
		{ " \r\n ", 4, false, false, "", "" },
		{ "a\0b\r\neth0", 9, false, false, "", "" },
		{ "abc\r\nthis-is-far-too-long-an-ifname", 36, false, false, "", "" },
	};
	static char big[LOOM_IPAM_STORE_FILE_MAX + 1];
	struct fixture *f = *state;
	struct loom_ip a = ip_of("10.0.0.4");
	struct loom_holder h;
	size_t i;

	for (i = 0; i < N(cases); i++) {
		put_file(f, "10.0.0.4", cases[i].content, cases[i].len);
		assert_int_equal(loom_ipam_store_holder(&f->s, &a, &h), 0);
		if (h.valid != cases[i].valid || h.legacy != cases[i].legacy ||
		    strcmp(h.id, cases[i].id) != 0 || strcmp(h.ifname, cases[i].ifname) != 0)
			fail_msg("cases[%zu]: valid %d legacy %d id \"%s\" ifname \"%s\"", i,
				 h.valid, h.legacy, h.id, h.ifname);
	}
	/* Larger than 1 KiB: garbage, not read, not trusted. */
	memset(big, 'a', sizeof(big));
	put_file(f, "10.0.0.4", big, sizeof(big));
	assert_int_equal(loom_ipam_store_holder(&f->s, &a, &h), 0);
	assert_false(h.valid);

	put_file(f, "10.0.0.4", "abc\r\neth0", 9);
	assert_int_equal(loom_ipam_store_holder(&f->s, &a, &h), 0);
	assert_true(loom_holder_is(&h, "abc", "eth0", false));
	assert_false(loom_holder_is(&h, "abc", "eth1", true));
	assert_false(loom_holder_is(&h, "ab", "eth0", true));
	put_file(f, "10.0.0.4", "abc", 3);
	assert_int_equal(loom_ipam_store_holder(&f->s, &a, &h), 0);
	assert_false(loom_holder_is(&h, "abc", "eth0", false));
	assert_true(loom_holder_is(&h, "abc", "eth0", true));
}

static void test_last_reserved(void **state)
{
	struct fixture *f = *state;
	struct loom_ip a = ip_of("fd00::7"), got;
	char buf[64], big[200];

	assert_int_equal(loom_ipam_store_last_get(&f->s, 1, &got), -ENOENT);
	assert_int_equal(loom_ipam_store_last_set(&f->s, 1, &a), 0);
	assert_int_equal(get_file(f, "last_reserved_ip.1", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "fd00::7");
	assert_int_equal(mode_of(f, "last_reserved_ip.1"), 0600);
	assert_int_equal(loom_ipam_store_last_get(&f->s, 1, &got), 0);
	assert_true(loom_ip_eq(&got, &a));
	/* Overwritten in place (no new inode), shorter content cut exactly:
	 * host-local parses the whole file without trimming. */
	{
		struct stat before, after;
		char path[256];
		struct loom_ip b = ip_of("10.0.0.1"), c = ip_of("fd00::1:2:3");

		snprintf(path, sizeof(path), "%s/last_reserved_ip.1", f->net);
		assert_int_equal(stat(path, &before), 0);
		assert_int_equal(loom_ipam_store_last_set(&f->s, 1, &c), 0);
		assert_int_equal(loom_ipam_store_last_set(&f->s, 1, &b), 0);
		assert_int_equal(stat(path, &after), 0);
		assert_int_equal(before.st_ino, after.st_ino);
		assert_int_equal(get_file(f, "last_reserved_ip.1", buf, sizeof(buf)), 8);
		assert_string_equal(buf, "10.0.0.1");
	}

	put_file(f, "last_reserved_ip.0", "10.0.0.9\n", 9); /* tolerated */
	assert_int_equal(loom_ipam_store_last_get(&f->s, 0, &got), 0);
	put_file(f, "last_reserved_ip.0", "garbage", 7);
	assert_int_equal(loom_ipam_store_last_get(&f->s, 0, &got), -EINVAL);
	memset(big, '1', sizeof(big));
	put_file(f, "last_reserved_ip.0", big, sizeof(big));
	assert_true(loom_ipam_store_last_get(&f->s, 0, &got) < 0);
}

static void test_index(void **state)
{
	struct fixture *f = *state;
	struct loom_ip ips[2] = { ip_of("10.0.0.5"), ip_of("fd00::5") },
		       got[LOOM_IPAM_STORE_INDEX_MAX];
	char buf[64];

	assert_int_equal(loom_ipam_store_index_get(&f->s, "abc", "eth0", got, 4), -ENOENT);
	assert_int_equal(loom_ipam_store_index_put(&f->s, "abc", "eth0", ips, 2), 0);
	assert_int_equal(loom_ipam_store_index_get(&f->s, "abc", "eth0", got, 4), 2);
	assert_true(loom_ip_eq(&got[1], &ips[1]));
	assert_int_equal(loom_ipam_store_index_get(&f->s, "abc", "eth1", got, 4), -ENOENT);
	/* One file for the whole network, private, and never read back as
	 * "id\r\nifname" (host-local's release walk would delete it). */
	assert_int_equal(mode_of(f, ".loom-index/table"), 0600);
	assert_int_equal(get_file(f, ".loom-index/table", buf, sizeof(buf)), sizeof(buf) - 1);
	assert_memory_equal(buf, "LOOMIDX\0", 8);
	loom_ipam_store_close(&f->s);

	/* Whatever else lies under the name is no index, and the next put
	 * replaces it. */
	{
		struct loom_err err;

		put_file(f, ".loom-index/table", "abc\r\neth0", 9);
		assert_int_equal(loom_ipam_store_open(&f->s, f->root, "net1", &err), 0);
		assert_int_equal(loom_ipam_store_index_get(&f->s, "abc", "eth0", got, 4), -ENOENT);
		assert_int_equal(loom_ipam_store_index_put(&f->s, "abc", "eth0", ips, 1), 0);
		assert_int_equal(loom_ipam_store_index_get(&f->s, "abc", "eth0", got, 4), 1);
	}
	assert_int_equal(loom_ipam_store_index_put(&f->s, "abc", "eth0", NULL, 0), 0);
	assert_int_equal(loom_ipam_store_index_put(&f->s, "abc", "eth0", NULL, 0), 0);
	assert_int_equal(loom_ipam_store_index_get(&f->s, "abc", "eth0", got, 4), -ENOENT);
	assert_int_equal(loom_ipam_store_index_put(&f->s, "", "eth0", ips, 1), -EINVAL);
}

struct seen {
	char names[16][LOOM_IP_STRLEN];
	size_t n;
};

static int collect(struct loom_ipam_store *s, const char *name, const struct loom_ip *a,
		   const struct loom_holder *h, void *user)
{
	struct seen *w = user;

	(void)s;
	(void)a;
	(void)h;
	assert_true(w->n < 16);
	snprintf(w->names[w->n++], LOOM_IP_STRLEN, "%s", name);
	return 0;
}

static void test_walk(void **state)
{
	struct fixture *f = *state;
	struct seen w = { .n = 0 };
	struct loom_ip a = ip_of("10.0.0.6"), ips[1] = { a };
	char path[256];

	assert_int_equal(loom_ipam_store_reserve(&f->s, &a, "abc", "eth0", NULL), 1);
	assert_int_equal(loom_ipam_store_last_set(&f->s, 0, &a), 0);
	assert_int_equal(loom_ipam_store_index_put(&f->s, "abc", "eth0", ips, 1), 0);
	put_file(f, "notes.txt", "abc\r\neth0", 9);
	snprintf(path, sizeof(path), "%s/10.0.0.7", f->net);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(loom_ipam_store_walk(&f->s, true, collect, &w), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.names[0], "10.0.0.6");
}

static void test_unwritable(void **state)
{
	struct fixture *f = *state;
	struct loom_ipam_store s;
	struct loom_err err;
	char file[128];

	/* A dataDir below a regular file cannot be created. */
	snprintf(file, sizeof(file), "%s/plain", f->root);
	close(open(file, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(loom_ipam_store_open(&s, file, "net1", &err), -1);
	assert_int_equal(err.code, LOOM_ERR_STORE);
	assert_non_null(strstr(err.msg, file));
	assert_non_null(strstr(err.msg, "Not a directory"));
	loom_ipam_store_close(&s);
	loom_ipam_store_close(&s); /* idempotent */
	assert_int_equal(loom_ipam_store_probe_writable(&f->s, &err), 0);
}

LOOM_TEST_MAIN(TEST_ST(test_layout), TEST_ST(test_create_or_fail), TEST_ST(test_holders),
	       TEST_ST(test_last_reserved), TEST_ST(test_index), TEST_ST(test_walk),
	       TEST_ST(test_unwritable))
