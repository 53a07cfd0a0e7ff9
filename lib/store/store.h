/* The cluster datastore: one interface, two backends.
 *
 *   file:DIR                     embedded, for one machine and for a
 *                                simulated cluster on one machine
 *   etcd:http://H:P[,H:P...]     etcd v3 through its JSON gateway (libcurl)
 *
 * Keys are '/'-separated strings without NUL ("/loom/nodes/node-1"); values
 * are opaque bytes (loom stores JSON).  Every change gets a cluster-wide
 * revision that only grows.  Keys may be attached to a lease; when the lease
 * expires (no keep-alive within its TTL) its keys are deleted, and watchers
 * see the deletes.
 *
 * All calls return 0 / a documented positive value, or -1 with `err` filled
 * (LOOM_ERR_STORE for an unreachable or failing store, naming the URL and
 * the cause; LOOM_ERR_INVALID_CONFIG for a bad URL).  A handle is used by one
 * thread at a time. */
#ifndef LOOM_STORE_H
#define LOOM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define LOOM_STORE_KEY_MAX 1024
#define LOOM_STORE_VALUE_MAX (1024 * 1024)

struct loom_store;

struct loom_kv {
	char *key;   /* owned, NUL-terminated */
	char *value; /* owned, NUL-terminated for convenience; may hold NULs */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision; /* the revision of the last change: the CAS token */
	int64_t lease;        /* 0 = none */
};

void loom_kv_clear(struct loom_kv *kv);            /* frees members, NULL-safe */
void loom_kvs_free(struct loom_kv *kvs, size_t n); /* frees an array from list */

/* Open a store by URL.  Does not need the store to be reachable yet for
 * etcd (the first call will fail with LOOM_ERR_STORE); file: creates DIR. */
int loom_store_open(const char *url, struct loom_store **out, struct loom_err *err);
void loom_store_close(struct loom_store *s); /* NULL-safe */
const char *loom_store_url(const struct loom_store *s);

/* 1 and *out filled when the key exists, 0 when it does not. */
int loom_store_get(struct loom_store *s, const char *key, struct loom_kv *out,
		   struct loom_err *err);

/* Unconditional put.  lease 0 = no lease.  *rev (may be NULL) = the
 * revision of this change. */
int loom_store_put(struct loom_store *s, const char *key, const void *value, size_t len,
		   int64_t lease, int64_t *rev, struct loom_err *err);

/* Put only if the key does not exist: 1 created, 0 it existed (nothing
 * written). */
int loom_store_create(struct loom_store *s, const char *key, const void *value, size_t len,
		      int64_t lease, int64_t *rev, struct loom_err *err);

/* Compare-and-swap on the key's mod_revision: 1 swapped, 0 the key's
 * mod_revision was not `expected` (or the key is gone).  expected < 1 is
 * refused (LOOM_ERR_INVALID_CONFIG): an absent key is loom_store_create's. */
int loom_store_cas(struct loom_store *s, const char *key, int64_t expected, const void *value,
		   size_t len, int64_t lease, int64_t *rev, struct loom_err *err);

/* 1 deleted, 0 there was nothing to delete. */
int loom_store_delete(struct loom_store *s, const char *key, int64_t *rev, struct loom_err *err);

/* Every key starting with `prefix`, sorted by key.  *rev = the store's
 * revision the list reflects (watch from *rev + 1 to follow it). */
int loom_store_list(struct loom_store *s, const char *prefix, struct loom_kv **kvs, size_t *n,
		    int64_t *rev, struct loom_err *err);

/* Leases.  grant: a new lease of ttl_seconds (>= 1).  keepalive: renew it
 * for another TTL; -1 with code LOOM_ERR_NOT_FOUND when the lease has
 * already expired (its keys are gone: the caller re-registers).  revoke:
 * delete the lease and its keys now. */
int loom_store_lease_grant(struct loom_store *s, int64_t ttl_seconds, int64_t *lease,
			   struct loom_err *err);
int loom_store_lease_keepalive(struct loom_store *s, int64_t lease, struct loom_err *err);
int loom_store_lease_revoke(struct loom_store *s, int64_t lease, struct loom_err *err);
/* ttl: the lease's remaining time to live in whole seconds, rounded down
 * as etcd reports it (a lease granted or renewed just now reads TTL - 1 or
 * TTL; 0 in its last second).  -1 with code LOOM_ERR_NOT_FOUND when the
 * lease has expired or was revoked.  It only reads: it does not renew. */
int loom_store_lease_ttl(struct loom_store *s, int64_t lease, int64_t *remaining_seconds,
			 struct loom_err *err);

/* Watches. */
enum loom_event_type {
	LOOM_EV_PUT = 1,
	LOOM_EV_DELETE = 2
};

struct loom_event {
	enum loom_event_type type;
	struct loom_kv
		kv; /* for DELETE: key and mod_revision (the delete's revision); value empty */
};

struct loom_watch;

/* Watch every key under `prefix` from revision `from` (0 = from now on).
 * The watch delivers every change after `from - 1` in revision order, and
 * survives what the backend can hide: a dropped etcd connection resumes
 * from the last delivered revision on the next endpoint; a compacted
 * revision (history no longer available) is answered by a resync: the
 * watch lists the prefix and delivers PUTs for what exists and DELETEs for
 * keys it had delivered that are gone, then goes on live. */
int loom_store_watch(struct loom_store *s, const char *prefix, int64_t from, struct loom_watch **w,
		     struct loom_err *err);
/* Wait up to timeout_ms (-1 = forever) for the next event: 1 and *ev filled
 * (clear it with loom_kv_clear(&ev->kv)), 0 on timeout, -1 on an error the
 * watch cannot get past (err says why; the caller may re-create the watch,
 * from the revision after the last event it got, after a backoff).
 * timeout_ms 0 never blocks: it is the "drain" call of an event loop. */
int loom_watch_next(struct loom_watch *w, struct loom_event *ev, int timeout_ms,
		    struct loom_err *err);
/* The watch as one fd for an event loop (poll/epoll for POLLIN).  It is
 * readable when the watch has something to do: events to deliver, or work
 * of its own (file: another process appended to the log, a lease expires
 * and must be swept; etcd: the stream's socket, curl's timers, a reconnect
 * after a pause).  On readiness drain: loom_watch_next(w, ev, 0, err) until
 * it returns 0 (or -1).  The fd belongs to the watch (closed by
 * loom_watch_close), is the same for the watch's whole life, and is never
 * readable forever without a drain making progress.
 *
 * file: every watch of a process shares one inotify instance, whatever
 * their number; each watch's fd is an epoll set of that inotify and a
 * timerfd of its own.  etcd: an epoll set of curl's sockets (curl's multi
 * socket interface) and a timerfd for curl's and the watch's timers. */
int loom_watch_fd(const struct loom_watch *w);
void loom_watch_close(struct loom_watch *w); /* NULL-safe */

#endif
