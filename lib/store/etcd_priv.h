/* Shared state of the etcd backend (store_etcd.c, etcd_http.c,
 * etcd_watch.c).  Not a public interface. */
#ifndef LOOM_ETCD_PRIV_H
#define LOOM_ETCD_PRIV_H

#include <curl/curl.h>
#include <jansson.h>

#include "store_priv.h"

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_CONNECT_TIMEOUT_MS 1000L
#define ETCD_REQUEST_TIMEOUT_MS 5000L

struct etcd_store {
	struct loom_store base;              /* first: the seam casts */
	char *endpoints[ETCD_MAX_ENDPOINTS]; /* owned, "http://host:port" without trailing '/' */
	size_t n_endpoints;
	size_t cur;                 /* the endpoint that answered last */
	CURL *easy;                 /* reused for keep-alive; unary calls only */
	struct curl_slist *headers; /* owned */
};

/* Parse "http://A:P[,http://B:P...]" (the scheme may be left out after the
 * first) into s->endpoints. */
int loom_etcd_endpoints_parse(struct etcd_store *s, const char *rest, struct loom_err *err);

/* POST `req` (not consumed) as JSON to PATH ("/v3/kv/range") on the current
 * endpoint, failing over to the next on a connection error or a 5xx.
 * 0 and *resp (a new reference to a non-error JSON object) or -1: every
 * endpoint down (LOOM_ERR_STORE naming them), an etcd error answer
 * (LOOM_ERR_NOT_FOUND for gRPC NotFound) or a malformed answer. */
int loom_etcd_call(struct etcd_store *s, const char *path, const json_t *req, json_t **resp,
		   struct loom_err *err);

/* The curl handle options every request shares. */
void loom_etcd_easy_setup(struct etcd_store *s, CURL *h);

/* The range_end that makes [key, end) "every key starting with prefix";
 * malloc'd base64, or NULL (ENOMEM). */
char *loom_etcd_prefix_end_b64(const char *prefix);

int loom_etcd_list(struct loom_store *s, const char *prefix, struct loom_kv **kvs, size_t *n,
		   int64_t *rev, struct loom_err *err);

int loom_etcd_watch(struct loom_store *s, const char *prefix, int64_t from, struct loom_watch **w,
		    struct loom_err *err);
int loom_etcd_watch_next(struct loom_watch *w, struct loom_event *ev, struct loom_err *err);
int loom_etcd_watch_fd(const struct loom_watch *w);
void loom_etcd_watch_close(struct loom_watch *w);

#endif
