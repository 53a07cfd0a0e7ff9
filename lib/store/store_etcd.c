/* The etcd backend of the datastore (store.h): etcd v3 through its JSON
 * gateway (/v3/kv/..., /v3/lease/..., /v3/watch) over libcurl.
 *
 * create-if-absent and CAS are single transactions (compare, then put), so
 * they are atomic across every client of the cluster.  Leases map 1:1 to
 * etcd leases; etcd deletes a lease's keys when it expires.  The HTTP and
 * failover part is etcd_http.c, the wire parsing etcd_json.c, the watch
 * etcd_watch.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "store/etcd_json.h"
#include "etcd_priv.h"

/* jansson's own scope-bound reference */
#define _cleanup_json_ _cleanup_(json_decrefp)

static struct etcd_store *E(struct loom_store *s)
{
	return (struct etcd_store *)s;
}

static int oom(struct loom_err *err)
{
	return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
}

static int check_key(const char *key, struct loom_err *err)
{
	size_t n = key ? strlen(key) : 0;

	if (n == 0 || n > LOOM_STORE_KEY_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "datastore key must be 1 to %d bytes", LOOM_STORE_KEY_MAX);
	return 0;
}

/* An int64 as the gateway expects it: a decimal string. */
static json_t *jint(int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	return json_string(b);
}

static json_t *jb64(const void *data, size_t len)
{
	char *s = loom_etcd_b64_encode(data, len);
	json_t *j;

	if (!s)
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

static void etcd_close(struct loom_store *base)
{
	struct etcd_store *s = E(base);
	size_t i;

	if (!s)
		return;
	if (s->easy)
		curl_easy_cleanup(s->easy);
	curl_slist_free_all(s->headers);
	for (i = 0; i < s->n_endpoints; i++)
		free(s->endpoints[i]);
	free(s);
	curl_global_cleanup();
}

static int etcd_open(const char *rest, struct loom_store **out, struct loom_err *err)
{
	struct etcd_store *s;
	struct curl_slist *h;

	/* reference-counted, and thread-safe in the curl we require (>= 7.84) */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "libcurl failed to initialise");
	s = calloc(1, sizeof(*s));
	if (!s) {
		curl_global_cleanup();
		return oom(err);
	}
	if (loom_etcd_endpoints_parse(s, rest, err) < 0) {
		etcd_close(&s->base);
		return -1;
	}
	h = curl_slist_append(NULL, "Content-Type: application/json");
	/* grpc-gateway passes Grpc-Metadata-* on as gRPC metadata: "hasleader"
	 * makes a member cut off from the leader refuse (and cancel watches)
	 * instead of serving a silent, stale view */
	s->headers = h ? curl_slist_append(h, "Grpc-Metadata-hasleader: true") : NULL;
	if (!s->headers)
		curl_slist_free_all(h);
	s->easy = curl_easy_init();
	if (!s->headers || !s->easy) {
		etcd_close(&s->base);
		return oom(err);
	}
	loom_etcd_easy_setup(s, s->easy);
	s->base.ops = &loom_store_etcd_ops;
	*out = &s->base;
	return 0;
}

/* {"key": key} to a /v3/kv endpoint, key checked first.  *resp is the
 * caller's to free. */
static int key_call(struct loom_store *base, const char *path, const char *key, json_t **resp,
		    struct loom_err *err)
{
	_cleanup_json_ json_t *req = NULL;

	if (check_key(key, err) < 0)
		return -1;
	req = json_pack("{s:o*}", "key", jb64(key, strlen(key)));
	if (!req)
		return oom(err);
	return loom_etcd_call(E(base), path, req, resp, err);
}

static int etcd_get(struct loom_store *base, const char *key, struct loom_kv *out,
		    struct loom_err *err)
{
	_cleanup_json_ json_t *resp = NULL;
	struct loom_kv *kvs = NULL;
	size_t n = 0;
	int64_t rev;

	if (key_call(base, "/v3/kv/range", key, &resp, err) < 0 ||
	    loom_etcd_parse_range(resp, &kvs, &n, &rev, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	if (n != 1 || strcmp(kvs[0].key, key) != 0) {
		loom_kvs_free(kvs, n);
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a get of %s with other keys", key);
	}
	*out = kvs[0];
	free(kvs);
	return 1;
}

static json_t *put_request(const char *key, const void *value, size_t len, int64_t lease)
{
	json_t *p =
		json_pack("{s:o*, s:o*}", "key", jb64(key, strlen(key)), "value", jb64(value, len));

	if (p && lease && json_object_set_new(p, "lease", jint(lease)) < 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

static int etcd_put(struct loom_store *base, int mode, const char *key, int64_t expected,
		    const void *value, size_t len, int64_t lease, int64_t *rev,
		    struct loom_err *err)
{
	_cleanup_json_ json_t *req = NULL, *resp = NULL;
	json_t *put, *cmp;
	int64_t r;

	if (check_key(key, err) < 0)
		return -1;
	if (len > LOOM_STORE_VALUE_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "datastore value for %s is over %d bytes", key,
				    LOOM_STORE_VALUE_MAX);
	if (lease < 0)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "lease %lld is not valid",
				    (long long)lease);
	put = put_request(key, value ? value : "", len, lease);
	if (!put)
		return oom(err);
	if (mode == LOOM_STORE_PUT) {
		req = put;
		if (loom_etcd_call(E(base), "/v3/kv/put", req, &resp, err) < 0 ||
		    loom_etcd_header_revision(resp, &r, err) < 0)
			return -1;
		if (rev)
			*rev = r;
		return 0;
	}
	if (mode == LOOM_STORE_CREATE) {
		cmp = json_pack("[{s:s, s:s, s:o*, s:o*}]", "key", "", "target", "CREATE", "result",
				json_string("EQUAL"), "create_revision", jint(0));
	} else {
		/* a missing key's mod_revision compares as 0: also require it
		 * to exist, so CAS never creates */
		cmp = json_pack("[{s:s, s:s, s:s, s:o*}, {s:s, s:s, s:s, s:o*}]", "key", "",
				"target", "MOD", "result", "EQUAL", "mod_revision", jint(expected),
				"key", "", "target", "VERSION", "result", "GREATER", "version",
				jint(0));
	}
	if (cmp) {
		size_t i;
		json_t *c;

		json_array_foreach(cmp, i, c)
			json_object_set(c, "key", json_object_get(put, "key"));
	}
	req = json_pack("{s:o*, s:[{s:o}]}", "compare", cmp, "success", "request_put", put);
	if (!req)
		return oom(err);
	if (loom_etcd_call(E(base), "/v3/kv/txn", req, &resp, err) < 0 ||
	    loom_etcd_header_revision(resp, &r, err) < 0)
		return -1;
	const json_t *ok = json_object_get(resp, "succeeded");
	if (ok && !json_is_boolean(ok))
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a txn whose succeeded is %s",
				    json_is_string(ok) ? "a string" : "not a boolean");
	if (!json_is_true(ok))
		return 0;
	if (rev)
		*rev = r;
	return 1;
}

static int etcd_del(struct loom_store *base, const char *key, int64_t *rev, struct loom_err *err)
{
	_cleanup_json_ json_t *resp = NULL;
	int64_t r, deleted;

	if (key_call(base, "/v3/kv/deleterange", key, &resp, err) < 0 ||
	    loom_etcd_header_revision(resp, &r, err) < 0)
		return -1;
	if (loom_etcd_int64(json_object_get(resp, "deleted"), &deleted) < 0 || deleted < 0 ||
	    deleted > 1)
		return loom_err_set(err, LOOM_ERR_STORE, "etcd answered a malformed delete of %s",
				    key);
	if (rev)
		*rev = r;
	return deleted ? 1 : 0;
}

char *loom_etcd_prefix_end_b64(const char *prefix)
{
	size_t n = strlen(prefix);
	_cleanup_free_ unsigned char *end = (unsigned char *)strdup(prefix);

	if (!end)
		return NULL;
	/* the first key after every key starting with prefix: bump the last
	 * byte that can be bumped; none (empty or all 0xff) means "to the end",
	 * which etcd spells as a single NUL */
	while (n > 0) {
		if (end[n - 1] < 0xff) {
			end[n - 1]++;
			return loom_etcd_b64_encode(end, n);
		}
		n--;
	}
	return loom_etcd_b64_encode("", 1);
}

int loom_etcd_list(struct loom_store *base, const char *prefix, struct loom_kv **kvs, size_t *n,
		   int64_t *rev, struct loom_err *err)
{
	_cleanup_json_ json_t *req = NULL, *resp = NULL;
	int64_t r;
	size_t i;

	if (!prefix || strlen(prefix) > LOOM_STORE_KEY_MAX)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "datastore prefix is too long");
	req = json_pack("{s:o*, s:o*}", "key", *prefix ? jb64(prefix, strlen(prefix)) : jb64("", 1),
			"range_end", json_string_nocheck(""));
	if (!req)
		return oom(err);
	_cleanup_free_ char *end = loom_etcd_prefix_end_b64(prefix);
	if (!end || json_object_set_new(req, "range_end", json_string(end)) < 0)
		return oom(err);
	if (loom_etcd_call(E(base), "/v3/kv/range", req, &resp, err) < 0 ||
	    loom_etcd_parse_range(resp, kvs, n, &r, err) < 0)
		return -1;
	for (i = 0; i < *n; i++) {
		if (strncmp((*kvs)[i].key, prefix, strlen(prefix)) != 0 ||
		    (i && strcmp((*kvs)[i - 1].key, (*kvs)[i].key) >= 0)) {
			loom_kvs_free(*kvs, *n);
			*kvs = NULL;
			*n = 0;
			return loom_err_set(
				err, LOOM_ERR_STORE,
				"etcd answered a list of %s with keys out of order or range",
				prefix);
		}
	}
	if (rev)
		*rev = r;
	return 0;
}

static int etcd_lease_grant(struct loom_store *base, int64_t ttl, int64_t *lease,
			    struct loom_err *err)
{
	_cleanup_json_ json_t *req = NULL, *resp = NULL;
	int64_t id;

	if (ttl < 1)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "lease TTL must be at least 1 second");
	req = json_pack("{s:o*}", "TTL", jint(ttl));
	if (!req)
		return oom(err);
	if (loom_etcd_call(E(base), "/v3/lease/grant", req, &resp, err) < 0)
		return -1;
	if (loom_etcd_int64(json_object_get(resp, "ID"), &id) < 0 || id <= 0)
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a lease grant without an ID");
	*lease = id;
	return 0;
}

static int etcd_lease_keepalive(struct loom_store *base, int64_t lease, struct loom_err *err)
{
	_cleanup_json_ json_t *req = NULL, *resp = NULL;
	int64_t ttl;

	req = json_pack("{s:o*}", "ID", jint(lease));
	if (!req)
		return oom(err);
	/* a stream in gRPC; one request in, one {"result": ...} out here */
	if (loom_etcd_call(E(base), "/v3/lease/keepalive", req, &resp, err) < 0)
		return -1;
	const json_t *res = json_object_get(resp, "result");
	if (!json_is_object(res) || loom_etcd_int64(json_object_get(res, "TTL"), &ttl) < 0)
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a malformed lease keep-alive");
	/* an expired or unknown lease is answered with TTL 0 (omitted) */
	if (ttl <= 0)
		return loom_err_set(err, LOOM_ERR_NOT_FOUND, "lease %llx has expired",
				    (unsigned long long)lease);
	return 0;
}

/* {"ID": lease} to a /v3/lease endpoint; a lease etcd does not know has
 * expired (LOOM_ERR_NOT_FOUND).  *resp is the caller's to free. */
static int lease_call(struct loom_store *base, const char *path, int64_t lease, json_t **resp,
		      struct loom_err *err)
{
	_cleanup_json_ json_t *req = json_pack("{s:o*}", "ID", jint(lease));

	if (!req)
		return oom(err);
	if (loom_etcd_call(E(base), path, req, resp, err) < 0) {
		if (err && err->code == LOOM_ERR_NOT_FOUND)
			loom_err_set(err, LOOM_ERR_NOT_FOUND, "lease %llx has expired",
				     (unsigned long long)lease);
		return -1;
	}
	return 0;
}

static int etcd_lease_revoke(struct loom_store *base, int64_t lease, struct loom_err *err)
{
	_cleanup_json_ json_t *resp = NULL;

	return lease_call(base, "/v3/lease/revoke", lease, &resp, err);
}

static int etcd_lease_ttl(struct loom_store *base, int64_t lease, int64_t *remaining,
			  struct loom_err *err)
{
	_cleanup_json_ json_t *resp = NULL;
	int64_t ttl;

	if (lease_call(base, "/v3/lease/timetolive", lease, &resp, err) < 0)
		return -1;
	if (loom_etcd_int64(json_object_get(resp, "TTL"), &ttl) < 0)
		return loom_err_set(err, LOOM_ERR_STORE,
				    "etcd answered a malformed lease time-to-live");
	/* an unknown lease is TTL -1; one past its expiry that the leader has
	 * not revoked yet reads below 0 too: both are gone for the caller */
	if (ttl < 0)
		return loom_err_set(err, LOOM_ERR_NOT_FOUND, "lease %llx has expired",
				    (unsigned long long)lease);
	*remaining = ttl;
	return 0;
}

/* list and the watch live in etcd_watch.c. */
const struct loom_store_ops loom_store_etcd_ops = {
	.scheme = "etcd",
	LOOM_STORE_KV_OPS(etcd),
	LOOM_STORE_WATCH_OPS(loom_etcd),
};
