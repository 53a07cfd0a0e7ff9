/* The datastore contract (lib/store/store.h), run against any backend:
 *
 *   store_suite file:DIR | file: | etcd:http://HOST:PORT[,...]
 *
 * "file:" alone makes (and removes) a temp dir.  Every test works under a
 * random key prefix of its own and deletes its keys, so runs against one
 * shared store do not collide.  Waits are bounded polls, never fixed sleeps
 * longer than the thing waited for. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *url;

struct fx {
	struct loom_store *s;
	char p[64]; /* this test's key prefix, ending in '/' */
};

static char *k(struct fx *f, const char *rel)
{
	static char buf[4][LOOM_STORE_KEY_MAX + 1];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", f->p, rel);
	return buf[i];
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct loom_err err = { 0 };
	uint32_t r = 0;

	assert_non_null(f);
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)mono_ms();
	snprintf(f->p, sizeof(f->p), "/loomtest/%ld-%08x/", (long)getpid(), r);
	if (loom_store_open(url, &f->s, &err) < 0)
		fail_msg("open %s: %s (%s)", url, err.msg, err.details);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	struct loom_kv *kvs = NULL;
	size_t n = 0;

	if (loom_store_list(f->s, f->p, &kvs, &n, NULL, &err) == 0)
		for (size_t i = 0; i < n; i++)
			loom_store_delete(f->s, kvs[i].key, NULL, &err);
	loom_kvs_free(kvs, n);
	loom_store_close(f->s);
	free(f);
	return 0;
}

#define OK(call)                                                            \
	do {                                                                \
		struct loom_err e_ = { 0 };                                 \
		int r_ = (call);                                            \
		if (r_ < 0)                                                 \
			fail_msg("%s: %s (%s)", #call, e_.msg, e_.details); \
	} while (0)

static int put(struct fx *f, const char *rel, const char *v, int64_t lease, int64_t *rev)
{
	struct loom_err err = { 0 };
	int r = loom_store_put(f->s, k(f, rel), v, strlen(v), lease, rev, &err);

	if (r < 0)
		fail_msg("put %s: %s (%s)", rel, err.msg, err.details);
	return r;
}

/* 1 and the value (static buffer) when present, 0 when not */
static int get(struct fx *f, const char *rel, struct loom_kv *out)
{
	struct loom_err err = { 0 };
	int r = loom_store_get(f->s, k(f, rel), out, &err);

	if (r < 0)
		fail_msg("get %s: %s (%s)", rel, err.msg, err.details);
	return r;
}

static void expect_val(struct fx *f, const char *rel, const char *v)
{
	struct loom_kv kv;

	assert_int_equal(get(f, rel, &kv), 1);
	assert_string_equal(kv.key, k(f, rel));
	assert_int_equal(kv.value_len, strlen(v));
	assert_string_equal(kv.value, v);
	loom_kv_clear(&kv);
}

static void test_get_put_overwrite(void **state)
{
	struct fx *f = *state;
	struct loom_kv kv;
	int64_t r1 = 0, r2 = 0;

	assert_int_equal(get(f, "x", &kv), 0);
	assert_int_equal(put(f, "x", "{\"a\":1}", 0, &r1), 0);
	assert_true(r1 > 0);
	assert_int_equal(get(f, "x", &kv), 1);
	assert_string_equal(kv.value, "{\"a\":1}");
	assert_int_equal(kv.create_revision, r1);
	assert_int_equal(kv.mod_revision, r1);
	assert_int_equal(kv.lease, 0);
	loom_kv_clear(&kv);

	assert_int_equal(put(f, "x", "v2", 0, &r2), 0);
	assert_true(r2 > r1);
	assert_int_equal(get(f, "x", &kv), 1);
	assert_string_equal(kv.value, "v2");
	assert_int_equal(kv.create_revision, r1);
	assert_int_equal(kv.mod_revision, r2);
	loom_kv_clear(&kv);

	/* an empty value is a value, not an absence */
	assert_int_equal(put(f, "empty", "", 0, NULL), 0);
	expect_val(f, "empty", "");
}

static void test_create_if_absent(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	int64_t rev = 0;

	assert_int_equal(loom_store_create(f->s, k(f, "c"), "first", 5, 0, &rev, &err), 1);
	assert_true(rev > 0);
	assert_int_equal(loom_store_create(f->s, k(f, "c"), "second", 6, 0, NULL, &err), 0);
	expect_val(f, "c", "first");
}

static void test_cas(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	struct loom_kv kv;
	int64_t r1 = 0, r2 = 0;

	put(f, "cas", "1", 0, &r1);
	assert_int_equal(loom_store_cas(f->s, k(f, "cas"), r1, "2", 1, 0, &r2, &err), 1);
	assert_true(r2 > r1);
	/* the old token no longer matches: nothing written */
	assert_int_equal(loom_store_cas(f->s, k(f, "cas"), r1, "3", 1, 0, NULL, &err), 0);
	assert_int_equal(get(f, "cas", &kv), 1);
	assert_string_equal(kv.value, "2");
	assert_int_equal(kv.mod_revision, r2);
	loom_kv_clear(&kv);
	/* a missing key never matches */
	assert_int_equal(loom_store_cas(f->s, k(f, "gone"), r2, "x", 1, 0, NULL, &err), 0);
	assert_int_equal(get(f, "gone", &kv), 0);
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	struct loom_kv kv;
	int64_t r1 = 0, r2 = 0;

	put(f, "d", "v", 0, &r1);
	assert_int_equal(loom_store_delete(f->s, k(f, "d"), &r2, &err), 1);
	assert_true(r2 > r1);
	assert_int_equal(loom_store_delete(f->s, k(f, "d"), NULL, &err), 0);
	assert_int_equal(get(f, "d", &kv), 0);
	/* a re-created key starts a new life */
	put(f, "d", "again", 0, &r1);
	assert_int_equal(get(f, "d", &kv), 1);
	assert_int_equal(kv.create_revision, r1);
	loom_kv_clear(&kv);
}

static void test_list_prefix(void **state)
{
	struct fx *f = *state;
	static const char *const keys[] = {
		"a/b/y", "a/bc", "a/b/x", "a/b", "a/b/a/deep", "b/a/b/z"
	};
	static const char *const want[] = { "a/b/a/deep", "a/b/x", "a/b/y" };
	struct loom_kv *kvs = NULL;
	size_t n = 0, i;
	int64_t last = 0, rev = 0;

	for (i = 0; i < N(keys); i++)
		put(f, keys[i], keys[i], 0, &last);
	OK(loom_store_list(f->s, k(f, "a/b/"), &kvs, &n, &rev, &e_));
	assert_int_equal(n, N(want));
	for (i = 0; i < n; i++) {
		assert_string_equal(kvs[i].key, k(f, want[i]));
		assert_string_equal(kvs[i].value, want[i]);
	}
	assert_true(rev >= last);
	loom_kvs_free(kvs, n);

	OK(loom_store_list(f->s, k(f, "nothing/"), &kvs, &n, &rev, &e_));
	assert_int_equal(n, 0);
	loom_kvs_free(kvs, n);
}

static void test_revisions_increase(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	int64_t revs[5] = { 0 }, listed = 0;
	struct loom_kv *kvs = NULL;
	size_t n = 0;

	put(f, "r1", "a", 0, &revs[0]);
	assert_int_equal(loom_store_create(f->s, k(f, "r2"), "b", 1, 0, &revs[1], &err), 1);
	assert_int_equal(loom_store_cas(f->s, k(f, "r2"), revs[1], "c", 1, 0, &revs[2], &err), 1);
	assert_int_equal(loom_store_delete(f->s, k(f, "r1"), &revs[3], &err), 1);
	put(f, "r1", "d", 0, &revs[4]);
	for (size_t i = 1; i < N(revs); i++)
		assert_true(revs[i] > revs[i - 1]);
	OK(loom_store_list(f->s, f->p, &kvs, &n, &listed, &e_));
	assert_true(listed >= revs[4]);
	loom_kvs_free(kvs, n);
}

static void test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	struct loom_kv kv;
	char *longkey = malloc(LOOM_STORE_KEY_MAX + 2);
	struct loom_store *s2 = NULL;
	int64_t lease = 0;

	assert_non_null(longkey);
	memset(longkey, 'k', LOOM_STORE_KEY_MAX + 1);
	longkey[LOOM_STORE_KEY_MAX + 1] = '\0';
	assert_int_equal(loom_store_put(f->s, "", "v", 1, 0, NULL, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
	assert_int_equal(loom_store_get(f->s, longkey, &kv, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
	/* exactly the limit is fine */
	longkey[LOOM_STORE_KEY_MAX] = '\0';
	memcpy(longkey, f->p, strlen(f->p));
	assert_int_equal(loom_store_put(f->s, longkey, "v", 1, 0, NULL, &err), 0);
	assert_int_equal(loom_store_get(f->s, longkey, &kv, &err), 1);
	assert_string_equal(kv.key, longkey);
	loom_kv_clear(&kv);
	free(longkey);
	assert_int_equal(loom_store_put(f->s, k(f, "big"), "", LOOM_STORE_VALUE_MAX + 1, 0, NULL,
					&err),
			 -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
	assert_int_equal(loom_store_cas(f->s, k(f, "big"), 0, "v", 1, 0, NULL, &err), -1);
	assert_int_equal(loom_store_lease_grant(f->s, 0, &lease, &err), -1);
	/* a put attached to a lease that does not exist is refused */
	assert_int_equal(loom_store_put(f->s, k(f, "nolease"), "v", 1, 4242424242LL, NULL, &err),
			 -1);
	assert_int_equal(get(f, "nolease", &kv), 0);

	static const char *const bad_urls[] = { "", "nocolon", "gopher:x", "file:", "etcd:" };
	for (size_t i = 0; i < N(bad_urls); i++) {
		assert_int_equal(loom_store_open(bad_urls[i], &s2, &err), -1);
		assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
		assert_null(s2);
	}
	assert_string_equal(loom_store_url(f->s), url);
}

/* Poll until the key is gone: the elapsed ms, or -1 after limit_ms. */
static int64_t wait_gone(struct fx *f, const char *rel, int limit_ms)
{
	int64_t t0 = mono_ms();
	struct loom_kv kv;

	while (mono_ms() - t0 < limit_ms) {
		if (get(f, rel, &kv) == 0)
			return mono_ms() - t0;
		loom_kv_clear(&kv);
		sleep_ms(100);
	}
	return -1;
}

static void test_lease_expiry(void **state)
{
	struct fx *f = *state;
	int64_t lease = 0, t;
	struct loom_kv kv;

	OK(loom_store_lease_grant(f->s, 1, &lease, &e_));
	assert_true(lease > 0);
	put(f, "ttl", "v", lease, NULL);
	assert_int_equal(get(f, "ttl", &kv), 1);
	assert_int_equal(kv.lease, lease);
	loom_kv_clear(&kv);
	put(f, "kept", "v", 0, NULL);
	t = wait_gone(f, "ttl", 6000);
	assert_true(t >= 0);
	expect_val(f, "kept", "v"); /* only the lease's keys go */
}

static void test_lease_keepalive_revoke(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	int64_t lease = 0, t0;
	struct loom_kv kv;

	OK(loom_store_lease_grant(f->s, 2, &lease, &e_));
	put(f, "ka", "v", lease, NULL);
	/* 3.5 s is well past the 2 s TTL: only the keep-alives hold it */
	for (t0 = mono_ms(); mono_ms() - t0 < 3500;) {
		OK(loom_store_lease_keepalive(f->s, lease, &e_));
		sleep_ms(500);
	}
	expect_val(f, "ka", "v");
	OK(loom_store_lease_revoke(f->s, lease, &e_));
	assert_int_equal(get(f, "ka", &kv), 0);
	assert_int_equal(loom_store_lease_keepalive(f->s, lease, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_NOT_FOUND);
}

static void test_keepalive_expired(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	int64_t lease = 0;

	OK(loom_store_lease_grant(f->s, 1, &lease, &e_));
	put(f, "exp", "v", lease, NULL);
	assert_true(wait_gone(f, "exp", 6000) >= 0);
	assert_int_equal(loom_store_lease_keepalive(f->s, lease, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_NOT_FOUND);
	/* a key cannot be attached to it any more either */
	assert_int_equal(loom_store_put(f->s, k(f, "exp"), "v", 1, lease, NULL, &err), -1);
}

static int64_t lease_ttl(struct fx *f, int64_t lease)
{
	int64_t left = -2;

	OK(loom_store_lease_ttl(f->s, lease, &left, &e_));
	return left;
}

static void test_lease_ttl(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	int64_t lease = 0, left = 0;

	OK(loom_store_lease_grant(f->s, 5, &lease, &e_));
	put(f, "ttl", "v", lease, NULL);
	left = lease_ttl(f, lease);
	assert_in_range(left, 1, 5);
	/* it only reads: the key's lease runs down, then a keep-alive resets it */
	sleep_ms(2100);
	left = lease_ttl(f, lease);
	assert_in_range(left, 1, 3);
	OK(loom_store_lease_keepalive(f->s, lease, &e_));
	assert_in_range(lease_ttl(f, lease), 4, 5);
	expect_val(f, "ttl", "v");
	OK(loom_store_lease_revoke(f->s, lease, &e_));
	left = 7;
	assert_int_equal(loom_store_lease_ttl(f->s, lease, &left, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_NOT_FOUND);
	assert_int_equal(left, -1);
	/* a lease that was never granted reads the same */
	assert_int_equal(loom_store_lease_ttl(f->s, 4242424242LL, &left, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_NOT_FOUND);
	assert_int_equal(loom_store_lease_ttl(f->s, 0, &left, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_INVALID_CONFIG);
}

static void test_lease_ttl_expired(void **state)
{
	struct fx *f = *state;
	struct loom_err err = { 0 };
	int64_t lease = 0, left = 0;

	OK(loom_store_lease_grant(f->s, 1, &lease, &e_));
	put(f, "exp", "v", lease, NULL);
	assert_true(wait_gone(f, "exp", 6000) >= 0);
	assert_int_equal(loom_store_lease_ttl(f->s, lease, &left, &err), -1);
	assert_int_equal(err.code, LOOM_ERR_NOT_FOUND);
}

static void next_event(struct loom_watch *w, int type, const char *key, const char *value,
		       int64_t rev)
{
	struct loom_err err = { 0 };
	struct loom_event ev;
	int r = loom_watch_next(w, &ev, 5000, &err);

	if (r < 0)
		fail_msg("watch: %s (%s)", err.msg, err.details);
	if (r == 0)
		fail_msg("no event within 5 s (expected %s %s)",
			 type == LOOM_EV_PUT ? "PUT" : "DELETE", key);
	assert_int_equal(ev.type, type);
	assert_string_equal(ev.kv.key, key);
	if (value) {
		assert_int_equal(ev.kv.value_len, strlen(value));
		assert_memory_equal(ev.kv.value, value, strlen(value));
	}
	if (rev)
		assert_int_equal(ev.kv.mod_revision, rev);
	loom_kv_clear(&ev.kv);
}

static void no_event(struct loom_watch *w, int ms)
{
	struct loom_err err = { 0 };
	struct loom_event ev;
	int r = loom_watch_next(w, &ev, ms, &err);

	if (r == 1)
		fail_msg("unexpected event %d %s", ev.type, ev.kv.key);
	assert_int_equal(r, 0);
}

static void test_watch_from_now(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w = NULL;
	struct loom_err err = { 0 };
	int64_t r1 = 0, r2 = 0, r3 = 0;

	put(f, "w/before", "old", 0, NULL);
	OK(loom_store_watch(f->s, k(f, "w/"), 0, &w, &e_));
	put(f, "w/k", "v1", 0, &r1);
	put(f, "w/k", "v2", 0, &r2);
	assert_int_equal(loom_store_delete(f->s, k(f, "w/k"), &r3, &err), 1);
	next_event(w, LOOM_EV_PUT, k(f, "w/k"), "v1", r1);
	next_event(w, LOOM_EV_PUT, k(f, "w/k"), "v2", r2);
	next_event(w, LOOM_EV_DELETE, k(f, "w/k"), "", r3);
	no_event(w, 300);
	loom_watch_close(w);
}

static void test_watch_history(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w = NULL;
	struct loom_err err = { 0 };
	int64_t r1 = 0, r2 = 0, r3 = 0, r4 = 0;

	put(f, "h/a", "A", 0, &r1);
	put(f, "h/b", "B", 0, &r2);
	assert_int_equal(loom_store_delete(f->s, k(f, "h/a"), &r3, &err), 1);
	OK(loom_store_watch(f->s, k(f, "h/"), r1, &w, &e_));
	next_event(w, LOOM_EV_PUT, k(f, "h/a"), "A", r1);
	next_event(w, LOOM_EV_PUT, k(f, "h/b"), "B", r2);
	next_event(w, LOOM_EV_DELETE, k(f, "h/a"), NULL, r3);
	/* and then live */
	put(f, "h/c", "C", 0, &r4);
	next_event(w, LOOM_EV_PUT, k(f, "h/c"), "C", r4);
	loom_watch_close(w);

	/* from the middle: only what came after */
	OK(loom_store_watch(f->s, k(f, "h/"), r2 + 1, &w, &e_));
	next_event(w, LOOM_EV_DELETE, k(f, "h/a"), NULL, r3);
	next_event(w, LOOM_EV_PUT, k(f, "h/c"), "C", r4);
	loom_watch_close(w);
}

static void test_watch_lease_expiry(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w = NULL;
	int64_t lease = 0, r1 = 0, t0;

	OK(loom_store_watch(f->s, k(f, "node/"), 0, &w, &e_));
	OK(loom_store_lease_grant(f->s, 1, &lease, &e_));
	put(f, "node/n1", "alive", lease, &r1);
	next_event(w, LOOM_EV_PUT, k(f, "node/n1"), "alive", r1);
	/* nobody writes: the delete must still come, soon after the TTL */
	t0 = mono_ms();
	next_event(w, LOOM_EV_DELETE, k(f, "node/n1"), NULL, 0);
	assert_true(mono_ms() - t0 < 4000);
	loom_watch_close(w);
}

static void test_two_watchers(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w1 = NULL, *w2 = NULL;
	struct loom_err err = { 0 };
	int64_t r1 = 0, r2 = 0;

	OK(loom_store_watch(f->s, k(f, "tw/"), 0, &w1, &e_));
	OK(loom_store_watch(f->s, k(f, "tw/"), 0, &w2, &e_));
	put(f, "tw/x", "1", 0, &r1);
	assert_int_equal(loom_store_delete(f->s, k(f, "tw/x"), &r2, &err), 1);
	next_event(w1, LOOM_EV_PUT, k(f, "tw/x"), "1", r1);
	next_event(w2, LOOM_EV_PUT, k(f, "tw/x"), "1", r1);
	next_event(w2, LOOM_EV_DELETE, k(f, "tw/x"), NULL, r2);
	next_event(w1, LOOM_EV_DELETE, k(f, "tw/x"), NULL, r2);
	loom_watch_close(w1);
	loom_watch_close(w2);
}

/* Drive a watch the way an event loop does: wait for its fd, then drain
 * with non-blocking calls.  1 and *ev when an event came within ms. */
static int fd_next(struct loom_watch *w, struct loom_event *ev, int ms)
{
	int64_t deadline = mono_ms() + ms;
	struct loom_err err = { 0 };

	for (;;) {
		struct pollfd pfd = { .fd = loom_watch_fd(w), .events = POLLIN };
		int64_t left = deadline - mono_ms();
		int r = loom_watch_next(w, ev, 0, &err);

		if (r < 0)
			fail_msg("watch: %s (%s)", err.msg, err.details);
		if (r == 1)
			return 1;
		if (left <= 0)
			return 0;
		assert_true(poll(&pfd, 1, (int)left) >= 0);
	}
}

/* The fd of a watch wakes its owner for a change made after it went
 * quiet; the non-blocking drain hands over the events in order and then
 * says "nothing now" without waiting. */
static void test_watch_fd(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w = NULL;
	struct loom_err err = { 0 };
	struct loom_event ev;
	int64_t r1 = 0, r2 = 0, t0;
	int fd;

	OK(loom_store_watch(f->s, k(f, "fd/"), 0, &w, &e_));
	fd = loom_watch_fd(w);
	assert_true(fd >= 0);
	/* nothing yet: the drain returns at once */
	t0 = mono_ms();
	while (loom_watch_next(w, &ev, 0, &err) == 1)
		fail_msg("unexpected event %s", ev.kv.key);
	assert_true(mono_ms() - t0 < 1000);
	put(f, "fd/a", "1", 0, &r1);
	put(f, "fd/b", "2", 0, &r2);
	assert_int_equal(fd_next(w, &ev, 5000), 1);
	assert_string_equal(ev.kv.key, k(f, "fd/a"));
	assert_int_equal(ev.kv.mod_revision, r1);
	loom_kv_clear(&ev.kv);
	assert_int_equal(fd_next(w, &ev, 5000), 1);
	assert_string_equal(ev.kv.key, k(f, "fd/b"));
	assert_int_equal(ev.kv.mod_revision, r2);
	loom_kv_clear(&ev.kv);
	assert_int_equal(loom_watch_fd(w), fd); /* the same fd for the watch's life */
	loom_watch_close(w);
}

static int inotify_instances(void)
{
	char path[64], target[64];
	int fd, n = 0;

	for (fd = 0; fd < 4096; fd++) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += strcmp(target, "anon_inode:inotify") == 0;
	}
	return n;
}

/* Many watches in one process: each wakes on its own fd even when another
 * watch's drain read the shared wakeup first, and (file:) the process
 * holds one inotify instance however many watches it has (issue 19: 128
 * per user by default). */
static void test_watch_fd_many(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w[12] = { 0 };
	struct loom_event ev;
	size_t i;
	int64_t r1 = 0;

	for (i = 0; i < N(w); i++)
		OK(loom_store_watch(f->s, k(f, i % 2 ? "m/odd/" : "m/"), 0, &w[i], &e_));
	if (strncmp(url, "file:", 5) == 0)
		assert_true(inotify_instances() <= 1);
	put(f, "m/odd/x", "v", 0, &r1);
	/* drain them one after the other, each waiting on its own fd only */
	for (i = 0; i < N(w); i++) {
		if (fd_next(w[i], &ev, 5000) != 1)
			fail_msg("watch %zu was not woken by its fd", i);
		assert_string_equal(ev.kv.key, k(f, "m/odd/x"));
		assert_int_equal(ev.kv.mod_revision, r1);
		loom_kv_clear(&ev.kv);
	}
	for (i = 0; i < N(w); i++)
		loom_watch_close(w[i]);
	if (strncmp(url, "file:", 5) == 0)
		assert_int_equal(inotify_instances(), 0);
}

static void test_watch_prefix_isolation(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w = NULL;
	int64_t r = 0;

	OK(loom_store_watch(f->s, k(f, "iso/a/"), 0, &w, &e_));
	put(f, "iso/b/x", "no", 0, NULL);
	put(f, "iso/ab", "no", 0, NULL);
	put(f, "iso/a", "no", 0, NULL);
	put(f, "iso/a/x", "yes", 0, &r);
	next_event(w, LOOM_EV_PUT, k(f, "iso/a/x"), "yes", r);
	no_event(w, 300);
	loom_watch_close(w);
}

static void test_binary_and_large_values(void **state)
{
	struct fx *f = *state;
	struct loom_watch *w = NULL;
	struct loom_err err = { 0 };
	struct loom_event ev;
	struct loom_kv kv;
	size_t sizes[] = { 256, 64 * 1024 };
	char *v = malloc(64 * 1024);

	assert_non_null(v);
	for (size_t i = 0; i < 64 * 1024; i++)
		v[i] = (char)(i * 7 + i / 256);
	OK(loom_store_watch(f->s, k(f, "bin/"), 0, &w, &e_));
	for (size_t i = 0; i < N(sizes); i++) {
		assert_int_equal(loom_store_put(f->s, k(f, "bin/v"), v, sizes[i], 0, NULL, &err),
				 0);
		assert_int_equal(get(f, "bin/v", &kv), 1);
		assert_int_equal(kv.value_len, sizes[i]);
		assert_memory_equal(kv.value, v, sizes[i]);
		assert_int_equal(kv.value[kv.value_len], '\0');
		loom_kv_clear(&kv);
		assert_int_equal(loom_watch_next(w, &ev, 5000, &err), 1);
		assert_int_equal(ev.kv.value_len, sizes[i]);
		assert_memory_equal(ev.kv.value, v, sizes[i]);
		loom_kv_clear(&ev.kv);
	}
	loom_watch_close(w);
	free(v);
}

static int wait_children(pid_t *pids, int n, int *codes)
{
	for (int i = 0; i < n; i++) {
		int st = 0;

		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st))
			return -1;
		codes[i] = WEXITSTATUS(st);
	}
	return 0;
}

/* In a child: its own handle (a handle must not cross fork). */
static struct loom_store *child_open(void)
{
	struct loom_store *s = NULL;
	struct loom_err err;

	if (loom_store_open(url, &s, &err) < 0)
		_exit(100);
	return s;
}

static void test_create_race(void **state)
{
	struct fx *f = *state;
	pid_t pids[8];
	int codes[8], wins = 0;
	char winner[8];

	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct loom_store *s = child_open();
			struct loom_err err;
			char v[8];
			int r;

			snprintf(v, sizeof(v), "%d", i);
			r = loom_store_create(s, k(f, "race"), v, strlen(v), 0, NULL, &err);
			loom_store_close(s);
			_exit(r < 0 ? 101 : r);
		}
	}
	assert_int_equal(wait_children(pids, 8, codes), 0);
	for (int i = 0; i < 8; i++) {
		assert_true(codes[i] == 0 || codes[i] == 1);
		if (codes[i] == 1) {
			wins++;
			snprintf(winner, sizeof(winner), "%d", i);
		}
	}
	assert_int_equal(wins, 1);
	expect_val(f, "race", winner);
}

static void test_cas_counter(void **state)
{
	struct fx *f = *state;
	pid_t pids[8];
	int codes[8];

	put(f, "counter", "0", 0, NULL);
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct loom_store *s = child_open();
			struct loom_err err;
			int done = 0;

			while (done < 50) {
				struct loom_kv kv;
				char v[32];
				int r;

				if (loom_store_get(s, k(f, "counter"), &kv, &err) != 1)
					_exit(102);
				snprintf(v, sizeof(v), "%ld", strtol(kv.value, NULL, 10) + 1);
				r = loom_store_cas(s, k(f, "counter"), kv.mod_revision, v,
						   strlen(v), 0, NULL, &err);
				loom_kv_clear(&kv);
				if (r < 0)
					_exit(103);
				done += r;
			}
			loom_store_close(s);
			_exit(0);
		}
	}
	assert_int_equal(wait_children(pids, 8, codes), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(codes[i], 0);
	expect_val(f, "counter", "400");
}

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_get_put_overwrite),
		T(test_create_if_absent),
		T(test_cas),
		T(test_delete),
		T(test_list_prefix),
		T(test_revisions_increase),
		T(test_bad_arguments),
		T(test_lease_expiry),
		T(test_lease_keepalive_revoke),
		T(test_keepalive_expired),
		T(test_lease_ttl),
		T(test_lease_ttl_expired),
		T(test_watch_from_now),
		T(test_watch_history),
		T(test_watch_lease_expiry),
		T(test_two_watchers),
		T(test_watch_prefix_isolation),
		T(test_watch_fd),
		T(test_watch_fd_many),
		T(test_binary_and_large_values),
		T(test_create_race),
		T(test_cas_counter),
#undef T
	};
	char *made = NULL;
	int rc;

	url = argc > 1 ? argv[1] : getenv("LOOM_STORE");
	if (!url) {
		fprintf(stderr, "usage: %s file:DIR | file: | etcd:http://HOST:PORT[,...]\n",
			argv[0]);
		return 2;
	}
	if (strcmp(url, "file:") == 0) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/loom-store-suite.XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			return 2;
		}
		if (asprintf(&made, "file:%s", tmpdir) < 0)
			return 2;
		url = made;
	}
	rc = cmocka_run_group_tests_name(url, tests, NULL, NULL);
	if (made) {
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(made);
	}
	return rc;
}
