/* The datastore front: parses the URL, checks every argument once, and
 * dispatches to the backend's ops table (lib/store/store_priv.h).  Backends can
 * therefore trust that keys are non-empty, NUL-free, at most
 * LOOM_STORE_KEY_MAX bytes, values at most LOOM_STORE_VALUE_MAX, leases
 * >= 0 and CAS revisions >= 1. */
#include "store_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

static const struct loom_store_ops *const backends[] = {
	&loom_store_file_ops,
	&loom_store_etcd_ops,
};

void loom_kv_clear(struct loom_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void loom_kvs_free(struct loom_kv *kvs, size_t n)
{
	size_t i;

	if (!kvs)
		return;
	for (i = 0; i < n; i++)
		loom_kv_clear(&kvs[i]);
	free(kvs);
}

int loom_store_open(const char *url, struct loom_store **out, struct loom_err *err)
{
	const char *colon;
	size_t i;

	*out = NULL;
	if (!url || !(colon = strchr(url, ':')))
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"store URL \"%s\": expected file:DIR or etcd:http://HOST:PORT[,...]",
			url ? url : "");
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		const struct loom_store_ops *ops = backends[i];
		struct loom_store *s = NULL;

		if (strlen(ops->scheme) != (size_t)(colon - url) ||
		    strncmp(ops->scheme, url, (size_t)(colon - url)) != 0)
			continue;
		if (colon[1] == '\0')
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "store URL \"%s\": nothing after \"%s:\"", url,
					    ops->scheme);
		if (ops->open(colon + 1, &s, err) < 0)
			return -1;
		s->ops = ops;
		s->url = strdup(url);
		if (!s->url) {
			ops->close(s);
			return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
		}
		*out = s;
		return 0;
	}
	return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
			    "store URL \"%s\": unknown scheme (expected file: or etcd:)", url);
}

void loom_store_close(struct loom_store *s)
{
	char *url;

	if (!s)
		return;
	/* the backend frees its own struct, which holds url: keep it until after */
	url = s->url;
	s->ops->close(s);
	free(url);
}

const char *loom_store_url(const struct loom_store *s)
{
	return s->url;
}

/* prefix: an empty string is allowed (every key) */
static int check_key(const char *key, bool prefix, struct loom_err *err)
{
	size_t n;

	if (!key)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "store key: missing");
	n = strnlen(key, LOOM_STORE_KEY_MAX + 1);
	if (n == 0 && !prefix)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "store key: must not be empty");
	if (n > LOOM_STORE_KEY_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "store key \"%.64s...\": longer than %d bytes", key,
				    LOOM_STORE_KEY_MAX);
	return 0;
}

static int check_value(const char *key, const void *value, size_t len, int64_t lease,
		       struct loom_err *err)
{
	if (len > LOOM_STORE_VALUE_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "store key \"%s\": value of %zu bytes is larger than %d", key,
				    len, LOOM_STORE_VALUE_MAX);
	if (!value && len > 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "store key \"%s\": value missing",
				    key);
	if (lease < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "store key \"%s\": lease %lld is negative", key,
				    (long long)lease);
	return 0;
}

int loom_store_get(struct loom_store *s, const char *key, struct loom_kv *out, struct loom_err *err)
{
	memset(out, 0, sizeof(*out));
	if (check_key(key, false, err) < 0)
		return -1;
	return s->ops->get(s, key, out, err);
}

static int put_mode(struct loom_store *s, int mode, const char *key, int64_t expected,
		    const void *value, size_t len, int64_t lease, int64_t *rev,
		    struct loom_err *err)
{
	int64_t dummy;

	if (check_key(key, false, err) < 0 || check_value(key, value, len, lease, err) < 0)
		return -1;
	if (mode == LOOM_STORE_CAS && expected < 1)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "store key \"%s\": compare-and-swap needs a revision >= 1 "
				    "(use create for an absent key)",
				    key);
	return s->ops->put(s, mode, key, expected, value ? value : "", len, lease,
			   rev ? rev : &dummy, err);
}

int loom_store_put(struct loom_store *s, const char *key, const void *value, size_t len,
		   int64_t lease, int64_t *rev, struct loom_err *err)
{
	return put_mode(s, LOOM_STORE_PUT, key, 0, value, len, lease, rev, err);
}

int loom_store_create(struct loom_store *s, const char *key, const void *value, size_t len,
		      int64_t lease, int64_t *rev, struct loom_err *err)
{
	return put_mode(s, LOOM_STORE_CREATE, key, 0, value, len, lease, rev, err);
}

int loom_store_cas(struct loom_store *s, const char *key, int64_t expected, const void *value,
		   size_t len, int64_t lease, int64_t *rev, struct loom_err *err)
{
	return put_mode(s, LOOM_STORE_CAS, key, expected, value, len, lease, rev, err);
}

int loom_store_delete(struct loom_store *s, const char *key, int64_t *rev, struct loom_err *err)
{
	int64_t dummy;

	if (check_key(key, false, err) < 0)
		return -1;
	return s->ops->del(s, key, rev ? rev : &dummy, err);
}

int loom_store_list(struct loom_store *s, const char *prefix, struct loom_kv **kvs, size_t *n,
		    int64_t *rev, struct loom_err *err)
{
	int64_t dummy;

	*kvs = NULL;
	*n = 0;
	if (check_key(prefix, true, err) < 0)
		return -1;
	return s->ops->list(s, prefix, kvs, n, rev ? rev : &dummy, err);
}

int loom_store_lease_grant(struct loom_store *s, int64_t ttl_seconds, int64_t *lease,
			   struct loom_err *err)
{
	if (ttl_seconds < 1)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "lease TTL %lld: must be at least 1 second",
				    (long long)ttl_seconds);
	return s->ops->lease_grant(s, ttl_seconds, lease, err);
}

int loom_store_lease_keepalive(struct loom_store *s, int64_t lease, struct loom_err *err)
{
	if (lease < 1)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "lease %lld: not a lease id",
				    (long long)lease);
	return s->ops->lease_keepalive(s, lease, err);
}

int loom_store_lease_revoke(struct loom_store *s, int64_t lease, struct loom_err *err)
{
	if (lease < 1)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "lease %lld: not a lease id",
				    (long long)lease);
	return s->ops->lease_revoke(s, lease, err);
}

int loom_store_lease_ttl(struct loom_store *s, int64_t lease, int64_t *remaining_seconds,
			 struct loom_err *err)
{
	*remaining_seconds = -1;
	if (lease < 1)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "lease %lld: not a lease id",
				    (long long)lease);
	return s->ops->lease_ttl(s, lease, remaining_seconds, err);
}

int loom_store_watch(struct loom_store *s, const char *prefix, int64_t from, struct loom_watch **w,
		     struct loom_err *err)
{
	*w = NULL;
	if (check_key(prefix, true, err) < 0)
		return -1;
	if (from < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "watch of \"%s\": revision %lld is negative", prefix,
				    (long long)from);
	if (s->ops->watch(s, prefix, from, w, err) < 0)
		return -1;
	(*w)->ops = s->ops;
	return 0;
}

void loom_store_timerfd_in(int tfd, long ms)
{
	struct itimerspec its = { 0 };

	if (ms <= 0) {
		its.it_value.tv_nsec = 1;
	} else {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000L;
	}
	timerfd_settime(tfd, 0, &its, NULL);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The blocking call is the non-blocking step and a poll on the watch's fd:
 * the same machinery an event loop drives. */
int loom_watch_next(struct loom_watch *w, struct loom_event *ev, int timeout_ms,
		    struct loom_err *err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = w->ops->watch_fd(w), .events = POLLIN };
		int64_t left = -1;
		int r;

		memset(ev, 0, sizeof(*ev));
		r = w->ops->watch_next(w, ev, err);
		if (r != 0)
			return r;
		if (deadline >= 0) {
			left = deadline - mono_ms();
			if (left <= 0)
				return 0;
		}
		if (poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left) < 0 && errno != EINTR)
			return loom_err_errno(err, LOOM_ERR_STORE, errno, "store watch: poll");
	}
}

int loom_watch_fd(const struct loom_watch *w)
{
	return w->ops->watch_fd(w);
}

void loom_watch_close(struct loom_watch *w)
{
	if (w)
		w->ops->watch_close(w);
}
