/* Unary calls to etcd's JSON gateway over one reused curl handle, with
 * failover across the cluster's endpoints.
 *
 * A connection error or a 5xx moves on to the next endpoint; the one that
 * answered is remembered so later calls go there first.  While a member is
 * being lost the others may answer 503 for an election's length: when some
 * endpoint is alive but unhappy we retry the round, bounded by the request
 * timeout; when none even accepts a connection we fail at once, so a caller
 * (loomd) learns quickly that the store is down.
 *
 * A retried put may have been applied by the member that then failed to
 * answer; an unconditional put is harmless to repeat, a create or CAS then
 * reports "not written" although it was: callers re-read on 0. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/grow.h"
#include "store/etcd_json.h"
#include "etcd_priv.h"

struct buf {
	char *data;
	size_t len, cap;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;

	if (n > LOOM_ETCD_RESPONSE_MAX - b->len)
		return 0; /* curl aborts the transfer: CURLE_WRITE_ERROR */
	if (loom_grow(&b->data, &b->cap, b->len + n + 1, 4096) < 0)
		return 0;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

void loom_etcd_easy_setup(struct etcd_store *s, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
}

int loom_etcd_endpoints_parse(struct etcd_store *s, const char *rest, struct loom_err *err)
{
	const char *p = rest;

	if (!*rest)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "etcd store URL has no endpoint (etcd:http://HOST:PORT[,...])");
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *hostpart;
		char *ep;
		size_t i;

		while (len && p[len - 1] == '/')
			len--;
		if (s->n_endpoints == ETCD_MAX_ENDPOINTS)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "etcd store URL has more than %d endpoints",
					    ETCD_MAX_ENDPOINTS);
		for (i = 0; i < len; i++)
			if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
				return loom_err_set(
					err, LOOM_ERR_INVALID_CONFIG,
					"etcd endpoint \"%.*s\" holds a space or control character",
					(int)len, p);
		if (len >= 7 && !strncmp(p, "http://", 7)) {
			hostpart = p + 7;
			ep = strndup(p, len);
		} else if (len >= 8 && !strncmp(p, "https://", 8)) {
			hostpart = p + 8;
			ep = strndup(p, len);
		} else if (memmem(p, len, "://", 3)) {
			return loom_err_set(
				err, LOOM_ERR_INVALID_CONFIG,
				"etcd endpoint \"%.*s\": only http:// and https:// are supported",
				(int)len, p);
		} else {
			hostpart = p;
			if (asprintf(&ep, "http://%.*s", (int)len, p) < 0)
				ep = NULL;
		}
		if (!ep)
			return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
		if (hostpart >= p + len || *hostpart == ':' || *hostpart == '/' ||
		    memchr(hostpart, '/', (size_t)(p + len - hostpart))) {
			free(ep);
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "etcd endpoint \"%.*s\" must be http://HOST:PORT",
					    (int)len, p);
		}
		s->endpoints[s->n_endpoints++] = ep;
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "etcd store URL ends with a comma");
	}
	return 0;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int loom_etcd_call(struct etcd_store *s, const char *path, const json_t *req, json_t **resp,
		   struct loom_err *err)
{
	_cleanup_free_ char *body = json_dumps(req, JSON_COMPACT);
	char tried[LOOM_ERR_MSG_MAX / 2] = "";
	char last[CURL_ERROR_SIZE + 64] = "";
	struct timespec t0;
	int round;

	if (!body)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, ENOMEM, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (round = 0;; round++) {
		bool someone_alive = false;
		size_t i;

		for (i = 0; i < s->n_endpoints; i++) {
			size_t ep = (s->cur + i) % s->n_endpoints;
			char url[512], cerr[CURL_ERROR_SIZE] = "";
			struct buf b = { 0 };
			long status = 0, left;
			CURLcode rc;

			left = ETCD_REQUEST_TIMEOUT_MS - elapsed_ms(&t0);
			if (left < 100)
				left = 100;
			snprintf(url, sizeof(url), "%s%s", s->endpoints[ep], path);
			curl_easy_setopt(s->easy, CURLOPT_URL, url);
			curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
			curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
			curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &b);
			curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, cerr);
			curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, left);
			rc = curl_easy_perform(s->easy);
			curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, NULL);
			if (rc == CURLE_OK)
				curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
			if (round == 0)
				snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried),
					 "%s%s", i ? ", " : "", s->endpoints[ep]);
			if (rc == CURLE_OK && status < 500) {
				int r;

				s->cur = ep;
				if (status != 200 && (!b.len || b.data[0] != '{')) {
					free(b.data);
					return loom_err_set(err, LOOM_ERR_STORE,
							    "etcd %s%s answered HTTP %ld",
							    s->endpoints[ep], path, status);
				}
				r = loom_etcd_parse_response(b.data ? b.data : "", b.len, resp,
							     err);
				free(b.data);
				return r;
			}
			if (rc == CURLE_OK) {
				someone_alive = true;
				snprintf(last, sizeof(last), "%s answered HTTP %ld",
					 s->endpoints[ep], status);
			} else {
				if (rc == CURLE_OPERATION_TIMEDOUT)
					someone_alive = true;
				snprintf(last, sizeof(last), "%s: %s", s->endpoints[ep],
					 cerr[0] ? cerr : curl_easy_strerror(rc));
			}
			free(b.data);
		}
		/* all down: fail now; some answering 5xx: an election, wait it out */
		if (!someone_alive || elapsed_ms(&t0) >= ETCD_REQUEST_TIMEOUT_MS)
			break;
		struct timespec pause = { 0, 100 * 1000000L * (round < 4 ? round + 1 : 5) };
		nanosleep(&pause, NULL);
	}
	return loom_err_set(err, LOOM_ERR_STORE, "etcd: no endpoint answered (tried %s): %s", tried,
			    last);
}
