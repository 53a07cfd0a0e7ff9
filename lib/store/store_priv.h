/* Backend seam of the datastore (lib/store/store.h).  lib/store/store.c parses the URL
 * and dispatches; each backend (store_file.c, store_etcd.c) fills one ops
 * table.  Backends own their state behind `struct loom_store` and
 * `struct loom_watch` by embedding these headers first. */
#ifndef LOOM_STORE_PRIV_H
#define LOOM_STORE_PRIV_H

#include "store/store.h"

struct loom_store_ops {
	const char *scheme; /* "file" or "etcd" */
	/* `rest` is the URL after "scheme:" */
	int (*open)(const char *rest, struct loom_store **out, struct loom_err *err);
	void (*close)(struct loom_store *s);
	int (*get)(struct loom_store *s, const char *key, struct loom_kv *out,
		   struct loom_err *err);
	/* mode: PUT (unconditional), CREATE (if absent), CAS (if mod_revision == expected) */
	int (*put)(struct loom_store *s, int mode, const char *key, int64_t expected,
		   const void *value, size_t len, int64_t lease, int64_t *rev,
		   struct loom_err *err);
	int (*del)(struct loom_store *s, const char *key, int64_t *rev, struct loom_err *err);
	int (*list)(struct loom_store *s, const char *prefix, struct loom_kv **kvs, size_t *n,
		    int64_t *rev, struct loom_err *err);
	int (*lease_grant)(struct loom_store *s, int64_t ttl, int64_t *lease, struct loom_err *err);
	int (*lease_keepalive)(struct loom_store *s, int64_t lease, struct loom_err *err);
	int (*lease_revoke)(struct loom_store *s, int64_t lease, struct loom_err *err);
	/* remaining seconds (>= 0), or -1 LOOM_ERR_NOT_FOUND when gone */
	int (*lease_ttl)(struct loom_store *s, int64_t lease, int64_t *remaining,
			 struct loom_err *err);
	int (*watch)(struct loom_store *s, const char *prefix, int64_t from, struct loom_watch **w,
		     struct loom_err *err);
	/* Non-blocking: 1 and *ev, 0 nothing now, -1 (store.h).  store.c
	 * waits on watch_fd between calls for loom_watch_next's timeout. */
	int (*watch_next)(struct loom_watch *w, struct loom_event *ev, struct loom_err *err);
	/* The watch's pollable fd: fixed for its life, owned by the watch. */
	int (*watch_fd)(const struct loom_watch *w);
	void (*watch_close)(struct loom_watch *w);
};

enum {
	LOOM_STORE_PUT,
	LOOM_STORE_CREATE,
	LOOM_STORE_CAS
};

/* A backend's ops table names its functions by one prefix: P_open, P_get,
 * P_lease_grant, ... (LOOM_STORE_KV_OPS) and P_list, P_watch, P_watch_next,
 * P_watch_fd, P_watch_close (LOOM_STORE_WATCH_OPS). */
#define LOOM_STORE_KV_OPS(P)                                                                  \
	.open = P##_open, .close = P##_close, .get = P##_get, .put = P##_put, .del = P##_del, \
	.lease_grant = P##_lease_grant, .lease_keepalive = P##_lease_keepalive,               \
	.lease_revoke = P##_lease_revoke, .lease_ttl = P##_lease_ttl
#define LOOM_STORE_WATCH_OPS(P)                                             \
	.list = P##_list, .watch = P##_watch, .watch_next = P##_watch_next, \
	.watch_fd = P##_watch_fd, .watch_close = P##_watch_close

/* Every backend's store and watch start with these.  lib/store/store.c sets `ops`
 * and `url` after a successful open / watch and frees `url` after close:
 * backends leave both alone. */
struct loom_store {
	const struct loom_store_ops *ops;
	char *url;
};

struct loom_watch {
	const struct loom_store_ops *ops;
};

/* Arm a watch's timerfd to fire in ms (<= 0: at once; the timer's 0 would
 * disarm it).  Both backends wake their watch fd through one. */
void loom_store_timerfd_in(int tfd, long ms);

extern const struct loom_store_ops loom_store_file_ops;
extern const struct loom_store_ops loom_store_etcd_ops;

/* The file backend's on-disk parsers, exposed for the fuzzer and the
 * file-backend tests (bytes in a store directory cross a trust boundary).
 * parse_kv: one data file's content -> *out (caller clears): 0, or -1 with
 * err (LOOM_ERR_STORE) for anything malformed.  parse_event: the framed log
 * record at the start of buf -> the number of bytes it takes (> 0) and *ev
 * filled (the event's revision in ev->kv.mod_revision; caller clears), 0 when
 * buf holds no complete valid record (a record still being written or a torn
 * tail: nothing at or after it is trusted). */
int loom_store_file_parse_kv(const void *buf, size_t len, struct loom_kv *out,
			     struct loom_err *err);
size_t loom_store_file_parse_event(const void *buf, size_t len, struct loom_event *ev);

#endif
