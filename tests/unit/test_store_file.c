/* The file datastore backend's own promises (the shared contract is in
 * tests/store/store_suite.c): crash leftovers are tolerated, the log is
 * compacted and a watch from before it resyncs, odd keys map to distinct
 * files, and the on-disk parsers refuse damaged bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* lib/store/store_priv.h, and through it lib/store/store.h */
#include "store/store_priv.h"

struct fx {
	char dir[64];
	char url[80];
	struct loom_store *s;
};

/* Through the ops table: loom_store_open/close also name the IPAM store's
 * functions, and this binary links libloomipam too. */
static struct loom_store *reopen(struct fx *f)
{
	struct loom_err err = { 0 };
	struct loom_store *s = NULL;

	if (loom_store_file_ops.open(f->dir, &s, &err) < 0)
		fail_msg("open %s: %s (%s)", f->dir, err.msg, err.details);
	s->ops = &loom_store_file_ops;
	s->url = f->url;
	return s;
}

static void close_store(struct loom_store *s)
{
	if (s)
		loom_store_file_ops.close(s);
}

static int setup(void **state)
{
	struct fx *f = tmpdir_fixture(struct fx, dir, "store-file");

	snprintf(f->url, sizeof(f->url), "file:%s", f->dir);
	f->s = reopen(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close_store(f->s);
	rm_tree(f->dir);
	free(f);
	return 0;
}

static int64_t put(struct loom_store *s, const char *key, const char *v)
{
	struct loom_err err = { 0 };
	int64_t rev = 0;

	if (loom_store_put(s, key, v, strlen(v), 0, &rev, &err) < 0)
		fail_msg("put %s: %s", key, err.msg);
	return rev;
}

static void expect_event(struct loom_watch *w, int type, const char *key, const char *value)
{
	struct loom_err err = { 0 };
	struct loom_event ev;
	int r = loom_watch_next(w, &ev, 3000, &err);

	if (r != 1)
		fail_msg("expected %s %s, got %d (%s)", type == LOOM_EV_PUT ? "PUT" : "DELETE", key,
			 r, err.msg);
	assert_int_equal(ev.type, type);
	assert_string_equal(ev.kv.key, key);
	if (value)
		assert_string_equal(ev.kv.value, value);
	loom_kv_clear(&ev.kv);
}

static void write_file(const char *path, const void *buf, size_t n, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return st.st_size;
}

static void test_torn_log_and_temp_files(void **state)
{
	struct fx *f = *state;
	static const unsigned char torn[] = { 100, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 };
	char path[256];
	struct loom_err err = { 0 };
	struct loom_watch *w = NULL;
	struct loom_kv *kvs = NULL;
	size_t n = 0;
	int64_t rb, rc, listed = 0;

	put(f->s, "/t/a", "A");
	rb = put(f->s, "/t/b", "B");
	close_store(f->s);
	f->s = NULL;

	/* a crash mid-append, and mid-write of a data file and a lease */
	snprintf(path, sizeof(path), "%s/log", f->dir);
	write_file(path, torn, sizeof(torn), O_APPEND);
	snprintf(path, sizeof(path), "%s/data/.tmp.999.0", f->dir);
	write_file(path, "LKV1garbage", 11, O_TRUNC);
	snprintf(path, sizeof(path), "%s/leases/.tmp.999.1", f->dir);
	write_file(path, "5 12", 4, O_TRUNC);

	f->s = reopen(f);
	assert_true(access(path, F_OK) < 0); /* leftovers removed */
	assert_int_equal(loom_store_list(f->s, "/t/", &kvs, &n, &listed, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].value, "A");
	assert_string_equal(kvs[1].value, "B");
	assert_int_equal(listed, rb);
	loom_kvs_free(kvs, n);

	/* history replays up to the torn record, and what is written after it
	 * follows on: the tail was cut, not built upon */
	assert_int_equal(loom_store_watch(f->s, "/t/", 1, &w, &err), 0);
	rc = put(f->s, "/t/c", "C");
	assert_int_equal(rc, rb + 1);
	expect_event(w, LOOM_EV_PUT, "/t/a", "A");
	expect_event(w, LOOM_EV_PUT, "/t/b", "B");
	expect_event(w, LOOM_EV_PUT, "/t/c", "C");
	loom_watch_close(w);
}

static void test_lost_event_never_reuses_revision(void **state)
{
	struct fx *f = *state;
	char path[256];
	struct loom_kv kv;
	struct loom_err err = { 0 };
	int64_t r1, r2, r3;
	off_t size;

	put(f->s, "/r/a", "1");
	r1 = put(f->s, "/r/a", "2");
	close_store(f->s);
	f->s = NULL;
	/* the last record is cut in half: the write itself reached data/ */
	snprintf(path, sizeof(path), "%s/log", f->dir);
	size = file_size(path);
	assert_int_equal(truncate(path, size - 5), 0);
	f->s = reopen(f);
	assert_int_equal(loom_store_get(f->s, "/r/a", &kv, &err), 1);
	assert_string_equal(kv.value, "2");
	assert_int_equal(kv.mod_revision, r1);
	loom_kv_clear(&kv);
	r2 = put(f->s, "/r/b", "x");
	assert_true(r2 > r1);

	/* without the rev file, the log still says where we are */
	close_store(f->s);
	snprintf(path, sizeof(path), "%s/rev", f->dir);
	assert_int_equal(unlink(path), 0);
	f->s = reopen(f);
	r3 = put(f->s, "/r/c", "y");
	assert_true(r3 > r2);
}

static void test_damaged_data_file(void **state)
{
	struct fx *f = *state;
	char path[256];
	struct loom_kv kv;
	struct loom_kv *kvs = NULL;
	size_t n = 0;
	struct loom_err err = { 0 };
	off_t size;

	put(f->s, "x", "some value");
	snprintf(path, sizeof(path), "%s/data/x", f->dir);
	size = file_size(path);
	assert_true(size > 0);
	assert_int_equal(truncate(path, size - 1), 0);
	assert_int_equal(loom_store_get(f->s, "x", &kv, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_STORE);
	assert_non_null(strstr(err.msg, f->dir));
	assert_int_equal(loom_store_list(f->s, "", &kvs, &n, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "data/x"));
	/* a put repairs it */
	put(f->s, "x", "new");
	assert_int_equal(loom_store_get(f->s, "x", &kv, &err), 1);
	assert_string_equal(kv.value, "new");
	loom_kv_clear(&kv);
}

static void test_compaction_and_resync(void **state)
{
	struct fx *f = *state;
	char path[256];
	char *big = malloc(64 * 1024 + 1);
	struct loom_err err = { 0 };
	struct loom_watch *live = NULL, *old = NULL;
	int64_t rdel = 0;

	assert_non_null(big);
	put(f->s, "/c/keep", "K");
	put(f->s, "/c/x", "X");
	assert_int_equal(loom_store_watch(f->s, "/c/", 1, &live, &err), 0);
	expect_event(live, LOOM_EV_PUT, "/c/keep", "K");
	expect_event(live, LOOM_EV_PUT, "/c/x", "X");
	/* the live watch falls behind while /c/x goes and the log is compacted */
	assert_int_equal(loom_store_delete(f->s, "/c/x", &rdel, &err), 1);
	for (int i = 0; i < 40; i++) {
		memset(big, 'a' + i % 26, 64 * 1024);
		big[64 * 1024] = '\0';
		put(f->s, "/c/big", big);
	}
	snprintf(path, sizeof(path), "%s/log", f->dir);
	assert_true(file_size(path) < 2 * 1024 * 1024);
	assert_true(file_size(path) > 64 * 1024);

	/* resync: what was delivered and is gone is deleted, the rest is put */
	expect_event(live, LOOM_EV_DELETE, "/c/x", NULL);
	expect_event(live, LOOM_EV_PUT, "/c/big", big);
	expect_event(live, LOOM_EV_PUT, "/c/keep", "K");
	/* a new watch from before the log's start: the present state */
	assert_int_equal(loom_store_watch(f->s, "/c/", rdel, &old, &err), 0);
	expect_event(old, LOOM_EV_PUT, "/c/big", big);
	expect_event(old, LOOM_EV_PUT, "/c/keep", "K");
	/* both go on live */
	put(f->s, "/c/after", "A");
	expect_event(live, LOOM_EV_PUT, "/c/after", "A");
	expect_event(old, LOOM_EV_PUT, "/c/after", "A");
	loom_watch_close(live);
	loom_watch_close(old);
	free(big);
}

static void test_odd_keys_are_distinct(void **state)
{
	struct fx *f = *state;
	static const char *const keys[] = {
		"/a/b",    "/a%2Fb",
		"/a_b",    ".",
		"..",      "/.hidden",
		"/sp ace", "/\xc3\xa9t\xc3\xa9",
		"/tab\t",  "~0123456789abcdef",
	};
	struct loom_err err = { 0 };
	struct loom_kv *kvs = NULL;
	size_t n = 0, i;
	char *longk = malloc(LOOM_STORE_KEY_MAX + 1);

	assert_non_null(longk);
	for (i = 0; i < N(keys); i++)
		put(f->s, keys[i], keys[i]);
	memset(longk, '/', LOOM_STORE_KEY_MAX);
	longk[LOOM_STORE_KEY_MAX] = '\0';
	put(f->s, longk, "long");
	assert_int_equal(loom_store_list(f->s, "", &kvs, &n, NULL, &err), 0);
	assert_int_equal(n, N(keys) + 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(strcmp(kvs[i - 1].key, kvs[i].key) < 0);
		if (strcmp(kvs[i].key, longk) == 0)
			assert_string_equal(kvs[i].value, "long");
		else
			assert_string_equal(kvs[i].value, kvs[i].key);
	}
	loom_kvs_free(kvs, n);
	free(longk);
}

/* The parsers the fuzzer drives: a record the store wrote parses back, and
 * every single-byte corruption or truncation is refused. */
static void test_parsers_refuse_damage(void **state)
{
	struct fx *f = *state;
	char path[256];
	unsigned char buf[512];
	struct loom_event ev;
	struct loom_kv kv;
	struct loom_err err;
	ssize_t n;
	size_t rec;
	int fd;

	put(f->s, "/p/key", "value");
	snprintf(path, sizeof(path), "%s/log", f->dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = pread(fd, buf, sizeof(buf), 16);
	close(fd);
	assert_true(n > 0);
	rec = loom_store_file_parse_event(buf, (size_t)n, &ev);
	assert_int_equal(rec, (size_t)n);
	assert_string_equal(ev.kv.key, "/p/key");
	assert_string_equal(ev.kv.value, "value");
	loom_kv_clear(&ev.kv);
	for (size_t i = 0; i < rec; i++) {
		assert_int_equal(loom_store_file_parse_event(buf, i, &ev), 0);
		buf[i] ^= 0x20;
		assert_int_equal(loom_store_file_parse_event(buf, rec, &ev), 0);
		buf[i] ^= 0x20;
	}

	snprintf(path, sizeof(path), "%s/data/%%2Fp%%2Fkey", f->dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(loom_store_file_parse_kv(buf, (size_t)n, &kv, &err), 0);
	assert_string_equal(kv.key, "/p/key");
	loom_kv_clear(&kv);
	for (ssize_t i = 0; i < n; i++) {
		assert_int_equal(loom_store_file_parse_kv(buf, (size_t)i, &kv, &err), -1);
		buf[i] ^= 0x01;
		assert_int_equal(loom_store_file_parse_kv(buf, (size_t)n, &kv, &err), -1);
		assert_int_equal(err.code, LOOM_ERR_STORE);
		buf[i] ^= 0x01;
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_torn_log_and_temp_files), T(test_lost_event_never_reuses_revision),
		T(test_damaged_data_file),       T(test_compaction_and_resync),
		T(test_odd_keys_are_distinct),   T(test_parsers_refuse_damage),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
